/**
 * GET /v1/schedules: each scheduled view's cron, next tick, whether it is running, and its
 * last run with the outcome. POST /v1/materialize: materialize views now (incremental
 * unless `"full": true`), 409 while one of them is running here or elsewhere.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Larder } from "../../larder.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import { readJson } from "../read-json.ts";

export const MaterializeBody = z.strictObject({
  views: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
  full: z.boolean().optional(),
});

export function scheduleRoutes(larder: Larder, scheduler: Scheduler, enabled: boolean) {
  return new Hono()
    .get("/v1/schedules", (c) => c.json({ enabled, schedules: scheduler.states() }))
    .post("/v1/materialize", async (c) => {
      const body = await readJson(c.req.raw, MaterializeBody, larder.config.maxBodyBytes);
      // A view named twice runs once.
      const views = larder.registry().viewsNamed(body.views);
      const busy = views.filter((v) => scheduler.isRunning(v));
      if (busy.length) return c.json({ code: "conflict", message: `being materialized right now: ${busy.join(", ")}; try again when done (GET /v1/schedules)` }, 409);
      const results = [];
      for (const v of views) results.push(await scheduler.trigger(v, "http", { conflict: true, full: body.full === true }));
      return c.json({ results: results.filter((r) => r !== null) });
    });
}
