/**
 * Run history: every materialization (one run per view), push summary and historical
 * retrieval is a run, kept as `runs/<id>.json` in the offline file store (so with S3
 * offline storage every machine sees every run). Ids sort by time (ids.ts);
 * a view's served pointer names the run that wrote it.
 */
import { hostname, userInfo } from "node:os";
import { z } from "zod";
import { DamagedDataError } from "../errors.ts";
import type { FileStore } from "../storage/file-store.ts";
import { parseStored } from "../storage/stored-json.ts";

const RUN_KINDS = ["materialize", "push", "historical"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A source file as a run saw it: what identifies its content, and its SHA-256 where cheap. */
const RunSourceFileSchema = z.object({ path: z.string(), size: z.number(), mtimeMs: z.number().optional(), etag: z.string().optional(), sha256: z.string().nullable().optional() });
export type RunSourceFile = z.infer<typeof RunSourceFileSchema>;

/** A run as kept in `runs/<id>.json`; checked when read back. */
const RunRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(RUN_KINDS),
  status: z.enum(["succeeded", "failed", "skipped"]),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** Who or what started it: the command or server, on which host, as which user. */
  startedBy: z.object({ via: z.string(), host: z.string(), pid: z.number(), user: z.string() }),
  views: z.array(z.object({ view: z.string(), version: z.string() })),
  /** Event-time range covered (ms), where the kind has one. */
  range: z.object({ start: z.number().nullable(), end: z.number().nullable() }).nullable(),
  sources: z.array(z.object({ source: z.string(), files: z.array(RunSourceFileSchema), rows: z.number().nullable() })),
  rows: z.object({ in: z.number().nullable(), out: z.number().nullable() }),
  validation: z.object({ passed: z.boolean(), failed: z.array(z.string()), warnings: z.array(z.string()), quarantine: z.string().nullable() }).nullable(),
  /** Kind-specific: materialize (mode, table, watermark, entities), push (pushes, duplicates, rejected), historical (labels, out). */
  details: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** A run record that could not be read back: its file and what is wrong. */
export type DamagedRun = { path: string; problem: string };

/** A run as the code that did the work describes it; the run log adds who started it. */
export type RunDraft = Omit<RunRecord, "startedBy">;

export type RunFilter = { kind?: RunKind; view?: string; status?: RunRecord["status"]; limit?: number };

const MAX_READS = 1000;

let user = "unknown";
try {
  user = userInfo().username;
} catch {}

export const startedBy = (via: string): RunRecord["startedBy"] => ({ via, host: hostname(), pid: process.pid, user });

export class RunLog {
  /** `onRecord`: told of every run recorded (metrics count them). */
  constructor(
    readonly files: FileStore,
    readonly onRecord: (run: RunRecord) => void = () => {},
  ) {}

  /** `via`: what started it (`cli materialize`, `serve`, …). */
  async record(draft: RunDraft, via: string): Promise<RunRecord> {
    const run: RunRecord = { ...draft, startedBy: startedBy(via) };
    await this.files.writeText(`runs/${run.id}.json`, JSON.stringify(run, null, 2));
    this.onRecord(run);
    return run;
  }

  /** A run by id; null when there is none; DamagedDataError, naming the file, when it is damaged. */
  async get(id: string): Promise<RunRecord | null> {
    if (!/^[0-9TZ]+-[0-9a-f]+$/.test(id)) return null;
    const key = `runs/${id}.json`;
    const text = await this.files.readText(key);
    return text === null ? null : this.#parse(key, text);
  }

  #parse(key: string, text: string): RunRecord {
    const path = this.files.pathOf(key);
    return parseStored(text, RunRecordSchema, `run record ${path}`, `remove it (a run record is history; nothing else depends on it): rm ${path}`);
  }

  /** Newest first; damaged records are left out (`damaged`, when given, is told of each). */
  async list(filter: RunFilter = {}, damaged?: (d: DamagedRun) => void): Promise<RunRecord[]> {
    const limit = filter.limit ?? 20;
    const keys = (await this.files.list("runs"))
      .map((f) => f.path.slice(f.path.lastIndexOf("/") + 1))
      .filter((n) => n.endsWith(".json"))
      .sort()
      .reverse();
    const out: RunRecord[] = [];
    for (const name of keys.slice(0, MAX_READS)) {
      const key = `runs/${name}`;
      const text = await this.files.readText(key);
      if (text === null) continue;
      let run: RunRecord;
      try {
        run = this.#parse(key, text);
      } catch (err) {
        if (!(err instanceof DamagedDataError)) throw err;
        damaged?.({ path: this.files.pathOf(key), problem: err.message });
        continue;
      }
      if (filter.kind && run.kind !== filter.kind) continue;
      if (filter.status && run.status !== filter.status) continue;
      if (filter.view && !run.views.some((v) => v.view === filter.view)) continue;
      out.push(run);
      if (out.length >= limit) break;
    }
    return out;
  }
}
