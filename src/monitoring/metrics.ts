/**
 * Prometheus metrics in the text exposition format (version 0.0.4), served at /metrics:
 * counters and histograms updated as things happen, gauges read when scraped. Small on
 * purpose: a few dozen series, no client library needed. With several serving processes
 * (server/workers/), the workers drain their counts and the primary absorbs them, so one
 * /metrics answers for all.
 */
type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const texts = new WeakMap<Labels, string>();
/** `{k="v",…}`; remembered per labels object, so constant labels on hot paths cost a lookup. */
const labelText = (l: Labels) => {
  let t = texts.get(l);
  if (t === undefined) {
    const keys = Object.keys(l);
    t = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(l[k]!)}"`).join(",")}}` : "";
    texts.set(l, t);
  }
  return t;
};
const NO_LABELS: Labels = {};

abstract class Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: string,
  ) {}
  abstract lines(): Promise<string[]> | string[];
  async render(): Promise<string> {
    const lines = await this.lines();
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...lines].join("\n");
  }
}

export class Counter extends Family {
  readonly #values = new Map<string, number>();
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = NO_LABELS, n = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }
  lines() {
    return [...this.#values].map(([l, v]) => `${this.name}${l} ${v}`);
  }
  /** The counts since the last drain, by rendered labels; the counter starts again from 0. */
  drain(): [string, number][] {
    const out = [...this.#values];
    this.#values.clear();
    return out;
  }
  absorb(counts: [string, number][]): void {
    for (const [key, n] of counts) this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }
}

type HistogramSeries = { labels: Labels; counts: number[]; sum: number; count: number };

export class Histogram extends Family {
  readonly #series = new Map<string, HistogramSeries>();
  constructor(
    name: string,
    help: string,
    readonly buckets: number[],
  ) {
    super(name, help, "histogram");
  }
  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines() {
    return [...this.#series.values()].flatMap((s) => [
      ...this.buckets.map((b, i) => `${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`),
      `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`,
      `${this.name}_sum${labelText(s.labels)} ${s.sum}`,
      `${this.name}_count${labelText(s.labels)} ${s.count}`,
    ]);
  }
  /** The observations since the last drain; the histogram starts again from empty. */
  drain(): HistogramSeries[] {
    const out = [...this.#series.values()];
    this.#series.clear();
    return out;
  }
  absorb(series: HistogramSeries[]): void {
    for (const { labels, counts, sum, count } of series) {
      const key = labelText(labels);
      const s = this.#series.get(key);
      if (!s) {
        this.#series.set(key, { labels, counts: [...counts], sum, count });
        continue;
      }
      for (let i = 0; i < s.counts.length; i++) s.counts[i]! += counts[i] ?? 0;
      s.sum += sum;
      s.count += count;
    }
  }
}

/** A gauge whose values are read when scraped. */
export class Gauge extends Family {
  constructor(
    name: string,
    help: string,
    readonly read: () => Promise<{ labels: Labels; value: number }[]> | { labels: Labels; value: number }[],
  ) {
    super(name, help, "gauge");
  }
  async lines() {
    return (await this.read()).filter((v) => Number.isFinite(v.value)).map((v) => `${this.name}${labelText(v.labels)} ${v.value}`);
  }
}

/** Counters' and histograms' counts since the last drain, by family name. */
export type MetricsDrain = Record<string, [string, number][] | HistogramSeries[]>;

export class MetricsRegistry {
  readonly #families: Family[] = [];
  add<F extends Family>(f: F): F {
    this.#families.push(f);
    return f;
  }
  async render(): Promise<string> {
    const parts = await Promise.all(this.#families.map((f) => f.render().catch(() => "")));
    return `${parts.filter(Boolean).join("\n")}\n`;
  }
  /** Every counter's and histogram's counts since the last drain (gauges are read where scraped). */
  drain(): MetricsDrain {
    const out: MetricsDrain = {};
    for (const f of this.#families) if (f instanceof Counter || f instanceof Histogram) out[f.name] = f.drain();
    return out;
  }
  /** Adds another process's drained counts to these families; unknown names are ignored. */
  absorb(drained: MetricsDrain): void {
    for (const f of this.#families) {
      const counts = drained[f.name];
      if (!counts) continue;
      if (f instanceof Counter) f.absorb(counts as [string, number][]);
      else if (f instanceof Histogram) f.absorb(counts as HistogramSeries[]);
    }
  }
}

/**
 * `fn` shared by the gauges of one scrape: callers while a computation is in flight get
 * its result (render reads every gauge at once); a later scrape computes anew.
 */
export function perScrape<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (!inFlight) inFlight = fn().finally(() => (inFlight = undefined));
    return inFlight;
  };
}
