/**
 * Thousands of malformed and hostile requests to every endpoint (broken JSON, wrong
 * types, huge numbers, unicode, SQL-looking and path-traversal strings, wrong methods and
 * content types, oversized bodies): every refusal is a 4xx JSON `{ code, message }`, no
 * answer is a 5xx, nothing is written, the server stays up and the stores are unchanged.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Random } from "../src/demo/random.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { startServer } from "../src/server/start-server.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";

/** A Feast push whose df has no rows: answered 200 with nothing written, as Feast's server does. */
function emptyFeastPush(p: { path: string; body?: unknown }): boolean {
  if (p.path !== "/push") return false;
  try {
    const df = (JSON.parse(String(p.body)) as { df?: unknown }).df;
    return typeof df === "object" && df !== null && !Object.values(df).some((v) => Array.isArray(v) && v.length > 0);
  } catch {
    return false;
  }
}
import { tempRepo } from "./helpers/temp-repo.ts";

const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(randomEvents(99, 200)) }, { port: "0", maxBodyBytes: "65536" });
afterAll(() => r.cleanup());

const HOSTILE = [
  "'; DROP TABLE user_stats; --",
  '" OR 1=1 --',
  "../../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "%2e%2e%2f%2e%2e%2f",
  "\u0000",
  "\u202e\u0645\u0631\u062d\u0628\u0627",
  "𝄞".repeat(50),
  "<script>alert(1)</script>",
  "${jndi:ldap://x}",
  "__proto__",
  "constructor",
  "user_stats:*",
  "read_csv('/etc/passwd')",
  "x".repeat(5000),
  "",
  " ",
];
const NUMBERS = [1e308, -1e308, 2 ** 70, -(2 ** 63), 0.5, -0, Number.MAX_SAFE_INTEGER + 2];
const RAW = [
  "",
  "{",
  "}",
  "[",
  "nul",
  "tru",
  '{"a":',
  "{'single': 1}",
  "NaN",
  "1e309",
  "[1,]",
  '{"a":1,}',
  "\uFEFF{}",
  '{"service":"all"}garbage',
  "[".repeat(5000) + "]".repeat(5000),
];

const rnd = new Random(20261122);
const hostile = () => rnd.pick(HOSTILE);
const anyValue = (depth = 0): unknown => {
  switch (rnd.int(0, 7)) {
    case 0:
      return hostile();
    case 1:
      return rnd.pick(NUMBERS);
    case 2:
      return null;
    case 3:
      return rnd.chance(0.5);
    case 4:
      return depth > 2 ? [] : Array.from({ length: rnd.int(0, 3) }, () => anyValue(depth + 1));
    case 5:
      return depth > 2 ? {} : Object.fromEntries(Array.from({ length: rnd.int(0, 3) }, () => [hostile(), anyValue(depth + 1)]));
    case 6:
      return rnd.int(-5, 5);
    default:
      return { [hostile()]: hostile() };
  }
};

/** A row of the push source that is always invalid (a required field missing or ill-typed), hostile elsewhere. */
const badRow = () => {
  const row: Record<string, unknown> = { user_id: rnd.int(1, 9), ts: new Date(T0).toISOString(), amount: 1, category: hostile(), event_id: hostile() };
  const broken = rnd.pick(["user_id", "ts", "amount", "event_id", "extra"]);
  if (broken === "extra") row[hostile() || "zz"] = anyValue();
  else if (broken === "user_id") row.user_id = rnd.pick([hostile(), 1.5, 2 ** 70, null, [], {}]);
  else if (broken === "ts") row.ts = rnd.pick([hostile(), -1e308, null, {}, "2026-13-45T99:99:99Z"]);
  else if (broken === "amount") row.amount = rnd.pick([hostile(), {}, [], true]);
  else delete row.event_id;
  return row;
};

type Probe = { method: string; path: string; body?: string; type?: string };

