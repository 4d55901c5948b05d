/**
 * Input that used to get through, or get a 500: event ids too long for the store, lone
 * UTF-16 surrogates, composite keys too long once encoded, times outside 0001–9999,
 * bytes that are not UTF-8, bodies over the limit (declared or chunked), a malformed
 * sign-in form. Each is a 4xx JSON `{ code, message }` naming the problem, and changes
 * nothing online or offline; retried, it is refused again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../src/server/start-server.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const DAY = 86_400_000;
// The scenario's view over a push source, keyed by (user_id, region): a string key part.
const FEATURES = PUSH_FEATURES_TS.replace('joinKeys: { user_id: "int64" }', 'joinKeys: { user_id: "int64", region: "string" }').replace(
  "user_id: z.int(),",
  "user_id: z.int(), region: z.string(),",
);

let repo: TempRepo;
let server: ReturnType<typeof startServer>;
let base: string;
beforeAll(async () => {
  const events = randomEvents(2301, 50).map((e) => ({ ...e, region: "eu" }));
  repo = tempRepo(
    {
      "features/stats.ts": FEATURES,
      "data/events.csv": pushCsv(events)
        .replace("user_id,", "user_id,region,")
        .replace(/\n(\d+),/g, "\n$1,eu,"),
    },
    { port: "0", maxBodyBytes: "65536" },
  );
  await repo.larder.apply();
  await repo.larder.materialize({ end: T0 + 21 * DAY });
  server = startServer(repo.larder, () => {});
  base = `http://${server.hostname}:${server.port}`;
});
afterAll(async () => {
  await server.stop();
  await repo.cleanup();
});

const send = (path: string, body: string | Uint8Array, type = "application/json", headers: Record<string, string> = {}) =>
  fetch(base + path, { method: "POST", headers: { "content-type": type, ...headers }, body });
const row = (over: Record<string, unknown> = {}) => ({
  user_id: 7,
  region: "eu",
  ts: new Date(T0 + 21 * DAY + 1_000).toISOString(),
  amount: 5,
  category: "a",
  event_id: "ok-1",
  ...over,
});
const lookup = async () =>
  (await (await send("/v1/features/online", JSON.stringify({ service: "all", entities: { user_id: [7], region: ["eu"] }, at: T0 + 22 * DAY }))).json()) as object;
const pushedSegments = () =>
  existsSync(join(repo.dir, "data/pushed/events_push")) ? readdirSync(join(repo.dir, "data/pushed/events_push")).filter((f) => f.endsWith(".parquet")) : [];

/** The answer, as status, code and message. */
async function answer(res: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await res.text();
  const body = JSON.parse(text) as { code: string; message: string; detail?: string };
  return { status: res.status, code: body.code, message: body.message ?? body.detail };
}

