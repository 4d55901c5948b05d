/**
 * Configuration: one zod schema. Precedence: built-in defaults < environment (LARDER_*)
 * < command-line flags. Frozen once made; modules receive what they need from it.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { BadRequestError } from "../errors.ts";
import { parseTokens } from "./tokens.ts";
import { DURATION_PATTERN } from "../time.ts";

export const ConfigSchema = z.object({
  /** The feature repo: the folder holding features/. */
  repoDir: z.string(),
  /** Registry, offline tables and the embedded online store live here. */
  dataDir: z.string(),
  host: z.string(),
  port: z.coerce.number().int().min(0).max(65535),
  /** Processes `larder serve` answers lookups with, all on one port (server/workers/). */
  workers: z.coerce.number().int().min(1).max(64),
  /** Online store URL; "lmdb" (default) keeps it in <dataDir>/online. */
  online: z.string(),
  /** Offline storage (offline tables, pushed rows): "local" (default: <dataDir>) or s3://bucket/prefix, shared by several servers. */
  offline: z.union([z.literal("local"), z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be "local" or s3://bucket/prefix')]),
  /** An S3-compatible server's URL (MinIO, s3rver, …); empty for AWS itself. */
  s3Endpoint: z.string(),
  maxEntitiesPerRequest: z.coerce.number().int().positive(),
  maxBodyBytes: z.coerce.number().int().positive(),
  maxPushRows: z.coerce.number().int().positive(),
  /** The largest entity table POST /v1/features/historical takes. */
  maxUploadBytes: z.coerce.number().int().positive(),
  /** How long pushed event ids are remembered for deduplication ("7d"); a redelivery later counts again. */
  dedupeWindow: z.string().regex(DURATION_PATTERN, 'must be a duration such as "1d" or "7d"'),
  /** A request running longer is answered 503 request_timeout. */
  requestTimeoutMs: z.coerce.number().int().positive(),
  /** `larder serve` consumes push sources' Redis Streams from here when set (redis://…). */
  streamRedis: z.union([z.literal(""), z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")]),
  /** The consumer's name in the group: stable across restarts, so it resumes its pending entries. */
  streamConsumer: z.string().min(1),
  /** Kafka brokers whose topics `larder serve` consumes into push sources; empty: none. */
  streamKafka: z.string(),
  /** The Kafka consumer group the replicas share. */
  streamKafkaGroup: z.string().min(1).max(200),
  /** Push source → topic where not `larder.push.<push source>`: `source=topic,…`. */
  streamKafkaTopics: z.string().regex(/^(\s*[A-Za-z0-9_.-]+\s*=\s*[A-Za-z0-9_.-]+\s*(,|$))*$/, "must be push_source=topic pairs, comma-separated"),
  /** Bearer tokens with scopes (server/auth.ts): "scope=token,…"; empty: no auth. */
  tokens: z.string(),
  /** With tokens configured, whether reads (lookups, registry, runs) still need none. */
  openReads: z.enum(["true", "false"]),
  /** Whether `larder serve` runs views' schedules: "on" (default; replicas share the work safely), or "off". */
  schedules: z.enum(["on", "off"]),
  /** Whether `larder serve` serves Feast's web UI at /feast and Feast's registry routes at /api/v1. */
  feastUi: z.enum(["on", "off"]),
  /** How long a view's materialization lease lasts unless renewed: a run's holder that dies gives it up after this. */
  leaseTtl: z.string().regex(DURATION_PATTERN, 'must be a duration such as "30s"'),
  /** What computes offline tables and training sets: DuckDB in-process, or Apache Spark. */
  engine: z.enum(["duckdb", "spark"]),
  /** Spark's master when the engine is spark: local[*], spark://host:7077, yarn, … */
  sparkMaster: z
    .string()
    .min(1)
    .refine((m) => !m.startsWith("sc://"), "Spark Connect (sc://) is not supported: use local[*], spark://host:7077 or yarn"),
  /** The Python (with PySpark) that runs the Spark engine's jobs. */
  sparkPython: z.string().min(1),
  /** Spark settings for the engine's session: `key=value,…`. */
  sparkConf: z.string().regex(/^(\s*spark\.[A-Za-z0-9_.-]+\s*=[^,=]*(,|$))*$/, "must be spark.key=value pairs, comma-separated"),
  /** Where streamed rows go, as a push's `to`. */
  streamTo: z.enum(["online", "offline", "online_and_offline"]),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/**
 * Every setting: its variable, its flag where commands take one, its default and what it
 * means. loadConfig reads it; docs/reference/configuration.md is generated from it.
 */
export const SETTINGS: { key: keyof Config; env: string; flag?: string; default: string | number; meaning: string }[] = [
  { key: "repoDir", env: "LARDER_REPO", flag: "--repo", default: ".", meaning: "the feature repo: the folder holding features/" },
  { key: "dataDir", env: "LARDER_DATA_DIR", flag: "--data-dir", default: "data", meaning: "registry, offline tables, runs and the embedded online store; relative to the repo" },
  { key: "host", env: "LARDER_HOST", flag: "--host", default: "127.0.0.1", meaning: "the address `larder serve` listens on (0.0.0.0: every interface)" },
  { key: "port", env: "LARDER_PORT", flag: "--port", default: 6566, meaning: "the port `larder serve` listens on (0: any free port)" },
  { key: "workers", env: "LARDER_WORKERS", flag: "--workers", default: 1, meaning: "processes answering lookups on one port (Linux); see the deployment guide" },
  {
    key: "online",
    env: "LARDER_ONLINE",
    default: "lmdb",
    meaning: "the online store: `lmdb`, `lmdb:///path`, `redis://[user:password@]host:port[/db][?prefix=larder:]` or `redis-cluster://host:port,host:port[?prefix=larder:&wait=1]`",
  },
  { key: "offline", env: "LARDER_OFFLINE", default: "local", meaning: "offline storage: `local` (the data folder) or `s3://bucket/prefix`, shared by replicas" },
  {
    key: "s3Endpoint",
    env: "LARDER_S3_ENDPOINT",
    default: "",
    meaning: "an S3-compatible server's URL (MinIO, …); empty for AWS. Credentials from the standard `AWS_*` variables",
  },
  {
    key: "engine",
    env: "LARDER_ENGINE",
    flag: "--engine",
    default: "duckdb",
    meaning: "what computes offline tables and training sets: `duckdb` (in-process) or `spark` (PySpark; see the scale-out guide)",
  },
  { key: "sparkMaster", env: "LARDER_SPARK_MASTER", default: "local[*]", meaning: "Spark's master for `--engine spark`: `local[*]`, `spark://host:7077`, `yarn`, …" },
  { key: "sparkPython", env: "LARDER_SPARK_PYTHON", default: "python3", meaning: "a Python with PySpark installed, which runs the Spark engine's jobs" },
  {
    key: "sparkConf",
    env: "LARDER_SPARK_CONF",
    default: "",
    meaning: "Spark settings for the engine's session: `spark.executor.memory=8g,spark.sql.shuffle.partitions=400,…`",
  },
  { key: "maxEntitiesPerRequest", env: "LARDER_MAX_ENTITIES", default: 1000, meaning: "entities one lookup may ask for" },
  { key: "maxBodyBytes", env: "LARDER_MAX_BODY_BYTES", default: 1_048_576, meaning: "the largest request body; larger ones are refused with 413" },
  { key: "maxPushRows", env: "LARDER_MAX_PUSH_ROWS", default: 10_000, meaning: "rows one push may carry" },
  {
    key: "maxUploadBytes",
    env: "LARDER_MAX_UPLOAD_BYTES",
    default: 536_870_912,
    meaning: "the largest entity table (Parquet) `POST /v1/features/historical` takes; larger ones are refused with 413",
  },
  { key: "requestTimeoutMs", env: "LARDER_REQUEST_TIMEOUT_MS", default: 30_000, meaning: "a request running longer is answered 503 `request_timeout`" },
  { key: "dedupeWindow", env: "LARDER_DEDUPE_WINDOW", default: "7d", meaning: "how long pushed event ids are remembered; a redelivery later counts again" },
  { key: "streamRedis", env: "LARDER_STREAM_REDIS", default: "", meaning: "`larder serve` consumes push sources' Redis Streams from this redis:// URL when set" },
  { key: "streamConsumer", env: "LARDER_STREAM_CONSUMER", default: "the host name", meaning: "this replica's consumer name in the stream's group: keep it stable across restarts" },
  {
    key: "streamKafka",
    env: "LARDER_STREAM_KAFKA",
    default: "",
    meaning: "`larder serve` consumes push sources' Kafka topics (`larder.push.<push source>`) from these brokers when set: `host:port,host:port`",
  },
  { key: "streamKafkaGroup", env: "LARDER_STREAM_KAFKA_GROUP", default: "larder", meaning: "the Kafka consumer group the replicas share (its partitions are spread over them)" },
  { key: "streamKafkaTopics", env: "LARDER_STREAM_KAFKA_TOPICS", default: "", meaning: "topics of push sources not named `larder.push.<push source>`: `push_source=topic,…`" },
  { key: "streamTo", env: "LARDER_STREAM_TO", default: "online", meaning: "where streamed rows go: `online`, `offline` or `online_and_offline`" },
  { key: "schedules", env: "LARDER_SCHEDULES", default: "on", meaning: "whether `larder serve` runs views' schedules (`on`/`off`); replicas share the work safely" },
  {
    key: "feastUi",
    env: "LARDER_FEAST_UI",
    flag: "--feast-ui",
    default: "off",
    meaning: "whether `larder serve` also serves Feast's web UI at /feast, on Feast's registry routes at /api/v1 (`on`/`off`)",
  },
  { key: "leaseTtl", env: "LARDER_LEASE_TTL", default: "30s", meaning: "how long a view's materialization lease lasts unless renewed; a dead holder's lease expires after it" },
  { key: "tokens", env: "LARDER_TOKENS", default: "", meaning: "bearer tokens with scopes, `read=…,write=…,admin=…`; empty: no auth. Or a file: `LARDER_TOKENS_FILE`" },
  { key: "openReads", env: "LARDER_OPEN_READS", default: "false", meaning: "with tokens set, whether reads (lookups, registry, runs) still need none" },
];

/** Variables read elsewhere than the config: listed with the settings in the docs. */
export const OTHER_VARIABLES: { env: string; default: string; meaning: string }[] = [
  { env: "LARDER_TOKENS_FILE", default: "", meaning: "a file holding the token list (a mounted secret), read when LARDER_TOKENS is unset" },
  { env: "LARDER_LOG", default: "text", meaning: "log format: `text` or `json` (one object per line)" },
  { env: "LARDER_LOG_LEVEL", default: "info", meaning: "`debug`, `info`, `warn` or `error`" },
  { env: "LARDER_CACHE_DIR", default: "$XDG_CACHE_HOME/larder or ~/.cache/larder", meaning: "where the executable writes its native libraries (DuckDB, LMDB) on first use" },
];

export function loadConfig(flags: Partial<Record<keyof Config, string | number>> = {}, env: Record<string, string | undefined> = process.env): Config {
  const fromEnv: Partial<Record<keyof Config, string>> = {};
  for (const { env: name, key } of SETTINGS) if (env[name]) fromEnv[key] = env[name];
  const defaults = Object.fromEntries(SETTINGS.map((s) => [s.key, s.default]));
  // Tokens may live in a file (a mounted secret) rather than the environment.
  if (!fromEnv.tokens && env.LARDER_TOKENS_FILE) {
    try {
      fromEnv.tokens = readFileSync(env.LARDER_TOKENS_FILE, "utf8");
    } catch (err) {
      throw new BadRequestError(`LARDER_TOKENS_FILE ${env.LARDER_TOKENS_FILE} cannot be read: ${(err as Error).message}`, "invalid_config");
    }
  }
  const repoDir = resolve(String(flags.repoDir ?? fromEnv.repoDir ?? "."));
  const merged = {
    ...defaults,
    streamConsumer: hostname(),
    ...fromEnv,
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
    repoDir,
    // A relative data folder is inside the feature repo, wherever the command runs from.
    dataDir: resolve(repoDir, String(flags.dataDir ?? fromEnv.dataDir ?? "data")),
  };
  const r = ConfigSchema.safeParse(merged);
  if (!r.success) throw new BadRequestError(`invalid configuration:\n${z.prettifyError(r.error)}`, "invalid_config");
  parseTokens(r.data.tokens); // refuses a malformed token list now, not at the first request
  return Object.freeze(r.data);
}
