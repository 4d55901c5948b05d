import type { Command } from "../command.ts";
import { formatPlan } from "../../registry/plan.ts";
import { err, out } from "../print.ts";

export const applyCommand: Command = {
  name: "apply",
  summary: "register features/*.ts in the registry (a version per feature view)",
  usage: "larder apply [--repo DIR]",
  options: {},
  async run(larder) {
    const plan = await larder.apply();
    if (plan.setAside) err(`the registry was damaged: set aside as ${plan.setAside}; features/ applied afresh`);
    out(formatPlan(plan));
    if (plan.changes.length) out("Applied.");
  },
};
