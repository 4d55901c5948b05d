/**
 * An independent brute-force reference for point-in-time values, written with plain
 * loops straight from the documented semantics (README, "Window semantics"); it shares
 * no code with the engine.
 */
export type RefEvent = { key: number; ts: number; seq: number; amount: number | null; category: string };

export type RefFeature =
  | { name: string; kind: "latest"; value: (e: RefEvent) => unknown }
  | { name: string; kind: "window"; fn: string; window: number; hop: number; input: (e: RefEvent) => number | null }
  | { name: string; kind: "lifetime"; fn: string; input: (e: RefEvent) => number | null };

export function referenceValues(events: RefEvent[], key: number, t: number, ttl: number | null, features: RefFeature[]): Record<string, unknown> {
  const past = events.filter((e) => e.key === key && e.ts < t);
  const out: Record<string, unknown> = {};
  for (const f of features) {
    if (past.length === 0) {
      out[f.name] = null;
      continue;
    }
    if (f.kind === "latest") {
      let best: RefEvent | null = null;
      for (const e of past) {
        if (ttl !== null && e.ts < t - ttl) continue;
        if (!best || e.ts > best.ts || (e.ts === best.ts && e.seq > best.seq)) best = e;
      }
      out[f.name] = best ? f.value(best) : null;
      continue;
    }
    let inWindow = past;
    if (f.kind === "window") {
      const start = Math.floor((t - f.window) / f.hop) * f.hop;
      inWindow = past.filter((e) => e.ts >= start);
    }
    const picked = inWindow.filter((e) => f.input(e) !== null);
    out[f.name] = aggregate(f.fn, picked, f.input);
  }
  return out;
}

function aggregate(fn: string, evs: RefEvent[], input: (e: RefEvent) => number | null): number | null {
  const xs = evs.map((e) => input(e) as number);
  const n = xs.length;
  let s = 0;
  for (const x of xs) s += x;
  switch (fn) {
    case "count":
      return n;
    case "sum":
      return s;
    case "mean":
      return n ? s / n : null;
    case "min":
      return n ? Math.min(...xs) : null;
    case "max":
      return n ? Math.max(...xs) : null;
    case "stddev": {
      if (n < 2) return null;
      const mean = s / n;
      let ss = 0;
      for (const x of xs) ss += (x - mean) ** 2;
      return Math.sqrt(ss / (n - 1));
    }
    case "last": {
      let best: RefEvent | null = null;
      for (const e of evs) if (!best || e.ts > best.ts || (e.ts === best.ts && e.seq > best.seq)) best = e;
      return best ? input(best) : null;
    }
  }
  throw new Error(`unknown aggregation ${fn}`);
}

/** Equal, with a relative tolerance for floats (summation order differs between engines). */
export function close(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isInteger(a) && Number.isInteger(b)) return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (a instanceof Date) return close(a.getTime(), b instanceof Date ? b.getTime() : b);
  return a === b;
}

/**
 * Where training-set rows (one per label, in label order) differ from the reference, as
 * readable lines: empty when every feature of every row matches.
 */
export function trainingSetMismatches(
  rows: Record<string, unknown>[],
  labels: { user_id: number; t: number }[],
  events: RefEvent[],
  ttl: number | null,
  features: RefFeature[],
): string[] {
  const out: string[] = rows.length === labels.length ? [] : [`${rows.length} rows for ${labels.length} labels`];
  rows.forEach((row, i) => {
    const l = labels[i]!;
    const want = referenceValues(events, l.user_id, l.t, ttl, features);
    for (const f of features) {
      if (!close(row[f.name], want[f.name])) out.push(`row ${i} user ${l.user_id} t=${new Date(l.t).toISOString()} ${f.name}: got ${row[f.name]}, want ${want[f.name]}`);
    }
  });
  return out;
}
