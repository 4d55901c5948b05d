/**
 * A look at an LMDB data file before it is mapped: a file cut short (a full disk, a copy
 * that stopped) makes the first read past its end a SIGBUS that kills the process, so it
 * is found here instead, from the two meta pages at the file's head: their magic and
 * version, the page size, and the last page the newest one says is in use.
 *
 * The layout is lmdb-js's LMDB (format 2): a 24-byte page header, then the meta: magic,
 * version, address, map size, two 48-byte database records (the first's leading 4 bytes
 * hold the page size), the last page number and the transaction id.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

const MAGIC = 0xbeefc0de;
const VERSION = 2;
const AT = { magic: 24, version: 28, pageSize: 48, lastPage: 144, txnId: 152 } as const;
const META_BYTES = 160;

/** What is wrong with `<dir>/data.mdb`, or null when its head is sound (or there is no file yet). */
export function lmdbFileProblem(dir: string): string | null {
  const path = join(dir, "data.mdb");
  if (!existsSync(path)) return null;
  const size = statSync(path).size;
  if (size === 0) return null;
  const fd = openSync(path, "r");
  try {
    const first = readMeta(fd, 0);
    if (!first) return `data.mdb is ${size} bytes: too short to hold its header`;
    if (first.magic !== MAGIC || first.version !== VERSION) return "its first header page is not an LMDB header (garbled)";
    const pageSize = first.pageSize;
    if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return `its header names a page size of ${pageSize} bytes (garbled)`;
    const second = readMeta(fd, pageSize);
    if (!second || second.magic !== MAGIC || second.version !== VERSION) return "its second header page is not an LMDB header (garbled or cut short)";
    // LMDB reads the meta with the newer transaction; it says how far the file must reach.
    const newest = second.txnId > first.txnId ? second : first;
    const needed = (newest.lastPage + 1n) * BigInt(pageSize);
    if (BigInt(size) < needed) return `data.mdb is ${size} bytes but its header needs ${needed} (the file was cut short)`;
    return null;
  } finally {
    closeSync(fd);
  }
}

function readMeta(fd: number, at: number): { magic: number; version: number; pageSize: number; lastPage: bigint; txnId: bigint } | null {
  const b = Buffer.alloc(META_BYTES);
  if (readSync(fd, b, 0, META_BYTES, at) < META_BYTES) return null;
  return {
    magic: b.readUInt32LE(AT.magic),
    version: b.readUInt32LE(AT.version),
    pageSize: b.readUInt32LE(AT.pageSize),
    lastPage: b.readBigUInt64LE(AT.lastPage),
    txnId: b.readBigUInt64LE(AT.txnId),
  };
}
