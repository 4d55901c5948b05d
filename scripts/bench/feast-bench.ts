/**
 * Feast side by side with Larder, one run, one machine, the same driver data (Parquet,
 * written once by DuckDB): Feast 0.67 from .venvs/feast with its local provider (file
 * offline store, SQLite online store) and a Larder repo with the same view (three
 * latest-value features, the same ttl).
 * - materialization of the same source rows (rows/s; Feast writes each driver's latest row,
 *   Larder builds its offline table and online records);
 * - historical retrieval of the same label table (seconds, peak RSS of the process) at each
 *   size; Larder's offline table is rebuilt from the source first, as Feast reads the source;
 *   with `limit`, larger sizes for Feast alone until it does not finish within 10 minutes
 *   or 8 GiB;
 * - online lookups over HTTP with wrk (same script, same connections) at 1 and 100
 *   entities per request, `feast serve` against `larder serve`, one process each;
 * - whether both give the same values: every training row, and 100 drivers online. Feast's
 *   point-in-time join takes events at `ts <= t` and Larder's `ts < t`, so label times sit
 *   half a second off the events' whole seconds: no label time equals an event time.
 *   bun scripts/bench/feast-bench.ts [sizes=10000:100000,100000:1000000 (labels:events)] [seconds=5] [limit]
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { Duck, literal } from "../../src/offline/duckdb.ts";
import { FEAST_PYTHON } from "../../test/helpers/needs.ts";
import { machine } from "./bench-repo.ts";
import { benchResults, serverUrl } from "./bench-tools.ts";

const SIZES = (process.argv[2] ?? "10000:100000,100000:1000000").split(",").map((s) => s.split(":").map(Number) as [number, number]);
const seconds = Number(process.argv[3] ?? 5);
const findLimit = process.argv[4] === "limit";
if (!FEAST_PYTHON) throw new Error("Feast is not installed: python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast==0.67.0");
const FEAST_CLI = join(resolve(FEAST_PYTHON, ".."), "feast");
const SIDE = resolve(import.meta.dir, "feast_side.py");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TTL_DAYS = 7;
const DAYS = 30;
// Data ending an hour ago: lookups now are inside the ttl, as in production.
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const root = join(tmpdir(), "larder-bench", "feast");
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

const FEATURES_TS = (events: string) => `
import { entity, fileSource, featureView, sql } from "larder";
import { z } from "zod";
export const driver = entity({ name: "driver", joinKeys: { driver_id: "int64" } });
export const stats = fileSource({ name: "driver_stats", path: ${JSON.stringify(events)}, timestampField: "event_timestamp",
  schema: z.object({ driver_id: z.int(), event_timestamp: z.date(), conv_rate: z.number(), acc_rate: z.number(), avg_daily_trips: z.int() }) });
export const view = featureView({ name: "driver_hourly_stats", entity: driver, source: stats, ttl: "${TTL_DAYS}d", features: {
  conv_rate: sql("conv_rate"), acc_rate: sql("acc_rate"), avg_daily_trips: sql("avg_daily_trips"),
} });
`;
const REFS = ["conv_rate", "acc_rate", "avg_daily_trips"].map((feature) => ({ view: "driver_hourly_stats", feature }));

type Side = { seconds: number; rssMiB: number; rows?: number } | { failed: string };

/** Runs a process to its end (killed after `timeoutMs`), with its peak RSS; `limitBytes` caps its address space. */
async function run(cmd: string[], timeoutMs = 30 * 60_000, limitBytes?: number): Promise<{ out: string; err: string; code: number | null; rssMiB: number; timedOut: boolean }> {
  const full = limitBytes ? ["prlimit", `--as=${limitBytes}`, "--", ...cmd] : cmd;
  const p = Bun.spawn(full, { stdout: "pipe", stderr: "pipe", cwd: root });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { out, err, code, rssMiB: (p.resourceUsage()?.maxRSS ?? 0) / 2 ** 20, timedOut }; // maxRSS is in bytes
}

async function python(args: string[], timeoutMs?: number, limitBytes?: number): Promise<Side> {
  const r = await run([FEAST_PYTHON!, SIDE, ...args], timeoutMs, limitBytes);
  if (r.timedOut) return { failed: `did not finish within ${Math.round(timeoutMs! / 60_000)} min` };
  if (r.code !== 0)
    return { failed: /MemoryError|Cannot allocate|std::bad_alloc|Killed/.test(r.err) || r.code === 137 ? "out of memory" : `exit ${r.code}: ${r.err.trim().split("\n").at(-1)}` };
  return { ...(JSON.parse(r.out.trim().split("\n").at(-1)!) as { seconds: number; rows?: number }), rssMiB: r.rssMiB };
}

