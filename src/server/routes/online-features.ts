/** POST /v1/features/online: a service or "view:feature" refs, for many entities. */
import { Hono } from "hono";
import { z } from "zod";
import type { Larder } from "../../larder.ts";
import { getOnlineFeatures, resolveFeatures } from "../../online/online-features.ts";
import { parseInstant } from "../../time.ts";
import { readJson } from "../read-json.ts";

const KeyValue = z.union([z.string(), z.number()]);

export const OnlineFeaturesBody = z
  .strictObject({
    service: z.string().min(1).max(200).optional(),
    features: z.array(z.string().min(1).max(300)).min(1).max(1000).optional(),
    entities: z.record(z.string().max(200), z.array(KeyValue)),
    at: z.union([z.string().max(64), z.number()]).optional(),
    fullFeatureNames: z.boolean().optional(),
  })
  .refine((b) => (b.service === undefined) !== (b.features === undefined), { message: 'give either "service" or "features", not both', path: ["service"] });

export function onlineFeaturesRoute(larder: Larder) {
  return new Hono().post("/", async (c) => {
    const body = await readJson(c, OnlineFeaturesBody, larder.config.maxBodyBytes);
    const registry = larder.registry();
    const refs = resolveFeatures(registry, body);
    const at = body.at === undefined ? undefined : parseInstant(String(body.at), "at");
    const result = await getOnlineFeatures(registry, larder.store(), { refs, entities: body.entities, at, fullNames: body.fullFeatureNames }, larder.config.maxEntitiesPerRequest);
    return c.json(result);
  });
}
