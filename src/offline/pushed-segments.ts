/**
 * Rows pushed to the offline side: Parquet segments under `<data>/pushed/<push source>/`,
 * one per push, named so that name order is push order. Each holds the batch source's
 * columns (typed as it declares them) and `__online`: whether the same rows were also
 * applied to the online store, so incremental materialization does not apply them again.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SourceFile } from "./source-fingerprint.ts";
import { type Duck, ident, literal } from "./duckdb.ts";

export const pushedDir = (dataDir: string, pushSource: string) => join(dataDir, "pushed", pushSource);

export function pushedSegments(dataDir: string, pushSource: string): SourceFile[] {
  const dir = pushedDir(dataDir, pushSource);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".parquet"))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      const st = statSync(path);
      return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    });
}

let counter = 0;

export type StagedSegment = { path: string; publish(): void; discard(): void };

/**
 * Writes the rows of `relation` (SQL, with its bound `params`; columns in `columns` order)
 * as a new segment, hidden until `publish()`: a push publishes it only once its online
 * update has committed.
 */
export async function stagePushedSegment(duck: Duck, dataDir: string, pushSource: string, relation: string, params: string[], columns: string[], online: boolean): Promise<StagedSegment> {
  const dir = pushedDir(dataDir, pushSource);
  mkdirSync(dir, { recursive: true });
  const name = `${String(Date.now()).padStart(15, "0")}-${String(counter++).padStart(6, "0")}-${process.pid}.parquet`;
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.tmp`);
  await duck.run(`COPY (SELECT ${columns.map(ident).join(", ")}, ${online ? "true" : "false"} AS __online FROM (${relation})) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION snappy)`, params);
  // Readers list *.parquet only: the rename publishes the whole segment at once.
  return { path, publish: () => renameSync(tmp, path), discard: () => rmSync(tmp, { force: true }) };
}
