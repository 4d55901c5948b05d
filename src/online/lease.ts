/**
 * Lease holders and when a lease may be taken (online-store.ts, acquireLease). A holder
 * names its host and process, `host/pid/random`, so a store can tell at once that a holder
 * on this host is gone (killed, crashed) instead of waiting for its lease to lapse.
 */
import { hostname } from "node:os";
import type { Lease } from "./online-store.ts";

export function newLeaseHolder(): string {
  const random = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hostname()}/${process.pid}/${random}`;
}

/** Whether `holder` is a process of this host that no longer runs. */
export function holderIsGone(holder: string): boolean {
  const [host, pid] = holder.split("/");
  if (host !== hostname() || !/^\d+$/.test(pid ?? "")) return false;
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    // EPERM: the process exists under another user.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Whether `holder` may take `current` now: free, its own, lapsed, or its holder gone. */
export function mayTakeLease(current: Lease | undefined, holder: string, now: number): boolean {
  return !current || current.holder === holder || current.expiresAt <= now || holderIsGone(current.holder);
}

/** The lease `holder` gets: renewing keeps when it was first taken. */
export function takenLease(current: Lease | undefined, name: string, holder: string, ttlMs: number, now: number): Lease {
  const acquiredAt = current?.holder === holder ? current.acquiredAt : new Date(now).toISOString();
  return { name, holder, acquiredAt, expiresAt: now + ttlMs };
}
