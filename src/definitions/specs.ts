/**
 * The zod schemas of what users write in features/*.ts. Every definition is checked
 * against these when files are loaded, so an error names the file, the definition and
 * the field path (z.prettifyError) instead of throwing a stack trace at import time.
 */
import { z } from "zod";
import { AGGREGATIONS } from "../windows/tile-stats.ts";
import { DURATION_PATTERN } from "../time.ts";

/** Marks objects made by the DSL, so the loader finds them among a module's exports. */
export const DEFINITION = Symbol.for("larder.definition");

export const NameSpec = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be lower_snake_case: a-z, 0-9 and _, starting with a letter or _ (at most 63 characters)");
const DurationSpec = z.string().regex(DURATION_PATTERN, 'must be a duration such as "10m", "1h" or "7d"');
const Meta = {
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  owner: z.string().optional(),
};

const Severity = { severity: z.enum(["error", "warn"]).optional() };
const Column = z.string().min(1);
const Bounds = { min: z.number().optional(), max: z.number().optional() };

/** What `notNull(...)`, `between(...)`, … return; plain objects of these shapes work too. */
export const ExpectationSpec = z.discriminatedUnion("rule", [
  z.strictObject({ rule: z.literal("notNull"), column: Column, ...Severity }),
  z.strictObject({ rule: z.literal("between"), column: Column, ...Bounds, ...Severity }),
  z.strictObject({ rule: z.literal("allowedValues"), column: Column, values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), ...Severity }),
  z.strictObject({ rule: z.literal("uniqueKeyPerTimestamp"), ...Severity }),
  z.strictObject({ rule: z.literal("maxNullFraction"), column: Column, fraction: z.number().min(0).max(1), ...Severity }),
  z.strictObject({ rule: z.literal("rowCount"), ...Bounds, ...Severity }),
  z.strictObject({ rule: z.literal("fresh"), maxAge: z.string().regex(DURATION_PATTERN, 'must be a duration such as "1h" or "2d"'), ...Severity }),
  z.strictObject({ rule: z.literal("meanBetween"), column: Column, ...Bounds, ...Severity }),
  z.strictObject({ rule: z.literal("stddevBetween"), column: Column, ...Bounds, ...Severity }),
  z.strictObject({ rule: z.literal("psi"), column: Column, max: z.number().positive(), bins: z.int().min(2).max(100).optional(), ...Severity }),
]);
export type ExpectationInput = z.input<typeof ExpectationSpec>;
const Expectations = { expectations: z.array(ExpectationSpec).optional() };

export const EntitySpec = z.strictObject({
  name: NameSpec,
  joinKeys: z.record(NameSpec, z.enum(["int64", "string"])).refine((keys) => Object.keys(keys).length > 0, "an entity needs at least one join key"),
  ...Meta,
});

const isZodObject = (v: unknown): v is z.ZodObject => typeof v === "object" && v !== null && (v as { _zod?: { def?: { type?: string } } })._zod?.def?.type === "object";

export const FileSourceSpec = z.strictObject({
  name: NameSpec,
  path: z.string().min(1),
  format: z.enum(["csv", "parquet", "json"]).optional(),
  timestampField: z.string().min(1),
  schema: z.custom<z.ZodObject>(isZodObject, "must be a zod object schema: z.object({ column: z.number(), ... })"),
  ...Expectations,
  ...Meta,
});

export const DatabaseSourceSpec = z
  .strictObject({
    name: NameSpec,
    connection: z
      .string()
      .regex(/^(postgres(ql)?:\/\/|sqlite:|\$\{[A-Za-z_][A-Za-z0-9_]*\})/, 'must start with "postgres://" or "sqlite:", or be "${VAR}" (read from the environment)'),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, "must be a table name, optionally schema.table")
      .optional(),
    query: z.string().min(1).optional(),
    timestampField: z.string().min(1),
    schema: z.custom<z.ZodObject>(isZodObject, "must be a zod object schema: z.object({ column: z.number(), ... })"),
    ...Expectations,
    ...Meta,
  })
  .refine((s) => (s.table === undefined) !== (s.query === undefined), { message: 'give either "table" or "query"', path: ["table"] });

export const PushSourceSpec = z.strictObject({
  name: NameSpec,
  batchSource: z.custom<{ kind: "source"; name: string }>((v) => isDefinition(v, "source"), "must be a source made with fileSource({...}) or databaseSource({...})"),
  eventIdField: z.string().min(1).optional(),
  ...Meta,
});

