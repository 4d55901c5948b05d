/**
 * The window semantics shared by batch, online serving and (later) streaming.
 *
 * A window aggregation of length `w` and hop `h`, evaluated as of time `t`, covers the
 * events with `align(t − w, h) ≤ ts < t`. The head is exact and excludes `t` itself; the
 * tail moves in hops (a "sawtooth" window). `align` rounds down to a multiple of `h`
 * counted from the Unix epoch, so tile boundaries are the same on every machine.
 */
import type { EpochMs } from "../time.ts";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const align = (t: EpochMs, hop: number): EpochMs => Math.floor(t / hop) * hop;

/** First instant a window of length `w` and hop `h` includes when evaluated at `t`. */
export const windowStart = (t: EpochMs, w: number, hop: number): EpochMs => align(t - w, hop);

/** The hop used when a definition names none: about 1/100 to 1/200 of the window. */
export function defaultHop(window: number): number {
  if (window <= HOUR) return MINUTE;
  if (window <= DAY) return 5 * MINUTE;
  if (window <= 7 * DAY) return HOUR;
  return DAY;
}
