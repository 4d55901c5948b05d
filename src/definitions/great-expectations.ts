/**
 * A Great Expectations expectation suite (its JSON, GE 1.x or 0.x) as Larder expectations,
 * so a team keeps its suites:
 *
 *   import suite from "../expectations/transactions.json" with { type: "json" };
 *   fileSource({ …, expectations: greatExpectations(suite) })
 *
 * The expectation types Larder checks, and how (every other type is refused, by name):
 *
 * | Great Expectations | Larder |
 * | --- | --- |
 * | expect_column_values_to_not_be_null | notNull; with `mostly` < 1, maxNullFraction(1 − mostly) |
 * | expect_column_values_to_be_between | between (inclusive bounds; nulls pass) |
 * | expect_column_values_to_be_in_set | allowedValues (nulls pass) |
 * | expect_table_row_count_to_be_between | rowCount |
 * | expect_table_row_count_to_equal | rowCount with min = max |
 * | expect_column_mean_to_be_between | meanBetween |
 * | expect_column_stdev_to_be_between | stddevBetween (sample standard deviation, as GE's) |
 *
 * `mostly` < 1 is refused except on not-null (Larder's row rules pass only when every row
 * does), and so are `strict_min`/`strict_max` (Larder's bounds are inclusive).
 */
import { DefinitionError } from "../errors.ts";
import type { ExpectationInput } from "./specs.ts";

type Kwargs = Record<string, unknown>;
type Converter = (k: Kwargs) => ExpectationInput | string;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const range = (k: Kwargs) => ({ ...(num(k.min_value) !== undefined ? { min: num(k.min_value) } : {}), ...(num(k.max_value) !== undefined ? { max: num(k.max_value) } : {}) });
const column = (k: Kwargs) => (typeof k.column === "string" && k.column ? k.column : null);
const mostly = (k: Kwargs) => (k.mostly === undefined || k.mostly === null ? 1 : Number(k.mostly));

/** What Larder cannot check exactly in a supported type, or null. */
function unsupportedOptions(k: Kwargs, allowMostly = false): string | null {
  if (k.strict_min === true || k.strict_max === true) return "strict_min/strict_max (Larder's bounds are inclusive)";
  if (!allowMostly && mostly(k) < 1) return `mostly ${k.mostly} (Larder's row rules pass only when every row does)`;
  for (const bound of ["min_value", "max_value"])
    if (k[bound] !== undefined && k[bound] !== null && num(k[bound]) === undefined) return `${bound} ${JSON.stringify(k[bound])} (a number is needed)`;
  return null;
}

const CONVERTERS: Record<string, Converter> = {
  expect_column_values_to_not_be_null: (k) => {
    const c = column(k);
    if (!c) return "no column";
    const m = mostly(k);
    if (!(m >= 0 && m <= 1)) return `mostly ${k.mostly} (between 0 and 1)`;
    return m < 1 ? { rule: "maxNullFraction", column: c, fraction: Number((1 - m).toPrecision(12)) } : { rule: "notNull", column: c };
  },
  expect_column_values_to_be_between: (k) => (column(k) ? (unsupportedOptions(k) ?? { rule: "between", column: column(k)!, ...range(k) }) : "no column"),
  expect_column_values_to_be_in_set: (k) => {
    const c = column(k);
    if (!c) return "no column";
    const problem = unsupportedOptions(k);
    if (problem) return problem;
    const set = k.value_set;
    if (!Array.isArray(set) || set.length === 0 || !set.every((v) => ["string", "number", "boolean"].includes(typeof v)))
      return "value_set must be a list of strings, numbers or booleans";
    return { rule: "allowedValues", column: c, values: set as (string | number | boolean)[] };
  },
  expect_table_row_count_to_be_between: (k) => unsupportedOptions(k) ?? { rule: "rowCount", ...range(k) },
  expect_table_row_count_to_equal: (k) => (num(k.value) === undefined ? "value must be a number" : { rule: "rowCount", min: num(k.value), max: num(k.value) }),
  expect_column_mean_to_be_between: (k) => (column(k) ? (unsupportedOptions(k) ?? { rule: "meanBetween", column: column(k)!, ...range(k) }) : "no column"),
  expect_column_stdev_to_be_between: (k) => (column(k) ? (unsupportedOptions(k) ?? { rule: "stddevBetween", column: column(k)!, ...range(k) }) : "no column"),
};

/** The expectation types Larder reads from a suite. */
export const GREAT_EXPECTATIONS_TYPES = Object.keys(CONVERTERS);

/**
 * A suite's expectations as Larder's (`severity` for all of them: "error" blocks the write,
 * "warn" records). Throws a DefinitionError naming every expectation it cannot take.
 */
export function greatExpectations(suite: unknown, o: { severity?: "error" | "warn" } = {}): ExpectationInput[] {
  const s = suite as { name?: unknown; expectation_suite_name?: unknown; expectations?: unknown };
  const name = String(s?.name ?? s?.expectation_suite_name ?? "suite");
  if (typeof suite !== "object" || suite === null || !Array.isArray(s.expectations))
    throw new DefinitionError([{ definition: name, message: "a Great Expectations suite is an object with an `expectations` list (the suite's JSON)" }]);
  const out: ExpectationInput[] = [];
  const problems: string[] = [];
  s.expectations.forEach((e: { type?: unknown; expectation_type?: unknown; kwargs?: unknown }, i) => {
    const type = String(e?.type ?? e?.expectation_type ?? "");
    const convert = CONVERTERS[type];
    if (!convert) {
      problems.push(`expectation ${i} (${type || "no type"}): Larder does not check this type; it checks ${GREAT_EXPECTATIONS_TYPES.join(", ")}`);
      return;
    }
    const r = convert((e.kwargs ?? {}) as Kwargs);
    if (typeof r === "string") problems.push(`expectation ${i} (${type}): ${r}`);
    else out.push(o.severity ? { ...r, severity: o.severity } : r);
  });
  if (problems.length) throw new DefinitionError(problems.map((message) => ({ definition: `Great Expectations suite ${name}`, message })));
  return out;
}
