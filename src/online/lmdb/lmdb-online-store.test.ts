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
  expect(() => new LmdbOnlineStore({ path })).toThrow("was written by another version of Larder (format 1, this one reads 2): delete that folder and run larder materialize");
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