/** The same data for both: events over 30 days at whole seconds; labels at whole seconds + 0.5. */
async function writeData(dir: string, labels: number, events: number): Promise<{ eventsPath: string; labelsPath: string; drivers: number }> {
  mkdirSync(dir, { recursive: true });
  const drivers = Math.max(100, Math.round(events / 100));
  const eventsPath = join(dir, "driver_stats.parquet");
  const labelsPath = join(dir, "labels.parquet");
  const duck = await Duck.open();
  const start = END - DAYS * DAY;
  await duck.run("SET TimeZone = 'UTC'");
  await duck.run(`COPY (SELECT (hash(i) % ${drivers} + 1)::BIGINT AS driver_id,
      to_timestamp((${start / 1000}::BIGINT + (hash(i * 3 + 1) % ${(DAYS * DAY) / 1000})::BIGINT)::DOUBLE) AS event_timestamp,
      round(random(), 6) AS conv_rate, round(random(), 6) AS acc_rate, (random() * 100)::BIGINT AS avg_daily_trips
    FROM range(${events}) t(i)) TO ${literal(eventsPath)} (FORMAT parquet)`);
  // Label times inside the data's range plus a ttl's margin, half a second off any event.
  await duck.run(`COPY (SELECT i AS row_id, (hash(i * 13 + 1) % ${drivers} + 1)::BIGINT AS driver_id,
      to_timestamp((${(start + TTL_DAYS * DAY) / 1000}::BIGINT + (hash(i * 17 + 5) % ${((DAYS - TTL_DAYS) * DAY) / 1000})::BIGINT)::DOUBLE + 0.5) AS event_timestamp
    FROM range(${labels}) t(i)) TO ${literal(labelsPath)} (FORMAT parquet)`);
  duck.close();
  return { eventsPath, labelsPath, drivers };
}

/** Training rows on which Feast and Larder disagree (a value, or null against a value), of all rows. */
async function compareTrainingSets(feastOut: string, larderOut: string): Promise<{ rows: number; differing: number }> {
  const duck = await Duck.open();
  const [row] = await duck.all<{ rows: bigint; differing: bigint }>(`SELECT count(*) AS rows,
      count(*) FILTER (WHERE f.conv_rate IS DISTINCT FROM l.conv_rate OR f.acc_rate IS DISTINCT FROM l.acc_rate OR f.avg_daily_trips IS DISTINCT FROM l.avg_daily_trips) AS differing
    FROM read_parquet(${literal(feastOut)}) f FULL JOIN read_parquet(${literal(larderOut)}) l USING (row_id)`);
  duck.close();
  return { rows: Number(row!.rows), differing: Number(row!.differing) };
}

console.log(`machine: ${machine()}; Feast ${(await run([FEAST_PYTHON, "-c", "import feast; print(feast.__version__)"])).out.trim()}`);
const results = benchResults("feast", { sizes: SIZES.map(([l, e]) => `${l}:${e}`), seconds, limit: findLimit }, machine());
const side = (s: Side) => ("failed" in s ? s.failed : `${s.seconds.toFixed(2)} s, ${s.rssMiB.toFixed(0)} MiB`);

