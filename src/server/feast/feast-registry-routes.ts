/**
 * GET /api/v1/…: the list and get routes of Feast's registry REST API (what Feast's web UI
 * loads), answered from Larder's registry in Feast's shape (feast-registry-json.ts):
 * `/projects`, `/version`, and for entities, data sources, feature views and feature
 * services `/<kind>?project=`, `/<kind>/all` and `/<kind>/<name>?project=`, with
 * `include_relationships`, `page` and `limit` as Feast reads them; `/features`. Larder has
 * no label views, saved datasets or permission objects: their lists are empty. As Feast answers: a project
 * that is not this repo's lists nothing; a missing object is 404
 * `{ status_code, detail, error_type }`.
 */
import { basename } from "node:path";
import { Hono, type Context } from "hono";
import type { Larder } from "../../larder.ts";
import pkg from "../../../package.json" with { type: "json" };
import { FeastRegistryJson, type ObjectKind } from "./feast-registry-json.ts";

type Json = Record<string, unknown>;

/** A route's objects: their list key, their kind in relationships, how to list them. */
type Kind = { path: string; key: string; kind: ObjectKind | null; list: (r: FeastRegistryJson) => Json[]; missing: string };
const KINDS: Kind[] = [
  { path: "entities", key: "entities", kind: "entity", list: (r) => r.entities(), missing: "Entity" },
  { path: "data_sources", key: "dataSources", kind: "dataSource", list: (r) => r.dataSources(), missing: "Data source" },
  { path: "feature_views", key: "featureViews", kind: "featureView", list: (r) => r.featureViews(), missing: "Feature view" },
  { path: "feature_services", key: "featureServices", kind: "featureService", list: (r) => r.featureServices(), missing: "Feature service" },
  { path: "label_views", key: "featureViews", kind: null, list: () => [], missing: "Label view" },
  { path: "saved_datasets", key: "savedDatasets", kind: null, list: () => [], missing: "Saved dataset" },
];

const nameOf = (o: Json) => String((o.spec as Json | undefined)?.name ?? o.name);

/** The repo as Feast's project: named after its folder. */
export const feastProjectName = (repoDir: string) => basename(repoDir) || "larder";

/** `page`/`limit` as Feast pages: none given, everything at once (`/all` defaults to 50 a page). */
function paged(items: Json[], c: Context, defaultLimit: number | null): { items: Json[]; pagination: Json } {
  const page = Math.max(1, Math.floor(Number(c.req.query("page") ?? 1)) || 1);
  const asked = c.req.query("limit");
  const limit = asked !== undefined ? Math.min(100, Math.max(1, Math.floor(Number(asked)) || 1)) : defaultLimit;
  if (limit === null) return { items, pagination: { totalCount: items.length, totalPages: 1 } };
  const totalPages = Math.ceil(items.length / limit);
  return {
    items: items.slice((page - 1) * limit, page * limit),
    pagination: { page, limit, totalCount: items.length, totalPages, hasNext: page < totalPages, ...(page > 1 ? { hasPrevious: true } : {}) },
  };
}

export function feastRegistryRoutes(larder: Larder) {
  const project = feastProjectName(larder.config.repoDir);
  const json = () => new FeastRegistryJson(larder.registry(), project);
  const withRelationships = (c: Context) => c.req.query("include_relationships") === "true";
  const otherProject = (c: Context) => {
    const asked = c.req.query("project");
    return asked !== undefined && asked !== project;
  };

  const app = new Hono()
    .get("/projects", (c) => c.json({ projects: json().projects(), pagination: { totalCount: 1, totalPages: 1 } }))
    .get("/version", (c) => c.json({ version: `${pkg.version} (Larder)` }))
    // Larder's tokens are its permissions: Feast's permission objects list none.
    .get("/permissions", (c) => c.json({ permissions: [], pagination: {} }))
    .get("/features", (c) => {
      if (otherProject(c)) return c.json({ features: [], pagination: {} });
      const { items, pagination } = paged(json().features(), c, null);
      return c.json({ features: items, pagination });
    })
    .get("/features/all", (c) => {
      const { items, pagination } = paged(
        json()
          .features()
          .map((f) => ({ ...f, project })),
        c,
        50,
      );
      return c.json({ features: items, pagination });
    });

  for (const k of KINDS) {
    const answer = (c: Context, objects: Json[], all: boolean) => {
      const r = json();
      const { items, pagination } = paged(all ? objects.map((o) => ({ ...o, project })) : objects, c, all ? 50 : null);
      const out: Json = { [k.key]: items, pagination };
      if (withRelationships(c)) out.relationships = k.kind ? r.relationships(k.kind, items.map(nameOf)) : {};
      return c.json(out);
    };
    app.get(`/${k.path}`, (c) => (otherProject(c) ? c.json({ [k.key]: [], pagination: {} }) : answer(c, k.list(json()), false)));
    app.get(`/${k.path}/all`, (c) => answer(c, k.list(json()), true));
    app.get(`/${k.path}/:name`, (c) => {
      const name = c.req.param("name");
      const r = json();
      const found = otherProject(c) ? undefined : k.list(r).find((o) => nameOf(o) === name);
      if (!found) {
        const detail = `${k.missing} ${name.slice(0, 200)} does not exist in project ${(c.req.query("project") ?? project).slice(0, 200)}`;
        return c.json({ status_code: 404, detail, error_type: "FeastObjectNotFoundException" }, 404);
      }
      const detail = k.kind === "entity" ? { ...found, dataSources: r.dataSourcesOfEntity(name) } : found;
      return c.json(withRelationships(c) && k.kind ? { ...detail, relationships: r.relationships(k.kind, [name])[name] } : detail);
    });
  }
  return app;
}
