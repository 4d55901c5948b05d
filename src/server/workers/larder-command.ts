/** The command line that runs this same Larder again, for the processes `larder serve --workers` starts. */
import { join } from "node:path";

export function larderCommand(): string[] {
  // In the compiled executable, modules live in Bun's embedded file system and the
  // executable is the CLI; from source, Bun runs src/main.ts.
  const compiled = import.meta.dir.startsWith("/$bunfs/") || import.meta.dir.includes("~BUN");
  return compiled ? [process.execPath] : [process.execPath, join(import.meta.dir, "../../main.ts")];
}
