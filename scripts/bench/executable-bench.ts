/**
 * The single executable, measured: size, cold start to the first answered lookup (native
 * library cache warm, and once with it empty), resident memory idle and under wrk load;
 * `bun src/main.ts` from source alongside for comparison.
 *   npm run build && bun scripts/bench/executable-bench.ts [users=10000] [seconds=10]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { benchRepo, machine } from "./bench-repo.ts";
import { benchResults, serverUrl } from "./bench-tools.ts";

const ROOT = resolve(import.meta.dir, "../..");
const EXE = join(ROOT, "dist/larder");
if (!existsSync(EXE)) throw new Error("dist/larder is missing: run npm run build first");
const users = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 10);

const repo = await benchRepo(`lookup-${users}`, users * 200, users, 1000, 90, Math.floor(Date.now() / 3_600_000) * 3_600_000);
await repo.larder.materialize();
await repo.larder.close();
const cacheDir = mkdtempSync(join(tmpdir(), "larder-exe-cache-"));
const body = JSON.stringify({ service: "fraud_detection", entities: { user_id: [7], merchant_id: [3] } });

type Started = { proc: ReturnType<typeof Bun.spawn>; url: string; ms: number };
/** Spawns `serve`, waits for its address, and times spawn → first 200 answer to a lookup. */
async function coldStart(cmd: string[], cache = cacheDir): Promise<Started> {
  const t0 = performance.now();
  const proc = Bun.spawn([...cmd, "serve", "--repo", repo.dir], { stdout: "pipe", stderr: "inherit", env: { ...process.env, LARDER_PORT: "0", LARDER_CACHE_DIR: cache } });
  const url = await serverUrl(proc as { stdout: ReadableStream<Uint8Array> });
  const res = await fetch(`${url}/v1/features/online`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (res.status !== 200) throw new Error(`lookup answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return { proc, url, ms: performance.now() - t0 };
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
async function stop(s: Started) {
  s.proc.kill("SIGTERM");
  await s.proc.exited;
}

const lua = join(cacheDir, "lookup.lua");
writeFileSync(lua, `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = '${body}'\n`);
async function underLoad(s: Started): Promise<{ rps: number; maxRss: number }> {
  const wrk = Bun.spawn(["wrk", "-t1", "-c16", `-d${seconds}s`, "-s", lua, `${s.url}/v1/features/online`], { stdout: "pipe" });
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(s.proc.pid))), 100);
  const out = await new Response(wrk.stdout).text();
  clearInterval(sampler);
  return { rps: parseFloat(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]!), maxRss };
}

console.log(`machine: ${machine()}; repo: ${users} users × ~200 events (fraud demo features)`);
const results = benchResults("executable", { users, seconds }, machine());
results.add("executable size, MB", statSync(EXE).size / 1e6);
console.log(`executable: ${(statSync(EXE).size / 1e6).toFixed(0)} MB`);
const emptyCache = mkdtempSync(join(tmpdir(), "larder-exe-empty-"));
const first = await coldStart([EXE], emptyCache);
console.log(`first start (native library cache empty: writes ~75 MB): ${first.ms.toFixed(0)} ms to the first answer`);
await stop(first);
rmSync(emptyCache, { recursive: true, force: true });

const variants = { executable: [EXE], "from source": [process.execPath, join(ROOT, "src/main.ts")] };
const starts: Record<string, number[]> = { executable: [], "from source": [] };
for (let i = 0; i < 10; i++) {
  for (const [name, cmd] of Object.entries(variants)) {
    const s = await coldStart(cmd);
    starts[name]!.push(s.ms);
    await stop(s);
  }
}
for (const [name, ms] of Object.entries(starts)) {
  ms.sort((a, b) => a - b);
  console.log(`cold start to first answer, ${name} (cache warm, 10 runs): median ${ms[5]!.toFixed(0)} ms, max ${ms[9]!.toFixed(0)} ms`);
  results.add(`spawn to first answered lookup, ${name}, median ms`, ms[5]!);
}
for (const [name, cmd] of Object.entries(variants)) {
  const s = await coldStart(cmd);
  await Bun.sleep(3000);
  const idle = rssMb(s.proc.pid);
  const load = await underLoad(s);
  await Bun.sleep(2000);
  console.log(
    `RSS, ${name}: idle ${idle.toFixed(0)} MB; under load (wrk 16 connections, ${Math.round(load.rps).toLocaleString()} rps) max ${load.maxRss.toFixed(0)} MB; after ${rssMb(s.proc.pid).toFixed(0)} MB`,
  );
  results.add(`RSS idle, ${name}, MB`, idle);
  results.add(`RSS under load, ${name}, max MB`, load.maxRss);
  await stop(s);
}
results.add("first start ever (writes the native cache), ms", first.ms);
results.save();
rmSync(cacheDir, { recursive: true, force: true });
