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

test("int64 keys beyond 2^53 − 1: as strings of digits, exactly as materialization keys DuckDB's BIGINT", () => {
  const big = 2n ** 60n + 1n;
  expect(encodeEntityKey(entity, [big.toString(), "x"])).toBe(encodeEntityKey(entity, [big, "x"]));
  expect(encodeEntityKey(entity, ["9007199254740993", "x"])).toBe('["9007199254740993","x"]');
  expect(encodeEntityKey(entity, ["1001", "x"])).toBe('[1001,"x"]');
  expect(encodeEntityKey(entity, ["-9223372036854775808", "x"])).toBe('["-9223372036854775808","x"]');
  expect(() => encodeEntityKey(entity, ["9223372036854775808", "x"])).toThrow('join key "id" is 9223372036854775808, outside the int64 range');
  // A JSON number that large has already lost its last digits: refused, saying what to send.
  expect(() => encodeEntityKey(entity, [JSON.parse("9007199254740993"), "x"])).toThrow(
    'join key "id" is a number beyond ±(2^53 − 1), which a JSON number cannot hold exactly (it arrived as 9007199254740992): send int64 keys that large as strings of digits',
  );
});

test("a bad join-key value is refused with its name", () => {
  expect(() => encodeEntityKey(entity, [1.5, "a"])).toThrow('join key "id" must be an integer (int64), got 1.5');
  expect(() => encodeEntityKey(entity, [1, 2])).toThrow('join key "code" must be a string, got 2');
});
