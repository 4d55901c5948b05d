/**
 * Rows pushed to the offline side: Parquet segments under `pushed/<push source>/` in the
 * offline file store (local, or S3 shared by several servers), one per push, named so that
 * name order is push order. Each holds the batch source's columns (typed as it declares
 * them) and `__online`: whether the same rows were also applied to the online store, so
 * incremental materialization does not apply them again.
 */
import { rmSync } from "node:fs";
import type { FileStore } from "../storage/file-store.ts";
import type { StoredFile } from "../storage/storage.ts";
import { type Duck, ident, literal } from "./duckdb.ts";

const pushedFolder = (pushSource: string) => `pushed/${pushSource}`;

export function pushedSegments(files: FileStore, pushSource: string): Promise<StoredFile[]> {
  return files.list(pushedFolder(pushSource)).then((list) => list.filter((f) => f.path.endsWith(".parquet")));
}

let counter = 0;

export type StagedSegment = { path: string; publish(): Promise<void>; discard(): void };

/**
 * Writes the rows of `relation` (SQL, with its bound `params`; columns in `columns` order)
 * as a new segment, hidden until `publish()`: a push publishes it only once its online
 * update has committed.
 */
export async function stagePushedSegment(
  duck: Duck,
  files: FileStore,
  pushSource: string,
  relation: string,
  params: string[],
  columns: string[],
  online: boolean,
): Promise<StagedSegment> {
  const name = `${String(Date.now()).padStart(15, "0")}-${String(counter++).padStart(6, "0")}-${process.pid}.parquet`;
  const key = `${pushedFolder(pushSource)}/${name}`;
  const staged = files.staging(key);
  await duck.run(
    `COPY (SELECT ${columns.map(ident).join(", ")}, ${online ? "true" : "false"} AS __online FROM (${relation})) TO ${literal(staged)} (FORMAT parquet, COMPRESSION snappy)`,
    params,
  );
  // Readers list published files only: a segment appears whole or not at all.
  return {
    path: files.pathOf(key),
    publish: async () => void (await files.put(key, staged)),
    discard: () => rmSync(staged, { force: true }),
  };
}
