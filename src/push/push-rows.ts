/**
 * Pushed rows against the push source's schema (its file source's columns): every value
 * checked and normalized (timestamps to epoch ms), before anything is written. A batch
 * with one bad row is refused whole, with the row and field at fault.
 */
import { BadRequestError } from "../errors.ts";
import type { SourceDef } from "../definitions/types.ts";
import { isValidUnicode, LIMITS } from "../input-limits.ts";
import { INSTANT_RANGE, inInstantRange } from "../time.ts";

export type PushedRow = Record<string, string | number | boolean | null>;

const MAX_REPORTED = 5;

/**
 * Feast's `df` (column → values) as rows, as Feast's server reads it with pandas: a scalar
 * is repeated down the rows of the list columns, and columns outside `keep` (the push
 * source's schema) are left out. No rows is an empty list: nothing to push.
 */
export function columnsToRows(df: Record<string, unknown>, keep?: ReadonlySet<string>): unknown[] {
  // Every column counts for the shape (as pandas builds the frame); then the extra ones go.
  const all = Object.keys(df);
  const names = all.filter((n) => !keep || keep.has(n));
  const lists = all.filter((n) => Array.isArray(df[n]));
  if (lists.length === 0 && all.length > 0)
    throw new BadRequestError(`df: every column is a single value; give at least one column as a list of values, one per row`, "invalid_rows");
  const n = lists.length ? (df[lists[0]!] as unknown[]).length : 0;
  const uneven = lists.find((name) => (df[name] as unknown[]).length !== n);
  if (uneven !== undefined)
    throw new BadRequestError(`df: every column needs the same number of values ("${lists[0]}" has ${n}, "${uneven}" has ${(df[uneven] as unknown[]).length})`, "invalid_rows");
  const column = (name: string) => (Array.isArray(df[name]) ? (df[name] as unknown[]) : null);
  const columns = names.map(column);
  return Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((name, c) => [name, columns[c] ? columns[c]![i] : df[name]])));
}

export function validateRows(source: SourceDef, pushSource: string, rows: unknown[], eventIdField: string | null): PushedRow[] {
  const problems: string[] = [];
  const columns = new Map(source.schema.map((c) => [c.name, c]));
  const out: PushedRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length && problems.length < MAX_REPORTED; i++) {
    const row = rows[i];
    // Messages are built only for problems: this runs for every field of every pushed row.
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      problems.push(`row ${i}: must be an object of column → value, got ${Array.isArray(row) ? "a list" : describe(row)}`);
      continue;
    }
    const fields = row as Record<string, unknown>;
    for (const name in fields) {
      if (!columns.has(name)) problems.push(`row ${i}: unknown field "${clip(name)}" (push source "${pushSource}" has ${[...columns.keys()].join(", ")})`);
    }
    const normalized: PushedRow = {};
    for (const col of source.schema) {
      const value = fields[col.name];
      if (value === undefined || value === null) {
        const required = !col.nullable || col.name === source.timestampField || col.name === eventIdField;
        if (required) problems.push(`row ${i}, field "${col.name}": is missing${value === null ? " (null)" : ""}; it is required`);
        normalized[col.name] = null;
        continue;
      }
      const type = col.name === source.timestampField ? "timestamp" : col.type;
      const v = normalize(type, value);
      const problem = v === undefined ? `expected ${EXPECTED[type]}, got ${describe(value)}` : typeof v === "string" ? stringProblem(v, col.name === eventIdField) : null;
      if (problem) problems.push(`row ${i}, field "${col.name}": ${problem}`);
      else normalized[col.name] = v!;
    }
    out[i] = normalized;
  }
  if (problems.length) {
    throw new BadRequestError(`push to "${pushSource}" refused, nothing was written:\n${problems.map((p) => `  ${p}`).join("\n")}`, "invalid_rows");
  }
  return out;
}

/** What is wrong with a pushed string (its length, its Unicode), or null. */
function stringProblem(s: string, isEventId: boolean): string | null {
  const max = isEventId ? LIMITS.eventIdChars : LIMITS.stringValueChars;
  if (s.length > max) return `${s.length} characters, over the limit of ${max}${isEventId ? " for an event id" : ""}`;
  if (!isValidUnicode(s)) return "not valid Unicode (it holds a lone UTF-16 surrogate)";
  return null;
}

const EXPECTED = {
  int64: "an integer",
  float64: "a number",
  string: "a string",
  bool: "true or false",
  timestamp: `an ISO-8601 time or epoch milliseconds, ${INSTANT_RANGE}`,
} as const;

function normalize(type: keyof typeof EXPECTED, v: unknown): string | number | boolean | undefined {
  switch (type) {
    case "int64":
      if (typeof v === "number" && Number.isSafeInteger(v)) return v;
      if (typeof v === "string" && /^-?\d{1,15}$/.test(v)) return Number(v);
      return undefined;
    case "float64":
      return typeof v === "number" && Number.isFinite(v) ? v : undefined;
    case "string":
      return typeof v === "string" ? v : undefined;
    case "bool":
      return typeof v === "boolean" ? v : undefined;
    case "timestamp": {
      if (typeof v === "number") return Number.isSafeInteger(v) && inInstantRange(v) ? v : undefined;
      if (typeof v !== "string" || v.length > 64 || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
      // No zone means UTC, as everywhere in Larder; microseconds (pandas' format) are cut to ms.
      const iso = v.replace(" ", "T").replace(/(\.\d{3})\d+/, "$1");
      const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
      return Number.isFinite(ms) && inInstantRange(ms) ? ms : undefined;
    }
  }
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return `the string ${JSON.stringify(clip(v))}`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return "a list";
  return typeof v;
}
