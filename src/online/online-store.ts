/**
 * The online-store contract. Small and async, config bound at construction, optional
 * abilities as capability flags. Every backend passes online/conformance.ts.
 *
 * Data lives in tables named `view@version#generation`; a pointer per view says which
 * table is served and up to when its data is complete (the watermark). `commit` writes
 * records and pointers in one atomic transaction, so a reader sees the old state or the
 * new one, never a mix, and a crash mid-run leaves the previous state whole.
 */
import type { EpochMs } from "../time.ts";

/** One event as its view's record keeps it apart: its time, latest-value features and aggregation inputs. */
export type RecentEvent = {
  ts: EpochMs;
  /** Latest-value features, in the view layout's expression order. */
  values: unknown[];
  /** Aggregation inputs, in the layout's input order (null: missing). */
  inputs: (number | null)[];
};

/**
 * What is stored per entity of a view (see online/record-codec.ts for the layout): the
 * events folded into statistics and tiles, and the newest few pushed events kept apart
 * (`recent`), so a lookup at t leaves out every event at or after t exactly (push/
 * apply-events.ts). A lookup at t is exact when t is after `ts`, the newest folded event.
 */
export type OnlineRecord = {
  /** Event time of the latest folded row (ms). */
  ts: EpochMs;
  /** Latest-value features of that row, in the view layout's expression order. */
  values: unknown[];
  /** Lifetime statistics per lifetime slot: TILE_WIDTH numbers each (start unused). */
  lifetime: Float64Array;
  /** Tile series, in the view layout's series order, each tile as wide as its series' shape. */
  series: Float64Array[];
  /** Events not folded yet, in time order (ties in arrival order); absent: none. */
  recent?: RecentEvent[];
};

/**
 * A record as readEach lends it: its numbers read in place from the store's memory, the
 * lifetime statistics and each tile series a range of `data`. Valid only during the visit:
 * the store may reuse the object and the memory for the next record.
 */
export type LentRecord = {
  ts: EpochMs;
  values: unknown[];
  data: Float64Array;
  lifetimeStart: number;
  lifetimeEnd: number;
  seriesStart: number[];
  seriesEnd: number[];
  /** The events kept apart (decoded: there are few, and only pushed entities have any). */
  recent: RecentEvent[];
};

export type ServingPointer = {
  view: string;
  version: string;
  /** Table whose records are served. */
  table: string;
  /** Every event with ts < watermark is in the table; none later. */
  watermark: EpochMs;
  /** When the table was last written. */
  updatedAt: string;
  runId: string;
};

export type Commit = {
  table: string;
  records: [entityKey: string, record: OnlineRecord][];
  /** When each record may be dropped, for stores that expire keys (see record-expiry.ts). */
  expireAt?: (record: OnlineRecord) => EpochMs;
  /** Pointers to set in the same transaction. */
  pointers?: ServingPointer[];
  /** Pointers as the writer read them: if one changed since, nothing is written (PointerMovedError). */
  expect?: PointerCheck[];
};

/**
 * A view's pointer as a writer read it (compare-and-set): the write goes ahead only if the
 * pointer is still so. A materialization names the run whose pointer it replaces; a push
 * names the table it updates.
 */
export type PointerCheck = {
  view: string;
  /** The pointer must still be one written by one of these runs (null: no pointer at all). */
  runIds?: readonly (string | null)[];
  /** The pointer must still serve this table (null: no pointer at all). */
  table?: string | null;
};

/** The first check the current pointers fail, or undefined when all hold. */
export function failedCheck(current: (view: string) => ServingPointer | undefined, checks: readonly PointerCheck[] | undefined): PointerCheck | undefined {
  return checks?.find((c) => {
    const p = current(c.view);
    if (c.runIds && !c.runIds.includes(p?.runId ?? null)) return true;
    return c.table !== undefined && (p?.table ?? null) !== c.table;
  });
}

/**
 * A lease: who may run something that must run in one place at a time (a view's
 * materialization), across processes and machines sharing the store, until `expiresAt`
 * unless renewed. A holder that dies stops renewing, so its lease lapses.
 */
export type Lease = { name: string; holder: string; acquiredAt: string; expiresAt: EpochMs };

/**
 * An atomic read-modify-write (streaming updates): the store reads `keys` and whether
 * each of `ids` was seen, calls `compute` with what is committed now, and writes its
 * result in one transaction, so no update is lost to a concurrent writer and a reader
 * never sees half of one. `compute` must be pure: a store may call it again on conflict.
 */
export type RecordUpdate = {
  keys: { table: string; key: string }[];
  /** When a record of a table may be dropped, for stores that expire keys (undefined: never). */
  expireAt?: (table: string, record: OnlineRecord) => EpochMs | undefined;
  /**
   * Event ids (idempotency keys) to check within a namespace, e.g. a push source.
   * `windowMs`: how long an id is remembered after it was seen (a deduplication window);
   * afterwards it may be applied again. Without one, ids are remembered for good.
   */
  ids?: { namespace: string; ids: string[]; windowMs?: number };
  /** Pointers as the writer read them: if one changed since, nothing is written (PointerMovedError). */
  expect?: PointerCheck[];
  /** `records` are fresh copies, compute's to change. */
  compute(
    records: (OnlineRecord | undefined)[],
    seen: boolean[],
  ): {
    /** New records for the keys (same order; undefined leaves a record as it is). */
    records: (OnlineRecord | undefined)[];
    /** Ids to remember as seen. */
    seen: string[];
    pointers?: ServingPointer[];
  };
};

export type OnlineStoreCapabilities = {
  /** Several processes may open the store at once (a CLI run beside `serve`). */
  multiProcess: boolean;
  /** Drops records at their `expireAt` (Redis); others keep them and answer "expired". */
  keyExpiry: boolean;
};

export interface OnlineStore {
  readonly kind: string;
  readonly capabilities: OnlineStoreCapabilities;
  /** Records of `table` for each entity key, undefined where there is none. */
  read(table: string, entityKeys: readonly string[]): Promise<(OnlineRecord | undefined)[]>;
  /**
   * Optional: lends each key's record to `visit`, valid only during that call (read in
   * place from the store's memory, nothing copied or allocated per record). Lookups use
   * it when present; everything else uses read().
   */
  readEach?(table: string, entityKeys: readonly string[], visit: (index: number, record: LentRecord | undefined) => void): Promise<void>;
  /** Writes records (replacing whole records) and pointers atomically; PointerMovedError when `expect` fails. */
  commit(commit: Commit): Promise<void>;
  /** Reads, computes and writes in one atomic step (see RecordUpdate); PointerMovedError when `expect` fails. */
  update(update: RecordUpdate): Promise<void>;
  /**
   * Takes the lease `name` for `holder` until now + `ttlMs` when it is free, lapsed, held
   * by a process on this host that is gone, or already `holder`'s (a renewal), in one
   * atomic step. Answers the lease as it stands: `holder` is someone else's when taken.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease>;
  /** Gives the lease up, if `holder` still holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The pointer of every view with served data (shared: do not modify). */
  pointers(): Promise<ReadonlyMap<string, ServingPointer>>;
  /** Deletes every record of a table (one no pointer refers to). */
  dropTable(table: string): Promise<void>;
  /** Names of the tables that hold records. */
  tables(): Promise<string[]>;
  close(): Promise<void>;
}

export const tableName = (view: string, version: string, generation: string) => `${view}@${version}#${generation}`;
