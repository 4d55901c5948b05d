import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "lmdb";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeOnlineStoreConformance } from "../conformance.ts";
import { LmdbOnlineStore } from "./lmdb-online-store.ts";

describeOnlineStoreConformance("lmdb", async () => {
  const path = mkdtempSync(join(tmpdir(), "larder-lmdb-"));
  return {
    open: async () => new LmdbOnlineStore({ path }),
    destroy: async () => rmSync(path, { recursive: true, force: true }),
  };
});

test("a store written in another layout is refused with what to do, not misread", async () => {
  const path = mkdtempSync(join(tmpdir(), "larder-lmdb-old-"));
  const old = open({ path, compression: false, maxDbs: 4 });
  await old.openDB({ name: "meta" }).put("pointer:v", { table: "v@1#a" });
  await old.close();
  expect(() => new LmdbOnlineStore({ path })).toThrow("was written by another version of Larder (format 1, this one reads 3): run larder materialize --rebuild");
  rmSync(path, { recursive: true, force: true });
});

test("ids past their window are pruned from disk, not only ignored; one seen again is kept", async () => {
  const path = mkdtempSync(join(tmpdir(), "larder-lmdb-seen-"));
  const store = new LmdbOnlineStore({ path });
  const push = (ids: string[]) => store.update({ keys: [], ids: { namespace: "p", ids, windowMs: 60_000 }, compute: () => ({ records: [], seen: ids }) });
  await push(["a", "b", "c"]);
  await Bun.sleep(300);
  await push(["c"]);
  const seenAfter = async (ids: string[]) => {
    let seen: boolean[] = [];
    await store.update({ keys: [], ids: { namespace: "p", ids }, compute: (_, s) => ((seen = s), { records: [], seen: [] }) });
    return seen;
  };
  // Prune as if the window had passed for the first push but not for "c"'s second sighting.
  const firstPushEnds = Date.now() + 60_000 - 150;
  expect(await store.pruneSeen(60_000, firstPushEnds)).toBe(3);
  // Without a window nothing is ignored: what answers "seen" is what is still stored.
  expect(await seenAfter(["a", "b", "c"])).toEqual([false, false, true]);
  await store.close();
  rmSync(path, { recursive: true, force: true });
});

test("one index key per update lists its ids; index keys of one id each, from stores written before, are pruned too", async () => {
  const path = mkdtempSync(join(tmpdir(), "larder-lmdb-seen-"));
  let store = new LmdbOnlineStore({ path });
  await store.update({ keys: [], ids: { namespace: "p", ids: ["a", "b"], windowMs: 60_000 }, compute: () => ({ records: [], seen: ["a", "b"] }) });
  await store.close();
  // The index as it is now, and an id remembered the way earlier versions did.
  const root = open({ path, compression: false, maxDbs: 4 });
  const meta = root.openDB<unknown, string>({ name: "meta" });
  const index = [...meta.getRange({ start: "seenAt:", end: "seenAt;" })];
  expect(index).toHaveLength(1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the index key's separator is \u0001.
  expect(index[0]!.key).toMatch(/^seenAt:\d{15}:p\u0001#\d+\.\d+$/);
  expect(index[0]!.value).toEqual(["a", "b"]);
  const then = Date.now() - 1000;
  await meta.put("seen:p\u0001old", then);
  await meta.put(`seenAt:${String(then).padStart(15, "0")}:p\u0001old`, 1);
  await root.close();
  store = new LmdbOnlineStore({ path });
  expect(await store.pruneSeen(60_000, Date.now() + 60_000)).toBe(3);
  let seen: boolean[] = [];
  await store.update({ keys: [], ids: { namespace: "p", ids: ["a", "b", "old"] }, compute: (_, s) => ((seen = s), { records: [], seen: [] }) });
  expect(seen).toEqual([false, false, false]);
  await store.close();
  rmSync(path, { recursive: true, force: true });
});
