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
import { decodeRecord, encodeRecord, type StoredRecord } from "../record-codec.ts";

export type LmdbConfig = { path: string };

const SEP = "\u0001";
const END = "\u0002";
const POINTER = "pointer:";
const TABLE = "table:";

export class LmdbOnlineStore implements OnlineStore {
  readonly kind = "lmdb";
  readonly capabilities = { multiProcess: true };
  readonly #config: Readonly<LmdbConfig>;
  readonly #root: RootDatabase;
  readonly #records: Database<StoredRecord, string>;
  readonly #meta: Database<unknown, string>;

  constructor(config: LmdbConfig) {
    this.#config = Object.freeze({ ...config });
    try {
      mkdirSync(this.#config.path, { recursive: true });
      this.#root = open({ path: this.#config.path, compression: false, maxDbs: 4 });
      this.#records = this.#root.openDB<StoredRecord, string>({ name: "records" });
      this.#meta = this.#root.openDB<unknown, string>({ name: "meta" });
    } catch (err) {
      throw new OnlineStoreError(`cannot open the LMDB online store at ${this.#config.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]> {
    const prefix = table + SEP;
    return entityKeys.map((k) => {
      const stored = this.#records.get(prefix + k);
      return stored === undefined ? undefined : decodeRecord(stored);
    });
  }

  async commit(c: Commit): Promise<void> {
    const prefix = c.table + SEP;
    await this.#root.transaction(() => {
      void this.#meta.put(TABLE + c.table, { createdAt: new Date().toISOString() });
      for (const [key, record] of c.records) void this.#records.put(prefix + key, encodeRecord(record));
      for (const p of c.pointers ?? []) void this.#meta.put(POINTER + p.view, p);
    });
  }

  async pointers(): Promise<Map<string, ServingPointer>> {
    const out = new Map<string, ServingPointer>();
    for (const { key, value } of this.#meta.getRange({ start: POINTER, end: POINTER + "\uffff" })) {
      out.set(key.slice(POINTER.length), value as ServingPointer);
    }
    return out;
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
