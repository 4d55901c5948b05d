/** A view's materialization as a run record: what it read, checked and wrote, or why it failed. */
import { ExpectationFailedError } from "../errors.ts";
import { withContentHashes } from "../offline/content-hash.ts";
import type { OfflineTable } from "../offline/offline-table.ts";
import type { ResolvedView } from "../registry/registry.ts";
import type { RunDraft } from "../registry/runs.ts";
import { runDraft, validationSummary } from "../registry/run-draft.ts";
import type { StoredFile } from "../storage/storage.ts";
import type { ValidationReport } from "../validation/validate-batch.ts";
import type { ViewMaterialization } from "./materialize.ts";

type Inputs = {
  runId: string;
  /** When the run began (epoch ms). */
  started: number;
  v: ResolvedView;
  table: OfflineTable | undefined;
  /** The source files, where the run failed before its table was built. */
  inputs?: StoredFile[];
  from: number;
  end: number;
  result: ViewMaterialization | null;
  error: unknown;
};

export async function materializeRun({ runId, started, v, table, inputs, from, end, result, error }: Inputs): Promise<RunDraft> {
  const report = error instanceof ExpectationFailedError ? (error.report as ValidationReport) : null;
  return runDraft({
    id: runId,
    kind: "materialize",
    status: error ? "failed" : "succeeded",
    started,
    views: [{ view: v.def.name, version: v.version }],
    range: { start: from < -8e15 ? null : from, end },
    sources: table
      ? [{ source: v.source.name, files: await withContentHashes(table.fingerprint.files), rows: table.rows }]
      : inputs
        ? [{ source: v.source.name, files: await withContentHashes(inputs), rows: null }]
        : [],
    rows: { in: result?.events ?? null, out: result?.entities ?? null },
    validation: validationSummary(table?.validation.checks ?? report?.checks ?? [], report),
    details: result
      ? { mode: result.mode, table: result.table, watermark: result.watermark, entities: result.entities, profile: result.profile ?? null, newestEvent: result.newestEvent ?? null }
      : {},
    error: error ? (error as Error).message : null,
  });
}
