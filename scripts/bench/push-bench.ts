/**
 * Streaming benchmark: `larder serve` with the demo's two fraud views over a push source
 * (11 features: 7- and 30-day windows, counts per hour and day, lifetime statistics).
 * - sustained: concurrent clients POST /v1/push batches of new transactions (random
 *   users among 1,000 and merchants among 200), events/s and push latency;
 * - freshness: one event pushed while lookups of that user are sent back to back: from
 *   sending the event to the first lookup answer that includes it (visible), and to the
 *   push's own answer (acknowledged, after its commit is on disk), p50/p99, idle and under
 *   the sustained load. The idle
 *   probes start after 50 unmeasured ones (the first push compiles DuckDB's statement and
 *   warms the JIT); the very first push's time is printed on its own.
 * - paced (a list of rates, optional): the same clients sending at a fixed total rate below
 *   saturation, and freshness under that load; at saturation a probe waits behind the
 *   queue of batches in flight, which says more about the queue than about the server.
 * - the server's main thread: the share of the time it was busy. Below ~90 % the rate is
 *   bounded by how long each push waits (its batch's commit and disk flush), not by CPU;
 *   more clients in flight then raise it (a list of client counts runs one after another).
 *   bun scripts/bench/push-bench.ts [seconds=10] [clients=4, or a list: 4,8,16] [batch=200] [paced events/s: 10000,20000]
 * The repo goes under $TMPDIR: TMPDIR=/dev/shm (tmpfs) shows what the same code does when a
 * disk flush costs nothing.
 */
import { rmSync } from "node:fs";
import { machine } from "./bench-repo.ts";
import { benchResults, cpuMs, quantile, threadCpuMs } from "./bench-tools.ts";
import { pushRepo, serveRepo, transaction } from "./push-repo.ts";

const seconds = Number(process.argv[2] ?? 10);
const clientCounts = (process.argv[3] ?? "4").split(",").map(Number);
if (!clientCounts.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`clients: give a count or a list of counts such as 4,8,16, not "${process.argv[3]}"`);
const batch = Number(process.argv[4] ?? 200);
const rates = (process.argv[5] ?? "").split(",").filter(Boolean).map(Number);
if (!rates.every((r) => r > 0)) throw new Error(`paced rates: give events/s such as 10000,20000, not "${process.argv[5]}"`);
// The demo's features and data, their views reading a push source over the transactions file.
const dir = pushRepo("larder-push-bench-");
// The demo just wrote ~100 MB; its write-back would otherwise compete with the pushes' disk syncs.
Bun.spawnSync(["sync"]);
const { server, url } = await serveRepo(dir, process.env.PROFILE ? ["--cpu-prof", "--cpu-prof-md", "--cpu-prof-interval=200", `--cpu-prof-dir=${process.env.PROFILE}`] : []);
const serverCpuMs = () => cpuMs(server.pid);
const mainThreadMs = () => threadCpuMs(server.pid, server.pid);

const txn = transaction;
const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Pushes batches until `until`; with `everyMs`, one batch every `everyMs` from `start` (at once when behind). */
async function sustained(until: number, latencies: number[], pace?: { start: number; everyMs: number }): Promise<number> {
  let events = 0;
  for (let sent = 0; performance.now() < until; sent++) {
    if (pace) {
      const wait = pace.start + sent * pace.everyMs - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (performance.now() >= until) break;
    }
    const rows = Array.from({ length: batch }, () => txn(1 + Math.floor(Math.random() * 1000)));
    const t0 = performance.now();
    const res = await post("/v1/push", { source: "transactions_push", rows });
    if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    events += batch;
  }
  return events;
}

/**
 * Push one event for a user no one else writes, and read that user back to back while the
 * push is in flight: from sending the event to the first lookup answer that includes it
 * (visible), and to the push's own answer (acknowledged: its commit is on disk).
 */
