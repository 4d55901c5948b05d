/** `s3://bucket/key` addresses, and the S3 settings Larder reads from the environment. */
import { UsageError } from "../errors.ts";

export type S3Location = { bucket: string; key: string };

export const isS3Url = (path: string): boolean => path.startsWith("s3://");

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new UsageError(`"${url}" is not an S3 address: use s3://bucket/key (a bucket name is 3–63 lowercase letters, digits, dots and hyphens)`);
  return { bucket: m[1]!, key: m[2] ?? "" };
}

export const s3Url = (bucket: string, key: string) => `s3://${bucket}/${key}`;

/**
 * Credentials from the standard AWS_* variables; an endpoint (LARDER_S3_ENDPOINT, through
 * the configuration) for an S3-compatible server (MinIO, s3rver, …), addressed path-style.
 */
export type S3Settings = {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  endpoint?: string;
};

export function s3SettingsFromEnv(env: Record<string, string | undefined> = process.env): S3Settings {
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  };
}
