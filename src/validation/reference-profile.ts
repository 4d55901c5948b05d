/**
 * Reference profiles for PSI expectations: a column's quantile bin edges and the share of
 * rows in each bin, kept in the offline file store (`references/<target>/<column>.json`).
 * The first batch that passes becomes the reference; `larder validate --save-reference`
 * replaces it with the batch checked.
 */
import { z } from "zod";
import { readStoredJson, type FileStore } from "../storage/file-store.ts";
import type { Duck } from "../offline/duckdb.ts";
import { psiOfShares } from "../monitoring/drift-math.ts";

const ReferenceProfileSchema = z.object({ column: z.string(), edges: z.array(z.number()), shares: z.array(z.number()), rows: z.number(), savedAt: z.string() });
export type ReferenceProfile = z.infer<typeof ReferenceProfileSchema>;

const key = (target: string, column: string) => `references/${target}/${column}.json`;

export class ReferenceProfiles {
  constructor(readonly files: FileStore) {}

  async load(target: string, column: string): Promise<ReferenceProfile | null> {
    return readStoredJson(
      this.files,
      key(target, column),
      ReferenceProfileSchema,
      "the PSI reference",
      "remove it, then run larder validate --save-reference (or the next batch that passes becomes the reference)",
    );
  }

  async save(target: string, profile: ReferenceProfile): Promise<void> {
    await this.files.writeText(key(target, profile.column), JSON.stringify(profile, null, 2));
  }
}

/** Rows per bin: (-∞, e1), [e1, e2), …, [em, ∞), over the non-null values of `column` (SQL). */
export async function binCounts(duck: Duck, relation: string, column: string, edges: number[]): Promise<number[]> {
  const bins = [
    `count(*) FILTER (WHERE ${column} < ${edges[0] ?? "'infinity'::DOUBLE"})`,
    ...edges.map((e, i) => `count(*) FILTER (WHERE ${column} >= ${e}${i + 1 < edges.length ? ` AND ${column} < ${edges[i + 1]}` : ""})`),
  ];
  const [r] = await duck.all<{ b: number[] }>(`SELECT [${bins.join(", ")}] AS b FROM ${relation} WHERE ${column} IS NOT NULL AND NOT isnan(${column}::DOUBLE)`);
  return (r?.b ?? []).map(Number);
}

/** A new reference from a batch: `bins` quantile bins (fewer when values repeat). */
export async function profileColumn(duck: Duck, relation: string, column: string, name: string, bins: number): Promise<ReferenceProfile> {
  const qs = Array.from({ length: bins - 1 }, (_, i) => (i + 1) / bins);
  const [r] = await duck.all<{ q: number[] | null }>(
    `SELECT quantile_cont(${column}::DOUBLE, [${qs.join(", ")}]) AS q FROM ${relation} WHERE ${column} IS NOT NULL AND NOT isnan(${column}::DOUBLE)`,
  );
  const edges = [...new Set((r?.q ?? []).map(Number))].sort((a, b) => a - b);
  const counts = await binCounts(duck, relation, column, edges);
  const rows = counts.reduce((a, b) => a + b, 0);
  return { column: name, edges, shares: counts.map((c) => c / Math.max(rows, 1)), rows, savedAt: new Date().toISOString() };
}

/** Population stability index of counts against reference shares (empty bins count as 0.0001). */
export function psiOf(reference: number[], counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return psiOfShares(
    reference,
    counts.map((c) => c / total),
  );
}
