/**
 * Random events for one view with every case the semantics care about: ties at one
 * instant (the later file row wins), null inputs, events exactly on hop boundaries, a user
 * idle for 10 days, a user with no events, a user whose events all come late, labels
 * exactly at event times.
 */
import { Random } from "../../src/demo/random.ts";
import type { RefEvent, RefFeature } from "./reference.ts";
import { toCsv } from "./temp-repo.ts";

export const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000,
  HOUR = 3_600_000,
  DAY = 86_400_000;

export const FEATURES_TS = `
import { entity, fileSource, featureView, featureService, sql, count, sum, mean, min, max, stddev, last } from "larder";
import { z } from "zod";

export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const events = fileSource({
  name: "events",
  path: "data/events.csv",
  timestampField: "ts",
  schema: z.object({ user_id: z.int(), ts: z.date(), amount: z.number().nullable(), category: z.string() }),
});
export const stats = featureView({
  name: "user_stats",
  entity: user,
  source: events,
  ttl: "3d",
  features: {
    doubled: sql("amount * 2"),
    category: sql("category"),
    count_1h: count("1h"),
    count_1d: count("1d"),
    amount_count_1d: count("1d", { of: "amount" }),
    sum_2d: sum("amount", "2d"),
    mean_7d: mean("amount", "7d"),
    min_3d: min("amount", "3d", { hop: "6h" }),
    max_3d: max("amount", "3d", { hop: "6h" }),
    stddev_7d: stddev("amount", "7d"),
    last_1d: last("amount", "1d"),
    life_count: count("lifetime"),
    life_sum: sum("amount", "lifetime"),
    life_max: max("amount", "lifetime"),
  },
});
export const all = featureService({ name: "all", features: [stats] });
`;

const amount = (e: RefEvent) => e.amount;
const one = () => 1;
export const TTL = 3 * DAY;
export const REF_FEATURES: RefFeature[] = [
  { name: "doubled", kind: "latest", value: (e) => (e.amount === null ? null : e.amount * 2) },
  { name: "category", kind: "latest", value: (e) => e.category },
  { name: "count_1h", kind: "window", fn: "count", window: HOUR, hop: MIN, input: one },
  { name: "count_1d", kind: "window", fn: "count", window: DAY, hop: 5 * MIN, input: one },
  { name: "amount_count_1d", kind: "window", fn: "count", window: DAY, hop: 5 * MIN, input: amount },
  { name: "sum_2d", kind: "window", fn: "sum", window: 2 * DAY, hop: HOUR, input: amount },
  { name: "mean_7d", kind: "window", fn: "mean", window: 7 * DAY, hop: HOUR, input: amount },
  { name: "min_3d", kind: "window", fn: "min", window: 3 * DAY, hop: 6 * HOUR, input: amount },
  { name: "max_3d", kind: "window", fn: "max", window: 3 * DAY, hop: 6 * HOUR, input: amount },
  { name: "stddev_7d", kind: "window", fn: "stddev", window: 7 * DAY, hop: HOUR, input: amount },
  { name: "last_1d", kind: "window", fn: "last", window: DAY, hop: 5 * MIN, input: amount },
  { name: "life_count", kind: "lifetime", fn: "count", input: one },
  { name: "life_sum", kind: "lifetime", fn: "sum", input: amount },
  { name: "life_max", kind: "lifetime", fn: "max", input: amount },
];

export function randomEvents(seed: number, count = 700): RefEvent[] {
  const rnd = new Random(seed);
  const raw: Omit<RefEvent, "seq">[] = [];
  for (let i = 0; i < count; i++) {
    const key = rnd.int(1, 6);
    // User 3 goes idle after day 10; everyone else spans 20 days.
    const span = key === 3 ? 10 * DAY : 20 * DAY;
    // Bursts: a third of events land within minutes of the previous one.
    const prev = raw.length && rnd.chance(0.33) ? raw[raw.length - 1]! : null;
    let ts = prev && prev.key === key ? prev.ts + rnd.int(0, 10 * MIN) : T0 + rnd.int(0, span - 1);
    // Some events sit exactly on hop boundaries, where a window's tail starts.
    const snap = rnd.next();
    if (snap < 0.15) ts = Math.floor(ts / MIN) * MIN;
    else if (snap < 0.2) ts = Math.floor(ts / HOUR) * HOUR;
    raw.push({ key, ts, amount: rnd.chance(0.1) ? null : Math.round(rnd.next() * 100_000) / 100, category: rnd.pick(["a", "b", "c"]) });
    // Ties: the same instant twice for one user, with other values.
    if (rnd.chance(0.08)) raw.push({ key, ts, amount: Math.round(rnd.next() * 100_000) / 100, category: rnd.pick(["a", "b", "c"]) });
  }
  // User 8 only has events on the last day.
  for (let i = 0; i < 5; i++) raw.push({ key: 8, ts: T0 + 19 * DAY + rnd.int(0, DAY - 1), amount: rnd.int(1, 50), category: "a" });
  // Shuffle: file order is not time order; seq is the file row.
  for (let i = raw.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [raw[i], raw[j]] = [raw[j]!, raw[i]!];
  }
  return raw.map((e, seq) => ({ ...e, seq }));
}

export function eventsCsv(events: RefEvent[]): string {
  return toCsv(
    ["user_id", "ts", "amount", "category"],
    events.map((e) => ({ user_id: e.key, ts: new Date(e.ts).toISOString(), amount: e.amount, category: e.category })),
  );
}

export type Label = { user_id: number; t: number; label: number };

export function randomLabels(seed: number, events: RefEvent[], count = 300): Label[] {
  const rnd = new Random(seed + 1);
  const labels: Label[] = [];
  for (let i = 0; i < count; i++) {
    const user_id = rnd.int(1, 8);
    const pick = rnd.next();
    let t: number;
    if (pick < 0.3)
      t = rnd.pick(events).ts; // exactly at some event's time
    else if (pick < 0.4)
      t = T0 + 20 * DAY + rnd.int(0, 10 * DAY); // after the data: decay
    else if (pick < 0.45)
      t = T0 - rnd.int(1, DAY); // before any data
    else t = T0 + rnd.int(0, 20 * DAY);
    labels.push({ user_id, t, label: rnd.int(0, 1) });
  }
  return labels;
}

export function labelsCsv(labels: Label[]): string {
  return toCsv(
    ["user_id", "event_timestamp", "label"],
    labels.map((l) => ({ ...l, event_timestamp: new Date(l.t).toISOString() })),
  );
}
