/**
 * A real redis-server on a free loopback port for one test file. Missing: a loud skip,
 * except under CI=true, where it is a failure (CI installs it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type RedisServer = { url: string; stop(): Promise<void> /** Stops and starts it again on the same port and data (an outage). */; restart(downMs: number): Promise<void> };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisServer | null> {
  const bin = Bun.which("redis-server");
  if (!bin) {
    if (process.env.CI === "true") throw new Error("redis-server is not installed: CI must install it (apt-get install -y redis-server)");
    console.warn("\n!!! SKIPPING Redis tests: redis-server is not installed (apt-get install -y redis-server) !!!\n");
    return null;
  }
  const port = await freePort();
  // Its data survives a restart (append-only file in a temp folder), so outages can be tested.
  const dir = mkdtempSync(join(tmpdir(), "larder-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  const launch = async () => {
    const proc = Bun.spawn([bin, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "no"], {
      stdout: "ignore",
      stderr: "pipe",
    });
    for (let i = 0; ; i++) {
      try {
        const c = new Bun.RedisClient(url);
        await c.send("PING", []);
        c.close();
        return proc;
      } catch {
        if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port}: ${await new Response(proc.stderr).text()}`);
        await Bun.sleep(50);
      }
    }
  };
  let proc = await launch();
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  return {
    url,
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(downMs: number) {
      await stop();
      await Bun.sleep(downMs);
      proc = await launch();
    },
  };
}
