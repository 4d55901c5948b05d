/**
 * A sample of the values lookups served, per view and feature: one lookup in EVERY is
 * sampled, its values kept in a ring of the last KEEP per feature. The drift report
 * compares it with the reference profile.
 */
import type { FeatureRef } from "../definitions/types.ts";

const EVERY = 8;
const KEEP = 2000;

type Ring = { values: (number | string)[]; next: number };

export class ServedSample {
  readonly #rings = new Map<string, Ring>();
  #seen = 0;

  /** Called for every lookup; keeps the values of one in EVERY. */
  offer(refs: readonly FeatureRef[], names: readonly string[], results: readonly { values: Record<string, unknown> }[]): void {
    if (this.#seen++ % EVERY !== 0) return;
    refs.forEach((ref, i) => {
      const key = `${ref.view}:${ref.feature}`;
      let ring = this.#rings.get(key);
      if (!ring) this.#rings.set(key, (ring = { values: [], next: 0 }));
      for (const r of results) {
        const v = r.values[names[i]!];
        if (v === null || v === undefined || (typeof v !== "number" && typeof v !== "string")) continue;
        if (ring.values.length < KEEP) ring.values.push(v);
        else ring.values[ring.next] = v;
        ring.next = (ring.next + 1) % KEEP;
      }
    });
  }

  values(view: string, feature: string): readonly (number | string)[] {
    return this.#rings.get(`${view}:${feature}`)?.values ?? [];
  }
}
