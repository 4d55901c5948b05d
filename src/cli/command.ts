import type { ParseArgsConfig } from "node:util";
import type { Larder } from "../larder.ts";

export type Flags = Record<string, string | boolean | undefined>;

export type Command = {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** What each option means: shown by --help and in the generated CLI reference. */
  flagHelp?: Record<string, string>;
  /** Commands that need no feature repo (version, help) set this. */
  standalone?: boolean;
  run(larder: Larder, flags: Flags, positionals: string[]): Promise<void>;
};
