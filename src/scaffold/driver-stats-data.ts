/**
 * The example data `larder init` writes: hourly statistics reports of five drivers over
 * the seven days before `end` (like Feast's `feast init` example), and a label table of
 * trips. Seeded, so the same `end` always gives the same files.
 */
import { Random } from "../demo/random.ts";
import { isoTime } from "../time.ts";
import { DAY, HOUR } from "../windows/window-math.ts";

export const DRIVERS = [1001, 1002, 1003, 1004, 1005];

export function driverStatsCsv(end: number, seed = 7): { stats: string; labels: string } {
  const rnd = new Random(seed);
  const rows = ["driver_id,event_timestamp,conv_rate,acc_rate,avg_daily_trips"];
  for (const driver of DRIVERS) {
    const base = 0.3 + 0.6 * rnd.next();
    for (let t = end - 7 * DAY; t < end; t += HOUR) {
      // Drivers report most hours, not all, and at a few minutes past.
      if (!rnd.chance(0.8)) continue;
      const ts = t + rnd.int(0, 59) * 60_000 + rnd.int(0, 59) * 1000;
      const conv = Math.min(1, Math.max(0, base + 0.1 * rnd.normal()));
      rows.push(`${driver},${isoTime(ts)},${conv.toFixed(4)},${rnd.next().toFixed(4)},${rnd.int(50, 1000)}`);
    }
  }
  const labels = ["driver_id,event_timestamp,trip_completed"];
  for (let i = 0; i < 100; i++) {
    labels.push(`${rnd.pick(DRIVERS)},${isoTime(end - rnd.int(0, 7 * 24 * 60) * 60_000)},${rnd.chance(0.7)}`);
  }
  return { stats: `${rows.join("\n")}\n`, labels: `${labels.join("\n")}\n` };
}
