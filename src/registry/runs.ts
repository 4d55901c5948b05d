/**
 * Run history: every materialization (one run per view), push summary and historical
 * retrieval is a run, kept as `runs/<id>.json` in the offline file store (so with S3
 * offline storage every machine sees every run). Ids sort by time (materialize/run-id.ts);
 * a view's served pointer names the run that wrote it.
 */
import { hostname, userInfo } from "node:os";
import { readJsonFile, type FileStore } from "../storage/file-store.ts";
import type { StoredFile } from "../storage/storage.ts";

export type RunKind = "materialize" | "push" | "historical";

/** A source file as a run saw it: what identifies its content, and its SHA-256 where cheap. */
export type RunSourceFile = StoredFile & { sha256?: string | null };

export type RunRecord = {
  id: string;
  kind: RunKind;
  status: "succeeded" | "failed" | "skipped";
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Who or what started it: the command or server, on which host, as which user. */
  startedBy: { via: string; host: string; pid: number; user: string };
  views: { view: string; version: string }[];
  /** Event-time range covered (ms), where the kind has one. */
  range: { start: number | null; end: number | null } | null;
  sources: { source: string; files: RunSourceFile[]; rows: number | null }[];
  rows: { in: number | null; out: number | null };
  validation: { passed: boolean; failed: string[]; warnings: string[]; quarantine: string | null } | null;
  /** Kind-specific: materialize (mode, table, watermark, entities), push (pushes, duplicates, rejected), historical (labels, out). */
  details: Record<string, unknown>;
  error: string | null;
};

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
  constructor(readonly files: FileStore, readonly onRecord: (run: RunRecord) => void = () => {}) {}

  /** `via`: what started it (`cli materialize`, `serve`, …). */
  async record(draft: RunDraft, via: string): Promise<RunRecord> {
    const run: RunRecord = { ...draft, startedBy: startedBy(via) };
    await this.files.writeText(`runs/${run.id}.json`, JSON.stringify(run, null, 2));
    this.onRecord(run);
    return run;
  }

  async get(id: string): Promise<RunRecord | null> {
    if (!/^[0-9TZ]+-[0-9a-f]+$/.test(id)) return null;
    return readJsonFile<RunRecord>(this.files, `runs/${id}.json`);
  }

  /** Newest first. */
  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const limit = filter.limit ?? 20;
    const keys = (await this.files.list("runs")).map((f) => f.path.slice(f.path.lastIndexOf("/") + 1)).filter((n) => n.endsWith(".json")).sort().reverse();
    const out: RunRecord[] = [];
    for (const name of keys.slice(0, MAX_READS)) {
      const text = await this.files.readText(`runs/${name}`);
      if (!text) continue;
      const run = JSON.parse(text) as RunRecord;
      if (filter.kind && run.kind !== filter.kind) continue;
      if (filter.status && run.status !== filter.status) continue;
      if (filter.view && !run.views.some((v) => v.view === filter.view)) continue;
      out.push(run);
      if (out.length >= limit) break;
    }
    return out;
  }
}
