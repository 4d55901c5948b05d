/**
 * Materialization: offline events → online records (latest values, lifetime statistics
 * and window tiles), for each view at its current version.
 *
 * - full: writes every entity into a new table `view@version#run`, chunk by chunk, then
 *   commits the pointer to it in one transaction and drops the previous table. A crash
 *   before the pointer commit leaves the previous table served, whole.
 * - incremental: events in [watermark, end) are merged into the served records; merged
 *   records and the new watermark go in one commit. A view with no served data, or whose
 *   served data is of another version, gets a full run instead.
 */
import { type Duck, ident, literal } from "../offline/duckdb.ts";
import { getOnlineFeatures } from "../online/online-features.ts";
import { PROFILE_SAMPLE, profileValues, saveViewProfile, type ViewProfile } from "./feature-profile.ts";
import { ensureOfflineTable, type OfflineTable } from "../offline/offline-table.ts";
import { materializeRun } from "./materialize-run.ts";
import type { RunDraft } from "../registry/runs.ts";
import type { OfflineContext } from "../offline/offline-context.ts";
import { recordExpiry } from "../online/record-expiry.ts";
import { encodeEntityKey } from "../online/entity-key.ts";
import { plainValue } from "../online/plain-value.ts";
import { tableName, type OnlineRecord, type OnlineStore, type ServingPointer } from "../online/online-store.ts";
import type { Registry, ResolvedView } from "../registry/registry.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { TILE_WIDTH, mergeSeries, mergeStats, statsToTile, tileToStats } from "../windows/tile-stats.ts";
import { align } from "../windows/window-math.ts";
import { recordSql } from "./record-sql.ts";
import { newRunId } from "./run-id.ts";

export type MaterializeOptions = {
  views?: string[];
  incremental?: boolean;
  /** Only events at or after this instant (full runs). */
  start?: number;
  /** Only events before this instant; default now. Becomes the watermark. */
  end?: number;
  onProgress?: (p: { view: string; entities: number; total: number }) => void;
  /** Entities per write transaction of a full run. */
  chunkSize?: number;
  /** Entities whose served values are profiled after each view's run (0: none). */
  profileSample?: number;
  /** Records each view's run (succeeded or failed) in the run history. */
  record?: (run: RunDraft) => Promise<void>;
};

export type ViewMaterialization = {
  view: string;
  version: string;
  mode: "full" | "incremental";
  table: string;
  events: number;
  entities: number;
  watermark: number;
  seconds: number;
  /** Where the profile of its served values was saved. */
  profile?: string | null;
  /** The newest event this run read (ms), if any. */
  newestEvent?: number | null;
  /** The run recorded for it (none when there was nothing new to read). */
  runId?: string;
};

const DEFAULT_CHUNK = 5_000;

export async function materialize(
  duck: Duck, registry: Registry, store: OnlineStore, ctx: OfflineContext, opts: MaterializeOptions = {},
): Promise<ViewMaterialization[]> {
  const names = opts.views?.length ? opts.views : registry.viewNames();
  const views = names.map((n) => registry.view(n)).filter((v) => v.def.online);
  const end = opts.end ?? Date.now();
  const pointers = await store.pointers();
  const results: ViewMaterialization[] = [];
  for (const v of views) {
    const began = performance.now();
    const startedAt = new Date().toISOString();
    const runId = newRunId();
    const pointer = pointers.get(v.def.name);
    const incremental = opts.incremental === true && pointer !== undefined && pointer.version === v.version;
    const from = incremental ? pointer!.watermark : (opts.start ?? -8.64e15);
    if (incremental && end <= from) {
      results.push({ view: v.def.name, version: v.version, mode: "incremental", table: pointer!.table, events: 0, entities: 0, watermark: from, seconds: 0 });
      continue;
    }
    let table: OfflineTable | undefined;
    try {
      table = await ensureOfflineTable(duck, v, ctx);
      const result = await materializeView(duck, v, store, table, { runId, pointer, incremental, from, end, began, opts });
      result.profile = await profileServed(duck, registry, store, ctx, v, table, runId, end, opts.profileSample ?? PROFILE_SAMPLE);
      result.runId = runId;
      results.push(result);
      await opts.record?.(await materializeRun({ runId, startedAt, began, v, table, from, end, result, error: null }));
    } catch (err) {
      await opts.record?.(await materializeRun({ runId, startedAt, began, v, table, from, end, result: null, error: err }));
      throw err;
    }
  }
  return results;
}

type ViewRun = { runId: string; pointer: ServingPointer | undefined; incremental: boolean; from: number; end: number; began: number; opts: MaterializeOptions };

