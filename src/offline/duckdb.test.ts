import { afterAll, expect, test } from "bun:test";
import { Duck } from "./duckdb.ts";

const duck = await Duck.open();
afterAll(() => duck.close());

test("DuckDB never reaches the network: no extension auto-install or auto-load", async () => {
  expect(await duck.all("SELECT current_setting('autoinstall_known_extensions') AS i, current_setting('autoload_known_extensions') AS l"))
    .toEqual([{ i: false, l: false }]);
  const began = performance.now();
  await expect(duck.all("SELECT * FROM read_parquet('s3://bucket/x.parquet')")).rejects.toThrow("requires the extension httpfs");
  await expect(duck.all("SELECT * FROM read_csv('https://example.com/x.csv')")).rejects.toThrow("requires the extension httpfs");
  expect(performance.now() - began).toBeLessThan(1000);
});

test("times are UTC", async () => {
  expect(await duck.all("SELECT epoch_ms(TIMESTAMP '2026-01-01 00:00:00') AS ms")).toEqual([{ ms: Date.UTC(2026, 0, 1) }]);
});

test("bulk DOUBLE columns round-trip across many chunks, NULL ⇄ NaN", async () => {
  const n = 5000; // more than two 2048-row chunks
  const a = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? NaN : i * 1.5));
  const b = Float64Array.from({ length: n }, (_, i) => -(i + 1)); // not -0: DuckDB stores it as 0
  await duck.writeDoubleColumns("__roundtrip", ["a", "b"], [a, b]);
  expect(await duck.all("SELECT count(*) AS n, count(a) AS non_null, sum(b) AS s FROM __roundtrip"))
    .toEqual([{ n, non_null: n - Math.ceil(n / 7), s: -(n * (n + 1)) / 2 }]);
  const [ra, rb] = await duck.readDoubleColumns("SELECT a, b FROM __roundtrip ORDER BY b DESC");
  expect(Array.from(ra!)).toEqual(Array.from(a)); // as arrays: NaN equals NaN there
  expect(Array.from(rb!)).toEqual(Array.from(b));
});
