/**
 * A source as a DuckDB relation: its schema's columns cast to their declared types,
 * the timestamp as TIMESTAMP. Paths and names come from definitions, never requests.
 */
import { extname, isAbsolute, resolve } from "node:path";
import type { SourceDef, SourceFormat } from "../definitions/types.ts";
import { DUCKDB_TYPE } from "../definitions/zod-columns.ts";
import { ident, literal } from "./duckdb.ts";

export function sourcePath(source: SourceDef, repoDir: string): string {
  return isAbsolute(source.path) ? source.path : resolve(repoDir, source.path);
}

const FORMAT_BY_EXTENSION: Record<string, SourceFormat> = {
  ".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json",
};

/** The format a file's extension names, if any. */
export const formatOf = (path: string): SourceFormat | undefined => FORMAT_BY_EXTENSION[extname(path).toLowerCase()];

/** DuckDB's reader for a file of this format (sources, label tables, pushed files). */
export function readFileSql(format: SourceFormat, path: string): string {
  switch (format) {
    case "csv": return `read_csv(${literal(path)}, header = true)`;
    case "parquet": return `read_parquet(${literal(path)})`;
    case "json": return `read_json_auto(${literal(path)})`;
  }
}

const readFunction = (source: SourceDef, path: string) => readFileSql(source.format, path);

function castColumns(source: SourceDef): string {
  return source.schema
    .map((c) => {
      const type = c.name === source.timestampField ? "TIMESTAMP" : DUCKDB_TYPE[c.type];
      return `CAST(${ident(c.name)} AS ${type}) AS ${ident(c.name)}`;
    })
    .join(", ");
}

/** `SELECT <typed columns> FROM read_*(path)`: the source's rows in file order. */
export function sourceSelectSql(source: SourceDef, repoDir: string): string {
  return `SELECT ${castColumns(source)} FROM ${readFunction(source, sourcePath(source, repoDir))}`;
}

/**
 * The rows a view computes from, with `__online` (true for pushed rows already applied
 * online): the file source's rows, if it has files, then the pushed segments in push order.
 */
export function viewInputSql(source: SourceDef, repoDir: string, hasFiles: boolean, segments: string[]): string {
  const parts: string[] = [];
  if (hasFiles) parts.push(`SELECT ${castColumns(source)}, false AS __online FROM ${readFunction(source, sourcePath(source, repoDir))}`);
  if (segments.length) parts.push(`SELECT ${source.schema.map((c) => ident(c.name)).join(", ")}, __online FROM read_parquet([${segments.map(literal).join(", ")}])`);
  if (parts.length === 0) parts.push(`SELECT *, false AS __online FROM (${emptySourceSql(source)})`);
  return parts.join(" UNION ALL ");
}

/** An empty relation with the source's declared columns: checks expressions with no data present. */
export function emptySourceSql(source: SourceDef): string {
  const cols = source.schema
    .map((c) => `CAST(NULL AS ${c.name === source.timestampField ? "TIMESTAMP" : DUCKDB_TYPE[c.type]}) AS ${ident(c.name)}`)
    .join(", ");
  return `SELECT ${cols} LIMIT 0`;
}
