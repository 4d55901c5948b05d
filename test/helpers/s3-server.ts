/**
 * A real S3-compatible server (the s3rver package, a devDependency) on a free loopback
 * port, in this process, with its files in a temp folder. s3rver accepts the access key id
 * "S3RVER" with any secret (decision 0001).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export type S3Server = { endpoint: string; env: Record<string, string>; stop(): Promise<void> };

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

export async function startS3(buckets: string[]): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), "larder-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { ...S3_CREDENTIALS, LARDER_S3_ENDPOINT: endpoint },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
