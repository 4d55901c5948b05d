/**
 * Online lookup benchmark, side by side in one run on one machine:
 * - in-process: getOnlineFeatures for 1 and 100 entities (lookups/s, p50/p99);
 * - HTTP: Debian's wrk on loopback against `larder serve` and a bare hono JSON handler,
 *   alternated in rounds, for 1 entity per request and (Larder) 100 per request; for each
 *   count of processes in a list, `larder serve --workers N` against N bare processes on
 *   one port (SO_REUSEPORT), so both sides get the same; with Debian's hey installed, the
 *   latency of both at a fixed 4,000 requests/s, below either's saturation.
 *   bun scripts/bench/lookup-bench.ts [users=10000] [seconds per run=5] [rounds=6] [processes=1,2]
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { benchRepo, machine } from "./bench-repo.ts";
import { benchResults, lookupTimes, quantile, serverUrl, treeCpuMs } from "./bench-tools.ts";

const users = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 5);
const ROUNDS = Number(process.argv[4] ?? 6);
const PROCESSES = (process.argv[5] ?? "1,2").split(",").map(Number);
if (PROCESSES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`processes: give a count or a list such as 1,2, not "${process.argv[5]}"`);
// Data ending now, so windows hold tiles as they would in production; rebuilt every run.
rmSync(join(tmpdir(), "larder-bench", `lookup-${users}`), { recursive: true, force: true });
const repo = await benchRepo(`lookup-${users}`, users * 200, users, 1000, 90, Math.floor(Date.now() / 3_600_000) * 3_600_000);
const larder = repo.larder;
await larder.materialize();
console.log(`machine: ${machine()}; ${users} users × ~200 events, service fraud_detection (11 features, 2 views)`);

const results = benchResults("lookup", { users, seconds, rounds: ROUNDS, processes: PROCESSES }, machine());
// In-process.
for (const batch of [1, 100]) {
  const times = await lookupTimes(larder, users, batch, 3000);
  results.add(`in-process, ${batch} entit${batch === 1 ? "y" : "ies"}: lookups/s`, times.length / 3);
  results.add(`in-process, ${batch} entit${batch === 1 ? "y" : "ies"}: p99 ms`, Number(quantile(times, 0.99)));
  console.log(
    `in-process, ${batch} entit${batch === 1 ? "y" : "ies"}/lookup: ${Math.round(times.length / 3).toLocaleString()} lookups/s (${Math.round((times.length * batch) / 3).toLocaleString()} entities/s), p50 ${quantile(times, 0.5)} ms, p99 ${quantile(times, 0.99)} ms`,
  );
}
await larder.close();

// HTTP with wrk.
function start(cmd: string[], env: Record<string, string> = {}) {
  return Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, LARDER_PORT: "0", LARDER_MAX_ENTITIES: "1000", ...env } });
}
type WrkResult = { rps: number; p50: number; p99: number; errors: number; cpuUsPerRequest: number };
/** `pids`: the server's processes, whose CPU time (with their children's) is counted. */
async function wrk(url: string, batch: number, connections = 16, pids: number[] = []): Promise<WrkResult> {
  const cpu = () => pids.reduce((sum, pid) => sum + treeCpuMs(pid), 0);
  const cpu0 = cpu();
  const p = Bun.spawn(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", resolve(import.meta.dir, "lookup.lua"), url], {
    stdout: "pipe",
    env: { ...process.env, BATCH: String(batch), USERS: String(users) },
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  const ms = (s: string) => (s.endsWith("us") ? parseFloat(s) / 1000 : s.endsWith("ms") ? parseFloat(s) : s.endsWith("s") ? parseFloat(s) * 1000 : NaN);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: parseFloat(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]!),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(out)![1]!),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(out)![1]!),
    errors: errors ? Number(errors[1]) : 0,
    cpuUsPerRequest: pids.length ? ((cpu() - cpu0) * 1000) / requests : NaN,
  };
}
/** One user's lookup at FIXED_RATE requests/s from 8 clients (hey sends one body): its p50 and p99 in ms. */
const FIXED_RATE = 4000;
async function hey(url: string): Promise<{ rps: number; p50: number; p99: number; ok: number }> {
  const body = JSON.stringify({ service: "fraud_detection", entities: { user_id: [17], merchant_id: [3] } });
  const p = Bun.spawn(["hey", "-z", `${seconds}s`, "-c", "8", "-q", String(FIXED_RATE / 8), "-m", "POST", "-T", "application/json", "-d", body, `${url}/v1/features/online`], {
    stdout: "pipe",
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const secs = (q: string) => parseFloat(new RegExp(`${q}% in ([\\d.]+) secs`).exec(out)![1]!) * 1000;
  return { rps: parseFloat(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]!), p50: secs("50"), p99: secs("99"), ok: Number(/\[200\]\s+(\d+) responses/.exec(out)?.[1] ?? 0) };
}
const fmtHey = (r: Awaited<ReturnType<typeof hey>>) =>
  `${Math.round(r.rps).toLocaleString()} rps (${r.ok.toLocaleString()} answered 200), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
const main = resolve(import.meta.dir, "../../src/main.ts");
const bareMain = resolve(import.meta.dir, "bare-hono-server.ts");
const fmt = (r: WrkResult) => `${Math.round(r.rps).toLocaleString()} rps, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms${r.errors ? `, ${r.errors} errors` : ""}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

for (const n of PROCESSES) {
  const larderServer = start([process.execPath, main, "serve", "--repo", repo.dir], { LARDER_WORKERS: String(n) });
  // The bare handler: n processes on one port, the first picking it.
  const bare = [start([process.execPath, bareMain])];
  const [larderUrl, bareUrl] = [await serverUrl(larderServer), await serverUrl(bare[0]!)];
  for (let i = 1; i < n; i++) {
    bare.push(start([process.execPath, bareMain, new URL(bareUrl).port]));
    await serverUrl(bare[i]!);
  }
  const label = n === 1 ? "1 process" : `${n} processes`;
  try {
    await wrk(larderUrl, 1); // warm-up
    await wrk(bareUrl, 1);
    // Alternated rounds: the machine's noise moves from minute to minute, so each ratio
    // compares neighbours, and the median of several says more than any one.
    const rounds: { larder: WrkResult; bare: WrkResult }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({
        larder: await wrk(larderUrl, 1, 16, [larderServer.pid]),
        bare: await wrk(
          bareUrl,
          1,
          16,
          bare.map((b) => b.pid),
        ),
      });
    }
    for (const [i, r] of rounds.entries()) {
      console.log(
        `HTTP ${label}, round ${i + 1}, 16 connections (saturated): larder 1 entity: ${fmt(r.larder)}, ${r.larder.cpuUsPerRequest.toFixed(0)} µs CPU/request | bare hono: ${fmt(r.bare)}, ${r.bare.cpuUsPerRequest.toFixed(0)} µs | ratio ${((r.larder.rps / r.bare.rps) * 100).toFixed(0)} %`,
      );
    }
    console.log(
      `HTTP ${label}, 1 entity, median over ${ROUNDS} rounds: throughput ratio ${(median(rounds.map((r) => r.larder.rps / r.bare.rps)) * 100).toFixed(0)} %; p99 larder ${median(rounds.map((r) => r.larder.p99)).toFixed(2)} ms, bare ${median(rounds.map((r) => r.bare.p99)).toFixed(2)} ms; bare handler's CPU per request / Larder's: ${(median(rounds.map((r) => r.bare.cpuUsPerRequest / r.larder.cpuUsPerRequest)) * 100).toFixed(0)} %`,
    );
    results.add(`HTTP ${label}, 1 entity, 16 connections: rps (median)`, median(rounds.map((r) => r.larder.rps)));
    results.add(`HTTP ${label}, 1 entity, 16 connections: p99 ms (median)`, median(rounds.map((r) => r.larder.p99)));
    results.add(`HTTP ${label}, 1 entity: Larder / bare hono throughput, %`, median(rounds.map((r) => r.larder.rps / r.bare.rps)) * 100);
    for (let round = 0; round < 2; round++) console.log(`HTTP ${label}, round ${round + 1}, 16 connections (saturated): larder 100 entities: ${fmt(await wrk(larderUrl, 100))}`);
    // Latency without queueing: one connection, one request at a time.
    console.log(`HTTP ${label}, 1 connection: larder 1 entity: ${fmt(await wrk(larderUrl, 1, 1))} | bare hono: ${fmt(await wrk(bareUrl, 1, 1))}`);
    console.log(`HTTP ${label}, 1 connection: larder 100 entities: ${fmt(await wrk(larderUrl, 100, 1))}`);
    // Latency at a fixed rate below both saturation points (wrk only saturates).
    if (Bun.which("hey")) {
      for (let round = 0; round < 2; round++) {
        console.log(
          `HTTP ${label}, fixed ${FIXED_RATE.toLocaleString()} requests/s (hey): larder 1 entity: ${fmtHey(await hey(larderUrl))} | bare hono: ${fmtHey(await hey(bareUrl))}`,
        );
      }
    } else console.log("fixed-rate latency skipped: install Debian's hey (apt-get install hey)");
  } finally {
    for (const p of [larderServer, ...bare]) p.kill("SIGTERM");
    await Promise.all([larderServer.exited, ...bare.map((b) => b.exited)]);
  }
}
results.save();
