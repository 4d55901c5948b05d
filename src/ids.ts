/**
 * Identifiers many modules share: content hashes of canonical JSON (versions, fingerprints,
 * cache keys) and run ids. A leaf module: it imports nothing of Larder's.
 */
import { createHash } from "node:crypto";

/** JSON with keys sorted and undefined left out: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The first 12 hex digits of the SHA-256 of a value's canonical JSON. */
export const hashOf = (value: unknown): string => createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 12);

/** Run ids sort by time and are unique across processes: 20261122T160500123Z-3f9a1c. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The run id of a pointer no run wrote: a view's first table made by pushes (online/stream-table.ts). */
export const STREAM_RUN_ID = "stream";
