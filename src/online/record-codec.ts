/**
 * OnlineRecord ⇄ bytes, the same for every backend. Read in place (lendRecord, for
 * lookups: nothing copied or allocated but the few recent events) or decoded after one
 * copy (decodeRecord):
 *
 *   u32 format | u32 value count V | u32 lifetime length | u32 series count S
 *   u32 recent events R | u32 inputs per recent event I | u32 × S series lengths
 *   u8 × V value tags | u8 × (R × V) recent events' value tags          | pad to 8
 *   f64 ts | f64 × V number values | f64 lifetime… | f64 series…   (lengths count numbers)
 *   R × (f64 ts | f64 × I inputs (NaN: null) | f64 × V number values)
 *   UTF-8 JSON array of the values tagged "json", the folded row's then each recent event's
 *   (the rest; absent when none)
 *
 * Latest values are mostly numbers: those stay float64, so a lookup parses no JSON.
 * Strings (and anything else JSON can carry) go to the JSON tail; dates are stored as
 * ISO-8601 strings, which is what lookups answer with anyway.
 */
import { DamagedDataError } from "../errors.ts";
import { REBUILD_ONLINE } from "./stored-meta.ts";
import type { LentRecord, OnlineRecord, RecentEvent } from "./online-store.ts";

/** 4: recent events kept apart, so lookups leave out events at or after their instant. */
const FORMAT = 4;
const HEADER_WORDS = 6;
const enum Tag {
  Null = 0,
  Number = 1,
  True = 2,
  False = 3,
  Json = 4,
}
const encoder = new TextEncoder();

const tagOf = (v: unknown): Tag => (v === null || v === undefined ? Tag.Null : typeof v === "number" ? Tag.Number : v === true ? Tag.True : v === false ? Tag.False : Tag.Json);
const decoder = new TextDecoder();
const NO_RECENT: RecentEvent[] = [];

export function encodeRecord(r: OnlineRecord): Uint8Array {
  const nValues = r.values.length;
  const recent = r.recent ?? NO_RECENT;
  const nInputs = recent[0]?.inputs.length ?? 0;
  const tags = new Uint8Array(nValues * (1 + recent.length));
  const json: unknown[] = [];
  const tagValues = (values: unknown[], at: number) =>
    values.forEach((v, i) => {
      tags[at + i] = tagOf(v);
      if (tags[at + i] === Tag.Json) json.push(v instanceof Date ? v.toISOString() : v);
    });
  tagValues(r.values, 0);
  recent.forEach((e, k) => tagValues(e.values, nValues * (1 + k)));
  const tail = json.length ? encoder.encode(JSON.stringify(json)) : new Uint8Array(0);
  const words = HEADER_WORDS + r.series.length;
  const header = align8(4 * words + tags.length);
  const doubles = 1 + nValues + r.lifetime.length + r.series.reduce((n, s) => n + s.length, 0) + recent.length * (1 + nInputs + nValues);
  const out = new Uint8Array(header + 8 * doubles + tail.length);
  const u32 = new Uint32Array(out.buffer, 0, words);
  u32[0] = FORMAT;
  u32[1] = nValues;
  u32[2] = r.lifetime.length;
  u32[3] = r.series.length;
  u32[4] = recent.length;
  u32[5] = nInputs;
  r.series.forEach((s, i) => (u32[HEADER_WORDS + i] = s.length));
  out.set(tags, 4 * words);
  const f = new Float64Array(out.buffer, header, doubles);
  const numbers = (values: unknown[], at: number) => values.forEach((v, i) => (f[at + i] = typeof v === "number" ? v : 0));
  f[0] = r.ts;
  numbers(r.values, 1);
  let at = 1 + nValues;
  f.set(r.lifetime, at);
  at += r.lifetime.length;
  for (const s of r.series) {
    f.set(s, at);
    at += s.length;
  }
  for (const e of recent) {
    f[at++] = e.ts;
    for (let i = 0; i < nInputs; i++) f[at++] = e.inputs[i] ?? NaN;
    numbers(e.values, at);
    at += nValues;
  }
  out.set(tail, header + 8 * doubles);
  return out;
}

/**
 * Decodes bytes that may be a view into a buffer the store reuses: copies first, and only
 * `length` bytes (lmdb-js's getBinaryFast hands out a 16 MiB shared buffer whose
 * `length` alone is right). The copy goes through a plain Uint8Array view: slice() or
 * subarray() on a Buffer would construct Buffers (species), a third of a lookup's time.
 */
export function decodeRecord(bytes: Uint8Array, arena?: DecodeArena): OnlineRecord {
  const n = bytes.length;
  const copy = arena ? arena.take(n) : new Uint8Array(n);
  copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset, n));
  const record = viewRecord(copy);
  decodedFrom.set(record, copy);
  return record;
}

