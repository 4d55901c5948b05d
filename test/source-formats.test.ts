/**
 * File sources as users write them: CSV, JSON lines and Parquet, a single path or a glob
 * over several files. The same events in every layout give the same training set.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Duck, literal } from "../src/offline/duckdb.ts";
import { trainingSetMismatches } from "./helpers/reference.ts";
import { FEATURES_TS, REF_FEATURES, TTL, eventsCsv, labelsCsv, randomEvents, randomLabels } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const events = randomEvents(41, 400);
const labels = randomLabels(41, events, 150);
const csvLines = eventsCsv(events).trimEnd().split("\n");
const header = csvLines[0]!;
const rows = csvLines.slice(1);
// Three parts, in order: a glob reads files sorted by name, so source order is kept.
const parts = [rows.slice(0, 130), rows.slice(130, 290), rows.slice(290)];

const layouts: Record<string, { path: string; write: (repo: TempRepo) => Promise<void> }> = {
  "CSV glob over three files": {
    path: "data/events/part-*.csv",
    write: async (repo) => parts.forEach((p, i) => repo.write(`data/events/part-${i}.csv`, `${[header, ...p].join("\n")}\n`)),
  },
  "JSON lines glob over three files": {
    path: "data/events/part-*.jsonl",
    write: async (repo) => {
      mkdirSync(join(repo.dir, "data", "events"), { recursive: true });
      const duck = await Duck.open();
      for (const [i] of parts.entries()) {
        repo.write(`tmp-${i}.csv`, `${[header, ...parts[i]!].join("\n")}\n`);
        await duck.run(
          `COPY (SELECT * FROM read_csv(${literal(join(repo.dir, `tmp-${i}.csv`))}, header = true)) TO ${literal(join(repo.dir, `data/events/part-${i}.jsonl`))} (FORMAT json)`,
        );
      }
      duck.close();
    },
  },
  "one Parquet file": {
    path: "data/events.parquet",
    write: async (repo) => {
      repo.write("tmp.csv", eventsCsv(events));
      mkdirSync(join(repo.dir, "data"), { recursive: true });
      const duck = await Duck.open();
      await duck.run(`COPY (SELECT * FROM read_csv(${literal(join(repo.dir, "tmp.csv"))}, header = true)) TO ${literal(join(repo.dir, "data/events.parquet"))} (FORMAT parquet)`);
      duck.close();
    },
  },
};

for (const [name, layout] of Object.entries(layouts)) {
  test(`${name}: the training set equals the reference`, async () => {
    const repo = tempRepo({ "features/stats.ts": FEATURES_TS.replace('path: "data/events.csv"', `path: ${JSON.stringify(layout.path)}`), "labels.csv": labelsCsv(labels) });
    repos.push(repo);
    await layout.write(repo);
    await repo.larder.apply();
    const result = await repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features, collect: true });
    expect(result.views[0]!.table.rows).toBe(events.length);
    expect(result.views[0]!.table.fingerprint.files.length).toBe(layout.path.includes("*") ? 3 : 1);
    const got = result.records!;
    expect(trainingSetMismatches(got, labels, events, TTL, REF_FEATURES).slice(0, 5)).toEqual([]);
  });
}

test("a glob that matches nothing is a clear error", async () => {
  const repo = tempRepo({ "features/stats.ts": FEATURES_TS.replace('path: "data/events.csv"', 'path: "data/none/*.csv"'), "labels.csv": labelsCsv(labels) });
  repos.push(repo);
  await repo.larder.apply();
  await expect(repo.larder.historical({ labelsPath: join(repo.dir, "labels.csv"), refs: repo.larder.registry().service("all").features })).rejects.toThrow(
    'source "events": no file matches data/none/*.csv',
  );
});
