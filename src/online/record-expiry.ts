/**
 * When a stored record may leave a store that can expire keys (Redis), for views where
 * that changes nothing but the status: every feature a latest value with a ttl. Such a
 * record's values expire at event time + ttl (lookups answer null, "expired"); its key is
 * dropped one ttl later (null, "missing"), as Feast's key expiry does.
 * Views with window or lifetime aggregations never expire keys: a window decays to an
 * exact 0 that a missing record could not give, and a lifetime has no end.
 */
import type { FeatureViewDef } from "../definitions/types.ts";
import type { EpochMs } from "../time.ts";
import type { OnlineRecord } from "./online-store.ts";

export type RecordExpiry = (record: OnlineRecord) => EpochMs;

export function recordExpiry(view: FeatureViewDef): RecordExpiry | undefined {
  const ttl = view.ttl;
  if (ttl === null || view.features.some((f) => f.kind !== "expression")) return undefined;
  // From the newest event, folded or kept apart.
  return (record) => Math.max(record.ts, record.recent?.at(-1)?.ts ?? -Infinity) + 2 * ttl;
}
