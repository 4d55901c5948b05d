/** How good a score is: ROC AUC (ties counted half), and precision and recall at a threshold. */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => ({ s, y: labels[i]! })).sort((a, b) => a.s - b.s);
  let rankSum = 0,
    pos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]!.s === order[i]!.s) j++;
    const rank = (i + 1 + j) / 2; // average rank of a tie group
    for (let k = i; k < j; k++)
      if (order[k]!.y === 1) {
        rankSum += rank;
        pos++;
      }
    i = j;
  }
  const neg = order.length - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : NaN;
}

export function precisionRecall(scores: readonly number[], labels: readonly number[], threshold: number): { precision: number; recall: number; flagged: number } {
  let tp = 0,
    fp = 0,
    fn = 0;
  scores.forEach((s, i) => {
    const y = labels[i]!;
    if (s >= threshold) y ? tp++ : fp++;
    else if (y) fn++;
  });
  return { precision: tp + fp ? tp / (tp + fp) : 0, recall: tp + fn ? tp / (tp + fn) : 0, flagged: tp + fp };
}
