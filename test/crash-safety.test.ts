/**
 * kill -9, then restart: during a materialization the online store serves the old state
 * or the new one for every entity, never a mix; during a burst of pushes no acknowledged
 * push is lost and none is half applied.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { Duck } from "../src/offline/duckdb.ts";
import { FEATURES_TS } from "./helpers/random-scenario.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { serverUrl } from "./helpers/server-url.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});
const MAIN = resolve(import.meta.dir, "../src/main.ts");
const USERS = 20_000;
// Just after the last event (events run from T0 for 13.9 days): 1-day and 3-day ttls differ here.
const END = "2026-01-14T20:00:00Z";
const END_MS = Date.parse(END);

async function lookupAll(larder: Larder): Promise<{ version: string; values: string }> {
  const registry = larder.registry();
  const refs = registry.service("all").features;
  const out: unknown[] = [];
  for (let lo = 0; lo < USERS; lo += 1000) {
    const ids = Array.from({ length: Math.min(1000, USERS - lo) }, (_, i) => lo + i);
    const r = await getOnlineFeatures(registry, larder.store(), { refs, entities: { user_id: ids }, at: END_MS }, 1000);
    out.push(...r.results.map((x) => [x.values, x.statuses]));
  }
  // A digest: a mismatch should say "differs", not print 20 000 entities.
  return { version: (await larder.store().pointers()).get("user_stats")!.version, values: createHash("sha256").update(JSON.stringify(out)).digest("hex") };
}

describe("crash safety", () => {
  test("kill -9 during materialization: every entity is served as of the old version or the new, never a mix", async () => {
    const lines = ["user_id,ts,amount,category"];
    for (let i = 0; i < 100_000; i++) lines.push(`${i % USERS},${new Date(T0 + i * 12_000).toISOString()},${i % 100},${"abc"[i % 3]}`);
    const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": `${lines.join("\n")}\n` });
    repos.push(r);
    await r.larder.apply();
    await r.larder.materialize({ end: END_MS });
    const old = await lookupAll(r.larder);
    // Version B: another ttl, so latest values differ from A's for idle users.
    r.write("features/stats.ts", FEATURES_TS.replace('ttl: "3d"', 'ttl: "1d"'));
    await r.larder.apply();
    await r.larder.close();
    const refB = new Larder(loadConfig({ repoDir: r.dir, dataDir: "data-ref" }, {}));
    await refB.apply();
    await refB.materialize({ end: END_MS });
    const next = await lookupAll(refB);
    await refB.close();
    expect(next.version).not.toBe(old.version);
    expect(next.values).not.toBe(old.values);
    const snapshot = join(r.dir, "data-snapshot");
    cpSync(join(r.dir, "data"), snapshot, { recursive: true });

    // Kill points: before any write; just after the first chunk of the new table is
    // committed (its progress line); at the last chunk; and never (the run completes).
    const killAt: (string | number)[] = [250, "entities (25%)", "entities (100%)", Infinity];
    const outcomes: { at: string | number; state: string; orphans: number }[] = [];
    for (const at of killAt) {
      rmSync(join(r.dir, "data"), { recursive: true, force: true });
      cpSync(snapshot, join(r.dir, "data"), { recursive: true });
      const p = Bun.spawn([process.execPath, MAIN, "materialize", "--end", END], { cwd: r.dir, stdout: "ignore", stderr: "pipe" });
      if (typeof at === "number") {
        await Promise.race([Bun.sleep(at === Infinity ? 60_000 : at), p.exited]);
      } else {
        // Progress lines arrive on stderr as chunks are committed.
        const reader = p.stderr.getReader();
        let text = "";
        while (!text.includes(at)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      }
      p.kill("SIGKILL");
      await p.exited;
      const after = new Larder(loadConfig({ repoDir: r.dir }, {}));
      const served = await lookupAll(after);
      const pointer = (await after.store().pointers()).get("user_stats")!;
      const orphans = (await after.store().tables()).filter((t) => t !== pointer.table).length;
      await after.close();
      const state = served.version === old.version ? "old" : served.version === next.version ? "new" : "unknown";
      expect(state).not.toBe("unknown");
      expect(served.values).toBe(state === "old" ? old.values : next.values);
      outcomes.push({ at, state, orphans });
    }
    // Killed mid-write: the new table was partly written (an orphan), yet the old one served whole.
    expect(outcomes[0]).toEqual({ at: 250, state: "old", orphans: 0 });
    expect(outcomes[1]).toEqual({ at: "entities (25%)", state: "old", orphans: 1 });
    expect(outcomes[3]).toEqual({ at: Infinity, state: "new", orphans: 0 });
  }, 120_000);

  test("kill -9 during a burst of pushes: every acknowledged push is there, online and offline; none is half applied", async () => {
    const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(randomEvents(101, 50)) });
    repos.push(r);
    await r.larder.apply();
    await r.larder.materialize({ end: END_MS });
    await r.larder.close();
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], { cwd: r.dir, stdout: "pipe", stderr: "ignore" });
    const url = await serverUrl(proc);
    const ROWS = 5;
    const rowsOf = (i: number) => Array.from({ length: ROWS }, (_, k) => pushRow({ key: 10_000 + i, ts: END_MS + k * 1000, seq: i * ROWS + k, amount: 1, category: "a" }));
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const i = next++;
        try {
          const res = await fetch(`${url}/v1/push`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ source: "events_push", rows: rowsOf(i), to: "online_and_offline" }),
          });
          if (res.status === 200) acked.add(i);
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await Bun.sleep(1500);
    proc.kill("SIGKILL");
    await proc.exited;
    stop = true;
    await Promise.all(clients);
    expect(acked.size).toBeGreaterThan(20);

    const larder = new Larder(loadConfig({ repoDir: r.dir }, {}));
    const registry = larder.registry();
    const sent = Array.from({ length: next }, (_, i) => i);
    const counts = new Map<number, number>();
    for (let lo = 0; lo < sent.length; lo += 1000) {
      const ids = sent.slice(lo, lo + 1000);
      const res = await getOnlineFeatures(
        registry,
        larder.store(),
        { refs: [{ view: "user_stats", feature: "life_count" }], entities: { user_id: ids.map((i) => 10_000 + i) }, at: END_MS + 3_600_000 },
        1000,
      );
      res.results.forEach((x, j) => counts.set(ids[j]!, (x.values.life_count as number | null) ?? 0));
    }
    const lost = [...acked].filter((i) => counts.get(i) !== ROWS);
    const partial = sent.filter((i) => counts.get(i) !== 0 && counts.get(i) !== ROWS);
    expect({ lost, partial }).toEqual({ lost: [], partial: [] });
    // Offline: every acknowledged push's rows are in the pushed segments.
    const duck = await Duck.open();
    const ids = new Set((await duck.all<{ id: string }>(`SELECT event_id AS id FROM read_parquet('${join(r.dir, "data", "pushed", "events_push")}/*.parquet')`)).map((x) => x.id));
    duck.close();
    const missingOffline = [...acked].filter((i) => rowsOf(i).some((row) => !ids.has(row.event_id)));
    expect(missingOffline).toEqual([]);
    await larder.close();
  }, 60_000);
});
