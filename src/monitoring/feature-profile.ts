/**
 * Profiles of served feature values, saved by every materialization so later checks
 * (drift, issue 8) can compare against them: per feature, count, nulls, and for numbers
 * mean, sample stddev, quantiles and a 20-bin histogram; for other values the most
 * frequent ones. Computed from up to SAMPLE entities' values as served at the run's end.
 */
import { z } from "zod";
import { readStoredJson, type FileStore } from "../storage/file-store.ts";

export const PROFILE_SAMPLE = 10_000;
/** Values kept in a numeric profile for drift (PSI, KS): evenly spaced order statistics. */
export const KEPT_VALUES = 1000;
const QUANTILES = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1];
const BINS = 20;
const TOP = 20;

export const FeatureProfileSchema = z.discriminatedUnion("kind", [
  z.object({
    feature: z.string(),
    kind: z.literal("numeric"),
    count: z.number(),
    nulls: z.number(),
    mean: z.number().nullable(),
    stddev: z.number().nullable(),
    quantiles: z.record(z.string(), z.number()),
    histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }),
    /** Absent in profiles saved before samples were kept. */
    sample: z.array(z.number()).optional(),
  }),
  z.object({ feature: z.string(), kind: z.literal("categorical"), count: z.number(), nulls: z.number(), top: z.array(z.object({ value: z.string(), count: z.number() })) }),
]);
export type FeatureProfile = z.infer<typeof FeatureProfileSchema>;

const ViewProfileSchema = z.object({ view: z.string(), version: z.string(), runId: z.string(), at: z.string(), entities: z.number(), features: z.array(FeatureProfileSchema) });
export type ViewProfile = z.infer<typeof ViewProfileSchema>;

const readProfile = (files: FileStore, key: string) => readStoredJson(files, key, ViewProfileSchema, "the profile", "remove it; the view's next materialization writes a new one");

export function profileValues(feature: string, values: unknown[]): FeatureProfile {
  const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v)));
  const nulls = values.length - present.length;
  if (present.every((v) => typeof v === "number")) {
    const xs = (present as number[]).slice().sort((a, b) => a - b);
    const n = xs.length;
    const mean = n ? xs.reduce((a, b) => a + b, 0) / n : null;
    const stddev = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean!) ** 2, 0) / (n - 1)) : null;
    const quantile = (q: number) => {
      const pos = (n - 1) * q;
      const lo = Math.floor(pos);
      return xs[lo]! + (xs[Math.min(lo + 1, n - 1)]! - xs[lo]!) * (pos - lo);
    };
    const lo = xs[0] ?? 0,
      hi = xs[n - 1] ?? 0;
    const width = (hi - lo) / BINS || 1;
    const edges = Array.from({ length: BINS + 1 }, (_, i) => lo + i * width);
    const counts = new Array<number>(BINS).fill(0);
    for (const x of xs) counts[Math.min(BINS - 1, Math.floor((x - lo) / width))]!++;
    return {
      feature,
      kind: "numeric",
      count: values.length,
      nulls,
      mean,
      stddev,
      quantiles: n ? Object.fromEntries(QUANTILES.map((q) => [`p${q * 100}`, quantile(q)])) : {},
      histogram: n ? { edges, counts } : { edges: [], counts: [] },
      sample: orderStatistics(xs, KEPT_VALUES),
    };
  }
  const freq = new Map<string, number>();
  for (const v of present) freq.set(String(v), (freq.get(String(v)) ?? 0) + 1);
  const top = [...freq]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TOP)
    .map(([value, count]) => ({ value, count }));
  return { feature, kind: "categorical", count: values.length, nulls, top };
}

/** Up to `k` evenly spaced values of sorted `xs`: the distribution in a fixed size. */
export function orderStatistics(xs: readonly number[], k: number): number[] {
  return orderPositions(xs.length, k).map((i) => xs[i]!);
}

/** The positions (0-based, distinct, ascending) orderStatistics takes from `n` sorted values. */
export function orderPositions(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

/** Profiles of a view's version: `<run>.json` per run, and `latest.json`. */
const profileFolder = (view: string, version: string) => `profiles/${view}/${version}`;

export async function saveViewProfile(files: FileStore, profile: ViewProfile): Promise<string> {
  const folder = profileFolder(profile.view, profile.version);
  const text = JSON.stringify(profile, null, 2);
  await files.writeText(`${folder}/${profile.runId}.json`, text);
  await files.writeText(`${folder}/latest.json`, text);
  return files.pathOf(`${folder}/${profile.runId}.json`);
}

/** The profile of the latest run of a view's version, or null. */
export const latestViewProfile = (files: FileStore, view: string, version: string) => readProfile(files, `${profileFolder(view, version)}/latest.json`);

/** The profile of the first run of a view's version (run ids sort by time), or null. */
export async function firstViewProfile(files: FileStore, view: string, version: string): Promise<ViewProfile | null> {
  const folder = profileFolder(view, version);
  const runs = (await files.list(folder))
    .map((f) => f.path.slice(f.path.lastIndexOf("/") + 1))
    .filter((n) => n !== "latest.json")
    .sort();
  return runs.length ? readProfile(files, `${folder}/${runs[0]}`) : null;
}
