/**
 * The one builder of run records: every kind (materialize, push, historical, a skipped
 * run) gives what it knows; the defaults, the timing and the validation summary are made
 * here alike. The run log (runs.ts) adds who started it.
 */
import type { ValidationReport } from "../validation/validate-batch.ts";
import type { RunDraft } from "./runs.ts";

type Required = Pick<RunDraft, "id" | "kind" | "status" | "views">;
type Optional = Partial<Omit<RunDraft, "id" | "kind" | "status" | "views" | "startedAt" | "finishedAt" | "durationMs">>;

/** `started`: when the work began (epoch ms); it ends now. */
export function runDraft(run: Required & Optional & { started: number }): RunDraft {
  const finished = Date.now();
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    startedAt: new Date(run.started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: Math.max(0, finished - run.started),
    views: run.views,
    range: run.range ?? null,
    sources: run.sources ?? [],
    rows: run.rows ?? { in: null, out: null },
    validation: run.validation ?? null,
    details: run.details ?? {},
    error: run.error ?? null,
  };
}

/** A run's validation summary from the checks it passed, or the report that stopped it. */
export function validationSummary(
  checks: readonly Pick<ValidationReport["checks"][number], "passed" | "severity" | "message">[],
  failed: ValidationReport | null,
): RunDraft["validation"] {
  if (!checks.length && !failed) return null;
  const messages = (severity: "error" | "warn") => checks.filter((c) => !c.passed && c.severity === severity).map((c) => c.message);
  return { passed: !failed, failed: messages("error"), warnings: messages("warn"), quarantine: failed?.quarantine ?? null };
}
