/**
 * A Great Expectations suite's JSON as a source's expectations (greatExpectations()), and
 * the real `great_expectations` (1.x, from PyPI in .venvs/gx) on the same CSV and suite:
 * Larder's verdict on every expectation, and its unexpected counts and observed values,
 * equal GE's. Types Larder does not check are refused by name.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { greatExpectations } from "../src/definitions/great-expectations.ts";
import { Random } from "../src/demo/random.ts";
import { describeRule } from "../src/validation/rule-sql.ts";
import type { ExpectationDef } from "../src/definitions/types.ts";
import { SKIP } from "./helpers/needs.ts";
import { tempRepo } from "./helpers/temp-repo.ts";
import { pythonJson } from "./helpers/run-python.ts";

const GX_PYTHON = resolve(import.meta.dir, "../.venvs/gx/bin/python");

// Rows with nulls, values out of range and out of the set: every kind of expectation both fails and passes.
const rnd = new Random(11);
const lines = Array.from({ length: 240 }, (_, i) => {
  const amount = rnd.chance(0.07) ? "" : String(Math.round((rnd.next() * 1150 - 50) * 100) / 100);
  const category = rnd.chance(0.05) ? "z" : rnd.pick(["a", "b", "c"]);
  return `${1 + (i % 20)},2026-01-${String(1 + Math.floor(i / 24)).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:00:00Z,${amount},${category}`;
});
const SUITE = {
  name: "events_suite",
  expectations: [
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "amount" } },
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "amount", mostly: 0.9 } },
    { type: "expect_column_values_to_not_be_null", kwargs: { column: "amount", mostly: 0.97 } },
    { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0, max_value: 1000 } },
    { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: -100 } },
    { type: "expect_column_values_to_be_in_set", kwargs: { column: "category", value_set: ["a", "b", "c"] } },
    { type: "expect_column_values_to_be_in_set", kwargs: { column: "category", value_set: ["a", "b", "c", "z"] } },
    { type: "expect_table_row_count_to_be_between", kwargs: { min_value: 100, max_value: 300 } },
    { type: "expect_table_row_count_to_equal", kwargs: { value: 150 } },
    { type: "expect_column_mean_to_be_between", kwargs: { column: "amount", min_value: 400, max_value: 700 } },
    { type: "expect_column_stdev_to_be_between", kwargs: { column: "amount", min_value: 0, max_value: 100 } },
  ],
};
const r = tempRepo(
  {
    "suite.json": JSON.stringify(SUITE, null, 2),
    "data/events.csv": `user_id,ts,amount,category\n${lines.join("\n")}\n`,
    "features/stats.ts": `
import { entity, fileSource, featureView, greatExpectations, sql } from "larder";
import { z } from "zod";
import suite from "../suite.json" with { type: "json" };
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const events = fileSource({
  name: "events", path: "data/events.csv", timestampField: "ts",
  schema: z.object({ user_id: z.int(), ts: z.date(), amount: z.number().nullable(), category: z.string() }),
  expectations: greatExpectations(suite),
});
export const stats = featureView({ name: "user_stats", entity: user, source: events, features: { amount: sql("amount") } });
`,
  },
  { schedules: "off" },
);
afterAll(() => r.cleanup());

type GxResult = { type: string; kwargs: Record<string, unknown>; success: boolean; unexpected_count: number | null; observed_value: number | null };

test.skipIf(SKIP.gx)(
  "Larder's verdicts on a Great Expectations suite equal Great Expectations' own",
  async () => {
    if (!existsSync(GX_PYTHON))
      throw new Error("Great Expectations is not installed: CI must make .venvs/gx (python3 -m venv .venvs/gx && .venvs/gx/bin/pip install great_expectations)");
    await r.larder.apply();
    const [validation] = await r.larder.validate();
    const checks = validation!.report.checks.filter((c) => c.target === 'source "events"');
    const rows = validation!.report.rows;

    const gx = await pythonJson<GxResult[]>(GX_PYTHON, "gx_validate.py", [join(r.dir, "data/events.csv"), join(r.dir, "suite.json")], "great_expectations");
    expect(gx.length).toBe(SUITE.expectations.length);

    const compared = gx.map((g) => {
      // GE answers in its own order: each result is matched to Larder's check by the rule it reads as.
      const rule = greatExpectations({ expectations: [{ type: g.type, kwargs: g.kwargs }] })[0] as ExpectationDef;
      // As the registry normalizes it: an absent bound is null.
      const check = checks.find((c) => c.rule === describeRule({ min: null, max: null, ...rule } as ExpectationDef));
      if (!check) throw new Error(`no Larder check for ${g.type} ${JSON.stringify(g.kwargs)}`);
      const larderUnexpected = check.failingRows ?? (rule.rule === "maxNullFraction" ? Math.round(check.observed! * rows) : null);
      return {
        expectation: `${g.type} ${JSON.stringify(g.kwargs)}`,
        larder: { passed: check.passed, unexpected: larderUnexpected, observed: g.observed_value === null ? null : Number(check.observed!.toPrecision(12)) },
        gx: { passed: g.success, unexpected: g.unexpected_count, observed: g.observed_value === null ? null : Number(g.observed_value.toPrecision(12)) },
      };
    });
    for (const c of compared) expect({ expectation: c.expectation, ...c.larder }).toEqual({ expectation: c.expectation, ...c.gx });
    // Both verdicts occur: the suite tests failing and passing of each kind.
    expect(new Set(compared.map((c) => c.larder.passed))).toEqual(new Set([true, false]));
  },
  120_000,
);

test("expectation types and options Larder cannot check are refused by name", () => {
  expect(() =>
    greatExpectations({
      name: "s",
      expectations: [
        { type: "expect_column_values_to_match_regex", kwargs: { column: "c", regex: "^a" } },
        { type: "expect_column_values_to_be_between", kwargs: { column: "amount", min_value: 0, strict_min: true } },
        { expectation_type: "expect_column_values_to_be_in_set", kwargs: { column: "c", value_set: ["a"], mostly: 0.5 } },
        { type: "expect_column_values_to_not_be_null", kwargs: { column: "amount" } },
      ],
    }),
  ).toThrow(
    [
      "3 problems in feature definitions:",
      '"Great Expectations suite s": expectation 0 (expect_column_values_to_match_regex): Larder does not check this type; it checks expect_column_values_to_not_be_null, expect_column_values_to_be_between, expect_column_values_to_be_in_set, expect_table_row_count_to_be_between, expect_table_row_count_to_equal, expect_column_mean_to_be_between, expect_column_stdev_to_be_between',
      '"Great Expectations suite s": expectation 1 (expect_column_values_to_be_between): strict_min/strict_max (Larder\'s bounds are inclusive)',
      '"Great Expectations suite s": expectation 2 (expect_column_values_to_be_in_set): mostly 0.5 (Larder\'s row rules pass only when every row does)',
    ].join("\n"),
  );
  // GE 0.x suites (expectation_suite_name, expectation_type) read the same.
  expect(
    greatExpectations({ expectation_suite_name: "old", expectations: [{ expectation_type: "expect_table_row_count_to_equal", kwargs: { value: 3 } }] }, { severity: "warn" }),
  ).toEqual([{ rule: "rowCount", min: 3, max: 3, severity: "warn" }]);
  expect(() => greatExpectations("not a suite")).toThrow("a Great Expectations suite is an object with an `expectations` list");
});
