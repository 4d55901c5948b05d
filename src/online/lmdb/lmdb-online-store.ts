/**
 * The embedded online store: LMDB through lmdb-js. Records in one named database keyed
 * `table \u0001 entityKey`, pointers and the table list in another. A commit is one LMDB
 * write transaction, so it is atomic and durable; reads are synchronous memory-mapped
 * gets, and several processes may share the files.
 */
import { mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import { OnlineStoreError } from "../../errors.ts";
import type { Commit, OnlineRecord, OnlineStore, ServingPointer } from "../online-store.ts";
import { decodeRecord, encodeRecord } from "../record-codec.ts";

export type LmdbConfig = { path: string };

const SEP = "\u0001";
const END = "\u0002";
/** All pointers as one object, and a counter bumped with every change to it. */
const POINTERS = "pointers";
const POINTERS_VERSION = "pointers:version";
const TABLE = "table:";

export class LmdbOnlineStore implements OnlineStore {
  readonly kind = "lmdb";
  readonly capabilities = { multiProcess: true };
  readonly #config: Readonly<LmdbConfig>;
  readonly #root: RootDatabase;
  readonly #records: Database<Uint8Array, string>;
  readonly #meta: Database<unknown, string>;
  /** Decoded pointers and the counter they were read at: one small read per lookup. */
  #pointers: { version: unknown; map: Map<string, ServingPointer> } | undefined;

  constructor(config: LmdbConfig) {
    this.#config = Object.freeze({ ...config });
    try {
      mkdirSync(this.#config.path, { recursive: true });
      this.#root = open({ path: this.#config.path, compression: false, maxDbs: 4 });
      this.#records = this.#root.openDB<Uint8Array, string>({ name: "records", encoding: "binary" });
      this.#meta = this.#root.openDB<unknown, string>({ name: "meta" });
    } catch (err) {
      throw new OnlineStoreError(`cannot open the LMDB online store at ${this.#config.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]> {
    const prefix = table + SEP;
    return entityKeys.map((k) => {
      // getBinaryFast returns a buffer reused by the next read; decodeRecord copies it.
      const bytes = this.#records.getBinaryFast(prefix + k);
      return bytes === undefined ? undefined : decodeRecord(bytes);
    });
  }

  async commit(c: Commit): Promise<void> {
    const prefix = c.table + SEP;
    await this.#root.transaction(() => {
      void this.#meta.put(TABLE + c.table, { createdAt: new Date().toISOString() });
      for (const [key, record] of c.records) void this.#records.put(prefix + key, encodeRecord(record));
      if (c.pointers?.length) {
        const all = { ...((this.#meta.get(POINTERS) as Record<string, ServingPointer> | undefined) ?? {}) };
        for (const p of c.pointers) all[p.view] = p;
        void this.#meta.put(POINTERS, all);
        void this.#meta.put(POINTERS_VERSION, ((this.#meta.get(POINTERS_VERSION) as number | undefined) ?? 0) + 1);
      }
    });
  }

  async pointers(): Promise<ReadonlyMap<string, ServingPointer>> {
    const version = this.#meta.get(POINTERS_VERSION);
    if (!this.#pointers || this.#pointers.version !== version) {
      const all = (this.#meta.get(POINTERS) as Record<string, ServingPointer> | undefined) ?? {};
      this.#pointers = { version, map: new Map(Object.entries(all)) };
    }
    return this.#pointers.map;
  }

  async dropTable(table: string): Promise<void> {
    const keys = [...this.#records.getKeys({ start: table + SEP, end: table + END })];
    // Chunked so a large table does not hold one huge write transaction.
    for (let i = 0; i < keys.length; i += 10_000) {
      const chunk = keys.slice(i, i + 10_000);
      await this.#root.transaction(() => {
        for (const k of chunk) void this.#records.remove(k);
      });
    }
    await this.#meta.remove(TABLE + table);
  }

  async tables(): Promise<string[]> {
    return [...this.#meta.getKeys({ start: TABLE, end: TABLE + "\uffff" })].map((k) => String(k).slice(TABLE.length));
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
