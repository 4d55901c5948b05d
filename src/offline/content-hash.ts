/**
 * SHA-256 of source files "where cheap": local files up to 64 MiB, hashed once per
 * (path, size, mtime) in a process. S3 objects keep their ETag (an MD5 of the content for
 * single-part uploads); larger local files get null, and are identified by size and mtime.
 */
import type { StoredFile } from "../storage/storage.ts";
import { isS3Url } from "../storage/s3-location.ts";
import type { RunSourceFile } from "../registry/runs.ts";

const CHEAP_BYTES = 64 * 1024 * 1024;
const known = new Map<string, string>();

export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

export async function withContentHashes(files: StoredFile[]): Promise<RunSourceFile[]> {
  return Promise.all(
    files.map(async (f) => {
      if (isS3Url(f.path)) return { ...f };
      if (f.size > CHEAP_BYTES) return { ...f, sha256: null };
      const id = `${f.path}\0${f.size}\0${f.mtimeMs}`;
      let sha = known.get(id);
      if (!sha) known.set(id, (sha = await sha256File(f.path)));
      return { ...f, sha256: sha };
    }),
  );
}
