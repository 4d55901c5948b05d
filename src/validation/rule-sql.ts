/**
 * Expectations as SQL over the checked rows: row rules as predicates that are true for a
 * failing row, batch rules as aggregates. Column names and values come from definitions
 * (quoted as identifiers and literals), never from requests.
 */
import type { ExpectationDef } from "../definitions/types.ts";
import { literal } from "../offline/duckdb.ts";

export type RowRule = Extract<ExpectationDef, { rule: "notNull" | "between" | "allowedValues" | "uniqueKeyPerTimestamp" }>;
export type BatchRule = Exclude<ExpectationDef, RowRule>;

export const isRowRule = (e: ExpectationDef): e is RowRule => e.rule === "notNull" || e.rule === "between" || e.rule === "allowedValues" || e.rule === "uniqueKeyPerTimestamp";

const value = (v: string | number | boolean) => (typeof v === "string" ? literal(v) : typeof v === "boolean" ? (v ? "TRUE" : "FALSE") : String(v));

/** True for a row that fails the rule; `col` maps a column name to its SQL. */
export function rowPredicate(e: RowRule, col: (name: string) => string): string {
  switch (e.rule) {
    case "notNull":
      return `${col(e.column)} IS NULL`;
    case "between": {
      const c = col(e.column);
      const parts = [e.min === null ? null : `${c} < ${e.min}`, e.max === null ? null : `${c} > ${e.max}`].filter(Boolean);
      return `coalesce(${parts.join(" OR ")}, false)`;
    }
    case "allowedValues":
      return `coalesce(${col(e.column)} NOT IN (${e.values.map(value).join(", ")}), false)`;
    case "uniqueKeyPerTimestamp":
      return "__dup > 1";
  }
}

/** The aggregate a batch rule judges (one number), over the checked rows. */
export function batchAggregate(e: BatchRule, col: (name: string) => string, ts: string): string {
  switch (e.rule) {
    case "maxNullFraction":
      return `count(*) FILTER (WHERE ${col(e.column)} IS NULL)::DOUBLE / greatest(count(*), 1)`;
    case "rowCount":
      return "count(*)::DOUBLE";
    case "fresh":
      return `epoch_ms(max(${ts}))::DOUBLE`;
    case "meanBetween":
      return `avg(${col(e.column)})::DOUBLE`;
    case "stddevBetween":
      return `stddev_samp(${col(e.column)})::DOUBLE`;
    case "psi":
      return "NULL"; // computed against the reference bins (reference-profile.ts)
  }
}

/** How a rule reads in reports: `between(amount, min 0, max 100)`. */
export function describeRule(e: ExpectationDef): string {
  const bounds = (x: { min: number | null; max: number | null }) => [x.min === null ? null : `min ${x.min}`, x.max === null ? null : `max ${x.max}`].filter(Boolean).join(", ");
  switch (e.rule) {
    case "notNull":
      return `notNull(${e.column})`;
    case "between":
      return `between(${e.column}, ${bounds(e)})`;
    case "allowedValues":
      return `allowedValues(${e.column}, [${e.values.map((v) => JSON.stringify(v)).join(", ")}])`;
    case "uniqueKeyPerTimestamp":
      return "uniqueKeyPerTimestamp()";
    case "maxNullFraction":
      return `maxNullFraction(${e.column}, ${e.fraction})`;
    case "rowCount":
      return `rowCount(${bounds(e)})`;
    case "fresh":
      return `fresh(${e.maxAge / 3_600_000}h)`;
    case "meanBetween":
      return `meanBetween(${e.column}, ${bounds(e)})`;
    case "stddevBetween":
      return `stddevBetween(${e.column}, ${bounds(e)})`;
    case "psi":
      return `psi(${e.column}, max ${e.max})`;
  }
}
