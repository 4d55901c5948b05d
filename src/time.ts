import { BadRequestError } from "./errors.ts";

/** Time inside Larder is integer milliseconds since the Unix epoch (UTC). */
export type EpochMs = number;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d|w)$/;

/** "7d" → 604800000. Throws on anything that is not `<integer><unit>`. */
export function parseDuration(text: string): number {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new BadRequestError(`"${text}" is not a duration: use a whole number and a unit (ms, s, m, h, d, w), e.g. "7d"`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new BadRequestError(`duration "${text}" must be positive`);
  return ms;
}

/**
 * Every instant Larder takes in (event times, lookup times, --start/--end) lies in the
 * years 0001–9999: what ISO-8601 writes with four digits, and what Python's datetime holds.
 */
export const MIN_INSTANT: EpochMs = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
export const MAX_INSTANT: EpochMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
export const INSTANT_RANGE = "from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z";

export const inInstantRange = (ms: number): boolean => ms >= MIN_INSTANT && ms <= MAX_INSTANT;

/** Parses an ISO-8601 instant or epoch milliseconds given as a string. */
export function parseInstant(text: string, what = "time"): EpochMs {
  const asNumber = Number(text);
  const ms = /^-?\d+$/.test(text) ? asNumber : Date.parse(text);
  if (!Number.isFinite(ms)) throw new BadRequestError(`${what} "${text.slice(0, 64)}" is not an ISO-8601 time or epoch milliseconds`, "invalid_time");
  if (!inInstantRange(ms)) throw new BadRequestError(`${what} "${text.slice(0, 64)}" is out of range: times run ${INSTANT_RANGE}`, "invalid_time");
  return Math.floor(ms);
}

const DAY_MS = 86_400_000;
const pad2 = (n: number) => (n < 10 ? "0" : "") + n;
const pad3 = (n: number) => (n < 10 ? "00" : n < 100 ? "0" : "") + n;

/**
 * `new Date(ms).toISOString()`, computed with integer arithmetic for years 1970–9999
 * (a lookup formats one event time per entity and view: the Date round trip was several
 * times slower). Days → civil date is Hinnant's `civil_from_days`.
 */
export function isoTime(ms: EpochMs): string {
  if (!(ms >= 0 && ms < 253_402_300_800_000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}
