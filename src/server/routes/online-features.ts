/** POST /v1/features/online: a service or "view:feature" refs, for many entities. */
import { z } from "zod";
import type { Larder } from "../../larder.ts";
import { resolveFeatures } from "../../online/online-features.ts";
import { parseInstant } from "../../time.ts";
import { readJson } from "../read-json.ts";
import { answerError } from "../error-handler.ts";
import type { Logger } from "../../log.ts";
import { authOf, type Auth } from "../auth.ts";

const KeyValue = z.union([z.string(), z.number()]);

export const OnlineFeaturesBody = z
  .strictObject({
    service: z.string().min(1).max(200).optional(),
    features: z.array(z.string().min(1).max(300)).min(1).max(1000).optional(),
    entities: z.record(z.string().max(200), z.array(KeyValue)),
    at: z.union([z.string().max(64), z.number()]).optional(),
    fullFeatureNames: z.boolean().optional(),
    /** Request data for on-demand features: field → one value per entity. */
    requestData: z.record(z.string().max(200), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))).optional(),
  })
  .refine((b) => (b.service === undefined) !== (b.features === undefined), { message: 'give either "service" or "features", not both', path: ["service"] });

export type OnlineFeaturesBody = z.output<typeof OnlineFeaturesBody>;

// requestData is left to zod: the fast path is for plain lookups.
const FIELDS = new Set(["service", "features", "entities", "at", "fullFeatureNames"]);
const isString = (v: unknown, min: number, max: number) => typeof v === "string" && v.length >= min && v.length <= max;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * OnlineFeaturesBody, checked by hand for the hot path: true only for bodies the schema
 * accepts as they are (online-features-body.test.ts holds it to that); everything else
 * goes to zod, which explains what is wrong.
 */
export function isOnlineFeaturesBody(b: unknown): b is OnlineFeaturesBody {
  if (!isPlainObject(b)) return false;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) return false;
  const { service, features, entities, at, fullFeatureNames } = b;
  if ((service === undefined) === (features === undefined)) return false;
  if (service !== undefined && !isString(service, 1, 200)) return false;
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length < 1 || features.length > 1000) return false;
    for (const f of features) if (!isString(f, 1, 300)) return false;
  }
  if (!isPlainObject(entities)) return false;
  for (const k of Object.keys(entities)) {
    const values = entities[k];
    // zod drops a "__proto__" key from records: leave such bodies to zod.
    if (k.length > 200 || k === "__proto__" || !Array.isArray(values)) return false;
    for (const v of values) if (typeof v !== "string" && typeof v !== "number") return false;
  }
  if (at !== undefined && typeof at !== "number" && !isString(at, 0, 64)) return false;
  if (fullFeatureNames !== undefined && typeof fullFeatureNames !== "boolean") return false;
  return true;
}

/**
 * The lookup as a plain Request → Response handler: `larder serve` gives it to Bun.serve as
 * a route of its own (hono's routing and context cost about a fifth of a lookup's CPU time
 * under load), and the hono app mounts the same handler, so both answer alike.
 */
export function onlineFeaturesHandler(larder: Larder, log: Logger, auth: Auth = authOf(larder.config)): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      auth.check(req, "read");
      const body = await readJson(req, OnlineFeaturesBody, larder.config.maxBodyBytes, isOnlineFeaturesBody);
      const at = body.at === undefined ? undefined : parseInstant(String(body.at), "at");
      const result = await larder.lookup({
        refs: resolveFeatures(larder.registry(), body),
        entities: body.entities,
        at,
        fullNames: body.fullFeatureNames,
        requestData: body.requestData,
      });
      // Bun's native Response.json: measurably cheaper than hono's c.json for these answers.
      return Response.json(result);
    } catch (err) {
      return answerError(err, req, log, larder.config.repoDir);
    }
  };
}
