/**
 * The product as shipped: build dist/larder, copy it alone into an empty folder outside
 * the repo, and there run init → apply → materialize → serve → an HTTP lookup →
 * historical, checking the values against the brute-force reference; and the fraud demo
 * in an empty folder, through scoring. No node_modules,
 * no Bun and no source tree are reachable from that folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Duck } from "../src/offline/duckdb.ts";
import { close, referenceValues, type RefEvent, type RefFeature } from "./helpers/reference.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { SKIP, SPARK_PYTHON } from "./helpers/needs.ts";

const ROOT = resolve(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "larder-exe-"));
const exe = join(dir, "larder");
const repo = join(dir, "repo");
// A bare environment: no Bun, no repo paths; a fresh native-library cache.
const env = { PATH: "/usr/bin:/bin", HOME: dir, LARDER_CACHE_DIR: join(dir, "cache"), LARDER_PORT: "0" };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], cwd = repo) {
  const p = Bun.spawn([exe, ...args], { cwd, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  const build = Bun.spawn([process.execPath, join(ROOT, "scripts/build.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`build failed (${code}):\n${out}\n${err}`);
  copyFileSync(join(ROOT, "dist/larder"), exe);
}, 120_000);

// The example's features, from the reference's semantics (not from the engine).
type DriverRow = { driver: number; ts: number; conv: number; acc: number; trips: number };
function readStats(): { events: RefEvent[]; rows: Map<number, DriverRow> } {
  const lines = readFileSync(join(repo, "data/driver_stats.csv"), "utf8").trim().split("\n").slice(1);
  const rows = new Map<number, DriverRow>();
  const events = lines.map((line, seq) => {
    const [driver, ts, conv, acc, trips] = line.split(",");
    rows.set(seq, { driver: Number(driver), ts: Date.parse(ts!), conv: Number(conv), acc: Number(acc), trips: Number(trips) });
    return { key: Number(driver), ts: Date.parse(ts!), seq, amount: Number(conv), category: "" };
  });
  return { events, rows };
}
const H = 3_600_000;
function features(rows: Map<number, DriverRow>): RefFeature[] {
  const row = (e: RefEvent) => rows.get(e.seq)!;
  return [
    { name: "conv_rate", kind: "latest", value: (e) => row(e).conv },
    { name: "acc_rate", kind: "latest", value: (e) => row(e).acc },
    { name: "avg_daily_trips", kind: "latest", value: (e) => row(e).trips },
    { name: "conv_rate_mean_24h", kind: "window", fn: "mean", window: 24 * H, hop: 5 * 60_000, input: (e) => row(e).conv },
    { name: "max_trips_7d", kind: "window", fn: "max", window: 7 * 24 * H, hop: H, input: (e) => row(e).trips },
    { name: "reports_24h", kind: "window", fn: "count", window: 24 * H, hop: 5 * 60_000, input: () => 1 },
    { name: "reports_lifetime", kind: "lifetime", fn: "count", input: () => 1 },
  ];
}

describe("the executable, alone in a folder", () => {
  test("nothing to borrow: no node_modules or package.json above the folder", () => {
    for (let d = dir; ; d = dirname(d)) {
      expect(existsSync(join(d, "node_modules"))).toBe(false);
      expect(existsSync(join(d, "package.json"))).toBe(false);
      if (d === dirname(d)) break;
    }
    expect(readdirSync(dir).sort()).toEqual(["larder"]);
  });

  test("version names Larder, Bun and DuckDB; the native libraries land in the cache", async () => {
    const r = await run(["version"], dir);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^larder \d+\.\d+\.\d+\nbun \d+\.\d+\.\d+\nduckdb v\d+\.\d+\.\d+\n$/);
    expect(readdirSync(join(dir, "cache")).sort()).toEqual([expect.stringMatching(/^lmdb-linux-x64-/), expect.stringMatching(/^node-bindings-linux-x64-/)]);
  });

  test("three copies starting at once on an empty cache all run; an unwritable cache falls back to temp", async () => {
    const cache = join(dir, "race-cache");
    const starts = [1, 2, 3].map(() => Bun.spawn([exe, "version"], { cwd: dir, env: { ...env, LARDER_CACHE_DIR: cache }, stdout: "pipe", stderr: "pipe" }));
    for (const p of starts) {
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stderr).text()).toBe("");
    }
    expect(readdirSync(cache).sort()).toEqual([expect.stringMatching(/^lmdb-linux-x64-[\d.]+$/), expect.stringMatching(/^node-bindings-linux-x64-[\d.r-]+$/)]);
    rmSync(cache, { recursive: true });

    const p = Bun.spawn([exe, "version"], { cwd: dir, env: { ...env, LARDER_CACHE_DIR: "/proc/larder-cache", TMPDIR: join(dir, "tmp") }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(0);
    expect(stdout).toStartWith("larder ");
    expect(stderr).toContain(`larder: cannot write native libraries to /proc/larder-cache (`);
    expect(stderr).toContain(`using ${join(dir, "tmp", "larder-cache-")}`);
  }, 30_000);

  test("init makes a repo; apply and materialize it", async () => {
    const init = await run(["init", "repo"], dir);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("repo/features/features.ts");
    expect((await run(["init", "repo"], dir)).stderr).toContain("already has files");
    const apply = await run(["apply"]);
    expect(apply.stderr).toBe("");
    expect(apply.stdout).toMatch(/\+ feature view driver_hourly_stats @\w{12}/);
    const mat = await run(["materialize"]);
    expect(mat.code).toBe(0);
    expect(mat.stdout).toMatch(/driver_hourly_stats +\w+ +full +\d+ +5 /);
  }, 30_000);

  test("serve answers a lookup with the reference's values, then stops on SIGTERM", async () => {
    const server = Bun.spawn([exe, "serve"], { cwd: repo, env, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await serverUrl(server);
      const res = await fetch(`${url}/v1/features/online`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ service: "driver_activity", entities: { driver_id: [1001, 1003, 9999] } }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { at: string; results: { values: Record<string, unknown>; statuses: Record<string, string> }[] };
      const { events, rows } = readStats();
      const fs = features(rows);
      const t = Date.parse(body.at);
      for (const [i, driver] of [1001, 1003].entries()) {
        const want = referenceValues(events, driver, t, 24 * H, fs);
        for (const f of fs) expect({ driver, f: f.name, ok: close(body.results[i]!.values[f.name], want[f.name]) }).toEqual({ driver, f: f.name, ok: true });
        expect(body.results[i]!.values.reports_lifetime).toBeGreaterThan(100);
      }
      expect(body.results[2]!.statuses.conv_rate).toBe("missing");
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  }, 30_000);

  test("serve --feast-ui serves Feast's web UI embedded in the executable, on the example's registry", async () => {
    const server = Bun.spawn([exe, "serve", "--feast-ui"], { cwd: repo, env, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await serverUrl(server);
      const page = await fetch(`${url}/feast/p/repo`);
      expect([page.status, await page.text()]).toEqual([200, expect.stringContaining('<script type="module" src="/feast/assets/feast-ui.js">')]);
      const js = await fetch(`${url}/feast/assets/feast-ui.js`);
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      // The bundle, not a path: React and Feast's UI are in it.
      expect(await js.text()).toContain("Feature Services");
      const views = (await (await fetch(`${url}/api/v1/feature_views?project=repo`)).json()) as { featureViews: { spec: { name: string } }[] };
      expect(views.featureViews.map((v) => v.spec.name)).toContain("driver_hourly_stats");
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  }, 30_000);

  test("serve --workers 2 starts the executable itself again as its worker, and both answer lookups", async () => {
    const server = Bun.spawn([exe, "serve", "--workers", "2"], { cwd: repo, env, stdout: "pipe", stderr: "pipe" });
    let worker = 0;
    try {
      const url = await serverUrl(server);
      worker = Number(readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim().split(" ")[0]);
      expect(readFileSync(`/proc/${worker}/cmdline`, "utf8").split("\0")[0]).toBe(exe);
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${url}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          keepalive: false,
          body: JSON.stringify({ service: "driver_activity", entities: { driver_id: [1001] } }),
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { results: { values: Record<string, number> }[] }).results[0]!.values.reports_lifetime).toBeGreaterThan(100);
      }
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
    expect(existsSync(`/proc/${worker}`)).toBe(false);
  }, 30_000);

  test("historical writes the point-in-time training set the reference computes", async () => {
    const r = await run(["historical", "--entities", "data/driver_labels.csv", "--service", "driver_activity", "--out", "train.parquet"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toStartWith("100 rows, 10 columns");
    const duck = await Duck.open();
    const got = await duck.all(`SELECT * FROM read_parquet('${join(repo, "train.parquet")}')`);
    const labels = await duck.all<{ driver_id: bigint | number; event_timestamp: Date; trip_completed: boolean }>(
      `SELECT * FROM read_csv('${join(repo, "data/driver_labels.csv")}')`,
    );
    duck.close();
    const { events, rows } = readStats();
    const fs = features(rows);
    const mismatches: string[] = [];
    got.forEach((row, i) => {
      const l = labels[i]!;
      expect(Number(row.driver_id)).toBe(Number(l.driver_id));
      const want = referenceValues(events, Number(l.driver_id), l.event_timestamp.getTime(), 24 * H, fs);
      for (const f of fs) if (!close(row[f.name], want[f.name])) mismatches.push(`row ${i} ${f.name}: got ${row[f.name]}, want ${want[f.name]}`);
    });
    expect(got).toHaveLength(100);
    expect(mismatches).toEqual([]);
  }, 30_000);

  test.skipIf(SKIP.spark)(
    "historical --engine spark runs the Spark job embedded in the executable: the same training set",
    async () => {
      const spark = { ...env, LARDER_DATA_DIR: "data-spark", LARDER_SPARK_PYTHON: SPARK_PYTHON!, LARDER_SPARK_MASTER: "local[2]" };
      const runSpark = async (args: string[]) => {
        const p = Bun.spawn([exe, ...args], { cwd: repo, env: spark, stdout: "pipe", stderr: "pipe" });
        const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { stdout, stderr, code };
      };
      expect((await runSpark(["apply"])).code).toBe(0);
      const r = await runSpark(["historical", "--engine", "spark", "--entities", "data/driver_labels.csv", "--service", "driver_activity", "--out", "train-spark.parquet"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith("100 rows, 10 columns");
      const duck = await Duck.open();
      const onDuckDB = await duck.all(`SELECT * FROM read_parquet('${join(repo, "train.parquet")}')`);
      const onSpark = await duck.all(`SELECT * FROM read_parquet('${join(repo, "train-spark.parquet")}')`);
      duck.close();
      expect(onSpark).toHaveLength(onDuckDB.length);
      const differ = onDuckDB.flatMap((row, i) =>
        Object.keys(row)
          .filter((c) => !close(onSpark[i]![c], row[c]))
          .map((c) => `row ${i} ${c}: ${onSpark[i]![c]} ≠ ${row[c]}`),
      );
      expect(differ).toEqual([]);
      const views = readdirSync(join(repo, "data-spark/offline"));
      expect(views.length).toBeGreaterThan(0);
      const table = join(repo, "data-spark/offline", views[0]!);
      const manifest = JSON.parse(readFileSync(join(table, readdirSync(table)[0]!, "_table.json"), "utf8"));
      expect(manifest.engine).toBe("spark");
    },
    120_000,
  );

  test("demo in an empty folder writes the fraud demo's definitions, trains the model and scores with it", async () => {
    const folder = join(dir, "demo");
    mkdirSync(folder);
    const demo = await run(["demo", "--no-serve", "--users", "300"], folder);
    expect(demo.stderr).not.toContain("error"); // (progress goes to stderr)
    expect(demo.code).toBe(0);
    expect(demo.stdout).toStartWith("Wrote the fraud demo's definitions: features/entities.ts, features/sources.ts, features/fraud.ts\n1. Generating transactions");
    // The files embedded in the executable are features/ of this repo, byte for byte.
    for (const f of ["entities.ts", "sources.ts", "fraud.ts"]) expect(readFileSync(join(folder, "features", f), "utf8")).toBe(readFileSync(join(ROOT, "features", f), "utf8"));
    expect(demo.stdout).toMatch(/6\. Training the fraud model .*\n {3}test AUC 0\.\d{4}/);
    // The model scores through the executable's server (its on-demand function included).
    const server = Bun.spawn([exe, "serve"], { cwd: folder, env, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await serverUrl(server);
      const res = await fetch(`${url}/v1/score/fraud`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user_id: 1, merchant_id: 3, amount: 900 }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { features: Record<string, number>; probability: number };
      expect(body.features.amount_to_avg_7d).toBeCloseTo(900 / body.features.avg_spend_7d!, 12);
      expect(body.probability).toBeGreaterThan(0);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  }, 60_000);
});
