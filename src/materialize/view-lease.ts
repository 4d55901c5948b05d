/**
 * A view's materialization runs in one place at a time: whoever runs it holds the lease
 * `materialize:<view>` in the online store (shared by every process and replica using it),
 * renewed while the run goes on. A holder that dies stops renewing; its lease lapses after
 * its ttl (at once for a dead process on the same host), and the next run takes over.
 */
import { ViewBusyError } from "../errors.ts";
import { newLeaseHolder } from "../online/lease.ts";
import type { Lease, OnlineStore } from "../online/online-store.ts";

/** What a run does when another holds the lease: wait for it (the CLI), or fail at once (schedules, the API). */
export type WhenBusy = "wait" | "fail";

export type HeldLease = { holder: string; release(): Promise<void> };

export async function holdViewLease(store: OnlineStore, view: string, opts: { ttlMs: number; whenBusy: WhenBusy; onWait?: (lease: Lease) => void }): Promise<HeldLease> {
  const name = `materialize:${view}`;
  const holder = newLeaseHolder();
  let told = false;
  for (;;) {
    const lease = await store.acquireLease(name, holder, opts.ttlMs);
    if (lease.holder === holder) break;
    if (opts.whenBusy === "fail") {
      throw new ViewBusyError(`feature view "${view}" is being materialized elsewhere (by ${lease.holder}, since ${lease.acquiredAt}); try again when that run is done`);
    }
    if (!told) opts.onWait?.(lease);
    told = true;
    await Bun.sleep(Math.max(50, Math.min(1_000, opts.ttlMs / 4)));
  }
  // Renewed well before it lapses; a renewal that fails is retried at the next tick, and a
  // lease lost anyway only costs the run its commit (the pointer check refuses it).
  const renewal = setInterval(() => void store.acquireLease(name, holder, opts.ttlMs).catch(() => {}), Math.max(20, opts.ttlMs / 3));
  return {
    holder,
    async release() {
      clearInterval(renewal);
      await store.releaseLease(name, holder).catch(() => {});
    },
  };
}
