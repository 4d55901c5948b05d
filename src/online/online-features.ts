/**
 * `get_online_features`: values of features for many entities, evaluated at request time
 * t from the served records. Windows are computed from tiles at t, so they decay without
 * another materialization; latest values older than the view's ttl are "expired".
 * Serving uses the definition of the version that was materialized, never a mix.
 */
import { BadRequestError, LookupTooEarlyError, NotAppliedError } from "../errors.ts";
import type { EntityDef, FeatureRef, FeatureViewDef } from "../definitions/types.ts";
import type { Registry } from "../registry/registry.ts";
import { isoTime, type EpochMs } from "../time.ts";
import { viewLayout, type FeatureSlot } from "../windows/view-layout.ts";
import { TILE_WIDTH, addLooseValues, finish, tileToStats, windowValue } from "../windows/tile-stats.ts";
import { encodeEntityKey } from "./entity-key.ts";
import type { LentRecord, OnlineStore, ServingPointer } from "./online-store.ts";
import { lentFromRecord } from "./record-codec.ts";
import { RECENT_EVENTS } from "./recent-events.ts";

export type FeatureStatus = "present" | "missing" | "expired";

export type OnlineRequest = {
  refs: FeatureRef[];
  /** Join key name → one value per entity. */
  entities: Record<string, readonly unknown[]>;
  /** Evaluate as of this instant (default now); must not precede a view's watermark. */
  at?: EpochMs;
  fullNames?: boolean;
};

export type EntityResult = {
  entity: Record<string, unknown>;
  values: Record<string, unknown>;
  statuses: Record<string, FeatureStatus>;
  eventTimestamps: Record<string, string | null>;
};

export type OnlineResponse = { at: string; features: readonly string[]; results: EntityResult[] };

export async function getOnlineFeatures(registry: Registry, store: OnlineStore, req: OnlineRequest, maxEntities: number): Promise<OnlineResponse> {
  const keyNames = Object.keys(req.entities);
  if (keyNames.length === 0) throw new BadRequestError('entities is empty: give join key values, e.g. { "user_id": [1, 2] }', "invalid_entities");
  const n = req.entities[keyNames[0]!]!.length;
  for (const k of keyNames) {
    if (req.entities[k]!.length !== n)
      throw new BadRequestError(`entities: every join key needs the same number of values ("${keyNames[0]}" has ${n}, "${k}" has ${req.entities[k]!.length})`, "invalid_entities");
  }
  if (n === 0) throw new BadRequestError("entities: no entity given", "invalid_entities");
  if (n > maxEntities) throw new BadRequestError(`too many entities: ${n} in one request, the limit is ${maxEntities}`, "too_many_entities");

  const plan = lookupPlan(registry, req.refs, await store.pointers(), req.fullNames === true);
  const now = Date.now();
  const results: EntityResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const entity: Record<string, unknown> = {};
    for (const k of keyNames) entity[k] = req.entities[k]![i];
    results[i] = { entity, values: {}, statuses: {}, eventTimestamps: {} };
  }
  let evaluatedAt = req.at ?? now;

  const reads: Promise<void>[] = [];
  for (const { viewName, def, entity, pointer, slots } of plan.views) {
    const t = req.at ?? Math.max(now, pointer.watermark);
    if (t < pointer.watermark)
      throw new LookupTooEarlyError(
        `at ${isoTime(t)} is before the data served for "${viewName}" (complete up to ${isoTime(pointer.watermark)}); online lookups answer as of that time or later — use historical retrieval for the past`,
        "at_before_watermark",
        pointer.watermark,
      );
    evaluatedAt = t;
    const columns = entity.joinKeys.map((k) => {
      const column = req.entities[k.name];
      if (!column) throw new BadRequestError(`entities: missing join key "${k.name}" of entity "${entity.name}" (needed by "${viewName}")`, "invalid_entities");
      return column;
    });
    const keys: string[] = new Array(n);
    const row: unknown[] = new Array(columns.length);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < columns.length; c++) row[c] = columns[c]![i];
      keys[i] = encodeEntityKey(entity, row);
    }
    const expiredBefore = def.ttl === null ? -Infinity : t - def.ttl;
    const fill = (i: number, rec: LentRecord | undefined) => {
      const out = results[i]!;
      // Every event folded into the record must be before t; the recent ones are taken one by one.
      if (rec && rec.ts >= t) throw tooEarly(viewName, entity, req.entities, i, t, rec.ts);
      // No record, or none of its events before t (all pushed for later): the entity is unknown at t.
      if (!rec || (rec.ts === -Infinity && !rec.recent.some((e) => e.ts < t))) {
        out.eventTimestamps[viewName] = null;
        for (const { name } of slots) {
          out.values[name] = null;
          out.statuses[name] = "missing";
        }
        return;
      }
      const recent = rec.recent;
      // The latest row before t: the folded one, or a later recent one (ties: the later pushed).
      let latestTs = rec.ts;
      let latest = rec.values;
      for (const e of recent) {
        if (e.ts < t && e.ts >= latestTs) {
          latestTs = e.ts;
          latest = e.values;
        }
      }
      out.eventTimestamps[viewName] = isoTime(latestTs);
      for (const { slot, name } of slots) {
        if (slot.kind === "expression") {
          const expired = latestTs < expiredBefore;
          out.values[name] = expired ? null : (latest[slot.index] ?? null);
          out.statuses[name] = expired ? "expired" : "present";
        } else if (slot.kind === "window") {
          out.values[name] = windowValue(rec.data, rec.seriesStart[slot.series]!, rec.seriesEnd[slot.series]!, slot.fn, t, slot.window, slot.hop, slot.shape, recent, slot.input);
          out.statuses[name] = "present";
        } else {
          const stats = tileToStats(rec.data, rec.lifetimeStart + slot.slot * TILE_WIDTH);
          if (recent.length) addLooseValues(stats, recent, slot.input, -Infinity, t);
          out.values[name] = finish(slot.fn, stats);
          out.statuses[name] = "present";
        }
      }
    };
    // Lent records (no copy) where the store can; fill() keeps nothing that points into them.
    if (store.readEach) await store.readEach(pointer.table, keys, fill);
    // A networked store: every view's reads start now, so they share round trips.
    else {
      const read = store.read(pointer.table, keys).then((recs) => recs.forEach((rec, i) => fill(i, rec && lentFromRecord(rec))));
      read.catch(() => {}); // awaited below, unless a later view's check throws first
      reads.push(read);
    }
  }
  await Promise.all(reads);
  return { at: isoTime(evaluatedAt), features: plan.names, results };
}

