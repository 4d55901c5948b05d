/**
 * `larder plan`: what applying the definitions would add, change and remove, with the
 * fields that changed and, for feature views, the old and new versions.
 */
import type { Definitions, FeatureViewDef } from "../definitions/types.ts";
import { canonicalJson } from "../ids.ts";
import { viewVersion } from "./canonical.ts";
import { ownMaps, type Registry } from "./registry.ts";

export type ChangeKind = "entity" | "source" | "push source" | "feature view" | "on-demand feature view" | "feature service";
export type Change = {
  kind: ChangeKind;
  name: string;
  action: "add" | "change" | "remove";
  /** Field paths that differ, as "path: old → new". */
  fields: string[];
  oldVersion?: string;
  newVersion?: string;
};
export type Plan = { changes: Change[]; versions: Record<string, string> };

/** Views keyed by feature name read better in a diff than arrays. */
const viewForDiff = (v: FeatureViewDef) => ({ ...v, features: Object.fromEntries(v.features.map((f) => [f.name, { ...f, name: undefined }])) });

export function diffFields(a: unknown, b: unknown, path = ""): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObj = (x: unknown) => x !== null && typeof x === "object" && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) => diffFields((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  const show = (x: unknown) => (x === undefined ? "(none)" : JSON.stringify(x));
  return [`${path}: ${show(a)} → ${show(b)}`];
}

export function planChanges(defs: Definitions, registry: Registry): Plan {
  const changes: Change[] = [];
  const versions: Record<string, string> = {};
  const reg = registry.data;
  const compare = <T extends { name: string }>(kind: ChangeKind, next: T[], prev: Record<string, T>, view = (x: T): unknown => x) => {
    for (const d of next) {
      const old = prev[d.name];
      if (!old) changes.push({ kind, name: d.name, action: "add", fields: [] });
      else {
        const fields = diffFields(view(old), view(d));
        if (fields.length) changes.push({ kind, name: d.name, action: "change", fields });
      }
    }
    for (const name of Object.keys(prev)) if (!next.some((d) => d.name === name)) changes.push({ kind, name, action: "remove", fields: [] });
  };
  compare("entity", defs.entities, reg.entities);
  compare("source", defs.sources, reg.sources);
  compare("push source", defs.pushSources, reg.pushSources ?? {});

  const entities = new Map(defs.entities.map((e) => [e.name, e]));
  const sources = new Map(defs.sources.map((s) => [s.name, s]));
  const pushSources = new Map(defs.pushSources.map((s) => [s.name, s]));
  for (const v of defs.views) {
    const push = pushSources.get(v.source) ?? null;
    const version = viewVersion(v, entities.get(v.entity)!, sources.get(push ? push.batchSource : v.source)!, push);
    versions[v.name] = version;
    const old = reg.views[v.name];
    if (!old) changes.push({ kind: "feature view", name: v.name, action: "add", fields: [], newVersion: version });
    else {
      const fields = diffFields(viewForDiff(old.definition), viewForDiff(v));
      if (fields.length || old.current !== version) {
        changes.push({ kind: "feature view", name: v.name, action: "change", fields, oldVersion: old.current, newVersion: version });
      }
    }
  }
  for (const name of Object.keys(reg.views)) {
    if (!defs.views.some((v) => v.name === name)) changes.push({ kind: "feature view", name, action: "remove", fields: [], oldVersion: reg.views[name]!.current });
  }
  // A function's whole text is its definition: the diff names it, not every line.
  compare("on-demand feature view", defs.onDemandViews, reg.onDemandViews ?? {}, (o) => ({ ...o, source: `function @${o.version}` }));
  compare("feature service", defs.services, reg.services);
  return { changes, versions };
}

/** Writes the definitions into the registry: new versions are added, old ones kept. */
export function applyPlan(defs: Definitions, plan: Plan, registry: Registry, now = new Date()): void {
  const reg = registry.data;
  const at = now.toISOString();
  reg.entities = Object.fromEntries(defs.entities.map((e) => [e.name, e]));
  reg.sources = Object.fromEntries(defs.sources.map((s) => [s.name, s]));
  reg.pushSources = Object.fromEntries(defs.pushSources.map((s) => [s.name, s]));
  reg.services = Object.fromEntries(defs.services.map((s) => [s.name, s]));
  reg.onDemandViews = Object.fromEntries(defs.onDemandViews.map((o) => [o.name, o]));
  const views: typeof reg.views = {};
  for (const v of defs.views) {
    const version = plan.versions[v.name]!;
    const prev = reg.views[v.name];
    const history = prev ? prev.versions.filter((x) => x.version !== version) : [];
    const existing = prev?.versions.find((x) => x.version === version);
    history.push({ version, definition: v, appliedAt: existing?.appliedAt ?? at });
    views[v.name] = { current: version, definition: v, versions: history };
  }
  reg.views = views;
  reg.updatedAt = at;
  ownMaps(reg);
  registry.save();
}

export function formatPlan(plan: Plan): string {
  if (plan.changes.length === 0) return "No changes: the registry matches features/.";
  const sign = { add: "+", change: "~", remove: "-" } as const;
  const lines = plan.changes.map((c) => {
    const version =
      c.action === "add" ? ` @${c.newVersion ?? ""}` : c.oldVersion && c.newVersion && c.oldVersion !== c.newVersion ? ` @${c.oldVersion} → @${c.newVersion} (new version)` : "";
    const head = `${sign[c.action]} ${c.kind} ${c.name}${c.kind === "feature view" ? version.replace(/ @$/, "") : ""}`;
    return [head, ...c.fields.map((f) => `    ${f}`)].join("\n");
  });
  const count = (a: Change["action"]) => plan.changes.filter((c) => c.action === a).length;
  return `${lines.join("\n")}\n\n${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove.`;
}