/**
 * Room for the records one store update decodes, reused from update to update: one
 * buffer rather than an allocation per record (streaming rewrites thousands of records a
 * second, and allocating their copies was a tenth of the push path's time). Records
 * decoded into it are valid until the next reset(): only within one update, whose writes
 * copy their bytes before it ends.
 */
export class DecodeArena {
  #buffer = new ArrayBuffer(1 << 20);
  #used = 0;

  reset(): void {
    this.#used = 0;
  }

  /** `n` bytes, 8-byte aligned (records are read in place as float64). */
  take(n: number): Uint8Array {
    if (this.#used + n > this.#buffer.byteLength) {
      // Views already handed out keep the old buffer alive for as long as they need it.
      this.#buffer = new ArrayBuffer(Math.max(2 * this.#buffer.byteLength, align8(n)));
      this.#used = 0;
    }
    const view = new Uint8Array(this.#buffer, this.#used, n);
    this.#used += align8(n);
    return view;
  }
}

/** The private copy each decoded record's arrays are views into (see encodeUpdate). */
const decodedFrom = new WeakMap<OnlineRecord, Uint8Array>();

/**
 * The bytes of `next`, a record made from `decoded` (a decodeRecord result) by changing
 * its arrays in place: when `next` still uses those same arrays, and its values are
 * numbers, booleans or nulls where `decoded`'s were, the copy `decoded` was read from
 * already holds the new tiles, and only the time and values are written into it. Any
 * other change (a new tile, dropped tiles, string values) is encoded afresh. Streaming
 * updates rewrite thousands of records a second, mostly adding to an existing tile.
 */
export function encodeUpdate(decoded: OnlineRecord | undefined, next: OnlineRecord): Uint8Array {
  const bytes = decoded && decodedFrom.get(decoded);
  if (
    !bytes ||
    next.lifetime !== decoded!.lifetime ||
    next.series.length !== decoded!.series.length ||
    next.values.length !== decoded!.values.length ||
    next.recent !== decoded!.recent
  )
    return encodeRecord(next);
  for (let i = 0; i < next.series.length; i++) if (next.series[i] !== decoded!.series[i]) return encodeRecord(next);
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, HEADER_WORDS);
  const nValues = u32[1]!;
  const tagsAt = 4 * (HEADER_WORDS + u32[3]!);
  const f = new Float64Array(bytes.buffer, bytes.byteOffset + align8(tagsAt + nValues * (1 + u32[4]!)), 1 + nValues);
  // Every value has a number slot; only values kept as JSON (in the tail) change the layout.
  for (let i = 0; i < nValues; i++) if (bytes[tagsAt + i] === Tag.Json || tagOf(next.values[i]) === Tag.Json) return encodeRecord(next);
  f[0] = next.ts;
  for (let i = 0; i < nValues; i++) {
    const v = next.values[i];
    bytes[tagsAt + i] = tagOf(v);
    f[1 + i] = typeof v === "number" ? v : 0;
  }
  return bytes;
}

/** A record as views into `bytes` (decodeRecord's private, 8-byte aligned copy). */
function viewRecord(bytes: Uint8Array): OnlineRecord {
  const lent = lendRecord(bytes, newLentRecord());
  // Views made on the buffer directly: subarray() looks up a species constructor each time.
  const { buffer, byteOffset } = lent.data;
  const range = (start: number, end: number) => new Float64Array(buffer, byteOffset + 8 * start, end - start);
  const record: OnlineRecord = {
    ts: lent.ts,
    values: lent.values,
    lifetime: range(lent.lifetimeStart, lent.lifetimeEnd),
    series: lent.seriesStart.map((start, i) => range(start, lent.seriesEnd[i]!)),
  };
  if (lent.recent.length) record.recent = lent.recent;
  return record;
}

/** A reusable LentRecord for lendRecord to fill. */
export const newLentRecord = (): LentRecord => ({
  ts: 0,
  values: [],
  data: new Float64Array(0),
  lifetimeStart: 0,
  lifetimeEnd: 0,
  seriesStart: [],
  seriesEnd: [],
  recent: NO_RECENT,
});

/**
 * Fills `into` with the record in `bytes`, read in place: no array is made per record
 * (lookups run this for every entity of every view). Valid as long as `bytes` is.
 */
