/**
 * The point-in-time sweep: every label row of one view gets every requested feature as
 * of its own timestamp t (semantics in windows/window-math.ts):
 * - windows: events with align(t − w, h) ≤ ts < t; lifetime: events with ts < t;
 * - latest row: the last event with ts < t (later source row wins a tie), if ts ≥ t − ttl;
 * - all null when the entity has no event before t.
 *
 * Events and labels arrive as two sorted streams (offline/sweep-input.ts). Per entity,
 * each aggregation input gets prefix sums over its events (count, sum and sum of squares
 * of values shifted by the entity's first value, and the last non-null event), so any
 * window is a difference of two prefixes; each (input, window, hop) keeps only a pointer
 * to its first event, moved forward as label times grow. Windowed min and max use
 * monotonic deques, lifetime min and max prefix minima/maxima. All O(n), where one SQL
 * window function per feature was many times slower (scripts/bench/offline-bench.ts).
 */
import type { ResolvedView } from "../registry/registry.ts";
import type { Aggregation } from "../windows/tile-stats.ts";
import type { Duck } from "./duckdb.ts";
import { loadSweepInput } from "./sweep-input.ts";

export type SweepFeature = { name: string; fn: Aggregation; input: number; window: number | null; hop: number | null };

export type SweepResult = {
  /** One value per label row (index = __row), NaN for null: aggregations, and the
   * latest event's value of each numeric `sql` feature passed as `columns`. */
  values: Map<string, Float64Array>;
  /** Per label row, the __seq of the latest event within ttl (NaN: none); only with `withSeq`. */
  latestSeq: Float64Array | undefined;
};

/** Label rows are in `labelsTable` with __row (0..n−1), __t and the join keys. */
export async function sweepView(
  duck: Duck,
  v: ResolvedView,
  offlineTablePath: string,
  labelsTable: string,
  labelCount: number,
  features: SweepFeature[],
  columns: string[] = [],
  withSeq = false,
): Promise<SweepResult> {
  const inputs = [...new Set(features.map((f) => f.input))];
  const { events, labels } = await loadSweepInput(duck, v, offlineTablePath, labelsTable, inputs, columns, withSeq);
  const values = new Map([...features.map((f) => f.name), ...columns].map((name) => [name, new Float64Array(labelCount).fill(NaN)]));
  const latest = columns.map((name) => ({ source: events.columns.get(name)!, target: values.get(name)! }));
  const latestSeq = withSeq ? new Float64Array(labelCount).fill(NaN) : undefined;

  const prefixes = new Map(inputs.map((i) => [i, new InputPrefix(events.inputs.get(i)!)]));
  // Features that share input, window and hop share one window.
  const groups = new Map<string, WindowGroup>();
  for (const f of features) {
    const key = `${f.input}/${f.window}/${f.hop}`;
    if (!groups.has(key)) groups.set(key, new WindowGroup(prefixes.get(f.input)!, f.window, f.hop, events.ts));
    groups.get(key)!.outputs.push({ fn: f.fn, target: values.get(f.name)! });
  }
  const windows = [...groups.values()];
  for (const w of windows) w.prepare();
  const prefixList = [...prefixes.values()];
  const ttl = v.def.ttl;
  const { entity: eEntity, ts: eTs, seq } = events;
  const { entity: lEntity, ts: lTs, row: lRow } = labels;
  const nE = eEntity.length;
  let start = 0; // first event of the current entity
  let i = 0; // events before i (of this entity) are before the current label
  let current = NaN;
  for (let j = 0; j < lEntity.length; j++) {
    const k = lEntity[j]!;
    if (k !== current) {
      current = k;
      while (i < nE && eEntity[i]! < k) i++;
      start = i;
      let end = start;
      while (end < nE && eEntity[end] === k) end++;
      for (let p = 0; p < prefixList.length; p++) prefixList[p]!.build(start, end);
      for (let w = 0; w < windows.length; w++) windows[w]!.reset(start);
    }
    const t = lTs[j]!;
    while (i < nE && eEntity[i] === k && eTs[i]! < t) i++;
    if (i === start) continue; // no event before t: every feature stays null
    const row = lRow[j]!;
    if (ttl === null || eTs[i - 1]! >= t - ttl) {
      if (latestSeq) latestSeq[row] = seq![i - 1]!;
      for (let c = 0; c < latest.length; c++) latest[c]!.target[row] = latest[c]!.source[i - 1]!;
    }
    for (let w = 0; w < windows.length; w++) windows[w]!.emit(i, t, row);
  }
  return { values, latestSeq };
}

/**
 * Prefix statistics of one input over the current entity's events [start, end): entry p
 * covers the first p events. Values are shifted by the entity's first value, which keeps
 * sumSq − sum²/n well conditioned.
 */
class InputPrefix {
  start = 0;
  shift = 0;
  count = new Float64Array(1);
  sum = new Float64Array(1);
  sumSq = new Float64Array(1);
  /** Index (absolute) of the last non-null event among the first p, or −1. */
  last = new Int32Array(1);
  minimum = new Float64Array(1);
  maximum = new Float64Array(1);
  wantsExtremes = false;

  constructor(readonly x: Float64Array) {}

