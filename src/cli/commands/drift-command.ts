import type { Command } from "../command.ts";
import { formatDrift } from "../../monitoring/drift.ts";
import { out } from "../print.ts";

export const driftCommand: Command = {
  name: "drift",
  summary: "how far features' latest materialized values drifted from a reference (PSI, KS)",
  usage: "larder drift [VIEW ...] [--reference HISTORICAL_RUN_ID] [--json]",
  options: { reference: { type: "string" }, json: { type: "boolean" } },
  async run(larder, flags, positionals) {
    const rows = await larder.drift({ views: positionals.length ? positionals : undefined, reference: flags.reference as string | undefined });
    out(flags.json ? JSON.stringify(rows, null, 2) : formatDrift(rows));
  },
};
