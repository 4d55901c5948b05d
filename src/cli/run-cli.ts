/**
 * The command table and the one place CLI errors become messages and exit codes:
 * 2 usage, 3 invalid definitions or data, 1 runtime errors.
 */
import { loadConfig } from "../config/config.ts";
import { LarderError, EXIT } from "../errors.ts";
import { Larder } from "../larder.ts";
import { parseFlags } from "./args.ts";
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

const COMMANDS: Command[] = [
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

/** Runs a command line; returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
      out(`${command.usage}\n\n${command.summary}`);
      return 0;
    }
    const config = loadConfig({
      repoDir: values.repo as string | undefined,
      dataDir: values["data-dir"] as string | undefined,
      host: values.host as string | undefined,
      port: values.port as string | undefined,
      workers: values.workers as string | undefined,
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
