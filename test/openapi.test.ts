/**
 * GET /openapi.json: a valid OpenAPI 3.1 document (checked by an independent validator
 * from npm) listing exactly the routes the app answers, with request bodies from the
 * schemas the routes validate with.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createApp } from "../src/server/app.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const r = tempRepo({}, { tokens: "read=r-0123456789abcdef,write=w-0123456789abcdef,admin=a-0123456789abcdef" });
const app = createApp(r.larder, () => {});
afterAll(() => r.cleanup());

describe("OpenAPI", () => {
  test("GET /openapi.json needs no token and is valid OpenAPI 3.1", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test("it lists every route the app answers, and no other", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as any;
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`))
      .sort();
    const answered = [
      ...new Set(app.routes.filter((x) => x.method !== "ALL" && !x.path.startsWith("/ui") && x.path !== "/").map((x) => `${x.method} ${x.path.replace(/\/$/, "")}`)),
    ].sort();
    expect(documented).toEqual(answered);
  });

  test("request bodies are the routes' own schemas", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as any;
    const lookup = doc.paths["/v1/features/online"].post;
    const body = lookup.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["entities"]);
    expect(Object.keys(body.properties).sort()).toEqual(["at", "entities", "features", "fullFeatureNames", "requestData", "service"]);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.features).toMatchObject({ type: "array", minItems: 1, maxItems: 1000 });
    const push = doc.paths["/v1/push"].post.requestBody.content["application/json"].schema;
    expect(push.properties.to.enum).toEqual(["online", "offline", "online_and_offline"]);
    expect(doc.paths["/v1/materialize"].post.description).toBe('Needs a token of scope "admin" when tokens are configured.');
    expect(doc.paths["/get-online-features"].post.responses["400"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/FeastError" });
  });
});
