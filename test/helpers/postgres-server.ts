/**
 * A real PostgreSQL (Debian's postgresql package) on a free loopback port for one test
 * file: initdb into a temp folder, trust auth, one database. As root (CI), it runs as the
 * `postgres` user, since PostgreSQL refuses to run as root. Missing: a loud skip, except
 * under CI=true, where it is a failure (.ci/run installs it).
 */
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-server.ts";

export type PostgresServer = { url: string; stop(): Promise<void> };

export function postgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, "bin") : null;
}

export async function startPostgres(): Promise<PostgresServer | null> {
  const bin = postgresBin();
  if (!bin) {
    if (process.env.CI === "true") throw new Error("PostgreSQL is not installed: CI must install it (apt-get install -y postgresql)");
    console.warn("\n!!! SKIPPING PostgreSQL tests: PostgreSQL is not installed (apt-get install -y postgresql) !!!\n");
    return null;
  }
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "larder-pg-"));
  const data = join(dir, "data");
  if (asRoot) {
    const pw = Bun.spawnSync(["id", "-u", "postgres"]);
    const gw = Bun.spawnSync(["id", "-g", "postgres"]);
    chownSync(dir, Number(pw.stdout.toString()), Number(gw.stdout.toString()));
  }
  const run = (cmd: string[]) => Bun.spawn(asRoot ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd, { stdout: "pipe", stderr: "pipe" });
  const init = run([join(bin, "initdb"), "-D", data, "-U", "larder", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  if ((await init.exited) !== 0) throw new Error(`initdb failed: ${await new Response(init.stderr).text()}`);
  const port = await freePort();
  const proc = run([join(bin, "postgres"), "-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "full_page_writes=off"]);
  const url = `postgres://larder@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    try {
      const sql = new Bun.SQL(url);
      await sql`SELECT 1`;
      await sql.close();
      break;
    } catch {
      if (i > 200 || proc.exitCode !== null) throw new Error(`postgres did not start on port ${port}: ${await new Response(proc.stderr).text()}`);
      await Bun.sleep(50);
    }
  }
  return {
    url,
    async stop() {
      // To the postmaster itself (runuser, as root, does not pass signals on): a fast shutdown.
      const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      process.kill(pid, "SIGINT");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
