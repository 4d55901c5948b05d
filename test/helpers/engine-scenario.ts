/**
 * One feature repo for the offline-engine conformance suite: the random scenario's view
 * (random-scenario.ts) once per seed, each over its own events file; the ties example; and
 * the view over a push source, fed by pushed rows with a redelivery among them. Every
 * engine reads the same repo, each with a data folder of its own.
 */
import { FEATURES_TS, eventsCsv, labelsCsv, randomEvents, randomLabels, type Label } from "./random-scenario.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./push-scenario.ts";
import type { RefEvent } from "./reference.ts";

export const SEEDS = [1, 2, 3];

const [head, rest] = FEATURES_TS.split("export const events") as [string, string];
const body = `export const events${rest.slice(0, rest.indexOf("export const all"))}`;

/** The random view for one seed: source `events_<seed>`, view `user_stats_<seed>`. */
const seedView = (seed: number) => body.replaceAll("events", `events_${seed}`).replaceAll("user_stats", `user_stats_${seed}`).replaceAll("const stats", `const stats_${seed}`);

/** The push source's view, over the entity of stats.ts: source `pushed_events`, view `pushed_stats`. */
const pushedView = PUSH_FEATURES_TS.slice(PUSH_FEATURES_TS.indexOf("export const events"), PUSH_FEATURES_TS.indexOf("export const all"))
  .replaceAll('"events', '"pushed_events')
  .replace("data/events.csv", "data/pushed.csv")
  .replace('name: "user_stats"', 'name: "pushed_stats"');

export const TIES_CSV = "user_id,ts,amount,category\n1,2026-01-01T00:00:00.000Z,10,a\n1,2026-01-01T01:00:00.000Z,20,b\n1,2026-01-01T01:00:00.000Z,30,c\n";
export const TIES_LABELS = "user_id,event_timestamp\n1,2026-01-01T01:00:00.000Z\n1,2026-01-01T01:00:00.001Z\n9,2026-01-01T02:00:00.000Z\n";

/** The ties example's files, one view over each: `tie_stats` (CSV), `tie_stats_jsonl`, …; the Parquet file is written from the CSV by the test. */
export const TIE_FORMATS = [
  { file: "ties.csv", view: "tie_stats" },
  { file: "ties.jsonl", view: "tie_stats_jsonl" },
  { file: "ties-array.json", view: "tie_stats_json_array" },
  { file: "ties.parquet", view: "tie_stats_parquet" },
];

const tiesJson = () =>
  TIES_CSV.trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const [user_id, ts, amount, category] = line.split(",");
      return { user_id: Number(user_id), ts, amount: Number(amount), category };
    });

export type EngineScenario = {
  files: Record<string, string>;
  events: Map<number, RefEvent[]>;
  labels: Map<number, Label[]>;
  /** The pushed view's events: half in its batch file, half pushed (10 of them twice). */
  pushed: { batch: RefEvent[]; rows: RefEvent[]; again: RefEvent[] };
};

export function engineScenario(): EngineScenario {
  const events = new Map(SEEDS.map((s) => [s, randomEvents(s)]));
  const labels = new Map(SEEDS.map((s) => [s, randomLabels(s, events.get(s)!)]));
  const p = randomEvents(41, 300);
  const pushed = { batch: p.slice(0, 150), rows: p.slice(150), again: p.slice(150, 160) };
  // The ties example once per file format: CSV, JSON lines, a JSON array, Parquet (written by the test).
  const tieViews = TIE_FORMATS.map(({ file, view }) =>
    seedView(0).replace("data/events_0.csv", `data/${file}`).replaceAll("events_0", `${view}_source`).replaceAll("user_stats_0", view).replaceAll("stats_0", `${view}_view`),
  );
  const features = [head, ...SEEDS.map(seedView), ...tieViews].join("\n");
  const pushTs = `${PUSH_FEATURES_TS.slice(0, PUSH_FEATURES_TS.indexOf("export const user"))}import { user } from "./stats.ts";\n${pushedView}`;
  const files: Record<string, string> = {
    "features/stats.ts": features,
    "features/pushed.ts": pushTs.replace("export const pushed", "export const pushedSource").replace("source: pushed,", "source: pushedSource,"),
    "data/ties.csv": TIES_CSV,
    "data/ties.jsonl": tiesJson()
      .map((r) => JSON.stringify(r))
      .join("\n"),
    "data/ties-array.json": JSON.stringify(tiesJson()),
    "ties-labels.csv": TIES_LABELS,
    "data/pushed.csv": pushCsv(pushed.batch),
  };
  for (const s of SEEDS) {
    files[`data/events_${s}.csv`] = eventsCsv(events.get(s)!);
    files[`labels_${s}.csv`] = labelsCsv(labels.get(s)!);
  }
  return { files, events, labels, pushed };
}
