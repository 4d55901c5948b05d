/**
 * int64 join keys beyond 2^53 − 1 (a JSON number cannot hold them): materialized from
 * DuckDB's BIGINT and looked up by the string of their digits, on Larder's route and on
 * Feast's, which echoes them as given.
 */
import { afterAll, expect, test } from "bun:test";
import { createApp } from "../src/server/app.ts";
import { FEATURES_TS } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const BIG = "1152921504606846977"; // 2^60 + 1
const NEXT = "1152921504606846978"; // 2^60 + 2: the same double as BIG
const csv = `user_id,ts,amount,category\n${BIG},2026-01-01T00:00:00.000Z,10,a\n${BIG},2026-01-01T01:00:00.000Z,20,b\n${NEXT},2026-01-01T02:00:00.000Z,99,c\n`;
const r = tempRepo({ "features/stats.ts": FEATURES_TS, "data/events.csv": csv });
afterAll(() => r.cleanup());

test("keys beyond 2^53 − 1 are looked up exactly by their digits", async () => {
  await r.larder.apply();
  await r.larder.materialize({ end: Date.UTC(2026, 0, 2) });
  const app = createApp(r.larder, () => {});
  const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const at = Date.UTC(2026, 0, 2, 12);

  const res = await post("/v1/features/online", { features: ["user_stats:life_count", "user_stats:life_sum"], entities: { user_id: [BIG, NEXT] }, at });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { entity: Record<string, unknown>; values: Record<string, unknown> }[] };
  // Two keys one apart, which a double cannot tell apart, keep their own values.
  expect(body.results.map((x) => [x.entity.user_id, x.values.life_count, x.values.life_sum])).toEqual([
    [BIG, 2, 30],
    [NEXT, 1, 99],
  ]);

  const feast = await post("/get-online-features", { features: ["user_stats:life_count"], entities: { user_id: [BIG] } });
  expect(feast.status).toBe(200);
  const answer = (await feast.json()) as { results: { values: unknown[] }[] };
  expect(answer.results[0]!.values).toEqual([BIG]);
  expect(answer.results[1]!.values).toEqual([2]);

  // A JSON number that large is refused, saying to send the digits.
  const rounded = await app.request("/v1/features/online", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"features": ["user_stats:life_count"], "entities": {"user_id": [${BIG}]}}`,
  });
  expect(rounded.status).toBe(400);
  expect(((await rounded.json()) as { message: string }).message).toContain("send int64 keys that large as strings of digits");
});
