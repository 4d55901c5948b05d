/**
 * Soak: `larder serve` (the demo's views over a push source) under a steady mixed load for
 * a minute: lookups of the fraud service at a fixed rate, and pushes of new transactions.
 * Reports requests and errors, and the server's RSS every 10 s: it must level off, not
 * grow without bound.
 *   bun scripts/bench/soak-bench.ts [seconds=60] [lookups/s=2000] [pushes/s=100] [rows/push=20]
 */
import { readFileSync, rmSync } from "node:fs";
import { machine } from "./bench-repo.ts";
import { benchResults } from "./bench-tools.ts";
import { pushRepo, serveRepo, transaction } from "./push-repo.ts";

const seconds = Number(process.argv[2] ?? 60);
const lookupRate = Number(process.argv[3] ?? 2000);
const pushRate = Number(process.argv[4] ?? 100);
const rowsPerPush = Number(process.argv[5] ?? 20);

const dir = pushRepo("larder-soak-");
const { server, url } = await serveRepo(dir);
/** Resident memory in MB: all of it, and the part that is anonymous (heaps) rather than mapped files (LMDB). */
const memory = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb("VmRSS") / 1024, anon: kb("RssAnon") / 1024 };
};
const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const counts = { lookups: 0, pushes: 0, errors: 0 };
const errors = new Map<string, number>();
const fail = (what: string) => {
  counts.errors++;
  errors.set(what, (errors.get(what) ?? 0) + 1);
};

/** Calls `fn` `rate` times a second, spread evenly, until `until` (in flight at most 64). */
async function paced(rate: number, until: number, fn: () => Promise<void>) {
  const gap = 1000 / rate;
  let next = performance.now();
  const inFlight = new Set<Promise<void>>();
  while (performance.now() < until) {
    next += gap;
    const wait = next - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    if (inFlight.size >= 64) await Promise.race(inFlight);
    const p = fn()
      .catch((e: Error) => fail(e.message.slice(0, 80)))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

const lookup = async () => {
  const res = await post("/v1/features/online", {
    service: "fraud_detection",
    entities: { user_id: [1 + Math.floor(Math.random() * 1000)], merchant_id: [1 + Math.floor(Math.random() * 200)] },
  });
  if (res.status !== 200) fail(`lookup ${res.status}`);
  else counts.lookups++;
  await res.arrayBuffer();
};
const push = async () => {
  const res = await post("/v1/push", { source: "transactions_push", rows: Array.from({ length: rowsPerPush }, () => transaction(1 + Math.floor(Math.random() * 1000))) });
  if (res.status !== 200) fail(`push ${res.status}`);
  else counts.pushes++;
  await res.arrayBuffer();
};

console.log(`machine: ${machine()}; ${seconds} s of ${lookupRate} lookups/s and ${pushRate} pushes/s of ${rowsPerPush} rows`);
const start = performance.now();
const until = start + seconds * 1000;
const samples: [number, { rss: number; anon: number }][] = [[0, memory()]];
const sampler = setInterval(() => samples.push([Math.round((performance.now() - start) / 1000), memory()]), 10_000);
await Promise.all([lookupRate > 0 && paced(lookupRate, until, lookup), pushRate > 0 && paced(pushRate, until, push)]);
clearInterval(sampler);
samples.push([Math.round((performance.now() - start) / 1000), memory()]);
const health = await fetch(`${url}/health`);

console.log(
  `requests: ${counts.lookups} lookups, ${counts.pushes} pushes (${counts.pushes * rowsPerPush} events); errors: ${counts.errors}${errors.size ? ` (${[...errors].map(([k, v]) => `${k} ×${v}`).join(", ")})` : ""}; /health after: ${health.status}`,
);
console.log(`server RSS MB (anonymous) by second: ${samples.map(([t, m]) => `${t}s ${m.rss.toFixed(0)} (${m.anon.toFixed(0)})`).join(", ")}`);
const half = samples.filter(([t]) => t >= seconds / 2);
const growth = (k: "rss" | "anon") => (half.at(-1)![1][k] - half[0]![1][k]).toFixed(1);
console.log(
  `RSS start ${samples[0]![1].rss.toFixed(0)} MB, end ${samples.at(-1)![1].rss.toFixed(0)} MB; growth over the second half ${growth("rss")} MB, of it anonymous ${growth("anon")} MB`,
);
server.kill("SIGTERM");
await server.exited;
// Pushes add data (records, and every event id kept for deduplication): the store's size grows with them.
const du = Bun.spawnSync(["du", "-sm", `${dir}/data/online`])
  .stdout.toString()
  .split("\t")[0];
console.log(`online store on disk after: ${du} MB`);
const results = benchResults("soak", { seconds, lookupRate, pushRate, rowsPerPush }, machine());
results.add("lookups answered", counts.lookups);
results.add("pushes answered", counts.pushes);
results.add("errors", counts.errors);
results.add("RSS at the end, MB", samples.at(-1)![1].rss);
results.add("RSS growth over the second half, MB", Number(growth("rss")));
results.add("online store on disk after, MB", Number(du));
results.save();
rmSync(dir, { recursive: true, force: true });
