/**
 * Historical retrieval with on-demand features: the stored features (and those the
 * functions read) are retrieved point-in-time as usual, under full names; then each label
 * row's request columns and input features go through the same function as online
 * (online/on-demand.ts), and the set is rebuilt with the requested columns, in order.
 */
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { BadRequestError } from "../errors.ts";
import { computeOnDemand, fullName, inputColumns, onDemandOf, storedRefs } from "../online/on-demand.ts";
import type { Registry } from "../registry/registry.ts";
import { type Duck, ident, literal } from "./duckdb.ts";
import { getHistoricalFeatures, TRAINING_SET_TABLE, writeTrainingSet, type HistoricalRequest, type HistoricalResult } from "./historical.ts";
import type { OfflineContext } from "./offline-context.ts";

export async function historicalWithOnDemand(duck: Duck, registry: Registry, ctx: OfflineContext, req: HistoricalRequest): Promise<HistoricalResult> {
  const onDemand = onDemandOf(registry, req.refs);
  if (onDemand.length === 0) return getHistoricalFeatures(duck, registry, ctx, req);
  const { needed } = storedRefs(registry, req.refs, onDemand);
  if (needed.length === 0) throw new BadRequestError("on-demand features over request data alone: ask for at least one stored feature beside them");
  const inner = await getHistoricalFeatures(duck, registry, ctx, { ...req, refs: needed, fullNames: true, outPath: undefined });
  const labelColumns = inner.columns.slice(0, inner.columns.length - needed.length);
  for (const d of onDemand) {
    const missing = d.request.filter((c) => !labelColumns.includes(c.name) && !c.nullable);
    if (missing.length)
      throw new BadRequestError(
        `on-demand feature view "${d.name}" needs request column${missing.length === 1 ? "" : "s"} ${missing.map((c) => `"${c.name}"`).join(", ")} in the label table (it has ${labelColumns.join(", ")})`,
      );
  }
  // Every row through the functions, in label order, reading only the columns they take:
  // by column, not as row objects (a million rows of every column took seconds).
  const inputs = onDemand.map((d) => inputColumns(registry, d));
  const read = [...new Set(onDemand.flatMap((d, j) => [...d.request.map((c) => c.name).filter((c) => labelColumns.includes(c)), ...inputs[j]!.map((i) => i.column)]))];
  // (Functions of request data alone, with none of it in the label table, read nothing but the count.)
  const { rows: count, columns } = await duck.columnsPrepared(`SELECT ${read.length ? read.map(ident).join(", ") : "NULL AS __none"} FROM ${TRAINING_SET_TABLE}`, []);
  const outCols = onDemand.flatMap((d) => d.output.map((c) => ({ name: `${d.name}__${c.name}`, type: c.type })));
  const computed = outCols.map((): unknown[] => new Array(count));
  for (let i = 0; i < count; i++) {
    let k = 0;
    for (const [j, d] of onDemand.entries()) {
      const input: Record<string, unknown> = {};
      for (const c of d.request) input[c.name] = plain(columns[c.name]?.[i]);
      for (const { feature, column } of inputs[j]!) input[feature] = columns[column]![i];
      const result = computeOnDemand(d, input, `label row ${i}`);
      for (const c of d.output) computed[k++]![i] = result[c.name] ?? null;
    }
  }
  // Back into DuckDB one column at a time, each a JSON array (one bound parameter each).
  await duck.run(
    `CREATE OR REPLACE TEMP TABLE __on_demand AS SELECT ${outCols.map((c, k) => `unnest(from_json($${k + 1}::VARCHAR, ${literal(JSON.stringify([DUCKDB_TYPE[c.type]]))})) AS ${ident(c.name)}`).join(", ")}`,
    computed.map((values) => JSON.stringify(values)),
  );
  const names = req.refs.map((r) => (req.fullNames ? fullName(r) : r.feature));
  const select = [...labelColumns.map(ident), ...req.refs.map((r, j) => `${ident(fullName(r))} AS ${ident(names[j]!)}`)];
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${TRAINING_SET_TABLE} AS SELECT ${select.join(", ")} FROM ${TRAINING_SET_TABLE} POSITIONAL JOIN __on_demand`);
  await duck.run("DROP TABLE __on_demand");
  const outputSha256 = req.outPath ? await writeTrainingSet(duck, ctx, req.outPath) : undefined;
  return { rows: inner.rows, columns: [...labelColumns, ...names], views: inner.views, outputSha256, labels: inner.labels };
}

/** DuckDB values as a zod schema of request data expects them (times as ms, big ints as numbers). */
const plain = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === "bigint" ? Number(v) : v);
