/** What a run's one-line note says, wherever runs are listed (`larder runs`, the web UI). */
import type { RunRecord } from "./runs.ts";

/**
 * Its error's first line; else the first check that refused it, on one line (a push
 * summary: how many pushes were refused, then why); else how many warnings it had.
 */
export function runNote(r: RunRecord): string {
  if (r.error) return r.error.split("\n")[0]!;
  const refused = r.validation?.failed[0];
  if (refused !== undefined) {
    // A refusal's first line says what was refused, the next ones why.
    const why = refused
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .join(" ");
    return r.kind === "push" ? `${String(r.details.rejected)} refused: ${why}` : why;
  }
  const warnings = r.validation?.warnings.length ?? 0;
  return warnings ? `${warnings} warning(s)` : "";
}
