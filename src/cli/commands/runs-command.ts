import type { Command } from "../command.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import type { RunKind, RunRecord } from "../../registry/runs.ts";
import { err, out, table } from "../print.ts";
import { runNote } from "../../registry/run-note.ts";

const KINDS: RunKind[] = ["materialize", "push", "historical"];

export const runsCommand: Command = {
  name: "runs",
  summary: "the run history: materializations, push summaries, training sets (newest first)",
  usage: "larder runs [RUN_ID] [--kind materialize|push|historical] [--view NAME] [--status succeeded|failed] [--limit 20] [--json]",
  options: { kind: { type: "string" }, view: { type: "string" }, status: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } },
  flagHelp: {
    kind: "only runs of this kind: materialize, push or historical",
    view: "only runs of this view",
    status: "only succeeded or failed runs",
    limit: "how many runs to list (default 20)",
    json: "print the runs as JSON",
  },
  async run(larder, flags, positionals) {
    if (positionals[0]) {
      const run = await larder.runs.get(positionals[0]);
      if (!run) throw new NotFoundError(`run "${positionals[0]}" not found`);
      out(JSON.stringify(run, null, 2));
      return;
    }
    const kind = flags.kind as RunKind | undefined;
    if (kind && !KINDS.includes(kind)) throw new UsageError(`--kind is one of ${KINDS.join(", ")}`);
    const status = flags.status as RunRecord["status"] | undefined;
    if (status && status !== "succeeded" && status !== "failed") throw new UsageError("--status is succeeded or failed");
    const limit = flags.limit === undefined ? 20 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit is a positive whole number");
    const runs = await larder.runs.list({ kind, view: flags.view as string | undefined, status, limit }, (d) => err(`left out: ${d.problem}`));
    if (flags.json) {
      out(JSON.stringify(runs, null, 2));
      return;
    }
    if (runs.length === 0) {
      out("No runs yet.");
      return;
    }
    out(
      table([
        ["run", "kind", "status", "views", "rows in", "rows out", "seconds", "started by", "note"],
        ...runs.map((r) => [
          r.id,
          r.kind,
          r.status,
          r.views.map((v) => `${v.view}@${v.version}`).join(" "),
          r.rows.in ?? "",
          r.rows.out ?? "",
          (r.durationMs / 1000).toFixed(2),
          r.startedBy.via,
          runNote(r).slice(0, 80),
        ]),
      ]),
    );
  },
};
