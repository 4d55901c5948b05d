/**
 * Running unattended: a request past LARDER_REQUEST_TIMEOUT_MS answers 503; SIGTERM lets
 * the request in flight finish (its push is kept) and stops cleanly; a second signal exits
 * at once; logs are readable lines or JSON lines, filtered by level.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startServer } from "../src/server/start-server.ts";
import { makeLogger, type LogEvent } from "../src/log.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});
const MAIN = resolve(import.meta.dir, "../src/main.ts");
const DAY = 86_400_000;
const END = T0 + 21 * DAY;

async function repo(events = randomEvents(97, 200), config: Record<string, string> = {}): Promise<TempRepo> {
  const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events) }, { port: "0", ...config });
  repos.push(r);
  await r.larder.apply();
  return r;
}

function serve(r: TempRepo, env: Record<string, string> = {}) {
  return Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], { cwd: r.dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
}

/** A request whose body arrives in two parts: it is in flight for as long as we hold the second. */
function slowPush(url: string, rows: unknown[]) {
  const body = JSON.stringify({ source: "events_push", rows, to: "online" });
  const half = Math.floor(body.length / 2);
  let finish!: () => void;
  const rest = new Promise<void>((r) => (finish = r));
  const stream = new ReadableStream<Uint8Array>({
    async start(c) {
      c.enqueue(new TextEncoder().encode(body.slice(0, half)));
      await rest;
      c.enqueue(new TextEncoder().encode(body.slice(half)));
      c.close();
    },
  });
  const response = fetch(`${url}/v1/push`, { method: "POST", headers: { "content-type": "application/json" }, body: stream, duplex: "half" } as RequestInit);
  return { response, finish };
}

describe("operations", () => {
  test("a request past the timeout answers 503 request_timeout; its work still completes", async () => {
    const r = await repo(randomEvents(98, 3000), { requestTimeoutMs: "30" });
    const events: LogEvent[] = [];
    const server = startServer(r.larder, (e) => events.push(e));
    try {
      const res = await fetch(`http://${server.hostname}:${server.port}/v1/materialize`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ code: "request_timeout", message: "POST /v1/materialize took longer than 30 ms (LARDER_REQUEST_TIMEOUT_MS); it may still complete" });
      expect(events.some((e) => e.event === "http.timeout")).toBe(true);
      for (let i = 0; i < 100 && !(await r.larder.runs.list({ kind: "materialize" })).length; i++) await Bun.sleep(50);
      expect((await r.larder.runs.list({ kind: "materialize" }))[0]!.status).toBe("succeeded");
    } finally {
      await server.stop();
    }
  });

  test("SIGTERM: the push in flight finishes and is kept, new connections are refused, the process exits 0", async () => {
    const r = await repo();
    await r.larder.materialize({ end: END });
    await r.larder.close();
    const proc = serve(r);
    const url = await serverUrl(proc);
    const rows = Array.from({ length: 50 }, (_, i) => pushRow({ key: 7, ts: END + i * 1000, seq: 9000 + i, amount: 2, category: "a" }));
    const push = slowPush(url, rows);
    await Bun.sleep(200); // the first half is in
    proc.kill("SIGTERM");
    await Bun.sleep(200);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    push.finish();
    const res = await push.response;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rows: number }).rows).toBe(50);
    expect(await proc.exited).toBe(0);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toMatch(/info server\.stopping signal=SIGTERM inFlight=1/);
    expect(stderr).toContain("info server.stopped");
    // The push is in the store after the restart (user 7 had no events before it).
    const online = await getOnlineFeatures(
      r.larder.registry(),
      r.larder.store(),
      { refs: [{ view: "user_stats", feature: "life_count" }], entities: { user_id: [7] }, at: END + DAY },
      10,
    );
    expect(online.results[0]!.values.life_count).toBe(50);
  });

  test("a second signal exits at once, saying so", async () => {
    const r = await repo();
    const proc = serve(r);
    const url = await serverUrl(proc);
    const push = slowPush(url, [pushRow({ key: 1, ts: END, seq: 1, amount: 1, category: "a" })]);
    const outcome = push.response.then(
      (res) => res.status,
      (err: Error) => err.message,
    );
    await Bun.sleep(200);
    proc.kill("SIGTERM");
    await Bun.sleep(300);
    expect(proc.exitCode).toBeNull(); // still waiting for the request in flight
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(143);
    expect(await new Response(proc.stderr).text()).toContain("warn server.forced_exit signal=SIGTERM");
    push.finish();
    // The request in flight is cut off with the process.
    expect(await outcome).toContain("ECONNRESET");
  });

  test("logs: readable lines by default, JSON lines with LARDER_LOG=json, filtered by LARDER_LOG_LEVEL", async () => {
    const lines: string[] = [];
    const json = makeLogger("json", "info", (t) => lines.push(t));
    json({ level: "info", event: "schedule.ran", view: "v", via: "schedule", events: 3, seconds: 0.1 });
    json({ level: "error", event: "stream.failed", stream: "s", error: new Error("boom") });
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toEqual({ ts: expect.any(String), level: "info", event: "schedule.ran", view: "v", via: "schedule", events: 3, seconds: 0.1 });
    expect(parsed[1]).toMatchObject({ level: "error", event: "stream.failed", stream: "s" });
    expect(String(parsed[1]!.error)).toStartWith("Error: boom");
    const text: string[] = [];
    const warnOnly = makeLogger("text", "warn", (t) => text.push(t));
    warnOnly({ level: "info", event: "server.stopped" });
    warnOnly({ level: "warn", event: "stream.dead_letter", stream: "larder:push:p", id: "1-0", reason: "row 0: bad value" });
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z warn stream\.dead_letter stream=larder:push:p id=1-0 reason="row 0: bad value"$/);

    // A real server started with LARDER_LOG=json writes JSON lines.
    const r = await repo();
    const proc = serve(r, { LARDER_LOG: "json" });
    await serverUrl(proc);
    proc.kill("SIGTERM");
    await proc.exited;
    const events = (await new Response(proc.stderr).text())
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(["server.started", "server.stopping", "server.stopped"]);
  });
});
