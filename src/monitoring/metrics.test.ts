import { expect, test } from "bun:test";
import { perScrape } from "./metrics.ts";

test("perScrape: callers during one computation share it; the next scrape computes anew", async () => {
  let calls = 0;
  const shared = perScrape(async () => {
    calls++;
    await Bun.sleep(5);
    return calls;
  });
  expect(await Promise.all([shared(), shared(), shared()])).toEqual([1, 1, 1]);
  expect(await shared()).toBe(2);
});
