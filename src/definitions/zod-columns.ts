/** Reads a source's zod object schema as column names and Larder column types. */
import type { z } from "zod";
import type { ColumnType } from "./types.ts";

type Def = { type: string; innerType?: z.ZodType; format?: string; checks?: unknown[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

export type ColumnReadResult = { column?: { type: ColumnType; nullable: boolean }; problem?: string };

export function zodToColumn(schema: z.ZodType): ColumnReadResult {
  let nullable = false;
  let def = defOf(schema);
  while (def.type === "optional" || def.type === "nullable" || def.type === "default") {
    nullable = true;
    def = defOf(def.innerType!);
  }
  const type = mapType(def, schema);
  if (!type) return { problem: `zod type "${def.type}" has no column type: use z.string(), z.enum([...]), z.number(), z.int(), z.bigint(), z.boolean() or z.date()` };
  return { column: { type, nullable } };
}

function mapType(def: Def, schema: z.ZodType): ColumnType | undefined {
  switch (def.type) {
    case "string":
      return "string";
    // z.enum(["web", "pos"]): text restricted to those values (zod checks them).
    case "enum":
      return "string";
    case "boolean":
      return "bool";
    case "date":
      return "timestamp";
    case "bigint":
      return "int64";
    case "number": {
      // z.int() and z.number().int() carry an integer format.
      const format = def.format ?? (schema as unknown as { format?: string | null }).format;
      return format && /int/.test(format) ? "int64" : "float64";
    }
    default:
      return undefined;
  }
}

export const DUCKDB_TYPE: Record<ColumnType, string> = {
  int64: "BIGINT",
  float64: "DOUBLE",
  string: "VARCHAR",
  bool: "BOOLEAN",
  timestamp: "TIMESTAMP",
};
