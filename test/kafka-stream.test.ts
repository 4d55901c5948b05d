/**
 * Kafka topics feeding a push source, against a real Apache Kafka broker (KRaft mode,
 * started here from the jars in .kafka/lib): random batches with late and redelivered
 * events equal the reference online; a poison message and a refused row go to the
 * dead-letter topic without holding up the partition; offsets are committed; and two
 * `larder serve` replicas in one consumer group, one killed mid-stream, apply every event
 * exactly once between them (the survivor takes over the dead one's partitions).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { resolve } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { KafkaStreamConsumer } from "../src/push/kafka-consumer.ts";
import { Random } from "../src/demo/random.ts";
import { SKIP } from "./helpers/needs.ts";
import { PUSH_FEATURES_TS, onlineMismatches, pushRow } from "./helpers/push-scenario.ts";
import { randomEvents } from "./helpers/random-scenario.ts";
import type { RefEvent } from "./helpers/reference.ts";
import { startKafka, type KafkaServer } from "./helpers/kafka-server.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const TOPIC = "larder.push.events_push";
const USERS = [1, 2, 3, 4, 5, 6, 8];
let kafka: KafkaServer | null = null;
const repos: TempRepo[] = [];
beforeAll(async () => {
  if (!SKIP.kafka) kafka = await startKafka(3);
}, 120_000);
afterAll(async () => {
  for (const r of repos) await r.cleanup();
  await kafka?.stop();
});

function newRepo(): TempRepo {
  const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": toCsv(["user_id", "ts", "amount", "category", "event_id"], []) }, { schedules: "off" });
  repos.push(r);
  return r;
}

const client = () => new Kafka({ clientId: "larder-test", brokers: [kafka!.brokers], logLevel: logLevel.NOTHING });

/** Sends rows in random batches of 1–40, keyed by user (one user's events stay in one partition). */
async function sendInBatches(producer: Producer, topic: string, messages: { key: string; value: string }[], rnd: Random): Promise<void> {
  for (let i = 0; i < messages.length; ) {
    const n = rnd.int(1, 40);
    await producer.send({ topic, messages: messages.slice(i, i + n) });
    i += n;
  }
}

const message = (e: RefEvent) => ({ key: String(e.key), value: JSON.stringify(pushRow(e)) });

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/**
 * Committed offsets of the group, summed over partitions, against the topic's end; null while
 * the broker answers with a retriable error (a group coordinator still loading, say).
 */
async function committed(group: string, topic: string): Promise<{ committed: number; end: number } | null> {
  const admin = client().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return {
      committed: offsets!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0),
      end: ends.reduce((n, p) => n + Number(p.high), 0),
    };
  } catch (e) {
    if ((e as { retriable?: boolean }).retriable) return null;
    throw e;
  } finally {
    await admin.disconnect();
  }
}

