/**
 * What the point-in-time sweep reads, as columns: a view's events sorted by (entity,
 * time, source order) and the label rows sorted by (entity, time, row). Entities are
 * numbers that are equal for one entity and ordered the same way in both.
 *
 * Offline tables are stored sorted by (keys, __ts, __seq). For an entity with one int64
 * join key (within ±2^53) that order is numeric, so events are read in file order with no
 * sort and the key itself is the entity number. Other keys take the general path: DuckDB
 * numbers the labels' entities and sorts the events of those entities.
 */
import type { ResolvedView } from "../registry/registry.ts";
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { type Duck, ident, literal } from "./duckdb.ts";
import { inputColumn } from "./offline-table.ts";

export type SweepEvents = {
  entity: Float64Array;
  ts: Float64Array;
  /** Source order, read only when asked for (to join non-numeric `sql` features back). */
  seq: Float64Array | undefined;
  inputs: Map<number, Float64Array>;
  /** Numeric `sql` feature columns read along, by name. */
  columns: Map<string, Float64Array>;
};
export type SweepLabels = { entity: Float64Array; ts: Float64Array; row: Float64Array };

export async function loadSweepInput(
  duck: Duck,
  v: ResolvedView,
  offlinePath: string,
  labelsTable: string,
  inputs: number[],
  columns: string[],
  withSeq: boolean,
): Promise<{ events: SweepEvents; labels: SweepLabels }> {
  const keys = v.entity.joinKeys;
  // After entity and time: __seq (only when asked for), the inputs, the numeric columns.
  const inputList = [...(withSeq ? ["__seq::DOUBLE"] : []), ...inputs.map((i) => inputColumn(i)), ...columns.map((c) => `${ident(c)}::DOUBLE`)].map((c) => `, ${c}`).join("");
  if (keys.length === 1 && keys[0]!.type === "int64" && (await keysFitDoubles(duck, ident(keys[0]!.name), offlinePath, labelsTable))) {
    const key = ident(keys[0]!.name);
    const labels = await duck.readDoubleColumns(`SELECT CAST(${key} AS BIGINT)::DOUBLE, __t::DOUBLE, __row::DOUBLE FROM ${ident(labelsTable)} ORDER BY 1, 2, 3`);
    const events = await duck.readDoubleColumns(`SELECT ${key}::DOUBLE, __ts::DOUBLE${inputList} FROM read_parquet(${literal(offlinePath)})
      WHERE __ts < (SELECT max(__t) FROM ${ident(labelsTable)})`);
    return shape(events, labels, inputs, columns, withSeq);
  }
  const keyNames = keys.map((k) => ident(k.name)).join(", ");
  const keyCasts = keys.map((k) => `CAST(${ident(k.name)} AS ${DUCKDB_TYPE[k.type]}) AS ${ident(k.name)}`).join(", ");
  await duck.run(`CREATE OR REPLACE TEMP TABLE __sweep_labels AS SELECT ${keyCasts}, __t, __row FROM ${ident(labelsTable)}`);
  await duck.run(`CREATE OR REPLACE TEMP TABLE __sweep_entities AS SELECT ${keyNames}, row_number() OVER () AS __gid FROM (SELECT DISTINCT ${keyNames} FROM __sweep_labels)`);
  const labels = await duck.readDoubleColumns(`SELECT __gid::DOUBLE, __t::DOUBLE, __row::DOUBLE FROM __sweep_labels JOIN __sweep_entities USING (${keyNames}) ORDER BY 1, 2, 3`);
  const events = await duck.readDoubleColumns(`SELECT __gid::DOUBLE, __ts::DOUBLE${inputList}
    FROM read_parquet(${literal(offlinePath)}) JOIN __sweep_entities USING (${keyNames})
    WHERE __ts < (SELECT max(__t) FROM __sweep_labels) ORDER BY __gid, __ts, __seq`);
  await duck.run("DROP TABLE __sweep_labels; DROP TABLE __sweep_entities");
  return shape(events, labels, inputs, columns, withSeq);
}

/** Keys are compared as doubles on the fast path: exact only within ±2^53. */
async function keysFitDoubles(duck: Duck, key: string, offlinePath: string, labelsTable: string): Promise<boolean> {
  const [r] = await duck.all<{ ok: boolean }>(`SELECT coalesce((SELECT max(abs(${key})) FROM read_parquet(${literal(offlinePath)})) <= 9007199254740991
    AND coalesce((SELECT max(abs(TRY_CAST(${key} AS BIGINT))) FROM ${ident(labelsTable)}), 0) <= 9007199254740991, true) AS ok`);
  return r!.ok === true;
}

function shape(events: Float64Array[], labels: Float64Array[], inputs: number[], columns: string[], withSeq: boolean) {
  const [entity, ts, ...rest] = events as [Float64Array, Float64Array, ...Float64Array[]];
  const seq = withSeq ? rest.shift() : undefined;
  const [lEntity, lTs, lRow] = labels as [Float64Array, Float64Array, Float64Array];
  return {
    events: {
      entity,
      ts,
      seq,
      inputs: new Map(inputs.map((input, c) => [input, rest[c]!])),
      columns: new Map(columns.map((name, c) => [name, rest[inputs.length + c]!])),
    },
    labels: { entity: lEntity, ts: lTs, row: lRow },
  };
}
