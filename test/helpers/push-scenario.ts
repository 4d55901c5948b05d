/**
 * The random scenario (random-scenario.ts) fed by pushes: its view over a push source, its
 * events as pushed rows, and online values checked against the brute-force reference.
 */
import type { Larder } from "../../src/larder.ts";
import { getOnlineFeatures } from "../../src/online/online-features.ts";
import { close, referenceValues, type RefEvent } from "./reference.ts";
import { FEATURES_TS, REF_FEATURES, TTL } from "./random-scenario.ts";
import { toCsv } from "./temp-repo.ts";

/** The random scenario's view, over a push source backed by its file source. */
export const PUSH_FEATURES_TS = FEATURES_TS.replace("import { entity, fileSource,", "import { entity, fileSource, pushSource,")
  .replace(
    "export const stats = featureView({",
    'export const pushed = pushSource({ name: "events_push", batchSource: events, eventIdField: "event_id" });\nexport const stats = featureView({',
  )
  .replace("  source: events,\n  ttl", "  source: pushed,\n  ttl")
  .replace("category: z.string() })", "category: z.string(), event_id: z.string() })");

/**
 * PUSH_FEATURES_TS (changed by `edit`) with an on-demand view `scored` (request data
 * `amount` over the view's mean_7d) and a service `scoring` reading both (`serviceExtra`:
 * more of its fields, e.g. `, description: "…"`).
 */
export const withScoredOnDemand = (
  edit: (ts: string) => string = (ts) => ts,
  serviceExtra = "",
) => `${edit(PUSH_FEATURES_TS).replace("import { entity,", "import { onDemandFeatureView, entity,")}
export const scored = onDemandFeatureView({
  name: "scored",
  request: z.object({ amount: z.number() }),
  inputs: [stats],
  output: z.object({ ratio: z.number().nullable() }),
  compute: ({ amount, mean_7d }) => ({ ratio: typeof mean_7d === "number" ? (amount as number) / mean_7d : null }),
});
export const scoring = featureService({ name: "scoring", features: ["user_stats:mean_7d", scored]${serviceExtra} });
`;

/** An event as a row of the push source (its id from its seq). */
export const pushRow = (e: RefEvent) => ({ user_id: e.key, ts: new Date(e.ts).toISOString(), amount: e.amount, category: e.category, event_id: `e${e.seq}` });

/** Events as the push source's batch CSV. */
export const pushCsv = (events: RefEvent[]) => toCsv(["user_id", "ts", "amount", "category", "event_id"], events.map(pushRow));

/** Online values of `users` at `t` against the reference over `events`, as readable mismatches. */
export async function onlineMismatches(larder: Larder, t: number, events: RefEvent[], users: number[]): Promise<string[]> {
  const registry = larder.registry();
  const online = await getOnlineFeatures(registry, larder.store(), { refs: registry.service("all").features, entities: { user_id: users }, at: t }, 100);
  const out: string[] = [];
  online.results.forEach((r, i) => {
    const want = referenceValues(events, users[i]!, t, TTL, REF_FEATURES);
    for (const f of REF_FEATURES)
      if (!close(r.values[f.name], want[f.name])) out.push(`t=${new Date(t).toISOString()} user ${users[i]} ${f.name}: online ${r.values[f.name]}, reference ${want[f.name]}`);
  });
  return out;
}
