/**
 * OnlineRecord ⇄ a msgpack-friendly object. Float64Arrays are stored as their raw bytes
 * (little-endian), which msgpack keeps as binary and decodes in one copy.
 */
import type { OnlineRecord } from "./online-store.ts";

export type StoredRecord = { t: number; v: unknown[]; l: Uint8Array; s: Uint8Array[] };

const bytes = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function floats(b: Uint8Array): Float64Array {
  // Always copy: a decoded binary may be a view into a buffer the store reuses for the
  // next read (and Buffer#slice does not copy, so call Uint8Array's).
  return new Float64Array(Uint8Array.prototype.slice.call(b).buffer);
}

export const encodeRecord = (r: OnlineRecord): StoredRecord => ({ t: r.ts, v: r.values, l: bytes(r.lifetime), s: r.series.map(bytes) });

export const decodeRecord = (s: StoredRecord): OnlineRecord => ({ ts: s.t, values: s.v, lifetime: floats(s.l), series: s.s.map(floats) });
