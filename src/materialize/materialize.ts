/**
 * Materialization: offline events → online records (latest values, lifetime statistics
 * and window tiles), for each view at its current version.
 *
 * - full: writes every entity into a new table `view@version#run`, chunk by chunk, then
 *   commits the pointer to it in one transaction and drops the previous table. A crash
 *   before the pointer commit leaves the previous table served, whole.
 * - incremental: events in [watermark, end) are merged into the served records; merged
 *   records and the new watermark go in one atomic update (pushes meanwhile lose nothing).
 *   A view with no served data, or whose served data is of another version, gets a full
 *   run instead.
 *
 * Runs of one view are serialized across processes and machines by a lease in the online
 * store (view-lease.ts), and every switch is a compare-and-set: it goes ahead only if the
 * pointer is still the one the run started from. So a full and an incremental run, or two
 * incremental runs, at once never serve a dropped table or apply an event twice.
 */
import { type Duck, ident, literal } from "../offline/duckdb.ts";
import { getOnlineFeatures } from "../online/online-features.ts";
import { LookupTooEarlyError } from "../errors.ts";
import { PROFILE_SAMPLE, profileValues, saveViewProfile, type ViewProfile } from "../monitoring/feature-profile.ts";
import { ensureOfflineTable, type OfflineTable, viewInputFiles } from "../offline/offline-table.ts";
import { materializeRun } from "./materialize-run.ts";
import type { RunDraft } from "../registry/runs.ts";
import type { OfflineContext } from "../offline/offline-context.ts";
import { recordExpiry } from "../online/record-expiry.ts";
import { encodeEntityKey } from "../online/entity-key.ts";
import { plainValue } from "../online/plain-value.ts";
import { tableName, type Lease, type OnlineRecord, type OnlineStore, type PointerCheck, type ServingPointer } from "../online/online-store.ts";
import { STREAM_RUN_ID } from "../online/stream-table.ts";
import { holdViewLease, type WhenBusy } from "./view-lease.ts";
import type { Registry, ResolvedView } from "../registry/registry.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { TILE_WIDTH, mergeSeries, mergeStats, statsToTile, tileToStats } from "../windows/tile-stats.ts";
import { align } from "../windows/window-math.ts";
import { recordSql } from "./record-sql.ts";
import { newRunId } from "../ids.ts";

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
  /** When another process runs a view now: wait for it (default) or fail (ViewBusyError). */
  whenBusy?: WhenBusy;
  /** Told once when a view's run waits for another's. */
  onWait?: (view: string, lease: Lease) => void;
  /** How long a view's lease lasts unless renewed (LARDER_LEASE_TTL). */
  leaseTtlMs?: number;
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

const DEFAULT_LEASE_TTL = 30_000;

export async function materialize(duck: Duck, registry: Registry, store: OnlineStore, ctx: OfflineContext, opts: MaterializeOptions = {}): Promise<ViewMaterialization[]> {
  // A view named twice is run once.
  const names = opts.views?.length ? [...new Set(opts.views)] : registry.viewNames();
  const views = names.map((n) => registry.view(n)).filter((v) => v.def.online);
  const end = opts.end ?? Date.now();
  const results: ViewMaterialization[] = [];
  for (const v of views) {
    const lease = await holdViewLease(store, v.def.name, {
      ttlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL,
      whenBusy: opts.whenBusy ?? "wait",
      onWait: (l) => opts.onWait?.(v.def.name, l),
    });
    try {
      const result = await materializeLeased(duck, registry, store, ctx, v, end, opts);
      results.push(result);
    } finally {
      await lease.release();
    }
  }
  return results;
}

