#!/usr/bin/env bun
/** The executable's entry: argv → CLI → exit code. */
import { runCli } from "./cli/run-cli.ts";

// Output piped into a reader that stops early (`larder runs | head -1`) ends the command quietly.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2));