let serving: { feastRepo: string; larderRepo: string; drivers: number } | undefined;
for (const [labels, events] of SIZES) {
  const dir = join(root, `${labels}x${events}`);
  const { eventsPath, labelsPath, drivers } = await writeData(dir, labels, events);
  const size = `${(labels / 1000).toLocaleString()}k labels × ${(events / 1e6).toLocaleString()}M events`;
  console.log(`\n${size} (${drivers.toLocaleString()} drivers)`);

  // Feast: apply, materialize, historical.
  const feastRepo = join(dir, "feast");
  const setup = await python(["setup", feastRepo, eventsPath, String(TTL_DAYS * 86_400)]);
  if ("failed" in setup) throw new Error(`feast setup: ${setup.failed}`);
  const feastMat = await python(["materialize", feastRepo, new Date(END - DAYS * DAY - DAY).toISOString(), new Date(END + 1000).toISOString()]);
  const feastOut = join(dir, "feast-training.parquet");
  const feastHist = await python(["historical", feastRepo, labelsPath, feastOut]);

  // Larder: apply, materialize (in this process), historical in a process of its own (its RSS).
  const larderRepo = join(dir, "larder");
  mkdirSync(join(larderRepo, "features"), { recursive: true });
  writeFileSync(join(larderRepo, "features", "drivers.ts"), FEATURES_TS(eventsPath));
  const larder = new Larder(loadConfig({ repoDir: larderRepo }, {}));
  await larder.apply();
  const t0 = performance.now();
  await larder.materialize({ end: END + 1000 });
  const larderMat = (performance.now() - t0) / 1000;
  await larder.close();
  rmSync(join(larderRepo, "data", "offline"), { recursive: true, force: true });
  const larderOut = join(dir, "larder-training.parquet");
  const h = await run([process.execPath, resolve(import.meta.dir, "historical-once.ts"), larderRepo, labelsPath, larderOut, REFS.map((r) => `${r.view}:${r.feature}`).join(",")]);
  if (h.code !== 0) throw new Error(`larder historical: ${h.err}`);
  const larderHist = { ...(JSON.parse(h.out.trim().split("\n").at(-1)!) as { seconds: number; rows: number }), rssMiB: h.rssMiB };

  console.log(`materialize ${events.toLocaleString()} rows: Feast ${side(feastMat)} | Larder ${larderMat.toFixed(2)} s`);
  console.log(`historical: Feast ${side(feastHist)} | Larder ${side(larderHist)}`);
  const key = `${labels}:${events}`;
  if (!("failed" in feastMat)) {
    results.add(`${key} materialize: Feast rows/s`, events / feastMat.seconds);
    results.add(`${key} materialize: Larder rows/s`, events / larderMat);
    results.add(`${key} materialize: Larder / Feast, ×`, feastMat.seconds / larderMat);
  }
  results.add(`${key} historical: Larder s`, larderHist.seconds);
  results.add(`${key} historical: Larder peak RSS MiB`, larderHist.rssMiB);
  if ("failed" in feastHist) console.log(`Feast historical at ${size}: ${feastHist.failed}`);
  else {
    results.add(`${key} historical: Feast s`, feastHist.seconds);
    results.add(`${key} historical: Feast peak RSS MiB`, feastHist.rssMiB);
    results.add(`${key} historical: Larder / Feast speed, ×`, feastHist.seconds / larderHist.seconds);
    const agree = await compareTrainingSets(feastOut, larderOut);
    results.add(`${key} historical: rows compared`, agree.rows);
    results.add(`${key} historical: rows differing`, agree.differing);
    console.log(`values: ${agree.differing} of ${agree.rows.toLocaleString()} training rows differ`);
  }
  serving = { feastRepo, larderRepo, drivers };
}

// Online: the last size's repos, served by each, the same wrk script and connections.
type Wrk = { rps: number; p50: number; p99: number; errors: number };
async function wrk(url: string, batch: number, drivers: number): Promise<Wrk> {
  const p = Bun.spawn(["wrk", "-t1", "-c16", `-d${seconds}s`, "--latency", "-s", resolve(import.meta.dir, "feast-lookup.lua"), url], {
    stdout: "pipe",
    env: { ...process.env, BATCH: String(batch), DRIVERS: String(drivers) },
  });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const ms = (s: string) => (s.endsWith("us") ? parseFloat(s) / 1000 : s.endsWith("ms") ? parseFloat(s) : parseFloat(s) * 1000);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: parseFloat(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]!),
    p50: ms(/50%\s+(\S+)/.exec(out)![1]!),
    p99: ms(/99%\s+(\S+)/.exec(out)![1]!),
    errors: errors ? Number(errors[1]) : 0,
  };
}

async function startFeast(repo: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = Bun.spawn([FEAST_CLI, "serve", "--host", "127.0.0.1", "-p", String(port), "--workers", "1"], { cwd: repo, stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/health`).catch(() => null))?.ok) return { url, stop: async () => void (p.kill("SIGTERM"), await p.exited) };
    await Bun.sleep(100);
  }
  p.kill("SIGKILL");
  throw new Error("feast serve did not start within a minute");
}

async function startLarder(repo: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../src/main.ts"), "serve", "--repo", repo], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, LARDER_PORT: "0", LARDER_SCHEDULES: "off" },
  });
  const url = await serverUrl(p);
  return { url, stop: async () => void (p.kill("SIGTERM"), await p.exited) };
}

type Answer = { metadata: { feature_names: string[] }; results: { values: unknown[]; statuses: string[] }[] };
/** An answer's vectors by name: Feast's answer does not keep the order features were asked in. */
const byName = (a: Answer) => new Map(a.metadata.feature_names.map((n, j) => [n, a.results[j]!]));
const ask = async (url: string, ids: number[]) =>
  (await (
    await fetch(`${url}/get-online-features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ features: REFS.map((r) => `${r.view}:${r.feature}`), entities: { driver_id: ids } }),
    })
  ).json()) as Answer;

