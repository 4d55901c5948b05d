/**
 * `larder serve --workers N`: N processes on one port. A worker answers lookups itself, by
 * Larder's route and Feast's (even with the primary frozen), with the reference's values;
 * every other route reaches the primary through whichever process took the connection;
 * /metrics counts every process's lookups; a worker that dies is started again; stopping
 * the primary stops them all, and a worker whose primary is killed exits by itself.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import { close, referenceValues } from "./helpers/reference.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { REF_FEATURES, T0, TTL, randomEvents } from "./helpers/random-scenario.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const DAY = 86_400_000;
const END = T0 + 21 * DAY;
const EVENTS = randomEvents(31, 1500);
const USERS = [...new Set(EVENTS.map((e) => e.key))];

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

async function materializedRepo(): Promise<TempRepo> {
  const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(EVENTS) }, { port: "0" });
  repos.push(r);
  await r.larder.apply();
  await r.larder.materialize({ end: END });
  await r.larder.close();
  return r;
}

function serve(r: TempRepo, workers: number) {
  return Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", "--workers", String(workers)], { cwd: r.dir, stdout: "pipe", stderr: "pipe" });
}

const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

/** The processes among `pids` holding a socket that listens on `port` (from /proc/net/tcp and each process's fds). */
function listeningOn(port: number, pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (parseInt(f[1]!.split(":")[1]!, 16) === port && f[3] === "0A") inodes.add(f[9]!);
    }
  }
  return pids.filter((pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? "");
      } catch {
        return false;
      }
    }),
  );
}

/** A lookup of one user at `t`, on a connection of its own (so the kernel may give it to any process). */
async function lookup(url: string, user: number, t: number, signal?: AbortSignal) {
  const res = await fetch(`${url}/v1/features/online`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    keepalive: false,
    signal,
    body: JSON.stringify({ service: "all", entities: { user_id: [user] }, at: t }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { values: Record<string, unknown> }[] }).results[0]!.values;
}

function mismatches(user: number, t: number, values: Record<string, unknown>): string[] {
  const want = referenceValues(EVENTS, user, t, TTL, REF_FEATURES);
  return REF_FEATURES.filter((f) => !close(values[f.name], want[f.name])).map((f) => `user ${user} ${f.name}: served ${values[f.name]}, reference ${want[f.name]}`);
}

const metric = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"/]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);

