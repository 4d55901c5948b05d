import type { Command } from "../command.ts";
import { ExpectationFailedError, UsageError } from "../../errors.ts";
import { parseInstant } from "../../time.ts";
import { out } from "../print.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "check views' data against their expectations now (exit code 3 when one fails)",
  usage: "larder validate [VIEW ...] [--start TIME] [--end TIME] [--json] [--save-reference]",
  options: { start: { type: "string" }, end: { type: "string" }, json: { type: "boolean" }, "save-reference": { type: "boolean" } },
  flagHelp: {
    start: "earliest event time to check",
    end: "check events before this instant",
    json: "print the report as JSON",
    "save-reference": "make this batch the drift (PSI) reference",
  },
  async run(larder, flags, positionals) {
    const start = typeof flags.start === "string" ? parseInstant(flags.start, "--start") : undefined;
    const end = typeof flags.end === "string" ? parseInstant(flags.end, "--end") : undefined;
    if (start !== undefined && end !== undefined && start >= end) throw new UsageError("--start must be before --end");
    const results = await larder.validate({ views: positionals.length ? positionals : undefined, start, end, saveReference: flags["save-reference"] === true });
    const { formatValidation } = await import("../../validation/validate-view.ts");
    out(flags.json ? JSON.stringify(results, null, 2) : formatValidation(results));
    const failed = results.filter((r) => !r.report.passed);
    if (failed.length) throw new ExpectationFailedError(`${failed.length} of ${results.length} views failed their expectations: ${failed.map((r) => r.view).join(", ")}`, failed);
  },
};
