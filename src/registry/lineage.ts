/**
 * Lineage: where a feature, view or service comes from (source → view@version → service)
 * and which run produced the data now served (the served pointer's run).
 */
import { NotFoundError } from "../errors.ts";
import type { OnlineStore } from "../online/online-store.ts";
import { STREAM_RUN_ID } from "../ids.ts";
import type { Registry } from "./registry.ts";
import type { RunLog, RunRecord } from "./runs.ts";

export type ViewLineage = {
  view: string;
  version: string;
  features: { name: string; definition: string }[];
  entity: string;
  source: { name: string; kind: string; location: string; pushSource: string | null };
  served: { version: string; table: string; watermark: number; updatedAt: string; run: RunRecord | null; runId: string } | null;
  services: string[];
};

export type Lineage = { of: string; kind: "feature" | "view" | "service"; views: ViewLineage[] };

export async function lineageOf(name: string, registry: Registry, store: OnlineStore, runs: RunLog): Promise<Lineage> {
  const data = registry.data;
  let kind: Lineage["kind"];
  let picks: { view: string; features: string[] | null }[];
  if (name.includes(":")) {
    const ref = registry.resolveRef(name);
    kind = "feature";
    picks = [{ view: ref.view, features: [ref.feature] }];
  } else if (data.services[name]) {
    kind = "service";
    const byView = new Map<string, string[]>();
    for (const r of data.services[name]!.features) byView.set(r.view, [...(byView.get(r.view) ?? []), r.feature]);
    picks = [...byView].map(([view, features]) => ({ view, features }));
  } else if (data.views[name]) {
    kind = "view";
    picks = [{ view: name, features: null }];
  } else {
    throw new NotFoundError(`"${name}" is neither a feature service, a feature view nor a "view:feature" reference`);
  }
  const pointers = await store.pointers();
  const views: ViewLineage[] = [];
  for (const p of picks) {
    const v = registry.view(p.view);
    const pointer = pointers.get(p.view);
    const features = v.def.features
      .filter((f) => p.features === null || p.features.includes(f.name))
      .map((f) => ({
        name: f.name,
        definition: f.kind === "expression" ? `sql(${JSON.stringify(f.sql)})` : `${f.function}(${f.of ?? "*"}, ${f.window === null ? "lifetime" : `${f.window / 3_600_000}h`})`,
      }));
    views.push({
      view: p.view,
      version: v.version,
      features,
      entity: v.entity.name,
      source: {
        name: v.source.name,
        kind: v.source.kind,
        location: v.source.kind === "file" ? v.source.path : v.source.table ? `table ${v.source.table}` : "query",
        pushSource: v.push?.name ?? null,
      },
      served: pointer
        ? { version: pointer.version, table: pointer.table, watermark: pointer.watermark, updatedAt: pointer.updatedAt, runId: pointer.runId, run: await runs.get(pointer.runId) }
        : null,
      services: Object.values(data.services)
        .filter((s) => s.features.some((r) => r.view === p.view))
        .map((s) => s.name)
        .sort(),
    });
  }
  return { of: name, kind, views };
}

export function formatLineage(l: Lineage): string {
  const lines = [`${l.kind === "service" ? "feature service" : l.kind === "view" ? "feature view" : "feature"} ${l.of}`];
  for (const v of l.views) {
    lines.push(`  ← feature view ${v.view} @${v.version} (entity ${v.entity}; services: ${v.services.join(", ") || "none"})`);
    for (const f of v.features) lines.push(`      ${f.name} = ${f.definition}`);
    if (!v.served) lines.push("      served: nothing yet (run larder materialize)");
    else {
      const r = v.served.run;
      const stale = v.served.version !== v.version ? ` (an older version: @${v.version} is not materialized yet)` : "";
      lines.push(`      served: @${v.served.version}${stale}, complete up to ${new Date(v.served.watermark).toISOString()}, table ${v.served.table}`);
      lines.push(
        r
          ? `      written by run ${r.id}: ${r.kind} ${String(r.details.mode ?? "")} at ${r.startedAt}, ${r.rows.in ?? "?"} events → ${r.rows.out ?? "?"} entities, ${r.status}, by ${r.startedBy.via} on ${r.startedBy.host}`
          : `      written by ${v.served.runId === STREAM_RUN_ID ? "pushes (no materialization yet)" : `run ${v.served.runId} (not in the run history)`}`,
      );
    }
    lines.push(`      ← ${v.source.pushSource ? `push source ${v.source.pushSource} ← ` : ""}source ${v.source.name} (${v.source.kind}: ${v.source.location})`);
  }
  return lines.join("\n");
}
