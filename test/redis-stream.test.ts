/**
 * A Redis Stream feeding a push source through a consumer group, against a real
 * redis-server: online values equal the reference; entries are acknowledged only after
 * their push commits; a crash between commit and acknowledgement redelivers them and they
 * count once; a restarted consumer resumes; bad entries go to the dead-letter stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { MAX_TRIES, RedisStreamConsumer } from "../src/push/redis-stream-consumer.ts";
import { OfflineError } from "../src/errors.ts";
import type { LogEvent } from "../src/log.ts";
import { referenceValues, type RefEvent } from "./helpers/reference.ts";
import { REF_FEATURES, TTL, randomEvents } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushRow } from "./helpers/push-scenario.ts";
import { startRedis, type RedisServer } from "./helpers/redis-server.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { SKIP } from "./helpers/needs.ts";

let redis!: RedisServer;
const repos: TempRepo[] = [];
beforeAll(async () => {
  if (!SKIP.redis) redis = (await startRedis())!;
});
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await redis?.stop();
});

const STREAM = "larder:push:events_push";
const row = pushRow;
const USERS = [1, 2, 3, 4, 5, 6, 8];

async function setup(): Promise<{ repo: TempRepo; client: RedisClient; events: RefEvent[] }> {
  const repo = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": toCsv(["user_id", "ts", "amount", "category", "event_id"], []) });
  repos.push(repo);
  await repo.larder.apply();
  const client = new RedisClient(redis!.url);
  await client.send("DEL", [STREAM, `${STREAM}:dead`]);
  return { repo, client, events: randomEvents(31, 200).sort((a, b) => a.ts - b.ts) };
}

const add = (client: RedisClient, events: RefEvent[]) => Promise.all(events.map((e) => client.send("XADD", [STREAM, "*", "row", JSON.stringify(row(e))])));

async function until(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Online values just after the newest event against the reference. */
const mismatches = (repo: TempRepo, events: RefEvent[]) => onlineMismatches(repo.larder, Math.max(...events.map((e) => e.ts)) + 1, events, USERS);

const pending = async (client: RedisClient) => Number(((await client.send("XPENDING", [STREAM, "larder"])) as unknown[])[0]);