describe("refused before anything is written", () => {
  // \ud800 as JSON writes it: JSON.stringify would escape a lone surrogate the same way.
  const lone = "\\ud800";
  const cases: { name: string; path: string; body: string; status: number; code?: string; message: string | RegExp }[] = [
    {
      name: "an event id of 2,000 characters",
      path: "/v1/push",
      body: JSON.stringify({ source: "events_push", rows: [row({ event_id: "x".repeat(2000) })], to: "online_and_offline" }),
      status: 400,
      code: "invalid_rows",
      message: 'row 0, field "event_id": 2000 characters, over the limit of 256 for an event id',
    },
    {
      name: "a lone surrogate in a pushed string",
      path: "/v1/push",
      body: `{"source":"events_push","rows":[{"user_id":7,"region":"eu","ts":"2026-01-22T00:00:01Z","amount":5,"category":"a${lone}","event_id":"s1"}]}`,
      status: 400,
      code: "invalid_unicode",
      message: "invalid Unicode in the body at rows[0].category: a lone UTF-16 surrogate",
    },
    {
      name: "a lone surrogate through Feast's /push",
      path: "/push",
      body: `{"push_source_name":"events_push","df":{"user_id":[7],"region":["eu"],"ts":["2026-01-22T00:00:01Z"],"amount":[5],"category":["${lone}"],"event_id":["s2"]}}`,
      status: 422,
      message: "invalid Unicode in the body at df.category[0]",
    },
    {
      name: "a key too long once encoded (a control character takes 6 bytes)",
      path: "/v1/push",
      body: JSON.stringify({ source: "events_push", rows: [row({ region: "é".repeat(256), event_id: "k1" }), row({ region: "\u0001".repeat(200), event_id: "k2" })] }),
      status: 400,
      code: "invalid_rows",
      message: 'row 1: the key of entity "user" is 1206 bytes once encoded, over the limit of 1024: use shorter join-key values',
    },
    {
      name: "a timestamp past JavaScript's range",
      path: "/v1/push",
      body: JSON.stringify({ source: "events_push", rows: [row({ ts: 8.7e15, event_id: "t1" })] }),
      status: 400,
      code: "invalid_rows",
      message: 'row 0, field "ts": expected an ISO-8601 time or epoch milliseconds, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z, got 8700000000000000',
    },
    {
      name: "a timestamp in year 0",
      path: "/v1/push",
      body: JSON.stringify({ source: "events_push", rows: [row({ ts: "0000-06-01T00:00:00Z", event_id: "t2" })] }),
      status: 400,
      code: "invalid_rows",
      message: 'row 0, field "ts": expected an ISO-8601 time',
    },
    {
      name: "a lookup at a time past the range",
      path: "/v1/features/online",
      body: JSON.stringify({ service: "all", entities: { user_id: [7], region: ["eu"] }, at: 9e15 }),
      status: 400,
      code: "invalid_time",
      message: 'at "9000000000000000" is out of range: times run from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z',
    },
    {
      name: "a lookup key with a lone surrogate",
      path: "/v1/features/online",
      body: `{"service":"all","entities":{"user_id":[7],"region":["${lone}x"]}}`,
      status: 400,
      code: "invalid_unicode",
      message: "at entities.region[0]",
    },
    {
      name: "a lookup key part over 256 characters",
      path: "/v1/features/online",
      body: JSON.stringify({ service: "all", entities: { user_id: [7], region: ["r".repeat(257)] } }),
      status: 400,
      code: "invalid_entity_key",
      message: 'join key "region" is longer than 256 characters',
    },
    {
      name: "a lookup key too long once encoded",
      path: "/v1/features/online",
      body: JSON.stringify({ service: "all", entities: { user_id: [7], region: ["\u0001".repeat(200)] } }),
      status: 400,
      code: "invalid_entity_key",
      message: 'the key of entity "user" is 1206 bytes once encoded',
    },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status}, twice, and nothing changes`, async () => {
      const before = await lookup();
      const segments = pushedSegments();
      for (let i = 0; i < 2; i++) {
        const got = await answer(await send(c.path, c.body));
        expect({ status: got.status, ...(c.code ? { code: got.code } : {}) }).toEqual({ status: c.status, ...(c.code ? { code: c.code } : {}) });
        expect(got.message).toMatch(c.message);
      }
      expect(await lookup()).toEqual(before);
      expect(pushedSegments()).toEqual(segments);
    });
  }

  test("the limits themselves are accepted: a 256-character event id, a key part of 256 characters, the last instant of 9999", async () => {
    const res = await send(
      "/v1/push",
      JSON.stringify({ source: "events_push", rows: [row({ event_id: "i".repeat(256), region: "r".repeat(256), ts: "9999-12-31T23:59:59.998Z" })] }),
    );
    expect(res.status).toBe(200);
    const at = await send("/v1/features/online", JSON.stringify({ service: "all", entities: { user_id: [7], region: ["r".repeat(256)] }, at: "9999-12-31T23:59:59.999Z" }));
    expect(at.status).toBe(200);
    expect(((await at.json()) as { results: { values: Record<string, unknown> }[] }).results[0]!.values.life_count).toBe(1);
  });
});

describe("bodies and forms", () => {
  test("bytes that are not UTF-8 → 400", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"service":"all","entities":{"user_id":[7],"region":["'), 0xff, 0xfe, ...new TextEncoder().encode('"]}}')]);
    expect(await answer(await send("/v1/features/online", bytes))).toEqual({ status: 400, code: "invalid_unicode", message: "the body is not valid UTF-8" });
  });

  test("a body over 4× the limit, declared or chunked, → 413 with a JSON body", async () => {
    const huge = JSON.stringify({ source: "events_push", rows: Array.from({ length: 5_000 }, (_, i) => row({ event_id: `b${i}` })) });
    expect(huge.length).toBeGreaterThan(4 * 65_536);
    const message = "request body is larger than 65536 bytes (LARDER_MAX_BODY_BYTES)";
    expect(await answer(await send("/v1/push", huge))).toEqual({ status: 413, code: "payload_too_large", message });
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < huge.length; i += 10_000) c.enqueue(new TextEncoder().encode(huge.slice(i, i + 10_000)));
        c.close();
      },
    });
    const res = await fetch(`${base}/v1/push`, { method: "POST", headers: { "content-type": "application/json" }, body: chunked, duplex: "half" } as RequestInit);
    expect(await answer(res)).toEqual({ status: 413, code: "payload_too_large", message });
    expect(pushedSegments()).toEqual([]);
  });

  test("a malformed multipart sign-in form → 400, no token needed to be told", async () => {
    const res = await send("/ui/login", '--xyz\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n--', "multipart/form-data; boundary=xyz");
    const got = await answer(res);
    expect([got.status, got.code]).toEqual([400, "malformed_form"]);
    expect(got.message).toStartWith("the form is malformed");
  });

  test("POST /v1/materialize with a view named 1,000 times runs it once", async () => {
    const before = (await repo.larder.runs.list({ kind: "materialize", limit: 100 })).length;
    const res = await send("/v1/materialize", JSON.stringify({ views: Array.from({ length: 1000 }, () => "user_stats"), full: true }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(1);
    expect((await repo.larder.runs.list({ kind: "materialize", limit: 100 })).length).toBe(before + 1);
  });
});

test("a source with an event in the year 10000 is refused by name when its offline table is built", async () => {
  const r = tempRepo({
    "features/stats.ts": PUSH_FEATURES_TS,
    "data/events.csv": "user_id,ts,amount,category,event_id\n1,2026-01-01T00:00:00Z,1,a,e1\n2,10000-01-01T00:00:00Z,2,b,e2\n",
  });
  try {
    await r.larder.apply();
    await expect(r.larder.materialize({})).rejects.toThrow(
      'source "events" has events timed outside the years 0001–9999 (earliest 1767225600000, latest 253402300800000 in epoch ms; times must run from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z): fix or filter those rows',
    );
    expect(await r.larder.store().pointers()).toEqual(new Map());
  } finally {
    await r.cleanup();
  }
});
