/**
 * Streaming updates of one entity's online record: the same state materialization
 * writes (latest row, lifetime statistics, tiles), advanced event by event, so a lookup
 * right after a push answers what the batch path computes for that instant.
 *
 * The rule for late and out-of-order events (docs/concepts/streaming.md):
 * - the latest value as of t is the newest event before t (at the same instant, the
 *   later-pushed row wins, as the later row does in batch);
 * - lifetime statistics take every event before t;
 * - a tile takes an event whatever its arrival order, as long as the tile is still kept:
 *   tiles older than the longest window using the series (counted back from the newest
 *   folded event of the entity) are dropped, and events for them only reach the offline
 *   side, where no window evaluated at an instant served online could see them anyway.
 */
import type { OnlineRecord, RecentEvent } from "../online/online-store.ts";
import { RECENT_EVENTS } from "../online/recent-events.ts";
import { emptyStats, Field, FULL_SHAPE, statsToTile, TILE_WIDTH, type TileShape } from "../windows/tile-stats.ts";
import type { ViewLayout } from "../windows/view-layout.ts";
import { align } from "../windows/window-math.ts";

export type StreamEvent = RecentEvent;

/** Adds `x` (at `ts`) to the tile at `off`, of shape `shape` (lifetime slots: every statistic). */
function addValue(tiles: Float64Array, off: number, x: number, ts: number, shape: TileShape = FULL_SHAPE): void {
  tiles[off + Field.Count]! += 1;
  if (shape.sum >= 0) tiles[off + shape.sum]! += x;
  if (shape.sumSq >= 0) tiles[off + shape.sumSq]! += x * x;
  if (shape.min >= 0 && x < tiles[off + shape.min]!) tiles[off + shape.min] = x;
  if (shape.max >= 0 && x > tiles[off + shape.max]!) tiles[off + shape.max] = x;
  if (shape.lastTs >= 0 && ts >= tiles[off + shape.lastTs]!) {
    tiles[off + shape.lastTs] = ts;
    tiles[off + shape.last] = x;
  }
}

/**
 * The record after `events` (in push order), from `record` (undefined: a new entity).
 * `record`'s arrays are changed in place where they can be (the store hands out copies
 * for this: see RecordUpdate): a record's series can hold thousands of numbers.
 *
 * An event older than the newest folded one is folded at once (no exact lookup could leave
 * it out); a newer one joins the recent events, in time order (ties in arrival order), and
 * the oldest recent events beyond RECENT_EVENTS are folded.
 */
export function applyEvents(layout: ViewLayout, record: OnlineRecord | undefined, events: StreamEvent[]): OnlineRecord {
  let ts = record?.ts ?? -Infinity;
  // A new entity has no folded row yet: its values are nulls, as many as every row has.
  let values = record?.values ?? new Array<unknown>(layout.expressions.length).fill(null);
  const lifetime = record ? record.lifetime : new Float64Array(layout.lifetime.length * TILE_WIDTH);
  if (!record) for (let i = 0; i < layout.lifetime.length; i++) lifetime.set(statsToTile(0, emptyStats()), i * TILE_WIDTH);
  const series = layout.series.map((_, i) => record?.series[i] ?? new Float64Array(0));
  const recent = record?.recent ? [...record.recent] : [];

  const fold = (e: StreamEvent) => {
    if (e.ts >= ts) {
      ts = e.ts;
      values = e.values;
    }
    for (let i = 0; i < layout.lifetime.length; i++) {
      const x = e.inputs[layout.lifetime[i]!.input];
      if (x !== null && x !== undefined) addValue(lifetime, i * TILE_WIDTH, x, e.ts);
    }
    for (let i = 0; i < layout.series.length; i++) {
      const s = layout.series[i]!;
      const x = e.inputs[s.input];
      if (x === null || x === undefined) continue;
      let tiles = series[i]!;
      const width = s.shape.width;
      const start = align(e.ts, s.hop);
      // Tiles ascend by start; most events land in the newest tile, so search from the end.
      let off = tiles.length - width;
      while (off >= 0 && tiles[off + Field.Start]! > start) off -= width;
      if (off < 0 || tiles[off + Field.Start] !== start) {
        off += width;
        const grown = new Float64Array(tiles.length + width);
        grown.set(tiles.subarray(0, off));
        grown.set(statsToTile(start, emptyStats(), s.shape), off);
        grown.set(tiles.subarray(off), off + width);
        tiles = series[i] = grown;
      }
      addValue(tiles, off, x, e.ts, s.shape);
    }
  };

  for (const e of events) {
    if (e.ts < ts) {
      fold(e);
      continue;
    }
    // After every recent event at or before it: time order, ties in arrival order.
    let at = recent.length;
    while (at > 0 && recent[at - 1]!.ts > e.ts) at--;
    recent.splice(at, 0, e);
  }
  while (recent.length > RECENT_EVENTS) fold(recent.shift()!);

  // Tiles older than the longest window using them, counted back from the newest folded
  // event: every lookup an exact answer is given for is after it (online-features.ts).
  const out: OnlineRecord = {
    ts,
    values,
    lifetime,
    series: layout.series.map((s, i) => {
      const keepFrom = align(ts - s.retention, s.hop);
      const tiles = series[i]!;
      let first = 0;
      while (first < tiles.length && tiles[first + Field.Start]! < keepFrom) first += s.shape.width;
      return first === 0 ? tiles : tiles.subarray(first);
    }),
  };
  if (recent.length) out.recent = recent;
  return out;
}