describe("Redis Stream ingestion", () => {
  test.skipIf(SKIP.redis)(
    "entries become pushes, equal the reference online, and are acknowledged; bad ones are dead-lettered",
    async () => {
      const { repo, client, events } = await setup();
      const logs: LogEvent[] = [];
      const consumer = new RedisStreamConsumer(repo.larder, { url: redis.url, blockMs: 50 }, (e) => logs.push(e));
      consumer.start();
      try {
        await add(client, events.slice(0, 120));
        await client.send("XADD", [STREAM, "*", "row", "{not json"]);
        await client.send("XADD", [STREAM, "*", "row", JSON.stringify({ ...row(events[0]!), amount: "lots" })]);
        await client.send("XADD", [STREAM, "*", "other", "x"]);
        await add(client, events.slice(120));
        await until(async () => consumer.entries === events.length && (await pending(client)) === 0, "all entries pushed and acknowledged");
        expect(await mismatches(repo, events)).toEqual([]);
        const dead = (await client.send("XRANGE", [`${STREAM}:dead`, "-", "+"])) as [string, string[]][];
        expect(dead.map(([, f]) => f[3])).toEqual([
          expect.stringContaining("JSON Parse error"),
          expect.stringContaining('row 0, field "amount": expected a number, got the string "lots"'),
          'the entry has no "row" field (the row as JSON)',
        ]);
        expect(logs.map((l) => l.event)).toEqual(["stream.dead_letter", "stream.dead_letter", "stream.dead_letter"]);
      } finally {
        await consumer.stop();
        client.close();
      }
    },
    30_000,
  );

  test.skipIf(SKIP.redis)(
    "poison entries never block the stream: refused ones are dead at once, failing ones after a bounded number of tries",
    async () => {
      const { repo, client, events } = await setup();
      // An engine failure for some rows: one fails every time, one only on its first two tries.
      const push = repo.larder.push.bind(repo.larder);
      let flaky = 0;
      repo.larder.push = async (req) => {
        const amounts = req.rows.map((r) => (r as { amount: number }).amount);
        if (amounts.includes(666.66)) throw new OfflineError("simulated engine failure");
        if (amounts.includes(333.33) && flaky++ < 2) throw new OfflineError("simulated passing failure");
        return push(req);
      };
      const logs: LogEvent[] = [];
      const consumer = new RedisStreamConsumer(repo.larder, { url: redis.url, blockMs: 50, retryMs: 100 }, (e) => logs.push(e));
      consumer.start();
      try {
        const [a, b, c, d] = events.slice(0, 4);
        await client.send("XADD", [STREAM, "*", "row", JSON.stringify({ ...row(a!), event_id: "x".repeat(2000) })]);
        // A lone surrogate as JSON escapes it: DuckDB's JSON reader used to refuse it on every try.
        await client.send("XADD", [STREAM, "*", "row", JSON.stringify(row(b!)).replace('"category":"', '"category":"\\ud800')]);
        await client.send("XADD", [STREAM, "*", "row", JSON.stringify({ ...row(c!), amount: 666.66 })]);
        await client.send("XADD", [STREAM, "*", "row", JSON.stringify({ ...row(d!), amount: 333.33 })]);
        await add(client, events.slice(4));
        const good = events.slice(4);
        // Everything after the poison is applied while it waits for its next try.
        await until(async () => consumer.entries >= good.length, "the entries after the poison");
        await until(async () => (await pending(client)) === 0, "the poison to be dead-lettered (5 tries, 0.1 s apart and doubling)");
        expect(consumer.entries).toBe(good.length + 1);
        expect(await mismatches(repo, [...good, { ...d!, amount: 333.33 }])).toEqual([]);
        const dead = (await client.send("XRANGE", [`${STREAM}:dead`, "-", "+"])) as [string, string[]][];
        expect(dead.map(([, f]) => f[3])).toEqual([
          'push to "events_push" refused, nothing was written:\n  row 0, field "event_id": 2000 characters, over the limit of 256 for an event id',
          'push to "events_push" refused, nothing was written:\n  row 0, field "category": not valid Unicode (it holds a lone UTF-16 surrogate)',
          `failed ${MAX_TRIES} times; the last: simulated engine failure`,
        ]);
        const tries = (id: string) => logs.flatMap((l) => (l.event === "stream.retry" && l.id === id ? [l.tries] : []));
        const ids = dead.map(([, f]) => f[1]!);
        expect(tries(ids[2]!)).toEqual([1, 2, 3, 4]);
        // The passing failure was tried again (once or twice, as the entries met in batches) and applied.
        expect([[1], [1, 2]]).toContainEqual(logs.filter((l) => l.event === "stream.retry" && l.id !== ids[2]).map((l) => (l as { tries: number }).tries));
      } finally {
        await consumer.stop();
        client.close();
      }
    },
    60_000,
  );

  test.skipIf(SKIP.redis)(
    "a crash after commit and before acknowledgement: redelivered entries count once; a restart resumes",
    async () => {
      const { repo, client, events } = await setup();
      let crashes = 0;
      const logs: LogEvent[] = [];
      const first = new RedisStreamConsumer(
        repo.larder,
        {
          url: redis.url,
          blockMs: 50,
          batch: 40,
          beforeAck: () => {
            if (crashes++ === 0) throw new Error("simulated crash between commit and acknowledgement");
          },
        },
        (e) => logs.push(e),
      );
      first.start();
      await add(client, events.slice(0, 80));
      await until(async () => first.entries === 80 && (await pending(client)) === 0, "the first 80 entries");
      expect(logs.map((l) => l.event)).toEqual(["stream.failed"]);
      await first.stop();

      // While no consumer runs, more arrive; a new consumer with the same name resumes.
      await add(client, events.slice(80));
      const second = new RedisStreamConsumer(repo.larder, { url: redis.url, blockMs: 50 }, () => {});
      second.start();
      try {
        await until(async () => second.entries === events.length - 80 && (await pending(client)) === 0, "the rest");
        // The first batch of 40 was pushed twice (before and after the crash) and counted once.
        expect(await mismatches(repo, events)).toEqual([]);
      } finally {
        await second.stop();
        client.close();
      }
    },
    30_000,
  );

  test.skipIf(SKIP.redis)(
    "larder serve consumes the streams when LARDER_STREAM_REDIS is set",
    async () => {
      const { repo, client, events } = await setup();
      const server = Bun.spawn([process.execPath, new URL("../src/main.ts", import.meta.url).pathname, "serve", "--repo", repo.dir], {
        env: { ...process.env, LARDER_PORT: "0", LARDER_STREAM_REDIS: redis.url, LARDER_STREAM_CONSUMER: "serve-test" },
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        const url = await serverUrl(server);
        const mine = events.filter((e) => e.key === 2);
        await add(client, mine);
        const t = Math.max(...mine.map((e) => e.ts)) + 1;
        const want = referenceValues(mine, 2, t, TTL, REF_FEATURES);
        await until(async () => {
          const res = await fetch(`${url}/v1/features/online`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ service: "all", entities: { user_id: [2] }, at: t }),
          });
          return res.status === 200 && ((await res.json()) as { results: { values: Record<string, unknown> }[] }).results[0]!.values.life_count === want.life_count;
        }, "the served value to reflect the stream");
      } finally {
        server.kill("SIGTERM");
        client.close();
      }
      expect(await server.exited).toBe(0);
    },
    30_000,
  );
});
