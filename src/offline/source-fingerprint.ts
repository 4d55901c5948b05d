/**
 * A fingerprint of a file source's data: the files its path or glob matches, with size
 * and mtime. Offline tables are rebuilt when it changes and reused while it doesn't.
 */
import { statSync, existsSync } from "node:fs";
import { Glob } from "bun";
import { dirname, join, relative } from "node:path";
import type { SourceDef } from "../definitions/types.ts";
import { OfflineError } from "../errors.ts";
import { hashOf } from "../registry/canonical.ts";
import { sourcePath } from "./source-sql.ts";

export type SourceFile = { path: string; size: number; mtimeMs: number };
export type SourceFingerprint = { files: SourceFile[]; hash: string };

const GLOB_CHARS = /[*?[{]/;

export function sourceFiles(source: SourceDef, repoDir: string): SourceFile[] {
  const full = sourcePath(source, repoDir);
  let paths: string[];
  if (!GLOB_CHARS.test(full)) {
    paths = existsSync(full) ? [full] : [];
  } else {
    // Scan from the deepest folder before the first glob character.
    const firstGlob = full.search(GLOB_CHARS);
    const base = dirname(full.slice(0, firstGlob + 1));
    const pattern = relative(base, full);
    paths = existsSync(base) ? [...new Glob(pattern).scanSync({ cwd: base, onlyFiles: true })].map((p) => join(base, p)) : [];
  }
  if (paths.length === 0) throw new OfflineError(`source "${source.name}": no file matches ${source.path} (resolved to ${full})`);
  return paths.sort().map((path) => {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  });
}

export function fingerprintSource(source: SourceDef, repoDir: string): SourceFingerprint {
  const files = sourceFiles(source, repoDir);
  return { files, hash: hashOf(files) };
}
