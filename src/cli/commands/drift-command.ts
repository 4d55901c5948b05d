import type { Command } from "../command.ts";
import type { FeatureDrift } from "../../monitoring/drift.ts";
import { out, table } from "../print.ts";

export const driftCommand: Command = {
  name: "drift",
  summary: "how far features' latest materialized values drifted from a reference (PSI, KS)",
  usage: "larder drift [VIEW ...] [--reference HISTORICAL_RUN_ID] [--json]",
  options: { reference: { type: "string" }, json: { type: "boolean" } },
  flagHelp: {
    reference: "compare against the profile of this historical run instead of the first materialization",
    json: "print the report as JSON",
  },
  async run(larder, flags, positionals) {
    const rows = await larder.drift({ views: positionals.length ? positionals : undefined, reference: flags.reference as string | undefined });
    out(flags.json ? JSON.stringify(rows, null, 2) : formatDrift(rows));
  },
};

function formatDrift(rows: FeatureDrift[]): string {
  if (rows.length === 0) return "No profiles to compare yet: materialize first (or give --reference with a training set's run).";
  const f = (x: number | null) => (x === null ? "" : x.toFixed(4));
  return table([
    ["view", "feature", "psi", "ks", "status", "current", "reference"],
    ...rows.map((r) => [r.view, r.feature, f(r.psi), f(r.ks), r.drifting ? "DRIFTING" : "ok", `${r.current.source} (${r.current.values})`, r.reference.source]),
  ]);
}
