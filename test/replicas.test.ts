/**
 * Several machines on one Redis and one S3 bucket, as "Running on more than one machine"
 * describes: an operator's machine applies and materializes; two serving replicas with
 * no feature files of their own get the registry from the bucket, serve the same values,
 * see each other's pushes online and offline, and pick up a new version applied elsewhere.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { S3Client } from "bun";
import { startServer } from "../src/server/start-server.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { labelsCsv, randomLabels } from "./helpers/random-scenario.ts";
import { startRedis, type RedisServer } from "./helpers/redis-server.ts";
import { S3_CREDENTIALS, startS3, type S3Server } from "./helpers/s3-server.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";
import { SKIP } from "./helpers/needs.ts";

let redis!: RedisServer;
let s3: S3Server;
const repos: TempRepo[] = [];
const savedEnv = { ...process.env };
beforeAll(async () => {
  if (!SKIP.redis) redis = (await startRedis())!;
  s3 = await startS3(["lake"]);
  Object.assign(process.env, S3_CREDENTIALS);
});
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await redis?.stop();
  await s3.stop();
  for (const k of Object.keys(S3_CREDENTIALS)) if (savedEnv[k] === undefined) delete process.env[k];
});

const DAY = 86_400_000;
const FEATURES = PUSH_FEATURES_TS.replace('path: "data/events.csv"', 'path: "s3://lake/sources/events/*.csv"');

test.skipIf(SKIP.redis)(
  "two replicas on one Redis and one bucket serve what a third machine applied, and each other's pushes",
  async () => {
    const config = { online: `${redis.url}?prefix=prod:`, offline: "s3://lake/prod", s3Endpoint: s3.endpoint, port: "0" };
    const machine = (files: Record<string, string>) => {
      const repo = tempRepo(files, config);
      repos.push(repo);
      return repo;
    };
    const events = randomEvents(71, 300);
    const bucket = new S3Client({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER", endpoint: s3.endpoint, bucket: "lake", virtualHostedStyle: false });
    await bucket.write("sources/events/part-0.csv", pushCsv(events));

    // The operator's machine holds the feature repo.
    const ops = machine({ "features/stats.ts": FEATURES });
    await ops.larder.apply();
    const end = T0 + 21 * DAY;
    await ops.larder.materialize({ end });
    expect(await bucket.exists("prod/registry.json")).toBe(true);

    // Replicas: empty folders, nothing applied locally. The CLI syncs before every command;
    // here the servers are started in-process, so sync once as `larder serve` would.
    const [ra, rb] = [machine({}), machine({})];
    await ra.larder.syncRegistry();
    await rb.larder.syncRegistry();
    const [a, b] = [startServer(ra.larder, () => {}), startServer(rb.larder, () => {})];
    const post = (s: typeof a, path: string, body: unknown) =>
      fetch(`http://${s.hostname}:${s.port}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const read = async (s: typeof a, body: Record<string, unknown>) =>
      (await post(s, "/v1/features/online", { entities: { user_id: [1, 2, 3, 7] }, at: end, ...body })).json() as Promise<{ results: { values: Record<string, unknown> }[] }>;
    try {
      expect(await onlineMismatches(ra.larder, end, events, [1, 2, 3, 4, 5, 6])).toEqual([]);
      const fromA = await read(a, { service: "all" });
      expect(await read(b, { service: "all" })).toEqual(fromA);

      // A push (online and offline) to A: B serves it, and B's training sets include it.
      const extra = { key: 7, ts: end - 60_000, seq: events.length, amount: 12, category: "b" };
      const pushed = await post(a, "/v1/push", { source: "events_push", rows: [pushRow(extra)], to: "online_and_offline" });
      expect(pushed.status).toBe(200);
      const segments = ((await bucket.list({ prefix: "prod/pushed/events_push/" })).contents ?? []).map((o) => o.key);
      expect(segments).toHaveLength(1);
      const after = (await read(b, { service: "all" })).results[3]!.values;
      expect(after).toMatchObject({ life_count: 1, life_sum: 12, doubled: 24, category: "b" });
      rb.write("labels.csv", labelsCsv(randomLabels(71, [...events, extra], 40)));
      const training = await rb.larder.historical({ labelsPath: join(rb.dir, "labels.csv"), refs: rb.larder.registry().service("all").features });
      expect(training.views[0]!.table.rows).toBe(events.length + 1);

      // A new version applied and materialized on the operator's machine reaches both replicas.
      ops.write("features/stats.ts", FEATURES.replace('doubled: sql("amount * 2"),', 'doubled: sql("amount * 2"),\n    tripled: sql("amount * 3"),'));
      await ops.larder.apply();
      await ops.larder.materialize({ end });
      const deadline = Date.now() + 8_000;
      let body: { results?: { values: Record<string, unknown> }[] } = {};
      for (const s of [a, b]) {
        for (;;) {
          body = await read(s, { features: ["user_stats:tripled", "user_stats:doubled"] });
          if (body.results || Date.now() > deadline) break;
          await Bun.sleep(200);
        }
        // The new feature is served, computed by the new version: tripled = 1.5 × doubled.
        const wrong = body.results!.filter((r) =>
          r.values.doubled === null ? r.values.tripled !== null : Math.abs((r.values.tripled as number) - 1.5 * (r.values.doubled as number)) > 1e-9,
        );
        expect({ served: body.results?.length, wrong }).toEqual({ served: 4, wrong: [] });
      }
    } finally {
      await a.stop();
      await b.stop();
    }
  },
  60_000,
);
