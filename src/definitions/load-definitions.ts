/**
 * Imports features/*.ts, finds the definitions among their exports, validates each with
 * zod and normalizes it. Collects every problem (with file, definition and field path)
 * before failing, so one run shows all that needs fixing.
 */
import { readdirSync, existsSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { DefinitionError, type DefinitionProblem } from "../errors.ts";
import { parseDuration } from "../time.ts";
import { defaultHop } from "../windows/window-math.ts";
import {
  DatabaseSourceSpec,
  type ExpectationSpec,
  EntitySpec,
  FeatureServiceSpec,
  FeatureViewSpec,
  FileSourceSpec,
  OnDemandViewSpec,
  PushSourceSpec,
  isDefinition,
  type DefinitionKind,
} from "./specs.ts";
import { rememberOnDemand } from "./on-demand-functions.ts";
import { hashOf } from "../ids.ts";
import type { ColumnDef, DefinitionMeta, Definitions, EntityDef, ExpectationDef, FeatureDef, FeatureViewDef, FeatureServiceDef, OnDemandViewDef, SourceDef } from "./types.ts";
import { formatOf } from "../offline/source-sql.ts";
import { zodToColumn } from "./zod-columns.ts";
import { registerLarderModules } from "./module-plugin.ts";

/** PSI above 0.25 is the usual "large shift"; KS 0.2 a clear gap between the distributions. */
export const DRIFT_DEFAULTS = { psi: 0.25, ks: 0.2 };

export type LoadedDefinition = { file: string; kind: DefinitionKind; name: string; spec: unknown };

/** The feature files in a features/ folder (TypeScript or JavaScript; not tests or declarations), sorted. */
export function definitionFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(ts|js|mts|mjs)$/.test(f) && !/\.(test|d)\.[mc]?[tj]s$/.test(f))
    .sort();
}

/** Imports every feature file directly in `<repo>/features` and returns their definitions. */
export async function importDefinitionFiles(repoDir: string): Promise<LoadedDefinition[]> {
  const dir = join(repoDir, "features");
  if (!existsSync(dir)) throw new DefinitionError([{ message: `no features/ folder in ${resolve(repoDir)}: run larder from a feature repo (or larder init)` }]);
  registerLarderModules();
  // Load the files as they are now, not as an earlier load in this process saw them.
  for (const cached of Object.keys(require.cache)) if (cached.startsWith(dir + sep)) delete require.cache[cached];
  const files = definitionFileNames(dir);
  const found: LoadedDefinition[] = [];
  const problems: DefinitionProblem[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const file = relative(repoDir, path);
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(path).href);
    } catch (err) {
      problems.push({ file, message: `could not be loaded: ${loadErrorMessage(err, file)}` });
      continue;
    }
    const seen = new Set<unknown>();
    for (const value of Object.values(mod)) {
      if (!isDefinition(value) || seen.has(value)) continue;
      seen.add(value);
      found.push({ file, kind: value.kind, name: value.name, spec: value.spec });
    }
  }
  if (problems.length) throw new DefinitionError(problems);
  return found;
}

type BuildMessage = { message: string; position?: { line: number; column: number; lineText: string } | null };

/**
 * What went wrong importing a feature file. Bun reports a syntax error as build messages
 * with a position: each becomes `file:line:column: message`, with the line and a caret.
 */
function loadErrorMessage(err: unknown, file: string): string {
  const messages = (err instanceof AggregateError ? err.errors : [err]) as BuildMessage[];
  if (!messages.every((m) => m?.position)) return (err as Error).message;
  return (
    messages
      // Bun's columns count from 1.
      .map(({ message, position: p }) => `\n  ${file}:${p!.line}:${p!.column}: ${message}\n    ${p!.lineText}\n    ${" ".repeat(Math.max(0, p!.column - 1))}^`)
      .join("")
  );
}

