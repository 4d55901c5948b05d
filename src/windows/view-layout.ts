/**
 * How a view's features map onto stored state, derived from its definition alone so
 * materialization, serving and streaming agree without storing the mapping:
 * - inputs: the distinct numeric SQL expressions aggregated ("1" for counts of events);
 * - expressions: latest-value features, stored as the latest row;
 * - series: one tile series per (input, hop), kept for the longest window using it, its
 *   tiles holding what its aggregations read;
 * - lifetime: one running statistics slot per input with a lifetime aggregation.
 */
import type { FeatureViewDef } from "../definitions/types.ts";
import { FULL_SHAPE, tileShape, type Aggregation, type TileShape } from "./tile-stats.ts";

export type FeatureSlot =
  | { name: string; kind: "expression"; index: number }
  | { name: string; kind: "window"; fn: Aggregation; series: number; window: number; hop: number; shape: TileShape; input: number }
  | { name: string; kind: "lifetime"; fn: Aggregation; slot: number; input: number };

export type ViewLayout = {
  inputs: string[];
  expressions: { name: string; sql: string }[];
  /** `shape`: the statistics its tiles keep, those its aggregations read. */
  series: { input: number; hop: number; retention: number; shape: TileShape }[];
  lifetime: { input: number }[];
  features: FeatureSlot[];
};

const cache = new WeakMap<FeatureViewDef, ViewLayout>();

export function viewLayout(view: FeatureViewDef): ViewLayout {
  const hit = cache.get(view);
  if (hit) return hit;
  const inputs: string[] = [];
  const inputOf = (sql: string | null) => {
    const expr = sql ?? "1";
    let i = inputs.indexOf(expr);
    if (i < 0) i = inputs.push(expr) - 1;
    return i;
  };
  const layout: ViewLayout = { inputs, expressions: [], series: [], lifetime: [], features: [] };
  // By name, not declaration order: reordering features in a file changes neither the
  // version nor where anything is stored.
  const features = [...view.features].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of features) {
    if (f.kind === "expression") {
      layout.features.push({ name: f.name, kind: "expression", index: layout.expressions.push({ name: f.name, sql: f.sql }) - 1 });
      continue;
    }
    const input = inputOf(f.of);
    if (f.window === null) {
      let slot = layout.lifetime.findIndex((l) => l.input === input);
      if (slot < 0) slot = layout.lifetime.push({ input }) - 1;
      layout.features.push({ name: f.name, kind: "lifetime", fn: f.function, slot, input });
      continue;
    }
    const hop = f.hop!;
    let series = layout.series.findIndex((s) => s.input === input && s.hop === hop);
    if (series < 0) series = layout.series.push({ input, hop, retention: 0, shape: FULL_SHAPE }) - 1;
    const s = layout.series[series]!;
    s.retention = Math.max(s.retention, f.window);
    layout.features.push({ name: f.name, kind: "window", fn: f.function, series, window: f.window, hop, shape: FULL_SHAPE, input });
  }
  layout.series.forEach((s, i) => {
    s.shape = tileShape(layout.features.flatMap((f) => (f.kind === "window" && f.series === i ? [f.fn] : [])));
  });
  for (const f of layout.features) if (f.kind === "window") f.shape = layout.series[f.series]!.shape;
  cache.set(view, layout);
  return layout;
}
