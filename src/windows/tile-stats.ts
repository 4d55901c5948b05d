/**
 * Tiles: per entity, per hop, the sufficient statistics of one aggregation input
 * (count, sum, sum of squares, min, max, and the latest value). Any window made of whole
 * tiles is computed exactly from them, so values decay at request time without another
 * materialization.
 *
 * A tile series is stored flat in a Float64Array, tiles in ascending start order. A tile is
 * its start and count, then only the statistics its series' aggregations read (its
 * TileShape): a count series keeps 2 numbers a tile, one with every aggregation 8:
 * [start, count, sum, sumsq, min, max, lastTs, lastValue]. Records are rewritten on every
 * push and flushed to disk, so their size is what streaming pays for.
 */
import type { EpochMs } from "../time.ts";
import { windowStart } from "./window-math.ts";

/** The width of a tile with every statistic (lifetime slots are always this wide). */
export const TILE_WIDTH = 8;
export const enum Field {
  Start = 0,
  Count = 1,
  Sum = 2,
  SumSq = 3,
  Min = 4,
  Max = 5,
  LastTs = 6,
  Last = 7,
}

/** Where a tile keeps each statistic: an offset in the tile, or -1 when it does not. */
export type TileShape = { width: number; sum: number; sumSq: number; min: number; max: number; lastTs: number; last: number };

export const FULL_SHAPE: TileShape = { width: TILE_WIDTH, sum: Field.Sum, sumSq: Field.SumSq, min: Field.Min, max: Field.Max, lastTs: Field.LastTs, last: Field.Last };

/** The shape of a series read by these aggregations. */
export function tileShape(aggregations: readonly Aggregation[]): TileShape {
  const has = (...a: Aggregation[]) => aggregations.some((x) => a.includes(x));
  let width = 2;
  const next = (keep: boolean) => (keep ? width++ : -1);
  const sum = next(has("sum", "mean", "stddev"));
  const sumSq = next(has("stddev"));
  const min = next(has("min"));
  const max = next(has("max"));
  const lastTs = next(has("last"));
  const last = next(has("last"));
  return { width, sum, sumSq, min, max, lastTs, last };
}

