/**
 * The registry: what has been applied. One JSON file under the data folder, replaced
 * atomically (write, fsync, rename), so a crash never leaves half a registry. Every
 * version of every view is kept; `current` is what serving and materialization use.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { NotAppliedError, NotFoundError } from "../errors.ts";
import { parseStored } from "../storage/stored-json.ts";
import type { EntityDef, FeatureServiceDef, FeatureViewDef, SourceDef, FeatureRef, PushSourceDef, OnDemandViewDef } from "../definitions/types.ts";

export type ViewVersion = { version: string; definition: FeatureViewDef; appliedAt: string };
export type ViewEntry = { current: string; definition: FeatureViewDef; versions: ViewVersion[] };

export type RegistryData = {
  formatVersion: 1;
  updatedAt: string | null;
  entities: Record<string, EntityDef>;
  sources: Record<string, SourceDef>;
  /** Absent in registries written before push sources existed. */
  pushSources?: Record<string, PushSourceDef>;
  views: Record<string, ViewEntry>;
  /** Absent in registries written before on-demand views existed. */
  onDemandViews?: Record<string, OnDemandViewDef>;
  services: Record<string, FeatureServiceDef>;
};

const sortedValues = <T extends { name: string }>(m: Record<string, T>): T[] => Object.values(m).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * The registry's name → definition maps without a prototype, so a name from a request such
 * as "__proto__" or "constructor" finds nothing rather than Object's own members.
 */
export function ownMaps(data: RegistryData): RegistryData {
  const own = <T>(m: Record<string, T> | undefined): Record<string, T> => Object.assign(Object.create(null) as Record<string, T>, m ?? {});
  data.entities = own(data.entities);
  data.sources = own(data.sources);
  data.pushSources = own(data.pushSources);
  data.views = own(data.views);
  data.onDemandViews = own(data.onDemandViews);
  data.services = own(data.services);
  return data;
}

/**
 * The registry's structure, checked when it is read back (the definitions' own fields were
 * checked when they were applied): enough that a damaged file is named, not misread.
 */
const Named = z.looseObject({ name: z.string() });
const Definitions = z.record(z.string(), Named);
const RegistrySchema = z.object({
  formatVersion: z.literal(1),
  updatedAt: z.string().nullable(),
  entities: z.record(z.string(), z.looseObject({ name: z.string(), joinKeys: z.array(z.looseObject({ name: z.string(), type: z.enum(["int64", "string"]) })) })),
  sources: Definitions,
  pushSources: Definitions.optional(),
  views: z.record(
    z.string(),
    z.object({
      current: z.string(),
      definition: z.looseObject({ name: z.string(), entity: z.string(), source: z.string(), features: z.array(z.looseObject({ name: z.string(), kind: z.string() })) }),
      versions: z.array(z.object({ version: z.string(), definition: Named, appliedAt: z.string() })),
    }),
  ),
  onDemandViews: Definitions.optional(),
  services: z.record(z.string(), z.looseObject({ name: z.string(), features: z.array(z.object({ view: z.string(), feature: z.string() })) })),
});

/** What to do about a damaged registry. */
export const REGISTRY_WAY_OUT = "run larder apply in the feature repo: it sets the damaged file aside and applies features/ afresh";

/** Registry JSON as read back from `where`: checked, or a DamagedDataError naming it. */
export function parseRegistry(text: string, where: string): RegistryData {
  return parseStored(text, RegistrySchema, `registry ${where}`, REGISTRY_WAY_OUT) as unknown as RegistryData;
}

/** Renames a damaged registry file out of the way (`registry.json.damaged-<time>`); returns where it went. */
export function setAsideRegistry(dataDir: string): string {
  const path = Registry.registryPath(dataDir);
  const aside = `${path}.damaged-${new Date().toISOString().replace(/[-:.]/g, "")}`;
  if (existsSync(path)) renameSync(path, aside);
  return aside;
}

export const emptyRegistry = (): RegistryData => ({ formatVersion: 1, updatedAt: null, entities: {}, sources: {}, pushSources: {}, views: {}, services: {} });

/**
 * A resolved view: its current definition with its entity and source. For a view over a
 * push source, `source` is the file source behind it and `push` the push source.
 */
export type ResolvedView = { def: FeatureViewDef; version: string; entity: EntityDef; source: SourceDef; push: PushSourceDef | null };

export class Registry {
  readonly data: RegistryData;

  constructor(
    data: RegistryData,
    readonly path: string,
  ) {
    this.data = ownMaps(data);
  }

  static registryPath(dataDir: string): string {
    return join(dataDir, "registry.json");
  }

  static load(dataDir: string): Registry {
    const path = Registry.registryPath(dataDir);
    if (!existsSync(path)) return new Registry(emptyRegistry(), path);
    return new Registry(parseRegistry(readFileSync(path, "utf8"), path), path);
  }

