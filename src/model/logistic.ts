/**
 * Logistic regression, written for Larder's fraud model: features standardized (missing
 * values imputed with the training mean, so they weigh nothing), an L2 penalty, fitted by
 * Newton's method (iteratively reweighted least squares). A few dozen features converge in
 * a handful of exact steps, deterministically.
 */
import { z } from "zod";

export const LogisticModelSchema = z.object({
  features: z.array(z.string()),
  means: z.array(z.number()),
  scales: z.array(z.number()),
  weights: z.array(z.number()),
  intercept: z.number(),
});
export type LogisticModel = z.infer<typeof LogisticModelSchema>;

export type Matrix = (number | null)[][];

/** A feature value as a model input: numbers as they are, booleans as 1 and 0, anything else missing. */
export const modelInput = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "bigint" ? Number(v) : null);

/** A row of raw values as the model's standardized inputs. */
export function standardize(m: Pick<LogisticModel, "means" | "scales">, row: readonly (number | null)[]): number[] {
  return row.map((v, j) => (v === null || !Number.isFinite(v) ? 0 : (v - m.means[j]!) / m.scales[j]!));
}

export function predict(m: LogisticModel, row: readonly (number | null)[]): number {
  const x = standardize(m, row);
  let z = m.intercept;
  for (let j = 0; j < x.length; j++) z += m.weights[j]! * x[j]!;
  return 1 / (1 + Math.exp(-z));
}

export function fit(features: string[], rows: Matrix, labels: readonly number[], opts: { l2?: number; iterations?: number } = {}): LogisticModel {
  const l2 = opts.l2 ?? 1;
  const d = features.length;
  const means = features.map((_, j) => {
    let s = 0,
      n = 0;
    for (const r of rows)
      if (r[j] !== null && Number.isFinite(r[j]!)) {
        s += r[j]!;
        n++;
      }
    return n ? s / n : 0;
  });
  const scales = features.map((_, j) => {
    let s = 0,
      n = 0;
    for (const r of rows)
      if (r[j] !== null && Number.isFinite(r[j]!)) {
        s += (r[j]! - means[j]!) ** 2;
        n++;
      }
    return n > 1 && s > 0 ? Math.sqrt(s / (n - 1)) : 1;
  });
  const X = rows.map((r) => [1, ...standardize({ means, scales }, r)]);
  let w = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < (opts.iterations ?? 25); it++) {
    // Gradient and Hessian of the penalized negative log-likelihood (no penalty on the intercept).
    const g = new Array<number>(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < X.length; i++) {
      const x = X[i]!;
      let z = 0;
      for (let j = 0; j <= d; j++) z += w[j]! * x[j]!;
      const p = 1 / (1 + Math.exp(-z));
      const r = p - labels[i]!;
      const s = p * (1 - p);
      for (let j = 0; j <= d; j++) {
        g[j]! += r * x[j]!;
        const sx = s * x[j]!;
        const Hj = H[j]!;
        for (let k = j; k <= d; k++) Hj[k]! += sx * x[k]!;
      }
    }
    for (let j = 0; j <= d; j++) for (let k = 0; k < j; k++) H[j]![k] = H[k]![j]!;
    for (let j = 1; j <= d; j++) {
      g[j]! += l2 * w[j]!;
      H[j]![j]! += l2;
    }
    const step = solve(H, g);
    let change = 0;
    w = w.map((v, j) => {
      change = Math.max(change, Math.abs(step[j]!));
      return v - step[j]!;
    });
    if (change < 1e-8) break;
  }
  return { features, means, scales, weights: w.slice(1), intercept: w[0]! };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and symmetric positive definite). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const pivot = M[c]![c]! || 1e-12;
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / pivot;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / (M[r]![r]! || 1e-12);
  }
  return x;
}
