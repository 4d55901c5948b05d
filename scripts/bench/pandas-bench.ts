/**
 * The classic pandas feature pipeline (scripts/bench/pandas_pipeline.py, Debian's
 * python3-pandas, CSV input) against the same features as a Larder view, from the same
 * CSV files to a training set for the same labels, alternated in one run.
 *   bun scripts/bench/pandas-bench.ts [transactions=1000000] [labels=200000]
 */
import { benchResults } from "./bench-tools.ts";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { Duck, literal } from "../../src/offline/duckdb.ts";
import { DAY, END, machine } from "./bench-repo.ts";

const events = Number(process.argv[2] ?? 1_000_000);
const labelRows = Number(process.argv[3] ?? 200_000);
const users = Math.max(100, Math.round(events / 100));
const dir = join(tmpdir(), "larder-bench", `pandas-${events}`);
mkdirSync(join(dir, "features"), { recursive: true });
mkdirSync(join(dir, "data"), { recursive: true });
const txPath = join(dir, "data", "transactions.csv");
const labelsPath = join(dir, "data", "labels.csv");
if (!existsSync(txPath)) {
  const duck = await Duck.open();
  const start = END - 90 * DAY;
  await duck.run(`COPY (SELECT (hash(i) % ${users} + 1)::BIGINT AS user_id, round(exp(random() * 3 + 1), 2) AS amount,
      round(random() * 5000, 2) AS account_balance, make_timestamp((${start}::BIGINT + (random() * ${90 * DAY})::BIGINT) * 1000) AS ts
    FROM range(${events}) t(i)) TO ${literal(txPath)} (HEADER)`);
  await duck.run(`COPY (SELECT (hash(i * 13 + 1) % ${users} + 1)::BIGINT AS user_id,
      make_timestamp((${start}::BIGINT + (random() * ${90 * DAY})::BIGINT) * 1000) AS event_timestamp, (random() < 0.01)::INT AS label
    FROM range(${labelRows}) t(i)) TO ${literal(labelsPath)} (HEADER)`);
  duck.close();
}
writeFileSync(
  join(dir, "features", "spend.ts"),
  `
import { entity, fileSource, featureView, featureService, mean, sql } from "larder";
import { z } from "zod";
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const tx = fileSource({ name: "tx", path: "data/transactions.csv", timestampField: "ts",
  schema: z.object({ user_id: z.int(), amount: z.number(), account_balance: z.number(), ts: z.date() }) });
export const spend = featureView({ name: "spend", entity: user, source: tx, features: {
  mean_amount_lifetime: mean("amount", "lifetime"),
  mean_amount_7d: mean("amount", "7d"),
  transaction_ratio: sql("amount / (account_balance + 1)"),
} });
export const svc = featureService({ name: "pandas_equivalent", features: [spend] });
`,
);

async function larderRun(): Promise<number> {
  rmSync(join(dir, "data", "offline"), { recursive: true, force: true });
  const larder = new Larder(loadConfig({ repoDir: dir }, {}));
  await larder.apply();
  const refs = larder.registry().service("pandas_equivalent").features;
  const t0 = performance.now();
  // From the CSV: the offline table is rebuilt (deleted above), then the training set.
  const result = await larder.historical({ labelsPath, refs });
  const seconds = (performance.now() - t0) / 1000;
  if (result.rows !== labelRows) throw new Error(`expected ${labelRows} rows, got ${result.rows}`);
  await larder.close();
  return seconds;
}

async function pandasRun(): Promise<number> {
  const p = Bun.spawn(["/usr/bin/python3", resolve(import.meta.dir, "pandas_pipeline.py"), txPath, labelsPath], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error("pandas pipeline failed (is python3-pandas installed? apt-get install python3-pandas)");
  const r = JSON.parse(out) as { seconds: number; rows: number };
  if (r.rows !== labelRows) throw new Error(`pandas: expected ${labelRows} rows, got ${r.rows}`);
  return r.seconds;
}

console.log(`machine: ${machine()}; ${events.toLocaleString()} transactions of ${users.toLocaleString()} users (CSV), ${labelRows.toLocaleString()} label rows`);
const results = benchResults("pandas", { transactions: events, labels: labelRows }, machine());
const ratios: number[] = [];
for (let round = 1; round <= 2; round++) {
  const pandas = await pandasRun();
  const larder = await larderRun();
  ratios.push(pandas / larder);
  results.add(`round ${round}: pandas, s`, pandas);
  results.add(`round ${round}: Larder, s`, larder);
  console.log(`round ${round}: pandas ${pandas.toFixed(2)} s | larder ${larder.toFixed(2)} s | larder ${(pandas / larder).toFixed(1)}× faster`);
}
results.add("Larder / pandas speed, lower of two rounds, ×", Math.min(...ratios));
results.save();
