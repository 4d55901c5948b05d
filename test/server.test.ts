/**
 * The HTTP API on a real server (loopback, free port): lookups by service and by refs,
 * registry routes, and bad input of every kind answered with a 4xx `{ code, message }`
 * naming the problem, with the store unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config/config.ts";
import { Larder } from "../src/larder.ts";
import { startServer } from "../src/server/start-server.ts";
import { FEATURES_TS, T0, eventsCsv, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
let repo: TempRepo;
let server: ReturnType<typeof startServer>;
let base: string;
let served: Larder;

beforeAll(async () => {
  repo = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": eventsCsv(randomEvents(31)) });
  await repo.larder.apply();
  await repo.larder.materialize({ end: T0 + 20 * DAY });
  await repo.larder.close();
  served = new Larder(loadConfig({ repoDir: repo.dir, port: 0, maxEntitiesPerRequest: 50, maxBodyBytes: 4096 }, {}));
  server = startServer(served);
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop();
  await repo.cleanup();
});

const post = (path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(base + path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
const at = new Date(T0 + 20 * DAY + 3_600_000).toISOString();

describe("lookups", () => {
  test("by service, several entities, with statuses and event timestamps", async () => {
    const res = await post("/v1/features/online", { service: "all", entities: { user_id: [1, 7, "2"] }, at });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.at).toBe(at);
    expect(body.features).toContain("count_1d");
    expect(body.results).toHaveLength(3);
    expect(body.results[0].entity).toEqual({ user_id: 1 });
    expect(body.results[0].statuses.life_count).toBe("present");
    expect(typeof body.results[0].values.life_count).toBe("number");
    expect(body.results[0].eventTimestamps.user_stats).toMatch(/^2026-01-/);
    expect(body.results[1].statuses.life_count).toBe("missing");
    expect(body.results[1].values.life_count).toBeNull();
    expect(body.results[1].eventTimestamps.user_stats).toBeNull();
    expect(body.results[2].statuses.life_count).toBe("present"); // "2" is accepted as the integer 2
  });

  test("by feature refs, with full names", async () => {
    const res = await post("/v1/features/online", { features: ["user_stats:count_1d", "user_stats:doubled"], entities: { user_id: [1] }, at, fullFeatureNames: true });
    const body = (await res.json()) as any;
    expect(body.features).toEqual(["user_stats__count_1d", "user_stats__doubled"]);
    expect(Object.keys(body.results[0].values)).toEqual(["user_stats__count_1d", "user_stats__doubled"]);
  });

  test("registry and health", async () => {
    const reg = (await (await fetch(`${base}/v1/registry`)).json()) as any;
    expect(reg.featureViews[0].name).toBe("user_stats");
    const view = (await (await fetch(`${base}/v1/registry/feature-views/user_stats`)).json()) as any;
    expect(view.served.version).toBe(view.version);
    expect(view.served.watermark).toBe(new Date(T0 + 20 * DAY).toISOString());
    const health = (await (await fetch(`${base}/health`)).json()) as any;
    expect(health.status).toBe("ok");
    expect((await fetch(`${base}/v1/registry/feature-views/nope`)).status).toBe(404);
  });
});

describe("Feast's POST /get-online-features", () => {
  // Without `at`, both routes answer as of now: months after the data, so every window is
  // empty and every latest value past its ttl, whatever the instant within the test.
  test("the same lookup as /v1/features/online, by column, with Feast's statuses and times", async () => {
    const entities = { user_id: [1, 7, 2] };
    const res = await post("/get-online-features", { feature_service: "all", entities });
    expect(res.status).toBe(200);
    const feast = (await res.json()) as { metadata: { feature_names: string[] }; results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[] };
    const own = (await (await post("/v1/features/online", { service: "all", entities })).json()) as any;
    expect(feast.metadata.feature_names).toEqual(["user_id", ...own.features]);
    expect(feast.results[0]).toEqual({ values: [1, 7, 2], statuses: ["PRESENT", "PRESENT", "PRESENT"], event_timestamps: Array(3).fill("1970-01-01T00:00:00Z") });
    const column = (name: string) => feast.results[feast.metadata.feature_names.indexOf(name)]!;
    for (const name of own.features as string[]) expect(column(name).values).toEqual(own.results.map((r: any) => r.values[name]));
    // user 1: past its ttl, windows empty, lifetime counted; user 7: never seen.
    expect(column("doubled").statuses).toEqual(["OUTSIDE_MAX_AGE", "NOT_FOUND", "OUTSIDE_MAX_AGE"]);
    expect(column("count_1d")).toMatchObject({ values: [0, null, 0], statuses: ["PRESENT", "NOT_FOUND", "PRESENT"] });
    expect(column("mean_7d")).toMatchObject({ values: [null, null, null], statuses: ["NULL_VALUE", "NOT_FOUND", "NULL_VALUE"] });
    expect(column("life_count").statuses).toEqual(["PRESENT", "NOT_FOUND", "PRESENT"]);
    expect(column("life_count").values[0]).toBeGreaterThan(0);
    const ts = own.results[0].eventTimestamps.user_stats as string;
    expect(column("life_count").event_timestamps).toEqual([ts.replace(".000Z", "Z"), "1970-01-01T00:00:00Z", own.results[2].eventTimestamps.user_stats.replace(".000Z", "Z")]);
  });

  test("what Feast accepts: a service beside features, entity names, unread columns, string keys, versioned refs", async () => {
    const answer = async (body: unknown) => {
      const res = await post("/get-online-features", body);
      expect(res.status).toBe(200);
      return (await res.json()) as { metadata: { feature_names: string[] }; results: { values: unknown[] }[] };
    };
    const plain = await answer({ feature_service: "all", entities: { user_id: [1, 2] } });
    // The service decides; the features list beside it is not read (Feast's server does the same).
    expect(await answer({ feature_service: "all", features: ["user_stats:life_count"], entities: { user_id: [1, 2] } })).toEqual(plain);
    // The entity's name for its join key, and a column nobody reads, as Feast's UI sends them.
    expect(await answer({ feature_service: "all", entities: { user: [1, 2], note: ["x", "y"] } })).toEqual(plain);
    // A string key of an int64 entity is echoed as the number it is.
    expect(await answer({ feature_service: "all", entities: { user_id: ["1", "2"] } })).toEqual(plain);
    const byRef = await answer({ features: ["user_stats:life_count", "user_stats:doubled"], entities: { user_id: [1] } });
    expect(await answer({ features: ["user_stats@latest:life_count", "user_stats@v1:doubled"], entities: { user_id: [1] } })).toEqual(byRef);
  });

  test("features by ref, with full names", async () => {
    const res = await post("/get-online-features", { features: ["user_stats:life_count", "user_stats:doubled"], entities: { user_id: [1] }, full_feature_names: true });
    const body = (await res.json()) as any;
    expect(body.metadata.feature_names).toEqual(["user_id", "user_stats__life_count", "user_stats__doubled"]);
  });

  const refusals: [string, unknown, number, RegExp][] = [
    ["malformed JSON", '{"feature_service": "all", "entities": {', 422, /malformed JSON body/],
    ["unknown service", { feature_service: "nope", entities: { user_id: [1] } }, 404, /feature service "nope" not found/],
    ["unknown feature", { features: ["user_stats:nope"], entities: { user_id: [1] } }, 404, /has no feature "nope"/],
    ["neither service nor features", { entities: { user_id: [1] } }, 422, /give "feature_service" or "features"/],
    [
      "no join key, only columns nobody reads",
      { feature_service: "all", entities: { "'; DROP TABLE x; --": [1] } },
      422,
      /no join key of the features asked for \(user_id\); "'; DROP TABLE x; --" is neither a join key, an entity name nor request data/,
    ],
    [
      "a version the view does not serve",
      { features: ["user_stats@v7:life_count"], entities: { user_id: [1] } },
      422,
      /feature view "user_stats" v7 is not a version it had; it serves v1 \(@\w+\): ask for that or @latest/,
    ],
    [
      "a join key that is not a string or a number",
      { feature_service: "all", entities: { user_id: [true] } },
      422,
      /entities\.user_id\[0\]: a join key value is a string or a number, not true/,
    ],
    ["a string where an int64 key goes", { feature_service: "all", entities: { user_id: ["abc"] } }, 422, /must be an integer \(int64\)/],
    ["too many entities", { feature_service: "all", entities: { user_id: Array.from({ length: 51 }, (_, i) => i) } }, 422, /51 in one request, the limit is 50/],
    ["oversized body", { feature_service: "all", entities: { user_id: [1] }, pad: "x".repeat(5000) }, 413, /larger than 4096 bytes/],
  ];
  for (const [name, body, status, detail] of refusals) {
    test(`refused: ${name} → ${status}`, async () => {
      const before = await served.store().pointers();
      const res = await post("/get-online-features", body);
      expect(res.status).toBe(status);
      // A missing object is Feast's typed exception as a JSON string; other refusals { detail }.
      const answer = (await res.json()) as string | { detail: string };
      expect(typeof answer === "string" ? (JSON.parse(answer) as { message: string }).message : answer.detail).toMatch(detail);
      expect(await served.store().pointers()).toEqual(before);
    });
  }
});

describe("bad input gets a 4xx naming the problem and changes nothing", () => {
  const cases: [string, () => Promise<Response>, number, string, RegExp][] = [
    ["malformed JSON", () => post("/v1/features/online", '{"service": "all", "entities": {'), 400, "malformed_json", /malformed JSON body/],
    [
      "not JSON content-type",
      () => post("/v1/features/online", "service=all", { "content-type": "application/x-www-form-urlencoded" }),
      400,
      "unsupported_media_type",
      /content-type: application\/json/,
    ],
    ["unknown service", () => post("/v1/features/online", { service: "nope", entities: { user_id: [1] } }), 404, "not_found", /feature service "nope" not found/],
    [
      "unknown feature",
      () => post("/v1/features/online", { features: ["user_stats:nope"], entities: { user_id: [1] } }),
      404,
      "not_found",
      /feature view "user_stats" has no feature "nope"/,
    ],
    ["unknown view", () => post("/v1/features/online", { features: ["ghost:x"], entities: { user_id: [1] } }), 404, "not_found", /feature view "ghost" not found/],
    ["not a ref", () => post("/v1/features/online", { features: ["count_1d"], entities: { user_id: [1] } }), 404, "not_found", /use "view:feature"/],
    [
      "both service and features",
      () => post("/v1/features/online", { service: "all", features: ["user_stats:count_1d"], entities: { user_id: [1] } }),
      400,
      "invalid_body",
      /either "service" or "features"/,
    ],
    [
      "string where an int64 key goes",
      () => post("/v1/features/online", { service: "all", entities: { user_id: ["abc"] } }),
      400,
      "invalid_entity_key",
      /join key "user_id" must be an integer \(int64\), got the string "abc"/,
    ],
    ["fractional key", () => post("/v1/features/online", { service: "all", entities: { user_id: [1.5] } }), 400, "invalid_entity_key", /must be an integer/],
    [
      "huge key",
      () => post("/v1/features/online", { service: "all", entities: { user_id: [1e300] } }),
      400,
      "invalid_entity_key",
      /is a number beyond ±\(2\^53 − 1\), which a JSON number cannot hold exactly \(it arrived as 1e\+300\): send int64 keys that large as strings of digits/,
    ],
    ["object as key", () => post("/v1/features/online", { service: "all", entities: { user_id: [{ $ne: 1 }] } }), 400, "invalid_body", /entities\.user_id\[0\]/],
    ["missing join key", () => post("/v1/features/online", { service: "all", entities: { account: [1] } }), 400, "invalid_entities", /missing join key "user_id"/],
    ["uneven key lists", () => post("/v1/features/online", { service: "all", entities: { user_id: [1, 2], other: [1] } }), 400, "invalid_entities", /same number of values/],
    ["no entities", () => post("/v1/features/online", { service: "all", entities: { user_id: [] } }), 400, "invalid_entities", /no entity given/],
    [
      "too many entities",
      () => post("/v1/features/online", { service: "all", entities: { user_id: Array.from({ length: 51 }, (_, i) => i) } }),
      400,
      "too_many_entities",
      /51 in one request, the limit is 50/,
    ],
    [
      "oversized body",
      () => post("/v1/features/online", { service: "all", entities: { user_id: [1] }, pad: "x".repeat(5000) }),
      413,
      "payload_too_large",
      /larger than 4096 bytes/,
    ],
    ["unknown field", () => post("/v1/features/online", { service: "all", entities: { user_id: [1] }, hack: 1 }), 400, "invalid_body", /Unrecognized key: "hack"/],
    ["bad at", () => post("/v1/features/online", { service: "all", entities: { user_id: [1] }, at: "yesterday" }), 400, "invalid_time", /at "yesterday" is not an ISO-8601 time/],
    [
      "at before the watermark",
      () => post("/v1/features/online", { service: "all", entities: { user_id: [1] }, at: "2020-01-01T00:00:00Z" }),
      400,
      "at_before_watermark",
      /before the data served/,
    ],
    ["SQL-looking service name", () => post("/v1/features/online", { service: "all'; DROP TABLE x; --", entities: { user_id: [1] } }), 404, "not_found", /not found/],
    ["path traversal in a route", () => fetch(`${base}/v1/registry/feature-views/..%2F..%2Fetc%2Fpasswd`), 404, "not_found", /not found/],
    ["unknown route", () => fetch(`${base}/v1/nothing`), 404, "not_found", /no route GET \/v1\/nothing/],
    ["a JSON array body", () => post("/v1/features/online", "[1,2]"), 400, "invalid_body", /expected object/],
    [
      "a long hostile string key",
      () => post("/v1/features/online", { service: "all", entities: { user_id: ["\u0000".repeat(300)] } }),
      400,
      "invalid_entity_key",
      /must be an integer/,
    ],
  ];
  for (const [name, send, status, code, message] of cases) {
    test(name, async () => {
      const before = await served.store().pointers();
      const res = await send();
      expect(res.status).toBe(status);
      const body = (await res.json()) as any;
      expect(body.code).toBe(code);
      expect(body.message).toMatch(message);
      expect(await served.store().pointers()).toEqual(before);
    });
  }
});
