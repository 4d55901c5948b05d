/**
 * Kafka to visible online values, against a real broker (KRaft, from .kafka/lib) and
 * `larder serve` with LARDER_STREAM_KAFKA on the fraud demo's features over a push source:
 * - backlog: N transactions written to the topic first, then the time from the server's
 *   start until the last one is visible in a lookup (events/s; server CPU per event);
 * - idle: one transaction at a time, from producing it to the first lookup that sees it
 *   (p50, p99 over the samples).
 *   bun scripts/bench/kafka-bench.ts [events=100000] [samples=50]
 */
import { Kafka, logLevel } from "kafkajs";
import { startKafka } from "../../test/helpers/kafka-server.ts";
import { machine } from "./bench-repo.ts";
import { benchResults, quantile, treeCpuMs } from "./bench-tools.ts";
import { pushRepo, serveRepo, transaction } from "./push-repo.ts";

const N = Number(process.argv[2] ?? 100_000);
const SAMPLES = Number(process.argv[3] ?? 50);
const USERS = 1000;
const TOPIC = "larder.push.transactions_push";

const kafka = await startKafka(3);
if (!kafka) throw new Error("Kafka is not installed (see scripts/kafka/pom.xml)");
const client = new Kafka({ clientId: "bench", brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
const dir = pushRepo("larder-kafka-bench-", USERS);
const results = benchResults("kafka", { events: N, samples: SAMPLES }, machine());
console.log(`machine: ${machine()}; ${N.toLocaleString()} transactions of ${USERS} users, fraud demo's views over a push source`);

const producer = client.producer();
await producer.connect();
const admin = client.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
await admin.disconnect();

/** Whether the server's group has committed every offset of the topic. */
async function drained(): Promise<boolean> {
  const a = client.admin();
  await a.connect();
  try {
    const [offsets] = await a.fetchOffsets({ groupId: "larder", topics: [TOPIC] });
    const ends = await a.fetchTopicOffsets(TOPIC);
    return ends.every((e) => offsets!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
  } finally {
    await a.disconnect();
  }
}

/** Whether `user`'s lifetime count of transactions in the server's answer has reached `count`. */
async function visible(url: string, user: number, count: number): Promise<boolean> {
  const res = await fetch(`${url}/v1/features/online`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ features: ["user_transactions:lifetime_txn_count"], entities: { user_id: [user] } }),
  });
  const body = (await res.json()) as { results: { values: Record<string, number | null> }[] };
  return (body.results[0]!.values.lifetime_txn_count ?? 0) >= count;
}

try {
  // Backlog: written first, then the server starts and drains it.
  const last = USERS + 1; // a user of its own, whose one transaction is written last
  for (let i = 0; i < N; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, N - i) }, (_, k) => transaction(1 + ((i + k) % USERS)));
    await producer.send({ topic: TOPIC, messages: batch.map((t) => ({ key: String(t.user_id), value: JSON.stringify(t) })) });
  }
  await producer.send({ topic: TOPIC, messages: [{ key: String(last), value: JSON.stringify(transaction(last)) }] });
  const t0 = performance.now();
  const { server, url } = await serveRepo(dir, [], { LARDER_STREAM_KAFKA: kafka.brokers, LARDER_SCHEDULES: "off" });
  try {
    const cpu0 = treeCpuMs(server.pid);
    // Partitions drain in parallel: done when every offset is committed (after its push
    // committed, so visible), and the last one written is seen.
    while (!(await drained()) || !(await visible(url, last, 1))) await Bun.sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    const cpuUs = ((treeCpuMs(server.pid) - cpu0) * 1000) / (N + 1);
    results.add("backlog: events/s, server start to last visible", (N + 1) / seconds);
    results.add("backlog: server CPU per event, µs", cpuUs);
    console.log(
      `backlog: ${(N + 1).toLocaleString()} events visible in ${seconds.toFixed(2)} s = ${Math.round((N + 1) / seconds).toLocaleString()} events/s, ${cpuUs.toFixed(0)} µs CPU/event`,
    );

    // Idle: one at a time.
    const times: number[] = [];
    let count = 1;
    for (let i = 0; i < SAMPLES; i++) {
      const s = performance.now();
      await producer.send({ topic: TOPIC, messages: [{ key: String(last), value: JSON.stringify(transaction(last)) }] });
      count++;
      while (!(await visible(url, last, count))) await Bun.sleep(1);
      times.push(performance.now() - s);
      await Bun.sleep(50);
    }
    results.add("idle: produced to visible p50 ms", Number(quantile(times, 0.5)));
    results.add("idle: produced to visible p99 ms", Number(quantile(times, 0.99)));
    console.log(`idle: produced → visible p50 ${quantile(times, 0.5)} ms, p99 ${quantile(times, 0.99)} ms`);
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
} finally {
  await producer.disconnect();
  await kafka.stop();
}
results.save();
