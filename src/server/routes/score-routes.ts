/**
 * POST /v1/score/:model: a transaction in, a probability out. The body's fields are the
 * service's join keys and its on-demand views' request data (plus `at`); the features are
 * looked up (stored and on-demand, as a training set has them), the model applied, and the
 * answer names the features used and their versions. A model trained on other versions
 * than those served is refused: that is training/serving skew.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { Hono } from "hono";
import { z } from "zod";
import { BadRequestError, NotAppliedError, NotFoundError } from "../../errors.ts";
import type { Larder } from "../../larder.ts";
import { modelInput, predict } from "../../model/logistic.ts";
import { modelPath, ModelFileSchema, type ModelFile } from "../../model/train.ts";
import { parseStored } from "../../storage/stored-json.ts";
import { getFeaturesWithOnDemand } from "../../online/on-demand.ts";
import { parseInstant } from "../../time.ts";
import { readJson } from "../read-json.ts";

export const ScoreBody = z.record(z.string().max(200), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));

const cache = new Map<string, { mtimeMs: number; model: ModelFile }>();

function loadModel(dataDir: string, name: string): ModelFile {
  if (!/^[a-z_][a-z0-9_-]{0,62}$/.test(name)) throw new NotFoundError(`model "${name.slice(0, 80)}" not found`);
  const path = modelPath(dataDir, name);
  if (!existsSync(path)) throw new NotFoundError(`model "${name}" not found: train it with larder train --name ${name}`);
  const mtimeMs = statSync(path).mtimeMs;
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return hit.model;
  const model = parseStored(readFileSync(path, "utf8"), ModelFileSchema, `model file ${path}`, `train it again: larder train --name ${name}`);
  cache.set(path, { mtimeMs, model });
  return model;
}

export function scoreRoutes(larder: Larder) {
  return new Hono().post("/v1/score/:model", async (c) => {
    const model = loadModel(larder.config.dataDir, c.req.param("model"));
    const body = await readJson(c.req.raw, ScoreBody, larder.config.maxBodyBytes);
    const registry = larder.registry();
    const refs = model.features.map((f) => registry.resolveRef(f.ref));
    for (const [view, version] of Object.entries(model.versions)) {
      const now = registry.versionOf(view);
      if (now !== version)
        throw new NotAppliedError(`model "${model.name}" was trained on ${view}@${version}; ${view} is now @${now}: retrain it (larder train --name ${model.name})`);
    }
    // Which fields are join keys, which are request data: from the service's views.
    const keys = new Set(refs.flatMap((r) => (registry.onDemandView(r.view) ? [] : registry.view(r.view).entity.joinKeys.map((k) => k.name))));
    const request = new Set(refs.flatMap((r) => registry.onDemandView(r.view)?.request.map((q) => q.name) ?? []));
    const entities: Record<string, (string | number)[]> = {};
    const requestData: Record<string, unknown[]> = {};
    let at: number | undefined;
    for (const [k, v] of Object.entries(body)) {
      if (k === "at") at = parseInstant(String(v), "at");
      else if (keys.has(k)) entities[k] = [v as string | number];
      else if (request.has(k)) requestData[k] = [v];
      else throw new BadRequestError(`unknown field "${k.slice(0, 60)}": model "${model.name}" takes ${[...keys, ...request, "at"].join(", ")}`, "invalid_body");
    }
    for (const k of keys) if (!(k in entities)) throw new BadRequestError(`"${k}" is required (a join key of the features model "${model.name}" uses)`, "invalid_body");
    const result = await getFeaturesWithOnDemand(registry, larder.store(), { refs, entities, at, requestData }, 1);
    const values = result.results[0]!.values;
    const probability = predict(
      model.model,
      model.features.map((f) => modelInput(values[f.name])),
    );
    return c.json({
      model: model.name,
      trainedAt: model.trainedAt,
      at: result.at,
      probability,
      flagged: probability >= model.threshold,
      threshold: model.threshold,
      features: Object.fromEntries(model.features.map((f) => [f.name, values[f.name] ?? null])),
      versions: model.versions,
    });
  });
}
