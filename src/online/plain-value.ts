/** Values as online records store them (msgpack, JSON): bigints become numbers where exact, strings otherwise. */
export function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v ?? null;
}
