/**
 * On-demand feature views: one TypeScript function of request data and stored features,
 * run in online lookups (request data sent with the entities) and in historical retrieval
 * (request columns from the label table), giving the same numbers on both paths.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { createApp } from "../src/server/app.ts";
import { FEATURES_TS, T0, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});
const DAY = 86_400_000;
const END = T0 + 21 * DAY;
const events = randomEvents(121, 400);

const ON_DEMAND = (body = "amount / mean_7d") => `${FEATURES_TS.replace("import { entity,", "import { onDemandFeatureView, entity,")}
export const scored = onDemandFeatureView({
  name: "scored",
  request: z.object({ amount: z.number(), channel: z.enum(["web", "pos"]).optional() }),
  inputs: [stats],
  output: z.object({ ratio: z.number().nullable(), big: z.boolean() }),
  compute: ({ amount, mean_7d, channel }) => ({ ratio: typeof mean_7d === "number" ? ${body} : null, big: (amount as number) > 100 && channel !== "pos" }),
});
export const scoring = featureService({ name: "scoring", features: ["user_stats:mean_7d", scored] });
`;

function repo(features = ON_DEMAND()): TempRepo {
  const r = tempRepo({ "features/stats.ts": features, "data/events.csv": eventsCsv(events) }, { port: "0" });
  repos.push(r);
  return r;
}

const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("on-demand feature views", () => {
  test("online: the function runs per entity on request data and stored features; bad request data is a 400", async () => {
    const r = repo();
    const plan = await r.larder.apply();
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toContain("add on-demand feature view scored");
    await r.larder.materialize({ end: END });
    const app = createApp(r.larder, () => {});
    const res = await app.request(
      "/v1/features/online",
      json({ service: "scoring", entities: { user_id: [1, 2, 99] }, requestData: { amount: [50, 500, 10], channel: ["web", "pos", "web"] }, at: END }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { features: string[]; results: { values: Record<string, unknown>; statuses: Record<string, string> }[] };
    expect(body.features).toEqual(["mean_7d", "ratio", "big"]);
    const [a, b, c] = body.results;
    expect(a!.values.ratio).toBeCloseTo(50 / (a!.values.mean_7d as number), 12);
    expect(b!.values.ratio).toBeCloseTo(500 / (b!.values.mean_7d as number), 12);
    expect([a!.values.big, b!.values.big, c!.values.big]).toEqual([false, false, false]);
    // User 99 has no history: the stored feature is missing, and so is the ratio.
    expect(c).toMatchObject({ values: { mean_7d: null, ratio: null }, statuses: { mean_7d: "missing", ratio: "missing", big: "present" } });
    const big = (await (
      await app.request("/v1/features/online", json({ features: ["scored:big"], entities: { user_id: [1] }, requestData: { amount: [101] }, at: END }))
    ).json()) as { results: { values: { big: boolean } }[] };
    expect(big.results[0]!.values.big).toBe(true);

    const bad = async (requestData: unknown) => {
      const r2 = await app.request("/v1/features/online", json({ service: "scoring", entities: { user_id: [1, 2] }, requestData, at: END }));
      return { status: r2.status, body: (await r2.json()) as { code: string; message: string } };
    };
    expect(await bad(undefined)).toMatchObject({ status: 400, body: { code: "invalid_request_data" } });
    expect((await bad({ amount: [1] })).body.message).toBe("requestData.amount: give one value per entity (2)");
    expect((await bad({ amount: ["x", 2] })).body.message).toMatch(
      /^on-demand feature view "scored", entity 0: request data ✖ Invalid input: expected number, received string → at amount$/,
    );
    expect((await bad({ amount: [1, 2], channel: ["fax", "web"] })).status).toBe(400);
  });

  test("historical: the same function over the label table's request columns; equal to the online value at the same instant", async () => {
    const r = repo();
    await r.larder.apply();
    await r.larder.materialize({ end: END });
    const labels = [1, 2, 3, 4, 5, 6].map((u, i) => ({ user_id: u, event_timestamp: new Date(END).toISOString(), amount: 20 + 40 * i }));
    r.write("labels.csv", toCsv(["user_id", "event_timestamp", "amount"], labels));
    const refs = r.larder.registry().service("scoring").features;
    const set84 = await r.larder.historical({ labelsPath: join(r.dir, "labels.csv"), refs, outPath: join(r.dir, "train.parquet"), collect: true });
    const rows = set84.records!;
    expect(Object.keys(rows[0]!)).toEqual(["user_id", "event_timestamp", "amount", "mean_7d", "ratio", "big"]);
    const app = createApp(r.larder, () => {});
    const online = (await (
      await app.request(
        "/v1/features/online",
        json({ service: "scoring", entities: { user_id: labels.map((l) => l.user_id) }, requestData: { amount: labels.map((l) => l.amount) }, at: END }),
      )
    ).json()) as { results: { values: Record<string, unknown> }[] };
    rows.forEach((row, i) => {
      const want = online.results[i]!.values;
      if (want.ratio === null) expect(row.ratio).toBeNull();
      else expect(row.ratio as number).toBeCloseTo(want.ratio as number, 12);
      expect(row.big).toBe(want.big as boolean);
    });
    // A label table without the request column is a clear error.
    r.write("no-amount.csv", "user_id,event_timestamp\n1,2026-01-22T00:00:00Z\n");
    await expect(r.larder.historical({ labelsPath: join(r.dir, "no-amount.csv"), refs })).rejects.toThrow(
      'on-demand feature view "scored" needs request column "amount" in the label table (it has user_id, event_timestamp)',
    );
  });

  test("a changed function is a new version, and a server running an older file refuses to mix them", async () => {
    const r = repo();
    await r.larder.apply();
    await r.larder.materialize({ end: END });
    r.write("features/stats.ts", ON_DEMAND("amount / mean_7d / 2"));
    const plan = await r.larder.plan();
    expect(plan.plan.changes.find((c) => c.name === "scored")).toMatchObject({ action: "change", kind: "on-demand feature view" });
    // The files changed but were not applied: the loaded function is not the applied one.
    const app = createApp(r.larder, () => {});
    const res = await app.request("/v1/features/online", json({ features: ["scored:ratio"], entities: { user_id: [1] }, requestData: { amount: [10] }, at: END }));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^on-demand feature view "scored" changed in features\/ since it was applied \(@\w+ applied, @\w+ loaded\): run larder apply$/,
    );
    await r.larder.apply();
    expect((await app.request("/v1/features/online", json({ features: ["scored:ratio"], entities: { user_id: [1] }, requestData: { amount: [10] }, at: END }))).status).toBe(200);
  });

  test("larder serve loads the functions from the feature files; definition errors name the input", async () => {
    const r = repo();
    await r.larder.apply();
    await r.larder.materialize({ end: END });
    await r.larder.close();
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../src/main.ts"), "serve", "--port", "0"], { cwd: r.dir, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await serverUrl(proc);
      const res = await fetch(
        `${url}/v1/features/online`,
        json({ features: ["scored:ratio", "user_stats:mean_7d"], entities: { user_id: [1] }, requestData: { amount: [10] }, at: END }),
      );
      const body = (await res.json()) as { results: { values: { ratio: number; mean_7d: number } }[] };
      expect(res.status).toBe(200);
      expect(body.results[0]!.values.ratio).toBeCloseTo(10 / body.results[0]!.values.mean_7d, 12);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    const broken = repo(
      ON_DEMAND()
        .replace("inputs: [stats],", "inputs: [stats, stats],")
        .replace('request: z.object({ amount: z.number(), channel: z.enum(["web", "pos"]).optional() })', "request: z.object({ amount: z.number(), mean_7d: z.number() })"),
    );
    await expect(broken.larder.apply()).rejects.toThrow('✖ "mean_7d" comes from both the request and feature view "user_stats": compute would see one of them');
  });
});
