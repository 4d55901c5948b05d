/**
 * A source's data as files and their fingerprint: the files a file source's path or glob
 * matches (local or on S3) with size and mtime or ETag, or a database source's pulled
 * snapshots. Offline tables are rebuilt when the fingerprint changes and reused while it doesn't.
 */
import type { SourceDef } from "../definitions/types.ts";
import { OfflineError } from "../errors.ts";
import type { StoredFile } from "../storage/storage.ts";
import type { Duck } from "./duckdb.ts";
import type { OfflineContext } from "./offline-context.ts";
import { pullDatabaseSource } from "./database/pull-database.ts";
import { sourcePath } from "./source-sql.ts";

export type SourceFile = StoredFile;
export type SourceFingerprint = { files: SourceFile[]; hash: string };

/** The source's files now; a file source matching nothing is an error naming its path. */
export async function sourceFiles(duck: Duck, source: SourceDef, ctx: OfflineContext): Promise<SourceFile[]> {
  if (source.kind === "database") return (await pullDatabaseSource(duck, source, ctx.repoDir, ctx.dataDir)).files;
  const full = sourcePath(source.path, ctx.repoDir);
  const files = await ctx.storage.match(full);
  if (files.length === 0) throw new OfflineError(`source "${source.name}": no file matches ${source.path}${full === source.path ? "" : ` (resolved to ${full})`}`);
  return files;
}