async function materializeView(duck: Duck, v: ResolvedView, store: OnlineStore, table: OfflineTable, { runId, pointer, incremental, from, end, began, opts }: ViewRun): Promise<ViewMaterialization> {
  const target = incremental ? pointer!.table : tableName(v.def.name, v.version, runId);
  await duck.run(`CREATE OR REPLACE TEMP TABLE __records AS SELECT row_number() OVER () AS __i, * FROM (${recordSql(v, table.path, from, end, incremental)})`);
  const [counts] = await duck.all<{ n: number }>(`SELECT count(*) AS n FROM __records`);
  // Events this run reads, and the newest event served once it is done (freshness).
  const [events] = await duck.all<{ n: number; newest: number | null }>(
    `SELECT count(*) FILTER (WHERE __ts >= ${from} AND __ts < ${end}) AS n, max(__ts) FILTER (WHERE __ts < ${end}) AS newest FROM read_parquet(${literal(table.path)})`,
  );
  const total = counts!.n;
  const nextPointer: ServingPointer = { view: v.def.name, version: v.version, table: target, watermark: end, updatedAt: new Date().toISOString(), runId };

  if (!incremental) {
    // Orphans of crashed runs of this view are never served; clear them first.
    for (const t of await store.tables()) {
      if (t.startsWith(`${v.def.name}@`) && t !== pointer?.table) await store.dropTable(t);
    }
  }
  const expireAt = recordExpiry(v.def);
  let written = 0;
  const merged: [string, OnlineRecord][] = [];
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  for (let lo = 1; lo <= total; lo += chunk) {
    const rows = await duck.all(`SELECT * FROM __records WHERE __i BETWEEN ${lo} AND ${lo + chunk - 1} ORDER BY __i`);
    const records = rows.map((r) => toRecord(v, r));
    if (incremental) {
      const old = await store.read(target, records.map(([k]) => k));
      records.forEach(([k, rec], i) => merged.push([k, old[i] ? mergeRecords(v, old[i]!, rec, end) : rec]));
    } else {
      await store.commit({ table: target, records, expireAt });
    }
    written += records.length;
    opts.onProgress?.({ view: v.def.name, entities: written, total });
  }
  // The switch: one transaction (with the merged records, for incremental runs).
  await store.commit({ table: target, records: merged, pointers: [nextPointer], expireAt });
  if (!incremental && pointer && pointer.table !== target) await store.dropTable(pointer.table);
  await duck.run("DROP TABLE __records");
  return {
    view: v.def.name, version: v.version, mode: incremental ? "incremental" : "full", table: target,
    events: events!.n, entities: total, watermark: end, seconds: (performance.now() - began) / 1000,
    newestEvent: events!.newest === null ? null : Number(events!.newest),
  };
}

/**
 * Profiles the values served for a sample of the view's entities (evenly spread over the
 * served table's keys) as of the run's end, and saves the profile.
 */
async function profileServed(
  duck: Duck, registry: Registry, store: OnlineStore, ctx: OfflineContext, v: ResolvedView, table: OfflineTable, runId: string, end: number, sample: number,
): Promise<string | null> {
  if (sample <= 0) return null;
  // The served entities (every key with an event before the end): a fixed-seed sample of them.
  const keyCols = v.entity.joinKeys.map((k) => ident(k.name));
  const rows = await duck.all(
    `SELECT * FROM (SELECT DISTINCT ${keyCols.join(", ")} FROM read_parquet(${literal(table.path)}) WHERE __ts < ${end}) USING SAMPLE reservoir(${Math.trunc(sample)} ROWS) REPEATABLE (42)`,
  );
  const keys = rows.map((r) => v.entity.joinKeys.map((k) => r[k.name]));
  const names = v.def.features.map((f) => f.name);
  const values = new Map<string, unknown[]>(names.map((n) => [n, []]));
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const entities = Object.fromEntries(v.entity.joinKeys.map((k, j) => [k.name, chunk.map((key) => key[j])]));
    const r = await getOnlineFeatures(registry, store, { refs: names.map((feature) => ({ view: v.def.name, feature })), entities: entities as Record<string, (string | number)[]>, at: end }, 1000);
    for (const e of r.results) for (const n of names) values.get(n)!.push(e.values[n]);
  }
  const profile: ViewProfile = { view: v.def.name, version: v.version, runId, at: new Date(end).toISOString(), entities: keys.length, features: names.map((n) => profileValues(n, values.get(n)!)) };
  return saveViewProfile(ctx.files, profile);
}

function toRecord(v: ResolvedView, row: Record<string, unknown>): [string, OnlineRecord] {
  const layout = viewLayout(v.def);
  const key = encodeEntityKey(v.entity, v.entity.joinKeys.map((k) => row[k.name]));
  const data = (row.__row ?? {}) as Record<string, unknown>;
  const lifetime = new Float64Array(layout.lifetime.length * TILE_WIDTH);
  layout.lifetime.forEach((_, i) => lifetime.set(row[`__life_${i}`] as number[], i * TILE_WIDTH));
  return [key, {
    ts: Number(row.__last_ts),
    values: layout.expressions.map((e) => plainValue(data[e.name])),
    lifetime,
    series: layout.series.map((_, i) => Float64Array.from(row[`__series_${i}`] as number[])),
  }];
}


function mergeRecords(v: ResolvedView, old: OnlineRecord, next: OnlineRecord, end: number): OnlineRecord {
  const layout = viewLayout(v.def);
  const lifetime = new Float64Array(old.lifetime.length);
  for (let i = 0; i < layout.lifetime.length; i++) {
    lifetime.set(statsToTile(0, mergeStats(tileToStats(old.lifetime, i * TILE_WIDTH), tileToStats(next.lifetime, i * TILE_WIDTH))), i * TILE_WIDTH);
  }
  return {
    ts: next.ts >= old.ts ? next.ts : old.ts,
    values: next.ts >= old.ts ? next.values : old.values,
    lifetime,
    series: layout.series.map((s, i) => mergeSeries(old.series[i] ?? new Float64Array(0), next.series[i]!, align(end - s.retention, s.hop), s.shape)),
  };
}
