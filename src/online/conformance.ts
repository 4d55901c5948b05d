/**
 * The conformance suite every online store runs (one suite, every backend): call
 * `describeOnlineStoreConformance(name, newLocation)` from the backend's test file. Each
 * test gets a fresh, empty location (a folder, a key prefix, a database) and may open it
 * more than once.
 */
import { afterEach, describe, expect, test as bunTest } from "bun:test";
import { hostname } from "node:os";
import type { OnlineRecord, OnlineStore, ServingPointer } from "./online-store.ts";

const record = (ts: number, extra = 0): OnlineRecord => ({
  ts,
  values: [1.5 + extra, "text ✓ 𝄞", null, 42, true],
  lifetime: Float64Array.of(0, 3, 6 + extra, 14, 1, 3, ts, 3),
  series: [Float64Array.of(60_000, 2, 3, 5, 1, 2, ts, 2, 120_000, 1, 3, 9, 3, 3, ts, 3), new Float64Array(0)],
});

const pointer = (view: string, table: string, watermark: number): ServingPointer => ({
  view,
  version: "v1",
  table,
  watermark,
  updatedAt: new Date(watermark).toISOString(),
  runId: `run-${watermark}`,
});

export type StoreLocation = { open(): Promise<OnlineStore>; destroy(): Promise<void> };

