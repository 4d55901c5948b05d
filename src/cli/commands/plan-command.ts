import type { Command } from "../command.ts";
import { formatPlan } from "../../registry/plan.ts";
import { out } from "../print.ts";

export const planCommand: Command = {
  name: "plan",
  summary: "show what apply would add, change and remove",
  usage: "larder plan [--repo DIR]",
  options: {},
  async run(larder) {
    const { plan } = await larder.plan();
    out(formatPlan(plan));
  },
};