  build(start: number, end: number): void {
    const n = end - start;
    if (this.count.length < n + 1) this.grow(n + 1);
    this.start = start;
    const x = this.x;
    let shift = NaN;
    for (let r = start; r < end && Number.isNaN(shift); r++) shift = x[r]!;
    this.shift = Number.isNaN(shift) ? 0 : shift;
    const { count, sum, sumSq, last, minimum, maximum } = this;
    count[0] = sum[0] = sumSq[0] = 0;
    last[0] = -1;
    minimum[0] = Infinity;
    maximum[0] = -Infinity;
    for (let p = 0; p < n; p++) {
      const v = x[start + p]!;
      if (Number.isNaN(v)) {
        count[p + 1] = count[p]!;
        sum[p + 1] = sum[p]!;
        sumSq[p + 1] = sumSq[p]!;
        last[p + 1] = last[p]!;
        if (this.wantsExtremes) {
          minimum[p + 1] = minimum[p]!;
          maximum[p + 1] = maximum[p]!;
        }
        continue;
      }
      const d = v - this.shift;
      count[p + 1] = count[p]! + 1;
      sum[p + 1] = sum[p]! + d;
      sumSq[p + 1] = sumSq[p]! + d * d;
      last[p + 1] = start + p;
      if (this.wantsExtremes) {
        minimum[p + 1] = Math.min(v, minimum[p]!);
        maximum[p + 1] = Math.max(v, maximum[p]!);
      }
    }
  }

  private grow(size: number): void {
    const cap = Math.max(size, this.count.length * 2);
    this.count = new Float64Array(cap);
    this.sum = new Float64Array(cap);
    this.sumSq = new Float64Array(cap);
    this.last = new Int32Array(cap);
    if (this.wantsExtremes) {
      this.minimum = new Float64Array(cap);
      this.maximum = new Float64Array(cap);
    }
  }
}

/** One (input, window, hop): a pointer to its first event, plus deques for windowed min/max. */
class WindowGroup {
  readonly outputs: { fn: Aggregation; target: Float64Array }[] = [];
  private lo = 0;
  private needMin = false;
  private needMax = false;
  // Monotonic deques of event indexes, [head, tail); fed up to the current label.
  private minQ = new Int32Array(0);
  private maxQ = new Int32Array(0);
  private minHead = 0;
  private minTail = 0;
  private maxHead = 0;
  private maxTail = 0;
  private fed = 0;

  constructor(
    private readonly prefix: InputPrefix,
    private readonly window: number | null,
    private readonly hop: number | null,
    private readonly ts: Float64Array,
  ) {}

  /** Called once the outputs are known. */
  prepare(): void {
    const wants = (fn: Aggregation) => this.outputs.some((o) => o.fn === fn);
    if (this.window === null) {
      if (wants("min") || wants("max")) this.prefix.wantsExtremes = true;
      return;
    }
    this.needMin = wants("min");
    this.needMax = wants("max");
    if (this.needMin) this.minQ = new Int32Array(this.prefix.x.length);
    if (this.needMax) this.maxQ = new Int32Array(this.prefix.x.length);
  }

  reset(start: number): void {
    this.lo = start;
    this.fed = start;
    this.minHead = this.minTail = this.maxHead = this.maxTail = 0;
  }

  /** Evaluates at time t over events before index `end`, writing the outputs for label `row`. */
  emit(end: number, t: number, row: number): void {
    const pre = this.prefix;
    const x = pre.x;
    let from = -Infinity;
    if (this.window !== null) {
      from = Math.floor((t - this.window) / this.hop!) * this.hop!;
      while (this.lo < end && this.ts[this.lo]! < from) this.lo++;
      if (this.needMin || this.needMax) {
        for (; this.fed < end; this.fed++) {
          const v = x[this.fed]!;
          if (Number.isNaN(v)) continue;
          if (this.needMin) {
            while (this.minTail > this.minHead && x[this.minQ[this.minTail - 1]!]! >= v) this.minTail--;
            this.minQ[this.minTail++] = this.fed;
          }
          if (this.needMax) {
            while (this.maxTail > this.maxHead && x[this.maxQ[this.maxTail - 1]!]! <= v) this.maxTail--;
            this.maxQ[this.maxTail++] = this.fed;
          }
        }
        while (this.minHead < this.minTail && this.minQ[this.minHead]! < this.lo) this.minHead++;
        while (this.maxHead < this.maxTail && this.maxQ[this.maxHead]! < this.lo) this.maxHead++;
      }
    }
    const a = this.lo - pre.start;
    const b = end - pre.start;
    const n = pre.count[b]! - pre.count[a]!;
    const sum = pre.sum[b]! - pre.sum[a]!;
    const sumSq = pre.sumSq[b]! - pre.sumSq[a]!;
    const last = pre.last[b]!;
    for (let o = 0; o < this.outputs.length; o++) {
      const { fn, target } = this.outputs[o]!;
      let value: number;
      switch (fn) {
        case "count":
          value = n;
          break;
        case "sum":
          value = n === 0 ? 0 : sum + n * pre.shift;
          break;
        case "mean":
          value = n === 0 ? NaN : sum / n + pre.shift;
          break;
        case "min":
          value = n === 0 ? NaN : this.window === null ? pre.minimum[b]! : x[this.minQ[this.minHead]!]!;
          break;
        case "max":
          value = n === 0 ? NaN : this.window === null ? pre.maximum[b]! : x[this.maxQ[this.maxHead]!]!;
          break;
        case "last":
          value = last >= this.lo ? x[last]! : NaN;
          break;
        case "stddev":
          value = n < 2 ? NaN : Math.sqrt(Math.max(0, (sumSq - (sum * sum) / n) / (n - 1)));
          break;
      }
      target[row] = value;
    }
  }
}
