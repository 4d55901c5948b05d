/**
 * What the offline engine needs besides DuckDB: the feature repo (relative source paths),
 * the data folder, the storage that reads local and S3 files, the offline file store
 * (offline tables and pushed segments; local or on S3), and Spark's settings when the
 * Spark engine computes offline tables and training sets (otherwise DuckDB does).
 */
import type { FileStore } from "../storage/file-store.ts";
import type { Storage } from "../storage/storage.ts";
import type { SparkEngine } from "./spark/spark-job.ts";

export type OfflineContext = { repoDir: string; dataDir: string; storage: Storage; files: FileStore; spark?: SparkEngine };
