/**
 * JSON text of Feast's lookup answer with values written by their Feast type, as Feast's
 * server writes them: a DOUBLE or FLOAT is always a JSON float (`1.0`, not `1`) and its
 * non-finite values the strings "NaN", "Infinity", "-Infinity"; an INT64 is an exact JSON
 * integer, also beyond 2^53 (stored as its digits, see online/plain-value.ts).
 */
import type { FeastValueType } from "./value-types.ts";

export type FeastVector = { values: unknown[]; statuses: string[]; event_timestamps: string[] };
export type FeastAnswer = { metadata: { feature_names: string[] }; results: FeastVector[] };

function floatText(v: unknown): string {
  if (typeof v !== "number") return JSON.stringify(v ?? null);
  if (Number.isNaN(v)) return '"NaN"';
  if (!Number.isFinite(v)) return v > 0 ? '"Infinity"' : '"-Infinity"';
  if (Object.is(v, -0)) return "-0.0";
  const s = String(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

function intText(v: unknown): string {
  // Canonical digits only: this text goes into the JSON as it is.
  if (typeof v === "string" && /^-?(0|[1-9]\d{0,18})$/.test(v)) return v;
  return JSON.stringify(v ?? null);
}

function valueText(type: FeastValueType): (v: unknown) => string {
  if (type === "DOUBLE" || type === "FLOAT") return floatText;
  if (type === "INT64" || type === "INT32") return intText;
  return (v) => JSON.stringify(v ?? null);
}

/** `types[j]`: the type of `results[j]` (join keys first, then features). */
export function feastAnswerJson(answer: FeastAnswer, types: readonly FeastValueType[]): string {
  const vectors = answer.results.map((r, j) => {
    const text = valueText(types[j] ?? "INVALID");
    return `{"values":[${r.values.map(text).join(",")}],"statuses":${JSON.stringify(r.statuses)},"event_timestamps":${JSON.stringify(r.event_timestamps)}}`;
  });
  return `{"metadata":${JSON.stringify(answer.metadata)},"results":[${vectors.join(",")}]}`;
}
