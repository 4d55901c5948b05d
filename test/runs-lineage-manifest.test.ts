/**
 * Trust, traced: every materialization, push summary and training set is a run with its
 * source fingerprints; lineage names the run that wrote what is served; a training set's
 * manifest rebuilds it byte for byte, or says what changed; materialization saves profiles.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { formatLineage, lineageOf } from "../src/registry/lineage.ts";
import { createApp } from "../src/server/app.ts";
import type { ViewProfile } from "../src/monitoring/feature-profile.ts";
import { ManifestMismatchError, type TrainingManifest } from "../src/offline/training-manifest.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { T0, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const DAY = 86_400_000;
const events = randomEvents(81, 300);
const labels = randomLabels(81, events, 60);
const END = T0 + 21 * DAY;
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function repo(): TempRepo {
  const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events), "labels.csv": labelsCsv(labels) });
  repos.push(r);
  return r;
}

describe("runs", () => {
  test("a materialization is a run named by the served pointer, with its sources' fingerprints and outcome", async () => {
    const r = repo();
    await r.larder.apply();
    const [m] = await r.larder.materialize({ end: END });
    const [run] = await r.larder.runs.list({ kind: "materialize" });
    const pointer = (await r.larder.store().pointers()).get("user_stats")!;
    expect(run!.id).toBe(pointer.runId);
    expect(run).toMatchObject({
      kind: "materialize",
      status: "succeeded",
      views: [{ view: "user_stats", version: m!.version }],
      range: { start: null, end: END },
      rows: { in: m!.events, out: m!.entities },
      error: null,
      startedBy: { via: "api", pid: process.pid },
      details: { mode: "full", table: m!.table, watermark: END, entities: m!.entities },
    });
    const csv = join(r.dir, "data", "events.csv");
    expect(run!.sources).toEqual([{ source: "events", rows: events.length, files: [expect.objectContaining({ path: csv, sha256: sha256(csv) })] }]);
    expect(run!.validation).toEqual({ passed: true, failed: [], warnings: [], quarantine: null });

    // Pushes are summarized per source; the summary is written on close (or every 10 s).
    await r.larder.push({ source: "events_push", rows: [pushRow({ key: 1, ts: END + 1000, seq: 1, amount: 5, category: "a" })], to: "online" });
    await r.larder.push({ source: "events_push", rows: [pushRow({ key: 1, ts: END + 2000, seq: 1, amount: 5, category: "a" })], to: "online" }); // same event id: a duplicate
    await expect(r.larder.push({ source: "events_push", rows: [{ user_id: "x" }], to: "online" })).rejects.toThrow();
    // A push naming no push source is refused and leaves no run.
    await expect(r.larder.push({ source: "made_up", rows: [{}], to: "online" })).rejects.toThrow('push source "made_up" not found');
    await r.larder.close();
    const pushes = await r.larder.runs.list({ kind: "push" });
    expect(pushes.map((p) => p.details.source)).toEqual(["events_push"]);
    const [push] = pushes;
    expect(push).toMatchObject({
      kind: "push",
      status: "succeeded",
      rows: { in: 2, out: 1 },
      range: { start: END + 1000, end: END + 2001 },
      details: { source: "events_push", pushes: 2, duplicates: 1, rejected: 1 },
    });
    expect(push!.validation!.failed[0]).toStartWith('push to "events_push" refused, nothing was written');
    // The CLI's table says how many pushes were refused, and why, on one line.
    const listed = Bun.spawnSync([process.execPath, resolve(import.meta.dir, "../src/main.ts"), "runs", "--kind", "push"], { cwd: r.dir });
    expect(listed.stdout.toString()).toContain('1 refused: push to "events_push" refused, nothing was written: row 0, field');

    // Over HTTP, newest first, filtered; bad queries are 400, unknown ids 404.
    const app = createApp(r.larder, () => {});
    const all = (await (await app.request("/v1/runs")).json()) as { runs: { id: string; kind: string }[] };
    expect(all.runs.map((x) => x.kind)).toEqual(["push", "materialize"]);
    expect((await (await app.request(`/v1/runs/${run!.id}`)).json()) as object).toMatchObject({ id: run!.id, kind: "materialize" });
    expect((await app.request("/v1/runs?kind=nope")).status).toBe(400);
    expect((await app.request("/v1/runs?limit=0")).status).toBe(400);
    expect((await app.request("/v1/runs/20990101T000000000Z-abcdef")).status).toBe(404);
    expect((await app.request("/v1/runs/..%2F..%2Fregistry")).status).toBe(404);
  });

  test("a failed materialization is a failed run with its reasons; the CLI names who started runs", async () => {
    const r = repo();
    r.write(
      "features/stats.ts",
      PUSH_FEATURES_TS.replace("import { entity,", "import { between, entity,").replace('  ttl: "3d",', '  ttl: "3d",\n  expectations: [between("amount", { max: 100 })],'),
    );
    await r.larder.apply();
    await expect(r.larder.materialize({ end: END })).rejects.toThrow("expectation");
    const [run] = await r.larder.runs.list({ status: "failed" });
    expect(run).toMatchObject({ kind: "materialize", status: "failed", rows: { in: null, out: null } });
    expect(run!.validation!.passed).toBe(false);
    expect(run!.validation!.failed[0]).toMatch(new RegExp(`^view "user_stats" column "amount": between\\(amount, max 100\\) failed for \\d+ of ${events.length} rows`));
    expect(run!.validation!.quarantine).toStartWith(resolve(r.dir, "data", "quarantine", "user_stats"));
    expect(run!.error).toStartWith('feature view "user_stats" (source "events"): 1 expectation failed');
    // The files it read are listed though it failed before its table was built.
    expect(run!.sources).toEqual([
      { source: "events", files: [expect.objectContaining({ path: resolve(r.dir, "data", "events.csv"), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })], rows: null },
    ]);

    const cli = async (...args: string[]) => {
      const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "../src/main.ts"), ...args], { cwd: r.dir, stdout: "pipe", stderr: "pipe" });
      return { stdout: await new Response(p.stdout).text(), code: await p.exited };
    };
    expect((await cli("materialize")).code).toBe(3);
    const [listed] = JSON.parse((await cli("runs", "--json", "--limit", "1")).stdout) as { id: string; status: string; startedBy: { via: string } }[];
    expect(listed).toMatchObject({ status: "failed", startedBy: { via: "cli materialize" } });
    expect(listed!.id > run!.id).toBe(true);
    expect((await cli("runs", "--kind", "materialize")).stdout).toMatch(/^run\s+kind\s+status\s+views/);
  });
});

describe("lineage", () => {
  test("a service's features lead to their view, version, source and the run that wrote what is served", async () => {
    const r = repo();
    await r.larder.apply();
    const [m] = await r.larder.materialize({ end: END });
    const l = await lineageOf("all", r.larder.registry(), r.larder.store(), r.larder.runs);
    const runId = (await r.larder.store().pointers()).get("user_stats")!.runId;
    const text = formatLineage(l);
    expect(text).toStartWith(`feature service all\n  ← feature view user_stats @${m!.version} (entity user; services: all)\n      doubled = sql("amount * 2")`);
    expect(text).toContain(`      served: @${m!.version}, complete up to ${new Date(END).toISOString()}, table ${m!.table}`);
    expect(text).toContain(`      written by run ${runId}: materialize full at `);
    expect(text).toContain(`${m!.events} events → ${m!.entities} entities, succeeded, by api on `);
    expect(text).toContain("      ← push source events_push ← source events (file: data/events.csv)");
    const one = await lineageOf("user_stats:mean_7d", r.larder.registry(), r.larder.store(), r.larder.runs);
    expect(one.views[0]!.features).toEqual([{ name: "mean_7d", definition: "mean(amount, 168h)" }]);
    await expect(lineageOf("nothing", r.larder.registry(), r.larder.store(), r.larder.runs)).rejects.toThrow(
      '"nothing" is neither a feature service, a feature view nor a "view:feature" reference',
    );
  });
});

describe("training-set manifests", () => {
  test("historical writes a manifest; rebuilding from it is byte-identical; a change is named", async () => {
    const r = repo();
    await r.larder.apply();
    const refs = r.larder.registry().service("all").features;
    const out = join(r.dir, "train.parquet");
    const result = await r.larder.historical({ labelsPath: join(r.dir, "labels.csv"), refs, outPath: out });
    expect(result.manifest).toBe(`${out}.manifest.json`);
    const manifest = JSON.parse(readFileSync(result.manifest!, "utf8")) as TrainingManifest;
    expect(manifest).toMatchObject({
      format: 1,
      windowSemantics: 1,
      runId: result.runId,
      request: { features: refs.map((x) => `${x.view}:${x.feature}`), timestampColumn: null, fullNames: false },
      labels: { path: join(r.dir, "labels.csv"), sha256: sha256(join(r.dir, "labels.csv")), rows: labels.length },
      output: { path: out, rows: labels.length, sha256: sha256(out) },
    });
    expect(manifest.views).toEqual([expect.objectContaining({ view: "user_stats", version: result.views[0]!.version, rows: events.length })]);
    const [run] = await r.larder.runs.list({ kind: "historical" });
    expect(run).toMatchObject({ id: result.runId, status: "succeeded", rows: { out: labels.length }, details: { out } });

    const again = join(r.dir, "again.parquet");
    const rebuilt = await r.larder.rebuildTrainingSet(result.manifest!, again);
    expect(rebuilt.identical).toBe(true);
    expect(Buffer.compare(readFileSync(again), readFileSync(out))).toBe(0);

    // Touched files with the same content: their SHA-256 decides, and they are the same.
    const later = new Date(Date.now() + 60_000);
    for (const f of [join(r.dir, "data", "events.csv"), join(r.dir, "labels.csv")]) utimesSync(f, later, later);
    expect((await r.larder.rebuildTrainingSet(result.manifest!, again)).identical).toBe(true);
    // The same size but other bytes: named by the hashes.
    const csv = join(r.dir, "data", "events.csv");
    const original = readFileSync(csv, "utf8");
    const lastDigit = original.search(/\d(?=\D*$)/);
    const swapped = `${original.slice(0, lastDigit)}${original[lastDigit] === "7" ? "8" : "7"}${original.slice(lastDigit + 1)}`;
    writeFileSync(csv, swapped);
    const sameSize = (await r.larder.rebuildTrainingSet(result.manifest!, again).catch((e) => e)) as Error;
    expect(sameSize.message).toMatch(/feature view "user_stats": .*events\.csv changed \(sha256 [0-9a-f]{64} → [0-9a-f]{64}\)/);
    writeFileSync(csv, original);

    // A changed source file, and a changed label table: each named.
    appendFileSync(join(r.dir, "data", "events.csv"), `${pushCsv([{ key: 1, ts: END, seq: 999, amount: 1, category: "a" }]).split("\n")[1]}\n`);
    appendFileSync(join(r.dir, "labels.csv"), `1,${new Date(END).toISOString()},0\n`);
    const err = (await r.larder.rebuildTrainingSet(result.manifest!, again).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(ManifestMismatchError);
    expect(err.message).toStartWith(`cannot rebuild ${out} as it was; since its manifest:`);
    expect(err.message).toMatch(/feature view "user_stats": .*events\.csv changed \(size \d+ → \d+\)/);
    expect(err.message).toMatch(/label table .*labels\.csv changed since the manifest \(size \d+ → \d+\)/);

    // A new definition: the view's version moved on.
    r.write("features/stats.ts", PUSH_FEATURES_TS.replace('ttl: "3d"', 'ttl: "4d"'));
    await r.larder.apply();
    const moved = (await r.larder.rebuildTrainingSet(result.manifest!, again).catch((e) => e)) as Error;
    expect(moved.message).toContain(
      `feature view "user_stats" is now @${r.larder.registry().view("user_stats").version}; the manifest used @${result.views[0]!.version} (apply that definition again to rebuild)`,
    );
  });
});

describe("profiles", () => {
  test("materialization saves a profile of the values it serves", async () => {
    const r = repo();
    await r.larder.apply();
    const [m] = await r.larder.materialize({ end: END });
    expect(m!.profile).toMatch(/profiles\/user_stats\/\w+\/\d{8}T\d+Z-[0-9a-f]+\.json$/);
    const latest = join(r.dir, "data", "profiles", "user_stats", m!.version, "latest.json");
    expect(existsSync(latest)).toBe(true);
    const profile = JSON.parse(readFileSync(latest, "utf8")) as ViewProfile;
    expect(profile.entities).toBe(m!.entities);
    const users = [...new Set(events.map((e) => e.key))].sort((a, b) => a - b);
    const served = await getOnlineFeatures(
      r.larder.registry(),
      r.larder.store(),
      {
        refs: [
          { view: "user_stats", feature: "life_sum" },
          { view: "user_stats", feature: "category" },
        ],
        entities: { user_id: users },
        at: END,
      },
      100,
    );
    const sums = served.results.map((x) => x.values.life_sum as number);
    const lifeSum = profile.features.find((f) => f.feature === "life_sum")!;
    expect(lifeSum).toMatchObject({ kind: "numeric", count: users.length, nulls: 0 });
    if (lifeSum.kind !== "numeric") throw new Error("numeric");
    expect(lifeSum.mean).toBeCloseTo(sums.reduce((a, b) => a + b, 0) / sums.length, 9);
    expect(lifeSum.quantiles.p0).toBe(Math.min(...sums));
    expect(lifeSum.quantiles.p100).toBe(Math.max(...sums));
    expect(lifeSum.histogram.counts.reduce((a, b) => a + b, 0)).toBe(users.length);
    const category = profile.features.find((f) => f.feature === "category")!;
    expect(category.kind).toBe("categorical");
    const present = served.results.filter((x) => x.values.category !== null).length;
    expect(category.count - category.nulls).toBe(present);
  });
});
