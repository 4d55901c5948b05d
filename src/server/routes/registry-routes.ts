/** GET /v1/registry/...: what is applied, and what each view serves. */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";
import { redactedConnection } from "../../offline/database/connection-string.ts";
import { NotFoundError } from "../../errors.ts";

export function registryRoutes(larder: Larder) {
  return new Hono()
    .get("/", (c) => {
      const r = larder.registry().data;
      return c.json({
        updatedAt: r.updatedAt,
        entities: Object.keys(r.entities).sort(),
        sources: Object.keys(r.sources).sort(),
        featureViews: Object.values(r.views).map((v) => ({ name: v.definition.name, version: v.current, features: v.definition.features.map((f) => f.name) })),
        featureServices: Object.keys(r.services).sort(),
      });
    })
    .get("/entities/:name", (c) => {
      const e = larder.registry().data.entities[c.req.param("name")];
      if (!e) throw new NotFoundError(`entity "${c.req.param("name")}" not found`);
      return c.json(e);
    })
    .get("/sources/:name", (c) => {
      const s = larder.registry().data.sources[c.req.param("name")];
      if (!s) throw new NotFoundError(`source "${c.req.param("name")}" not found`);
      // A password written into a connection is never served.
      return c.json(s.kind === "database" ? { ...s, connection: redactedConnection(s) } : s);
    })
    .get("/feature-views/:name", async (c) => {
      const registry = larder.registry();
      const v = registry.view(c.req.param("name"));
      const pointer = (await larder.store().pointers()).get(v.def.name) ?? null;
      const entry = registry.data.views[v.def.name]!;
      return c.json({
        ...v.def,
        version: v.version,
        versions: entry.versions.map((x) => ({ version: x.version, appliedAt: x.appliedAt })),
        served: pointer && { version: pointer.version, watermark: new Date(pointer.watermark).toISOString(), updatedAt: pointer.updatedAt, runId: pointer.runId },
      });
    })
    .get("/feature-services/:name", (c) => c.json(larder.registry().service(c.req.param("name"))));
}
