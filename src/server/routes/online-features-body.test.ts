import { expect, test } from "bun:test";
import { isOnlineFeaturesBody, OnlineFeaturesBody } from "./online-features.ts";

// Valid bodies, every bad-input kind of test/server.test.ts, and hostile shapes.
const bodies: unknown[] = [
  { service: "all", entities: { user_id: [1, "2"] } },
  { features: ["v:f"], entities: { user_id: [1] }, at: "2026-01-01T00:00:00Z", fullFeatureNames: true },
  { features: ["v:f"], entities: {}, at: 1_700_000_000_000 },
  { service: "all", entities: { user_id: [] } },
  { service: "", entities: { user_id: [1] } },
  { service: "x".repeat(201), entities: { user_id: [1] } },
  { service: "all", features: ["v:f"], entities: { user_id: [1] } },
  { entities: { user_id: [1] } },
  { service: "all", entities: { user_id: [{ $ne: 1 }] } },
  { service: "all", entities: { user_id: [null] } },
  { service: "all", entities: { user_id: [true] } },
  { service: "all", entities: { user_id: 1 } },
  { service: "all", entities: [1] },
  { service: "all", entities: null },
  { service: "all", entities: { ["k".repeat(201)]: [1] } },
  { service: "all", entities: { user_id: [1] }, hack: 1 },
  { service: "all", entities: { user_id: [1] }, at: "x".repeat(65) },
  { service: "all", entities: { user_id: [1] }, at: true },
  { service: "all", entities: { user_id: [1] }, fullFeatureNames: "yes" },
  { features: [], entities: { user_id: [1] } },
  { features: [""], entities: { user_id: [1] } },
  { features: ["a".repeat(301)], entities: { user_id: [1] } },
  { features: "v:f", entities: { user_id: [1] } },
  { features: [1], entities: { user_id: [1] } },
  { features: Array.from({ length: 1001 }, () => "v:f"), entities: { user_id: [1] } },
  JSON.parse('{"service":"all","entities":{"user_id":[1]},"__proto__":{"x":1}}'),
  JSON.parse('{"service":"all","entities":{"__proto__":[1]}}'),
  [1, 2],
  "text",
  42,
  null,
];

test("the hand-written check accepts only what the schema accepts, unchanged", () => {
  let accepted = 0;
  for (const b of bodies) {
    const zod = OnlineFeaturesBody.safeParse(b);
    if (isOnlineFeaturesBody(b)) {
      accepted++;
      expect(zod.success).toBe(true);
      expect(zod.data).toEqual(b as never);
    }
  }
  expect(accepted).toBe(4); // the first four: valid bodies (an empty key list is refused later, by the lookup)
});