  save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
  }

  get isEmpty(): boolean {
    return Object.keys(this.data.views).length === 0 && Object.keys(this.data.entities).length === 0;
  }

  viewNames(): string[] {
    return Object.keys(this.data.views).sort();
  }

  /** The views named (each checked, each once), or every view when none are named. */
  viewsNamed(names?: readonly string[] | null): string[] {
    return [...new Set((names ?? this.viewNames()).map((n) => this.view(n).def.name))];
  }

  /** When anything was last applied (null: never). */
  get updatedAt(): string | null {
    return this.data.updatedAt;
  }

  /** Every applied definition of a kind, sorted by name. */
  entities(): EntityDef[] {
    return sortedValues(this.data.entities);
  }
  sources(): SourceDef[] {
    return sortedValues(this.data.sources);
  }
  pushSources(): PushSourceDef[] {
    return sortedValues(this.data.pushSources ?? {});
  }
  services(): FeatureServiceDef[] {
    return sortedValues(this.data.services);
  }
  onDemandViews(): OnDemandViewDef[] {
    return sortedValues(this.data.onDemandViews ?? {});
  }
  /** Every feature view with its current and past versions. */
  viewEntries(): ViewEntry[] {
    return this.viewNames().map((n) => this.data.views[n]!);
  }

  entity(name: string): EntityDef {
    const e = this.data.entities[name];
    if (!e) throw new NotFoundError(`entity "${name}" not found`, { kind: "entity", name });
    return e;
  }

  /** A file or database source (a push source's batch source included). */
  source(name: string): SourceDef {
    const s = this.data.sources[name];
    if (!s) throw new NotFoundError(`source "${name}" not found`, { kind: "data_source", name });
    return s;
  }

  hasSource(name: string): boolean {
    return this.data.sources[name] !== undefined;
  }

  /** A view with every version applied, or undefined. */
  viewEntry(name: string): ViewEntry | undefined {
    return this.data.views[name];
  }

  /** The services that read any feature of this view (or on-demand view). */
  servicesReading(view: string): FeatureServiceDef[] {
    return this.services().filter((s) => s.features.some((r) => r.view === view));
  }

  view(name: string): ResolvedView {
    const entry = this.data.views[name];
    if (!entry) throw new NotFoundError(`feature view "${name}" not found${this.isEmpty ? " (nothing is applied yet: run larder apply)" : ""}`, { kind: "feature_view", name });
    const entity = this.data.entities[entry.definition.entity];
    const push = this.data.pushSources?.[entry.definition.source] ?? null;
    const source = this.data.sources[push ? push.batchSource : entry.definition.source];
    if (!entity || !source) throw new NotAppliedError(`feature view "${name}" refers to a missing entity or source: run larder apply`);
    return { def: entry.definition, version: entry.current, entity, source, push };
  }

  /** The definition of a view at a version it had (what a served pointer was computed with). */
  definitionOf(view: string, version: string): FeatureViewDef {
    const entry = this.data.views[view]!;
    if (entry.current === version) return entry.definition;
    const old = entry.versions.find((x) => x.version === version);
    if (!old) throw new NotAppliedError(`feature view "${view}" serves version @${version}, which the registry no longer has: run larder materialize`);
    return old.definition;
  }

  pushSource(name: string): PushSourceDef {
    const p = this.data.pushSources?.[name];
    if (!p)
      throw new NotFoundError(`push source "${name}" not found${this.data.sources[name] ? ` ("${name}" is a file source: push to a push source over it)` : ""}`, {
        kind: "push_source",
        name,
      });
    return p;
  }

  /** The current views whose source is this push source. */
  viewsOfPushSource(name: string): ResolvedView[] {
    return this.viewNames()
      .filter((v) => this.data.views[v]!.definition.source === name)
      .map((v) => this.view(v));
  }

  service(name: string): FeatureServiceDef {
    const s = this.data.services[name];
    if (!s) throw new NotFoundError(`feature service "${name}" not found`, { kind: "feature_service", name });
    return s;
  }

  /** An applied on-demand feature view, or undefined. */
  onDemandView(name: string): OnDemandViewDef | undefined {
    return this.data.onDemandViews?.[name];
  }

  /** The applied version of a feature view or of an on-demand feature view. */
  versionOf(name: string): string {
    return this.onDemandView(name)?.version ?? this.view(name).version;
  }

  /** Checks a "view:feature" reference against the applied definitions. */
  resolveRef(ref: string): FeatureRef {
    const m = /^([^:]+):(.+)$/.exec(ref);
    if (!m) throw new NotFoundError(`"${ref}" is not a feature reference: use "view:feature"`);
    const odfv = this.onDemandView(m[1]!);
    if (odfv) {
      if (!odfv.output.some((c) => c.name === m[2])) throw new NotFoundError(`on-demand feature view "${m[1]}" has no feature "${m[2]}"`);
      return { view: m[1]!, feature: m[2]! };
    }
    const view = this.view(m[1]!);
    if (!view.def.features.some((f) => f.name === m[2])) throw new NotFoundError(`feature view "${m[1]}" has no feature "${m[2]}"`);
    return { view: m[1]!, feature: m[2]! };
  }
}
