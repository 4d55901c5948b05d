import { expect, test } from "bun:test";
import { decodeRecord, encodeRecord } from "./record-codec.ts";

test("records round-trip: numbers, strings, booleans, nulls, dates, empty series", () => {
  const r = {
    ts: 1795363392036,
    values: [1.5, "naïve ✓ 𝄞", null, true, false, -0.25, new Date(Date.UTC(2026, 0, 2)), 42],
    lifetime: Float64Array.of(0, 3, 6, 14, 1, 3, 5, 3),
    series: [Float64Array.of(60_000, 2, 3, 5, 1, 2, 9, 2), new Float64Array(0), Float64Array.of(1, 2, 3, 4, 5, 6, 7, Infinity)],
  };
  const back = decodeRecord(encodeRecord(r));
  expect(back).toEqual({ ...r, values: [1.5, "naïve ✓ 𝄞", null, true, false, -0.25, "2026-01-02T00:00:00.000Z", 42] });
});

test("decoding copies exactly `length` bytes of a view into a larger buffer", () => {
  const bytes = encodeRecord({ ts: 1, values: ["x"], lifetime: new Float64Array(0), series: [] });
  const big = new Uint8Array(1024).fill(7);
  big.set(bytes, 8);
  const view = big.subarray(8, 8 + bytes.length);
  const decoded = decodeRecord(view);
  big.fill(0);
  expect(decoded).toEqual({ ts: 1, values: ["x"], lifetime: new Float64Array(0), series: [] });
});

test("records of another format are refused with a clear message", () => {
  const bytes = encodeRecord({ ts: 1, values: [], lifetime: new Float64Array(0), series: [] });
  bytes[0] = 99;
  expect(() => decodeRecord(bytes)).toThrow("online record format 99 is not 2: run larder materialize again");
});
