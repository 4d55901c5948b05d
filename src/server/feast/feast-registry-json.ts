/**
 * Larder's registry in the JSON shape of Feast's registry REST API (what `feast ui` serves
 * under /api/v1 and Feast's web UI reads): protobuf's JSON form of Feast's objects,
 * `{ spec, meta }`, with camelCase fields and ValueType names. Larder has no projects: the
 * repo is one project, named after its folder.
 *
 * How Larder's definitions read as Feast's:
 * - an entity with several join keys lists them all in `joinKey`, comma-separated;
 * - a file source is BATCH_FILE, a database source CUSTOM_SOURCE, a push source PUSH_SOURCE
 *   with its file source as `batchSource`;
 * - an on-demand view's request schema is a REQUEST_SOURCE named `<view>_request`, and its
 *   TypeScript function the transformation's `bodyText`.
 */
import type { ColumnDef, DefinitionMeta, EntityDef, FeatureServiceDef, OnDemandViewDef, PushSourceDef, SourceDef } from "../../definitions/types.ts";
import type { Registry, ResolvedView } from "../../registry/registry.ts";
import { valueTypeOf, valueTypeOfColumn, valueTypeOfFeature, type FeastValueType } from "./value-types.ts";

type Json = Record<string, unknown>;
type Meta = { createdTimestamp?: string; lastUpdatedTimestamp?: string };
export type ObjectKind = "entity" | "dataSource" | "featureView" | "featureService";
type Edge = { source: { type: ObjectKind; name: string }; target: { type: ObjectKind; name: string } };

/** Feast's Python type name of a ValueType, as its /features list shows it. */
const PYTHON_TYPE: Record<string, string> = {
  INT32: "Int32",
  INT64: "Int64",
  DOUBLE: "Float64",
  FLOAT: "Float32",
  STRING: "String",
  BOOL: "Bool",
  UNIX_TIMESTAMP: "UnixTimestamp",
  BYTES: "Bytes",
};
const pythonType = (t: FeastValueType) => (t.endsWith("_LIST") ? `Array(${PYTHON_TYPE[t.slice(0, -5)] ?? "Invalid"})` : (PYTHON_TYPE[t] ?? "Invalid"));

/** `description`, `tags`, `owner` as Feast's spec has them (empty ones left out, as protobuf's JSON does). */
function people(m: Partial<DefinitionMeta>): Json {
  const out: Json = {};
  if (m.description) out.description = m.description;
  if (m.tags && Object.keys(m.tags).length) out.tags = m.tags;
  if (m.owner) out.owner = m.owner;
  return out;
}

const seconds = (ms: number) => `${ms / 1000}s`;

export class FeastRegistryJson {
  /** When the registry was last applied: the meta of objects Larder keeps no times for. */
  readonly #meta: Meta;

  constructor(
    private readonly registry: Registry,
    readonly project: string,
  ) {
    const at = registry.updatedAt ?? undefined;
    this.#meta = { createdTimestamp: at, lastUpdatedTimestamp: at };
  }

