/**
 * The command table and the one place CLI errors become messages and exit codes:
 * 2 usage, 3 invalid definitions or data, 1 runtime errors.
 */
import { loadConfig } from "../config/config.ts";
import { LarderError, EXIT } from "../errors.ts";
import { Larder } from "../larder.ts";
import { COMMON_OPTIONS, parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { applyCommand } from "./commands/apply-command.ts";
import { demoCommand } from "./commands/demo-command.ts";
import { historicalCommand } from "./commands/historical-command.ts";
import { initCommand } from "./commands/init-command.ts";
import { validateCommand } from "./commands/validate-command.ts";
import { runsCommand } from "./commands/runs-command.ts";
import { lineageCommand } from "./commands/lineage-command.ts";
import { driftCommand } from "./commands/drift-command.ts";
import { trainCommand } from "./commands/train-command.ts";
import { materializeCommand } from "./commands/materialize-command.ts";
import { planCommand } from "./commands/plan-command.ts";
import { pushCommand } from "./commands/push-command.ts";
import { serveCommand } from "./commands/serve-command.ts";
import { versionCommand } from "./commands/version-command.ts";
import { err, out } from "./print.ts";

export const COMMANDS: Command[] = [
  initCommand,
  planCommand,
  applyCommand,
  validateCommand,
  materializeCommand,
  pushCommand,
  historicalCommand,
  trainCommand,
  runsCommand,
  lineageCommand,
  driftCommand,
  serveCommand,
  demoCommand,
  versionCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "larder: a feature store in one executable",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command takes --repo DIR (the feature repo, default .) and --data-dir DIR (default <repo>/data).",
    "larder <command> --help shows a command's flags.",
  ].join("\n");
}

/** Flags every command takes, with what they mean. */
export const COMMON_FLAG_HELP: Record<string, string> = {
  repo: "the feature repo, the folder holding features/ (LARDER_REPO; default .)",
  "data-dir": "the data folder (LARDER_DATA_DIR; default <repo>/data)",
  help: "show the command's usage and flags",
};

/** `larder <command> --help`: usage, summary and what each flag means. */
export function commandHelp(command: Command): string {
  const flags = Object.entries(command.flagHelp ?? {});
  const width = Math.max(0, ...flags.map(([f]) => f.length + 2));
  return [command.usage, "", command.summary, ...(flags.length ? ["", "Flags:", ...flags.map(([f, meaning]) => `  ${`--${f}`.padEnd(width)}  ${meaning}`)] : [])].join("\n");
}

/** The common flags (--repo, --data-dir) may come before the command: they are moved after it. */
function commandFirst(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const flag = a.startsWith("--") ? a.slice(2).split("=")[0]! : "";
    if (!(flag in COMMON_OPTIONS) || flag === "help") break;
    const takesValue = COMMON_OPTIONS[flag as keyof typeof COMMON_OPTIONS].type === "string" && !a.includes("=");
    leading.push(...argv.slice(i, i + (takesValue ? 2 : 1)));
    i += takesValue ? 2 : 1;
  }
  return i === 0 ? argv : [argv[i] ?? "", ...leading, ...argv.slice(i + 1)];
}

/** Runs a command line; returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = commandFirst(argv);
  if (!name || name === "help" || name === "--help" || name === "-h") {
    out(help());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    err(`larder: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  let larder: Larder | undefined;
  try {
    const { values, positionals } = parseFlags(rest, command.options, command.name);
    if (values.help) {
      out(commandHelp(command));
      return 0;
    }
    const config = loadConfig({
      repoDir: values.repo as string | undefined,
      dataDir: values["data-dir"] as string | undefined,
      host: values.host as string | undefined,
      port: values.port as string | undefined,
      workers: values.workers as string | undefined,
      feastUi: values["feast-ui"] === true ? "on" : undefined,
      engine: values.engine as string | undefined,
    });
    larder = new Larder(config);
    larder.via = `cli ${command.name}`;
    // apply syncs by itself, and gets past a damaged shared registry.
    if (command.name !== "apply") await larder.syncRegistry();
    await command.run(larder, values as Record<string, string | boolean | undefined>, positionals);
    return 0;
  } catch (e) {
    if (e instanceof LarderError) {
      err(`larder ${name}: ${e.message}`);
      return e.exitCode;
    }
    err(`larder ${name}: unexpected error: ${(e as Error)?.stack ?? e}`);
    return EXIT.runtime;
  } finally {
    await larder?.close();
  }
}
