import type { Command } from "../command.ts";
import { out } from "../print.ts";
import pkg from "../../../package.json" with { type: "json" };

export const versionCommand: Command = {
  name: "version",
  summary: "print the versions of Larder, Bun and DuckDB",
  usage: "larder version",
  options: {},
  standalone: true,
  async run(larder) {
    const [row] = await (await larder.duck()).all<{ v: string }>("SELECT version() AS v");
    out(`larder ${pkg.version}\nbun ${Bun.version}\nduckdb ${row!.v}`);
  },
};
