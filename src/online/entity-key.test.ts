import { expect, test } from "bun:test";
import type { EntityDef } from "../definitions/types.ts";
import { encodeEntityKey, normalizeKeyValue } from "./entity-key.ts";

const entity = {
  name: "pair",
  joinKeys: [
    { name: "id", type: "int64" },
    { name: "code", type: "string" },
  ],
} as EntityDef;

test("an entity key is the JSON array of its normalized join-key values", () => {
  const cases: [unknown, unknown][] = [
    [1, "a"],
    ["42", 'quo"te'],
    [-0, "\u0001"],
    [9_007_199_254_740_991, "ü ✓"],
    [12n, ""],
    [2n ** 60n, "x"],
  ];
  for (const [id, code] of cases) {
    const expected = JSON.stringify([normalizeKeyValue(id, "int64", "id"), normalizeKeyValue(code, "string", "code")]);
    expect(encodeEntityKey(entity, [id, code])).toBe(expected);
  }
  expect(encodeEntityKey(entity, [7, "b"])).toBe('[7,"b"]');
});

test("a bad join-key value is refused with its name", () => {
  expect(() => encodeEntityKey(entity, [1.5, "a"])).toThrow('join key "id" must be an integer (int64), got 1.5');
  expect(() => encodeEntityKey(entity, [1, 2])).toThrow('join key "code" must be a string, got 2');
});