/** One view's run, under its lease: the pointer it starts from is read now, not before the lease was held. */
async function materializeLeased(
  duck: Duck,
  registry: Registry,
  store: OnlineStore,
  ctx: OfflineContext,
  v: ResolvedView,
  end: number,
  opts: MaterializeOptions,
): Promise<ViewMaterialization> {
  const began = performance.now();
  const started = Date.now();
  const runId = newRunId();
  const pointer = (await store.pointers()).get(v.def.name);
  const incremental = opts.incremental === true && pointer !== undefined && pointer.version === v.version;
  const from = incremental ? pointer!.watermark : (opts.start ?? -8.64e15);
  if (incremental && end <= from) {
    return { view: v.def.name, version: v.version, mode: "incremental", table: pointer!.table, events: 0, entities: 0, watermark: from, seconds: 0 };
  }
  let table: OfflineTable | undefined;
  try {
    table = await ensureOfflineTable(duck, v, ctx);
    const result = await materializeView(duck, v, store, table, { runId, pointer, incremental, from, end, began, opts });
    result.profile = await profileServed(duck, registry, store, ctx, v, table, runId, end, opts.profileSample ?? PROFILE_SAMPLE);
    result.runId = runId;
    await opts.record?.(await materializeRun({ runId, started, v, table, from, end, result, error: null }));
    return result;
  } catch (err) {
    // A run that failed before its offline table was built still names the files it read.
    const inputs = table
      ? undefined
      : await viewInputFiles(duck, v, ctx).then(
          (i) => i.fingerprint.files,
          () => undefined,
        );
    await opts.record?.(await materializeRun({ runId, started, v, table, inputs, from, end, result: null, error: err }));
    throw err;
  }
}

type ViewRun = { runId: string; pointer: ServingPointer | undefined; incremental: boolean; from: number; end: number; began: number; opts: MaterializeOptions };

async function materializeView(
  duck: Duck,
  v: ResolvedView,
  store: OnlineStore,
  table: OfflineTable,
  { runId, pointer, incremental, from, end, began, opts }: ViewRun,
): Promise<ViewMaterialization> {
  const target = incremental ? pointer!.table : tableName(v.def.name, v.version, runId);
  await duck.run(`CREATE OR REPLACE TEMP TABLE __records AS SELECT row_number() OVER () AS __i, * FROM (${recordSql(v, table.path, from, end, incremental)})`);
  const [counts] = await duck.all<{ n: number }>(`SELECT count(*) AS n FROM __records`);
  // Events this run reads, and the newest event served once it is done (freshness).
  const [events] = await duck.all<{ n: number; newest: number | null }>(
    `SELECT count(*) FILTER (WHERE __ts >= ${from} AND __ts < ${end}) AS n, max(__ts) FILTER (WHERE __ts < ${end}) AS newest FROM read_parquet(${literal(table.path)})`,
  );
  const total = counts!.n;
  const nextPointer: ServingPointer = { view: v.def.name, version: v.version, table: target, watermark: end, updatedAt: new Date().toISOString(), runId };
  // The switch happens only if the pointer is still the one this run started from; a view
  // never materialized may meanwhile have got its first table from pushes (replaced too).
  const expect: PointerCheck[] = [{ view: v.def.name, runIds: pointer ? [pointer.runId] : [null, STREAM_RUN_ID] }];

  if (!incremental) await dropOtherTables(store, v.def.name, pointer?.table);
  const expireAt = recordExpiry(v.def);
  let written = 0;
  const fresh: [string, OnlineRecord][] = [];
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  try {
    for (let lo = 1; lo <= total; lo += chunk) {
      const rows = await duck.all(`SELECT * FROM __records WHERE __i BETWEEN ${lo} AND ${lo + chunk - 1} ORDER BY __i`);
      const records = rows.map((r) => toRecord(v, r));
      if (incremental) fresh.push(...records);
      else await store.commit({ table: target, records, expireAt });
      written += records.length;
      opts.onProgress?.({ view: v.def.name, entities: written, total });
    }
    if (incremental) {
      // The merge reads and writes in one atomic update, so a push meanwhile is not lost.
      await store.update({
        keys: fresh.map(([key]) => ({ table: target, key })),
        expect,
        expireAt: expireAt && ((_, record) => expireAt(record)),
        compute: (old) => ({ records: fresh.map(([, rec], i) => (old[i] ? mergeRecords(v, old[i]!, rec, end) : rec)), seen: [], pointers: [nextPointer] }),
      });
    } else {
      await store.commit({ table: target, records: [], pointers: [nextPointer], expect, expireAt });
    }
  } catch (err) {
    // A refused switch leaves this run's table unserved: not kept.
    if (!incremental) await store.dropTable(target).catch(() => {});
    throw err;
  } finally {
    await duck.run("DROP TABLE IF EXISTS __records");
  }
  if (!incremental) await dropOtherTables(store, v.def.name, target);
  return {
    view: v.def.name,
    version: v.version,
    mode: incremental ? "incremental" : "full",
    table: target,
    events: events!.n,
    entities: total,
    watermark: end,
    seconds: (performance.now() - began) / 1000,
    newestEvent: events!.newest === null ? null : Number(events!.newest),
  };
}

