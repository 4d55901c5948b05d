import type { Command } from "../command.ts";
import { formatPlan } from "../../registry/plan.ts";
import { out } from "../print.ts";

export const applyCommand: Command = {
  name: "apply",
  summary: "register features/*.ts in the registry (a version per feature view)",
  usage: "larder apply [--repo DIR]",
  options: {},
  async run(larder) {
    const plan = await larder.apply();
    out(formatPlan(plan));
    if (plan.changes.length) out("Applied.");
  },
};
