/**
 * A source as a DuckDB relation: its schema's columns cast to their declared types,
 * the timestamp as TIMESTAMP. Paths and names come from definitions, never requests.
 */
import { extname, isAbsolute, resolve } from "node:path";
import type { SourceDef, SourceFormat } from "../definitions/types.ts";
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { isS3Url } from "../storage/s3-location.ts";
import { ident, literal } from "./duckdb.ts";

/** A file source's path or glob: relative ones are in the feature repo; s3:// addresses stay as they are. */
export function sourcePath(path: string, repoDir: string): string {
  return isS3Url(path) || isAbsolute(path) ? path : resolve(repoDir, path);
}

const FORMAT_BY_EXTENSION: Record<string, SourceFormat> = {
  ".csv": "csv",
  ".tsv": "csv",
  ".parquet": "parquet",
  ".json": "json",
  ".jsonl": "json",
  ".ndjson": "json",
};

/** The format a file's extension names, if any. */
export const formatOf = (path: string): SourceFormat | undefined => FORMAT_BY_EXTENSION[extname(path).toLowerCase()];

/** DuckDB's reader for files of one format (sources, label tables, pushed files): one path or a list. */
export function readFileSql(format: SourceFormat, path: string | string[]): string {
  const paths = typeof path === "string" ? literal(path) : `[${path.map(literal).join(", ")}]`;
  switch (format) {
    case "csv":
      return `read_csv(${paths}, header = true)`;
    case "parquet":
      return `read_parquet(${paths})`;
    case "json":
      return `read_json_auto(${paths})`;
  }
}

/** How a source's local files are read: as their format says, or Parquet snapshots of a database source. */
const sourceFormat = (source: SourceDef): SourceFormat => (source.kind === "file" ? source.format : "parquet");

const columnType = (source: SourceDef, c: SourceDef["schema"][number]) => (c.name === source.timestampField ? "TIMESTAMP" : DUCKDB_TYPE[c.type]);

/**
 * The typed columns, and `__type_errors`: null for a row that keeps to the declared schema;
 * otherwise what breaks it (a value not of its type, a null where the schema has none),
 * checked as an expectation before anything is written (validation/). The list is only
 * built for rows that break the schema (CASE evaluates its branch for those alone).
 */
function castColumns(source: SourceDef): string {
  const typed = source.schema.map((c) => `TRY_CAST(${ident(c.name)} AS ${columnType(source, c)}) AS ${ident(c.name)}`);
  const bad: string[] = [];
  const problems: string[] = [];
  for (const c of source.schema) {
    const col = ident(c.name);
    const type = c.name === source.timestampField ? "timestamp" : c.type;
    const notOfType = `(${col} IS NOT NULL AND TRY_CAST(${col} AS ${columnType(source, c)}) IS NULL)`;
    bad.push(notOfType);
    problems.push(`CASE WHEN ${notOfType} THEN ${literal(`${c.name}: `)} || CAST(${col} AS VARCHAR) || ${literal(` is not a ${type}`)} END`);
    if (!c.nullable) {
      bad.push(`${col} IS NULL`);
      problems.push(`CASE WHEN ${col} IS NULL THEN ${literal(`${c.name}: null`)} END`);
    }
  }
  return [...typed, `CASE WHEN ${bad.join(" OR ")} THEN list_filter([${problems.join(", ")}], x -> x IS NOT NULL) END AS __type_errors`].join(", ");
}

/**
 * The rows a view computes from, with `__online` (true for pushed rows already applied
 * online): the source's rows (from its local files, if any), then the pushed segments in push order.
 */
export function viewInputSql(source: SourceDef, files: string[], segments: string[]): string {
  const parts: string[] = [];
  if (files.length) parts.push(`SELECT ${castColumns(source)}, false AS __online FROM ${readFileSql(sourceFormat(source), files)}`);
  if (segments.length)
    parts.push(`SELECT ${source.schema.map((c) => ident(c.name)).join(", ")}, NULL::VARCHAR[] AS __type_errors, __online FROM read_parquet([${segments.map(literal).join(", ")}])`);
  if (parts.length === 0) parts.push(`SELECT *, NULL::VARCHAR[] AS __type_errors, false AS __online FROM (${emptySourceSql(source)})`);
  return parts.join(" UNION ALL ");
}

/** An empty relation with the source's declared columns: checks expressions with no data present. */
export function emptySourceSql(source: SourceDef): string {
  return `SELECT ${source.schema.map((c) => `CAST(NULL AS ${columnType(source, c)}) AS ${ident(c.name)}`).join(", ")} LIMIT 0`;
}

const jsonRelations = new WeakMap<SourceDef, string>();

/**
 * Rows given as one JSON array in parameter $1 (timestamps as epoch ms) as a relation with
 * the source's typed columns and `__i` (a row's position, when the rows carry it). Pushes
 * and database pulls read their rows through it; a bound parameter, never SQL built from values.
 */
export function jsonRowsSql(source: SourceDef): string {
  let sql = jsonRelations.get(source);
  if (sql) return sql;
  const isTime = (c: SourceDef["schema"][number]) => c.type === "timestamp" || c.name === source.timestampField;
  const structure = JSON.stringify([{ ...Object.fromEntries(source.schema.map((c) => [c.name, isTime(c) ? "BIGINT" : DUCKDB_TYPE[c.type]])), __i: "BIGINT" }]);
  const columns = source.schema.map((c) => (isTime(c) ? `make_timestamp(${ident(c.name)} * 1000) AS ${ident(c.name)}` : ident(c.name)));
  // $1 typed explicitly: an untyped parameter makes DuckDB re-plan the prepared statement on every run.
  sql = `SELECT ${columns.join(", ")}, __i FROM (SELECT unnest(from_json($1::VARCHAR, ${literal(structure)}), recursive := true))`;
  jsonRelations.set(source, sql);
  return sql;
}
