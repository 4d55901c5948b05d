/**
 * Runs the expectations of a batch's source and views over its rows in DuckDB, before
 * anything is written: row rules (and the schema's types and nullability) name failing
 * rows, batch rules judge the batch. Failing an `error` rule fails the batch; its failing
 * rows go to a quarantine Parquet file with the reason per row.
 */
import type { DuckDBValue } from "@duckdb/node-api";
import type { ExpectationDef, Severity } from "../definitions/types.ts";
import { type Duck, literal } from "../offline/duckdb.ts";
import type { FileStore } from "../storage/file-store.ts";
import { batchAggregate, describeRule, isRowRule, rowPredicate, type BatchRule } from "./rule-sql.ts";
import { binCounts, profileColumn, psiOf, type ReferenceProfiles } from "./reference-profile.ts";

/** The expectations of one definition, and how its column names read in the checked rows. */
export type CheckTarget = {
  kind: "source" | "view";
  name: string;
  expectations: ExpectationDef[];
  column: (name: string) => string;
  /** How a column reads in messages: `column "amount"`, `feature "ratio"`. */
  columnLabel: (name: string) => string;
  /** Schema checks (sources): row predicates that are true for a row breaking the declared types. */
  schema?: { predicate: string; reason: string };
};

export type CheckResult = {
  target: string;
  rule: string;
  column: string | null;
  severity: Severity;
  passed: boolean;
  /** Row rules: rows failing. */
  failingRows: number | null;
  /** Batch rules: the number judged (fraction, count, mean, …; fresh: age in ms; psi). */
  observed: number | null;
  /** Some failing values (row rules), at most 5 distinct. */
  sample: unknown[];
  message: string;
};

export type ValidationReport = { passed: boolean; rows: number; checks: CheckResult[]; quarantine: string | null };

export type ValidateOptions = {
  /** A relation holding the rows (a table name or a subquery), with `params` bound. */
  relation: string;
  params?: DuckDBValue[];
  /** SQL of the event time (TIMESTAMP) and of the entity key columns (for uniqueness). */
  ts: string;
  keys: string[];
  targets: CheckTarget[];
  /** False for pushes: a handful of rows has no distribution, count or freshness to judge. */
  batchRules: boolean;
  now: number;
  references: ReferenceProfiles | null;
  /**
   * When this batch's profiles become the PSI references: "first-pass" (a gated write: when
   * it passes and there is none yet), "always" (larder validate --save-reference), "never".
   */
  saveReferences: "first-pass" | "always" | "never";
  /** Where failing rows go when the batch fails: the file store and key of the Parquet file. */
  quarantine: { files: FileStore; key: string } | null;
};

const targetLabel = (t: CheckTarget) => `${t.kind} "${t.name}"`;
const referenceName = (t: CheckTarget) => `${t.kind}-${t.name}`;

type RowCheck = { target: CheckTarget; rule: string; column: string | null; severity: Severity; predicate: string; sampleOf: string | null; needsDup: boolean };

/** Every row rule of the targets (the schema's first) as a predicate true for a failing row. */
function rowChecksOf(targets: CheckTarget[]): RowCheck[] {
  return targets.flatMap((t) => [
    ...(t.schema ? [{ target: t, rule: "schema types", column: null, severity: "error" as const, predicate: t.schema.predicate, sampleOf: t.schema.reason, needsDup: false }] : []),
    ...t.expectations.filter(isRowRule).map((e) => {
      const column = "column" in e ? e.column : null;
      return {
        target: t,
        rule: describeRule(e),
        column,
        severity: e.severity,
        predicate: rowPredicate(e, t.column),
        sampleOf: column === null ? null : `CAST(${t.column(column)} AS VARCHAR)`,
        needsDup: e.rule === "uniqueKeyPerTimestamp",
      };
    }),
  ]);
}

/** The rows to check, with `__dup` (rows sharing an entity key and time) when a check needs it. */
const checkedRowsSql = (o: ValidateOptions, checks: RowCheck[]) =>
  `SELECT *${checks.some((c) => c.needsDup) ? `, count(*) OVER (PARTITION BY ${[...o.keys, o.ts].join(", ")}) AS __dup` : ""} FROM (${o.relation})`;

export type FailingRowSql = { relation: string; predicate: string };

