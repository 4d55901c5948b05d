/**
 * On-demand features at lookup time: the stored features their functions read are looked
 * up with the rest (under full names, so two views' features never collide), the request
 * data is checked against each function's `request` schema, the function runs per entity,
 * and its result is checked against `output`. The same row shape as historical retrieval.
 */
import { z } from "zod";
import { BadRequestError, OfflineError } from "../errors.ts";
import type { FeatureRef, OnDemandViewDef } from "../definitions/types.ts";
import { onDemandFunction } from "../definitions/on-demand-functions.ts";
import type { Registry } from "../registry/registry.ts";
import { getOnlineFeatures, type OnlineRequest, type OnlineResponse } from "./online-features.ts";
import type { OnlineStore } from "./online-store.ts";

export type RequestData = Record<string, readonly unknown[]>;

/** A feature's column name when several views' features sit side by side. */
export const fullName = (r: FeatureRef) => `${r.view}__${r.feature}`;

/** The stored features an on-demand view's function reads: every feature of its inputs. */
export function inputRefs(registry: Registry, def: OnDemandViewDef): FeatureRef[] {
  return def.inputs.flatMap((view) => registry.view(view).def.features.map((f) => ({ view, feature: f.name })));
}

/** inputRefs with the full name each is looked up under (a training set's column, a lookup's key). */
export function inputColumns(registry: Registry, def: OnDemandViewDef): { feature: string; column: string }[] {
  return inputRefs(registry, def).map((ref) => ({ feature: ref.feature, column: fullName(ref) }));
}

/**
 * Runs an on-demand view's function on one row (request fields and input features by
 * name); `where` names the row in errors. Request data that breaks the schema is a 400;
 * a function that throws or returns the wrong shape is the definition's fault.
 */
export function computeOnDemand(def: OnDemandViewDef, row: Record<string, unknown>, where: string): Record<string, unknown> {
  const fn = onDemandFunction(def);
  const request = fn.request.safeParse(Object.fromEntries(def.request.map((c) => [c.name, row[c.name] ?? undefined])));
  if (!request.success)
    throw new BadRequestError(`on-demand feature view "${def.name}", ${where}: request data ${z.prettifyError(request.error).replace(/\s*\n\s*/g, " ")}`, "invalid_request_data");
  let out: unknown;
  try {
    out = fn.compute({ ...row, ...request.data });
  } catch (err) {
    throw new OfflineError(`on-demand feature view "${def.name}" failed on ${where}: ${(err as Error).message}`);
  }
  const checked = fn.output.safeParse(out);
  if (!checked.success)
    throw new OfflineError(`on-demand feature view "${def.name}" returned what its output schema refuses on ${where}: ${z.prettifyError(checked.error).replace(/\s*\n\s*/g, " ")}`);
  return checked.data as Record<string, unknown>;
}

const onDemandCache = new WeakMap<Registry, WeakMap<readonly FeatureRef[], OnDemandViewDef[]>>();

/** The on-demand views among refs; remembered per registry and refs list (a service's is the same list each time). */
export function onDemandOf(registry: Registry, refs: readonly FeatureRef[]): OnDemandViewDef[] {
  let byRefs = onDemandCache.get(registry);
  if (!byRefs) onDemandCache.set(registry, (byRefs = new WeakMap()));
  let found = byRefs.get(refs);
  if (!found) {
    found = [...new Set(refs.map((r) => r.view))].map((v) => registry.onDemandView(v)).filter((d): d is OnDemandViewDef => d !== undefined);
    byRefs.set(refs, found);
  }
  return found;
}

/** The stored features asked for, and those to retrieve: them and every on-demand input, once each. */
export function storedRefs(registry: Registry, refs: readonly FeatureRef[], onDemand: OnDemandViewDef[]): { stored: FeatureRef[]; needed: FeatureRef[] } {
  const stored = refs.filter((r) => !registry.onDemandView(r.view));
  return { stored, needed: [...new Map([...stored, ...onDemand.flatMap((d) => inputRefs(registry, d))].map((r) => [fullName(r), r])).values()] };
}

export async function getFeaturesWithOnDemand(
  registry: Registry,
  store: OnlineStore,
  req: OnlineRequest & { requestData?: RequestData },
  maxEntities: number,
): Promise<OnlineResponse> {
  const onDemand = onDemandOf(registry, req.refs);
  if (onDemand.length === 0) return getOnlineFeatures(registry, store, req, maxEntities);
  const { stored, needed } = storedRefs(registry, req.refs, onDemand);
  const inner = needed.length ? await getOnlineFeatures(registry, store, { ...req, refs: needed, fullNames: true }, maxEntities) : await emptyLookup(req, maxEntities);
  const data = req.requestData ?? {};
  const n = inner.results.length;
  for (const [k, values] of Object.entries(data)) {
    if (!Array.isArray(values) || values.length !== n) throw new BadRequestError(`requestData.${k.slice(0, 60)}: give one value per entity (${n})`, "invalid_request_data");
  }
  const names = req.refs.map((r) => (req.fullNames ? fullName(r) : r.feature));
  // Once per request, not per entity: each function's inputs, with the names looked up under.
  const inputs = onDemand.map((d) => inputColumns(registry, d));
  const results = inner.results.map((r, i) => {
    const computed = new Map<string, Record<string, unknown>>();
    for (const [j, d] of onDemand.entries()) {
      const row: Record<string, unknown> = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v[i]]));
      for (const { feature, column } of inputs[j]!) row[feature] = r.values[column];
      computed.set(d.name, computeOnDemand(d, row, `entity ${i}`));
    }
    const values: Record<string, unknown> = {};
    const statuses: Record<string, "present" | "missing" | "expired"> = {};
    req.refs.forEach((ref, j) => {
      const out = computed.get(ref.view);
      const v = out ? (out[ref.feature] ?? null) : r.values[fullName(ref)];
      values[names[j]!] = v;
      statuses[names[j]!] = out ? (v === null ? "missing" : "present") : r.statuses[fullName(ref)]!;
    });
    const eventTimestamps = Object.fromEntries(Object.entries(r.eventTimestamps).filter(([view]) => stored.some((s) => s.view === view)));
    return { entity: r.entity, values, statuses, eventTimestamps };
  });
  return { at: inner.at, features: names, results };
}

/** Entities with no stored feature to read (an on-demand view over request data only). */
async function emptyLookup(req: OnlineRequest, max: number): Promise<OnlineResponse> {
  const keys = Object.keys(req.entities);
  const n = keys.length ? req.entities[keys[0]!]!.length : 0;
  if (n > max) throw new BadRequestError(`too many entities: ${n} in one request, the limit is ${max}`, "too_many_entities");
  return {
    at: new Date(req.at ?? Date.now()).toISOString(),
    features: [],
    results: Array.from({ length: n }, (_, i) => ({ entity: Object.fromEntries(keys.map((k) => [k, req.entities[k]![i]])), values: {}, statuses: {}, eventTimestamps: {} })),
  };
}
