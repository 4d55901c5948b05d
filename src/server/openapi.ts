/**
 * The OpenAPI 3.1 document of the HTTP API (GET /openapi.json). Request bodies are the zod
 * schemas the routes validate with, turned into JSON Schema here, so the document cannot
 * drift from what the server accepts; test/openapi.test.ts checks that every route the app
 * answers is in it and that it is valid OpenAPI.
 */
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };
import { FeastOnlineBody } from "./routes/feast-online-features.ts";
import { OnlineFeaturesBody } from "./routes/online-features.ts";
import { FeastPushBody, FeastWriteBody, PushBody } from "./routes/push-routes.ts";
import { MaterializeBody } from "./routes/schedule-routes.ts";
import { FeastMaterializeBody, FeastMaterializeIncrementalBody } from "./routes/feast-materialize-routes.ts";
import { ScoreBody } from "./routes/score-routes.ts";

const ErrorBody = z.object({ code: z.string().meta({ description: "stable, machine-readable" }), message: z.string().meta({ description: "what went wrong and what to do" }) });
const FeastErrorBody = z.object({ detail: z.string() });
const Status = z.enum(["present", "missing", "expired", "outside_max_age"]);
const OnlineFeaturesResponse = z.object({
  at: z.string().meta({ description: "the instant the features are as of (ISO 8601)" }),
  features: z.array(z.string()),
  results: z.array(
    z.object({
      entity: z.record(z.string(), z.union([z.string(), z.number()])),
      values: z.record(z.string(), z.unknown()),
      statuses: z.record(z.string(), z.string().meta({ description: Status.options.join(", ") })),
      eventTimestamps: z.record(z.string(), z.string().nullable()),
    }),
  ),
});
const PushResponse = z.object({
  source: z.string(),
  rows: z.number().int(),
  to: z.string(),
  duplicates: z.number().int().meta({ description: "rows whose event id was already applied (counted once)" }),
  views: z.array(z.string()),
});
const Health = z.object({ status: z.literal("ok"), store: z.string(), views: z.record(z.string(), z.object({ version: z.string(), watermark: z.string() })) });

type Route = {
  method: "get" | "post";
  path: string;
  summary: string;
  scope: "none" | "read" | "write" | "admin";
  body?: z.ZodType;
  response?: z.ZodType;
  /** The route answers as Feast's feature server does: errors are { detail }. */
  feast?: boolean;
  query?: [name: string, description: string][];
  text?: boolean;
  /** The body and the answer are Parquet files. */
  parquet?: boolean;
};

/** Every route of the API (the web UI's pages under / and /ui/ are not API). */
export const API_ROUTES: Route[] = [
  { method: "get", path: "/health", summary: "200 while the registry and the online store answer (with what each view serves), 503 otherwise", scope: "none", response: Health },
  { method: "get", path: "/openapi.json", summary: "This document", scope: "none" },
  {
    method: "post",
    path: "/v1/features/online",
    summary: "Online lookup of a service's or a feature list's features for entities",
    scope: "read",
    body: OnlineFeaturesBody,
    response: OnlineFeaturesResponse,
  },
  { method: "post", path: "/get-online-features", summary: "Feast's online lookup, answered in Feast's shape", scope: "read", body: FeastOnlineBody, feast: true },
  { method: "post", path: "/v1/push", summary: "Push rows to a push source (online, offline or both)", scope: "write", body: PushBody, response: PushResponse },
  { method: "post", path: "/push", summary: "Feast's push: a push source and a column-wise df", scope: "write", body: FeastPushBody, feast: true },
  {
    method: "post",
    path: "/write-to-online-store",
    summary: "Feast's remote online store write: one view's rows, applied online to that view as events of its push source",
    scope: "write",
    body: FeastWriteBody,
    feast: true,
  },
  { method: "post", path: "/v1/materialize", summary: "Materialize views now (incremental unless full)", scope: "admin", body: MaterializeBody },
  {
    method: "post",
    path: "/materialize",
    summary: "Feast's materialize: views over [start_ts, end_ts); ?async=true answers 202 and runs on",
    scope: "admin",
    body: FeastMaterializeBody,
    feast: true,
    query: [["async", "true: answer 202 at once, 409 if a view is being materialized here"]],
  },
  {
    method: "post",
    path: "/materialize-incremental",
    summary: "Feast's materialize-incremental: views from their watermark up to end_ts",
    scope: "admin",
    body: FeastMaterializeIncrementalBody,
    feast: true,
    query: [["async", "true: answer 202 at once, 409 if a view is being materialized here"]],
  },
  { method: "get", path: "/v1/schedules", summary: "Views' schedules, last and next runs", scope: "read" },
  { method: "post", path: "/v1/score/{model}", summary: "Score with a trained model: join keys and request data in, probability out", scope: "read", body: ScoreBody },
  { method: "get", path: "/v1/registry", summary: "Everything applied: entities, sources, views, services", scope: "read" },
  { method: "get", path: "/v1/registry/entities/{name}", summary: "An entity", scope: "read" },
  { method: "get", path: "/v1/registry/sources/{name}", summary: "A source", scope: "read" },
  { method: "get", path: "/v1/registry/feature-views/{name}", summary: "A feature view with its versions and what is served", scope: "read" },
  { method: "get", path: "/v1/registry/feature-services/{name}", summary: "A feature service", scope: "read" },
  {
    method: "get",
    path: "/v1/runs",
    summary: "Runs, newest first",
    scope: "read",
    query: [
      ["kind", "materialize, push or historical"],
      ["view", "only runs of this view"],
      ["status", "succeeded or failed"],
      ["limit", "how many, 1 to 500 (default 20)"],
    ],
  },
  { method: "get", path: "/v1/runs/{id}", summary: "One run record", scope: "read" },
  {
    method: "post",
    path: "/v1/features/historical",
    summary: "A point-in-time training set: the entity table as Parquet in, the training set as Parquet out (x-larder-run-id, x-larder-rows)",
    scope: "read",
    parquet: true,
    query: [
      ["service", "the feature service (or features)"],
      ["features", "view:feature,… (or service)"],
      ["timestamp_column", "the entity table's timestamp column (default event_timestamp)"],
      ["full_names", "true: columns named view__feature"],
    ],
  },
  { method: "get", path: "/v1/freshness", summary: "How old each view's served data is", scope: "read" },
  {
    method: "get",
    path: "/v1/drift",
    summary: "Drift of served values against their reference (PSI, KS)",
    scope: "read",
    query: [
      ["view", "only this view"],
      ["reference", "a historical run id whose training profile is the reference"],
    ],
  },
  { method: "get", path: "/metrics", summary: "Prometheus metrics", scope: "read", text: true },
];

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
const json = (schema: unknown) => ({ "application/json": { schema } });

