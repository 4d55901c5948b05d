/**
 * The registry shared through the offline file store when that is S3 (`registry.json` at
 * its root), so replicas and the machine that runs `larder apply` agree on definitions and
 * versions. Each machine keeps a local copy (`<data>/registry.json`), which lookups read
 * without a network call; `pull` refreshes it when the shared one changed, `publish`
 * writes it after an apply. Two applies at once: the later one wins, whole.
 */
import { existsSync, readFileSync } from "node:fs";
import type { FileStore } from "../storage/file-store.ts";
import { parseRegistry, Registry } from "./registry.ts";

const KEY = "registry.json";

/** Replaces the local copy with the shared registry when they differ; true when it did. */
export async function pullSharedRegistry(files: FileStore, dataDir: string): Promise<boolean> {
  const shared = await files.readText(KEY);
  if (shared === null) return false;
  const path = Registry.registryPath(dataDir);
  if (existsSync(path) && readFileSync(path, "utf8") === shared) return false;
  new Registry(parseRegistry(shared, files.pathOf(KEY)), path).save();
  return true;
}

export async function publishSharedRegistry(files: FileStore, registry: Registry): Promise<void> {
  await files.writeText(KEY, readFileSync(registry.path, "utf8"));
}
