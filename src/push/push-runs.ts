/**
 * Pushes as runs: one summary per push source per interval (10 s) rather than one record
 * per push, which at thousands of pushes a second would bury the history. A summary counts
 * pushes, rows, duplicates and rejected pushes (with the first few reasons), and names
 * the views and versions updated.
 */
import type { RunLog } from "../registry/runs.ts";
import { runDraft } from "../registry/run-draft.ts";
import { newRunId } from "../ids.ts";
import type { PushResult } from "./push.ts";

const FLUSH_MS = 10_000;
const REASONS_KEPT = 5;

type Summary = {
  startedAt: number;
  pushes: number;
  rows: number;
  duplicates: number;
  rejected: number;
  reasons: string[];
  quarantine: string[];
  views: Map<string, string>;
  minTs: number | null;
  maxTs: number | null;
};

export class PushRunRecorder {
  readonly #open = new Map<string, Summary>();
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly log: RunLog,
    readonly via: () => string,
  ) {}

  #summary(source: string): Summary {
    let s = this.#open.get(source);
    if (!s) {
      this.#open.set(
        source,
        (s = { startedAt: Date.now(), pushes: 0, rows: 0, duplicates: 0, rejected: 0, reasons: [], quarantine: [], views: new Map(), minTs: null, maxTs: null }),
      );
      this.#timer ??= setInterval(() => void this.flush().catch(() => {}), FLUSH_MS);
      this.#timer.unref?.();
    }
    return s;
  }

  /** A push that was applied; `times`: its rows' event times (ms). */
  applied(result: PushResult, times: number[]): void {
    const s = this.#summary(result.source);
    s.pushes++;
    s.rows += result.rows;
    s.duplicates += result.duplicates;
    for (const v of result.views) s.views.set(v.view, v.version);
    for (const t of times) {
      if (s.minTs === null || t < s.minTs) s.minTs = t;
      if (s.maxTs === null || t > s.maxTs) s.maxTs = t;
    }
  }

  /** A push that was refused (bad rows, a failed expectation): nothing of it was written. */
  rejected(source: string, reason: string, quarantine: string | null): void {
    const s = this.#summary(source);
    s.rejected++;
    if (s.reasons.length < REASONS_KEPT) s.reasons.push(reason);
    if (quarantine) s.quarantine.push(quarantine);
  }

  /** Writes every open summary as a run (on the timer, and when closing). */
  async flush(): Promise<void> {
    const open = [...this.#open.entries()];
    this.#open.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const [source, s] of open) {
      const draft = runDraft({
        id: newRunId(new Date(s.startedAt)),
        kind: "push",
        status: s.pushes === 0 && s.rejected > 0 ? "failed" : "succeeded",
        started: s.startedAt,
        views: [...s.views].map(([view, version]) => ({ view, version })),
        range: { start: s.minTs, end: s.maxTs === null ? null : s.maxTs + 1 },
        sources: [{ source, files: [], rows: s.rows }],
        rows: { in: s.rows, out: s.rows - s.duplicates },
        validation: s.rejected ? { passed: false, failed: s.reasons, warnings: [], quarantine: s.quarantine[0] ?? null } : null,
        details: { source, pushes: s.pushes, duplicates: s.duplicates, rejected: s.rejected, quarantined: s.quarantine },
      });
      await this.log.record(draft, this.via());
    }
  }
}
