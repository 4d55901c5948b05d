import type { Command } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { formatLineage, lineageOf } from "../../registry/lineage.ts";
import { out } from "../print.ts";

export const lineageCommand: Command = {
  name: "lineage",
  summary: "where a feature, view or service comes from, and which run wrote what is served",
  usage: "larder lineage (SERVICE | VIEW | VIEW:FEATURE) [--json]",
  options: { json: { type: "boolean" } },
  flagHelp: {
    json: "print the lineage as JSON",
  },
  async run(larder, flags, positionals) {
    if (positionals.length !== 1) throw new UsageError("name one feature service, feature view or view:feature");
    const l = await lineageOf(positionals[0]!, larder.registry(), larder.store(), larder.runs);
    out(flags.json ? JSON.stringify(l, null, 2) : formatLineage(l));
  },
};
