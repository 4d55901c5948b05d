/**
 * Tokens with scopes: once any token is configured, writes need one (push: write,
 * materialize: admin), reads too unless opened; answers are 401/403 JSON naming what is
 * needed, never echoing a token; /health stays open; the Bun lookup route enforces the same.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import type { LogEvent } from "../src/log.ts";
import { createApp } from "../src/server/app.ts";
import { startServer } from "../src/server/start-server.ts";
import { feastOnlineFeaturesHandler } from "../src/server/routes/feast-online-features.ts";
import { PUSH_FEATURES_TS, pushCsv, pushRow } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const READ = "r-0123456789abcdef";
const WRITE = "w-0123456789abcdef";
const ADMIN = "a-0123456789abcdef";
const TOKENS = `read=${READ},write=${WRITE},admin=${ADMIN}`;
const events = randomEvents(95, 60);

async function repo(config: Record<string, string>): Promise<TempRepo> {
  const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(events) }, { port: "0", ...config });
  repos.push(r);
  await r.larder.apply();
  await r.larder.materialize({ end: T0 + 21 * 86_400_000 });
  return r;
}

const json = (body: unknown, token?: string) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const lookup = { service: "all", entities: { user_id: [1] } };
const push = { source: "events_push", rows: [pushRow({ key: 1, ts: T0 + 22 * 86_400_000, seq: 1, amount: 1, category: "a" })] };

describe("auth", () => {
  test("each route needs its scope; 401 without or with an unknown token, 403 with too small a scope", async () => {
    const r = await repo({ tokens: TOKENS });
    const events: LogEvent[] = [];
    const app = createApp(r.larder, (e) => events.push(e));
    const answer = async (path: string, init?: RequestInit) => {
      const res = await app.request(path, init);
      return { status: res.status, body: (await res.json()) as { code: string; message: string }, auth: res.headers.get("www-authenticate") };
    };
    expect((await app.request("/health")).status).toBe(200);
    expect(await answer("/v1/features/online", json(lookup))).toEqual({
      status: 401,
      auth: "Bearer",
      body: { code: "unauthorized", message: 'this needs a token with scope "read": send Authorization: Bearer <token>' },
    });
    const unknown = await answer("/v1/features/online", json(lookup, "not-a-token-0123456789"));
    expect(unknown).toMatchObject({ status: 401, body: { code: "unauthorized", message: "unknown token" } });
    expect((await app.request("/v1/features/online", json(lookup, READ))).status).toBe(200);
    const feastLookup = { feature_service: "all", entities: { user_id: [1] } };
    expect(await answer("/get-online-features", json(feastLookup))).toMatchObject({ status: 401, body: { code: "unauthorized" } });
    expect((await app.request("/get-online-features", json(feastLookup, READ))).status).toBe(200);
    expect((await app.request("/v1/registry", { headers: { authorization: `Bearer ${READ}` } })).status).toBe(200);
    expect((await app.request("/v1/runs")).status).toBe(401);

    expect(await answer("/v1/push", json(push, READ))).toMatchObject({ status: 403, body: { code: "forbidden", message: `this token's scope is "read"; this needs "write"` } });
    expect((await app.request("/v1/push", json(push, WRITE))).status).toBe(200);
    expect((await app.request("/push", json({ push_source_name: "events_push", df: { user_id: [1] } }))).status).toBe(401);
    expect(await answer("/v1/materialize", json({}, WRITE))).toMatchObject({ status: 403, body: { message: `this token's scope is "write"; this needs "admin"` } });
    expect((await app.request("/v1/materialize", json({ views: ["user_stats"] }, ADMIN))).status).toBe(200);
    // Admin includes write and read.
    expect((await app.request("/v1/features/online", json(lookup, ADMIN))).status).toBe(200);
    // No token ever appears in an answer or the log.
    expect(JSON.stringify(unknown) + JSON.stringify(events)).not.toContain("not-a-token");
  });

  test("open reads: lookups need no token, writes still do; the Bun lookup route enforces the same", async () => {
    const r = await repo({ tokens: TOKENS, openReads: "true" });
    const app = createApp(r.larder, () => {});
    expect((await app.request("/v1/features/online", json(lookup))).status).toBe(200);
    expect((await app.request("/get-online-features", json({ feature_service: "all", entities: { user_id: [1] } }))).status).toBe(200);
    expect((await app.request("/v1/push", json(push))).status).toBe(401);

    const closed = await repo({ tokens: TOKENS });
    const server = startServer(closed.larder, () => {});
    try {
      const url = `http://${server.hostname}:${server.port}/v1/features/online`;
      expect((await fetch(url, json(lookup))).status).toBe(401);
      expect((await fetch(url, json(lookup, READ))).status).toBe(200);
      // Feast's lookup as a worker serves it, outside the app: the handler checks the token itself.
      const feast = feastOnlineFeaturesHandler(closed.larder, () => {});
      const feastLookup = json({ feature_service: "all", entities: { user_id: [1] } });
      const refused = await feast(new Request("http://x/get-online-features", feastLookup));
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: string }).code).toBe("unauthorized");
      expect((await feast(new Request("http://x/get-online-features", json({ feature_service: "all", entities: { user_id: [1] } }, READ)))).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  test("tokens from a file; a malformed list is refused without echoing it", async () => {
    const r = await repo({});
    const file = join(r.dir, "tokens");
    writeFileSync(file, `read=${READ}\nadmin=${ADMIN}\n`);
    const config = loadConfig({ repoDir: r.dir }, { LARDER_TOKENS_FILE: file });
    expect(config.tokens).toContain("admin=");
    expect(() => loadConfig({ repoDir: r.dir }, { LARDER_TOKENS: "reader=secret-value-0123456789" })).toThrow(
      "token 1: write it as scope=token with scope one of read, write, admin",
    );
    expect(() => loadConfig({ repoDir: r.dir }, { LARDER_TOKENS: "read=short" })).toThrow("token 1 (read): at least 16 characters, please");
    try {
      loadConfig({ repoDir: r.dir }, { LARDER_TOKENS: "reader=secret-value-0123456789" });
    } catch (e) {
      expect((e as Error).message).not.toContain("secret-value");
    }
    expect(() => loadConfig({ repoDir: r.dir }, { LARDER_TOKENS_FILE: join(r.dir, "missing") })).toThrow(`LARDER_TOKENS_FILE ${join(r.dir, "missing")} cannot be read`);
  });
});
