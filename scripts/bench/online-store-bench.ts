/**
 * Online lookups from LMDB, Redis and a Redis Cluster side by side: the same repo
 * materialized into each, then in-process lookups (1 and 100 entities) and HTTP with wrk
 * (1 entity, 16 connections), alternated in rounds. Starts its own redis-server on loopback
 * and its own cluster (three masters, three replicas; writes wait for a replica).
 *   bun scripts/bench/online-store-bench.ts [users=10000] [seconds=5] [rounds=3]
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { startRedis } from "../../test/helpers/redis-server.ts";
import { startRedisCluster } from "../../test/helpers/redis-cluster.ts";
import { benchRepo, machine } from "./bench-repo.ts";
import { benchResults, lookupTimes, quantile, serverUrl } from "./bench-tools.ts";

const users = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 5);
const rounds = Number(process.argv[4] ?? 3);
const redis = await startRedis();
const cluster = await startRedisCluster();
if (!redis || !cluster) throw new Error("redis-server is needed for this benchmark");
rmSync(join(tmpdir(), "larder-bench", `stores-${users}`), { recursive: true, force: true });
const repo = await benchRepo(`stores-${users}`, users * 200, users, 1000, 90, Math.floor(Date.now() / 3_600_000) * 3_600_000);
const redisUrl = `${redis.url}?prefix=bench:`;
const clusterUrl = `${cluster.url}?prefix=bench:`;
const stores = {
  lmdb: repo.larder,
  redis: new Larder(loadConfig({ repoDir: repo.dir, online: redisUrl }, {})),
  "redis-cluster": new Larder(loadConfig({ repoDir: repo.dir, online: clusterUrl }, {})),
};
const results = benchResults("online-store", { users, seconds, rounds }, machine());
for (const [name, larder] of Object.entries(stores)) {
  const t0 = performance.now();
  await larder.materialize();
  const s = (performance.now() - t0) / 1000;
  results.add(`materialize into ${name}, s`, s);
  console.log(`materialize into ${name}: ${s.toFixed(1)} s`);
}
console.log(`machine: ${machine()}; ${users} users × ~200 events, service fraud_detection (11 features, 2 views)`);

/** Figures of every round, per name: the median goes into the results. */
const perRound = new Map<string, number[]>();
const note = (name: string, value: number) => perRound.set(name, [...(perRound.get(name) ?? []), value]);
for (let round = 0; round < rounds; round++) {
  for (const batch of [1, 100]) {
    for (const [name, larder] of Object.entries(stores)) {
      const times = await lookupTimes(larder, users, batch, 2000);
      note(`in-process, ${batch} entit${batch === 1 ? "y" : "ies"}, ${name}: lookups/s (median)`, times.length / 2);
      console.log(
        `round ${round + 1}, in-process, ${batch} entit${batch === 1 ? "y" : "ies"}, ${name}: ${Math.round(times.length / 2).toLocaleString()} lookups/s, p50 ${quantile(times, 0.5)} ms, p99 ${quantile(times, 0.99)} ms`,
      );
    }
  }
}
for (const larder of Object.values(stores)) await larder.close();

// HTTP: one server per store, wrk alternating between them.
const main = resolve(import.meta.dir, "../../src/main.ts");
const serve = (online: string) =>
  Bun.spawn([process.execPath, main, "serve", "--repo", repo.dir], { stdout: "pipe", stderr: "inherit", env: { ...process.env, LARDER_PORT: "0", LARDER_ONLINE: online } });
const servers = { lmdb: serve("lmdb"), redis: serve(redisUrl), "redis-cluster": serve(clusterUrl) };
const urls: Record<string, string> = {};
for (const [name, p] of Object.entries(servers)) urls[name] = await serverUrl(p);
try {
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(servers)) {
      const p = Bun.spawn(["wrk", "-t1", "-c16", `-d${seconds}s`, "--latency", "-s", resolve(import.meta.dir, "lookup.lua"), urls[name]!], {
        stdout: "pipe",
        env: { ...process.env, BATCH: "1", USERS: String(users) },
      });
      const out = await new Response(p.stdout).text();
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)![1];
      const p99 = /^\s+99%\s+(\S+)/m.exec(out)![1];
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
      note(`HTTP 1 entity, 16 connections, ${name}: rps (median)`, Number(rps));
      console.log(`round ${round + 1}, HTTP 1 entity, 16 connections, ${name}: ${Math.round(Number(rps)).toLocaleString()} rps, p99 ${p99}, ${errors} errors`);
    }
  }
  for (const [name, values] of perRound) results.add(name, [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!);
  results.save();
} finally {
  for (const p of Object.values(servers)) p.kill("SIGTERM");
  await Promise.all(Object.values(servers).map((p) => p.exited));
  await redis.stop();
  await cluster.stop();
}
