/**
 * The fraud demo in one command: generate transactions, apply features/ (the demo's own,
 * written first in a folder that has none), materialize,
 * print online lookups and a training-set summary, train the fraud model (so scoring
 * answers), then serve (unless --no-serve).
 */
import { join } from "node:path";
import type { Command } from "../command.ts";
import type { Larder } from "../../larder.ts";
import { DEMO_SERVICES, writeDemoFeatures } from "../../demo/demo-features.ts";
import { importDefinitionFiles } from "../../definitions/load-definitions.ts";
import { generateTransactions } from "../../demo/generate-transactions.ts";
import { formatPlan } from "../../registry/plan.ts";
import { resolveFeatures, getOnlineFeatures } from "../../online/online-features.ts";
import { BadRequestError, UsageError } from "../../errors.ts";
import { trainDefaults, trainModel } from "../../model/train.ts";
import { startServer } from "../../server/start-server.ts";
import { isoTime } from "../../time.ts";
import { out, progress, table } from "../print.ts";

export const demoCommand: Command = {
  name: "demo",
  summary: "the fraud-detection demo: data → apply → materialize → lookups → training set → model → serve",
  usage: "larder demo [--users 1000] [--no-serve] [--port 6566]",
  options: { users: { type: "string" }, "no-serve": { type: "boolean" }, host: { type: "string" }, port: { type: "string" } },
  flagHelp: {
    users: "card holders to generate (default 1000)",
    "no-serve": "stop after printing, do not serve",
    host: "address to serve on (LARDER_HOST)",
    port: "port to serve on (LARDER_PORT)",
  },
  async run(larder, flags) {
    const users = flags.users ? Number(flags.users) : 1000;
    const duck = await larder.duck();
    let t = performance.now();
    const lap = () => {
      const s = ((performance.now() - t) / 1000).toFixed(2);
      t = performance.now();
      return s;
    };

    // A folder without feature files gets the demo's (as from the single executable, anywhere).
    const written = writeDemoFeatures(larder.config.repoDir);
    if (written.length) out(`Wrote the fraud demo's definitions: ${written.join(", ")}`);
    // Before anything is written: another repo's features would get the demo's data.
    const services = new Set((await importDefinitionFiles(larder.config.repoDir)).filter((d) => d.kind === "featureService").map((d) => d.name));
    const missing = DEMO_SERVICES.filter((s) => !services.has(s));
    if (missing.length)
      throw new UsageError(
        `features/ in ${larder.config.repoDir} is not the fraud demo's: it does not define the feature service${missing.length > 1 ? "s" : ""} ${missing.join(" and ")}. Run the demo in an empty folder (it writes the demo's definitions there)`,
      );
    out("1. Generating transactions");
    const g = await generateTransactions(duck, { users, outDir: larder.config.dataDir });
    out(`   ${g.transactions} transactions of ${g.users} users, ${g.fraud} fraudulent, ${isoTime(g.start)} → ${isoTime(g.end)} (${lap()} s)`);

    out("2. Applying features/");
    const plan = await larder.apply();
    out(
      formatPlan(plan)
        .split("\n")
        .map((l) => (l ? `   ${l}` : ""))
        .join("\n"),
    );

    out("3. Materializing into the online store (LMDB)");
    const shows = new Map<string, ReturnType<typeof progress>>();
    const runs = await larder.materialize({
      onProgress: (p) => {
        if (!shows.has(p.view)) shows.set(p.view, progress(`   ${p.view}`));
        shows.get(p.view)!(p.entities, p.total);
      },
    });
    for (const r of runs) out(`   ${r.view}@${r.version}: ${r.events} events → ${r.entities} entities in ${r.seconds.toFixed(2)} s`);

    out("4. Online lookups (service fraud_detection)");
    const registry = larder.registry();
    const refs = resolveFeatures(registry, { service: "fraud_detection" });
    const lookup = await getOnlineFeatures(registry, larder.store(), { refs, entities: { user_id: [1, 2, 3, 424242], merchant_id: [1, 2, 3, 4] } }, 100);
    const shown = ["transaction_ratio", "avg_spend_7d", "txn_count_24h", "max_amount_30d", "lifetime_txn_count", "merchant_txn_count_24h"];
    out(
      table([
        ["user_id", ...shown],
        ...lookup.results.map((r) => [String(r.entity.user_id), ...shown.map((f) => (r.statuses[f] === "present" ? fmt(r.values[f]) : r.statuses[f]!))]),
      ])
        .split("\n")
        .map((l) => `   ${l}`)
        .join("\n"),
    );

    out("5. Point-in-time training set for data/fraud_labels.parquet");
    const outPath = join(larder.config.dataDir, "training_set.parquet");
    const hist = await larder.historical({ labelsPath: g.labelsPath, refs, outPath });
    const { columns: s } = await larder.readTrainingSet(
      outPath,
      `avg(is_fraud::INT) AS fraud_rate,
      avg(avg_spend_7d) FILTER (WHERE is_fraud) AS fraud_avg7, avg(avg_spend_7d) FILTER (WHERE NOT is_fraud) AS legit_avg7,
      avg(amount / avg_spend_7d) FILTER (WHERE is_fraud) AS fraud_rel, avg(amount / avg_spend_7d) FILTER (WHERE NOT is_fraud) AS legit_rel,
      avg(txn_count_1h) FILTER (WHERE is_fraud) AS fraud_c1h, avg(txn_count_1h) FILTER (WHERE NOT is_fraud) AS legit_c1h,
      count(*) FILTER (WHERE lifetime_txn_count IS NULL) AS first_txns`,
    );
    out(`   ${hist.rows} rows × ${hist.columns.length} columns → ${outPath} (${lap()} s)`);
    out(`   fraud rate ${(Number(s.fraud_rate![0]) * 100).toFixed(2)} %; ${s.first_txns![0]} first transactions have no history (null features)`);
    out(`   amount / avg_spend_7d: fraud ${fmt(s.fraud_rel![0])} vs legit ${fmt(s.legit_rel![0])}; txn_count_1h: fraud ${fmt(s.fraud_c1h![0])} vs legit ${fmt(s.legit_c1h![0])}`);

    out("6. Training the fraud model (service fraud_scoring: stored and on-demand features)");
    const trained = await trainDemoModel(larder, g.labelsPath);
    if (trained) out(`   ${trained} (${lap()} s)`);

    if (flags["no-serve"]) return;
    const server = startServer(larder);
    const url = `http://${server.hostname}:${server.port}`;
    out(`7. Serving on ${url} (Ctrl-C to stop). Try:`);
    out(`   curl -s ${url}/v1/features/online -H 'content-type: application/json' \\`);
    out(`     -d '{"service":"fraud_detection","entities":{"user_id":[1,2],"merchant_id":[1,2]}}'`);
    if (trained) {
      out(`   curl -s ${url}/v1/score/fraud -H 'content-type: application/json' \\`);
      out(`     -d '{"user_id":1,"merchant_id":3,"amount":900}'`);
    }
    await server.closed;
  },
};

/**
 * `larder train` with its defaults (trainDefaults): one line of test metrics, or null with the reason
 * printed when the data cannot train it (a few users may give no fraud after the split).
 */
async function trainDemoModel(larder: Larder, labels: string): Promise<string | null> {
  try {
    const { file, model, mlflow } = await trainModel(larder, { ...trainDefaults(larder.config.dataDir), labels });
    const { test, baseline } = model.metrics;
    const logged = mlflow ? `; MLflow runs ${mlflow.trainingSetRunId} (training set), ${mlflow.modelRunId} (model)` : "";
    return `test AUC ${test.auc.toFixed(4)} (the amount alone: ${baseline.test.auc.toFixed(4)}), precision ${test.precision.toFixed(3)}, recall ${test.recall.toFixed(3)} → ${file}${logged}`;
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    out(`   no model: ${err.message} (larder train takes other options)`);
    return null;
  }
}

const fmt = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v === null || v === undefined ? "null" : String(v));
