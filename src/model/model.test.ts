import { expect, test } from "bun:test";
import { Random } from "../demo/random.ts";
import { auc, precisionRecall } from "./evaluate.ts";
import { fit, predict } from "./logistic.ts";

test("AUC: 1 when every positive outranks every negative, 0 reversed, 0.5 for ties; precision and recall count", () => {
  expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
  expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
  expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  expect(precisionRecall([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.35)).toEqual({ precision: 2 / 3, recall: 1, flagged: 3 });
});

test("logistic regression recovers a known relation; missing inputs weigh nothing", () => {
  const rnd = new Random(7);
  const rows: (number | null)[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const a = rnd.normal(),
      b = rnd.normal();
    const p = 1 / (1 + Math.exp(-(2 * a - 1 * b + 0.5)));
    rows.push([a, b, rnd.normal()]);
    labels.push(rnd.next() < p ? 1 : 0);
  }
  const m = fit(["a", "b", "noise"], rows, labels, { l2: 0.01 });
  // Weights are per standard deviation; the inputs are standard normal, so they are the true ones.
  expect(m.weights[0]!).toBeCloseTo(2, 0);
  expect(m.weights[1]!).toBeCloseTo(-1, 0);
  expect(Math.abs(m.weights[2]!)).toBeLessThan(0.15);
  expect(m.intercept).toBeCloseTo(0.5, 0);
  expect(
    auc(
      rows.map((r) => predict(m, r)),
      labels,
    ),
  ).toBeGreaterThan(0.8);
  // A missing value is the training mean: the same as passing the mean.
  expect(predict(m, [null, 0.3, 0])).toBeCloseTo(predict(m, [m.means[0]!, 0.3, 0]), 12);
});
