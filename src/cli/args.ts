/** Flag parsing for every command, with usage errors that say which flag is wrong. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

export const COMMON_OPTIONS = {
  repo: { type: "string" },
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify.*$/s, "")}; see larder ${command} --help`);
  }
}