export const AGGREGATIONS = ["count", "sum", "mean", "min", "max", "stddev", "last"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Running statistics of a set of non-null input values. */
export type Stats = { count: number; sum: number; sumSq: number; min: number; max: number; lastTs: number; last: number };

export const emptyStats = (): Stats => ({ count: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, lastTs: -Infinity, last: NaN });

/** Adds the tile at `offset` of `tiles` (of shape `shape`) into `acc`. */
export function addTile(acc: Stats, tiles: Float64Array, offset: number, shape: TileShape = FULL_SHAPE): void {
  const count = tiles[offset + Field.Count]!;
  if (count === 0) return;
  acc.count += count;
  if (shape.sum >= 0) acc.sum += tiles[offset + shape.sum]!;
  if (shape.sumSq >= 0) acc.sumSq += tiles[offset + shape.sumSq]!;
  if (shape.min >= 0) {
    const min = tiles[offset + shape.min]!;
    if (min < acc.min) acc.min = min;
  }
  if (shape.max >= 0) {
    const max = tiles[offset + shape.max]!;
    if (max > acc.max) acc.max = max;
  }
  if (shape.lastTs >= 0) {
    const lastTs = tiles[offset + shape.lastTs]!;
    if (lastTs >= acc.lastTs) {
      acc.lastTs = lastTs;
      acc.last = tiles[offset + shape.last]!;
    }
  }
}

export function mergeStats(a: Stats, b: Stats): Stats {
  const out = { ...a };
  const tile = statsToTile(0, b);
  addTile(out, tile, 0);
  return out;
}

export function statsToTile(start: number, s: Stats, shape: TileShape = FULL_SHAPE): Float64Array {
  const tile = new Float64Array(shape.width);
  tile[Field.Start] = start;
  tile[Field.Count] = s.count;
  if (shape.sum >= 0) tile[shape.sum] = s.sum;
  if (shape.sumSq >= 0) tile[shape.sumSq] = s.sumSq;
  if (shape.min >= 0) tile[shape.min] = s.min;
  if (shape.max >= 0) tile[shape.max] = s.max;
  if (shape.lastTs >= 0) tile[shape.lastTs] = s.lastTs;
  if (shape.last >= 0) tile[shape.last] = s.last;
  return tile;
}

export function tileToStats(tiles: Float64Array, offset: number, shape: TileShape = FULL_SHAPE): Stats {
  const s = emptyStats();
  addTile(s, tiles, offset, shape);
  return s;
}

/** The final value of an aggregation over `s`. Empty windows: count and sum are 0, the rest null. */
export function finish(agg: Aggregation, s: Stats): number | null {
  const n = s.count;
  switch (agg) {
    case "count":
      return n;
    case "sum":
      return n === 0 ? 0 : s.sum;
    case "mean":
      return n === 0 ? null : s.sum / n;
    case "min":
      return n === 0 ? null : s.min;
    case "max":
      return n === 0 ? null : s.max;
    case "last":
      return n === 0 ? null : s.last;
    case "stddev": {
      if (n < 2) return null;
      // Sample standard deviation, like DuckDB's stddev_samp; clamp rounding noise below 0.
      const variance = (s.sumSq - (s.sum * s.sum) / n) / (n - 1);
      return Math.sqrt(Math.max(0, variance));
    }
  }
}

/** Adds one value `x` at `ts` to `acc`. */
export function addValueToStats(acc: Stats, x: number, ts: number): void {
  acc.count += 1;
  acc.sum += x;
  acc.sumSq += x * x;
  if (x < acc.min) acc.min = x;
  if (x > acc.max) acc.max = x;
  if (ts >= acc.lastTs) {
    acc.lastTs = ts;
    acc.last = x;
  }
}

/** Values kept apart from the tiles (a record's recent events): their times and inputs. */
export type LooseValues = readonly { ts: EpochMs; inputs: readonly (number | null)[] }[];

/** Adds the loose values of input `input` with `from ≤ ts < t` to `acc`, in their (time) order. */
export function addLooseValues(acc: Stats, loose: LooseValues, input: number, from: number, t: EpochMs): void {
  for (const e of loose) {
    const x = e.inputs[input];
    if (e.ts >= from && e.ts < t && x !== null && x !== undefined) addValueToStats(acc, x, e.ts);
  }
}

/** Reused by windowValue (synchronous, so one accumulator serves every call). */
const scratch = emptyStats();

/**
 * The window value as of `t` from a tile series in `tiles[start, end)` (a record's series of
 * shape `shape`, read in place) and the record's loose values of input `input`. Every event
 * in the tiles must be earlier than `t` (serving checks `t` against the watermark and the
 * newest folded event), so whole tiles from `align(t − w, h)` on, and the loose values in
 * the window, are exactly the window.
 */
export function windowValue(
  tiles: Float64Array,
  start: number,
  end: number,
  agg: Aggregation,
  t: EpochMs,
  window: number,
  hop: number,
  shape: TileShape,
  loose: LooseValues = [],
  input = 0,
): number | null {
  const from = windowStart(t, window, hop);
  const acc = scratch;
  acc.count = acc.sum = acc.sumSq = 0;
  acc.min = Infinity;
  acc.max = -Infinity;
  acc.lastTs = -Infinity;
  acc.last = NaN;
  // Tiles are ascending: walk back from the newest until one starts before the window.
  const width = shape.width;
  for (let off = end - width; off >= start; off -= width) {
    const tileStart = tiles[off + Field.Start]!;
    if (tileStart < from) break;
    if (tileStart < t) addTile(acc, tiles, off, shape);
  }
  // After the tiles: at the same instant, a loose value came later than a folded one ("last").
  if (loose.length) addLooseValues(acc, loose, input, from, t);
  return finish(agg, acc);
}

/**
 * Merges two tile series of shape `shape` (ascending, as stored) into one, adding tiles
 * that share a start, and drops tiles that start before `keepFrom`. Used by incremental
 * materialization.
 */
export function mergeSeries(a: Float64Array, b: Float64Array, keepFrom: number, shape: TileShape): Float64Array {
  const out: number[] = [];
  const width = shape.width;
  let i = 0;
  let j = 0;
  const push = (src: Float64Array, off: number) => {
    for (let k = 0; k < width; k++) out.push(src[off + k]!);
  };
  while (i < a.length || j < b.length) {
    const sa = i < a.length ? a[i]! : Infinity;
    const sb = j < b.length ? b[j]! : Infinity;
    if (sa === sb) {
      const s = tileToStats(a, i, shape);
      addTile(s, b, j, shape);
      if (sa >= keepFrom) push(statsToTile(sa, s, shape), 0);
      i += width;
      j += width;
    } else if (sa < sb) {
      if (sa >= keepFrom) push(a, i);
      i += width;
    } else {
      if (sb >= keepFrom) push(b, j);
      j += width;
    }
  }
  return Float64Array.from(out);
}
