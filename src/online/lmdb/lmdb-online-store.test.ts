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