/** A lookup at `t` that an entity's folded events reach: the entity, and the first instant it can answer. */
function tooEarly(view: string, entity: EntityDef, entities: Record<string, readonly unknown[]>, i: number, t: number, foldedTs: number): LookupTooEarlyError {
  const key = entity.joinKeys.map((k) => `${k.name}=${JSON.stringify(entities[k.name]?.[i]).slice(0, 80)}`).join(", ");
  return new LookupTooEarlyError(
    `at ${isoTime(t)} is before events already folded into the online record of ${key} in "${view}" (the newest at ${isoTime(foldedTs)}; each entity's newest ${RECENT_EVENTS} events are kept apart, so lookups can leave out events at or after their instant): look up as of ${isoTime(foldedTs + 1)} or later, or use historical retrieval`,
    "at_before_served_events",
    foldedTs + 1,
  );
}

/** What a lookup of these refs reads, per view: the same for every request until the registry or a pointer changes. */
type LookupPlan = {
  names: string[];
  views: { viewName: string; def: FeatureViewDef; entity: EntityDef; pointer: ServingPointer; slots: { slot: FeatureSlot; name: string }[] }[];
};

/**
 * Plans are cached by the refs array (a service's is the same object for as long as the
 * registry is) and the pointers map (the store hands out the same map until a pointer
 * changes), so both a re-applied registry and a new materialization plan afresh.
 */
const plans = new WeakMap<readonly FeatureRef[], WeakMap<ReadonlyMap<string, ServingPointer>, LookupPlan[]>>();

function lookupPlan(registry: Registry, refs: readonly FeatureRef[], pointers: ReadonlyMap<string, ServingPointer>, fullNames: boolean): LookupPlan {
  let byPointers = plans.get(refs);
  if (!byPointers) plans.set(refs, (byPointers = new WeakMap()));
  let cached = byPointers.get(pointers);
  if (!cached) byPointers.set(pointers, (cached = []));
  const slot = fullNames ? 1 : 0;
  return (cached[slot] ??= buildPlan(registry, refs, pointers, fullNames));
}

function buildPlan(registry: Registry, refs: readonly FeatureRef[], pointers: ReadonlyMap<string, ServingPointer>, fullNames: boolean): LookupPlan {
  const names = refs.map((r) => (fullNames ? `${r.view}__${r.feature}` : r.feature));
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup) throw new BadRequestError(`two requested features are both named "${dup}": set fullFeatureNames to get view__feature names`, "duplicate_feature_name");
  const byView = new Map<string, number[]>();
  refs.forEach((r, i) => byView.set(r.view, [...(byView.get(r.view) ?? []), i]));
  const views = [...byView].map(([viewName, refIdx]) => {
    const current = registry.view(viewName);
    const pointer = pointers.get(viewName);
    if (!pointer) throw new NotAppliedError(`feature view "${viewName}" has not been materialized: run larder materialize`);
    const def = registry.definitionOf(viewName, pointer.version);
    const layout = viewLayout(def);
    const slots = refIdx.map((i) => {
      const slot = layout.features.find((f) => f.name === refs[i]!.feature);
      if (!slot) throw new NotAppliedError(`feature "${refs[i]!.feature}" of view "${viewName}" is not in the materialized version @${pointer.version}: run larder materialize`);
      return { slot, name: names[i]! };
    });
    return { viewName, def, entity: current.entity, pointer, slots };
  });
  return { names, views };
}

/** Expands a service name or a list of "view:feature" refs into checked references. */
export function resolveFeatures(registry: Registry, req: { service?: string; features?: readonly string[] }): FeatureRef[] {
  if (req.service !== undefined) return registry.service(req.service).features;
  return (req.features ?? []).map((f) => registry.resolveRef(f));
}
