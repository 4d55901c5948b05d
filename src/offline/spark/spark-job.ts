/**
 * The Spark engine's driver process: spark_job.py (embedded in the executable), run by the
 * configured Python, which starts one Spark session at the configured master and keeps it
 * while jobs come (a session takes seconds to start). Jobs go one at a time as JSON files;
 * each answers one result line. The process stops after a minute without jobs, and is
 * started again by the next one.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import SPARK_JOB_PY from "./spark_job.py" with { type: "text" };
import { SparkDataError, SparkJobError } from "../../errors.ts";
import { hashOf } from "../../ids.ts";

export type SparkSettings = {
  /** `local[*]`, `spark://host:7077`, `yarn`, …: passed to SparkSession.builder.master. */
  master: string;
  /** A Python with PySpark installed. */
  python: string;
  /** Spark settings for the session (spark.executor.memory, spark.sql.shuffle.partitions, …). */
  conf: Record<string, string>;
};

/** `key=value,key=value` (LARDER_SPARK_CONF) as settings. */
export const parseSparkConf = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(",")
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")).trim(), pair.slice(pair.indexOf("=") + 1).trim()]),
  );

const RESULT = "LARDER-RESULT ";
const IDLE_MS = 60_000;

/** A work folder for one job's files, removed when `fn` ends. */
export async function withSparkWorkDir<T>(dataDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(dataDir, "cache", "spark", `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The line of Spark's output that says what went wrong (a Python exception, most often). */
function failureLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.findLast((l) => /^(\w+\.)*\w*(Error|Exception)\b/.test(l)) ?? lines.at(-1) ?? "no output";
}

type Driver = { proc: Bun.Subprocess<"pipe", "pipe", "pipe">; stderr: string[]; waiting: ((line: string | null) => void) | null };

export class SparkEngine {
  #driver: Driver | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #idle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly settings: SparkSettings,
    private readonly dataDir: string,
  ) {}

  /** Runs a job (its files in `workDir`); its result, or a typed error saying what failed. */
  run(workDir: string, job: Record<string, unknown>): Promise<Record<string, unknown>> {
    const next = this.#queue.then(() => this.#run(workDir, job));
    this.#queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    if (this.#idle) clearTimeout(this.#idle);
    const d = this.#driver;
    this.#driver = null;
    if (!d) return;
    d.proc.stdin.end();
    // Spark stops its session first; one that hangs is killed (a timer cleared, so it keeps no process alive).
    const kill = setTimeout(() => d.proc.kill("SIGKILL"), 20_000);
    await d.proc.exited;
    clearTimeout(kill);
  }

  async #run(workDir: string, job: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#idle) clearTimeout(this.#idle);
    const jobFile = join(workDir, "job.json");
    writeFileSync(jobFile, JSON.stringify({ ...job, master: this.settings.master, conf: this.settings.conf }));
    const d = this.#driver ?? this.#start();
    const line = await new Promise<string | null>((resolve) => {
      d.waiting = resolve;
      d.proc.stdin.write(`${jobFile}\n`);
      d.proc.stdin.flush();
    });
    this.#idle = setTimeout(() => void this.close(), IDLE_MS);
    this.#idle.unref?.();
    if (line === null) {
      this.#driver = null;
      const stderr = d.stderr.join("\n");
      if (/No module named '?pyspark/.test(stderr)) {
        throw new SparkJobError(`${this.settings.python} has no PySpark: install it (pip install pyspark) or point LARDER_SPARK_PYTHON at a Python that has it`);
      }
      if (/JAVA_HOME|java: not found|Java gateway process exited/.test(stderr)) {
        throw new SparkJobError(`Spark could not start its Java process: install Java 17 or 21 and set JAVA_HOME (${failureLine(stderr)})`);
      }
      throw new SparkJobError(`the Spark engine's driver (${this.settings.python}, master ${this.settings.master}) stopped: ${failureLine(stderr)}`);
    }
    const result = JSON.parse(line) as { ok: boolean; data?: boolean; error?: string } & Record<string, unknown>;
    if (result.ok) return result;
    if (result.data) throw new SparkDataError(result.error ?? "the Spark job refused the data");
    throw new SparkJobError(`the Spark job (${String(job.kind)}) failed: ${result.error}`);
  }

  #start(): Driver {
    const dir = join(this.dataDir, "cache", "spark");
    mkdirSync(dir, { recursive: true });
    const script = join(dir, `spark_job-${hashOf(SPARK_JOB_PY)}.py`);
    // Written aside and renamed: another process starting its driver from the same data
    // folder never reads a half-written script.
    const partial = `${script}.${process.pid}-${Date.now()}`;
    writeFileSync(partial, SPARK_JOB_PY);
    renameSync(partial, script);
    let proc: Driver["proc"];
    try {
      proc = Bun.spawn([this.settings.python, script], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        // Spark's Python workers run the same Python as the driver.
        env: { ...process.env, PYSPARK_PYTHON: this.settings.python, PYSPARK_DRIVER_PYTHON: this.settings.python },
      });
    } catch (err) {
      throw new SparkJobError(`cannot run ${this.settings.python} for the Spark engine (${(err as Error).message}): set LARDER_SPARK_PYTHON to a Python with PySpark installed`);
    }
    const d: Driver = { proc, stderr: [], waiting: null };
    const answer = (line: string | null) => {
      const w = d.waiting;
      d.waiting = null;
      w?.(line);
    };
    void readLines(proc.stdout, (line) => {
      if (line.startsWith(RESULT)) answer(line.slice(RESULT.length));
    }).then(() => {
      // Stopped (crashed, or closed): the next job starts another.
      if (this.#driver === d) this.#driver = null;
      answer(null);
    });
    // The last lines of Spark's log, to say what went wrong if the driver stops.
    void readLines(proc.stderr, (line) => {
      if (process.env.LARDER_SPARK_DEBUG) console.error(line);
      d.stderr.push(line);
      if (d.stderr.length > 200) d.stderr.shift();
    });
    this.#driver = d;
    return d;
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  }
  if (rest) onLine(rest);
}
