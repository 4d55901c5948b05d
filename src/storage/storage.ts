/**
 * Where data files live: local paths and `s3://bucket/key` addresses, either possibly a
 * glob (`*` within one path segment, `**` across segments). Lists what a pattern matches
 * with what identifies each file's content (size and mtime, or the ETag), and gives a
 * local path DuckDB can read (an S3 object's cached copy).
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Glob } from "bun";
import { S3Access } from "./s3-access.ts";
import { isS3Url, parseS3Url, s3Url, type S3Settings } from "./s3-location.ts";

/** A file and what identifies its content: size and mtime locally, the ETag on S3. */
export type StoredFile = { path: string; size: number; mtimeMs?: number; etag?: string };

const GLOB_CHARS = /[*?[{]/;

export class Storage {
  #s3?: S3Access;

  constructor(
    readonly s3Settings: S3Settings,
    readonly cacheDir: string,
  ) {}

  get s3(): S3Access {
    return (this.#s3 ??= new S3Access(this.s3Settings, join(this.cacheDir, "s3")));
  }

  /** The files a path or glob matches, sorted by path; none is an empty list. */
  async match(pattern: string): Promise<StoredFile[]> {
    return isS3Url(pattern) ? this.#matchS3(pattern) : matchLocal(pattern);
  }

  /** A local path holding the file's content. */
  async readable(file: StoredFile): Promise<string> {
    if (!isS3Url(file.path)) return file.path;
    const { bucket, key } = parseS3Url(file.path);
    return this.s3.localCopy(bucket, { key, size: file.size, etag: file.etag ?? "" });
  }

  async #matchS3(pattern: string): Promise<StoredFile[]> {
    const { bucket, key } = parseS3Url(pattern);
    const firstGlob = key.search(GLOB_CHARS);
    // List from the deepest "folder" before the first glob character.
    const prefix = firstGlob < 0 ? key : key.slice(0, key.lastIndexOf("/", firstGlob) + 1);
    const glob = firstGlob < 0 ? null : new Glob(key);
    const objects = await this.s3.list(bucket, prefix);
    return objects.filter((o) => (glob ? glob.match(o.key) : o.key === key)).map((o) => ({ path: s3Url(bucket, o.key), size: o.size, etag: o.etag }));
  }
}

function matchLocal(pattern: string): StoredFile[] {
  let paths: string[];
  if (!GLOB_CHARS.test(pattern)) {
    paths = existsSync(pattern) && statSync(pattern).isFile() ? [pattern] : [];
  } else {
    // Scan from the deepest folder before the first glob character.
    const firstGlob = pattern.search(GLOB_CHARS);
    const base = dirname(pattern.slice(0, firstGlob + 1));
    const glob = new Glob(relative(base, pattern));
    paths = existsSync(base) ? [...glob.scanSync({ cwd: base, onlyFiles: true })].map((p) => join(base, p)) : [];
  }
  return paths.sort().map((path) => {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  });
}
