/**
 * The one way Larder opens DuckDB: native, in-process, never reaching the network
 * (extension auto-install and auto-load off, decision 0001), times in UTC.
 */
import {
  DOUBLE,
  DuckDBBigIntVector,
  DuckDBDataChunk,
  DuckDBDoubleVector,
  DuckDBInstance,
  DuckDBIntegerVector,
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBValue,
} from "@duckdb/node-api";
import { OfflineError } from "../errors.ts";

export type Row = Record<string, unknown>;

export class Duck {
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /**
   * `threads`: DuckDB's worker threads (default: one per core). Pushes use one: their
   * queries are a few hundred rows, and handing them across threads costs more than it
   * saves (scripts/bench/push-bench.ts shows it).
   */
  static async open(path = ":memory:", opts: { threads?: number } = {}): Promise<Duck> {
    const instance = await DuckDBInstance.create(path, {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      ...(opts.threads ? { threads: String(opts.threads) } : {}),
    });
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    return new Duck(instance, conn);
  }

  /** Runs a statement; `params` are bound ($1, $2, …), never spliced into the SQL. */
  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    try {
      await this.conn.run(sql, params);
    } catch (err) {
      throw new OfflineError(cleanMessage(err), { cause: err });
    }
  }

  /** Rows as plain JS objects (BIGINT → number when safe, timestamps → Date). */
  async all<T extends Row = Row>(sql: string, params?: DuckDBValue[]): Promise<T[]> {
    try {
      return rowsOf(await this.conn.run(sql, params)) as T[];
    } catch (err) {
      throw new OfflineError(cleanMessage(err), { cause: err });
    }
  }

  /**
   * all(), through a prepared statement kept per SQL text: for small queries run again and
   * again with new parameters (pushes), planning is most of the cost.
   */
  async allPrepared<T extends Row = Row>(sql: string, params: DuckDBValue[]): Promise<T[]> {
    return rowsOf(await this.#runPrepared(sql, params)) as T[];
  }

  /**
   * allPrepared()'s result as columns (name → values, converted alike), with no object
   * per row: for pushes, which read every column of hundreds of rows (a row object per
   * row costs more than twice what a column does).
   */
  async columnsPrepared(sql: string, params: DuckDBValue[]): Promise<Columns> {
    return columnsOf(await this.#runPrepared(sql, params));
  }

  async #runPrepared(sql: string, params: DuckDBValue[]): Promise<DuckDBMaterializedResult> {
    try {
      let stmt = this.prepared.get(sql);
      if (!stmt) {
        if (this.prepared.size >= 256) this.prepared.clear();
        this.prepared.set(sql, (stmt = await this.conn.prepare(sql)));
      }
      stmt.bind(params);
      return await stmt.run();
    } catch (err) {
      throw new OfflineError(cleanMessage(err), { cause: err });
    }
  }

  /** Column names and DuckDB types of a query, without running it over data. */
  async describe(sql: string): Promise<{ name: string; type: string }[]> {
    const rows = await this.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  /**
   * Every column of a query whose columns are all DOUBLE, as Float64Arrays (NULL → NaN):
   * the bulk path for JS-side computations over millions of rows.
   */
  async readDoubleColumns(sql: string): Promise<Float64Array[]> {
    let result: DuckDBMaterializedResult;
    try {
      // NULLs become NaN in SQL, so a chunk's raw value buffer is the whole truth.
      // Materialized (not streamed): DuckDB fills it in parallel, and its chunks are then
      // read synchronously, without an async native round trip per 2048 rows.
      result = await this.conn.run(`SELECT coalesce(COLUMNS(*), 'nan'::DOUBLE) FROM (${sql})`);
    } catch (err) {
      throw new OfflineError(cleanMessage(err), { cause: err });
    }
    const columns = Array.from({ length: result.columnCount }, () => new Float64Array(result.rowCount));
    let rows = 0;
    for (let i = 0; i < result.chunkCount; i++) {
      const chunk = result.getChunk(i);
      const n = chunk.rowCount;
      for (let c = 0; c < columns.length; c++) copyDoubles(chunk.getColumnVector(c), n, columns[c]!, rows);
      rows += n;
    }
    return columns;
  }

  /** Creates `table` with DOUBLE columns and fills it from Float64Arrays (NaN → NULL). */
  async writeDoubleColumns(table: string, names: string[], columns: Float64Array[]): Promise<void> {
    await this.run(`CREATE OR REPLACE TEMP TABLE ${ident(table)} (${names.map((n) => `${ident(n)} DOUBLE`).join(", ")})`);
    const appender = await this.conn.createAppender(table);
    const rows = columns[0]?.length ?? 0;
    const size = 2048;
    const types = names.map(() => DOUBLE);
    for (let lo = 0; lo < rows; lo += size) {
      const n = Math.min(size, rows - lo);
      const chunk = DuckDBDataChunk.create(types, n);
      columns.forEach((col, c) => fillDoubles(chunk, c, col.subarray(lo, lo + n)));
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Copies a DOUBLE vector's values. @duckdb/node-api keeps them in a Float64Array it does
 * not expose; copying that in one call is far cheaper than getItem() per value, which is
 * the fallback if a future version stores them differently.
 */
function copyDoubles(vector: { getItem(i: number): unknown }, n: number, target: Float64Array, at: number): void {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array && items.length === n) {
    target.set(items, at);
    return;
  }
  for (let i = 0; i < n; i++) target[at + i] = (vector.getItem(i) as number | null) ?? NaN;
}

/**
 * Fills a DOUBLE column of a chunk (NaN → NULL). Like copyDoubles, it writes the
 * vector's value buffer in one call when that is a Float64Array, then marks the NULLs and
 * flushes; otherwise it goes through the public setColumnValues.
 */
function fillDoubles(chunk: DuckDBDataChunk, column: number, values: Float64Array): void {
  const vector = chunk.getColumnVector(column) as unknown as { items?: unknown; setItem(i: number, v: number | null): void; flush(): void };
  if (vector.items instanceof Float64Array && vector.items.length === values.length) {
    vector.items.set(values);
    for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) vector.setItem(i, null);
    vector.flush();
    return;
  }
  chunk.setColumnValues(
    column,
    Array.from(values, (v) => (Number.isNaN(v) ? null : v)),
  );
}

/**
 * A materialized result's rows as plain objects (BIGINT → number when it is exactly one).
 * Its chunks are read synchronously: one native round trip per query rather than one more
 * per chunk (and one for the end), which small queries feel.
 */
function rowsOf(result: DuckDBMaterializedResult): Row[] {
  const names = result.deduplicatedColumnNames();
  const rows: Row[] = [];
  for (let i = 0; i < result.chunkCount; i++) {
    for (const values of result.getChunk(i).convertRows(JSDuckDBValueConverter)) {
      const row: Row = {};
      for (let c = 0; c < names.length; c++) row[names[c]!] = plain(values[c]);
      rows.push(row);
    }
  }
  return rows;
}

/** A result by column: `rows` values in each, converted as rowsOf converts them. */
export type Columns = { rows: number; columns: Record<string, unknown[]> };

function columnsOf(result: DuckDBMaterializedResult): Columns {
  const names = result.deduplicatedColumnNames();
  const columns = names.map((): unknown[] => []);
  let rows = 0;
  for (let i = 0; i < result.chunkCount; i++) {
    const chunk = result.getChunk(i);
    const n = chunk.rowCount;
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c);
      const out = columns[c]!;
      // Numbers as they are (NULL → null), BIGINTs as rowsOf gives them; anything else
      // through the same converter as rowsOf.
      if (vector instanceof DuckDBDoubleVector || vector instanceof DuckDBIntegerVector) for (let r = 0; r < n; r++) out.push(vector.getItem(r));
      else if (vector instanceof DuckDBBigIntVector) for (let r = 0; r < n; r++) out.push(plain(vector.getItem(r)));
      else for (const v of chunk.convertColumnValues(c, JSDuckDBValueConverter)) out.push(plain(v));
    }
    rows += n;
  }
  return { rows, columns: Object.fromEntries(names.map((name, c) => [name, columns[c]!])) };
}

const plain = (v: unknown): unknown => (typeof v === "bigint" && v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER),
  MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** DuckDB messages start with the error class ("Binder Error: ..."); keep the useful part. */
function cleanMessage(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .replace(/\n+LINE \d+:[\s\S]*$/, "")
    .trim();
}

/** Quotes an identifier that comes from a definition. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** Quotes a string literal that comes from a definition or a file path (never from a request). */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
