/**
 * What a view's batch is checked against: its source's schema and expectations over the
 * source's columns, and the view's expectations over those columns and its sql features
 * (computed as `__f_<name>`, so a feature named like a column is told apart).
 */
import type { DuckDBValue } from "@duckdb/node-api";
import type { ExpectationDef, SourceDef } from "../definitions/types.ts";
import type { ResolvedView } from "../registry/registry.ts";
import { isRowRule } from "./rule-sql.ts";
import { ident } from "../offline/duckdb.ts";
import type { OfflineContext } from "../offline/offline-context.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { ReferenceProfiles } from "./reference-profile.ts";
import type { CheckTarget, ValidateOptions } from "./validate-batch.ts";

const sourceTarget = (source: SourceDef, schema: boolean): CheckTarget => ({
  kind: "source",
  name: source.name,
  expectations: source.expectations ?? [],
  column: ident,
  columnLabel: (c) => `column "${c}"`,
  ...(schema ? { schema: { predicate: "__type_errors IS NOT NULL", reason: "array_to_string(__type_errors, '; ')" } } : {}),
});

/** A view's target, its sql features computed as `<prefix><name>` columns. */
function viewTarget(v: ResolvedView, prefix: string): { target: CheckTarget; computed: string[] } {
  const features = viewLayout(v.def).expressions;
  const names = new Set(features.map((e) => e.name));
  return {
    target: {
      kind: "view",
      name: v.def.name,
      expectations: v.def.expectations ?? [],
      column: (c) => (names.has(c) ? ident(`${prefix}${c}`) : ident(c)),
      columnLabel: (c) => (names.has(c) ? `feature "${c}"` : `column "${c}"`),
    },
    computed: features.map((e) => `(${e.sql}) AS ${ident(`${prefix}${e.name}`)}`),
  };
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, "-");

/** Checks of the rows in temp table `__source` (see offline-table.ts); failing rows go to `quarantine/<view>/`. */
export function viewBatchChecks(v: ResolvedView, ctx: OfflineContext): ValidateOptions {
  const { target, computed } = viewTarget(v, "__f_");
  return {
    relation: `SELECT *${computed.length ? `, ${computed.join(", ")}` : ""} FROM __source`,
    ts: ident(v.source.timestampField),
    keys: v.entity.joinKeys.map((k) => ident(k.name)),
    targets: [sourceTarget(v.source, true), target],
    batchRules: true,
    now: Date.now(),
    references: new ReferenceProfiles(ctx.files),
    saveReferences: "first-pass",
    quarantine: { files: ctx.files, key: `quarantine/${v.def.name}/${v.version}-${stamp()}.parquet` },
  };
}

/**
 * Checks of one push's rows (`relation` over bound `params`): the row rules of its batch
 * source and of every view over the push source (types were checked as rows were read).
 * Null when there are none: most pushes need no DuckDB round trip for this.
 */
export function pushChecks(source: SourceDef, views: ResolvedView[], pushSource: string, relation: string, params: DuckDBValue[], ctx: OfflineContext): ValidateOptions | null {
  const hasRowRules = (list: ExpectationDef[] | undefined) => (list ?? []).some(isRowRule);
  if (!hasRowRules(source.expectations) && !views.some((v) => hasRowRules(v.def.expectations))) return null;
  const targets: CheckTarget[] = [sourceTarget(source, false)];
  const computed: string[] = [];
  views.forEach((v, j) => {
    const t = viewTarget(v, `__f_${j}_`);
    targets.push(t.target);
    computed.push(...t.computed);
  });
  return {
    relation: `SELECT *${computed.length ? `, ${computed.join(", ")}` : ""} FROM (${relation})`,
    params,
    ts: ident(source.timestampField),
    keys: views[0]?.entity.joinKeys.map((k) => ident(k.name)) ?? [],
    targets,
    batchRules: false,
    now: Date.now(),
    references: null,
    saveReferences: "never",
    quarantine: { files: ctx.files, key: `quarantine/${pushSource}/push-${stamp()}-${process.pid}.parquet` },
  };
}
