import { mkdtempSync, rmSync } from "node:fs";
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