describe("Kafka ingestion", () => {
  test.skipIf(SKIP.kafka)(
    "random batches, late and redelivered events equal the reference online; bad messages are dead-lettered",
    async () => {
      const r = newRepo();
      await r.larder.apply();
      const rnd = new Random(5);
      const events = randomEvents(61, 400);
      // Late events: the order sent is shuffled by up to a day's worth of positions.
      const sent = [...events].sort((a, b) => a.ts - b.ts + (rnd.next() - 0.5) * 86_400_000);
      // Redeliveries: a tenth of the events sent twice (the same event id).
      const again = sent.filter(() => rnd.chance(0.1));
      const producer = client().producer();
      await producer.connect();
      const consumer = new KafkaStreamConsumer(r.larder, { brokers: [kafka!.brokers], group: "g-random", sessionTimeoutMs: 6000 }, () => {});
      try {
        await sendInBatches(producer, TOPIC, [...sent, ...again].map(message), rnd);
        // A poison message (not JSON) and a row the schema refuses, among the others.
        await producer.send({
          topic: TOPIC,
          messages: [
            { key: "1", value: "{not json" },
            { key: "2", value: JSON.stringify({ ...pushRow(events[0]!), event_id: "bad-1", amount: "lots" }) },
          ],
        });
        consumer.start();
        // Done when every offset is committed (each after its push committed).
        await until(async () => {
          const c = await committed("g-random", TOPIC);
          return c !== null && c.end === sent.length + again.length + 2 && c.committed === c.end;
        }, "every offset committed");
        expect(await onlineMismatches(r.larder, Math.max(...events.map((e) => e.ts)) + 1, events, USERS)).toEqual([]);
        // Each event once: lifetime counts are the events', though a tenth came twice.
        const counts = await r.larder.lookup({ refs: [{ view: "user_stats", feature: "life_count" }], entities: { user_id: USERS }, at: Math.max(...events.map((e) => e.ts)) + 1 });
        expect(counts.results.map((x) => x.values.life_count)).toEqual(USERS.map((u) => events.filter((e) => e.key === u).length));

        // The dead letters, with their reasons.
        const reader = client().consumer({ groupId: "dead-reader" });
        await reader.connect();
        await reader.subscribe({ topic: `${TOPIC}.dead`, fromBeginning: true });
        const dead: { value: string; reason: string }[] = [];
        // Dead letters are sent at least once (a batch read again after a rebalance sends its own
        // again): one per message, by where it came from.
        const byOrigin = new Map<string, { value: string; reason: string }>();
        await reader.run({
          eachMessage: async ({ message: m }) =>
            void byOrigin.set(`${m.headers!.partition}/${m.headers!.offset}`, { value: m.value!.toString(), reason: m.headers!.reason!.toString() }),
        });
        await until(() => byOrigin.size >= 2, "2 dead letters");
        await Bun.sleep(500); // and no others
        await reader.disconnect();
        dead.push(...byOrigin.values());
        dead.sort((x, y) => x.value.localeCompare(y.value));
        expect(dead.length).toBe(2);
        expect(dead[1]!.value).toBe("{not json");
        expect(dead[1]!.reason).toContain("JSON");
        expect(dead[0]!.reason).toBe('push to "events_push" refused, nothing was written:\n  row 0, field "amount": expected a number, got the string "lots"');
      } finally {
        await consumer.stop();
        await producer.disconnect();
      }
    },
    120_000,
  );

  test.skipIf(SKIP.kafka)(
    "two replicas share the partitions; one killed mid-stream, the other takes over: every event applied once",
    async () => {
      const r = newRepo();
      await r.larder.apply();
      await r.larder.close();
      // A topic of its own (named through LARDER_STREAM_KAFKA_TOPICS).
      const topic = "replicas-events";
      const group = "g-replicas";
      const env = {
        ...process.env,
        LARDER_PORT: "0",
        LARDER_SCHEDULES: "off",
        LARDER_STREAM_KAFKA: kafka!.brokers,
        LARDER_STREAM_KAFKA_GROUP: group,
        LARDER_STREAM_KAFKA_TOPICS: `events_push=${topic}`,
      };
      const replica = (name: string) =>
        Bun.spawn([process.execPath, MAIN, "serve", "--repo", r.dir], { env: { ...env, LARDER_STREAM_CONSUMER: name }, stdout: "pipe", stderr: "pipe" });
      const a = replica("replica-a");
      const b = replica("replica-b");
      const rnd = new Random(9);
      const events = randomEvents(71, 600);
      const producer = client().producer();
      await producer.connect();
      try {
        const url = await serverUrl(b);
        await serverUrl(a);
        // Half, then replica a is killed (no goodbye to the group), then the rest.
        const half = Math.floor(events.length / 2);
        await sendInBatches(producer, topic, events.slice(0, half).map(message), rnd);
        await Bun.sleep(1500);
        a.kill("SIGKILL");
        await a.exited;
        await sendInBatches(producer, topic, events.slice(half).map(message), rnd);
        await until(
          async () => {
            const c = await committed(group, topic);
            return c !== null && c.committed === c.end;
          },
          "every offset committed by the survivor",
          90_000,
        );
        const at = Math.max(...events.map((e) => e.ts)) + 1;
        const res = await fetch(`${url}/v1/features/online`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ features: ["user_stats:life_count"], entities: { user_id: USERS }, at }),
        });
        const body = (await res.json()) as { results: { values: Record<string, unknown> }[] };
        expect(body.results.map((x) => x.values.life_count)).toEqual(USERS.map((u) => events.filter((e) => e.key === u).length));
        b.kill("SIGTERM");
        await b.exited;
        // The shared store, read afresh: the reference's values, every feature.
        const reader = new Larder(loadConfig({ repoDir: r.dir }, {}));
        try {
          expect(await onlineMismatches(reader, at, events, USERS)).toEqual([]);
        } finally {
          await reader.close();
        }
      } finally {
        a.kill("SIGKILL");
        b.kill("SIGKILL");
        await producer.disconnect();
      }
    },
    180_000,
  );

  test.skipIf(SKIP.kafka)(
    "the executable consumes Kafka too (kafkajs is inside it)",
    async () => {
      const build = Bun.spawnSync([process.execPath, resolve(import.meta.dir, "../scripts/build.ts")], { stdout: "pipe", stderr: "pipe" });
      if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
      const r = newRepo();
      await r.larder.apply();
      await r.larder.close();
      const topic = "executable-events";
      const exe = Bun.spawn([resolve(import.meta.dir, "../dist/larder"), "serve", "--repo", r.dir], {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: r.dir,
          LARDER_PORT: "0",
          LARDER_SCHEDULES: "off",
          LARDER_STREAM_KAFKA: kafka!.brokers,
          LARDER_STREAM_KAFKA_TOPICS: `events_push=${topic}`,
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      const producer = client().producer();
      await producer.connect();
      try {
        const url = await serverUrl(exe);
        const events = randomEvents(81, 50);
        await producer.send({ topic, messages: events.map(message) });
        const at = Math.max(...events.map((e) => e.ts)) + 1;
        const count = async () => {
          const res = await fetch(`${url}/v1/features/online`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ features: ["user_stats:life_count"], entities: { user_id: USERS }, at }),
          });
          // Until the first push, the view has nothing served (409).
          if (!res.ok) return null;
          return ((await res.json()) as { results: { values: Record<string, number | null> }[] }).results.map((x) => x.values.life_count ?? 0);
        };
        const want = USERS.map((u) => events.filter((e) => e.key === u).length);
        await until(async () => JSON.stringify(await count()) === JSON.stringify(want), "the executable to apply the topic's events");
      } finally {
        exe.kill("SIGTERM");
        await exe.exited;
        await producer.disconnect();
      }
    },
    120_000,
  );
});
