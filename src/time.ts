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

/** Parses an ISO-8601 instant or epoch milliseconds given as a string. */
export function parseInstant(text: string, what = "time"): EpochMs {
  const asNumber = Number(text);
  const ms = /^\d+$/.test(text) ? asNumber : Date.parse(text);
  if (!Number.isFinite(ms)) throw new BadRequestError(`${what} "${text}" is not an ISO-8601 time or epoch milliseconds`);
  return Math.floor(ms);
}

export const isoTime = (ms: EpochMs): string => new Date(ms).toISOString();
