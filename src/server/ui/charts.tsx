/** @jsxImportSource hono/jsx */
/** Charts as inline SVG, drawn on the server: no script, no external resource. */
import type { FC } from "hono/jsx";

/** About how wide `text` is at the charts' 11 px font (a monospace-ish upper bound). */
const textWidth = (text: string, px = 11) => Math.ceil(text.length * px * 0.62);

const fmt = (x: number) => (Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(1) : Number(x.toFixed(2)).toString());

/** Bars of a histogram: `counts[i]` between `edges[i]` and `edges[i + 1]`. */
export const Histogram: FC<{ edges: number[]; counts: number[]; label: string }> = ({ edges, counts, label }) => {
  const w = 320,
    h = 110,
    pad = 18;
  const max = Math.max(1, ...counts);
  const bw = (w - 2 * pad) / Math.max(1, counts.length);
  return (
    <svg class="chart" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <title>{label}</title>
      {counts.map((c, i) => (
        <rect x={pad + i * bw + 1} y={h - pad - ((h - 2 * pad) * c) / max} width={Math.max(1, bw - 2)} height={((h - 2 * pad) * c) / max} class="bar">
          <title>{`${fmt(edges[i] ?? 0)} – ${fmt(edges[i + 1] ?? 0)}: ${c}`}</title>
        </rect>
      ))}
      <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} class="axis" />
      <text x={pad} y={h - 4} class="tick">
        {fmt(edges[0] ?? 0)}
      </text>
      <text x={w - pad} y={h - 4} class="tick" text-anchor="end">
        {fmt(edges.at(-1) ?? 0)}
      </text>
    </svg>
  );
};

/** Horizontal bars (drift per feature), a dashed line at the threshold. */
export const Bars: FC<{ rows: { label: string; value: number; over: boolean }[]; threshold: number; label: string }> = ({ rows, threshold, label }) => {
  // The label column as wide as the longest label, so none is clipped.
  const left = Math.max(60, ...rows.map((r) => textWidth(r.label, 10) + 12));
  const w = left + 330,
    row = 20,
    h = rows.length * row + 24;
  const max = Math.max(threshold * 1.5, ...rows.map((r) => r.value), 0.01);
  const x = (v: number) => left + ((w - left - 50) * v) / max;
  return (
    <svg class="chart" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <title>{label}</title>
      {rows.map((r, i) => (
        <g>
          <text x={left - 6} y={i * row + 15} class="tick" text-anchor="end">
            {r.label}
          </text>
          <rect x={left} y={i * row + 4} width={Math.max(1, x(r.value) - left)} height={row - 8} class={r.over ? "bar over" : "bar"} />
          <text x={x(r.value) + 4} y={i * row + 15} class="tick">
            {r.value.toFixed(3)}
          </text>
        </g>
      ))}
      <line x1={x(threshold)} y1={0} x2={x(threshold)} y2={rows.length * row + 4} class="threshold" />
      <text x={x(threshold)} y={h - 4} class="tick" text-anchor="middle">{`threshold ${threshold}`}</text>
    </svg>
  );
};

/** Lineage: sources → the view → services, boxes and arrows. */
export const LineageGraph: FC<{ sources: string[]; view: string; services: string[] }> = ({ sources, view, services }) => {
  // Boxes as wide as their longest label: names never run out of their box.
  const bw = Math.max(150, ...[...sources, view, ...services].map((t) => textWidth(t) + 20)),
    bh = 30,
    gap = 12,
    w = 3 * bw + 2 * 70;
  const rows = Math.max(sources.length, services.length, 1);
  const h = rows * (bh + gap) + gap;
  const y = (i: number, n: number) => (h - n * (bh + gap) + gap) / 2 + i * (bh + gap);
  const cx = [0, bw + 70, 2 * (bw + 70)];
  const mid = y(0, 1) + bh / 2;
  const box = (x: number, top: number, text: string, cls: string) => (
    <g>
      <rect x={x} y={top} width={bw} height={bh} rx={6} class={cls} />
      <text x={x + bw / 2} y={top + bh / 2 + 4} text-anchor="middle" class="node">
        {text}
      </text>
    </g>
  );
  return (
    <svg class="chart" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`lineage of ${view}`}>
      <title>{`lineage of ${view}`}</title>
      {sources.map((_, i) => (
        <line x1={cx[0]! + bw} y1={y(i, sources.length) + bh / 2} x2={cx[1]} y2={mid} class="edge" />
      ))}
      {services.map((_, i) => (
        <line x1={cx[1]! + bw} y1={mid} x2={cx[2]} y2={y(i, services.length) + bh / 2} class="edge" />
      ))}
      {sources.map((s, i) => box(cx[0]!, y(i, sources.length), s, "source"))}
      {box(cx[1]!, y(0, 1), view, "view")}
      {services.map((s, i) => box(cx[2]!, y(i, services.length), s, "service"))}
    </svg>
  );
};