/**
 * Drops every table of the view but `keep`: before a full run, what crashed runs left;
 * after its switch, the table it replaced. Only the holder of the view's lease runs this.
 */
async function dropOtherTables(store: OnlineStore, view: string, keep: string | undefined): Promise<void> {
  for (const t of await store.tables()) {
    if (t.startsWith(`${view}@`) && t !== keep) await store.dropTable(t);
  }
}

/**
 * Profiles the values served for a sample of the view's entities (evenly spread over the
 * served table's keys) as of the run's end, and saves the profile.
 */
async function profileServed(
  duck: Duck,
  registry: Registry,
  store: OnlineStore,
  ctx: OfflineContext,
  v: ResolvedView,
  table: OfflineTable,
  runId: string,
  end: number,
  sample: number,
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
    const lookup = (at: number) =>
      getOnlineFeatures(registry, store, { refs: names.map((feature) => ({ view: v.def.name, feature })), entities: entities as Record<string, (string | number)[]>, at }, 1000);
    // Entities with events pushed for after the end and folded already are profiled as of
    // the first instant their records answer exactly (a few at most: see RECENT_EVENTS).
    let r: Awaited<ReturnType<typeof lookup>>;
    for (let at = end; ; ) {
      try {
        r = await lookup(at);
        break;
      } catch (err) {
        if (!(err instanceof LookupTooEarlyError) || err.earliest <= at) throw err;
        at = err.earliest;
      }
    }
    for (const e of r.results) for (const n of names) values.get(n)!.push(e.values[n]);
  }
  const profile: ViewProfile = {
    view: v.def.name,
    version: v.version,
    runId,
    at: new Date(end).toISOString(),
    entities: keys.length,
    features: names.map((n) => profileValues(n, values.get(n)!)),
  };
  return saveViewProfile(ctx.files, profile);
}

function toRecord(v: ResolvedView, row: Record<string, unknown>): [string, OnlineRecord] {
  const layout = viewLayout(v.def);
  const key = encodeEntityKey(
    v.entity,
    v.entity.joinKeys.map((k) => row[k.name]),
  );
  const data = (row.__row ?? {}) as Record<string, unknown>;
  const lifetime = new Float64Array(layout.lifetime.length * TILE_WIDTH);
  layout.lifetime.forEach((_, i) => lifetime.set(row[`__life_${i}`] as number[], i * TILE_WIDTH));
  return [
    key,
    {
      ts: Number(row.__last_ts),
      values: layout.expressions.map((e) => plainValue(data[e.name])),
      lifetime,
      series: layout.series.map((_, i) => Float64Array.from(row[`__series_${i}`] as number[])),
    },
  ];
}

function mergeRecords(v: ResolvedView, old: OnlineRecord, next: OnlineRecord, end: number): OnlineRecord {
  const layout = viewLayout(v.def);
  const lifetime = new Float64Array(old.lifetime.length);
  for (let i = 0; i < layout.lifetime.length; i++) {
    lifetime.set(statsToTile(0, mergeStats(tileToStats(old.lifetime, i * TILE_WIDTH), tileToStats(next.lifetime, i * TILE_WIDTH))), i * TILE_WIDTH);
  }
  const merged: OnlineRecord = {
    ts: Math.max(next.ts, old.ts),
    values: next.ts >= old.ts ? next.values : old.values,
    lifetime,
    series: layout.series.map((s, i) => mergeSeries(old.series[i] ?? new Float64Array(0), next.series[i]!, align(end - s.retention, s.hop), s.shape)),
  };
  // Pushed events kept apart stay so: the batch events merged here are other events.
  if (old.recent) merged.recent = old.recent;
  return merged;
}
