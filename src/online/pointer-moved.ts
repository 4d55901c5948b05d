/** The error a store throws when a write's pointer check fails (online-store.ts, PointerCheck). */
import { PointerMovedError } from "../errors.ts";
import type { PointerCheck, ServingPointer } from "./online-store.ts";

export function pointerMoved(check: PointerCheck, found: ServingPointer | undefined): PointerMovedError {
  const now = found ? `table ${found.table}, written by run ${found.runId}` : "no pointer";
  return new PointerMovedError(`the served pointer of feature view "${check.view}" changed while this write was prepared (it is now ${now}); nothing was written`);
}