  projects(): Json[] {
    return [{ spec: { name: this.project, description: "A Larder feature repo" }, meta: this.#meta }];
  }

  entities(): Json[] {
    return this.registry.entities().map((e) => this.entity(e));
  }

  entity(e: EntityDef): Json {
    const keys = e.joinKeys;
    return {
      spec: { name: e.name, valueType: keys.length === 1 ? valueTypeOfColumn(keys[0]!.type) : "INVALID", joinKey: keys.map((k) => k.name).join(","), ...people(e) },
      meta: this.#meta,
    };
  }

  /** The sources of an entity's views, as Feast's entity page lists them. */
  dataSourcesOfEntity(entity: string): Json[] {
    const names = new Set(
      this.registry
        .viewNames()
        .map((n) => this.registry.view(n))
        .filter((v) => v.entity.name === entity)
        .flatMap((v) => [v.source.name, ...(v.push ? [v.push.name] : [])]),
    );
    return this.dataSources().filter((d) => names.has(String(d.name)));
  }

  dataSources(): Json[] {
    return [
      ...this.registry.sources().map((s) => this.source(s)),
      ...this.registry.pushSources().map((p) => this.pushSource(p)),
      ...this.registry.onDemandViews().flatMap((v) => (v.request.length ? [this.requestSource(v)] : [])),
    ].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  /** The data source named `name` (file, database, push or request), or undefined. */
  dataSource(name: string): Json | undefined {
    return this.dataSources().find((d) => d.name === name);
  }

  source(s: SourceDef): Json {
    const common = { name: s.name, timestampField: s.timestampField, ...people(s), meta: this.#meta };
    if (s.kind === "file") return { type: "BATCH_FILE", ...common, fileOptions: { uri: s.path }, dataSourceClassType: "feast.infra.offline_stores.file_source.FileSource" };
    const postgres = /^postgres(ql)?:/.test(s.connection);
    return {
      type: "CUSTOM_SOURCE",
      ...common,
      dataSourceClassType: postgres ? "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource" : "larder.DatabaseSource",
      // Feast's CustomSourceOptions: opaque bytes, here the table or query as JSON.
      customOptions: { configuration: Buffer.from(JSON.stringify({ table: s.table, query: s.query })).toString("base64") },
    };
  }

  pushSource(p: PushSourceDef): Json {
    const batch = this.registry.hasSource(p.batchSource) ? this.source(this.registry.source(p.batchSource)) : undefined;
    return { type: "PUSH_SOURCE", name: p.name, batchSource: batch, ...people(p), dataSourceClassType: "feast.data_source.PushSource", meta: this.#meta };
  }

  requestSource(v: OnDemandViewDef): Json {
    return { type: "REQUEST_SOURCE", name: `${v.name}_request`, requestDataOptions: { schema: v.request.map(field) }, meta: this.#meta };
  }

  /** Feature views and on-demand views, each with its `type`, as Feast's list answers them. */
  featureViews(): Json[] {
    return [...this.registry.viewNames().map((n) => this.featureView(this.registry.view(n))), ...this.registry.onDemandViews().map((v) => this.onDemandView(v))].sort((a, b) =>
      String((a.spec as Json).name).localeCompare(String((b.spec as Json).name)),
    );
  }

  featureView(v: ResolvedView): Json {
    const entry = this.registry.viewEntry(v.def.name);
    const meta = entry ? { createdTimestamp: entry.versions[0]?.appliedAt, lastUpdatedTimestamp: entry.versions.at(-1)?.appliedAt } : this.#meta;
    return {
      type: "featureView",
      spec: {
        name: v.def.name,
        entities: [v.entity.name],
        features: v.def.features.map((f) => ({ name: f.name, valueType: valueTypeOfFeature(f), ...people({ description: f.description }) })),
        ...people(v.def),
        ttl: seconds(v.def.ttl ?? 0),
        batchSource: this.source(v.source),
        ...(v.push ? { streamSource: this.pushSource(v.push) } : {}),
        online: v.def.online,
        offline: v.def.offline,
        entityColumns: v.entity.joinKeys.map((k) => ({ name: k.name, valueType: valueTypeOfColumn(k.type) })),
        version: v.version,
      },
      meta,
    };
  }

  onDemandView(v: OnDemandViewDef): Json {
    const sources: Json = {};
    for (const input of v.inputs) sources[input] = { featureViewProjection: this.projection(input) };
    if (v.request.length) sources[`${v.name}_request`] = { requestDataSource: this.requestSource(v) };
    return {
      type: "onDemandFeatureView",
      spec: {
        name: v.name,
        features: v.output.map(field),
        sources,
        featureTransformation: { userDefinedFunction: { name: v.name, bodyText: v.source } },
        mode: "typescript",
        ...people(v),
        version: v.version,
      },
      meta: this.#meta,
    };
  }

  /** A view's features as a service or an on-demand view reads them (`features`: only these). */
  projection(view: string, features?: readonly string[]): Json {
    const onDemand = this.registry.onDemandView(view);
    const all = onDemand ? onDemand.output.map((c) => c.name) : this.registry.view(view).def.features.map((f) => f.name);
    return { featureViewName: view, featureColumns: (features ?? all).map((f) => ({ name: f, valueType: valueTypeOf(this.registry, view, f) })) };
  }

  featureServices(): Json[] {
    return this.registry.services().map((s) => this.featureService(s));
  }

  featureService(s: FeatureServiceDef): Json {
    const byView = new Map<string, string[]>();
    for (const r of s.features) byView.set(r.view, [...(byView.get(r.view) ?? []), r.feature]);
    return { spec: { name: s.name, features: [...byView].map(([view, features]) => this.projection(view, features)), ...people(s) }, meta: this.#meta };
  }

  /** Every feature of every view, as Feast's /features lists them. */
  features(): Json[] {
    return this.featureViews().flatMap((fv) => {
      const spec = fv.spec as { name: string; features: { name: string; valueType: FeastValueType; description?: string }[] };
      return spec.features.map((f) => ({ name: f.name, featureView: spec.name, type: pythonType(f.valueType), ...people({ description: f.description }), kind: "feature" }));
    });
  }

  /** How objects refer to each other (entity → view → service, source → view), as Feast's relationships. */
  edges(): Edge[] {
    const edges: Edge[] = [];
    const add = (st: ObjectKind, sn: string, tt: ObjectKind, tn: string) => edges.push({ source: { type: st, name: sn }, target: { type: tt, name: tn } });
    const servicesOf = (view: string) => this.registry.servicesReading(view).map((s) => s.name);
    for (const name of this.registry.viewNames()) {
      const v = this.registry.view(name);
      add("entity", v.entity.name, "featureView", name);
      add("dataSource", v.source.name, "featureView", name);
      if (v.push) add("dataSource", v.push.name, "featureView", name);
      for (const s of servicesOf(name)) {
        add("featureView", name, "featureService", s);
        add("entity", v.entity.name, "featureService", s);
      }
    }
    for (const v of this.registry.onDemandViews()) {
      for (const input of v.inputs) add("featureView", input, "featureView", v.name);
      if (v.request.length) add("dataSource", `${v.name}_request`, "featureView", v.name);
      for (const s of servicesOf(v.name)) add("featureView", v.name, "featureService", s);
    }
    return edges.filter((e, i) => edges.findIndex((x) => JSON.stringify(x) === JSON.stringify(e)) === i);
  }

  /** Each named object's relationships: the edges it is either end of. */
  relationships(kind: ObjectKind, names: readonly string[]): Record<string, Edge[]> {
    const edges = this.edges();
    return Object.fromEntries(names.map((n) => [n, edges.filter((e) => (e.source.type === kind && e.source.name === n) || (e.target.type === kind && e.target.name === n))]));
  }
}

const field = (c: ColumnDef) => ({ name: c.name, valueType: valueTypeOfColumn(c.type) });