/** Validates and normalizes loaded definitions; throws one DefinitionError listing every problem. */
export function normalizeDefinitions(loaded: LoadedDefinition[]): Definitions {
  const problems: DefinitionProblem[] = [];
  const out: Definitions = { entities: [], sources: [], pushSources: [], views: [], onDemandViews: [], services: [] };
  for (const d of loaded) {
    const at = { file: d.file, definition: d.name || `(unnamed ${d.kind})` };
    const fail = (message: string) => problems.push({ ...at, message });
    switch (d.kind) {
      case "entity": {
        const r = EntitySpec.safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        out.entities.push(normalizeEntity(r.data));
        break;
      }
      case "source": {
        // databaseSource({...}) and fileSource({...}) both make sources; a connection tells them apart.
        const isDatabase = typeof d.spec === "object" && d.spec !== null && "connection" in d.spec;
        const r = (isDatabase ? DatabaseSourceSpec : FileSourceSpec).safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        const s = normalizeSource(r.data, fail);
        if (s) out.sources.push(s);
        break;
      }
      case "pushSource": {
        const r = PushSourceSpec.safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        out.pushSources.push({ name: r.data.name, kind: "push", batchSource: r.data.batchSource.name, eventIdField: r.data.eventIdField ?? null, ...meta(r.data) });
        break;
      }
      case "featureView": {
        const r = FeatureViewSpec.safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        out.views.push(normalizeView(r.data, fail));
        break;
      }
      case "onDemandView": {
        const r = OnDemandViewSpec.safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        const v = normalizeOnDemand(r.data, fail);
        if (v) out.onDemandViews.push(v);
        break;
      }
      case "featureService": {
        const r = FeatureServiceSpec.safeParse(d.spec);
        if (!r.success) {
          fail(z.prettifyError(r.error));
          break;
        }
        out.services.push(normalizeService(r.data));
        break;
      }
    }
  }
  if (problems.length) throw new DefinitionError(problems);
  return out;
}

const meta = (s: Partial<DefinitionMeta>): DefinitionMeta => ({
  description: s.description ?? "",
  tags: s.tags ?? {},
  owner: s.owner ?? "",
});

function normalizeEntity(s: z.output<typeof EntitySpec>): EntityDef {
  return { name: s.name, joinKeys: Object.entries(s.joinKeys).map(([name, type]) => ({ name, type })), ...meta(s) };
}

function normalizeSource(s: z.output<typeof FileSourceSpec> | z.output<typeof DatabaseSourceSpec>, fail: (m: string) => void): SourceDef | undefined {
  const schema = columnsOf(s.schema, "schema", fail);
  const ts = schema.find((c) => c.name === s.timestampField);
  if (!ts) fail(`✖ timestampField "${s.timestampField}" is not in the schema\n  → at timestampField`);
  else if (ts.type !== "timestamp" && ts.type !== "string") fail(`✖ timestampField "${s.timestampField}" must be z.date() or an ISO-8601 z.string()\n  → at timestampField`);
  const expectations = normalizeExpectations(s.expectations, fail);
  if ("connection" in s) {
    return {
      name: s.name,
      kind: "database",
      connection: s.connection,
      table: s.table ?? null,
      query: s.query ?? null,
      timestampField: s.timestampField,
      schema,
      expectations,
      ...meta(s),
    };
  }
  const format = s.format ?? formatOf(s.path);
  if (!format) return void fail(`✖ cannot tell the format of "${s.path}": add format: "csv" | "parquet" | "json"\n  → at format`);
  return { name: s.name, kind: "file", path: s.path, format, timestampField: s.timestampField, schema, expectations, ...meta(s) };
}