function operation(r: Route) {
  const params = [
    ...[...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1]!, in: "path", required: true, schema: { type: "string" } })),
    ...(r.query ?? []).map(([name, description]) => ({ name, in: "query", required: false, description, schema: { type: "string" } })),
  ];
  const error = r.feast ? { $ref: "#/components/schemas/FeastError" } : { $ref: "#/components/schemas/Error" };
  const parquet = { "application/vnd.apache.parquet": { schema: { type: "string", contentEncoding: "binary" } } };
  const ok = r.text ? { "text/plain": { schema: { type: "string" } } } : r.parquet ? parquet : json(r.response ? jsonSchema(r.response) : {});
  return {
    summary: r.summary,
    operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    ...(r.scope === "none" ? { security: [] } : {}),
    ...(r.scope !== "none" ? { description: `Needs a token of scope "${r.scope}" when tokens are configured.` } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(r.body ? { requestBody: { required: true, content: json(jsonSchema(r.body)) } } : r.parquet ? { requestBody: { required: true, content: parquet } } : {}),
    responses: {
      "200": { description: "OK", content: ok },
      ...(r.body || r.parquet ? { "400": { description: "Bad input, named in the message", content: json(error) } } : {}),
      ...(r.scope !== "none"
        ? {
            "401": { description: "No token, or an unknown one", content: json({ $ref: "#/components/schemas/Error" }) },
            "403": { description: "The token's scope is too small", content: json({ $ref: "#/components/schemas/Error" }) },
          }
        : {}),
      ...(r.path.includes("{") || r.body ? { "404": { description: "Unknown name", content: json(error) } } : {}),
      ...(r.body ? { "413": { description: "Body over LARDER_MAX_BODY_BYTES", content: json(error) } } : {}),
      ...(r.parquet ? { "413": { description: "Body over LARDER_MAX_UPLOAD_BYTES", content: json(error) } } : {}),
    },
  };
}

let built: ReturnType<typeof buildDocument> | undefined;

/** The document, built once per process (the schemas do not change while it runs). */
export function openApiDocument() {
  built ??= buildDocument();
  return built;
}

function buildDocument() {
  const paths: Record<string, Record<string, ReturnType<typeof operation>>> = {};
  for (const r of API_ROUTES) (paths[r.path] ??= {})[r.method] = operation(r);
  return {
    openapi: "3.1.0",
    info: { title: "Larder", version: pkg.version, description: "A feature store in one executable: online lookups, pushes, materialization, runs, monitoring." },
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody), FeastError: jsonSchema(FeastErrorBody) },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
  };
}