/** `skip`: skips every test, reported as skipped (a backend whose server is missing; its test file says why). */
export function describeOnlineStoreConformance(name: string, newLocation: () => Promise<StoreLocation>, skip = false) {
  const test = bunTest.skipIf(skip);
  describe(`online store conformance: ${name}`, () => {
    let location: StoreLocation | undefined;
    const open = async () => (location ??= await newLocation()).open();
    afterEach(async () => {
      await location?.destroy();
      location = undefined;
    });

    test("records round-trip exactly, absent keys read as undefined", async () => {
      const store = await open();
      const keys = ["[1]", '["a b"]', '["\\u0000weird/key"]'];
      await store.commit({ table: "v@1#a", records: keys.map((k, i) => [k, record(1000 + i, i)]) });
      const got = await store.read("v@1#a", [...keys, "[404]"]);
      expect(got.slice(0, 3)).toEqual(keys.map((_, i) => record(1000 + i, i)));
      expect(got[3]).toBeUndefined();
      expect(got[0]!.series[0]).toBeInstanceOf(Float64Array);
      await store.close();
    });

    test("tables are separate: the same entity key in two tables holds two records", async () => {
      const store = await open();
      await store.commit({ table: "v@1#a", records: [["[1]", record(1)]] });
      await store.commit({ table: "v@2#b", records: [["[1]", record(2)]] });
      const [a] = await store.read("v@1#a", ["[1]"]);
      const [b] = await store.read("v@2#b", ["[1]"]);
      expect(a!.ts).toBe(1);
      expect(b!.ts).toBe(2);
      await store.close();
    });

    test("a commit writes records and pointers together; pointers are per view", async () => {
      const store = await open();
      await store.commit({ table: "v@1#a", records: [["[1]", record(5)]], pointers: [pointer("v", "v@1#a", 10), pointer("w", "w@1#x", 20)] });
      const ps = await store.pointers();
      expect(ps.get("v")).toEqual(pointer("v", "v@1#a", 10));
      expect(ps.get("w")!.watermark).toBe(20);
      await store.commit({ table: "v@1#b", records: [], pointers: [pointer("v", "v@1#b", 30)] });
      expect((await store.pointers()).get("v")!.table).toBe("v@1#b");
      await store.close();
    });

    test("a later commit replaces whole records", async () => {
      const store = await open();
      await store.commit({ table: "t@1#a", records: [["[1]", record(1)]] });
      const replacement: OnlineRecord = { ts: 2, values: [], lifetime: new Float64Array(0), series: [] };
      await store.commit({ table: "t@1#a", records: [["[1]", replacement]] });
      expect((await store.read("t@1#a", ["[1]"]))[0]).toEqual(replacement);
      await store.close();
    });

    test("dropTable removes every record of one table and nothing else", async () => {
      const store = await open();
      const many = Array.from({ length: 12_345 }, (_, i) => [`[${i}]`, record(i)] as [string, OnlineRecord]);
      await store.commit({ table: "d@1#a", records: many });
      await store.commit({ table: "d@1#ab", records: [["[1]", record(7)]] });
      expect((await store.tables()).sort()).toEqual(["d@1#a", "d@1#ab"]);
      await store.dropTable("d@1#a");
      expect(await store.tables()).toEqual(["d@1#ab"]);
      expect((await store.read("d@1#a", ["[0]", "[12344]"])).every((r) => r === undefined)).toBe(true);
      expect((await store.read("d@1#ab", ["[1]"]))[0]!.ts).toBe(7);
      await store.close();
    });

    test("data persists across close and reopen", async () => {
      const store = await open();
      await store.commit({ table: "p@1#a", records: [["[9]", record(9)]], pointers: [pointer("p", "p@1#a", 99)] });
      await store.close();
      const again = await open();
      expect((await again.read("p@1#a", ["[9]"]))[0]).toEqual(record(9));
      expect((await again.pointers()).get("p")!.watermark).toBe(99);
      await again.close();
    });

    test("readEach, where a store has it, lends the same records as read, in key order", async () => {
      const store = await open();
      if (!store.readEach) return void (await store.close());
      const keys = ["[1]", "[2]", "[404]", '["s"]'];
      await store.commit({
        table: "e@1#a",
        records: [
          ["[1]", record(1)],
          ["[2]", record(2, 7)],
          ['["s"]', record(3, 9)],
        ],
      });
      const lent: unknown[] = [];
      // Copy inside the visit: lent records are valid only during it.
      await store.readEach("e@1#a", keys, (i, r) =>
        lent.push([
          i,
          r && {
            ts: r.ts,
            values: [...r.values],
            lifetime: r.data.slice(r.lifetimeStart, r.lifetimeEnd),
            series: r.seriesStart.map((start, k) => r.data.slice(start, r.seriesEnd[k])),
          },
        ]),
      );
      const read = await store.read("e@1#a", keys);
      expect(lent).toEqual(read.map((r, i) => [i, r]));
      await store.readEach("nothing@1#x", ["[1]"], (i, r) => expect([i, r]).toEqual([0, undefined]));
      await store.close();
    });

    test("update reads committed records, writes what compute returns, with ids and pointers, atomically", async () => {
      const store = await open();
      await store.commit({ table: "u@1#a", records: [["[1]", record(1)]] });
      const bump = (by: number, ids: string[]) =>
        store.update({
          keys: [
            { table: "u@1#a", key: "[1]" },
            { table: "u@1#a", key: "[2]" },
          ],
          ids: { namespace: "src", ids },
          compute: (recs, seen) => {
            const fresh = ids.filter((_, i) => !seen[i]);
            if (fresh.length === 0) return { records: [], seen: [] };
            const old = recs[0]!;
            return {
              records: [{ ...old, ts: old.ts + by * fresh.length }, recs[1] ?? record(500)],
              seen: fresh,
              pointers: [pointer("u", "u@1#a", old.ts + by * fresh.length)],
            };
          },
        });
      await bump(10, ["e1", "e2"]);
      await bump(10, ["e2", "e3"]); // e2 was seen: only e3 counts
      await bump(10, ["e1"]); // all seen: nothing changes
      const [one, two] = await store.read("u@1#a", ["[1]", "[2]"]);
      expect(one!.ts).toBe(31);
      expect(one!.values).toEqual(record(1).values);
      expect(two).toEqual(record(500));
      expect((await store.pointers()).get("u")!.watermark).toBe(31);
      // Ids are per namespace.
      let seenElsewhere: boolean[] = [];
      await store.update({ keys: [], ids: { namespace: "other", ids: ["e1"] }, compute: (_, seen) => ((seenElsewhere = seen), { records: [], seen: [] }) });
      expect(seenElsewhere).toEqual([false]);
      await store.close();
    });

    test("concurrent updates of one record lose nothing", async () => {
      const store = await open();
      const second = await open();
      await store.commit({ table: "n@1#a", records: [["[1]", record(0)]] });
      const inc = (s: OnlineStore) => s.update({ keys: [{ table: "n@1#a", key: "[1]" }], compute: ([r]) => ({ records: [{ ...r!, ts: r!.ts + 1 }], seen: [] }) });
      await Promise.all(Array.from({ length: 50 }, (_, i) => inc(i % 2 ? store : second)));
      expect((await store.read("n@1#a", ["[1]"]))[0]!.ts).toBe(50);
      await second.close();
      await store.close();
    });

    test("expireAt: a store with key expiry drops records then (at once when already past); others keep them", async () => {
      const store = await open();
      const soon = Date.now() + 400;
      await store.commit({
        table: "v@1#a",
        records: [
          ["[1]", record(1)],
          ["[2]", record(2)],
        ],
        expireAt: (r) => (r.ts === 1 ? soon : Date.now() + 3_600_000),
      });
      await store.update({
        keys: [{ table: "v@1#a", key: "[3]" }],
        expireAt: () => Date.now() - 1000,
        compute: () => ({ records: [record(3)], seen: [] }),
      });
      expect((await store.read("v@1#a", ["[1]", "[2]"])).map((r) => r?.ts)).toEqual([1, 2]);
      await Bun.sleep(soon - Date.now() + 200);
      const got = (await store.read("v@1#a", ["[1]", "[2]", "[3]"])).map((r) => r?.ts);
      expect(got).toEqual(store.capabilities.keyExpiry ? [undefined, 2, undefined] : [1, 2, 3]);
      await store.close();
    });

    test("ids are remembered for their deduplication window, then forgotten", async () => {
      const store = await open();
      const seenNow = async (ids: string[], windowMs?: number) => {
        let seen: boolean[] = [];
        await store.update({ keys: [], ids: { namespace: "p", ids, windowMs }, compute: (_, s) => ((seen = s), { records: [], seen: ids }) });
        return seen;
      };
      expect(await seenNow(["a", "b"], 300)).toEqual([false, false]);
      expect(await seenNow(["a", "c"], 300)).toEqual([true, false]);
      await Bun.sleep(450);
      // "a" was seen again at the second update, 450 ms ago: past the window now, like "b".
      expect(await seenNow(["a", "b", "d"], 300)).toEqual([false, false, false]);
      // Without a window, an id is remembered for good.
      expect(await seenNow(["z"])).toEqual([false]);
      await Bun.sleep(50);
      expect(await seenNow(["z"])).toEqual([true]);
      await store.close();
    });

    test("a commit or update whose pointer check fails writes nothing and says so", async () => {
      const store = await open();
      await store.commit({ table: "k@1#a", records: [["[1]", record(1)]], pointers: [pointer("k", "k@1#a", 10)], expect: [{ view: "k", runIds: [null] }] });
      // The pointer is now run-10's: a writer that read "no pointer", or another run, is refused.
      await expect(store.commit({ table: "k@1#b", records: [["[1]", record(2)]], pointers: [pointer("k", "k@1#b", 20)], expect: [{ view: "k", runIds: [null] }] })).rejects.toThrow(
        'the served pointer of feature view "k" changed while this write was prepared (it is now table k@1#a, written by run run-10); nothing was written',
      );
      await expect(
        store.update({ keys: [{ table: "k@1#a", key: "[1]" }], expect: [{ view: "k", table: "k@1#old" }], compute: () => ({ records: [record(3)], seen: [] }) }),
      ).rejects.toMatchObject({ code: "pointer_moved", status: 409 });
      expect(await store.tables()).toEqual(["k@1#a"]);
      expect((await store.read("k@1#a", ["[1]"]))[0]!.ts).toBe(1);
      expect((await store.pointers()).get("k")!.runId).toBe("run-10");
      // Checks that hold: by run and by table.
      await store.commit({ table: "k@1#a", records: [["[1]", record(4)]], pointers: [pointer("k", "k@1#a", 30)], expect: [{ view: "k", runIds: ["run-10"] }] });
      await store.update({
        keys: [{ table: "k@1#a", key: "[1]" }],
        expect: [
          { view: "k", table: "k@1#a" },
          { view: "none", table: null },
        ],
        compute: () => ({ records: [record(5)], seen: [] }),
      });
      expect((await store.read("k@1#a", ["[1]"]))[0]!.ts).toBe(5);
      expect((await store.pointers()).get("k")!.runId).toBe("run-30");
      await store.close();
    });

    test("a lease is held by one holder at a time, renewed by it, released, and taken once lapsed", async () => {
      const store = await open();
      const second = await open();
      const a = await store.acquireLease("m:v", "host-a/1/x", 300);
      expect(a).toMatchObject({ name: "m:v", holder: "host-a/1/x" });
      // Contended from another connection at once: exactly one holder.
      const contenders = await Promise.all(["host-b/2/y", "host-c/3/z"].map((h, i) => (i ? store : second).acquireLease("m:v", h, 300)));
      expect(contenders.map((l) => l.holder)).toEqual(["host-a/1/x", "host-a/1/x"]);
      const renewed = await second.acquireLease("m:v", "host-a/1/x", 300);
      expect(renewed.acquiredAt).toBe(a.acquiredAt);
      expect(renewed.expiresAt).toBeGreaterThanOrEqual(a.expiresAt);
      // Other names are other leases.
      expect((await store.acquireLease("m:w", "host-b/2/y", 300)).holder).toBe("host-b/2/y");
      // Release by someone else does nothing; by the holder frees it.
      await store.releaseLease("m:v", "host-b/2/y");
      expect((await store.acquireLease("m:v", "host-b/2/y", 300)).holder).toBe("host-a/1/x");
      await store.releaseLease("m:v", "host-a/1/x");
      expect((await store.acquireLease("m:v", "host-b/2/y", 200)).holder).toBe("host-b/2/y");
      // A holder that stops renewing loses it once it lapses.
      await Bun.sleep(260);
      expect((await second.acquireLease("m:v", "host-c/3/z", 300)).holder).toBe("host-c/3/z");
      // A holder on this host whose process is gone (killed) loses it at once (no pid is above 2^22).
      await store.acquireLease("m:g", `${hostname()}/4194311/gone`, 60_000);
      expect((await second.acquireLease("m:g", "host-b/2/y", 300)).holder).toBe("host-b/2/y");
      await second.close();
      await store.close();
    });

    test("reads return copies: later reads and writes do not change an earlier result", async () => {
      const store = await open();
      await store.commit({
        table: "c@1#a",
        records: [
          ["[1]", record(1)],
          ["[2]", record(2, 100)],
        ],
      });
      const [first] = await store.read("c@1#a", ["[1]"]);
      await store.read("c@1#a", ["[2]"]);
      await store.commit({ table: "c@1#a", records: [["[1]", record(3, 50)]] });
      expect(first).toEqual(record(1));
      await store.close();
    });
  });
}
