import { afterAll, expect, test } from "bun:test";
import { Duck } from "./duckdb.ts";

const duck = await Duck.open();
afterAll(() => duck.close());

test("DuckDB never reaches the network: no extension auto-install or auto-load", async () => {
  expect(await duck.all("SELECT current_setting('autoinstall_known_extensions') AS i, current_setting('autoload_known_extensions') AS l")).toEqual([{ i: false, l: false }]);
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
  expect(await duck.all("SELECT count(*) AS n, count(a) AS non_null, sum(b) AS s FROM __roundtrip")).toEqual([{ n, non_null: n - Math.ceil(n / 7), s: -(n * (n + 1)) / 2 }]);
  const [ra, rb] = await duck.readDoubleColumns("SELECT a, b FROM __roundtrip ORDER BY b DESC");
  expect(Array.from(ra!)).toEqual(Array.from(a)); // as arrays: NaN equals NaN there
  expect(Array.from(rb!)).toEqual(Array.from(b));
});

test("columnsPrepared gives allPrepared's values by column, across chunks, for every kind of column", async () => {
  const sql = `SELECT i AS big, i::INTEGER AS int, i / 4 AS dbl, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 0.5 END AS maybe,
      'k' || i AS str, i % 2 = 0 AS even, 9007199254740993 + i AS huge, TIMESTAMP '2026-01-01' + to_seconds(i) AS at
    FROM range($1::BIGINT) t(i)`;
  const n = 3000; // two chunks
  const rows = await duck.allPrepared(sql, [n]);
  const { rows: count, columns } = await duck.columnsPrepared(sql, [n]);
  expect(count).toBe(n);
  expect(Object.keys(columns)).toEqual(["big", "int", "dbl", "maybe", "str", "even", "huge", "at"]);
  for (const name of Object.keys(columns)) expect(columns[name]).toEqual(rows.map((r) => r[name]));
  expect(columns.big![2047]).toBe(2047);
  expect(columns.maybe![5]).toBeNull();
  expect(columns.huge![0]).toBe(9007199254740993n); // not a safe number: kept as bigint
  expect(columns.at![1]).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 0, 1)));
});
