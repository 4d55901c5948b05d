/**
 * A real Redis Cluster of Debian's redis-server for one test file: three masters with a
 * replica each on free loopback ports, made with `redis-cli --cluster create`, a 2 s node
 * timeout so a failover takes seconds. Missing: a loud skip, except under CI=true.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { freePort } from "./redis-server.ts";

export type RedisCluster = {
  /** `redis-cluster://` URL listing every node. */
  url: string;
  nodes: string[];
  /** The node now master of `slot`. */
  masterOf(slot: number): Promise<string>;
  /** Kills a node (SIGKILL: no goodbye). */
  kill(node: string): Promise<void>;
  /** Waits until every live node agrees the cluster is ok and `slot` has a live master. */
  healthy(slot?: number): Promise<void>;
  stop(): Promise<void>;
};

const sleep = (ms: number) => Bun.sleep(ms);

async function ask(node: string, cmd: string, args: string[]): Promise<unknown> {
  const c = new RedisClient(`redis://${node}`, { connectionTimeout: 500, autoReconnect: false, enableOfflineQueue: false });
  try {
    await c.connect();
    return await c.send(cmd, args);
  } finally {
    c.close();
  }
}

export async function startRedisCluster(): Promise<RedisCluster | null> {
  const server = Bun.which("redis-server");
  const cli = Bun.which("redis-cli");
  if (!server || !cli) {
    if (process.env.CI === "true") throw new Error("redis-server is not installed: CI must install it (apt-get install -y redis-server)");
    console.warn("\n!!! SKIPPING Redis Cluster tests: redis-server is not installed (apt-get install -y redis-server) !!!\n");
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), "larder-redis-cluster-"));
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const procs = new Map<string, ReturnType<typeof Bun.spawn>>();
  for (const port of ports) {
    const d = join(dir, String(port));
    mkdirSync(d);
    const node = `127.0.0.1:${port}`;
    procs.set(
      node,
      Bun.spawn(
        [
          server,
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          d,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000",
          "--appendonly",
          "yes",
          "--appendfsync",
          "no",
          "--save",
          "",
        ],
        { stdout: "ignore", stderr: "ignore" },
      ),
    );
  }
  const nodes = [...procs.keys()];
  for (const node of nodes) {
    for (let i = 0; ; i++) {
      try {
        await ask(node, "PING", []);
        break;
      } catch {
        if (i > 100) throw new Error(`redis-server ${node} did not start`);
        await sleep(50);
      }
    }
  }
  const create = Bun.spawnSync([cli, "--cluster", "create", ...nodes, "--cluster-replicas", "1", "--cluster-yes"], { stdout: "pipe", stderr: "pipe" });
  if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr.toString()}${create.stdout.toString()}`);
  const dead = new Set<string>();
  const cluster: RedisCluster = {
    url: `redis-cluster://${nodes.join(",")}`,
    nodes,
    async masterOf(slot) {
      for (const node of nodes.filter((n) => !dead.has(n))) {
        try {
          const slots = (await ask(node, "CLUSTER", ["SLOTS"])) as [number, number, [string, number]][];
          const r = slots.find(([a, b]) => slot >= a && slot <= b);
          if (r) return `${r[2][0]}:${r[2][1]}`;
        } catch {}
      }
      throw new Error(`no master for slot ${slot}`);
    },
    async kill(node) {
      dead.add(node);
      procs.get(node)!.kill("SIGKILL");
      await procs.get(node)!.exited;
    },
    async healthy(slot) {
      for (let i = 0; i < 300; i++) {
        const states = await Promise.all(
          nodes
            .filter((n) => !dead.has(n))
            .map((n) =>
              ask(n, "CLUSTER", ["INFO"]).then(
                (s) => /cluster_state:ok/.test(String(s)),
                () => false,
              ),
            ),
        );
        const masterAlive = slot === undefined || !dead.has(await cluster.masterOf(slot).catch(() => [...dead][0]!));
        // At the start, every master also has its replica attached and in sync (writes wait for one).
        const replicated =
          dead.size > 0 ||
          (
            await Promise.all(
              nodes.map((n) =>
                ask(n, "INFO", ["replication"]).then(
                  (s) => !/role:master/.test(String(s)) || (/connected_slaves:1/.test(String(s)) && /state=online/.test(String(s))),
                  () => false,
                ),
              ),
            )
          ).every(Boolean);
        if (states.every(Boolean) && masterAlive && replicated) return;
        await sleep(100);
      }
      throw new Error("the Redis Cluster did not become healthy");
    },
    async stop() {
      for (const p of procs.values()) p.kill("SIGKILL");
      await Promise.all([...procs.values()].map((p) => p.exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.healthy();
  return cluster;
}
