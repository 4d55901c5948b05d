/**
 * The SQL that turns a view's offline events in [from, to) into one row per entity:
 * the latest row, lifetime statistics and tile series, laid out as online/record-codec.ts
 * stores them. Tiles are cut at multiples of each series' hop (windows/window-math.ts).
 */
import type { ResolvedView } from "../registry/registry.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { align } from "../windows/window-math.ts";
import { FULL_SHAPE, type TileShape } from "../windows/tile-stats.ts";
import { ident, literal } from "../offline/duckdb.ts";
import { inputColumn } from "../offline/offline-table.ts";

const ORDER_KEY = "(__ts::HUGEINT * 1099511627776 + __seq)";

/** A tile of x: start and count, then the statistics `shape` keeps, in its order, empty ones as the codec expects. */
function statsList(x: string, startExpr: string, shape: TileShape): string {
  const at: string[] = [startExpr, `count(${x})`];
  if (shape.sum >= 0) at[shape.sum] = `coalesce(sum(${x}), 0)`;
  if (shape.sumSq >= 0) at[shape.sumSq] = `coalesce(sum(${x} * ${x}), 0)`;
  if (shape.min >= 0) at[shape.min] = `coalesce(min(${x}), 'inf'::DOUBLE)`;
  if (shape.max >= 0) at[shape.max] = `coalesce(max(${x}), '-inf'::DOUBLE)`;
  if (shape.lastTs >= 0) at[shape.lastTs] = `coalesce(max(__ts) FILTER (WHERE ${x} IS NOT NULL), '-inf'::DOUBLE)`;
  if (shape.last >= 0) at[shape.last] = `coalesce(arg_max(${x}, __ord), 'nan'::DOUBLE)`;
  return `[${at.join(", ")}]::DOUBLE[]`;
}

/** `onlyOffline`: leave out pushed rows that were already applied online (incremental runs). */
export function recordSql(v: ResolvedView, offlineTablePath: string, from: number, to: number, onlyOffline = false): string {
  const layout = viewLayout(v.def);
  const keys = v.entity.joinKeys.map((k) => ident(k.name));
  const keyList = keys.join(", ");
  const rowStruct = layout.expressions.length ? `struct_pack(${layout.expressions.map((e) => `${ident(e.name)} := ${ident(e.name)}`).join(", ")})` : "NULL";
  const parts: string[] = [];
  const selects: string[] = [];
  layout.lifetime.forEach((l, i) => {
    parts.push(`__life_${i} AS (SELECT ${keyList}, ${statsList(inputColumn(l.input), "0", FULL_SHAPE)} AS __l FROM __ev GROUP BY ALL)`);
    selects.push(`__life_${i}.__l AS __life_${i}`);
  });
  layout.series.forEach((s, i) => {
    const keepFrom = align(to - s.retention, s.hop);
    const x = inputColumn(s.input);
    parts.push(`__tiles_${i} AS (
      SELECT ${keyList}, flatten(list(__tile ORDER BY __start)) AS __s FROM (
        SELECT ${keyList}, __start, ${statsList(x, "__start", s.shape)} AS __tile
        FROM (SELECT *, (__ts // ${s.hop}) * ${s.hop} AS __start FROM __ev WHERE __ts >= ${keepFrom})
        GROUP BY ${keyList}, __start HAVING count(${x}) > 0
      ) GROUP BY ALL)`);
    selects.push(`coalesce(__tiles_${i}.__s, []::DOUBLE[]) AS __series_${i}`);
  });
  const joins = [...layout.lifetime.map((_, i) => `__life_${i}`), ...layout.series.map((_, i) => `__tiles_${i}`)].map((t) => `LEFT JOIN ${t} USING (${keyList})`).join(" ");
  return `
WITH __ev AS (
  SELECT *, ${ORDER_KEY} AS __ord FROM read_parquet(${literal(offlineTablePath)}) WHERE __ts >= ${from} AND __ts < ${to}${onlyOffline ? " AND NOT __online" : ""}
), __latest AS (
  SELECT ${keyList}, max(__ts) AS __last_ts, arg_max(${rowStruct}, __ord) AS __row FROM __ev GROUP BY ALL
)${parts.map((p) => `, ${p}`).join("")}
SELECT ${keyList}, __last_ts, __row${selects.map((s) => `, ${s}`).join("")}
FROM __latest ${joins}`;
}