if (serving) {
  const { feastRepo, larderRepo, drivers } = serving;
  const feast = await startFeast(feastRepo);
  const larder = await startLarder(larderRepo);
  try {
    // Online values: 100 drivers from both.
    const ids = Array.from({ length: 100 }, (_, i) => 1 + ((i * 7919) % drivers));
    const [f, l] = [byName(await ask(feast.url, ids)), byName(await ask(larder.url, ids))];
    let compared = 0;
    let differing = 0;
    for (const { feature } of REFS)
      for (let i = 0; i < ids.length; i++) {
        const [fv, lv] = [f.get(feature)!, l.get(feature)!];
        if (fv.statuses[i] !== "PRESENT" || lv.statuses[i] !== "PRESENT") continue;
        compared++;
        if (fv.values[i] !== lv.values[i]) differing++;
      }
    results.add("online: values compared", compared);
    results.add("online: values differing", differing);
    console.log(`\nonline values: ${differing} of ${compared} differ`);

    for (const batch of [1, 100]) {
      const runs: { feast: Wrk; larder: Wrk }[] = [];
      for (let round = 0; round < 2; round++) runs.push({ feast: await wrk(feast.url, batch, drivers), larder: await wrk(larder.url, batch, drivers) });
      const best = (k: "feast" | "larder") => runs.map((r) => r[k]).reduce((a, b) => (b.rps > a.rps ? b : a));
      const [fb, lb] = [best("feast"), best("larder")];
      const label = `HTTP ${batch} entit${batch === 1 ? "y" : "ies"}`;
      results.add(`${label}: Feast rps`, fb.rps);
      results.add(`${label}: Feast p50 ms`, fb.p50);
      results.add(`${label}: Feast p99 ms`, fb.p99);
      results.add(`${label}: Larder rps`, lb.rps);
      results.add(`${label}: Larder p50 ms`, lb.p50);
      results.add(`${label}: Larder p99 ms`, lb.p99);
      results.add(`${label}: Larder / Feast rps, ×`, lb.rps / fb.rps);
      results.add(`${label}: Larder p99 / Feast p99`, lb.p99 / fb.p99);
      console.log(
        `${label}: Feast ${fb.rps.toFixed(0)} rps p50 ${fb.p50} p99 ${fb.p99} ms (${fb.errors} errors) | Larder ${lb.rps.toFixed(0)} rps p50 ${lb.p50} p99 ${lb.p99} ms (${lb.errors} errors) | ${(lb.rps / fb.rps).toFixed(1)}×`,
      );
    }
  } finally {
    await feast.stop();
    await larder.stop();
  }
}

// Feast alone at growing sizes (×4 events and labels), until it does not finish in 10 min or 8 GiB.
if (findLimit) {
  let [labels, events] = SIZES.at(-1)!;
  let finished = `${labels}:${events}`;
  for (;;) {
    labels *= 4;
    events *= 4;
    const dir = join(root, `limit-${labels}x${events}`);
    const { eventsPath, labelsPath } = await writeData(dir, labels, events);
    const repo = join(dir, "feast");
    await python(["setup", repo, eventsPath, String(TTL_DAYS * 86_400)]);
    const r = await python(["historical", repo, labelsPath, join(dir, "feast-training.parquet")], 10 * 60_000, 8 * 2 ** 30);
    console.log(`Feast historical at ${labels.toLocaleString()} labels × ${events.toLocaleString()} events: ${side(r)}`);
    rmSync(dir, { recursive: true, force: true });
    if ("failed" in r) {
      results.add(`Feast's limit: first size it did not finish (labels)`, labels);
      results.add(`Feast's limit: first size it did not finish (events)`, events);
      console.log(`Feast's largest finished size: ${finished}; ${labels}:${events} ${r.failed}`);
      break;
    }
    finished = `${labels}:${events}`;
  }
}
results.save();
