/**
 * Feast's ValueType of each Larder feature: what Feast's SDK decodes an answer by and what
 * Feast's UI shows. Windowed aggregations are computed in doubles (a count is whole);
 * expression features have the DuckDB type their SQL gives; on-demand outputs their zod type.
 */
import type { ColumnType, FeatureDef } from "../../definitions/types.ts";
import type { Registry } from "../../registry/registry.ts";

export type FeastValueType = "INT32" | "INT64" | "DOUBLE" | "FLOAT" | "STRING" | "BOOL" | "UNIX_TIMESTAMP" | "BYTES" | `${string}_LIST` | "INVALID";

const SCALAR: [RegExp, FeastValueType][] = [
  [/^(BIGINT|HUGEINT|UBIGINT|UINTEGER|INT8|LONG)$/, "INT64"],
  [/^(INTEGER|SMALLINT|TINYINT|USMALLINT|UTINYINT|INT4|INT2|INT)$/, "INT32"],
  [/^(DOUBLE|FLOAT8|DECIMAL(\(.*\))?|NUMERIC)$/, "DOUBLE"],
  [/^(FLOAT|REAL|FLOAT4)$/, "FLOAT"],
  [/^(VARCHAR|TEXT|STRING|UUID)$/, "STRING"],
  [/^(BOOLEAN|BOOL)$/, "BOOL"],
  [/^(TIMESTAMP.*|DATE)$/, "UNIX_TIMESTAMP"],
  [/^(BLOB|BYTEA)$/, "BYTES"],
];

/** A DuckDB type as Feast's ValueType: `DOUBLE[]` is DOUBLE_LIST; a type Feast has no name for is INVALID. */
export function valueTypeOfDuckDb(type: string): FeastValueType {
  const t = type.trim().toUpperCase();
  const list = /^(.*)\[\]$/.exec(t);
  if (list) {
    const inner = valueTypeOfDuckDb(list[1]!);
    return inner === "INVALID" || inner.endsWith("_LIST") ? "INVALID" : `${inner}_LIST`;
  }
  return SCALAR.find(([re]) => re.test(t))?.[1] ?? "INVALID";
}

const COLUMN: Record<ColumnType, FeastValueType> = { int64: "INT64", float64: "DOUBLE", string: "STRING", bool: "BOOL", timestamp: "UNIX_TIMESTAMP" };

export const valueTypeOfColumn = (type: ColumnType): FeastValueType => COLUMN[type];

export function valueTypeOfFeature(f: FeatureDef): FeastValueType {
  if (f.kind === "expression") return valueTypeOfDuckDb(f.type);
  return f.function === "count" ? "INT64" : "DOUBLE";
}

/** The ValueType of `view:feature`, stored or on-demand (INVALID when it names nothing). */
export function valueTypeOf(registry: Registry, view: string, feature: string): FeastValueType {
  const onDemand = registry.onDemandView(view);
  if (onDemand) {
    const out = onDemand.output.find((c) => c.name === feature);
    return out ? valueTypeOfColumn(out.type) : "INVALID";
  }
  const f = registry.view(view).def.features.find((x) => x.name === feature);
  return f ? valueTypeOfFeature(f) : "INVALID";
}