describe("larder serve --workers", () => {
  test("three processes on one port: lookups equal the reference, other routes answer through any process, /metrics counts them all", async () => {
    const r = await materializedRepo();
    const proc = serve(r, 3);
    const url = await serverUrl(proc);
    try {
      expect(url).toStartWith("http://127.0.0.1:");
      const workers = childrenOf(proc.pid);
      expect(workers).toHaveLength(2);
      expect(listeningOn(Number(new URL(url).port), [proc.pid, ...workers]).sort()).toEqual([proc.pid, ...workers].sort());

      const problems: string[] = [];
      for (let i = 0; i < 30; i++) {
        const user = USERS[i % USERS.length]!;
        const t = END + (i % 5) * 7 * 3_600_000;
        problems.push(...mismatches(user, t, await lookup(url, user, t)));
      }
      expect(problems).toEqual([]);

      // Answered by the primary, whichever process took the connection: same status, same body.
      const views = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${url}/v1/registry/feature-views/user_stats`, { keepalive: false });
        expect(res.status).toBe(200);
        views.add(await res.text());
        const bad = await fetch(`${url}/v1/push`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops", keepalive: false });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { code: string }).code).toBe("malformed_json");
      }
      expect(views.size).toBe(1);
      expect(JSON.parse([...views][0]!)).toMatchObject({ name: "user_stats" });
      // Pushes, bodies and all, through whichever process: each event applied once.
      const NEW_USER = 100_000;
      for (let i = 0; i < 6; i++) {
        const row = pushRow({ key: NEW_USER, ts: END + i * 1000, seq: 50_000 + i, amount: i, category: "a" });
        const res = await fetch(`${url}/v1/push`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ source: "events_push", rows: [row], to: "online" }),
          keepalive: false,
        });
        expect(res.status).toBe(200);
      }
      expect(await lookup(url, NEW_USER, END + DAY)).toMatchObject({ life_count: 6, life_sum: 15 });

      // Workers send their counts every second.
      await Bun.sleep(1_500);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metric(metrics, "larder_lookups_total")).toBe(31);
      expect(metric(metrics, 'larder_http_requests_total{route="/v1/features/online",method="POST",status="200"}')).toBe(31);
      expect(metric(metrics, 'larder_http_requests_total{route="/v1/push",method="POST",status="400"}')).toBe(12);

      // Feast's lookup route, as of now (months after the data: nothing changes meanwhile).
      const feastLookup = async (signal?: AbortSignal) => {
        const res = await fetch(`${url}/get-online-features`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          keepalive: false,
          signal,
          body: JSON.stringify({ feature_service: "all", entities: { user_id: USERS.slice(0, 5) } }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      const feastAnswer = await feastLookup();
      // With the primary frozen, the workers still answer the lookups they take.
      process.kill(proc.pid, "SIGSTOP");
      let answered = 0,
        feastAnswered = 0;
      try {
        for (let i = 0; i < 20; i++) {
          const user = USERS[i % USERS.length]!;
          const values = await lookup(url, user, END, AbortSignal.timeout(500)).catch(() => undefined);
          if (values) {
            answered++;
            expect(mismatches(user, END, values)).toEqual([]);
          }
          const feast = await feastLookup(AbortSignal.timeout(500)).catch(() => undefined);
          if (feast) {
            feastAnswered++;
            expect(feast).toEqual(feastAnswer);
          }
        }
      } finally {
        process.kill(proc.pid, "SIGCONT");
      }
      expect(answered).toBeGreaterThan(0);
      expect(feastAnswered).toBeGreaterThan(0);

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      for (const pid of workers) expect(alive(pid)).toBe(false);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 60_000);

  test("a worker that dies is started again; a worker whose primary is killed exits by itself", async () => {
    const r = await materializedRepo();
    const proc = serve(r, 2);
    const url = await serverUrl(proc);
    let replacement = 0;
    try {
      const [first] = childrenOf(proc.pid);
      process.kill(first!, "SIGKILL");
      for (let i = 0; i < 100 && !replacement; i++) {
        await Bun.sleep(100);
        replacement = childrenOf(proc.pid).find((pid) => pid !== first) ?? 0;
      }
      expect(replacement).toBeGreaterThan(0);
      const port = Number(new URL(url).port);
      for (let i = 0; i < 100 && !listeningOn(port, [replacement]).length; i++) await Bun.sleep(100);
      expect(listeningOn(port, [replacement])).toEqual([replacement]);
      const user = USERS[0]!;
      for (let i = 0; i < 10; i++) expect(mismatches(user, END, await lookup(url, user, END))).toEqual([]);

      proc.kill("SIGKILL");
      await proc.exited;
      for (let i = 0; i < 50 && alive(replacement); i++) await Bun.sleep(100);
      expect(alive(replacement)).toBe(false);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toMatch(new RegExp(`error server\\.worker_exited pid=${first} code=null signal=SIGKILL`));
    } finally {
      proc.kill("SIGKILL");
      if (replacement && alive(replacement)) process.kill(replacement, "SIGKILL");
    }
  }, 60_000);

  test("a worker count that is not a whole number from 1 to 64 is refused", async () => {
    const r = await materializedRepo();
    for (const bad of ["0", "two", "65"]) {
      const p = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", "--workers", bad], { cwd: r.dir, stdout: "pipe", stderr: "pipe" });
      expect(await p.exited).toBe(2);
      expect(await new Response(p.stderr).text()).toMatch(/larder serve: invalid configuration:\n✖ .*\n {2}→ at workers/);
    }
  });
});
