/**
 * Offline benchmark: materialization throughput (source events/s) and point-in-time
 * historical retrieval for 1M label rows over 10M events, with the demo's
 * fraud_detection service (2 views, 11 features), in memory and written out as --out does.
 *   bun scripts/bench/offline-bench.ts [events=10000000] [labels=1000000]
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { benchLabels, benchRepo, machine } from "./bench-repo.ts";
import { benchResults } from "./bench-tools.ts";

const events = Number(process.argv[2] ?? 10_000_000);
const labelRows = Number(process.argv[3] ?? 1_000_000);
const repo = await benchRepo(`offline-${events}`, events, Math.max(1000, Math.round(events / 1000)));
const larder = repo.larder;
const results = benchResults("offline", { events, labels: labelRows }, machine());
console.log(`machine: ${machine()}; ${events} events, ${repo.users} users, ${repo.merchants} merchants`);

// Offline tables and online data are rebuilt from the source every run, so they are measured.
rmSync(join(repo.dir, "data", "offline"), { recursive: true, force: true });
rmSync(join(repo.dir, "data", "online"), { recursive: true, force: true });
let t = performance.now();
const duck = await larder.duck();
const { ensureOfflineTable } = await import("../../src/offline/offline-table.ts");
for (const name of larder.registry().viewNames()) await ensureOfflineTable(duck, larder.registry().view(name), larder.ctx);
const offlineSeconds = (performance.now() - t) / 1000;
console.log(`offline tables (source → Parquet, 2 views): ${offlineSeconds.toFixed(2)} s, ${Math.round((2 * events) / offlineSeconds).toLocaleString()} events/s`);

t = performance.now();
const runs = await larder.materialize();
const matSeconds = (performance.now() - t) / 1000;
for (const r of runs)
  console.log(`  materialize ${r.view}: ${r.events} events → ${r.entities} entities in ${r.seconds.toFixed(2)} s (${Math.round(r.events / r.seconds).toLocaleString()} events/s)`);
const totalEvents = runs.reduce((s, r) => s + r.events, 0);
console.log(`materialization (2 views, offline tables built): ${matSeconds.toFixed(2)} s, ${Math.round(totalEvents / matSeconds).toLocaleString()} source events/s`);
results.add("offline tables (source → Parquet): events/s", (2 * events) / offlineSeconds);
results.add("materialization (offline tables built): source events/s", totalEvents / matSeconds);
console.log(`source → online end to end (offline tables + materialization): ${Math.round(totalEvents / (offlineSeconds + matSeconds)).toLocaleString()} source events/s`);

const labels = await benchLabels(repo, labelRows);
// The offline tables just written (~350 MB) would otherwise be flushed to disk during the retrievals.
Bun.spawnSync(["sync"]);
const refs = larder.registry().service("fraud_detection").features;
t = performance.now();
const result = await larder.historical({ labelsPath: labels, refs });
const histSeconds = (performance.now() - t) / 1000;
console.log(`historical retrieval: ${result.rows.toLocaleString()} label rows × ${refs.length} features over ${events.toLocaleString()} events in ${histSeconds.toFixed(2)} s`);
results.add(`historical retrieval, ${labelRows} labels × ${events} events: s`, histSeconds);
// As `larder historical --out` does it: also the Parquet file, its manifest and its profile.
const out = join(repo.dir, "bench-training-set.parquet");
t = performance.now();
await larder.historical({ labelsPath: labels, refs, outPath: out });
const writtenSeconds = (performance.now() - t) / 1000;
console.log(`  the same, written out (Parquet, manifest with content hashes, profile): ${writtenSeconds.toFixed(2)} s`);
results.add("historical retrieval written out (Parquet, manifest, profile): s", writtenSeconds);
results.save();
rmSync(out, { force: true });
rmSync(`${out}.manifest.json`, { force: true });
await larder.close();
