/**
 * Native libraries inside the compiled executable (DuckDB, LMDB): Bun embeds them as
 * files, but a native addon can only be loaded from a real file, and duckdb.node finds
 * libduckdb beside itself. So they are written once into a versioned cache folder and
 * loaded from there. Only the compiled executable uses this (see scripts/build.ts);
 * from source the packages load from node_modules as usual.
 *
 * - Safe when several processes start at once: files go to a private temporary folder
 *   that is renamed into place in one step; whoever loses the race uses the winner's.
 * - A cache folder that exists and is complete is only read, so it may be read-only.
 * - When the cache folder cannot be written, a folder under the system temp dir is used,
 *   with a message saying so.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { LarderError } from "../errors.ts";

export type EmbeddedFile = { path: string; name: string };

export type EmbeddedAddon = {
  /** Folder name in the cache, e.g. "duckdb-1.5.6-r.1-linux-x64": a new version gets a new folder. */
  key: string;
  /** The embedded files: their path inside the executable, and the name they need on disk. */
  files: EmbeddedFile[];
  /** The file name of the addon to load (one of the files' names). */
  addon: string;
};

/** Where native libraries are cached: LARDER_CACHE_DIR, else $XDG_CACHE_HOME/larder, else ~/.cache/larder. */
export function nativeCacheRoot(env: Record<string, string | undefined> = process.env): string {
  if (env.LARDER_CACHE_DIR) return env.LARDER_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "larder");
}

function fallbackRoot(env: Record<string, string | undefined>): string {
  let user = "user";
  try {
    user = String(userInfo().uid);
  } catch {}
  return join(env.TMPDIR || tmpdir(), `larder-cache-${user}`);
}

function isComplete(dir: string, files: EmbeddedFile[]): boolean {
  for (const f of files) {
    try {
      if (statSync(join(dir, f.name)).size !== Bun.file(f.path).size) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Writes the files under `root/key` unless they are already there; returns that folder. */
export function ensureInCache(root: string, key: string, files: EmbeddedFile[], attempt = 0): string {
  const dir = join(root, attempt ? `${key}.${attempt}` : key);
  if (isComplete(dir, files)) return dir;
  // Complete now? Another process may have renamed its copy into place since the check
  // above; only a folder that is there and still incomplete is damaged.
  if (existsSync(dir) && !isComplete(dir, files)) {
    // Damaged (files changed or removed by hand): write a copy beside it, under a name the
    // next start finds again, rather than change files another process may have loaded.
    if (attempt >= 3) throw new LarderError(`the native library cache ${dir} and the copies beside it are damaged: delete ${join(root, key)}*`);
    return ensureInCache(root, key, files, attempt + 1);
  }
  if (existsSync(dir)) return dir;
  mkdirSync(root, { recursive: true });
  const staging = join(root, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  mkdirSync(staging);
  try {
    for (const f of files) writeFileSync(join(staging, f.name), readFileSync(f.path), { mode: 0o755 });
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another process put a complete copy there first: use it.
      if (!isComplete(dir, files)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/** The folder holding the addon's files: the cache, else the temp fallback (with a message). */
export function nativeFolder(addon: EmbeddedAddon, env: Record<string, string | undefined> = process.env, warn: (m: string) => void = (m) => console.error(m)): string {
  const root = nativeCacheRoot(env);
  try {
    return ensureInCache(root, addon.key, addon.files);
  } catch (first) {
    const fallback = fallbackRoot(env);
    try {
      const dir = ensureInCache(fallback, addon.key, addon.files);
      warn(
        `larder: cannot write native libraries to ${root} (${(first as NodeJS.ErrnoException).code ?? (first as Error).message}); using ${fallback} instead. Set LARDER_CACHE_DIR to a writable folder to choose.`,
      );
      return dir;
    } catch (second) {
      throw new LarderError(
        `cannot write the native libraries (${addon.key}) to ${root} (${(first as Error).message}) nor to ${fallback} (${(second as Error).message}): set LARDER_CACHE_DIR to a writable folder`,
      );
    }
  }
}

/** Loads an embedded native addon and returns its exports. */
export function loadEmbeddedAddon(addon: EmbeddedAddon): unknown {
  const dir = nativeFolder(addon);
  const module = { exports: {} as unknown };
  process.dlopen(module, join(dir, addon.addon));
  return module.exports;
}
