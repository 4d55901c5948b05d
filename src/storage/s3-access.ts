/**
 * Reads and writes S3 objects with Bun's built-in S3Client. Objects are read through a
 * local cache keyed by ETag (DuckDB reads the cached files), so reading an unchanged
 * object again costs one listing and no download; a changed object is fetched anew.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { S3Client } from "bun";
import { StorageError } from "../errors.ts";
import { hashOf } from "../ids.ts";
import { s3Url, type S3Settings } from "./s3-location.ts";

export type S3Object = { key: string; size: number; etag: string };

const PAGE = 1000;

export class S3Access {
  readonly #clients = new Map<string, S3Client>();

  constructor(
    readonly settings: S3Settings,
    readonly cacheDir: string,
  ) {}

  client(bucket: string): S3Client {
    let c = this.#clients.get(bucket);
    if (!c) {
      const { endpoint, ...rest } = this.settings;
      c = new S3Client({ ...rest, bucket, ...(endpoint ? { endpoint, virtualHostedStyle: false } : {}) });
      this.#clients.set(bucket, c);
    }
    return c;
  }

  /** Every object whose key starts with `prefix`, in key order. */
  async list(bucket: string, prefix: string): Promise<S3Object[]> {
    const out: S3Object[] = [];
    let continuationToken: string | undefined;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.#call(`list s3://${bucket}/${prefix}*`, () =>
        this.client(bucket).list({ prefix, maxKeys: PAGE, ...(continuationToken ? { continuationToken } : startAfter ? { startAfter } : {}) }),
      );
      for (const o of page.contents ?? []) out.push({ key: o.key, size: o.size ?? 0, etag: String(o.eTag ?? "").replaceAll('"', "") });
      if (!page.isTruncated || !page.contents?.length) break;
      continuationToken = page.nextContinuationToken;
      startAfter = page.contents.at(-1)!.key;
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The object's ETag and size, or null when it does not exist. */
  async stat(bucket: string, key: string): Promise<S3Object | null> {
    const file = this.client(bucket).file(key);
    if (!(await this.#call(`stat ${s3Url(bucket, key)}`, () => file.exists()))) return null;
    const st = await this.#call(`stat ${s3Url(bucket, key)}`, () => file.stat());
    return { key, size: st.size, etag: String(st.etag).replaceAll('"', "") };
  }

  /**
   * A local file holding the object as of `etag`: downloaded once, then reused until the
   * ETag changes. Named by a hash of the key plus the ETag, so a new version never
   * overwrites a file a reader may have open; older versions of the key are removed.
   */
  async localCopy(bucket: string, obj: S3Object): Promise<string> {
    const path = this.#cachePath(bucket, obj);
    if (existsSync(path)) return path;
    const dir = dirname(path);
    const stem = hashOf(obj.key);
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
      await this.#call(`download ${s3Url(bucket, obj.key)}`, () => Bun.write(tmp, this.client(bucket).file(obj.key)));
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
    for (const f of readdirSync(dir)) if (f.startsWith(`${stem}-`) && join(dir, f) !== path && !f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
    return path;
  }

  #cachePath(bucket: string, obj: S3Object): string {
    return join(this.cacheDir, bucket, `${hashOf(obj.key)}-${obj.etag.replace(/[^A-Za-z0-9-]/g, "_")}${extname(obj.key)}`);
  }

  /** Uploads a local file, which then becomes the object's cached copy (no download to read it back). */
  async upload(bucket: string, key: string, localPath: string): Promise<S3Object> {
    await this.#call(`upload ${s3Url(bucket, key)}`, () => this.client(bucket).write(key, Bun.file(localPath)));
    const st = await this.stat(bucket, key);
    if (!st) throw new StorageError(`upload ${s3Url(bucket, key)}: the object is not there after writing it`);
    const cached = this.#cachePath(bucket, st);
    mkdirSync(dirname(cached), { recursive: true });
    renameSync(localPath, cached);
    return st;
  }

  async readText(bucket: string, key: string): Promise<string | null> {
    const file = this.client(bucket).file(key);
    try {
      return await file.text();
    } catch (err) {
      if ((err as { code?: string }).code === "NoSuchKey") return null;
      throw this.#wrap(`read ${s3Url(bucket, key)}`, err);
    }
  }

  async writeText(bucket: string, key: string, text: string): Promise<void> {
    await this.#call(`write ${s3Url(bucket, key)}`, () => this.client(bucket).write(key, text));
  }

  async remove(bucket: string, key: string): Promise<void> {
    await this.#call(`delete ${s3Url(bucket, key)}`, () => this.client(bucket).delete(key));
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#wrap(what, err);
    }
  }

  #wrap(what: string, err: unknown): StorageError {
    const e = err as { code?: string; message?: string };
    const hint =
      e.code === "ERR_S3_MISSING_CREDENTIALS" || e.code === "InvalidAccessKeyId" || e.code === "SignatureDoesNotMatch"
        ? " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        : e.code === "ConnectionRefused" || /connect|ECONNREFUSED|Unable to connect/i.test(e.message ?? "")
          ? ` (is ${this.settings.endpoint ?? "S3"} reachable? LARDER_S3_ENDPOINT sets an S3-compatible server)`
          : "";
    return new StorageError(`S3 ${what} failed: ${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}${hint}`, { cause: err });
  }
}