/**
 * The test behind failingRowIds as SQL, for a query that reads other columns too (a push
 * reads its views' columns in the same query): the rows, with every column the rules need,
 * and a predicate true for a row failing an `error` row rule. Null when there is no such rule.
 */
export function failingRowSql(o: ValidateOptions): FailingRowSql | null {
  const checks = rowChecksOf(o.targets).filter((c) => c.severity === "error");
  if (checks.length === 0) return null;
  return { relation: checkedRowsSql(o, checks), predicate: checks.map((c) => `(${c.predicate})`).join(" OR ") };
}

/** Ids (`idColumn`) of the rows that fail (failingRowSql): cheap, one query, nothing written. */
export async function failingRowIds(duck: Duck, failing: FailingRowSql, params: DuckDBValue[], idColumn: string): Promise<number[]> {
  const rows = await duck.allPrepared<{ id: number }>(`SELECT ${idColumn} AS id FROM (${failing.relation}) WHERE ${failing.predicate}`, params);
  return rows.map((r) => Number(r.id));
}

export async function validateBatch(duck: Duck, o: ValidateOptions): Promise<ValidationReport> {
  const rowChecks = rowChecksOf(o.targets);
  const checks: CheckResult[] = [];
  // Bound parameters (pushes) or a window column (uniqueness): computed once into a temp
  // table; otherwise the checks read the rows where they are, through a view (no copy).
  const materialized = rowChecks.some((c) => c.needsDup) || (o.params?.length ?? 0) > 0;
  await duck.run(`CREATE OR REPLACE TEMP ${materialized ? "TABLE" : "VIEW"} __checked AS ${checkedRowsSql(o, rowChecks)}`, o.params);

  // The row count and every row rule's failures in one scan; failing values, where there
  // are failures, in a second (most batches pass, and never pay for it).
  const [r] = await duck.all(`SELECT ${["count(*) AS __rows", ...rowChecks.map((c, i) => `count(*) FILTER (WHERE ${c.predicate}) AS n${i}`)].join(", ")} FROM __checked`);
  const rows = Number(r!.__rows);
  const sampled = rowChecks.map((c, i) => ({ c, i })).filter(({ c, i }) => c.sampleOf && Number(r![`n${i}`]) > 0);
  const [samples] = sampled.length
    ? await duck.all(
        `SELECT ${sampled.map(({ c, i }) => `list(DISTINCT ${c.sampleOf}) FILTER (WHERE ${c.predicate})[1:5] AS s${i}`).join(", ")} FROM __checked WHERE ${sampled.map(({ c }) => `(${c.predicate})`).join(" OR ")}`,
      )
    : [{}];
  rowChecks.forEach((c, i) => {
    const failing = Number(r![`n${i}`] ?? 0);
    const sample = ((samples![`s${i}`] as unknown[] | null | undefined) ?? []).slice(0, 5);
    const where = c.column === null ? "" : ` ${c.target.columnLabel(c.column)}`;
    checks.push({
      target: targetLabel(c.target),
      rule: c.rule,
      column: c.column,
      severity: c.severity,
      passed: failing === 0,
      failingRows: failing,
      observed: null,
      sample,
      message:
        failing === 0
          ? `${targetLabel(c.target)}${where}: ${c.rule} passed`
          : `${targetLabel(c.target)}${where}: ${c.rule} failed for ${failing} of ${rows} rows${sample.length ? ` (${c.column === null ? "" : "values: "}${sample.map((v) => JSON.stringify(v)).join(", ")}${failing > sample.length ? ", …" : ""})` : ""}`,
    });
  });

  if (o.batchRules) {
    const batch = o.targets.flatMap((t) => t.expectations.filter((e): e is BatchRule => !isRowRule(e)).map((e) => ({ t, e })));
    // Every batch rule's number in one scan (PSI reads its bins separately).
    const aggregates = batch.map(({ t, e }, i) => `${batchAggregate(e, t.column, o.ts)} AS b${i}`);
    const [values] = aggregates.length ? await duck.all(`SELECT ${aggregates.join(", ")} FROM __checked`) : [{}];
    for (const [i, { t, e }] of batch.entries()) {
      const v = values![`b${i}`];
      checks.push(await judgeBatchRule(duck, o, t, e, rows, v === null || v === undefined ? null : Number(v)));
    }
  }

  const passed = checks.every((c) => c.passed || c.severity === "warn");
  let quarantine: string | null = null;
  const failingRowRules = rowChecks.filter((c, i) => c.severity === "error" && !checks[i]!.passed);
  if (!passed && o.quarantine && failingRowRules.length) {
    const reasons = rowChecks.map((c) => `CASE WHEN ${c.predicate} THEN ${literal(`${targetLabel(c.target)}: ${c.rule}`)} END`);
    const staged = o.quarantine.files.staging(o.quarantine.key);
    await duck.run(
      `COPY (SELECT COLUMNS(c -> NOT starts_with(c, '__') OR starts_with(c, '__f_')), concat_ws('; ', ${reasons.join(", ")}) AS __reason FROM __checked WHERE ${failingRowRules.map((c) => c.predicate).join(" OR ")}) TO ${literal(staged)} (FORMAT parquet)`,
    );
    quarantine = (await o.quarantine.files.put(o.quarantine.key, staged)).path;
  }
  const save = o.saveReferences === "always" || (o.saveReferences === "first-pass" && passed);
  if (save && o.references) {
    for (const t of o.targets) {
      for (const e of t.expectations) {
        if (e.rule !== "psi" || (o.saveReferences === "first-pass" && (await o.references.load(referenceName(t), e.column)))) continue;
        await o.references.save(referenceName(t), await profileColumn(duck, "__checked", t.column(e.column), e.column, e.bins));
      }
    }
  }
  await duck.run(`DROP ${materialized ? "TABLE" : "VIEW"} __checked`);
  return { passed, rows, checks, quarantine };
}

