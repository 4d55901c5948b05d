/**
 * The offline engines side by side on the same data: the demo's fraud features
 * (windows, lifetime aggregations, latest values, a second entity) over synthetic
 * transactions, one training set per size, by DuckDB and by Spark (PySpark, local[*]).
 * Per engine and size, in processes of their own:
 * - cold: the offline tables built and the training set computed (a fresh data folder);
 * - warm: the training set again, from the tables built;
 * seconds and the peak RSS of the whole process tree (Larder, and Spark's Python and JVM),
 * and whether the two training sets are equal, value for value.
 *   npx bun scripts/bench/engine-bench.ts [--sizes 10000:100000,100000:1000000] [--engines duckdb,spark]
 * Needs .venvs/spark (python3 -m venv .venvs/spark && .venvs/spark/bin/pip install pyspark==4.0.1).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { Duck, literal } from "../../src/offline/duckdb.ts";
import { benchResults } from "./bench-tools.ts";
import { benchLabels, benchRepo, machine } from "./bench-repo.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "10000:100000,100000:1000000" }, engines: { type: "string", default: "duckdb,spark" } } });
const SIZES = values.sizes!.split(",").map((s) => s.split(":").map(Number) as [number, number]);
const ENGINES = values.engines!.split(",");
const SPARK_PYTHON = resolve(import.meta.dir, "../../.venvs/spark/bin/python");
if (!existsSync(SPARK_PYTHON)) throw new Error(`no PySpark at ${SPARK_PYTHON}: python3 -m venv .venvs/spark && .venvs/spark/bin/pip install pyspark==4.0.1`);
const FEATURES = [
  "user_transactions:last_amount",
  "user_transactions:avg_spend_7d",
  "user_transactions:stddev_spend_7d",
  "user_transactions:txn_count_1h",
  "user_transactions:txn_count_24h",
  "user_transactions:max_amount_30d",
  "user_transactions:lifetime_txn_count",
  "user_transactions:lifetime_spend",
  "merchant_activity:merchant_txn_count_24h",
  "merchant_activity:merchant_avg_amount_7d",
].join(",");

/** RSS in bytes of a process and all its descendants, from /proc. */
function treeRss(pid: number): number {
  try {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
    return rss + children.reduce((sum, c) => sum + treeRss(c), 0);
  } catch {
    return 0; // gone meanwhile
  }
}

type Run = { seconds: number; peakMiB: number; rows: number };

/** One training set in a process of its own, sampling its process tree's RSS. */
async function historical(repoDir: string, dataDir: string, engine: string, labels: string, out: string): Promise<Run> {
  const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "historical-once.ts"), repoDir, labels, out, FEATURES], {
    env: { ...process.env, LARDER_ENGINE: engine, LARDER_DATA_DIR: dataDir, LARDER_SPARK_PYTHON: SPARK_PYTHON, LARDER_SPARK_MASTER: "local[*]" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, treeRss(p.pid));
  }, 100);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${engine} historical failed (exit ${code}): ${stderr.trim().split("\n").slice(-5).join("\n")}`);
  const { seconds, rows } = JSON.parse(stdout.trim().split("\n").at(-1)!) as { seconds: number; rows: number };
  return { seconds, rows, peakMiB: peak / 2 ** 20 };
}

/** Rows where the two training sets differ in any column (floats within 1e-9 relative). */
async function differingRows(a: string, b: string): Promise<{ rows: number; differing: number }> {
  const duck = await Duck.open();
  const columns = (await duck.describe(`SELECT * FROM read_parquet(${literal(a)})`)).map((c) => ({ name: c.name, float: /DOUBLE|FLOAT/.test(c.type) }));
  const differs = columns.map(({ name, float }) => {
    const [x, y] = [`x."${name}"`, `y."${name}"`];
    return float ? `((${x} IS NULL) <> (${y} IS NULL) OR abs(${x} - ${y}) > 1e-9 * greatest(1, abs(${x})))` : `${x} IS DISTINCT FROM ${y}`;
  });
  const [r] = await duck.all<{ rows: bigint; differing: bigint }>(`WITH x AS (SELECT row_number() OVER () AS __r, * FROM read_parquet(${literal(a)})),
      y AS (SELECT row_number() OVER () AS __r, * FROM read_parquet(${literal(b)}))
    SELECT count(*) AS rows, count(*) FILTER (WHERE ${differs.join(" OR ")}) AS differing FROM x JOIN y USING (__r)`);
  duck.close();
  return { rows: Number(r!.rows), differing: Number(r!.differing) };
}

console.log(`machine: ${machine()}`);
// A run of one engine alone (a size the other does not reach here) is kept apart from the side-by-side runs.
const results = benchResults(
  ENGINES.length === 2 ? "engines" : `engines-${ENGINES.join("-")}`,
  { sizes: SIZES.map(([l, e]) => `${l}:${e}`), engines: ENGINES, features: FEATURES.split(",").length, master: "local[*]" },
  machine(),
);
for (const [labelRows, events] of SIZES) {
  const users = Math.max(100, Math.round(events / 100));
  const repo = await benchRepo(`engines-${events}`, events, users);
  const labels = await benchLabels(repo, labelRows);
  await repo.larder.close();
  const key = `${labelRows / 1000}k labels × ${events / 1_000_000}M events`;
  const outs: Record<string, string> = {};
  const runs: Record<string, { cold: Run; warm: Run }> = {};
  for (const engine of ENGINES) {
    const dataDir = join(repo.dir, `data-${engine}`);
    rmSync(dataDir, { recursive: true, force: true });
    const fresh = new Larder(loadConfig({ repoDir: repo.dir, dataDir }, {}));
    await fresh.apply();
    await fresh.close();
    outs[engine] = join(repo.dir, `train-${engine}.parquet`);
    const cold = await historical(repo.dir, dataDir, engine, labels, outs[engine]!);
    const warm = await historical(repo.dir, dataDir, engine, labels, outs[engine]!);
    runs[engine] = { cold, warm };
    console.log(
      `${key}, ${engine}: cold ${cold.seconds.toFixed(1)} s (peak ${cold.peakMiB.toFixed(0)} MiB), warm ${warm.seconds.toFixed(1)} s (peak ${warm.peakMiB.toFixed(0)} MiB)`,
    );
    results.add(`${key}, ${engine}: tables + training set s`, cold.seconds);
    results.add(`${key}, ${engine}: tables + training set peak RSS MiB`, cold.peakMiB);
    results.add(`${key}, ${engine}: training set s`, warm.seconds);
    results.add(`${key}, ${engine}: training set peak RSS MiB`, warm.peakMiB);
  }
  if (!runs.spark || !runs.duckdb) continue;
  results.add(`${key}: Spark / DuckDB time, tables + training set`, runs.spark!.cold.seconds / runs.duckdb!.cold.seconds);
  results.add(`${key}: Spark / DuckDB time, training set`, runs.spark!.warm.seconds / runs.duckdb!.warm.seconds);
  const cmp = await differingRows(outs.duckdb!, outs.spark!);
  console.log(`${key}: ${cmp.differing} of ${cmp.rows} rows differ between the engines`);
  results.add(`${key}: rows differing between engines`, cmp.differing);
}
results.save();
