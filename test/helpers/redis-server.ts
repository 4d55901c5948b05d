/**
 * A real redis-server on a free loopback port for one test file. Missing: a loud skip,
 * except under CI=true, where it is a failure (CI installs it).
 */
import { createServer } from "node:net";

export type RedisServer = { url: string; stop(): Promise<void> };

async function freePort(): Promise<number> {
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
  const proc = Bun.spawn([bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "pipe" });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const c = new Bun.RedisClient(url);
      await c.send("PING", []);
      c.close();
      break;
    } catch {
      if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port}: ${await new Response(proc.stderr).text()}`);
      await Bun.sleep(50);
    }
  }
  return {
    url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
