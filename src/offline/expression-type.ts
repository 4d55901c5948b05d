/** The DuckDB type of a view's `sql` feature, found when its definitions were checked (VARCHAR for a name that is none). */
import type { ResolvedView } from "../registry/registry.ts";

export function expressionType(v: ResolvedView, name: string): string {
  const f = v.def.features.find((x) => x.name === name);
  return f?.kind === "expression" ? f.type : "VARCHAR";
}