async function judgeBatchRule(duck: Duck, o: ValidateOptions, t: CheckTarget, e: BatchRule, rows: number, v: number | null): Promise<CheckResult> {
  const column = "column" in e ? e.column : null;
  const base = { target: targetLabel(t), rule: describeRule(e), column, severity: e.severity, failingRows: null, sample: [] as unknown[] };
  const where = column === null ? "" : ` ${t.columnLabel(column)}`;
  const done = (passed: boolean, observed: number | null, detail: string): CheckResult => ({
    ...base,
    passed,
    observed,
    message: `${targetLabel(t)}${where}: ${base.rule} ${passed ? "passed" : "failed"}: ${detail}`,
  });
  if (e.rule === "psi") {
    const ref = o.references ? await o.references.load(referenceName(t), e.column) : null;
    if (!ref) return done(true, null, "no reference profile yet: this batch becomes it if it passes");
    const psi = psiOf(ref.shares, await binCounts(duck, "__checked", t.column(e.column), ref.edges));
    return done(psi <= e.max, psi, `PSI ${psi.toFixed(4)} against the reference of ${ref.savedAt} (max ${e.max})`);
  }
  const within = (x: { min: number | null; max: number | null }) => v !== null && (x.min === null || v >= x.min) && (x.max === null || v <= x.max);
  switch (e.rule) {
    case "maxNullFraction":
      return done((v ?? 0) <= e.fraction, v, `${((v ?? 0) * 100).toFixed(2)}% null (max ${e.fraction * 100}%)`);
    case "rowCount":
      return done(within(e), v, `${rows} rows`);
    case "meanBetween":
      return done(within(e), v, v === null ? "no values" : `mean ${v}`);
    case "stddevBetween":
      return done(within(e), v, v === null ? "fewer than two values" : `stddev ${v}`);
    case "fresh": {
      const age = v === null ? null : o.now - v;
      return done(
        age !== null && age <= e.maxAge,
        age,
        age === null ? "no events" : `newest event ${new Date(v!).toISOString()}, ${(age / 3_600_000).toFixed(1)}h old (max ${e.maxAge / 3_600_000}h)`,
      );
    }
  }
}

/** The failing `error` checks as one message, for the error a blocked write raises. */
export function failureMessage(what: string, report: ValidationReport): string {
  const failed = report.checks.filter((c) => !c.passed && c.severity === "error");
  return [
    `${what}: ${failed.length} expectation${failed.length === 1 ? "" : "s"} failed; nothing was written`,
    ...failed.map((c) => `  ✖ ${c.message}`),
    ...(report.quarantine ? [`  failing rows, with the reason per row: ${report.quarantine}`] : []),
  ].join("\n");
}
