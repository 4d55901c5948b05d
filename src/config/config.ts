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
  /** How long pushed event ids are remembered for deduplication ("7d"); a redelivery later counts again. */
  dedupeWindow: z.string().regex(DURATION_PATTERN, 'must be a duration such as "1d" or "7d"'),
  /** A request running longer is answered 503 request_timeout. */
  requestTimeoutMs: z.coerce.number().int().positive(),
  /** `larder serve` consumes push sources' Redis Streams from here when set (redis://…). */
  streamRedis: z.union([z.literal(""), z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")]),
  /** The consumer's name in the group: stable across restarts, so it resumes its pending entries. */
  streamConsumer: z.string().min(1),
  /** Bearer tokens with scopes (server/auth.ts): "scope=token,…"; empty: no auth. */
  tokens: z.string(),
  /** With tokens configured, whether reads (lookups, registry, runs) still need none. */
  openReads: z.enum(["true", "false"]),
  /** Whether `larder serve` runs views' schedules: "on" (default; replicas share the work safely), or "off". */
  schedules: z.enum(["on", "off"]),
  /** How long a view's materialization lease lasts unless renewed: a run's holder that dies gives it up after this. */
  leaseTtl: z.string().regex(DURATION_PATTERN, 'must be a duration such as "30s"'),
  /** Where streamed rows go, as a push's `to`. */
  streamTo: z.enum(["online", "offline", "online_and_offline"]),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

const ENV: Record<string, keyof Config> = {
  LARDER_REPO: "repoDir",
  LARDER_DATA_DIR: "dataDir",
  LARDER_HOST: "host",
  LARDER_PORT: "port",
  LARDER_WORKERS: "workers",
  LARDER_ONLINE: "online",
  LARDER_OFFLINE: "offline",
  LARDER_S3_ENDPOINT: "s3Endpoint",
  LARDER_MAX_ENTITIES: "maxEntitiesPerRequest",
  LARDER_MAX_BODY_BYTES: "maxBodyBytes",
  LARDER_MAX_PUSH_ROWS: "maxPushRows",
  LARDER_REQUEST_TIMEOUT_MS: "requestTimeoutMs",
  LARDER_DEDUPE_WINDOW: "dedupeWindow",
  LARDER_STREAM_REDIS: "streamRedis",
  LARDER_STREAM_CONSUMER: "streamConsumer",
  LARDER_STREAM_TO: "streamTo",
  LARDER_SCHEDULES: "schedules",
  LARDER_LEASE_TTL: "leaseTtl",
  LARDER_TOKENS: "tokens",
  LARDER_OPEN_READS: "openReads",
};

export function loadConfig(flags: Partial<Record<keyof Config, string | number>> = {}, env: Record<string, string | undefined> = process.env): Config {
  const fromEnv: Partial<Record<keyof Config, string>> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name]) fromEnv[key] = env[name];
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
    repoDir,
    dataDir: resolve(repoDir, String(flags.dataDir ?? fromEnv.dataDir ?? "data")),
    host: "127.0.0.1",
    port: 6566,
    workers: 1,
    online: "lmdb",
    offline: "local",
    s3Endpoint: "",
    maxEntitiesPerRequest: 1000,
    maxBodyBytes: 1_048_576,
    maxPushRows: 10_000,
    requestTimeoutMs: 30_000,
    dedupeWindow: "7d",
    streamRedis: "",
    streamConsumer: hostname(),
    streamTo: "online",
    schedules: "on",
    leaseTtl: "30s",
    tokens: "",
    openReads: "false",
    ...fromEnv,
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  };
  merged.repoDir = repoDir;
  // A relative data folder is inside the feature repo, wherever the command runs from.
  merged.dataDir = resolve(repoDir, String(flags.dataDir ?? fromEnv.dataDir ?? "data"));
  const r = ConfigSchema.safeParse(merged);
  if (!r.success) throw new BadRequestError(`invalid configuration:\n${z.prettifyError(r.error)}`, "invalid_config");
  parseTokens(r.data.tokens); // refuses a malformed token list now, not at the first request
  return Object.freeze(r.data);
}