async function freshness(probes: number, user: number, pushedBefore = 0): Promise<{ visible: number[]; acknowledged: number[] }> {
  const visible: number[] = [];
  const acknowledged: number[] = [];
  for (let i = 0; i < probes; i++) {
    const t0 = performance.now();
    const before = pushedBefore + i;
    const pushed = post("/v1/push", { source: "transactions_push", rows: [txn(user)] }).then(async (res) => {
      if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - t0;
    });
    let failed: unknown;
    pushed.catch((err) => (failed = err));
    for (;;) {
      if (failed) throw failed;
      const look = (await (await post("/v1/features/online", { features: ["user_transactions:lifetime_txn_count"], entities: { user_id: [user] } })).json()) as {
        results: { values: { lifetime_txn_count: number } }[];
      };
      if (look.results[0]!.values.lifetime_txn_count === before + 1) break;
    }
    visible.push(performance.now() - t0);
    acknowledged.push(await pushed);
  }
  return { visible, acknowledged };
}

const q = (xs: number[], p: number) => quantile(xs, p, 2);
const results = benchResults("push", { seconds, clients: clientCounts, batch, rates }, machine());
const freshnessLine = (f: { visible: number[]; acknowledged: number[] }) =>
  `visible p50 ${q(f.visible, 0.5)} ms, p99 ${q(f.visible, 0.99)} ms; acknowledged p50 ${q(f.acknowledged, 0.5)} ms, p99 ${q(f.acknowledged, 0.99)} ms`;

/** One load run of `clients` clients, saturating or at `rate` events/s, with freshness probes alongside. */
async function loadRound(round: number, clients: number, rate?: number): Promise<void> {
  const latencies: number[] = [];
  const cpu0 = serverCpuMs();
  const main0 = mainThreadMs();
  const client0 = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  const everyMs = rate ? (clients * batch * 1000) / rate : 0;
  const pace = (c: number) => (rate ? { start: started + (c * everyMs) / clients, everyMs } : undefined);
  const [loaded, ...counts] = await Promise.all([freshness(200, 100_002 + round), ...Array.from({ length: clients }, (_, c) => sustained(until, latencies, pace(c)))]);
  const elapsed = (performance.now() - started) / 1000;
  const total = counts.reduce((a, b) => a + b, 0);
  const cpuPerEvent = ((serverCpuMs() - cpu0) * 1000) / total;
  const mainBusy = (mainThreadMs() - main0) / 10 / elapsed;
  // The load generator shares the machine: its CPU is what the server could not use.
  const client = process.cpuUsage(client0);
  const clientCores = (client.user + client.system) / 1e6 / elapsed;
  const how = rate ? `paced at ${rate.toLocaleString()} events/s, ${clients} clients` : `sustained, ${clients} clients`;
  console.log(
    `${how}: ${Math.round(total / elapsed).toLocaleString()} events/s (${total.toLocaleString()} events in ${elapsed.toFixed(1)} s); push of ${batch}: p50 ${q(latencies, 0.5)} ms, p99 ${q(latencies, 0.99)} ms; server CPU ${cpuPerEvent.toFixed(1)} µs/event (${((cpuPerEvent * total) / 1e6 / elapsed).toFixed(2)} cores, main thread busy ${mainBusy.toFixed(0)} %), load generator ${clientCores.toFixed(2)} cores`,
  );
  console.log(`freshness under that load (200 probes): ${freshnessLine(loaded)}`);
  results.add(`${how}: events/s`, total / elapsed);
  results.add(`${how}: push p99 ms`, Number(q(latencies, 0.99)));
  results.add(`${how}: visible p99 ms`, Number(q(loaded.visible, 0.99)));
}

try {
  console.log(`machine: ${machine()}; 2 views, 11 features over a push source; batches of ${batch}`);
  // The first pushes prepare DuckDB's statement and warm the JIT: a cold start, not a steady state.
  const first = await freshness(1, 100_001);
  await freshness(49, 100_000);
  const idle = await freshness(300, 100_001, 1);
  console.log(`first push after start (cold): ${first.visible[0]!.toFixed(2)} ms to visible`);
  console.log(`freshness, idle (300 probes): ${freshnessLine(idle)}`);
  results.add("idle: pushed event visible p50 ms", Number(q(idle.visible, 0.5)));
  results.add("idle: pushed event visible p99 ms", Number(q(idle.visible, 0.99)));
  for (const [round, clients] of clientCounts.entries()) await loadRound(round, clients);
  // Paced: each client's batches spread evenly, the clients offset from one another.
  for (const [i, rate] of rates.entries()) await loadRound(clientCounts.length + i, clientCounts[0]!, rate);
  results.save();
} finally {
  server.kill("SIGTERM");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