/** Defaults filled in (severity "error", no bound as null, 10 PSI bins); a range needs a bound. */
function normalizeExpectations(list: z.output<typeof ExpectationSpec>[] | undefined, fail: (m: string) => void): ExpectationDef[] {
  return (list ?? []).flatMap((e, i): ExpectationDef[] => {
    const severity = e.severity ?? "error";
    switch (e.rule) {
      case "between":
      case "rowCount":
      case "meanBetween":
      case "stddevBetween":
        if (e.min === undefined && e.max === undefined) {
          fail(`✖ ${e.rule} needs a min, a max or both\n  → at expectations[${i}]`);
          return [];
        }
        if (e.min !== undefined && e.max !== undefined && e.min > e.max) {
          fail(`✖ ${e.rule}: min ${e.min} is above max ${e.max}\n  → at expectations[${i}]`);
          return [];
        }
        return [{ ...e, min: e.min ?? null, max: e.max ?? null, severity }];
      case "fresh":
        return [{ rule: "fresh", maxAge: parseDuration(e.maxAge), severity }];
      case "psi":
        return [{ ...e, bins: e.bins ?? 10, severity }];
      default:
        return [{ ...e, severity }];
    }
  });
}

function normalizeView(s: z.output<typeof FeatureViewSpec>, fail: (m: string) => void): FeatureViewDef {
  const features: FeatureDef[] = Object.entries(s.features).map(([name, f]) => {
    if (f.sql !== undefined) return { name, kind: "expression", sql: f.sql, type: "", description: f.description ?? "" };
    const window = f.window === "lifetime" ? null : parseDuration(f.window!);
    return {
      name,
      kind: "aggregation",
      function: f.aggregate!,
      of: f.of ?? null,
      window,
      hop: window === null ? null : f.hop ? parseDuration(f.hop) : defaultHop(window),
      description: f.description ?? "",
    };
  });
  return {
    name: s.name,
    entity: s.entity.name,
    source: s.source.name,
    ttl: s.ttl ? parseDuration(s.ttl) : null,
    features,
    online: s.online ?? true,
    offline: s.offline ?? true,
    schedule:
      s.schedule === undefined ? null : typeof s.schedule === "string" ? { cron: s.schedule, timezone: null } : { cron: s.schedule.cron, timezone: s.schedule.timezone ?? null },
    expectations: normalizeExpectations(s.expectations, fail),
    drift: { psi: s.drift?.psi ?? DRIFT_DEFAULTS.psi, ks: s.drift?.ks ?? DRIFT_DEFAULTS.ks },
    ...meta(s),
  };
}

/** A zod object schema's fields as columns; a field with no column type is reported at `path.field`. */
function columnsOf(schema: z.ZodObject, path: string, fail: (m: string) => void): ColumnDef[] {
  const out: ColumnDef[] = [];
  for (const [name, zt] of Object.entries(schema.shape)) {
    const r = zodToColumn(zt as z.ZodType);
    if (r.problem) fail(`✖ ${r.problem}\n  → at ${path}.${name}`);
    else out.push({ name, ...r.column! });
  }
  return out;
}

function normalizeOnDemand(s: z.output<typeof OnDemandViewSpec>, fail: (m: string) => void): OnDemandViewDef | undefined {
  const request = columnsOf(s.request, "request", fail);
  const output = columnsOf(s.output, "output", fail);
  const inputs = (s.inputs ?? []).map((v) => v.name);
  const source = s.compute.toString();
  const version = hashOf({ request, inputs, output, source });
  rememberOnDemand(s.name, { compute: s.compute, request: s.request, output: s.output, version });
  return { name: s.name, kind: "onDemand", request, inputs, output, source, version, ...meta(s) };
}

function normalizeService(s: z.output<typeof FeatureServiceSpec>): FeatureServiceDef {
  // "view:*" and view objects are expanded against the views in check-definitions.ts.
  const features = s.features.map((f) => (typeof f === "string" ? { view: f.split(":")[0]!, feature: f.split(":")[1]! } : { view: f.name, feature: "*" }));
  return { name: s.name, features, ...meta(s) };
}

/** Imports, validates, normalizes and cross-checks the definitions of a feature repo. */
export async function loadDefinitions(repoDir: string, duck: import("../offline/duckdb.ts").Duck): Promise<Definitions> {
  const { checkDefinitions } = await import("./check-definitions.ts");
  const loaded = await importDefinitionFiles(repoDir);
  const files = new Map(loaded.map((d) => [`${d.kind}:${d.name}`, d.file]));
  return checkDefinitions(normalizeDefinitions(loaded), duck, files);
}
