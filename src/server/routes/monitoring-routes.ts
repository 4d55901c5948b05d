/** GET /metrics (Prometheus text format) and GET /v1/freshness. */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";

export function monitoringRoutes(larder: Larder) {
  return new Hono()
    .get("/metrics", async () => new Response(await larder.metrics.registry.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }))
    .get("/v1/freshness", async (c) => c.json({ at: new Date().toISOString(), views: await larder.freshness() }))
    .get("/v1/drift", async (c) => {
      const { view, reference } = c.req.query();
      return c.json({ at: new Date().toISOString(), features: await larder.drift({ views: view ? [larder.registry().view(view).def.name] : undefined, reference }) });
    });
}
