/**
 * A sample of the values lookups served, per view and feature: one lookup in EVERY is
 * sampled, its values kept in a ring of the last KEEP per feature. The drift report
 * compares it with the reference profile. A worker process (server/workers/) drains what it
 * sampled to the primary, which absorbs it into its own rings.
 */
import type { FeatureRef } from "../definitions/types.ts";

const EVERY = 8;
const KEEP = 2000;

type Ring = { values: (number | string)[]; next: number };

function keep(ring: Ring, v: number | string): void {
  if (ring.values.length < KEEP) ring.values.push(v);
  else ring.values[ring.next] = v;
  ring.next = (ring.next + 1) % KEEP;
}

export class ServedSample {
  readonly #rings = new Map<string, Ring>();
  #seen = 0;

  /** Called for every lookup; keeps the values of one in EVERY. */
  offer(refs: readonly FeatureRef[], names: readonly string[], results: readonly { values: Record<string, unknown> }[]): void {
    if (this.#seen++ % EVERY !== 0) return;
    refs.forEach((ref, i) => {
      const ring = this.#ring(`${ref.view}:${ref.feature}`);
      for (const r of results) {
        const v = r.values[names[i]!];
        if (v === null || v === undefined || (typeof v !== "number" && typeof v !== "string")) continue;
        keep(ring, v);
      }
    });
  }

  #ring(key: string): Ring {
    let ring = this.#rings.get(key);
    if (!ring) this.#rings.set(key, (ring = { values: [], next: 0 }));
    return ring;
  }

  /** The values kept since the last drain, by "view:feature" (at most KEEP each); the rings start empty again. */
  drain(): Record<string, (number | string)[]> {
    const out: Record<string, (number | string)[]> = {};
    for (const [key, ring] of this.#rings) if (ring.values.length) out[key] = ring.values;
    this.#rings.clear();
    return out;
  }

  /** Keeps another process's drained values as if they had been sampled here. */
  absorb(drained: Record<string, (number | string)[]>): void {
    for (const [key, values] of Object.entries(drained)) {
      const ring = this.#ring(key);
      for (const v of values) if (typeof v === "number" || typeof v === "string") keep(ring, v);
    }
  }

  values(view: string, feature: string): readonly (number | string)[] {
    return this.#rings.get(`${view}:${feature}`)?.values ?? [];
  }
}
