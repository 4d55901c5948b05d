/**
 * POST /get-online-features: Feast's feature server lookup, so a client written for
 * `feast serve` works against `larder serve` unchanged. The same lookup as
 * POST /v1/features/online, with Feast's body and answer:
 * - body `{ entities: { col: [...] }, feature_service | features, full_feature_names }`;
 *   `entities` holds join keys (or entity names) and, as in Feast, on-demand views'
 *   request data; other columns are not read; a service, when given, decides;
 *   `view@latest:feature` and `view@vN:feature` name the applied version;
 * - answer by column: `metadata.feature_names` (the join keys, then the features) and one
 *   `results` entry per name with `values`, `statuses` (PRESENT, NOT_FOUND,
 *   OUTSIDE_MAX_AGE, NULL_VALUE) and `event_timestamps` (the epoch where there is none).
 * Refused requests answer as Feast's server does (feast-errors.ts); a missing or weak token
 * is 401/403 `{ code, message }` as on every route.
 */
import { z } from "zod";
import type { Larder } from "../../larder.ts";
import { BadRequestError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { resolveFeatures, type FeatureStatus, type OnlineResponse } from "../../online/online-features.ts";
import type { FeatureRef } from "../../definitions/types.ts";
import type { Registry } from "../../registry/registry.ts";
import { readJson } from "../read-json.ts";
import { answerError } from "../error-handler.ts";
import { authOf, type Auth } from "../auth.ts";
import { feastRefusal } from "./feast-errors.ts";
import { feastAnswerJson, type FeastAnswer, type FeastVector } from "../feast/feast-json.ts";
import { valueTypeOf, type FeastValueType } from "../feast/value-types.ts";

const Value = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const FeastOnlineBody = z
  .object({
    entities: z.record(z.string().max(200), z.array(Value)),
    feature_service: z.string().min(1).max(200).optional(),
    features: z.array(z.string().min(1).max(300)).min(1).max(1000).optional(),
    full_feature_names: z.boolean().optional(),
  })
  // As Feast's server: a feature service, when given, decides (a features list beside it is not read).
  .refine((b) => b.feature_service !== undefined || b.features !== undefined, { message: 'give "feature_service" or "features"', path: ["feature_service"] });

const STATUS: Record<FeatureStatus, string> = { present: "PRESENT", missing: "NOT_FOUND", expired: "OUTSIDE_MAX_AGE" };
/** What Feast answers for a join key and for a value with no event time (protobuf's zero Timestamp). */
const EPOCH = "1970-01-01T00:00:00Z";
/** Protobuf's JSON form of a Timestamp: no fraction for whole seconds. */
const protoTime = (iso: string | null | undefined) => (iso ? iso.replace(".000Z", "Z") : EPOCH);

export function feastOnlineFeaturesHandler(larder: Larder, log: Logger, auth: Auth = authOf(larder.config)): (req: Request) => Promise<Response> {
  return async (req) => {
    // A token refused as on every route, { code, message } (the app's scope check answers first there).
    try {
      auth.check(req, "read");
    } catch (err) {
      return answerError(err, req, log, larder.config.repoDir);
    }
    try {
      const body = await readJson(req, FeastOnlineBody, larder.config.maxBodyBytes);
      const registry = larder.registry();
      const refs =
        body.feature_service !== undefined
          ? resolveFeatures(registry, { service: body.feature_service })
          : resolveFeatures(registry, { features: body.features!.map((f) => withoutVersion(registry, f)) });
      const result = await larder.lookup({ refs, fullNames: body.full_feature_names, ...splitEntities(registry, refs, body.entities) });
      const answer = feastAnswer(
        result,
        refs.map((r) => (registry.onDemandView(r.view) ? null : r.view)),
      );
      // Join keys of type int64 are echoed as numbers, however they were sent (as Feast does).
      const int64 = int64Keys(registry);
      const keyTypes = answer.metadata.feature_names.slice(0, answer.results.length - refs.length).map((k): FeastValueType => (int64.has(k) ? "INT64" : "STRING"));
      const types = [...keyTypes, ...refs.map((r) => valueTypeOf(registry, r.view, r.feature))];
      return new Response(feastAnswerJson(answer, types), { headers: { "content-type": "application/json" } });
    } catch (err) {
      return feastRefusal(err) ?? answerError(err, req, log, larder.config.repoDir);
    }
  };
}

/**
 * Feast's versioned references: `view@latest:feature` is the applied version; `view@vN:feature`
 * (N counted from 1 in the order versions were applied) only when it is the applied one,
 * since a lookup serves what is materialized from the applied definition.
 */
function withoutVersion(registry: Registry, ref: string): string {
  const m = /^([^@:]+)@(latest|v(\d+)):(.+)$/.exec(ref);
  if (!m) return ref;
  const [, view, , n, feature] = m;
  if (n !== undefined) {
    const entry = registry.viewEntry(view!);
    if (!entry) return `${view}:${feature}`; // named as missing by the lookup
    const asked = entry.versions[Number(n) - 1];
    if (asked?.version !== entry.current)
      throw new BadRequestError(
        `feature view "${view}" v${n} is ${asked ? `@${asked.version}` : "not a version it had"}; it serves v${entry.versions.findIndex((v) => v.version === entry.current) + 1} (@${entry.current}): ask for that or @latest`,
        "invalid_features",
      );
  }
  return `${view}:${feature}`;
}

/** Join keys of type int64. */
const int64Keys = (registry: Registry) => new Set(registry.entities().flatMap((e) => e.joinKeys.filter((k) => k.type === "int64").map((k) => k.name)));

/**
 * Feast's `entities` holds join keys and request data alike: a column is request data
 * when an on-demand view asked for reads it, a join key when an entity has it; an entity's
 * name stands for its join key (as Feast's UI sends them). Other columns are not read, as
 * Feast's server does not read them.
 */
function splitEntities(registry: Registry, refs: readonly FeatureRef[], columns: Record<string, unknown[]>) {
  const requestFields = new Set(refs.flatMap((r) => registry.onDemandView(r.view)?.request.map((q) => q.name) ?? []));
  const joinKeys = new Set(registry.entities().flatMap((e) => e.joinKeys.map((k) => k.name)));
  const byEntityName = new Map(registry.entities().flatMap((e) => (e.joinKeys.length === 1 ? [[e.name, e.joinKeys[0]!.name] as const] : [])));
  const entities: Record<string, (string | number)[]> = {};
  const requestData: Record<string, unknown[]> = {};
  for (const [column, values] of Object.entries(columns)) {
    const name = joinKeys.has(column) || requestFields.has(column) ? column : (byEntityName.get(column) ?? column);
    if (requestFields.has(name)) requestData[name] = values;
    else if (joinKeys.has(name)) {
      const bad = values.findIndex((v) => typeof v !== "string" && typeof v !== "number");
      if (bad >= 0) throw new BadRequestError(`entities.${name}[${bad}]: a join key value is a string or a number, not ${JSON.stringify(values[bad])}`, "invalid_entities");
      entities[name] = values as (string | number)[];
    }
  }
  // Columns nobody reads are let be; but with no join key at all, say which were not read.
  if (Object.keys(entities).length === 0 && Object.keys(columns).length > 0) {
    const needed = [...new Set(refs.flatMap((r) => (registry.onDemandView(r.view) ? [] : registry.view(r.view).entity.joinKeys.map((k) => k.name))))];
    const unread = Object.keys(columns).filter((c) => !requestFields.has(c));
    throw new BadRequestError(
      `entities: no join key of the features asked for (${needed.join(", ")}); ${unread.map((c) => `"${c.slice(0, 60)}"`).join(", ")} ${unread.length === 1 ? "is" : "are"} neither a join key, an entity name nor request data`,
      "invalid_entities",
    );
  }
  return { entities, requestData };
}

/** Larder's answer by entity, turned into Feast's by column. `views[j]`: feature j's stored view (null: on-demand). */
function feastAnswer(result: OnlineResponse, views: (string | null)[]): FeastAnswer {
  const keys = result.results.length ? Object.keys(result.results[0]!.entity) : [];
  const n = result.results.length;
  const results: FeastVector[] = keys.map((k) => ({
    values: result.results.map((r) => r.entity[k]),
    statuses: new Array<string>(n).fill("PRESENT"),
    event_timestamps: new Array<string>(n).fill(EPOCH),
  }));
  result.features.forEach((name, j) => {
    const view = views[j];
    const vector: FeastVector = { values: new Array(n), statuses: new Array(n), event_timestamps: new Array(n) };
    result.results.forEach((r, i) => {
      const v = r.values[name] ?? null;
      const status = r.statuses[name]!;
      vector.values[i] = v;
      vector.statuses[i] = status === "present" && v === null ? "NULL_VALUE" : STATUS[status];
      vector.event_timestamps[i] = protoTime(view ? r.eventTimestamps[view] : null);
    });
    results.push(vector);
  });
  return { metadata: { feature_names: [...keys, ...result.features] }, results };
}
