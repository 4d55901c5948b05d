/**
 * int64 join keys and values beyond 2^53 − 1 (a double cannot hold them): materialized
 * from DuckDB's BIGINT and looked up by the string of their digits. Larder's route answers
 * such values as digit strings; Feast's writes every value by its Feast type, as Feast's
 * server does: int64 keys and values as exact JSON integers, floats as JSON floats (`30.0`).
 */
import { afterAll, expect, test } from "bun:test";
import { createApp } from "../src/server/app.ts";
import { FEATURES_TS } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const BIG = "1152921504606846977"; // 2^60 + 1
const NEXT = "1152921504606846978"; // 2^60 + 2: the same double as BIG
// Events of the last hours: Feast's route looks up as of now, inside the view's ttl.
const HOUR = 3_600_000;
const T = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const iso = (t: number) => new Date(t).toISOString();
const csv = `user_id,ts,amount,category\n${BIG},${iso(T)},10,a\n${BIG},${iso(T + HOUR)},20,b\n${NEXT},${iso(T + 2 * HOUR)},99,c\n`;
// An int64 feature whose value is the key itself.
const r = tempRepo({
  "features/stats.ts": FEATURES_TS.replace('doubled: sql("amount * 2"),', 'doubled: sql("amount * 2"),\n    id_copy: sql("user_id"),'),
  "data/events.csv": csv,
});
afterAll(() => r.cleanup());

test("keys beyond 2^53 − 1 are looked up exactly by their digits", async () => {
  await r.larder.apply();
  await r.larder.materialize({ end: T + 3 * HOUR });
  const app = createApp(r.larder, () => {});
  const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const at = T + 3 * HOUR;

  const res = await post("/v1/features/online", { features: ["user_stats:life_count", "user_stats:life_sum"], entities: { user_id: [BIG, NEXT] }, at });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { entity: Record<string, unknown>; values: Record<string, unknown> }[] };
  // Two keys one apart, which a double cannot tell apart, keep their own values.
  expect(body.results.map((x) => [x.entity.user_id, x.values.life_count, x.values.life_sum])).toEqual([
    [BIG, 2, 30],
    [NEXT, 1, 99],
  ]);

  const copies = await post("/v1/features/online", { features: ["user_stats:id_copy"], entities: { user_id: [BIG, NEXT] }, at });
  expect(((await copies.json()) as typeof body).results.map((x) => x.values.id_copy)).toEqual([BIG, NEXT]);

  const feast = await post("/get-online-features", {
    features: ["user_stats:life_count", "user_stats:life_sum", "user_stats:id_copy", "user_stats:category"],
    entities: { user_id: [BIG, NEXT] },
  });
  expect(feast.status).toBe(200);
  expect(feast.headers.get("content-type")).toBe("application/json");
  const text = await feast.text();
  // Compared as text: JSON.parse would round the integers and drop the ".0".
  const values = [...text.matchAll(/"values":\[([^\]]*)\]/g)].map((m) => m[1]);
  expect(values).toEqual([`${BIG},${NEXT}`, "2,1", "30.0,99.0", `${BIG},${NEXT}`, '"b","c"']);
  expect(JSON.parse(text).metadata.feature_names).toEqual(["user_id", "life_count", "life_sum", "id_copy", "category"]);

  // A JSON number that large is refused, saying to send the digits.
  const rounded = await app.request("/v1/features/online", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"features": ["user_stats:life_count"], "entities": {"user_id": [${BIG}]}}`,
  });
  expect(rounded.status).toBe(400);
  expect(((await rounded.json()) as { message: string }).message).toContain("send int64 keys that large as strings of digits");
});