export const FeatureSpec = z
  .strictObject({
    sql: z.string().min(1).optional(),
    aggregate: z.enum(AGGREGATIONS).optional(),
    of: z.string().min(1).optional(),
    window: z.union([DurationSpec, z.literal("lifetime")]).optional(),
    hop: DurationSpec.optional(),
    description: z.string().optional(),
  })
  .superRefine((f, ctx) => {
    const problem = (message: string, path: string) => ctx.addIssue({ code: "custom", message, path: [path] });
    if (f.sql !== undefined) {
      if (f.aggregate !== undefined) problem("a feature is either { sql } or { aggregate }, not both", "aggregate");
      for (const k of ["of", "window", "hop"] as const) if (f[k] !== undefined) problem(`"${k}" belongs to aggregations, not to sql features`, k);
      return;
    }
    if (f.aggregate === undefined) return problem('a feature needs "sql" (a row-level expression) or "aggregate" (count, sum, mean, min, max, stddev, last)', "sql");
    if (f.window === undefined) return problem('an aggregation needs a "window" such as "7d", or "lifetime"', "window");
    if (f.aggregate !== "count" && f.of === undefined) problem(`"${f.aggregate}" needs "of": the column or SQL expression to aggregate`, "of");
    if (f.window === "lifetime" && f.hop !== undefined) problem("a lifetime aggregation has no hop", "hop");
  });
export type FeatureInput = z.input<typeof FeatureSpec>;

export const FeatureViewSpec = z.strictObject({
  name: NameSpec,
  entity: z.custom<{ kind: "entity"; name: string }>((v) => isDefinition(v, "entity"), "must be an entity made with entity({...})"),
  source: z.custom<{ kind: "source" | "pushSource"; name: string }>(
    (v) => isDefinition(v, "source") || isDefinition(v, "pushSource"),
    "must be a source made with fileSource({...}), databaseSource({...}) or pushSource({...})",
  ),
  ttl: DurationSpec.optional(),
  features: z.record(NameSpec, FeatureSpec).refine((f) => Object.keys(f).length > 0, "a feature view needs at least one feature"),
  online: z.boolean().optional(),
  offline: z.boolean().optional(),
  // A cron expression ("0 * * * *"; six fields put seconds first), or { cron, timezone } (default UTC).
  schedule: z.union([z.string().min(1), z.strictObject({ cron: z.string().min(1), timezone: z.string().min(1).optional() })]).optional(),
  ...Expectations,
  /** Above these, a feature's served values count as drifting from their reference (GET /v1/drift). */
  drift: z.strictObject({ psi: z.number().positive().optional(), ks: z.number().positive().max(1).optional() }).optional(),
  ...Meta,
});

export const OnDemandViewSpec = z.strictObject({
  name: NameSpec,
  request: z.custom<z.ZodObject>(isZodObject, "must be a zod object schema of the request data: z.object({ amount: z.number(), ... })"),
  inputs: z.array(z.custom<{ kind: "featureView"; name: string }>((v) => isDefinition(v, "featureView"), "must be a feature view made with featureView({...})")).optional(),
  output: z.custom<z.ZodObject>(isZodObject, "must be a zod object schema of what compute returns"),
  compute: z.custom<(row: Record<string, unknown>) => Record<string, unknown>>((v) => typeof v === "function", "must be a function (row) => ({ ...features })"),
  ...Meta,
});

const FeatureRefSpec = z.union([
  z.string().regex(/^[a-z_][a-z0-9_]*:([a-z_][a-z0-9_]*|\*)$/, 'must be "view:feature" or "view:*"'),
  z.custom<{ kind: "featureView" | "onDemandView"; name: string }>(
    (v) => isDefinition(v, "featureView") || isDefinition(v, "onDemandView"),
    'must be a feature view, an on-demand feature view or a "view:feature" string',
  ),
]);

export const FeatureServiceSpec = z.strictObject({
  name: NameSpec,
  features: z.array(FeatureRefSpec).min(1, "a feature service needs at least one feature"),
  ...Meta,
});

export type DefinitionKind = "entity" | "source" | "pushSource" | "featureView" | "onDemandView" | "featureService";

export function isDefinition(v: unknown, kind?: DefinitionKind): v is { kind: DefinitionKind; name: string; spec: unknown } {
  if (typeof v !== "object" || v === null || !(DEFINITION in v)) return false;
  return kind === undefined || (v as unknown as { kind: string }).kind === kind;
}
