/**
 * Freshness per view: what is served (version, watermark, newest event), the last run and
 * the last successful one, and, for a scheduled view, how overdue its run is: the time
 * since the latest tick that no successful materialization has followed (0 when none is).
 */
import { Cron } from "croner";
import type { OnlineStore } from "../online/online-store.ts";
import type { Registry } from "../registry/registry.ts";
import type { RunLog, RunRecord } from "../registry/runs.ts";
import { scheduleOf } from "../definitions/schedule.ts";

export type ViewFreshness = {
  view: string;
  version: string;
  served: { version: string; watermark: string; updatedAt: string } | null;
  /** The newest event served: from the last materialization or a later push seen here. */
  newestEvent: string | null;
  /** Seconds from the newest event served to now. */
  ageSeconds: number | null;
  lastRun: { id: string; at: string; status: RunRecord["status"] } | null;
  lastSuccess: { id: string; at: string } | null;
  schedule: { cron: string; timezone: string; previousTick: string | null; nextTick: string | null; lagSeconds: number } | null;
};

const briefly = (r: RunRecord) => ({ id: r.id, at: r.startedAt, status: r.status });

export async function viewFreshness(registry: Registry, store: OnlineStore, runs: RunLog, newestPushed: ReadonlyMap<string, number>, now = Date.now()): Promise<ViewFreshness[]> {
  const pointers = await store.pointers();
  const out: ViewFreshness[] = [];
  for (const name of registry.viewNames()) {
    const v = registry.view(name);
    if (!v.def.online) continue;
    const pointer = pointers.get(name);
    const recent = await runs.list({ kind: "materialize", view: name, limit: 20 });
    const last = recent.find((r) => r.status !== "skipped") ?? null;
    const success = recent.find((r) => r.status === "succeeded") ?? null;
    const materialized = typeof success?.details.newestEvent === "number" ? success.details.newestEvent : null;
    const pushed = newestPushed.get(name) ?? null;
    const newest = materialized === null ? pushed : pushed === null ? materialized : Math.max(materialized, pushed);
    const s = scheduleOf(v.def.schedule);
    let schedule: ViewFreshness["schedule"] = null;
    if (s) {
      try {
        const cron = new Cron(s.cron, { paused: true, timezone: s.timezone ?? "UTC" });
        const [tick] = cron.previousRuns(1, new Date(now));
        const next = cron.nextRun(new Date(now));
        cron.stop();
        const overdue = tick && (!success || Date.parse(success.startedAt) < tick.getTime()) ? (now - tick.getTime()) / 1000 : 0;
        schedule = { cron: s.cron, timezone: s.timezone ?? "UTC", previousTick: tick?.toISOString() ?? null, nextTick: next?.toISOString() ?? null, lagSeconds: overdue };
      } catch {
        schedule = null;
      }
    }
    out.push({
      view: name,
      version: v.version,
      served: pointer ? { version: pointer.version, watermark: new Date(pointer.watermark).toISOString(), updatedAt: pointer.updatedAt } : null,
      newestEvent: newest === null ? null : new Date(newest).toISOString(),
      ageSeconds: newest === null ? null : (now - newest) / 1000,
      lastRun: last ? briefly(last) : null,
      lastSuccess: success ? { id: success.id, at: success.startedAt } : null,
      schedule,
    });
  }
  return out;
}
