import { expect, test } from "bun:test";
import { keySlot } from "./cluster-slot.ts";

test("key slots are Redis Cluster's (values from CLUSTER KEYSLOT)", () => {
  expect(keySlot("foo")).toBe(12182);
  expect(keySlot("bar")).toBe(5061);
  expect(keySlot("123456789")).toBe(12739);
  // A hash tag decides; an empty one does not.
  expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
  expect(keySlot("foo{}{bar}")).toBe(keySlot("foo{}{bar}"));
  expect(keySlot("{larder}:meta:pointers")).toBe(keySlot("larder"));
});
