#!/usr/bin/env bun
/** The executable's entry: argv → CLI → exit code. */
import { runCli } from "./cli/run-cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