function probe(): Probe {
  const json = (v: unknown) => JSON.stringify(v);
  switch (rnd.int(0, 10)) {
    case 0:
      return { method: "POST", path: "/v1/features/online", body: rnd.pick(RAW) };
    case 1:
      return {
        method: "POST",
        path: "/v1/features/online",
        body: json(
          rnd.pick([
            { service: hostile(), entities: { user_id: [1] } },
            { features: [hostile(), `user_stats:${hostile()}`], entities: { user_id: [1] } },
            { service: "all", entities: { user_id: [anyValue()] } },
            { service: "all", entities: { [hostile()]: [1] } },
            { service: "all", entities: { user_id: Array.from({ length: 1001 }, () => 1) } },
            { service: "all", entities: { user_id: [1] }, at: hostile() },
            { service: "all", entities: { user_id: [1] }, at: rnd.pick(NUMBERS) },
            { service: "all", features: ["user_stats:doubled"], entities: { user_id: [1] } },
            { service: "all", entities: anyValue(), [hostile()]: anyValue() },
            anyValue(),
          ]),
        ),
      };
    case 2:
      return {
        method: "POST",
        path: "/v1/push",
        body: json(
          rnd.pick([
            { source: hostile(), rows: [badRow()] },
            { source: "events_push", rows: Array.from({ length: rnd.int(1, 4) }, badRow), to: rnd.pick(["online", "offline", "online_and_offline"]) },
            { source: "events_push", rows: [badRow()], to: hostile() },
            { source: "events_push", rows: anyValue() },
            { source: "events_push", rows: [] },
            anyValue(),
          ]),
        ),
      };
    case 3:
      return {
        method: "POST",
        path: "/push",
        body: json(
          rnd.pick([
            { push_source_name: hostile(), df: { user_id: [1] } },
            { push_source_name: "events_push", df: { user_id: [hostile()], ts: [hostile()] } },
            { push_source_name: "events_push", df: anyValue() },
            { push_source_name: "events_push", df: { user_id: [1, 2], ts: [new Date(T0).toISOString()] } },
          ]),
        ),
      };
    case 4:
      return {
        method: "POST",
        path: "/v1/materialize",
        body: json(
          rnd.pick([{ views: [hostile()] }, { views: anyValue() }, { full: hostile() }, { [hostile()]: 1 }, { views: [] }, anyValue()].filter((b) => JSON.stringify(b) !== "{}")),
        ),
      };
    case 5:
      return {
        method: "GET",
        path:
          rnd.pick(["/v1/registry/feature-views/", "/v1/registry/sources/", "/v1/registry/entities/", "/v1/registry/feature-services/", "/v1/runs/", "/v1/"]) +
          encodeURIComponent(hostile()),
      };
    case 6:
      return { method: "GET", path: `/v1/runs?${rnd.pick(["kind", "view", "status", "limit"])}=${encodeURIComponent(hostile())}` };
    case 7: {
      const method = rnd.pick(["PUT", "DELETE", "PATCH", "GET"]);
      return {
        method,
        path: rnd.pick(["/v1/features/online", "/v1/push", "/push", "/v1/materialize", "/v1/runs", "/v1/schedules"]),
        body: method !== "GET" && rnd.chance(0.5) ? "{}" : undefined,
      };
    }
    case 8:
      return {
        method: "POST",
        path: rnd.pick(["/v1/features/online", "/v1/push", "/v1/materialize"]),
        body: "{}",
        type: rnd.pick(["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx", "multipart/form-data; boundary=x"]),
      };
    case 9:
      return {
        method: "POST",
        path: "/get-online-features",
        body: rnd.chance(0.2)
          ? rnd.pick(RAW)
          : json(
              rnd.pick([
                { feature_service: hostile(), entities: { user_id: [1] } },
                { features: [hostile(), `user_stats:${hostile()}`], entities: { user_id: [1] } },
                { feature_service: "all", entities: { user_id: [anyValue()] } },
                { feature_service: "all", entities: { [hostile()]: [anyValue()] } },
                { feature_service: "all", entities: anyValue(), full_feature_names: anyValue() },
                anyValue(),
              ]),
            ),
      };
    default:
      return { method: "POST", path: rnd.pick(["/v1/features/online", "/v1/push", "/get-online-features"]), body: `{"source":"${"a".repeat(70_000)}"}` };
  }
}

