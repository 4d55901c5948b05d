/** GET /v1/registry/...: what is applied, and what each view serves. */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";
import { redactedConnection } from "../../offline/database/connection-string.ts";

export function registryRoutes(larder: Larder) {
  return new Hono()
    .get("/", (c) => {
      const r = larder.registry();
      return c.json({
        updatedAt: r.updatedAt,
        entities: r.entities().map((e) => e.name),
        sources: r.sources().map((s) => s.name),
        featureViews: r.viewEntries().map((v) => ({ name: v.definition.name, version: v.current, features: v.definition.features.map((f) => f.name) })),
        featureServices: r.services().map((s) => s.name),
      });
    })
    .get("/entities/:name", (c) => {
      return c.json(larder.registry().entity(c.req.param("name")));
    })
    .get("/sources/:name", (c) => {
      const s = larder.registry().source(c.req.param("name"));
      // A password written into a connection is never served.
      return c.json(s.kind === "database" ? { ...s, connection: redactedConnection(s) } : s);
    })
    .get("/feature-views/:name", async (c) => {
      const registry = larder.registry();
      const v = registry.view(c.req.param("name"));
      const pointer = (await larder.store().pointers()).get(v.def.name) ?? null;
      const entry = registry.viewEntry(v.def.name)!;
      return c.json({
        ...v.def,
        version: v.version,
        versions: entry.versions.map((x) => ({ version: x.version, appliedAt: x.appliedAt })),
        served: pointer && { version: pointer.version, watermark: new Date(pointer.watermark).toISOString(), updatedAt: pointer.updatedAt, runId: pointer.runId },
      });
    })
    .get("/feature-services/:name", (c) => c.json(larder.registry().service(c.req.param("name"))));
}
