/**
 * The compute functions of on-demand feature views, as loaded from features/*.ts in this
 * process. The registry keeps their source text (and version), not the functions: a
 * server runs them from the feature files it loaded, and refuses when the file's function
 * is not the version that was applied.
 */
import type { z } from "zod";
import { NotAppliedError } from "../errors.ts";
import type { OnDemandViewDef } from "./types.ts";

export type OnDemandFunction = { compute: (row: Record<string, unknown>) => Record<string, unknown>; request: z.ZodObject; output: z.ZodObject; version: string };

const loaded = new Map<string, OnDemandFunction>();

export function rememberOnDemand(name: string, fn: OnDemandFunction): void {
  loaded.set(name, fn);
}

/** The function of an applied on-demand view, as loaded, at the applied version. */
export function onDemandFunction(def: OnDemandViewDef): OnDemandFunction {
  const fn = loaded.get(def.name);
  if (!fn) throw new NotAppliedError(`on-demand feature view "${def.name}": its function is not loaded here; run from the feature repo that defines it`);
  if (fn.version !== def.version)
    throw new NotAppliedError(`on-demand feature view "${def.name}" changed in features/ since it was applied (@${def.version} applied, @${fn.version} loaded): run larder apply`);
  return fn;
}
