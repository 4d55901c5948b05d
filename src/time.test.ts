import { expect, test } from "bun:test";
import { isoTime } from "./time.ts";

test("isoTime formats exactly as Date.toISOString, including edges it leaves to Date", () => {
  const edges = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 1.5];
  let x = 12345;
  const random = Array.from({ length: 20_000 }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((x / 2_147_483_648) * 253_402_300_800_000);
  });
  for (const ms of [...edges, ...random]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
});
