/**
 * The point-in-time SQL for one view: every label row gets every feature as of its own
 * timestamp t, with the semantics of windows/window-math.ts:
 * - window aggregations over events with align(t − w, h) ≤ ts < t;
 * - lifetime aggregations over events with ts < t;
 * - latest-value features from the last event with ts < t, and ts ≥ t − ttl when the view
 *   has a ttl (ties at one instant: the later source row wins);
 * - all null when the entity has no event before t.
 * Label rows and events are unioned and ordered by time per entity, so each frame is a
 * RANGE frame with a per-row offset; DuckDB evaluates them with segment trees.
 */
import type { ResolvedView } from "../registry/registry.ts";
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { viewLayout } from "../windows/view-layout.ts";
import type { Aggregation } from "../windows/tile-stats.ts";
import { ident, literal } from "./duckdb.ts";
import { inputColumn } from "./offline-table.ts";

const ORDER_KEY = "(__ts::HUGEINT * 1099511627776 + __seq)";

function aggregateSql(fn: Aggregation, input: string, over: string): string {
  switch (fn) {
    case "count": return `count(${input}) OVER ${over}`;
    case "sum": return `coalesce(sum(${input}) OVER ${over}, 0)`;
    case "mean": return `avg(${input}) OVER ${over}`;
    case "min": return `min(${input}) OVER ${over}`;
    case "max": return `max(${input}) OVER ${over}`;
    case "stddev": return `stddev_samp(${input}) OVER ${over}`;
    case "last": return `arg_max(${input}, __ord) OVER ${over}`;
  }
}

export type PointInTimeOptions = {
  /** Relation with __row, __t (epoch ms) and the entity's join keys. */
  labels: string;
  offlineTablePath: string;
  /** Features to compute, by name, with the column name each gets in the output. */
  features: { name: string; column: string }[];
};

/** A SELECT returning `__row` and one column per requested feature. */
export function pointInTimeSql(v: ResolvedView, opts: PointInTimeOptions): string {
  const layout = viewLayout(v.def);
  const keys = v.entity.joinKeys.map((k) => ident(k.name));
  const partition = `PARTITION BY ${keys.join(", ")} ORDER BY __ts`;
  const wanted = new Set(opts.features.map((f) => f.name));
  const slots = layout.features.filter((f) => wanted.has(f.name));

  // One offset column per distinct (window, hop): how far before t the window starts.
  const offsets: { window: number; hop: number; column: string }[] = [];
  const offsetOf = (window: number, hop: number) => {
    let o = offsets.find((x) => x.window === window && x.hop === hop);
    if (!o) offsets.push((o = { window, hop, column: `__off_${offsets.length}` }));
    return o.column;
  };
  const lifetime = `(${partition} RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;
  const latestFrame = v.def.ttl === null ? lifetime : `(${partition} RANGE BETWEEN ${v.def.ttl} PRECEDING AND 1 PRECEDING)`;
  const expressionNames = layout.expressions.map((e) => e.name);
  const needLatest = slots.some((s) => s.kind === "expression");

  // Raw window values in __w; the outer SELECT nulls them where the entity has no history.
  const columns = slots.map((s) => ({ slot: s, column: ident(opts.features.find((f) => f.name === s.name)!.column) }));
  const windowed: string[] = [];
  for (const { slot: s, column } of columns) {
    if (s.kind === "lifetime") windowed.push(`${aggregateSql(s.fn, inputColumn(layout.lifetime[s.slot]!.input), lifetime)} AS ${column}`);
    if (s.kind === "window") {
      const frame = `(${partition} RANGE BETWEEN ${offsetOf(s.window, s.hop)} PRECEDING AND 1 PRECEDING)`;
      windowed.push(`${aggregateSql(s.fn, inputColumn(layout.series[s.series]!.input), frame)} AS ${column}`);
    }
  }
  const outputs = columns.map(({ slot, column }) =>
    `CASE WHEN __n > 0 THEN ${slot.kind === "expression" ? `__latest[${literal(slot.name)}]` : column} END AS ${column}`);

  const keyCasts = v.entity.joinKeys.map((k) => `CAST(${ident(k.name)} AS ${DUCKDB_TYPE[k.type]}) AS ${ident(k.name)}`);
  const inputs = layout.inputs.map((_, i) => inputColumn(i));
  const rowStruct = expressionNames.length
    ? `struct_pack(${expressionNames.map((n) => `${ident(n)} := ${ident(n)}`).join(", ")})`
    : "NULL";
  // The label side needs a NULL of the same struct type for the UNION.
  const nullRow = expressionNames.length
    ? `CAST(NULL AS STRUCT(${expressionNames.map((n) => `${ident(n)} ${expressionType(v, n)}`).join(", ")}))`
    : "NULL";

  const labelSide = [
    ...keyCasts, "__t AS __ts", "NULL::BIGINT AS __seq", "__row", "NULL::INTEGER AS __ev", "NULL::HUGEINT AS __ord",
    ...inputs.map((c) => `NULL::DOUBLE AS ${c}`),
    `${nullRow} AS __rowdata`,
    ...offsets.map((o) => `(__t - ((__t - ${o.window}) // ${o.hop}) * ${o.hop}) AS ${o.column}`),
  ];
  const eventSide = [
    ...keys, "__ts", "__seq", "NULL::BIGINT AS __row", "1 AS __ev", `${ORDER_KEY} AS __ord`, ...inputs,
    `${rowStruct} AS __rowdata`,
    ...offsets.map((o) => `0::BIGINT AS ${o.column}`),
  ];

  return `
WITH __u AS (
  SELECT ${labelSide.join(", ")} FROM (${opts.labels})
  UNION ALL
  SELECT ${eventSide.join(", ")} FROM read_parquet(${literal(opts.offlineTablePath)})
  WHERE __ts < (SELECT max(__t) FROM (${opts.labels}))
), __w AS (
  SELECT __row,
    count(__ev) OVER ${lifetime} AS __n
    ${needLatest ? `, arg_max(__rowdata, __ord) OVER ${latestFrame} AS __latest` : ""}
    ${windowed.map((c) => `, ${c}`).join("")}
  FROM __u
  QUALIFY __row IS NOT NULL
)
SELECT __row${outputs.map((o) => `, ${o}`).join("")}
FROM __w`;
}

function expressionType(v: ResolvedView, name: string): string {
  const f = v.def.features.find((x) => x.name === name);
  return f && f.kind === "expression" && f.type ? f.type : "VARCHAR";
}
