/**
 * The fraud demo's definitions: the files of features/ in Larder's own repo, embedded as
 * text, so `larder demo` (the single executable included) can write them into a folder
 * that has none and run the demo anywhere.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { definitionFileNames } from "../definitions/load-definitions.ts";
// @ts-expect-error Bun's text import: the file's text, not its module
import ENTITIES_TS from "../../features/entities.ts" with { type: "text" };
// @ts-expect-error Bun's text import: the file's text, not its module
import SOURCES_TS from "../../features/sources.ts" with { type: "text" };
// @ts-expect-error Bun's text import: the file's text, not its module
import FRAUD_TS from "../../features/fraud.ts" with { type: "text" };

/** The services the demo looks up and trains on: a repo without them is not the demo's. */
export const DEMO_SERVICES = ["fraud_detection", "fraud_scoring"];

const FILES: [string, string][] = [
  ["entities.ts", ENTITIES_TS as string],
  ["sources.ts", SOURCES_TS as string],
  ["fraud.ts", FRAUD_TS as string],
];

/** Writes the demo's features/ into `repoDir` unless it has feature files; returns the files written. */
export function writeDemoFeatures(repoDir: string): string[] {
  const dir = join(repoDir, "features");
  if (existsSync(dir) && definitionFileNames(dir).length > 0) return [];
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of FILES) writeFileSync(join(dir, name), text);
  return FILES.map(([name]) => `features/${name}`);
}
