import { expect, test } from "bun:test";
import { emptyStats, finish, FULL_SHAPE, statsToTile, tileShape, tileToStats, windowValue, type Aggregation } from "./tile-stats.ts";

test("a series' tiles keep their start, their count and what its aggregations read, and give the same values as full tiles", () => {
  expect(tileShape(["count"])).toEqual({ width: 2, sum: -1, sumSq: -1, min: -1, max: -1, lastTs: -1, last: -1 });
  expect(tileShape(["mean", "stddev"])).toMatchObject({ width: 4, sum: 2, sumSq: 3 });
  expect(tileShape(["max", "sum"])).toMatchObject({ width: 4, sum: 2, max: 3, min: -1 });
  expect(tileShape(["last"])).toMatchObject({ width: 4, lastTs: 2, last: 3 });
  expect(tileShape(["count", "sum", "mean", "min", "max", "stddev", "last"])).toEqual(FULL_SHAPE);

  // Hourly tiles of random values, full and narrow: every aggregation agrees over any window.
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const H = 3_600_000;
  const tiles = Array.from({ length: 40 }, (_, i) => {
    const s = emptyStats();
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
      const x = Math.round(rand() * 1000) / 10;
      const ts = i * H + Math.floor(rand() * H);
      s.count++;
      s.sum += x;
      s.sumSq += x * x;
      s.min = Math.min(s.min, x);
      s.max = Math.max(s.max, x);
      if (ts >= s.lastTs) {
        s.lastTs = ts;
        s.last = x;
      }
    }
    return { start: i * H, s };
  });
  const series = (shape = FULL_SHAPE) => Float64Array.from(tiles.flatMap(({ start, s }) => [...statsToTile(start, s, shape)]));
  const full = series();
  for (const agg of ["count", "sum", "mean", "min", "max", "stddev", "last"] as Aggregation[]) {
    const shape = tileShape([agg]);
    const narrow = series(shape);
    expect(narrow.length).toBe(40 * shape.width);
    for (const [t, w] of [
      [40 * H, 6 * H],
      [25 * H + 5, 24 * H],
      [3 * H, 48 * H],
    ] as const) {
      expect(windowValue(narrow, 0, narrow.length, agg, t, w, H, shape)).toBe(windowValue(full, 0, full.length, agg, t, w, H, FULL_SHAPE));
    }
    expect(finish(agg, tileToStats(narrow, shape.width * 7, shape))).toBe(finish(agg, tileToStats(full, 8 * 7)));
  }
});
