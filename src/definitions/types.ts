/**
 * Normalized definitions: what the registry stores and every engine reads. They are
 * plain JSON (no functions, no zod objects), so they hash, diff and persist as they are.
 */
import type { Aggregation } from "../windows/tile-stats.ts";

export type KeyType = "int64" | "string";
export type ColumnType = "int64" | "float64" | "string" | "bool" | "timestamp";
/** A column as a zod schema declares it (sources' schemas, on-demand request and output). */
export type ColumnDef = { name: string; type: ColumnType; nullable: boolean };

/**
 * A check on the data a batch brings (see validation/). Row rules name failing rows;
 * batch rules judge the batch as a whole. `error` blocks the write, `warn` records.
 */
export type ExpectationDef =
  | { rule: "notNull"; column: string; severity: Severity }
  | { rule: "between"; column: string; min: number | null; max: number | null; severity: Severity }
  | { rule: "allowedValues"; column: string; values: (string | number | boolean)[]; severity: Severity }
  | { rule: "uniqueKeyPerTimestamp"; severity: Severity }
  | { rule: "maxNullFraction"; column: string; fraction: number; severity: Severity }
  | { rule: "rowCount"; min: number | null; max: number | null; severity: Severity }
  | { rule: "fresh"; maxAge: number; severity: Severity }
  | { rule: "meanBetween"; column: string; min: number | null; max: number | null; severity: Severity }
  | { rule: "stddevBetween"; column: string; min: number | null; max: number | null; severity: Severity }
  | { rule: "psi"; column: string; max: number; bins: number; severity: Severity };
export type Severity = "error" | "warn";

export type ScheduleDef = { cron: string; timezone: string | null };

/** What every named definition carries for people: the same fields as the specs' `Meta`. */
export type DefinitionMeta = { description: string; tags: Record<string, string>; owner: string };

export type EntityDef = {
  name: string;
  joinKeys: { name: string; type: KeyType }[];
} & DefinitionMeta;

export type SourceFormat = "csv" | "parquet" | "json";

/** What every source has: an event-time column, a schema, expectations, metadata. */
type SourceCommon = {
  name: string;
  timestampField: string;
  schema: ColumnDef[];
  expectations: ExpectationDef[];
} & DefinitionMeta;

/** CSV, Parquet or JSON files: a path or glob, local or on S3. */
export type FileSourceDef = SourceCommon & { kind: "file"; path: string; format: SourceFormat };

/**
 * Rows of a table or query in PostgreSQL or SQLite, pulled into local Parquet snapshots
 * (incrementally where it can: see offline/database/pull-database.ts) that DuckDB reads like files.
 */
export type DatabaseSourceDef = SourceCommon & {
  kind: "database";
  /** `postgres://…` or `sqlite:<path>`; `${VAR}` is taken from the environment when read, never stored expanded. */
  connection: string;
  table: string | null;
  query: string | null;
};

export type SourceDef = FileSourceDef | DatabaseSourceDef;

/**
 * Rows pushed at run time (HTTP, CLI, a Redis Stream), with the file source behind them:
 * its schema validates pushed rows, and batch computations read its files together with
 * the pushed rows kept offline.
 */
export type PushSourceDef = {
  name: string;
  kind: "push";
  batchSource: string;
  /** A column that identifies an event: a row whose id was already pushed is skipped. */
  eventIdField: string | null;
} & DefinitionMeta;

export type ExpressionFeatureDef = {
  name: string;
  kind: "expression";
  sql: string;
  /** DuckDB type of the expression, found when definitions are checked. */
  type: string;
  description: string;
};

export type AggregationFeatureDef = {
  name: string;
  kind: "aggregation";
  function: Aggregation;
  /** SQL expression aggregated; null for count of events. */
  of: string | null;
  /** Window length in ms; null for a lifetime (cumulative) aggregation. */
  window: number | null;
  /** Tile width in ms; null for lifetime. */
  hop: number | null;
  description: string;
};

export type FeatureDef = ExpressionFeatureDef | AggregationFeatureDef;

export type FeatureViewDef = {
  name: string;
  entity: string;
  source: string;
  /** Latest-value features older than this are expired; null means they never expire. */
  ttl: number | null;
  features: FeatureDef[];
  online: boolean;
  offline: boolean;
  /** Incremental materialization inside `larder serve` (scheduler/); older registries hold a plain cron string. */
  schedule: ScheduleDef | string | null;
  expectations: ExpectationDef[];
  /** Drift thresholds (older registries lack them: defaults apply). */
  drift?: { psi: number; ks: number };
} & DefinitionMeta;

/**
 * Features computed at request time by a TypeScript function of request data and stored
 * features (the same function online and in historical retrieval). The function itself
 * lives in the feature file; `source` is its text, so a changed function is a new version.
 */
export type OnDemandViewDef = {
  name: string;
  kind: "onDemand";
  request: ColumnDef[];
  /** Feature views whose features the function reads, by feature name. */
  inputs: string[];
  output: ColumnDef[];
  source: string;
  version: string;
} & DefinitionMeta;

export type FeatureRef = { view: string; feature: string };

export type FeatureServiceDef = {
  name: string;
  features: FeatureRef[];
} & DefinitionMeta;

export type Definitions = {
  entities: EntityDef[];
  sources: SourceDef[];
  pushSources: PushSourceDef[];
  views: FeatureViewDef[];
  onDemandViews: OnDemandViewDef[];
  services: FeatureServiceDef[];
};
