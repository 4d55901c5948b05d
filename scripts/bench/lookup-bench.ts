/**
 * Online lookup benchmark, side by side in one run on one machine:
 * - in-process: getOnlineFeatures for 1 and 100 entities (lookups/s, p50/p99);
 * - HTTP: Debian's wrk on loopback against `larder serve` and a bare hono JSON handler,
 *   alternated in rounds, for 1 entity per request and (Larder) 100 per request.
 *   bun scripts/bench/lookup-bench.ts [users=10000] [seconds per run=5] [rounds=6]
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { benchRepo, machine } from "./bench-repo.ts";
import { cpuMs, lookupTimes, quantile, serverUrl } from "./bench-tools.ts";

const users = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 5);
const ROUNDS = Number(process.argv[4] ?? 6);
// Data ending now, so windows hold tiles as they would in production; rebuilt every run.
rmSync(join(tmpdir(), "larder-bench", `lookup-${users}`), { recursive: true, force: true });
const repo = await benchRepo(`lookup-${users}`, users * 200, users, 1000, 90, Math.floor(Date.now() / 3_600_000) * 3_600_000);
const larder = repo.larder;
await larder.materialize();
console.log(`machine: ${machine()}; ${users} users × ~200 events, service fraud_detection (11 features, 2 views)`);

// In-process.
for (const batch of [1, 100]) {
  const times = await lookupTimes(larder, users, batch, 3000);
  console.log(`in-process, ${batch} entit${batch === 1 ? "y" : "ies"}/lookup: ${Math.round(times.length / 3).toLocaleString()} lookups/s (${Math.round((times.length * batch) / 3).toLocaleString()} entities/s), p50 ${quantile(times, 0.5)} ms, p99 ${quantile(times, 0.99)} ms`);
}
await larder.close();

// HTTP with wrk.
function start(cmd: string[]) {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, LARDER_PORT: "0", LARDER_MAX_ENTITIES: "1000" } });
  return p;
}
type WrkResult = { rps: number; p50: number; p99: number; errors: number; cpuUsPerRequest: number };
async function wrk(url: string, batch: number, connections = 16, pid?: number): Promise<WrkResult> {
  const cpu0 = pid ? cpuMs(pid) : 0;
  const p = Bun.spawn(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", resolve(import.meta.dir, "lookup.lua"), url], {
    stdout: "pipe", env: { ...process.env, BATCH: String(batch), USERS: String(users) },
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
    cpuUsPerRequest: pid ? ((cpuMs(pid) - cpu0) * 1000) / requests : NaN,
  };
}
const main = resolve(import.meta.dir, "../../src/main.ts");
const larderServer = start([process.execPath, main, "serve", "--repo", repo.dir]);
const bareServer = start([process.execPath, resolve(import.meta.dir, "bare-hono-server.ts")]);
const [larderUrl, bareUrl] = [await serverUrl(larderServer), await serverUrl(bareServer)];
const fmt = (r: WrkResult) => `${Math.round(r.rps).toLocaleString()} rps, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms${r.errors ? `, ${r.errors} errors` : ""}`;
try {
  await wrk(larderUrl, 1); // warm-up
  await wrk(bareUrl, 1);
  // Alternated rounds: the machine's noise moves from minute to minute, so each ratio
  // compares neighbours, and the median of several says more than any one.
  const rounds: { larder: WrkResult; bare: WrkResult }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push({ larder: await wrk(larderUrl, 1, 16, larderServer.pid), bare: await wrk(bareUrl, 1, 16, bareServer.pid) });
  }
  for (const [i, r] of rounds.entries()) {
    console.log(`HTTP round ${i + 1}, 16 connections (saturated): larder 1 entity: ${fmt(r.larder)}, ${r.larder.cpuUsPerRequest.toFixed(0)} µs CPU/request | bare hono: ${fmt(r.bare)}, ${r.bare.cpuUsPerRequest.toFixed(0)} µs | ratio ${(r.larder.rps / r.bare.rps * 100).toFixed(0)} %`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(`HTTP 1 entity, median over ${ROUNDS} rounds: throughput ratio ${(median(rounds.map((r) => r.larder.rps / r.bare.rps)) * 100).toFixed(0)} %; bare handler's CPU per request / Larder's: ${(median(rounds.map((r) => r.bare.cpuUsPerRequest / r.larder.cpuUsPerRequest)) * 100).toFixed(0)} %`);
  for (let round = 0; round < 2; round++) console.log(`HTTP round ${round + 1}, 16 connections (saturated): larder 100 entities: ${fmt(await wrk(larderUrl, 100))}`);
  // Latency without queueing: one connection, one request at a time.
  console.log(`HTTP 1 connection: larder 1 entity: ${fmt(await wrk(larderUrl, 1, 1))} | bare hono: ${fmt(await wrk(bareUrl, 1, 1))}`);
  console.log(`HTTP 1 connection: larder 100 entities: ${fmt(await wrk(larderUrl, 100, 1))}`);
} finally {
  larderServer.kill("SIGTERM");
  bareServer.kill("SIGTERM");
  await Promise.all([larderServer.exited, bareServer.exited]);
}
