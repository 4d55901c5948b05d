/**
 * The fraud story replayed: the demo's data with its views over a push source, a model
 * trained on the earlier transactions (larder train), then the held-out later ones replayed
 * in time order through the live server: each is scored (POST /v1/score/fraud, as of its
 * own time) and then pushed, so the next one sees it. The online AUC must match the
 * offline test AUC, and every transaction's online probability its offline one: no
 * training/serving skew.
 *   bun scripts/simulate.ts [users=1000] [test-fraction=0.2] [replay=all]
 * `replay`: only the first N held-out transactions (a quicker check; the offline AUC is
 * then taken over the same N).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Duck, literal } from "../src/offline/duckdb.ts";
import { auc } from "../src/model/evaluate.ts";
import { modelInput, predict } from "../src/model/logistic.ts";
import { modelPath, type ModelFile } from "../src/model/train.ts";
import { MAIN, pushRepo, serveRepo } from "./bench/push-repo.ts";

const users = Number(process.argv[2] ?? 1000);
const testFraction = Number(process.argv[3] ?? 0.2);
const limit = process.argv[4] ? Number(process.argv[4]) : Infinity;

const cli = (dir: string, args: string[]) => {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args, "--repo", dir], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`larder ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
};

const dir = pushRepo("larder-simulate-", users);
// The server and the repo go away whatever happens, a failed check included.
let server: Awaited<ReturnType<typeof serveRepo>>["server"] | undefined;
try {
  console.log(cli(dir, ["train", "--test-fraction", String(testFraction)]).trim());
  const model = (await Bun.file(modelPath(join(dir, "data"), "fraud")).json()) as ModelFile;
  const cutoff = Date.parse(model.trainingSet.cutoff);

  // The online store as of the cut: a full run up to it; later transactions arrive by push.
  cli(dir, ["materialize", "--end", model.trainingSet.cutoff]);

  const duck = await Duck.open();
  const replay = await duck.all<{ transaction_id: string; user_id: number; merchant_id: number; amount: number; account_balance: number; ts: Date; is_fraud: boolean }>(
    `SELECT * FROM read_parquet(${literal(join(dir, "data", "transactions.parquet"))}) WHERE ts >= make_timestamp(${cutoff} * 1000) ORDER BY ts, transaction_id${Number.isFinite(limit) ? ` LIMIT ${Math.trunc(limit)}` : ""}`,
  );
  // The offline probability of each test transaction, from the training set the model was tested on.
  const offline = new Map(
    (await duck.all(`SELECT * FROM read_parquet(${literal(model.trainingSet.path)}) WHERE event_timestamp >= make_timestamp(${cutoff} * 1000)`)).map((r) => [
      r.transaction_id as string,
      predict(
        model.model,
        model.features.map((f) => modelInput(r[f.name])),
      ),
    ]),
  );
  duck.close();

  const served = await serveRepo(dir);
  server = served.server;
  const { url } = served;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const scores: number[] = [];
  const labels: number[] = [];
  const latencies: number[] = [];
  let maxGap = 0;
  const began = performance.now();
  for (const t of replay) {
    const at = t.ts.getTime();
    const t0 = performance.now();
    const scored = await post("/v1/score/fraud", { user_id: t.user_id, merchant_id: t.merchant_id, amount: t.amount, at });
    latencies.push(performance.now() - t0);
    const p = scored.probability as number;
    scores.push(p);
    labels.push(t.is_fraud ? 1 : 0);
    maxGap = Math.max(maxGap, Math.abs(p - offline.get(t.transaction_id)!));
    await post("/v1/push", { source: "transactions_push", rows: [{ ...t, ts: at }], to: "online" });
  }
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.floor(p * (latencies.length - 1))]!.toFixed(2);
  const onlineAuc = auc(scores, labels);
  // The offline AUC over exactly the transactions replayed (all of the test rows, unless limited).
  const offlineAuc = auc(
    replay.map((t) => offline.get(t.transaction_id)!),
    labels,
  );
  console.log(`replayed ${replay.length} held-out transactions (${labels.filter(Boolean).length} fraudulent) in ${seconds.toFixed(1)} s: scored as of their own time, then pushed`);
  console.log(`scoring latency: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
  console.log(
    `online AUC ${onlineAuc.toFixed(6)} vs offline AUC ${offlineAuc.toFixed(6)} over the same transactions (the model's whole test set: ${model.metrics.test.auc.toFixed(6)}); largest gap between a transaction's online and offline probability: ${maxGap.toExponential(2)}`,
  );
  console.log(
    JSON.stringify({ onlineAuc, offlineAuc, testAuc: model.metrics.test.auc, maxGap, transactions: replay.length, frauds: labels.filter(Boolean).length, p99Ms: Number(q(0.99)) }),
  );
} finally {
  server?.kill("SIGTERM");
  await server?.exited;
  rmSync(dir, { recursive: true, force: true });
}
