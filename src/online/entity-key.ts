/**
 * The stable encoding of an entity key: the join-key values in the entity's key order,
 * as a JSON array (ints as integers, strings as strings). The same entity always gives
 * the same bytes, whichever client or backend produced it.
 */
import { BadRequestError } from "../errors.ts";
import type { EntityDef, KeyType } from "../definitions/types.ts";

/** Longer keys would not fit an LMDB key (1978 bytes) once encoded. */
export const MAX_STRING_KEY = 256;

export function normalizeKeyValue(value: unknown, type: KeyType, what: string): string | number {
  if (type === "string") {
    if (typeof value !== "string") throw new BadRequestError(`${what} must be a string, got ${describe(value)}`, "invalid_entity_key");
    if (value.length > MAX_STRING_KEY) throw new BadRequestError(`${what} is longer than ${MAX_STRING_KEY} characters`, "invalid_entity_key");
    return value;
  }
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return value.toString();
    return Number(value);
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value)) return Number(value);
  throw new BadRequestError(`${what} must be an integer (int64), got ${describe(value)}`, "invalid_entity_key");
}

export function encodeEntityKey(entity: EntityDef, values: readonly unknown[]): string {
  // JSON.stringify of the normalized array, built by hand: this runs for every entity of every lookup.
  let out = "[";
  const keys = entity.joinKeys;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = values[i];
    const normalized = k.type === "int64" && typeof v === "number" && Number.isSafeInteger(v) ? v : normalizeKeyValue(v, k.type, `join key "${k.name}"`);
    out += (i ? "," : "") + (typeof normalized === "number" ? String(normalized) : JSON.stringify(normalized));
  }
  return out + "]";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "number") return String(v);
  return typeof v;
}
