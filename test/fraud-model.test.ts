/**
 * The fraud story end to end: larder train on a point-in-time training set (split by
 * time, against a raw-amount baseline), POST /v1/score/fraud, and the replay of held-out
 * transactions through scoring and pushes, whose online AUC equals the offline one.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { predict } from "../src/model/logistic.ts";
import type { ModelFile } from "../src/model/train.ts";
import { createApp } from "../src/server/app.ts";
import { serverUrl } from "./helpers/server-url.ts";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "larder-fraud-"));
cpSync(join(ROOT, "features"), join(dir, "features"), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args, "--repo", dir], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
};
const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the fraud model", () => {
  test("larder train: a time split, test AUC against a baseline, a model file that records versions and the manifest", () => {
    const demo = cli(["demo", "--no-serve", "--users", "300"]);
    expect(demo.code).toBe(0);
    // The demo trains the model with train's defaults, so scoring answers after it.
    expect(demo.stdout).toMatch(/6\. Training the fraud model .*\n {3}test AUC 0\.\d{4} \(the amount alone: 0\.\d{4}\), precision 0\.\d{3}, recall 0\.\d{3} → \S+fraud\.json/);
    const fromDemo = JSON.parse(readFileSync(join(dir, "data", "models", "fraud.json"), "utf8")) as ModelFile;
    expect(fromDemo).toMatchObject({ service: "fraud_scoring", label: "is_fraud" });
    expect(demo.stdout).toContain(`test AUC ${fromDemo.metrics.test.auc.toFixed(4)} (the amount alone: ${fromDemo.metrics.baseline.test.auc.toFixed(4)})`);
    expect(fromDemo.metrics.test.auc).toBeGreaterThan(fromDemo.metrics.baseline.test.auc);
    const r = cli(["train", "--test-fraction", "0.35"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^trained on \d+ rows before \S+, tested on \d+ after \(\d+ positive\)/);
    expect(r.stdout).toMatch(/logistic, 14 features\s+0\.\d{4}/);
    expect(r.stdout).toMatch(/baseline: amount alone\s+0\.\d{4}/);
    const model = JSON.parse(readFileSync(join(dir, "data", "models", "fraud.json"), "utf8")) as ModelFile;
    expect(model).toMatchObject({ kind: "logistic", service: "fraud_scoring", label: "is_fraud" });
    expect(Object.keys(model.versions).sort()).toEqual(["merchant_activity", "transaction_features", "user_transactions"]);
    expect(model.trainingSet.manifest).toBe(`${model.trainingSet.path}.manifest.json`);
    expect(model.metrics.test.auc).toBeGreaterThan(model.metrics.baseline.test.auc);
    expect(model.metrics.test.auc).toBeGreaterThan(0.8);
    expect(model.features.map((f) => f.ref)).toContain("transaction_features:amount_to_avg_7d");
  }, 60_000);

  test("POST /v1/score/fraud: the model over online and on-demand features, with versions; bad input is a 4xx", async () => {
    const larder = new Larder(loadConfig({ repoDir: dir }, {}));
    await larder.loadOnDemandFunctions();
    const app = createApp(larder, () => {});
    const model = JSON.parse(readFileSync(join(dir, "data", "models", "fraud.json"), "utf8")) as ModelFile;
    const res = await app.request("/v1/score/fraud", json({ user_id: 1, merchant_id: 3, amount: 900 }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { probability: number; flagged: boolean; features: Record<string, number | boolean | null>; versions: Record<string, string> };
    // The probability is the model applied to the features the answer names.
    const x = model.features.map((f) => {
      const v = body.features[f.name];
      return typeof v === "boolean" ? (v ? 1 : 0) : (v ?? null);
    });
    expect(body.probability).toBe(predict(model.model, x));
    expect(body.flagged).toBe(body.probability >= model.threshold);
    expect(body.features.amount_to_avg_7d).toBeCloseTo(900 / (body.features.avg_spend_7d as number), 12);
    expect(body.versions).toEqual(model.versions);

    const status = async (path: string, b: unknown) => (await app.request(path, json(b))).status;
    expect(await status("/v1/score/fraud", { user_id: 1, merchant_id: 3 })).toBe(400); // no amount
    expect(await status("/v1/score/fraud", { merchant_id: 3, amount: 5 })).toBe(400); // no user
    expect(await status("/v1/score/fraud", { user_id: 1, merchant_id: 3, amount: 5, card: "x" })).toBe(400);
    expect(await status("/v1/score/fraud", { user_id: "one", merchant_id: 3, amount: 5 })).toBe(400);
    expect(await status("/v1/score/nope", { user_id: 1 })).toBe(404);
    expect(await status("/v1/score/..%2F..%2Fregistry", { user_id: 1 })).toBe(404);
    // A model trained on another version of a view than is applied is refused: that would be skew.
    writeFileSync(join(dir, "data", "models", "stale.json"), JSON.stringify({ ...model, name: "stale", versions: { ...model.versions, user_transactions: "000000000000" } }));
    const stale = await app.request("/v1/score/stale", json({ user_id: 1, merchant_id: 3, amount: 5 }));
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { message: string }).message).toBe(
      `model "stale" was trained on user_transactions@000000000000; user_transactions is now @${model.versions.user_transactions}: retrain it (larder train --name stale)`,
    );
    await larder.close();
  });

  test("larder serve --workers 2: the worker scores by itself, with the primary frozen, as the primary does", async () => {
    const larder = new Larder(loadConfig({ repoDir: dir }, {}));
    await larder.loadOnDemandFunctions();
    const app = createApp(larder, () => {});
    // One instant for every answer: features are as of `at`.
    const txn = { user_id: 7, merchant_id: 2, amount: 640, at: new Date().toISOString() };
    const expected = await (await app.request("/v1/score/fraud", json(txn))).json();
    const unknown = await (await app.request("/v1/score/nope", json(txn))).json();
    await larder.close();
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", "--workers", "2", "--repo", dir], { stdout: "pipe", stderr: "pipe" });
    try {
      const url = await serverUrl(proc);
      // Fresh connections, so that the kernel gives them to either process.
      const ask = (path: string, body: unknown, signal?: AbortSignal) => fetch(`${url}${path}`, { ...json(body), keepalive: false, signal });
      for (let i = 0; i < 6; i++) expect(await (await ask("/v1/score/fraud", txn)).json()).toEqual(expected);
      // Frozen, the primary answers nothing: whatever is answered now, the worker answered.
      process.kill(proc.pid, "SIGSTOP");
      const answers: { status: number; body: unknown }[] = [];
      try {
        for (let i = 0; i < 16; i++) {
          const [path, body] = i % 2 ? ["/v1/score/nope", txn] : ["/v1/score/fraud", txn];
          const res = await ask(path, body, AbortSignal.timeout(500)).catch(() => undefined);
          if (res) answers.push({ status: res.status, body: await res.json() });
        }
      } finally {
        process.kill(proc.pid, "SIGCONT");
      }
      expect(answers.length).toBeGreaterThan(0);
      for (const a of answers) expect(a).toEqual(a.status === 200 ? { status: 200, body: expected } : { status: 404, body: unknown });
      const bad = await ask("/v1/score/fraud", { user_id: 7, merchant_id: 2 });
      expect(bad.status).toBe(400);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 60_000);

  test("replaying held-out transactions through scoring and pushes: online AUC equals offline, probability by probability", () => {
    const p = Bun.spawnSync([process.execPath, join(ROOT, "scripts/simulate.ts"), "300", "0.35", "2500"], { stdout: "pipe", stderr: "pipe" });
    expect(p.exitCode).toBe(0);
    const lines = p.stdout.toString().trim().split("\n");
    const result = JSON.parse(lines.at(-1)!) as { onlineAuc: number; offlineAuc: number; maxGap: number; transactions: number; frauds: number };
    expect(result.transactions).toBe(2500);
    expect(result.frauds).toBeGreaterThan(0);
    expect(result.onlineAuc).toBe(result.offlineAuc);
    expect(result.maxGap).toBeLessThan(1e-9);
  }, 120_000);
});
