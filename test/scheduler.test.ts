/**
 * Schedules inside `larder serve` (croner): views materialize incrementally on their
 * cron, never two runs of one view at once (skips are recorded), a missed schedule runs
 * once at start-up, GET /v1/schedules tells next and last runs, POST /v1/materialize runs
 * now (409 while running), and LARDER_SCHEDULES=off leaves schedules to another replica.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import { startServer } from "../src/server/start-server.ts";
import { createApp } from "../src/server/app.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./helpers/push-scenario.ts";
import { randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const events = randomEvents(91, 120);
const withSchedule = (schedule: string) => PUSH_FEATURES_TS.replace('  ttl: "3d",', `  ttl: "3d",\n  schedule: ${schedule},`);

function repo(schedule: string, config: Record<string, string> = {}): TempRepo {
  const r = tempRepo({ "features/stats.ts": withSchedule(schedule), "data/events.csv": pushCsv(events) }, { port: "0", ...config });
  repos.push(r);
  return r;
}

const quiet = () => {};

describe("scheduler", () => {
  test("a view on a per-second schedule is materialized by serve; GET /v1/schedules shows next and last runs", async () => {
    const r = repo('"* * * * * *"');
    await r.larder.apply();
    const server = startServer(r.larder, quiet);
    try {
      await Bun.sleep(2600);
      const res = await fetch(`http://${server.hostname}:${server.port}/v1/schedules`);
      const body = (await res.json()) as {
        enabled: boolean;
        schedules: { view: string; cron: string; timezone: string; next: string; running: boolean; last: { status: string; via: string } }[];
      };
      expect(body.enabled).toBe(true);
      expect(body.schedules).toHaveLength(1);
      const [s] = body.schedules;
      expect(s).toMatchObject({ view: "user_stats", cron: "* * * * * *", timezone: "UTC", last: { status: "succeeded" } });
      expect(Date.parse(s!.next) - Date.now()).toBeLessThanOrEqual(1000);
      const runs = await r.larder.runs.list({ kind: "materialize", view: "user_stats", limit: 50 });
      // The first run is the catch-up (nothing was ever materialized), then one per tick.
      expect(runs.at(-1)!.startedBy.via).toBe("schedule (missed while down)");
      expect(runs.filter((x) => x.startedBy.via === "schedule" && x.status === "succeeded").length).toBeGreaterThanOrEqual(1);
      expect(runs.filter((x) => x.status === "succeeded").every((x) => x.details.mode === "full" || x.details.mode === "incremental")).toBe(true);
      expect((await r.larder.store().pointers()).get("user_stats")).toBeDefined();
    } finally {
      await server.stop();
    }
  });

  test("never two runs of one view at once: a second trigger is skipped and recorded; POST /v1/materialize answers 409", async () => {
    const r = repo('"0 0 1 1 *"');
    await r.larder.apply();
    const scheduler = new Scheduler(r.larder, quiet);
    const app = createApp(r.larder, quiet, scheduler);
    const first = scheduler.trigger("user_stats", "test");
    const second = await scheduler.trigger("user_stats", "test");
    expect(second).toBeNull();
    const post = await app.request("/v1/materialize", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ views: ["user_stats"] }) });
    expect(post.status).toBe(409);
    expect(((await post.json()) as { message: string }).message).toBe("being materialized right now: user_stats; try again when done (GET /v1/schedules)");
    const done = await first;
    expect(done!.events).toBe(events.length);
    const runs = await r.larder.runs.list({ kind: "materialize" });
    expect(runs.map((x) => x.status).sort()).toEqual(["skipped", "succeeded"]);
    expect(runs.find((x) => x.status === "skipped")!.details.reason).toBe("a run of this view was still going");
    // Idle, it runs now and answers the results.
    const ok = await app.request("/v1/materialize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ views: ["user_stats"], full: true }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { results: { view: string; mode: string }[] }).results).toEqual([expect.objectContaining({ view: "user_stats", mode: "full" })]);
    const bad = await app.request("/v1/materialize", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ views: ["nope"] }) });
    expect(bad.status).toBe(404);
  });

  test("after downtime a missed schedule runs once at start-up, not once per missed tick", async () => {
    const r = repo('{ cron: "0 * * * *", timezone: "Europe/Berlin" }');
    await r.larder.apply();
    const count = async () => (await r.larder.runs.list({ kind: "materialize", limit: 100 })).length;
    const a = new Scheduler(r.larder, quiet);
    await a.start();
    await Bun.sleep(300);
    await a.stop();
    expect(await count()).toBe(1);
    const [run] = await r.larder.runs.list({ kind: "materialize" });
    expect(run!.startedBy.via).toBe("schedule (missed while down)");
    // Started again within the hour: the last run is after the latest tick, nothing to catch up.
    const b = new Scheduler(r.larder, quiet);
    await b.start();
    await Bun.sleep(300);
    expect(b.states()).toEqual([expect.objectContaining({ view: "user_stats", cron: "0 * * * *", timezone: "Europe/Berlin", running: false, last: null })]);
    await b.stop();
    expect(await count()).toBe(1);
  });

  test("a schedule that is not cron is a definition error; LARDER_SCHEDULES=off runs none", async () => {
    const bad = repo('"61 * * * *"');
    await expect(bad.larder.apply()).rejects.toThrow('✖ schedule "61 * * * *" is not a cron schedule');
    const off = repo('"* * * * * *"', { schedules: "off" });
    await off.larder.apply();
    const server = startServer(off.larder, quiet);
    try {
      await Bun.sleep(1300);
      const body = (await (await fetch(`http://${server.hostname}:${server.port}/v1/schedules`)).json()) as { enabled: boolean; schedules: unknown[] };
      expect(body).toEqual({ enabled: false, schedules: [] });
      expect(await off.larder.runs.list()).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
