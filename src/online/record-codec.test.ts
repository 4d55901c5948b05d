import { expect, test } from "bun:test";
import { decodeRecord, encodeRecord, encodeUpdate, lendRecord, newLentRecord } from "./record-codec.ts";

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

test("a damaged record (another format word, lengths past its end) is refused with the way out", () => {
  const bytes = encodeRecord({ ts: 1, values: [], lifetime: new Float64Array(0), series: [new Float64Array(4)] });
  bytes[0] = 99;
  expect(() => decodeRecord(bytes)).toThrow("a record of the online store is damaged (it starts with 99, not record format 4); run larder materialize --rebuild");
  bytes[0] = 4;
  bytes[24] = 200; // the series' length, in numbers
  expect(() => decodeRecord(bytes)).toThrow("a record of the online store is damaged (its lengths reach past its 72 bytes)");
});

test("encodeUpdate patches the decoded copy when only tiles and plain values changed, and equals a fresh encoding", () => {
  const base = {
    ts: 10,
    values: [1.5, null, true],
    lifetime: Float64Array.of(0, 3, 6, 14, 1, 3, 5, 3),
    series: [Float64Array.of(60_000, 2, 3, 5, 1, 2, 9, 2, 120_000, 1, 3, 9, 3, 3, 11, 3), new Float64Array(0)],
  };
  const decoded = decodeRecord(encodeRecord(base));
  // In place: a tile and the lifetime slot change; new latest values of other plain kinds.
  decoded.series[0]![9]! += 1;
  decoded.lifetime[1]! += 1;
  const next = { ...decoded, ts: 20, values: [null, 7.25, false] };
  const patched = encodeUpdate(decoded, next);
  expect(patched.buffer).toBe(decodeRecordBuffer(decoded)); // written into the decoded copy
  expect([...patched]).toEqual([...encodeRecord(next)]);
  expect(decodeRecord(patched)).toEqual(next);
});

test("encodeUpdate encodes afresh when the layout changes", () => {
  const base = { ts: 1, values: [1, "a"], lifetime: new Float64Array(0), series: [Float64Array.of(0, 1, 1, 1, 1, 1, 1, 1)] };
  const decoded = decodeRecord(encodeRecord(base));
  const cases = [
    { ...decoded, series: [Float64Array.of(0, 1, 1, 1, 1, 1, 1, 1, 60_000, 1, 2, 4, 2, 2, 5, 2)] }, // a new tile
    { ...decoded, values: [1, "b"] }, // a string value (kept as JSON)
  ];
  for (const next of cases) {
    const bytes = encodeUpdate(decoded, next);
    expect(bytes.buffer).not.toBe(decodeRecordBuffer(decoded));
    expect(decodeRecord(bytes)).toEqual(next);
  }
  expect(decodeRecord(encodeUpdate(undefined, base))).toEqual(base);
});

/** The buffer a decoded record's arrays view. */
const decodeRecordBuffer = (r: { lifetime: Float64Array; series: Float64Array[] }) => (r.series[0] ?? r.lifetime).buffer;

test("lendRecord reads a record in place, aligned or not, into one reused object", () => {
  const r = {
    ts: 5,
    values: [2.5, "naïve", null, true],
    lifetime: Float64Array.of(0, 3, 6, 14, 1, 3, 5, 3),
    series: [Float64Array.of(60_000, 2, 3, 5, 1, 2, 9, 2), new Float64Array(0), Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
  };
  const bytes = encodeRecord(r);
  const into = newLentRecord();
  for (const shift of [0, 8, 3]) {
    const big = new Uint8Array(bytes.length + 64);
    big.set(bytes, shift);
    const lent = lendRecord(big.subarray(shift, shift + bytes.length), into);
    expect({
      ts: lent.ts,
      values: [...lent.values],
      lifetime: lent.data.slice(lent.lifetimeStart, lent.lifetimeEnd),
      series: lent.seriesStart.map((s, k) => lent.data.slice(s, lent.seriesEnd[k])),
    }).toEqual(r);
    if (shift % 8 === 0) expect(lent).toBe(into); // aligned: the object is reused, nothing allocated
  }
});

test("recent events round-trip with their values (numbers, strings, nulls, booleans) and inputs (null as missing)", () => {
  const r = {
    ts: 5,
    values: ["folded", 1.5, null],
    lifetime: Float64Array.of(0, 3, 6, 14, 1, 3, 5, 3),
    series: [Float64Array.of(60_000, 2, 3, 5)],
    recent: [
      { ts: 7, values: ["a", 2, true], inputs: [1, null] },
      { ts: 7, values: [null, 3, false], inputs: [null, 4.25] },
      { ts: 9, values: [{ nested: ["x"] }, -0.5, "b"], inputs: [2, 3] },
    ],
  };
  const bytes = encodeRecord(r);
  expect(decodeRecord(bytes)).toEqual(r);
  const lent = lendRecord(decodeRecordBytes(bytes), newLentRecord());
  expect(lent.recent).toEqual(r.recent);
  expect(lent.values).toEqual(r.values);
  // Without recent events there is no `recent` at all.
  expect(decodeRecord(encodeRecord({ ...r, recent: [] }))).toEqual({ ts: 5, values: r.values, lifetime: r.lifetime, series: r.series });
});

/** An 8-byte-aligned copy (lendRecord reads aligned bytes in place). */
const decodeRecordBytes = (bytes: Uint8Array) => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.length + 8), 8, bytes.length);
  copy.set(bytes);
  return copy;
};