export function lendRecord(bytes: Uint8Array, into: LentRecord): LentRecord {
  if (bytes.byteOffset % 8 !== 0) return lentFromRecord(decodeRecord(bytes));
  const { u8, u32, f64 } = wholeViews(bytes.buffer as ArrayBuffer, bytes.length);
  const base = bytes.byteOffset;
  const w = base >> 2;
  // The store refuses files of another format when it opens: a record that is not this one is damaged.
  if (u32[w] !== FORMAT) throw new DamagedDataError(`a record of the online store is damaged (it starts with ${u32[w]}, not record format ${FORMAT}); ${REBUILD_ONLINE}`);
  const nValues = u32[w + 1]!;
  const lifetimeLength = u32[w + 2]!;
  const seriesCount = u32[w + 3]!;
  const nRecent = u32[w + 4]!;
  const nInputs = u32[w + 5]!;
  const tagsAt = base + 4 * (HEADER_WORDS + seriesCount);
  const f = (base + align8(4 * (HEADER_WORDS + seriesCount) + nValues * (1 + nRecent))) >> 3;
  into.data = f64;
  into.ts = f64[f]!;
  let at = f + 1 + nValues;
  into.lifetimeStart = at;
  into.lifetimeEnd = at += lifetimeLength;
  into.seriesStart.length = into.seriesEnd.length = seriesCount;
  for (let i = 0; i < seriesCount; i++) {
    into.seriesStart[i] = at;
    into.seriesEnd[i] = at += u32[w + HEADER_WORDS + i]!;
  }
  const recentAt = at;
  at += nRecent * (1 + nInputs + nValues);
  if (at * 8 > base + bytes.length) throw new DamagedDataError(`a record of the online store is damaged (its lengths reach past its ${bytes.length} bytes); ${REBUILD_ONLINE}`);
  tail.parsed = undefined;
  tail.next = 0;
  tail.u8 = u8;
  tail.start = at * 8;
  tail.end = base + bytes.length;
  readValues(into.values, nValues, u8, tagsAt, f64, f + 1);
  if (nRecent === 0) into.recent = NO_RECENT;
  else {
    const recent: RecentEvent[] = new Array(nRecent);
    for (let k = 0, e = recentAt; k < nRecent; k++, e += 1 + nInputs + nValues) {
      const inputs: (number | null)[] = new Array(nInputs);
      for (let i = 0; i < nInputs; i++) {
        const x = f64[e + 1 + i]!;
        inputs[i] = Number.isNaN(x) ? null : x;
      }
      const values: unknown[] = [];
      readValues(values, nValues, u8, tagsAt + nValues * (1 + k), f64, e + 1 + nInputs);
      recent[k] = { ts: f64[e]!, values, inputs };
    }
    into.recent = recent;
  }
  return into;
}

/** The JSON tail of the record being lent: parsed the first time a value needs it, its values taken in order. */
const tail: { parsed: unknown[] | undefined; next: number; u8: Uint8Array; start: number; end: number } = { parsed: undefined, next: 0, u8: new Uint8Array(0), start: 0, end: 0 };

/** Fills `values` with `n` values from their tags at `u8[tags…]` and numbers at `f64[numbers…]`. */
function readValues(values: unknown[], n: number, u8: Uint8Array, tags: number, f64: Float64Array, numbers: number): void {
  values.length = n;
  for (let i = 0; i < n; i++) {
    switch (u8[tags + i]) {
      case Tag.Number:
        values[i] = f64[numbers + i];
        break;
      case Tag.True:
        values[i] = true;
        break;
      case Tag.False:
        values[i] = false;
        break;
      case Tag.Json:
        tail.parsed ??= JSON.parse(decoder.decode(tail.u8.subarray(tail.start, tail.end))) as unknown[];
        values[i] = tail.parsed[tail.next++];
        break;
      default:
        values[i] = null;
    }
  }
}

/** A record as a LentRecord over a fresh array (for stores that only read()). */
export function lentFromRecord(r: OnlineRecord): LentRecord {
  const data = new Float64Array(r.lifetime.length + r.series.reduce((n, s) => n + s.length, 0));
  data.set(r.lifetime, 0);
  let at = r.lifetime.length;
  const seriesStart: number[] = [];
  const seriesEnd: number[] = [];
  for (const s of r.series) {
    data.set(s, at);
    seriesStart.push(at);
    seriesEnd.push((at += s.length));
  }
  return { ts: r.ts, values: r.values, data, lifetimeStart: 0, lifetimeEnd: r.lifetime.length, seriesStart, seriesEnd, recent: r.recent ?? NO_RECENT };
}

const views = new WeakMap<ArrayBuffer, { u8: Uint8Array; u32: Uint32Array; f64: Float64Array }>();

function wholeViews(buffer: ArrayBuffer, recordLength: number) {
  let v = views.get(buffer);
  if (!v) {
    const length = buffer.byteLength;
    v = { u8: new Uint8Array(buffer), u32: new Uint32Array(buffer, 0, length >> 2), f64: new Float64Array(buffer, 0, length >> 3) };
    // A buffer holding just this record (a decoded copy) is not seen again: don't keep it.
    if (length !== recordLength) views.set(buffer, v);
  }
  return v;
}

const align8 = (n: number) => (n + 7) & ~7;
