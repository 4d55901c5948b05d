/**
 * The functions feature files call. They only tag their input: validation happens when
 * files are loaded (load-definitions.ts), so one bad field becomes a readable report with
 * its file and path, and nothing is applied, instead of a throw at import time.
 */
import type { z } from "zod";
import {
  DEFINITION,
  type ExpectationInput,
  type EntitySpec,
  type FeatureInput,
  type FeatureServiceSpec,
  type FeatureViewSpec,
  type FileSourceSpec,
  type PushSourceSpec,
  type DatabaseSourceSpec,
  type OnDemandViewSpec,
} from "./specs.ts";
import type { Aggregation } from "../windows/tile-stats.ts";

type Tagged<K extends string, S> = { readonly kind: K; readonly name: string; readonly spec: S; readonly [DEFINITION]: true };

const tag = <K extends string, S extends { name?: unknown }>(kind: K, spec: S): Tagged<K, S> =>
  Object.freeze({ kind, name: String(spec?.name ?? ""), spec, [DEFINITION]: true as const });

export type Entity = Tagged<"entity", z.input<typeof EntitySpec>>;
export type Source = Tagged<"source", z.input<typeof FileSourceSpec>>;
export type DatabaseSource = Tagged<"source", z.input<typeof DatabaseSourceSpec>>;
export type PushSource = Tagged<"pushSource", z.input<typeof PushSourceSpec>>;
export type FeatureView = Tagged<"featureView", z.input<typeof FeatureViewSpec>>;
export type OnDemandView = Tagged<"onDemandView", z.input<typeof OnDemandViewSpec>>;
export type FeatureService = Tagged<"featureService", z.input<typeof FeatureServiceSpec>>;

/** A thing features describe, with its join key(s) and their types. */
export const entity = (spec: Entity["spec"]): Entity => tag("entity", spec);
/** Events from CSV, Parquet or JSON files: a path or glob relative to the feature repo. */
export const fileSource = (spec: Source["spec"]): Source => tag("source", spec);
/**
 * Rows of a PostgreSQL or SQLite table (or query) with a timestamp column. `connection` is
 * `postgres://user@host/db` or `sqlite:path/to/file.db`; write secrets as `${VAR}` to read
 * them from the environment.
 */
export const databaseSource = (spec: DatabaseSource["spec"]): DatabaseSource => tag("source", spec);
/** Rows pushed at run time (POST /v1/push, larder push, a Redis Stream), backed by a file source. */
export const pushSource = (spec: PushSource["spec"]): PushSource => tag("pushSource", spec);
/** Features of one entity computed from one source. */
export const featureView = (spec: FeatureView["spec"]): FeatureView => tag("featureView", spec);
/**
 * Features computed when asked for: `compute(row)` gets the request data (checked against
 * `request`) and the input views' features by name, and returns `output`'s fields. The same
 * function runs in online lookups (request data sent with the entities) and in historical
 * retrieval (request columns taken from the label table).
 */
export const onDemandFeatureView = (spec: OnDemandView["spec"]): OnDemandView => tag("onDemandView", spec);
/** The named set of features a model consumes. */
export const featureService = (spec: FeatureService["spec"]): FeatureService => tag("featureService", spec);

type AggOptions = { hop?: string; description?: string };

/** A row-level SQL expression over the source's columns; served as its latest value within ttl. */
export const sql = (expression: string, options: { description?: string } = {}): FeatureInput => ({ sql: expression, ...options });

const aggregation =
  (fn: Aggregation) =>
  (of: string, window: string, options: AggOptions = {}): FeatureInput => ({
    aggregate: fn,
    of,
    window,
    ...options,
  });

/** Number of events in the window (or of non-null values of `options.of`). */
export const count = (window: string, options: AggOptions & { of?: string } = {}): FeatureInput => ({
  aggregate: "count",
  window,
  ...options,
});
export const sum = aggregation("sum");
export const mean = aggregation("mean");
export const min = aggregation("min");
export const max = aggregation("max");
/** Sample standard deviation (n − 1), null below two values. */
export const stddev = aggregation("stddev");
/** The value of the latest event in the window. */
export const last = aggregation("last");

// Expectations: checks on the data every batch brings (sources' columns, views' columns and
// expression features). `severity: "error"` (the default) blocks the write; "warn" records.
type Sev = { severity?: "error" | "warn" };
type Range = { min?: number; max?: number };

/** No row may have a null here. */
export const notNull = (column: string, o: Sev = {}): ExpectationInput => ({ rule: "notNull", column, ...o });
/** Every non-null value within [min, max]. */
export const between = (column: string, range: Range, o: Sev = {}): ExpectationInput => ({ rule: "between", column, ...range, ...o });
/** Every non-null value one of these. */
export const allowedValues = (column: string, values: (string | number | boolean)[], o: Sev = {}): ExpectationInput => ({ rule: "allowedValues", column, values, ...o });
/** At most one row per entity key and event time (views only). */
export const uniqueKeyPerTimestamp = (o: Sev = {}): ExpectationInput => ({ rule: "uniqueKeyPerTimestamp", ...o });
/** At most this fraction (0–1) of a batch's rows null here. */
export const maxNullFraction = (column: string, fraction: number, o: Sev = {}): ExpectationInput => ({ rule: "maxNullFraction", column, fraction, ...o });
/** A batch's row count within [min, max]. */
export const rowCount = (range: Range, o: Sev = {}): ExpectationInput => ({ rule: "rowCount", ...range, ...o });
/** The newest event no older than this ("1h", "2d") when checked. */
export const fresh = (maxAge: string, o: Sev = {}): ExpectationInput => ({ rule: "fresh", maxAge, ...o });
/** The batch's mean of this column within [min, max]. */
export const meanBetween = (column: string, range: Range, o: Sev = {}): ExpectationInput => ({ rule: "meanBetween", column, ...range, ...o });
/** The batch's sample standard deviation of this column within [min, max]. */
export const stddevBetween = (column: string, range: Range, o: Sev = {}): ExpectationInput => ({ rule: "stddevBetween", column, ...range, ...o });
/**
 * Population stability index of this column against the reference profile (the first
 * batch that passed, or one saved with `larder validate --save-reference`) at most `max`
 * (0.1 small shift, 0.25 large). `bins`: quantile bins of the reference (10).
 */
export const psi = (column: string, o: { max: number; bins?: number } & Sev): ExpectationInput => ({ rule: "psi", column, ...o });
