/**
 * The stable encoding of an entity key: the join-key values in the entity's key order,
 * as a JSON array (ints as integers, strings as strings). The same entity always gives
 * the same bytes, whichever client or backend produced it.
 */
import { BadRequestError } from "../errors.ts";
import type { EntityDef, KeyType } from "../definitions/types.ts";
import { isValidUnicode, LIMITS } from "../input-limits.ts";

export function normalizeKeyValue(value: unknown, type: KeyType, what: string): string | number {
  if (type === "string") {
    if (typeof value !== "string") throw new BadRequestError(`${what} must be a string, got ${describe(value)}`, "invalid_entity_key");
    if (value.length > LIMITS.keyPartChars) throw new BadRequestError(`${what} is longer than ${LIMITS.keyPartChars} characters`, "invalid_entity_key");
    if (!isValidUnicode(value)) throw new BadRequestError(`${what} is not valid Unicode (it holds a lone UTF-16 surrogate)`, "invalid_entity_key");
    return value;
  }
  if (typeof value === "bigint") return int64Key(value, what);
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  // Keys beyond 2^53 − 1 come as strings of digits (a JSON number cannot hold them exactly).
  if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) return int64Key(BigInt(value), what);
  if (typeof value === "number" && Number.isInteger(value))
    throw new BadRequestError(
      `${what} is a number beyond ±(2^53 − 1), which a JSON number cannot hold exactly (it arrived as ${value}): send int64 keys that large as strings of digits`,
      "invalid_entity_key",
    );
  throw new BadRequestError(`${what} must be an integer (int64), got ${describe(value)}`, "invalid_entity_key");
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** An int64 key: a number where it is exact, else its digits (as materialization keys it from DuckDB's BIGINT). */
function int64Key(value: bigint, what: string): string | number {
  if (value > INT64_MAX || value < INT64_MIN) throw new BadRequestError(`${what} is ${value}, outside the int64 range`, "invalid_entity_key");
  return value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER) ? value.toString() : Number(value);
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
  out += "]";
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only when it may matter.
  if (out.length * 3 > LIMITS.entityKeyBytes && Buffer.byteLength(out) > LIMITS.entityKeyBytes) {
    throw new BadRequestError(
      `the key of entity "${entity.name}" is ${Buffer.byteLength(out)} bytes once encoded, over the limit of ${LIMITS.entityKeyBytes}: use shorter join-key values`,
      "invalid_entity_key",
    );
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "number") return String(v);
  return typeof v;
}
