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
import { getHistoricalFeatures, writeTrainingSet, type HistoricalRequest, type HistoricalResult } from "./historical.ts";
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
    if (missing.length) throw new BadRequestError(`on-demand feature view "${d.name}" needs request column${missing.length === 1 ? "" : "s"} ${missing.map((c) => `"${c.name}"`).join(", ")} in the label table (it has ${labelColumns.join(", ")})`);
  }
  // Every row through the functions, in label order.
  const rows = await duck.all("SELECT * FROM __training_set");
  // Once, not per label row: each function's inputs, with the columns they are read from.
  const inputs = onDemand.map((d) => inputColumns(registry, d));
  const computed = rows.map((row, i) => {
    const out: Record<string, unknown> = {};
    for (const [j, d] of onDemand.entries()) {
      const input: Record<string, unknown> = Object.fromEntries(d.request.map((c) => [c.name, plain(row[c.name])]));
      for (const { feature, column } of inputs[j]!) input[feature] = row[column];
      const result = computeOnDemand(d, input, `label row ${i}`);
      for (const c of d.output) out[`${d.name}__${c.name}`] = result[c.name] ?? null;
    }
    return out;
  });
  const outCols = onDemand.flatMap((d) => d.output.map((c) => ({ name: `${d.name}__${c.name}`, type: c.type })));
  const structure = JSON.stringify([Object.fromEntries(outCols.map((c) => [c.name, DUCKDB_TYPE[c.type]]))]);
  await duck.run(`CREATE OR REPLACE TEMP TABLE __on_demand AS SELECT unnest(from_json($1::VARCHAR, ${literal(structure)}), recursive := true)`, [JSON.stringify(computed)]);
  const names = req.refs.map((r) => (req.fullNames ? fullName(r) : r.feature));
  const select = [
    ...labelColumns.map(ident),
    ...req.refs.map((r, j) => `${ident(fullName(r))} AS ${ident(names[j]!)}`),
  ];
  await duck.run(`CREATE OR REPLACE TEMP TABLE __training_set AS SELECT ${select.join(", ")} FROM __training_set POSITIONAL JOIN __on_demand`);
  await duck.run("DROP TABLE __on_demand");
  const outputSha256 = req.outPath ? await writeTrainingSet(duck, ctx, req.outPath) : undefined;
  return { rows: inner.rows, columns: [...labelColumns, ...names], views: inner.views, outputSha256, labels: inner.labels };
}

/** DuckDB values as a zod schema of request data expects them (times as ms, big ints as numbers). */
const plain = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === "bigint" ? Number(v) : v);
