/**
 * The CLI as users run it, in subprocesses: the demo end to end in a copy of the feature
 * repo, exit codes (2 usage, 3 invalid definitions), historical, and serve answering
 * HTTP then stopping on SIGTERM.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serverUrl } from "./helpers/server-url.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "larder-cli-"));
cpSync(resolve(import.meta.dir, "../features"), join(dir, "features"), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function larder(args: string[], cwd = dir) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LARDER_PORT: "0" } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

describe("larder CLI", () => {
  test("demo --no-serve: data, apply, materialize, lookups, training set, no model from too little fraud", async () => {
    const r = await larder(["demo", "--no-serve", "--users", "80"]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("+ feature view user_transactions @");
    expect(r.stdout).toContain("+ feature service fraud_detection");
    expect(r.stdout).toMatch(/user_transactions@\w+: \d+ events → 80 entities/);
    expect(r.stdout).toMatch(/424242 +missing +missing/);
    expect(r.stdout).toMatch(/\d+ rows × 17 columns/);
    expect(existsSync(join(dir, "data", "training_set.parquet"))).toBe(true);
    // 80 users' few frauds leave none after the time split: the demo says so and goes on.
    expect(r.stdout).toContain(
      "6. Training the fraud model (service fraud_scoring: stored and on-demand features)\n   no model: both the training and the test rows need positive labels",
    );
    expect(existsSync(join(dir, "data", "models", "fraud.json"))).toBe(false);
  });

  test("plan after apply shows no changes; historical writes a training set", async () => {
    expect((await larder(["plan"])).stdout).toContain("No changes");
    const out = join(dir, "train.parquet");
    const r = await larder(["historical", "--entities", "data/fraud_labels.parquet", "--service", "fraud_detection", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+ rows, 17 columns in [\d.]+ s → /);
    expect(r.stdout).toContain("avg_spend_7d");
    expect(existsSync(out)).toBe(true);
  });

  test("materialize --incremental runs from the watermark", async () => {
    const r = await larder(["materialize", "--incremental"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/user_transactions +\w+ +incremental +0 +0/);
  });

  test("exit codes: 2 for usage, 3 for invalid definitions", async () => {
    const unknown = await larder(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const flag = await larder(["materialize", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("larder materialize: Unknown option '--bogus'");
    const hist = await larder(["historical", "--service", "fraud_detection"]);
    expect(hist.code).toBe(2);
    expect(hist.stderr).toContain("--entities <label table> is required");
    const bad = mkdtempSync(join(tmpdir(), "larder-cli-bad-"));
    cpSync(join(dir, "features"), join(bad, "features"), { recursive: true });
    writeFileSync(join(bad, "features", "broken.ts"), `import { featureView } from "larder"; export const v = featureView({ name: "Bad Name", features: {} } as never);`);
    const invalid = await larder(["apply"], bad);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('features/broken.ts "Bad Name"');
    expect(invalid.stderr).toContain("must be lower_snake_case");
    expect(existsSync(join(bad, "data", "registry.json"))).toBe(false);
    rmSync(bad, { recursive: true, force: true });
  });

  test("demo refuses another project's features/ before writing anything", async () => {
    const other = mkdtempSync(join(tmpdir(), "larder-cli-other-"));
    expect((await larder(["init", other])).code).toBe(0);
    const demo = await larder(["demo", "--no-serve", "--users", "50"], other);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toBe(
      `larder demo: features/ in ${other} is not the fraud demo's: it does not define the feature services fraud_detection and fraud_scoring. Run the demo in an empty folder (it writes the demo's definitions there)\n`,
    );
    expect(existsSync(join(other, "data", "transactions.parquet"))).toBe(false);
    expect(existsSync(join(other, "data", "registry.json"))).toBe(false);
    rmSync(other, { recursive: true, force: true });
  });

  test("serve answers lookups and stops on SIGTERM", async () => {
    const p = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const url = await serverUrl(p);
    const res = await fetch(`${url}/v1/features/online`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "fraud_detection", entities: { user_id: [1], merchant_id: [1] } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.results[0].statuses.avg_spend_7d).toBe("present");
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  test("rough edges: one error prefix, syntax errors with line and column, --repo first, busy port, early-closed pipe", async () => {
    const flag = await larder(["materialize", "--bogus"]);
    expect(flag.stderr).not.toContain("larder materialize: larder materialize");
    const runs = await larder(["runs", "--limit", "x"]);
    expect(runs.stderr.match(/larder runs:/g)?.length).toBe(1);

    const bad = mkdtempSync(join(tmpdir(), "larder-cli-syntax-"));
    cpSync(join(dir, "features"), join(bad, "features"), { recursive: true });
    writeFileSync(join(bad, "features", "broken.ts"), `import { z } from "zod";\nexport const x = z.object({ a: z.number( });\n`);
    const syntax = await larder(["plan"], bad);
    expect(syntax.code).toBe(3);
    expect(syntax.stderr).toMatch(/features\/broken\.ts:2:\d+: /);
    expect(syntax.stderr).toContain("export const x = z.object({ a: z.number( });");
    expect(syntax.stderr).toMatch(/\n\s*\^/);
    expect(syntax.stderr).not.toMatch(/\n\s+at /);

    // Global options before the command, as with git -C.
    const first = await larder(["--repo", dir, "plan"], tmpdir());
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/No changes: the registry matches features\/\.|\+ feature view user_transactions @/);

    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const busy = await larder(["serve", "--host", "127.0.0.1", "--port", String(taken.port)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(`larder serve: port ${taken.port} is already in use on 127.0.0.1: stop what listens there, or choose another with --port (LARDER_PORT)\n`);
    } finally {
      taken.stop(true);
    }

    // `larder historical … | head -1`: the reader goes away; the command ends quietly.
    const historical = `"${process.execPath}" "${MAIN}" historical --entities data/fraud_labels.parquet --service fraud_detection`;
    const piped = Bun.spawn(["bash", "-c", `set -o pipefail; ${historical} | head -1 >/dev/null; echo "exit $?" >&2`], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const pipedErr = await new Response(piped.stderr).text();
    await piped.exited;
    expect(pipedErr).not.toContain("EPIPE");
    expect(pipedErr).toContain("exit 0");
    rmSync(bad, { recursive: true, force: true });
  });
});
