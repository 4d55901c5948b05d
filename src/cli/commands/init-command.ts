import { resolve } from "node:path";
import type { Command } from "../command.ts";
import { initRepo } from "../../scaffold/init-repo.ts";
import { out } from "../print.ts";

export const initCommand: Command = {
  name: "init",
  summary: "make a new feature repo with a small working example (features, data, README)",
  usage: "larder init [DIR]   (default: the current folder)",
  options: {},
  standalone: true,
  async run(_larder, _flags, positionals) {
    const dir = resolve(positionals[0] ?? ".");
    const written = initRepo(dir);
    out(`Created a feature repo in ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}`);
    const cd = positionals[0] ? `cd ${positionals[0]} && ` : "";
    out(`\nNext: ${cd}larder apply && larder materialize && larder serve   (README.md explains each step)`);
  },
};
