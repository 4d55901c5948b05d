/**
 * The one way Larder opens DuckDB: native, in-process, never reaching the network
 * (extension auto-install and auto-load off, decision 0001), times in UTC.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { OfflineError } from "../errors.ts";

export type Row = Record<string, unknown>;

export class Duck {
  private constructor(private readonly instance: DuckDBInstance, private readonly conn: DuckDBConnection) {}

  static async open(path = ":memory:"): Promise<Duck> {
    const instance = await DuckDBInstance.create(path, {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
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
      const reader = await this.conn.runAndReadAll(sql, params);
      return reader.getRowObjectsJS().map(toPlain) as T[];
    } catch (err) {
      throw new OfflineError(cleanMessage(err), { cause: err });
    }
  }

  /** Column names and DuckDB types of a query, without running it over data. */
  async describe(sql: string): Promise<{ name: string; type: string }[]> {
    const rows = await this.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

function toPlain(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  return out;
}

/** DuckDB messages start with the error class ("Binder Error: ..."); keep the useful part. */
function cleanMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).replace(/\n+LINE \d+:[\s\S]*$/, "").trim();
}

/** Quotes an identifier that comes from a definition. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** Quotes a string literal that comes from a definition or a file path (never from a request). */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
