/**
 * Tiles: per entity, per hop, the sufficient statistics of one aggregation input
 * (count, sum, sum of squares, min, max, and the latest value). Any window made of whole
 * tiles is computed exactly from them, so values decay at request time without another
 * materialization.
 *
 * A tile series is stored flat in a Float64Array, TILE_WIDTH numbers per tile, tiles in
 * ascending start order: [start, count, sum, sumsq, min, max, lastTs, lastValue].
 */
import type { EpochMs } from "../time.ts";
import { windowStart } from "./window-math.ts";

export const TILE_WIDTH = 8;
export const enum Field { Start = 0, Count = 1, Sum = 2, SumSq = 3, Min = 4, Max = 5, LastTs = 6, Last = 7 }

export const AGGREGATIONS = ["count", "sum", "mean", "min", "max", "stddev", "last"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Running statistics of a set of non-null input values. */
export type Stats = { count: number; sum: number; sumSq: number; min: number; max: number; lastTs: number; last: number };

export const emptyStats = (): Stats => ({ count: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: NaN });

/** Adds the tile at `offset` of `tiles` into `acc`. */
export function addTile(acc: Stats, tiles: Float64Array, offset: number): void {
  const count = tiles[offset + Field.Count]!;
  if (count === 0) return;
  acc.count += count;
  acc.sum += tiles[offset + Field.Sum]!;
  acc.sumSq += tiles[offset + Field.SumSq]!;
  const min = tiles[offset + Field.Min]!;
  const max = tiles[offset + Field.Max]!;
  if (min < acc.min) acc.min = min;
  if (max > acc.max) acc.max = max;
  const lastTs = tiles[offset + Field.LastTs]!;
  if (lastTs >= acc.lastTs) {
    acc.lastTs = lastTs;
    acc.last = tiles[offset + Field.Last]!;
  }
}

export function mergeStats(a: Stats, b: Stats): Stats {
  const out = { ...a };
  const tile = statsToTile(0, b);
  addTile(out, tile, 0);
  return out;
}

export function statsToTile(start: number, s: Stats): Float64Array {
  return Float64Array.of(start, s.count, s.sum, s.sumSq, s.min, s.max, s.lastTs, s.last);
}

export function tileToStats(tiles: Float64Array, offset: number): Stats {
  const s = emptyStats();
  addTile(s, tiles, offset);
  return s;
}

/** The final value of an aggregation over `s`. Empty windows: count and sum are 0, the rest null. */
export function finish(agg: Aggregation, s: Stats): number | null {
  const n = s.count;
  switch (agg) {
    case "count": return n;
    case "sum": return n === 0 ? 0 : s.sum;
    case "mean": return n === 0 ? null : s.sum / n;
    case "min": return n === 0 ? null : s.min;
    case "max": return n === 0 ? null : s.max;
    case "last": return n === 0 ? null : s.last;
    case "stddev": {
      if (n < 2) return null;
      // Sample standard deviation, like DuckDB's stddev_samp; clamp rounding noise below 0.
      const variance = (s.sumSq - (s.sum * s.sum) / n) / (n - 1);
      return Math.sqrt(Math.max(0, variance));
    }
  }
}

/**
 * The window value as of `t` from a tile series. Every event stored in the series must be
 * earlier than `t` (serving checks `t` against the materialization watermark), so whole
 * tiles from `align(t − w, h)` on are exactly the window.
 */
/** Reused by windowValue (synchronous, so one accumulator serves every call). */
const scratch = emptyStats();

/** The window's value from the tiles in `tiles[start, end)` (a record's series, read in place). */
export function windowValue(tiles: Float64Array, start: number, end: number, agg: Aggregation, t: EpochMs, window: number, hop: number): number | null {
  const from = windowStart(t, window, hop);
  const acc = scratch;
  acc.count = acc.sum = acc.sumSq = 0;
  acc.min = Infinity;
  acc.max = -Infinity;
  acc.lastTs = -Infinity;
  acc.last = NaN;
  // Tiles are ascending: walk back from the newest until one starts before the window.
  for (let off = end - TILE_WIDTH; off >= start; off -= TILE_WIDTH) {
    const tileStart = tiles[off + Field.Start]!;
    if (tileStart < from) break;
    if (tileStart < t) addTile(acc, tiles, off);
  }
  return finish(agg, acc);
}

/**
 * Merges two tile series (ascending, as stored) into one, adding tiles that share a start,
 * and drops tiles that start before `keepFrom`. Used by incremental materialization.
 */
export function mergeSeries(a: Float64Array, b: Float64Array, keepFrom: number): Float64Array {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  const push = (src: Float64Array, off: number) => {
    for (let k = 0; k < TILE_WIDTH; k++) out.push(src[off + k]!);
  };
  while (i < a.length || j < b.length) {
    const sa = i < a.length ? a[i]! : Infinity;
    const sb = j < b.length ? b[j]! : Infinity;
    if (sa === sb) {
      const s = tileToStats(a, i);
      addTile(s, b, j);
      if (sa >= keepFrom) push(statsToTile(sa, s), 0);
      i += TILE_WIDTH;
      j += TILE_WIDTH;
    } else if (sa < sb) {
      if (sa >= keepFrom) push(a, i);
      i += TILE_WIDTH;
    } else {
      if (sb >= keepFrom) push(b, j);
      j += TILE_WIDTH;
    }
  }
  return Float64Array.from(out);
}
