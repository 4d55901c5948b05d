import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { formatOf, readFileSql } from "../../offline/source-sql.ts";
import { PUSH_MODES, type PushMode } from "../../push/push.ts";
import { out } from "../print.ts";

export const pushCommand: Command = {
  name: "push",
  summary: "push the rows of a CSV, Parquet or JSON file to a push source (as POST /v1/push does)",
  usage: `larder push <push source> <file.(csv|parquet|json)> [--to ${PUSH_MODES.join("|")}]   (default online, as in Feast)`,
  options: { to: { type: "string" } },
  flagHelp: {
    to: "where the rows go: online, offline or online_and_offline",
  },
  async run(larder, flags, positionals) {
    const [source, file] = positionals;
    if (!source || !file || positionals.length > 2) throw new UsageError(`give a push source and a file\n${this.usage}`);
    const to = (flags.to ?? "online") as PushMode;
    if (!PUSH_MODES.includes(to)) throw new UsageError(`--to must be one of ${PUSH_MODES.join(", ")}`);
    const path = resolve(file);
    const format = formatOf(path);
    if (!format) throw new UsageError(`cannot tell the format of ${file}: use .csv, .parquet or .json`);
    if (!existsSync(path)) throw new UsageError(`no file ${file}`);
    const duck = await larder.duck();
    // Timestamps as epoch ms: rows go through the same validation as HTTP pushes.
    const rows = (await duck.all(`SELECT * FROM ${readFileSql(format, path)}`)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.getTime() : v])),
    );
    let pushed = 0;
    let duplicates = 0;
    const entities = new Map<string, number>();
    for (let lo = 0; lo < rows.length; lo += larder.config.maxPushRows) {
      const r = await larder.push({ source, rows: rows.slice(lo, lo + larder.config.maxPushRows), to });
      pushed += r.rows;
      duplicates += r.duplicates;
      for (const v of r.views) entities.set(v.view, (entities.get(v.view) ?? 0) + v.entities);
    }
    out(`${pushed} rows pushed to ${source} (${to})${duplicates ? `, ${duplicates} already applied online (skipped there)` : ""}`);
    for (const [view, n] of entities) out(`  ${view}: ${n} entity updates`);
  },
};
