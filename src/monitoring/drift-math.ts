/**
 * Drift between a reference distribution and a current one, from samples of values:
 * - PSI over the reference's deciles (empty bins count as 0.0001), or over its categories;
 * - KS: the largest gap between the two empirical CDFs (numbers only).
 */
const EPS = 1e-4;

/** PSI of current shares against reference shares, bin by bin (empty bins count as EPS). */
export const psiOfShares = (ref: readonly number[], cur: readonly number[]) =>
  ref.reduce((sum, r, i) => {
    const a = Math.max(cur[i]!, EPS),
      e = Math.max(r, EPS);
    return sum + (a - e) * Math.log(a / e);
  }, 0);

/** Shares of `xs` in the bins (-∞, e1), [e1, e2), …, [em, ∞). */
function shares(xs: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of xs) {
    let i = 0;
    while (i < edges.length && x >= edges[i]!) i++;
    counts[i]!++;
  }
  return counts.map((c) => c / Math.max(xs.length, 1));
}

export function numericPsi(reference: readonly number[], current: readonly number[], bins = 10): number {
  const sorted = [...reference].sort((a, b) => a - b);
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / bins)]!))].sort((a, b) => a - b);
  return psiOfShares(shares(sorted, edges), shares(current, edges));
}

export function categoricalPsi(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): number {
  const cats = [...reference.keys()];
  const total = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) || 1;
  const rt = total(reference),
    ct = total(current);
  const other = (m: ReadonlyMap<string, number>, t: number) => [...m].filter(([k]) => !reference.has(k)).reduce((a, [, v]) => a + v, 0) / t;
  return psiOfShares([...cats.map((c) => reference.get(c)! / rt), 0], [...cats.map((c) => (current.get(c) ?? 0) / ct), other(current, ct)]);
}

/** Two-sample Kolmogorov–Smirnov statistic. */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q),
    y = [...b].sort((p, q) => p - q);
  let i = 0,
    j = 0,
    d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}
