/**
 * The offline storage: where offline tables and pushed segments are kept, under one root,
 * a local folder (the data folder, by default) or `s3://bucket/prefix` (LARDER_OFFLINE),
 * so several machines share them. Keys are relative paths with "/" separators.
 * Files are written locally first (`staging`), then published whole (`put`): a rename
 * locally, an upload on S3. Readers only ever see complete files.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { z } from "zod";
import { parseStored } from "./stored-json.ts";
import { basename, dirname, join } from "node:path";
import { hashOf } from "../ids.ts";
import { isS3Url, parseS3Url, s3Url } from "./s3-location.ts";
import type { Storage, StoredFile } from "./storage.ts";

export interface FileStore {
  /** Where it is, for messages: a folder or an s3:// address. */
  readonly root: string;
  /** Where the file `key` is (or will be): a local path or an s3:// address. */
  pathOf(key: string): string;
  /** The files directly under a folder key, sorted by name, without hidden (".") files. */
  list(folder: string): Promise<StoredFile[]>;
  /** The file's content as text, or null when there is no such file. */
  readText(key: string): Promise<string | null>;
  writeText(key: string, text: string): Promise<void>;
  /** A local path to write the file `key` will hold; `put` publishes it. */
  staging(key: string): string;
  put(key: string, stagedPath: string): Promise<StoredFile>;
  remove(key: string): Promise<void>;
  /** A local path holding a listed or put file's content. */
  readable(file: StoredFile): Promise<string>;
}

/**
 * A JSON file Larder wrote, checked against its schema; null when there is no such file.
 * Damaged, it is a DamagedDataError naming `what` (with the file's place) and `wayOut`.
 */
export async function readStoredJson<T extends z.ZodType>(files: FileStore, key: string, schema: T, what: string, wayOut: string): Promise<z.output<T> | null> {
  const text = await files.readText(key);
  return text === null ? null : parseStored(text, schema, `${what} ${files.pathOf(key)}`, wayOut);
}

export function openFileStore(root: string, storage: Storage): FileStore {
  return isS3Url(root) ? new S3FileStore(root, storage) : new LocalFileStore(root);
}

class LocalFileStore implements FileStore {
  constructor(readonly root: string) {}

  #path = (key: string) => join(this.root, ...key.split("/"));

  pathOf(key: string): string {
    return this.#path(key);
  }

  async list(folder: string): Promise<StoredFile[]> {
    const dir = this.#path(folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => !f.startsWith("."))
      .sort()
      .map((f) => join(dir, f))
      .filter((p) => statSync(p).isFile())
      .map((path) => {
        const st = statSync(path);
        return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
      });
  }

  async readText(key: string): Promise<string | null> {
    const path = this.#path(key);
    return existsSync(path) ? readFileSync(path, "utf8") : null;
  }

  /** Whole or not at all, and on disk before it is in place (a crash never leaves half a file). */
  async writeText(key: string, text: string): Promise<void> {
    const staged = this.staging(key);
    writeFileSync(staged, text);
    const fd = openSync(staged, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(staged, this.#path(key));
  }

  // Beside its final place, so publishing is an atomic rename on one file system.
  staging(key: string): string {
    const path = this.#path(key);
    mkdirSync(dirname(path), { recursive: true });
    return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }

  async put(key: string, stagedPath: string): Promise<StoredFile> {
    const path = this.#path(key);
    renameSync(stagedPath, path);
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  }

  async remove(key: string): Promise<void> {
    rmSync(this.#path(key), { force: true });
  }

  async readable(file: StoredFile): Promise<string> {
    return file.path;
  }
}

class S3FileStore implements FileStore {
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(
    readonly root: string,
    readonly storage: Storage,
  ) {
    const { bucket, key } = parseS3Url(root);
    this.#bucket = bucket;
    this.#prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
  }

  #key = (key: string) => this.#prefix + key;

  pathOf(key: string): string {
    return s3Url(this.#bucket, this.#key(key));
  }

  async list(folder: string): Promise<StoredFile[]> {
    const prefix = `${this.#key(folder)}/`;
    const objects = await this.storage.s3.list(this.#bucket, prefix);
    return objects
      .filter((o) => !o.key.slice(prefix.length).includes("/") && !o.key.slice(prefix.length).startsWith("."))
      .map((o) => ({ path: s3Url(this.#bucket, o.key), size: o.size, etag: o.etag }));
  }

  readText(key: string): Promise<string | null> {
    return this.storage.s3.readText(this.#bucket, this.#key(key));
  }

  writeText(key: string, text: string): Promise<void> {
    return this.storage.s3.writeText(this.#bucket, this.#key(key), text);
  }

  staging(key: string): string {
    const dir = join(this.storage.cacheDir, "staging");
    mkdirSync(dir, { recursive: true });
    return join(dir, `${hashOf([this.root, key])}-${process.pid}-${basename(key)}`);
  }

  async put(key: string, stagedPath: string): Promise<StoredFile> {
    try {
      const o = await this.storage.s3.upload(this.#bucket, this.#key(key), stagedPath);
      return { path: s3Url(this.#bucket, o.key), size: o.size, etag: o.etag };
    } catch (err) {
      rmSync(stagedPath, { force: true });
      throw err;
    }
  }

  remove(key: string): Promise<void> {
    return this.storage.s3.remove(this.#bucket, this.#key(key));
  }

  readable(file: StoredFile): Promise<string> {
    return this.storage.readable(file);
  }
}
