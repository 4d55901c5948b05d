/**
 * Reading a database source: its rows in chunks, as plain objects ready for JSON (every
 * timestamp column in epoch ms), from PostgreSQL (Bun's SQL) or SQLite (bun:sqlite).
 * Table names and queries come from definitions (trusted code, like feature SQL);
 * values such as a watermark are bound parameters.
 */
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { DatabaseSourceDef } from "../../definitions/types.ts";
import { StorageError } from "../../errors.ts";
import { connectionString, redactedConnection } from "./connection-string.ts";

export type Row = Record<string, unknown>;

export const CHUNK_ROWS = 50_000;

const isTime = (source: DatabaseSourceDef, c: DatabaseSourceDef["schema"][number]) => c.type === "timestamp" || c.name === source.timestampField;

const quote = (name: string) =>
  name
    .split(".")
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join(".");

const relationSql = (source: DatabaseSourceDef) => (source.table ? quote(source.table) : `(${source.query}) AS larder_source`);

export interface PostgresSource {
  /** Rows and newest event time (ms) of every row, or of rows at or before `upTo`. */
  stats(upTo?: number): Promise<{ rows: number; maxTs: number | null }>;
  /** Rows after `after` (every row when null), in chunks of CHUNK_ROWS, in no particular order. */
  chunks(after: number | null): AsyncGenerator<Row[]>;
  close(): Promise<void>;
}

export function openPostgres(source: DatabaseSourceDef): PostgresSource {
  const sql = new Bun.SQL(connectionString(source), { max: 1 });
  const where = relationSql(source);
  const ts = quote(source.timestampField);
  // Times are whole epoch milliseconds (floored) in Larder. "At or before ms t" is "< t + 1 ms"
  // in Postgres' microseconds, which keeps the comparisons exact and index-friendly.
  // Compared in UTC: a `timestamp` column holds UTC wall time, as Larder's times are UTC.
  const before = (i: number) => `(to_timestamp(($${i}::int8 + 1)::float8 / 1000) AT TIME ZONE 'UTC')`;
  const ms = (expr: string) => `floor(extract(epoch from ${expr}) * 1000)::int8`;
  const columns = source.schema.map((c) => (isTime(source, c) ? `${ms(quote(c.name))} AS ${quote(c.name)}` : quote(c.name))).join(", ");
  const fail = (what: string, err: unknown) =>
    new StorageError(`source "${source.name}" (${redactedConnection(source)}): ${what} failed: ${(err as Error).message}`, { cause: err });
  return {
    async stats(upTo) {
      try {
        return await sql.begin(async (tx) => {
          await tx.unsafe("SET LOCAL TIME ZONE 'UTC'");
          const [r] = await tx.unsafe(
            `SELECT count(*)::int8 AS n, ${ms(`max(${ts})`)} AS hi FROM ${where}${upTo === undefined ? "" : ` WHERE ${ts} < ${before(1)}`}`,
            upTo === undefined ? [] : [upTo],
          );
          return { rows: Number(r.n), maxTs: r.hi === null ? null : Number(r.hi) };
        });
      } catch (err) {
        throw fail("reading row count and newest time", err);
      }
    },
    async *chunks(after) {
      // A cursor in one read-only transaction: a consistent snapshot, fetched a chunk at a time.
      const reserved = await sql.reserve().catch((err) => {
        throw fail("connecting", err);
      });
      try {
        await reserved.unsafe("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        await reserved.unsafe("SET LOCAL TIME ZONE 'UTC'");
        await reserved.unsafe(
          `DECLARE larder_pull NO SCROLL CURSOR FOR SELECT ${columns} FROM ${where}${after === null ? "" : ` WHERE ${ts} >= ${before(1)}`}`,
          after === null ? [] : [after],
        );
        for (;;) {
          const rows = (await reserved.unsafe(`FETCH ${CHUNK_ROWS} FROM larder_pull`)) as Row[];
          if (rows.length === 0) break;
          yield [...rows];
        }
        await reserved.unsafe("COMMIT");
      } catch (err) {
        await reserved.unsafe("ROLLBACK").catch(() => {});
        throw err instanceof StorageError ? err : fail("reading rows", err);
      } finally {
        reserved.release();
      }
    },
    close: () => sql.close(),
  };
}

/** The SQLite file a `sqlite:` connection names (relative to the feature repo). */
export function sqlitePath(source: DatabaseSourceDef, repoDir: string): string {
  const path = connectionString(source)
    .slice("sqlite:".length)
    .replace(/^\/\/(?=\/)/, "");
  return isAbsolute(path) ? path : resolve(repoDir, path);
}

/** What identifies a SQLite file's content: the file and its write-ahead log, size and mtime. */
export function sqliteFileStamp(path: string): { size: number; mtimeMs: number; walSize: number; walMtimeMs: number } {
  if (!existsSync(path)) throw new StorageError(`SQLite file ${path} does not exist`);
  const st = statSync(path);
  const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`) : null;
  return { size: st.size, mtimeMs: Math.floor(st.mtimeMs), walSize: wal?.size ?? 0, walMtimeMs: wal ? Math.floor(wal.mtimeMs) : 0 };
}

/** Every row of a SQLite source, in chunks; timestamps as ISO-8601 text (UTC unless it says otherwise) or epoch ms. */
export function* sqliteChunks(source: DatabaseSourceDef, path: string): Generator<Row[]> {
  let db: Database;
  try {
    db = new Database(path, { readonly: true });
  } catch (err) {
    throw new StorageError(`source "${source.name}": cannot open SQLite file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const times = source.schema.filter((c) => isTime(source, c)).map((c) => c.name);
    const bools = source.schema.filter((c) => c.type === "bool").map((c) => c.name);
    let stmt: ReturnType<Database["query"]>;
    try {
      stmt = db.query(`SELECT ${source.schema.map((c) => quote(c.name)).join(", ")} FROM ${relationSql(source)}`);
    } catch (err) {
      throw new StorageError(`source "${source.name}": ${(err as Error).message} (in ${source.table ? `table ${source.table}` : "its query"})`, { cause: err });
    }
    let chunk: Row[] = [];
    for (const row of stmt.iterate() as IterableIterator<Row>) {
      for (const c of times) row[c] = sqliteTime(source, c, row[c]);
      for (const c of bools) if (row[c] !== null) row[c] = Boolean(row[c]);
      chunk.push(row);
      if (chunk.length === CHUNK_ROWS) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length) yield chunk;
  } finally {
    db.close();
  }
}

const HAS_ZONE = /(?:[zZ]|[+-]\d\d:?\d\d)$/;

function sqliteTime(source: DatabaseSourceDef, column: string, v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  const text = String(v).trim().replace(" ", "T");
  const ms = Date.parse(HAS_ZONE.test(text) ? text : `${text}Z`);
  if (Number.isNaN(ms)) throw new StorageError(`source "${source.name}": column "${column}" holds "${String(v)}", which is not an ISO-8601 time or epoch milliseconds`);
  return ms;
}
