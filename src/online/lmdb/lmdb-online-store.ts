/**
 * The embedded online store: LMDB through lmdb-js. Records in one named database keyed
 * `tableId \u0001 entityKey` (a short numeric id per table: short keys are measurably
 * faster to build and find than the table's name), pointers and the table list in another.
 * A commit is one LMDB write transaction, so it is atomic and durable; reads are
 * synchronous memory-mapped gets, and several processes may share the files.
 */
import { mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import { DamagedDataError, OnlineStoreError } from "../../errors.ts";
import { lmdbFileProblem } from "./lmdb-file-check.ts";
import { REBUILD_ONLINE } from "../stored-meta.ts";
import {
  failedCheck,
  type Commit,
  type Lease,
  type LentRecord,
  type OnlineRecord,
  type OnlineStore,
  type PointerCheck,
  type RecordUpdate,
  type ServingPointer,
} from "../online-store.ts";
import { DecodeArena, decodeRecord, encodeRecord, encodeUpdate, lendRecord, newLentRecord } from "../record-codec.ts";
import { mayTakeLease, takenLease } from "../lease.ts";
import { pointerMoved } from "../pointer-moved.ts";
import { storedLease, storedPointers } from "../stored-meta.ts";

export type LmdbConfig = { path: string };

const SEP = "\u0001";
const END = "\u0002";
/** All pointers as one object, and a counter bumped with every change to it. */
const POINTERS = "pointers";
const POINTERS_VERSION = "pointers:version";
const TABLE = "table:";
const NEXT_TABLE_ID = "tables:next";
/** Seen event ids: `seen:<namespace>\u0001<id>` → when it was seen (ms; 1 in stores written before). */
const SEEN = "seen:";
/**
 * The same ids by time, so expired ones are pruned by a range scan: one key per update,
 * `seenAt:<ms, 15 digits>:<namespace>\u0001#<pid>.<n>` → its ids (one write per update,
 * not one more per id). Stores written before hold one key per id, `…:<namespace>\u0001<id>` → 1.
 */
const SEEN_AT = "seenAt:";
/** A time in the index's keys: ms, 15 digits, so keys sort by time. */
const seenTime = (ms: number) => String(ms).padStart(15, "0");
const PRUNE_EVERY_MS = 60_000;
/** `lease:<name>` → the Lease. */
const LEASE = "lease:";
/** Layout of the files; a store written by another layout is refused, not misread. */
const FORMAT_KEY = "format";
/** 3: records of format 4 (recent events kept apart; record-codec.ts). */
const FORMAT = 3;

type TableEntry = { id: number; createdAt: string };

export class LmdbOnlineStore implements OnlineStore {
  readonly kind = "lmdb";
  readonly capabilities = { multiProcess: true, keyExpiry: false };
  readonly #config: Readonly<LmdbConfig>;
  readonly #root: RootDatabase;
  readonly #records: Database<Uint8Array, string>;
  readonly #meta: Database<unknown, string>;
  /** Decoded pointers and the counter they were read at: one small read per lookup. */
  #pointers: { version: unknown; map: Map<string, ServingPointer> } | undefined;
  /** Table name → key prefix; ids are never reused, so entries never go stale. */
  readonly #prefixes = new Map<string, string>();

  constructor(config: LmdbConfig) {
    this.#config = Object.freeze({ ...config });
    // A file cut short would kill the process (SIGBUS) at its first read past the end.
    const problem = lmdbFileProblem(this.#config.path);
    if (problem) throw this.#damaged(problem);
    try {
      mkdirSync(this.#config.path, { recursive: true });
      this.#root = open({ path: this.#config.path, compression: false, maxDbs: 4 });
      this.#records = this.#root.openDB<Uint8Array, string>({ name: "records", encoding: "binary" });
      this.#meta = this.#root.openDB<unknown, string>({ name: "meta" });
    } catch (err) {
      if (isCorruption(err)) throw this.#damaged((err as Error).message);
      throw new OnlineStoreError(`cannot open the LMDB online store at ${this.#config.path}: ${(err as Error).message}`, { cause: err });
    }
    const format = this.#meta.get(FORMAT_KEY);
    const empty = this.#meta.getKeysCount() === 0;
    if (format === undefined && empty) this.#meta.putSync(FORMAT_KEY, FORMAT);
    else if (format !== FORMAT) {
      throw new OnlineStoreError(
        `the online store at ${this.#config.path} was written by another version of Larder (format ${String(format ?? 1)}, this one reads ${FORMAT}): run larder materialize --rebuild`,
      );
    }
  }

  #damaged(problem: string): DamagedDataError {
    return new DamagedDataError(`the LMDB online store at ${this.#config.path} is damaged (${problem}); ${REBUILD_ONLINE}`);
  }

  /** Runs a read, turning LMDB's own corruption errors into a DamagedDataError. */
  #reading<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw isCorruption(err) ? this.#damaged((err as Error).message) : err;
    }
  }

  /** The key prefix of a table, or undefined if it holds no records. */
  #prefix(table: string): string | undefined {
    let prefix = this.#prefixes.get(table);
    if (prefix === undefined) {
      const entry = this.#meta.get(TABLE + table) as TableEntry | undefined;
      if (!entry) return undefined;
      prefix = entry.id.toString(36) + SEP;
      this.#prefixes.set(table, prefix);
    }
    return prefix;
  }

  async read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]> {
    return this.#reading(() => {
      const prefix = this.#prefix(table);
      const out: (OnlineRecord | undefined)[] = new Array(entityKeys.length);
      for (let i = 0; i < entityKeys.length; i++) {
        // getBinaryFast returns a buffer reused by the next read; decodeRecord copies it.
        const bytes = prefix === undefined ? undefined : this.#records.getBinaryFast(prefix + entityKeys[i]);
        out[i] = bytes === undefined ? undefined : decodeRecord(bytes);
      }
      return out;
    });
  }

  /** One LentRecord, refilled for every visit (readEach is synchronous inside). */
  readonly #lent = newLentRecord();

  async readEach(table: string, entityKeys: readonly string[], visit: (index: number, record: LentRecord | undefined) => void): Promise<void> {
    this.#reading(() => {
      const prefix = this.#prefix(table);
      for (let i = 0; i < entityKeys.length; i++) {
        // Read in place from lmdb-js's read buffer: valid until the next get, i.e. during visit().
        const bytes = prefix === undefined ? undefined : this.#records.getBinaryFast(prefix + entityKeys[i]);
        visit(i, bytes === undefined ? undefined : lendRecord(bytes, this.#lent));
      }
    });
  }

  /** Inside a write transaction: the key prefix of a table, registering the table if new. */
  #ensurePrefix(table: string): string {
    let entry = this.#meta.get(TABLE + table) as TableEntry | undefined;
    if (!entry) {
      const id = ((this.#meta.get(NEXT_TABLE_ID) as number | undefined) ?? 0) + 1;
      entry = { id, createdAt: new Date().toISOString() };
      void this.#meta.put(NEXT_TABLE_ID, id);
      void this.#meta.put(TABLE + table, entry);
    }
    return entry.id.toString(36) + SEP;
  }

  /** Every pointer as stored (inside a write transaction: as this transaction sees them). */
  #storedPointers(): Record<string, ServingPointer> {
    return storedPointers(this.#meta.get(POINTERS), `the LMDB online store at ${this.#config.path}`);
  }

  /** Inside a write transaction. */
  #putPointers(pointers: ServingPointer[]): void {
    const all = { ...this.#storedPointers() };
    for (const p of pointers) all[p.view] = p;
    void this.#meta.put(POINTERS, all);
    void this.#meta.put(POINTERS_VERSION, ((this.#meta.get(POINTERS_VERSION) as number | undefined) ?? 0) + 1);
  }

  /** Inside a write transaction: the first of `checks` the committed pointers fail. */
  #failedCheck(checks: PointerCheck[] | undefined): { check: PointerCheck; found: ServingPointer | undefined } | undefined {
    if (!checks?.length) return undefined;
    const all = this.#storedPointers();
    const check = failedCheck((view) => all[view], checks);
    return check && { check, found: all[check.view] };
  }

  async commit(c: Commit): Promise<void> {
    // Nothing is thrown inside the transaction: a failed check writes nothing and is thrown after.
    const moved = await this.#root.transaction(() => {
      const failed = this.#failedCheck(c.expect);
      if (failed) return failed;
      const prefix = this.#ensurePrefix(c.table);
      for (const [key, record] of c.records) void this.#records.put(prefix + key, encodeRecord(record));
      if (c.pointers?.length) this.#putPointers(c.pointers);
      return undefined;
    });
    if (moved) throw pointerMoved(moved.check, moved.found);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    return this.#root.transaction(() => {
      const current = storedLease(this.#meta.get(LEASE + name));
      const now = Date.now();
      if (!mayTakeLease(current, holder, now)) return current!;
      const lease = takenLease(current, name, holder, ttlMs, now);
      void this.#meta.put(LEASE + name, lease);
      return lease;
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#root.transaction(() => {
      if (storedLease(this.#meta.get(LEASE + name))?.holder === holder) void this.#meta.remove(LEASE + name);
    });
  }

  /** Where update() decodes the records it rewrites. */
  readonly #arena = new DecodeArena();

  async update(u: RecordUpdate): Promise<void> {
    // One write transaction: LMDB serializes writers across processes, so the records read
    // here are the committed ones and nothing can change them until commit. lmdb-js runs
    // the callback inside its write batch and commits batches with one disk sync.
    const moved = await this.#root.transaction(() => {
      const failed = this.#failedCheck(u.expect);
      if (failed) return failed;
      const byTable = new Map<string, string>();
      const prefixes = u.keys.map((k) => {
        let p = byTable.get(k.table);
        if (p === undefined) byTable.set(k.table, (p = this.#ensurePrefix(k.table)));
        return p;
      });
      // Callbacks run one at a time, and this one's writes copy their bytes before it
      // returns: the arena's records are not needed after it.
      this.#arena.reset();
      const current = u.keys.map((k, i) => {
        // The shared read buffer, copied once by decodeRecord.
        const bytes = this.#records.getBinaryFast(prefixes[i] + k.key);
        return bytes === undefined ? undefined : decodeRecord(bytes, this.#arena);
      });
      const seenKey = (id: string) => `${SEEN}${u.ids!.namespace}${SEP}${id}`;
      const now = Date.now();
      const window = u.ids?.windowMs;
      const seen = u.ids
        ? u.ids.ids.map((id) => {
            const at = this.#meta.get(seenKey(id)) as number | undefined;
            // Within the window (or remembered before there were windows: 1).
            return at !== undefined && (!window || at <= 1 || now - at < window);
          })
        : [];
      const out = u.compute(current, seen);
      out.records.forEach((rec, i) => {
        if (rec) void this.#records.put(prefixes[i] + u.keys[i]!.key, encodeUpdate(current[i], rec));
      });
      for (const id of out.seen) void this.#meta.put(seenKey(id), now);
      if (window && out.seen.length) void this.#meta.put(`${SEEN_AT}${seenTime(now)}:${u.ids!.namespace}${SEP}#${process.pid}.${this.#seenBatches++}`, out.seen);
      if (out.pointers?.length) this.#putPointers(out.pointers);
      return undefined;
    });
    if (moved) throw pointerMoved(moved.check, moved.found);
    if (u.ids?.windowMs && Date.now() - this.#prunedAt > PRUNE_EVERY_MS) await this.pruneSeen(u.ids.windowMs);
  }

  #prunedAt = 0;
  #seenBatches = 0;

  /** Forgets ids seen longer ago than the window (a range scan of the time index, in chunks); returns how many. */
  async pruneSeen(windowMs: number, now = Date.now()): Promise<number> {
    this.#prunedAt = now;
    const end = SEEN_AT + seenTime(Math.max(0, now - windowMs));
    let removed = 0;
    for (;;) {
      const keys = [...this.#meta.getKeys({ start: SEEN_AT, end, limit: 1_000 })] as string[];
      if (keys.length === 0) return removed;
      await this.#root.transaction(() => {
        for (const k of keys) {
          const time = k.slice(SEEN_AT.length, SEEN_AT.length + 15);
          const rest = k.slice(SEEN_AT.length + 16); // "<namespace>\u0001#<batch>", or "<namespace>\u0001<id>"
          const value = this.#meta.get(k);
          const namespace = rest.slice(0, rest.indexOf(SEP) + 1);
          const ids = Array.isArray(value) ? (value as string[]).map((id) => namespace + id) : [rest];
          for (const id of ids) {
            const at = this.#meta.get(SEEN + id) as number | undefined;
            // A newer sighting of the same id keeps it.
            if (at !== undefined && seenTime(at) === time) void this.#meta.remove(SEEN + id);
          }
          void this.#meta.remove(k);
          removed += ids.length;
        }
      });
    }
  }

  async pointers(): Promise<ReadonlyMap<string, ServingPointer>> {
    return this.#reading(() => {
      const version = this.#meta.get(POINTERS_VERSION);
      if (!this.#pointers || this.#pointers.version !== version) {
        this.#pointers = { version, map: new Map(Object.entries(this.#storedPointers())) };
      }
      return this.#pointers.map;
    });
  }

  async dropTable(table: string): Promise<void> {
    const entry = this.#meta.get(TABLE + table) as TableEntry | undefined;
    if (!entry) return;
    const id = entry.id.toString(36);
    const keys = [...this.#records.getKeys({ start: id + SEP, end: id + END })];
    // Chunked so a large table does not hold one huge write transaction.
    for (let i = 0; i < keys.length; i += 10_000) {
      const chunk = keys.slice(i, i + 10_000);
      await this.#root.transaction(() => {
        for (const k of chunk) void this.#records.remove(k);
      });
    }
    await this.#meta.remove(TABLE + table);
    this.#prefixes.delete(table);
  }

  async tables(): Promise<string[]> {
    return [...this.#meta.getKeys({ start: TABLE, end: `${TABLE}\uffff` })].map((k) => String(k).slice(TABLE.length));
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}

/** LMDB's own words for a file it found damaged. */
function isCorruption(err: unknown): boolean {
  return /MDB_(CORRUPTED|PAGE_NOTFOUND|INVALID|VERSION_MISMATCH|BAD_TXN)/.test(String((err as Error)?.message ?? err));
}
