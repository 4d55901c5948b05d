/** `larder init`: writes a small, working feature repo into a folder. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { UsageError } from "../errors.ts";
import { HOUR } from "../windows/window-math.ts";
import { driverStatsCsv } from "./driver-stats-data.ts";
import { ENTITIES_TS, FEATURES_TS, GITIGNORE, README_MD, SOURCES_TS } from "./templates.ts";

/** Writes the repo; refuses a folder that already has features/ or any of the files. Returns the paths written. */
export function initRepo(dir: string, end = Math.floor(Date.now() / HOUR) * HOUR): string[] {
  const { stats, labels } = driverStatsCsv(end);
  const files: [string, string][] = [
    ["features/entities.ts", ENTITIES_TS],
    ["features/sources.ts", SOURCES_TS],
    ["features/features.ts", FEATURES_TS],
    ["data/driver_stats.csv", stats],
    ["data/driver_labels.csv", labels],
    ["README.md", README_MD],
    [".gitignore", GITIGNORE],
  ];
  const featuresDir = join(dir, "features");
  if (existsSync(featuresDir) && readdirSync(featuresDir).length > 0) {
    throw new UsageError(`${featuresDir} already has files: larder init makes a new feature repo; pick an empty or new folder`);
  }
  const clash = files.find(([f]) => existsSync(join(dir, f)));
  if (clash) throw new UsageError(`${join(dir, clash[0])} already exists: larder init does not overwrite files; pick an empty or new folder`);
  for (const [f, text] of files) {
    const path = join(dir, f);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text, { flag: "wx" });
  }
  return files.map(([f]) => relative(process.cwd(), join(dir, f)) || f);
}
