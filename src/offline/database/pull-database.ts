/**
 * A database source's rows as local Parquet snapshots DuckDB reads like a file source:
 * `<data>/cache/db/<source>/`, with `snapshot.json` saying what they hold.
 *
 * - PostgreSQL, incrementally by watermark: when the rows at or before the last pull's newest
 *   event time are still exactly as many as pulled, only newer rows are fetched (one new part);
 *   otherwise (rows late, deleted or changed in count) everything is pulled again.
 *   Rows updated in place with their count and times unchanged are not noticed: a full pull
 *   (delete `<data>/cache/db/<source>/`) or any other change catches them.
 * - SQLite: pulled again whenever the file (or its write-ahead log) changed; reused otherwise.
 * Both fetch in chunks (CHUNK_ROWS), so a big table never sits in memory whole.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSourceDef } from "../../definitions/types.ts";
import { hashOf } from "../../ids.ts";
import type { StoredFile } from "../../storage/storage.ts";
import { z } from "zod";
import { type Duck, ident, literal } from "../duckdb.ts";
import { jsonRowsSql } from "../source-sql.ts";
import { isSqlite } from "./connection-string.ts";
import { openPostgres, sqliteChunks, sqliteFileStamp, sqlitePath, type Row } from "./source-database.ts";

/** Beyond this many incremental parts, the next pull is a full one (one part per chunk again). */
const MAX_PARTS = 64;

const SnapshotSchema = z.object({
  /** What the parts were pulled with: the source's connection, table or query, and schema. */
  definition: z.string(),
  parts: z.array(z.object({ file: z.string(), rows: z.number() })),
  rows: z.number(),
  maxTs: z.number().nullable(),
  /** SQLite: the file's stamp when pulled. */
  stamp: z.unknown().optional(),
  pulledAt: z.string(),
});
type Snapshot = z.infer<typeof SnapshotSchema>;

/** The snapshot's manifest; a damaged one counts as none (the next pull is a full one). */
function readSnapshot(path: string): Snapshot | null {
  if (!existsSync(path)) return null;
  try {
    return SnapshotSchema.safeParse(JSON.parse(readFileSync(path, "utf8"))).data ?? null;
  } catch {
    return null;
  }
}

export type PullResult = { files: StoredFile[]; rows: number; fetched: number; mode: "full" | "incremental" | "unchanged" };

export async function pullDatabaseSource(duck: Duck, source: DatabaseSourceDef, repoDir: string, dataDir: string, opts: { full?: boolean } = {}): Promise<PullResult> {
  const dir = join(dataDir, "cache", "db", source.name);
  const manifest = join(dir, "snapshot.json");
  const definition = hashOf({ connection: source.connection, table: source.table, query: source.query, timestampField: source.timestampField, schema: source.schema });
  let snap = readSnapshot(manifest);
  if (snap && (snap.definition !== definition || snap.parts.some((p) => !existsSync(join(dir, p.file))))) snap = null;
  if (opts.full) snap = null;
  mkdirSync(dir, { recursive: true });
  const writer = new PartWriter(duck, source, dir);

  let next: Snapshot;
  let fetched = 0;
  let mode: PullResult["mode"];
  if (isSqlite(source)) {
    const path = sqlitePath(source, repoDir);
    const stamp = sqliteFileStamp(path);
    if (snap && hashOf(snap.stamp) === hashOf(stamp)) {
      next = snap;
      mode = "unchanged";
    } else {
      const parts = [];
      for (const chunk of sqliteChunks(source, path)) parts.push(await writer.write(chunk));
      fetched = parts.reduce((n, p) => n + p.rows, 0);
      next = { definition, parts, rows: fetched, maxTs: null, stamp, pulledAt: new Date().toISOString() };
      mode = "full";
    }
  } else {
    const pg = openPostgres(source);
    try {
      const now = await pg.stats();
      const unchangedBefore = snap && snap.maxTs !== null && snap.parts.length < MAX_PARTS ? (await pg.stats(snap.maxTs)).rows === snap.rows : false;
      if (snap && now.rows === snap.rows && now.maxTs === snap.maxTs && unchangedBefore) {
        next = snap;
        mode = "unchanged";
      } else if (snap && unchangedBefore) {
        const parts = [];
        for await (const chunk of pg.chunks(snap.maxTs)) parts.push(await writer.write(chunk));
        fetched = parts.reduce((n, p) => n + p.rows, 0);
        next = { ...snap, parts: [...snap.parts, ...parts], rows: snap.rows + fetched, maxTs: now.maxTs, pulledAt: new Date().toISOString() };
        mode = "incremental";
      } else {
        const parts = [];
        for await (const chunk of pg.chunks(null)) parts.push(await writer.write(chunk));
        fetched = parts.reduce((n, p) => n + p.rows, 0);
        // The newest time among what was fetched, not `now`: rows may have arrived since.
        next = { definition, parts, rows: fetched, maxTs: await writer.maxTs(parts), pulledAt: new Date().toISOString() };
        mode = "full";
      }
      if (mode === "incremental") next.maxTs = await writer.maxTs(next.parts);
    } finally {
      await pg.close();
    }
  }
  if (next !== snap) {
    writeFileSync(`${manifest}.tmp`, JSON.stringify(next, null, 2));
    renameSync(`${manifest}.tmp`, manifest);
    const keep = new Set(next.parts.map((p) => p.file));
    for (const f of readdirSync(dir)) if (f.endsWith(".parquet") && !keep.has(f)) rmSync(join(dir, f), { force: true });
  }
  const files = next.parts.map((p) => {
    const path = join(dir, p.file);
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  });
  return { files, rows: next.rows, fetched, mode };
}

let counter = 0;

/** Writes chunks of rows as typed Parquet parts through DuckDB. */
class PartWriter {
  constructor(
    readonly duck: Duck,
    readonly source: DatabaseSourceDef,
    readonly dir: string,
  ) {}

  async write(rows: Row[]): Promise<{ file: string; rows: number }> {
    const file = `part-${String(Date.now()).padStart(15, "0")}-${String(counter++).padStart(6, "0")}.parquet`;
    const tmp = join(this.dir, `.${file}.tmp`);
    const columns = this.source.schema.map((c) => ident(c.name)).join(", ");
    await this.duck.run(`COPY (SELECT ${columns} FROM (${jsonRowsSql(this.source)})) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION snappy)`, [JSON.stringify(rows)]);
    renameSync(tmp, join(this.dir, file));
    return { file, rows: rows.length };
  }

  async maxTs(parts: { file: string }[]): Promise<number | null> {
    if (parts.length === 0) return null;
    const [r] = await this.duck.all<{ hi: number | null }>(
      `SELECT epoch_ms(max(${ident(this.source.timestampField)})) AS hi FROM read_parquet([${parts.map((p) => literal(join(this.dir, p.file))).join(", ")}])`,
    );
    return r?.hi === null || r?.hi === undefined ? null : Number(r.hi);
  }
}
