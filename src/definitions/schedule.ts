/** Schedules as croner reads them: a cron expression and a time zone (UTC unless given). */
import { Cron } from "croner";
import type { ScheduleDef } from "./types.ts";

export const scheduleOf = (s: ScheduleDef | string | null | undefined): ScheduleDef | null =>
  s === null || s === undefined ? null : typeof s === "string" ? { cron: s, timezone: null } : s;

/** A paused job for reading times, or the reason the schedule is not one. */
export function parseSchedule(s: ScheduleDef): { cron: Cron } | { problem: string } {
  try {
    return { cron: new Cron(s.cron, { paused: true, timezone: s.timezone ?? "UTC" }) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}
