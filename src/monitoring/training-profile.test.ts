import { expect, test } from "bun:test";
import { KEPT_VALUES } from "./feature-profile.ts";
import { Duck } from "../offline/duckdb.ts";
import { profileTrainingSet } from "./training-profile.ts";

const duck = await Duck.open();
const ref = (feature: string) => ({ view: "v", feature });

/** What the profile must keep, by plain loops: up to KEPT_VALUES evenly spaced sorted values. */
function expectedSample(values: (number | null)[]): number[] {
  const xs = values.filter((v): v is number => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length <= KEPT_VALUES) return xs;
  return Array.from({ length: KEPT_VALUES }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (KEPT_VALUES - 1))]!);
}

test("a training set's numeric profile keeps the materialization profile's sample: evenly spaced order statistics, nulls and NaN left out", async () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  // Many rows (more than the sample keeps), few rows, only nulls.
  const many = Array.from({ length: 5_003 }, (_, i) => (i % 17 === 0 ? null : i % 101 === 0 ? NaN : Math.round(rand() * 1e6) / 100));
  const few = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? null : i * 1.5));
  const rows = many.map((m, i) => ({ many: m, few: i < few.length ? few[i]! : null, none: null }));
  await duck.run("CREATE OR REPLACE TABLE t (many DOUBLE, few DOUBLE, none DOUBLE)");
  await duck.run("INSERT INTO t SELECT unnest(many), unnest(few), unnest(none) FROM (SELECT ?::DOUBLE[] AS many, ?::DOUBLE[] AS few, ?::DOUBLE[] AS none)", [
    JSON.stringify(rows.map((r) => (r.many === null ? null : Number.isNaN(r.many) ? "NaN" : r.many))),
    JSON.stringify(rows.map((r) => r.few)),
    JSON.stringify(rows.map(() => null)),
  ]);
  const profile = await profileTrainingSet(
    duck,
    "t",
    [
      { column: "many", ref: ref("many") },
      { column: "few", ref: ref("few") },
      { column: "none", ref: ref("none") },
    ],
    "run-1",
  );
  const [many_, few_, none_] = profile.features;
  expect(many_!.kind === "numeric" && many_!.sample).toEqual(expectedSample(rows.map((r) => r.many)));
  expect(many_!.kind === "numeric" && many_!.sample?.length).toBe(KEPT_VALUES);
  expect(few_!.kind === "numeric" && few_!.sample).toEqual(expectedSample(few));
  expect(few_).toMatchObject({ nulls: 5_003 - 26, quantiles: { p0: 1.5, p100: 57 } });
  expect(none_).toMatchObject({ kind: "numeric", nulls: 5_003, mean: null, sample: [], quantiles: {} });
});
