/** What the benchmarks share besides their repo: server address, CPU time, quantiles, lookup loops. */
import { appendFileSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import type { Larder } from "../../src/larder.ts";
import { getOnlineFeatures } from "../../src/online/online-features.ts";

export { serverUrl } from "../../test/helpers/server-url.ts";

/** Where every benchmark run appends its figures: docs/benchmarks/results.md is generated from it. */
export const RESULTS_FILE = resolve(import.meta.dir, "../../docs/benchmarks/results.jsonl");

/**
 * A benchmark's figures, recorded as one JSON line per run (date, commit, machine, the
 * parameters it ran with, figure → number) when it ends. `npm run docs` makes the tables.
 */
export function benchResults(bench: string, params: Record<string, unknown>, machineName: string) {
  const figures: Record<string, number> = {};
  return {
    /** `name` says what and in which unit: "in-process, 1 entity: lookups/s". */
    add(name: string, value: number) {
      figures[name] = Number(value.toPrecision(4));
    },
    save() {
      const git = (...args: string[]) =>
        // From the repo root: the pathspecs below (src, scripts) are relative to it.
        Bun.spawnSync(["git", ...args], { cwd: resolve(import.meta.dir, "../..") })
          .stdout.toString()
          .trim();
      const record = {
        bench,
        date: new Date().toISOString(),
        commit: git("rev-parse", "--short=12", "HEAD"),
        // Uncommitted changes to the code measured: the figures are not the commit's.
        dirty: git("status", "--porcelain", "--", "src", "scripts").length > 0,
        machine: machineName,
        command: ["npx bun", relative(resolve(import.meta.dir, "../.."), process.argv[1]!), ...process.argv.slice(2)].join(" "),
        params,
        figures,
      };
      appendFileSync(RESULTS_FILE, `${JSON.stringify(record)}\n`);
      console.log(`recorded in ${RESULTS_FILE}`);
    },
  };
}

/** A process's CPU time (user + system) in ms, from /proc: steadier than rates on a shared machine. */
export const cpuMs = (pid: number): number => statCpuMs(`/proc/${pid}/stat`);

/** CPU time in ms of a process and its children (`larder serve --workers`' lookup workers). */
export function treeCpuMs(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
  return cpuMs(pid) + children.reduce((sum, child) => sum + cpuMs(child), 0);
}

/** One thread's CPU time in ms (`tid` = `pid` is the main thread): a share near 100 % of a core means that thread is the bottleneck. */
export const threadCpuMs = (pid: number, tid: number): number => statCpuMs(`/proc/${pid}/task/${tid}/stat`);

/** utime + stime of a /proc stat file, in ms (clock ticks of 10 ms). */
function statCpuMs(path: string): number {
  const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The p-quantile of `xs`, formatted with `digits` decimals. */
export const quantile = (xs: number[], p: number, digits = 3) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!.toFixed(digits);

/**
 * fraud_detection lookups of `batch` entities, one at a time, for `ms`: the latency of
 * each (ms). Users spread over 1…users, merchants over 1…1000.
 */
export async function lookupTimes(larder: Larder, users: number, batch: number, ms: number): Promise<number[]> {
  const registry = larder.registry();
  const refs = registry.service("fraud_detection").features;
  const times: number[] = [];
  const until = performance.now() + ms;
  let i = 0;
  while (performance.now() < until) {
    const ids = Array.from({ length: batch }, () => 1 + ((i++ * 7919) % users));
    const t0 = performance.now();
    await getOnlineFeatures(registry, larder.store(), { refs, entities: { user_id: ids, merchant_id: ids.map((x) => 1 + (x % 1000)) } }, 1000);
    times.push(performance.now() - t0);
  }
  return times;
}
