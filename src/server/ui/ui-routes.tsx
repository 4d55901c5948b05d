/** @jsxImportSource hono/jsx */
/**
 * The web UI at / (hono JSX rendered on the server, charts as inline SVG, no build step and
 * nothing from the network): the catalog, a page per view, the run history, a lookup
 * playground, and, when tokens are configured, a sign-in page that keeps the token in an
 * HttpOnly cookie good for reads only.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import type { Larder } from "../../larder.ts";
import { latestViewProfile } from "../../monitoring/feature-profile.ts";
import type { RunKind } from "../../registry/runs.ts";
import { authOf, TOKEN_COOKIE } from "../auth.ts";
import { readForm } from "../read-form.ts";
import { STYLE } from "./layout.tsx";
import { CatalogPage, LoginPage, LookupPage, RunsPage, ViewPage } from "./pages.tsx";
import { RunPage } from "./run-page.tsx";
import { OnDemandPage } from "./on-demand-page.tsx";
import { ApiPage, NotFoundPage } from "./api-page.tsx";
import { openApiDocument } from "../openapi.ts";
import { NotFoundError } from "../../errors.ts";

const KINDS = ["materialize", "push", "historical"];
/** A page as a standards-mode HTML document. */
const doc = (page: unknown) => html`<!doctype html>${page}`;
/** Whether a request is for a page of the UI (answered with HTML, errors too). */
export const isUiPage = (method: string, path: string) => method === "GET" && (path === "/" || path.startsWith("/ui/"));

/** An HTML page for a UI path that names nothing (an unknown page, view or run). */
export const notFoundPage = (message: string) =>
  new Response(String(doc(<NotFoundPage message={message} />)), { status: 404, headers: { "content-type": "text/html; charset=utf-8" } });

/** Only paths on this site: never an open redirect. */
const safeNext = (next: unknown) => (typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/");

export function uiRoutes(larder: Larder) {
  return new Hono()
    .get("/ui/style.css", (c) => c.body(STYLE, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" }))
    .get("/", async (c) => c.html(doc(<CatalogPage registry={larder.registry()} freshness={await larder.freshness()} />)))
    .get("/ui/views/:name", async (c) => {
      const registry = larder.registry();
      const v = registry.view(c.req.param("name"));
      const name = v.def.name;
      const latest = await latestViewProfile(larder.ctx.files, name, v.version);
      return c.html(
        doc(
          <ViewPage
            registry={registry}
            view={name}
            freshness={(await larder.freshness()).find((f) => f.view === name) ?? null}
            runs={await larder.runs.list({ view: name, limit: 15 })}
            profile={latest?.features ?? null}
            drift={v.def.online ? await larder.drift({ views: [name] }) : []}
          />,
        ),
      );
    })
    .get("/ui/runs", async (c) => {
      const kind = c.req.query("kind");
      const k = kind && KINDS.includes(kind) ? (kind as RunKind) : undefined;
      return c.html(doc(<RunsPage runs={await larder.runs.list({ kind: k, limit: 50 })} kind={k} />));
    })
    .get("/ui/runs/:id", async (c) => {
      const run = await larder.runs.get(c.req.param("id"));
      if (!run) throw new NotFoundError(`run "${c.req.param("id").slice(0, 80)}" not found`);
      return c.html(doc(<RunPage run={run} />));
    })
    .get("/ui/on-demand/:name", (c) => {
      const registry = larder.registry();
      const name = c.req.param("name");
      if (!registry.onDemandView(name)) throw new NotFoundError(`on-demand feature view "${name.slice(0, 80)}" is not applied`);
      return c.html(doc(<OnDemandPage registry={registry} name={name} />));
    })
    .get("/ui/api", (c) => c.html(doc(<ApiPage doc={openApiDocument()} />)))
    .get("/ui/lookup", (c) => c.html(doc(<LookupPage registry={larder.registry()} service={c.req.query("service")} />)))
    .get("/ui/login", (c) => c.html(doc(<LoginPage next={safeNext(c.req.query("next"))} error={null} />)))
    .post("/ui/login", async (c) => {
      const form = await readForm(c.req.raw, larder.config.maxBodyBytes);
      const next = safeNext(form.next);
      const token = typeof form.token === "string" ? form.token : "";
      try {
        authOf(larder.config).check(new Request("http://larder/", { headers: { authorization: `Bearer ${token}` } }), "read");
      } catch {
        return c.html(doc(<LoginPage next={next} error="That token is not valid here." />), 401);
      }
      c.header("set-cookie", `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`);
      return c.redirect(next, 303);
    });
}