const COUNT = 5000;

test(`${COUNT} hostile requests: every refusal a 4xx JSON error, no 5xx, nothing changed, the server up`, async () => {
  await r.larder.apply();
  await r.larder.materialize({ end: T0 + 21 * 86_400_000 });
  const registry = r.larder.registry();
  const before = await getOnlineFeatures(
    registry,
    r.larder.store(),
    { refs: registry.service("all").features, entities: { user_id: [1, 2, 3, 4, 5, 6, 7] }, at: T0 + 22 * 86_400_000 },
    100,
  );
  const pointersBefore = JSON.stringify([...(await r.larder.store().pointers())]);
  const server = startServer(r.larder, () => {});
  const base = `http://${server.hostname}:${server.port}`;
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  try {
    const probes = Array.from({ length: COUNT }, probe);
    for (let i = 0; i < probes.length; i += 16) {
      await Promise.all(
        probes.slice(i, i + 16).map(async (p) => {
          const headers: Record<string, string> = {};
          if (p.body !== undefined) headers["content-type"] = p.type ?? "application/json";
          const res = await fetch(base + p.path, { method: p.method, headers, body: p.body });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const text = await res.text();
          const where = `${p.method} ${p.path.slice(0, 80)} ${String(p.body).slice(0, 80)} → ${res.status}`;
          if (res.status >= 500) problems.push(`${where}: ${text.slice(0, 200)}`);
          else if (res.status >= 400) {
            let body: { code?: unknown; message?: unknown; detail?: unknown; class?: unknown } = {};
            try {
              body = JSON.parse(text);
              // Feast's typed refusals are a JSON string holding { module, class, message }.
              if (typeof body === "string") body = JSON.parse(body);
            } catch {
              problems.push(`${where}: not JSON: ${text.slice(0, 100)}`);
            }
            // Feast's routes answer their own way: { detail }, or Feast's exception class (POST /push always 422).
            const feast = p.path === "/get-online-features" || (p.path === "/push" && res.status === 422);
            const ok = feast
              ? (typeof body.detail === "string" && body.detail.length > 0) || (typeof body.class === "string" && typeof body.message === "string" && body.message.length > 0)
              : typeof body.code === "string" && typeof body.message === "string" && body.message.length > 0;
            if (!ok) problems.push(`${where}: not { code, message }: ${text.slice(0, 100)}`);
          } else if (p.method !== "GET" && p.path !== "/v1/features/online" && p.path !== "/get-online-features" && !emptyFeastPush(p))
            problems.push(`${where}: a write was accepted`);
        }),
      );
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  } finally {
    await server.stop();
  }
  // Refusals of every kind were seen, and nothing changed.
  for (const s of [400, 404, 413]) expect(statuses.get(s) ?? 0).toBeGreaterThan(0);
  expect(JSON.stringify([...(await r.larder.store().pointers())])).toBe(pointersBefore);
  const after = await getOnlineFeatures(
    r.larder.registry(),
    r.larder.store(),
    { refs: registry.service("all").features, entities: { user_id: [1, 2, 3, 4, 5, 6, 7] }, at: T0 + 22 * 86_400_000 },
    100,
  );
  expect(after.results).toEqual(before.results);
  expect(existsSync(join(r.dir, "data", "pushed"))).toBe(false);
  expect((await r.larder.runs.list({ kind: "materialize" })).length).toBe(1);
  expect(readdirSync(join(r.dir, "data", "offline", "user_stats")).length).toBe(1);
}, 120_000);
