/** The HTTP API: hono routes over the Larder facade and one error mapping (body limits: read-json.ts). */
import { Hono } from "hono";
import type { Larder } from "../larder.ts";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../errors.ts";
import { isUiPage, notFoundPage, uiRoutes } from "./ui/ui-routes.tsx";
import { scoreRoutes } from "./routes/score-routes.ts";
import { errorHandler, errorResponse, relativeToRepo } from "./error-handler.ts";
import { consoleLogger, type Logger } from "../log.ts";
import { onlineFeaturesHandler } from "./routes/online-features.ts";
import { feastOnlineFeaturesHandler } from "./routes/feast-online-features.ts";
import { registryRoutes } from "./routes/registry-routes.ts";
import { pushRoutes } from "./routes/push-routes.ts";
import { runRoutes } from "./routes/run-routes.ts";
import { scheduleRoutes } from "./routes/schedule-routes.ts";
import { feastMaterializeRoutes } from "./routes/feast-materialize-routes.ts";
import { historicalRoutes } from "./routes/historical-routes.ts";
import { monitoringRoutes } from "./routes/monitoring-routes.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { authOf } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { FEAST_UI_BASE } from "./feast/build-feast-ui.ts";
import { feastUiRoutes } from "./feast/feast-ui-routes.ts";

/** `scheduler`: the server's (started when schedules are on); a test app gets an idle one. */
export function createApp(larder: Larder, log: Logger = consoleLogger, scheduler: Scheduler = new Scheduler(larder, log), schedulesEnabled = false): Hono {
  const app = new Hono();
  // Every route's scope checked first (a no-op while no token is configured).
  const auth = authOf(larder.config);
  app.use("*", async (c, next) => {
    try {
      auth.checkRoute(c.req.raw, c.req.method, c.req.path);
    } catch (err) {
      // A page asked for without a (good) token: the sign-in page, then back.
      const path = c.req.path;
      const page = c.req.method === "GET" && (path === "/" || path.startsWith("/ui/") || path === FEAST_UI_BASE || path.startsWith(`${FEAST_UI_BASE}/`));
      if (page && (err instanceof UnauthorizedError || err instanceof ForbiddenError)) return c.redirect(`/ui/login?next=${encodeURIComponent(c.req.path)}`, 303);
      throw err;
    }
    await next();
  });
  // 200 while the registry and the online store answer, 503 otherwise (as Feast's /health).
  app.get("/health", async (c) => {
    try {
      larder.registry();
    } catch (err) {
      return c.json({ status: "unavailable", message: `the registry cannot be read: ${relativeToRepo((err as Error).message, larder.config.repoDir)}` }, 503);
    }
    const pointers = await larder.store().pointers();
    return c.json({
      status: "ok",
      store: larder.store().kind,
      views: Object.fromEntries([...pointers].map(([k, p]) => [k, { version: p.version, watermark: new Date(p.watermark).toISOString() }])),
    });
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  const lookup = onlineFeaturesHandler(larder, log, auth);
  app.post("/v1/features/online", (c) => lookup(c.req.raw));
  const feastLookup = feastOnlineFeaturesHandler(larder, log, auth);
  app.post("/get-online-features", (c) => feastLookup(c.req.raw));
  app.route("/", historicalRoutes(larder));
  app.route("/v1/registry", registryRoutes(larder));
  app.route("/v1/runs", runRoutes(larder));
  app.route("/", scheduleRoutes(larder, scheduler, schedulesEnabled));
  app.route("/", feastMaterializeRoutes(larder, scheduler, log));
  app.route("/", monitoringRoutes(larder));
  app.route("/", scoreRoutes(larder));
  app.route("/", uiRoutes(larder));
  app.route("/", pushRoutes(larder, log));
  if (larder.config.feastUi === "on") app.route("/", feastUiRoutes(larder));
  app.notFound((c) => {
    const message = `no route ${c.req.method} ${c.req.path}`;
    return isUiPage(c.req.method, c.req.path) ? notFoundPage(`There is no page ${c.req.path.slice(0, 200)}.`) : errorResponse(new NotFoundError(message));
  });
  const apiError = errorHandler(log, larder.config.repoDir);
  // A page that names nothing (an unknown view or run) is an HTML 404, like an unknown page.
  app.onError((err, c) => (err instanceof NotFoundError && isUiPage(c.req.method, c.req.path) ? notFoundPage(err.message) : apiError(err, c)));
  return app;
}
