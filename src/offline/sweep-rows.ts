/**
 * The rows the point-in-time sweep walks: labels and events of the labels' entities, in
 * (entity, time, labels before events at one instant, source order) order, as columns.
 *
 * Offline tables are stored sorted by (keys, __ts, __seq). For an entity with one int64
 * join key that order is numeric, so events are read in file order with no sort and
 * merged here with the (small) sorted label table. Other keys take the general path:
 * DuckDB unions and sorts both.
 */
import type { ResolvedView } from "../registry/registry.ts";
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { type Duck, ident, literal } from "./duckdb.ts";
import { inputColumn } from "./offline-table.ts";

export type SweepRows = {
  /** Equal for rows of one entity, and only there. */
  entity: Float64Array;
  ts: Float64Array;
  /** Label rows: −(__row + 1); events: __seq. */
  idx: Float64Array;
  /** Aggregation inputs by layout input index; NaN for label rows and null values. */
  inputs: Map<number, Float64Array>;
};

export async function loadSweepRows(duck: Duck, v: ResolvedView, offlinePath: string, labelsTable: string, inputs: number[]): Promise<SweepRows> {
  const keys = v.entity.joinKeys;
  if (keys.length === 1 && keys[0]!.type === "int64" && (await keysFitDoubles(duck, ident(keys[0]!.name), offlinePath, labelsTable))) {
    return mergeSorted(duck, ident(keys[0]!.name), offlinePath, labelsTable, inputs);
  }
  return unionAndSort(duck, v, offlinePath, labelsTable, inputs);
}

/** Keys are compared as doubles on the fast path: exact only within ±2^53. */
async function keysFitDoubles(duck: Duck, key: string, offlinePath: string, labelsTable: string): Promise<boolean> {
  const [r] = await duck.all<{ ok: boolean }>(`SELECT coalesce((SELECT max(abs(${key})) FROM read_parquet(${literal(offlinePath)})) <= 9007199254740991
    AND coalesce((SELECT max(abs(TRY_CAST(${key} AS BIGINT))) FROM ${ident(labelsTable)}), 0) <= 9007199254740991, true) AS ok`);
  return r!.ok === true;
}

async function mergeSorted(duck: Duck, key: string, offlinePath: string, labelsTable: string, inputs: number[]): Promise<SweepRows> {
  const [lk, lt, lrow] = (await duck.readDoubleColumns(
    `SELECT CAST(${key} AS BIGINT)::DOUBLE, __t::DOUBLE, __row::DOUBLE FROM ${ident(labelsTable)} ORDER BY 1, 2, 3`,
  )) as [Float64Array, Float64Array, Float64Array];
  const maxT = lt.reduce((m, t) => (t > m ? t : m), -Infinity);
  const [ek, et, eseq, ...ex] = await duck.readDoubleColumns(
    `SELECT ${key}::DOUBLE, __ts::DOUBLE, __seq::DOUBLE${inputs.map((i) => `, ${inputColumn(i)}`).join("")}
     FROM read_parquet(${literal(offlinePath)}) WHERE __ts < ${maxT}`,
  );
  const nL = lk.length;
  const nE = ek!.length;
  const out = newRows(nL + nE, inputs);
  let n = 0;
  let i = 0;
  let j = 0;
  while (j < nL) {
    const k = lk[j]!;
    while (i < nE && ek![i]! < k) i++;
    // One entity: interleave its events and labels by time, labels first at a tie.
    while (j < nL && lk[j] === k) {
      const t = lt[j]!;
      while (i < nE && ek![i] === k && et![i]! < t) {
        out.entity[n] = k;
        out.ts[n] = et![i]!;
        out.idx[n] = eseq![i]!;
        inputs.forEach((input, c) => (out.inputs.get(input)![n] = ex[c]![i]!));
        n++;
        i++;
      }
      out.entity[n] = k;
      out.ts[n] = t;
      out.idx[n] = -(lrow[j]! + 1);
      n++;
      j++;
    }
  }
  return trim(out, n);
}

async function unionAndSort(duck: Duck, v: ResolvedView, offlinePath: string, labelsTable: string, inputs: number[]): Promise<SweepRows> {
  const keys = v.entity.joinKeys.map((k) => ident(k.name));
  const keyCasts = v.entity.joinKeys.map((k) => `CAST(${ident(k.name)} AS ${DUCKDB_TYPE[k.type]}) AS ${ident(k.name)}`).join(", ");
  // Two statements: DuckDB sorts a materialized union much faster than the whole pipeline.
  await duck.run(`CREATE OR REPLACE TEMP TABLE __sweep_rows AS
    WITH __l AS (SELECT ${keyCasts}, __t, __row FROM ${ident(labelsTable)}),
    __ents AS (SELECT ${keys.join(", ")}, row_number() OVER () AS __gid FROM (SELECT DISTINCT ${keys.join(", ")} FROM __l))
    SELECT __gid, __t AS __ts, 0 AS __kind, -(__row + 1) AS __idx${inputs.map((i) => `, NULL::DOUBLE AS ${inputColumn(i)}`).join("")}
    FROM __l JOIN __ents USING (${keys.join(", ")})
    UNION ALL
    SELECT __gid, __ts, 1, __seq${inputs.map((i) => `, ${inputColumn(i)}`).join("")}
    FROM read_parquet(${literal(offlinePath)}) JOIN __ents USING (${keys.join(", ")})
    WHERE __ts < (SELECT max(__t) FROM __l)`);
  const [entity, ts, idx, ...x] = await duck.readDoubleColumns(`
    SELECT __gid::DOUBLE, __ts::DOUBLE, __idx::DOUBLE${inputs.map((i) => `, ${inputColumn(i)}`).join("")}
    FROM __sweep_rows ORDER BY __gid, __ts, __kind, __idx`);
  await duck.run("DROP TABLE __sweep_rows");
  return { entity: entity!, ts: ts!, idx: idx!, inputs: new Map(inputs.map((input, c) => [input, x[c]!])) };
}

function newRows(capacity: number, inputs: number[]): SweepRows {
  return {
    entity: new Float64Array(capacity), ts: new Float64Array(capacity), idx: new Float64Array(capacity),
    inputs: new Map(inputs.map((i) => [i, new Float64Array(capacity).fill(NaN)])),
  };
}

const trim = (r: SweepRows, n: number): SweepRows => ({
  entity: r.entity.subarray(0, n), ts: r.ts.subarray(0, n), idx: r.idx.subarray(0, n),
  inputs: new Map([...r.inputs].map(([k, a]) => [k, a.subarray(0, n)])),
});
