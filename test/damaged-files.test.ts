/**
 * Files Larder reads back, damaged (cut short, garbled, hand-edited): each is named in a
 * clear error with its way out, affects only what needs it, and never kills the process:
 * run records, the LMDB online store (a file cut short used to be a SIGBUS), profiles,
 * PSI references, model files, the registry (whose way out, larder apply, used to refuse
 * with the same message), offline-table metadata and training-set manifests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { createApp } from "../src/server/app.ts";
import { FEATURES_TS, T0, eventsCsv, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const DAY = 86_400_000;
const END = T0 + 21 * DAY;
const WITH_PSI = FEATURES_TS.replace('stddev, last } from "larder";', 'stddev, last, psi } from "larder";').replace(
  '  ttl: "3d",',
  '  ttl: "3d",\n  expectations: [psi("amount", { max: 10, bins: 4 })],',
);
const events = randomEvents(2401, 300);

let repo: TempRepo;
beforeAll(async () => {
  repo = tempRepo({ "features/stats.ts": WITH_PSI, "data/events.csv": eventsCsv(events), "labels.csv": labelsCsv(randomLabels(2401, events, 50)) });
  await repo.larder.apply();
  await repo.larder.materialize({ end: END });
  await repo.larder.materialize({ end: END + DAY, incremental: true });
});
afterAll(() => repo.cleanup());

const cli = (...args: string[]) => {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args, "--repo", repo.dir], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, signal: p.signalCode ?? null, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
};
const data = (...parts: string[]) => join(repo.dir, "data", ...parts);
const cut = (path: string) => writeFileSync(path, readFileSync(path, "utf8").slice(0, 40));
const app = () => createApp(repo.larder, () => {});
const lookup = async () =>
  (
    await getOnlineFeatures(
      repo.larder.registry(),
      repo.larder.store(),
      { refs: repo.larder.registry().service("all").features, entities: { user_id: [1, 2, 3] }, at: END + DAY },
      10,
    )
  ).results;

describe("damaged files", () => {
  test("a run record cut short: left out of lists and named; asked for by id, a 500 naming it and the way out", async () => {
    const runs = await repo.larder.runs.list({ limit: 10 });
    expect(runs).toHaveLength(2);
    const damaged = data("runs", `${runs[0]!.id}.json`);
    cut(damaged);
    const listed = await app().request("/v1/runs");
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { runs: { id: string }[]; damaged: string[] };
    expect(body.runs.map((r) => r.id)).toEqual([runs[1]!.id]);
    expect(body.damaged).toEqual([expect.stringContaining(`run record ${damaged} is damaged: it is not valid JSON`)]);
    const one = await app().request(`/v1/runs/${runs[0]!.id}`);
    expect(one.status).toBe(500);
    expect((await one.json()) as { code: string; message: string }).toEqual({
      code: "damaged_data",
      // Over HTTP, paths are relative to the repo.
      message: expect.stringContaining(`; remove it (a run record is history; nothing else depends on it): rm ${relative(repo.dir, damaged)}`),
    });
    for (const path of ["/v1/freshness", "/", "/ui/runs", "/ui/views/user_stats"]) expect({ path, status: (await app().request(path)).status }).toEqual({ path, status: 200 });
    const r = cli("runs");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(runs[1]!.id);
    expect(r.stderr).toContain(`left out: run record ${damaged} is damaged`);
    // Written whole: nothing but finished records in the folder.
    expect(readdirSync(data("runs")).filter((f) => !f.endsWith(".json"))).toEqual([]);
  });

  test("a profile and a PSI reference, damaged: named where they are read, with their way out", async () => {
    const profiles = data("profiles", "user_stats", repo.larder.registry().view("user_stats").version);
    writeFileSync(join(profiles, "latest.json"), '{"view": "user_stats", "features": 7}');
    const page = await app().request("/ui/views/user_stats");
    expect(page.status).toBe(500);
    expect(((await page.json()) as { message: string }).message).toStartWith(`the profile ${relative(repo.dir, join(profiles, "latest.json"))} is damaged (version: Invalid input`);
    expect((await app().request("/ui/runs")).status).toBe(200);
    const reference = data("references", "view-user_stats", "amount.json");
    expect(existsSync(reference)).toBe(true);
    cut(reference);
    await expect(repo.larder.validate()).rejects.toThrow(`the PSI reference ${reference} is damaged: it is not valid JSON`);
    const v = cli("validate");
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("remove it, then run larder validate --save-reference");
    // The way out.
    rmSync(reference);
    expect(cli("validate", "--save-reference").code).toBe(0);
    expect(JSON.parse(readFileSync(reference, "utf8")).column).toBe("amount");
  });

  test("a model file cut short: scoring answers 500 naming it and how to train it again", async () => {
    const model = data("models", "fraud.json");
    Bun.spawnSync(["mkdir", "-p", data("models")]);
    writeFileSync(model, '{"kind": "logistic", "name": "fr');
    const res = await app().request("/v1/score/fraud", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { message: string }).message).toStartWith(`model file ${relative(repo.dir, model)} is damaged: it is not valid JSON`);
    expect(
      ((await (await app().request("/v1/score/fraud", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { message: string }).message,
    ).toEndWith("; train it again: larder train --name fraud");
  });

  test("offline-table metadata cut short is rebuilt; a manifest cut short is named", async () => {
    const folder = data("offline", "user_stats", repo.larder.registry().view("user_stats").version);
    cut(join(folder, "_table.json"));
    const before = await lookup();
    await repo.larder.materialize({ end: END });
    expect(JSON.parse(readFileSync(join(folder, "_table.json"), "utf8")).rows).toBe(events.length);
    expect(await lookup()).toEqual(before);
    const out = join(repo.dir, "training.parquet");
    expect(cli("historical", "--entities", join(repo.dir, "labels.csv"), "--service", "all", "--out", out).code).toBe(0);
    cut(`${out}.manifest.json`);
    const r = cli("historical", "--from-manifest", `${out}.manifest.json`);
    expect(r.stderr).toContain(`training-set manifest ${out}.manifest.json is damaged: it is not valid JSON`);
  });

  test("the registry cut short: every command names it and says larder apply, which sets it aside and applies afresh", async () => {
    const registry = data("registry.json");
    const version = repo.larder.registry().view("user_stats").version;
    await repo.larder.close();
    cut(registry);
    const ls = cli("materialize", "--incremental");
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain(`registry ${registry} is damaged: it is not valid JSON`);
    expect(ls.stderr).toContain("run larder apply in the feature repo: it sets the damaged file aside and applies features/ afresh");
    const apply = cli("apply");
    expect(apply.code).toBe(0);
    expect(apply.stderr).toMatch(/the registry was damaged: set aside as \S+registry\.json\.damaged-\d+T\d+Z; features\/ applied afresh/);
    expect(readdirSync(data()).filter((f) => f.startsWith("registry.json.damaged-"))).toHaveLength(1);
    // Versions are hashes of definitions: what was served is served on.
    expect(JSON.parse(readFileSync(registry, "utf8")).views.user_stats.current).toBe(version);
    expect((await lookup()).map((r) => r.values.life_count)).toEqual([1, 2, 3].map((k) => events.filter((e) => e.key === k).length));
  });

  test("data.mdb cut short or garbled: no signal; serve answers 500 naming it; materialize --rebuild builds it again", async () => {
    const before = await lookup();
    await repo.larder.close();
    const file = data("online", "data.mdb");
    const size = statSync(file).size;
    for (const damage of ["cut", "garble"]) {
      if (damage === "cut") truncateSync(file, Math.floor(size / 2));
      else {
        const bytes = readFileSync(file);
        bytes.fill(0x5a, 0, 64);
        writeFileSync(file, bytes);
      }
      const m = cli("materialize", "--incremental");
      expect({ damage, code: m.code, signal: m.signal }).toEqual({ damage, code: 1, signal: null });
      expect(m.stderr).toMatch(
        new RegExp(
          `the LMDB online store at ${data("online")} is damaged \\((data\\.mdb is \\d+ bytes but its header needs \\d+ \\(the file was cut short\\)|its first header page is not an LMDB header \\(garbled\\))\\); run larder materialize --rebuild`,
        ),
      );
      const serve = Bun.spawn([process.execPath, MAIN, "serve", "--repo", repo.dir], {
        env: { ...process.env, LARDER_PORT: "0", LARDER_SCHEDULES: "off" },
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        const url = await serverUrl(serve);
        const res = await fetch(`${url}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ service: "all", entities: { user_id: [1] } }),
        });
        expect(res.status).toBe(500);
        expect(((await res.json()) as { code: string }).code).toBe("damaged_data");
        expect((await fetch(`${url}/v1/registry`)).status).toBe(200);
      } finally {
        serve.kill("SIGTERM");
      }
      expect(await serve.exited).toBe(0);
    }
    const rebuilt = cli("materialize", "--rebuild", "--end", new Date(END + DAY).toISOString());
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toMatch(/the online store was set aside \(moved \S+online to \S+online\.damaged-\d+T\d+Z\) and built again from the offline tables/);
    expect(await lookup()).toEqual(before);
  });
});
