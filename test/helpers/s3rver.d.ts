// The s3rver package (a test server) ships no types; this is the part the tests use.
declare module "s3rver" {
  export default class S3rver {
    constructor(options: { address?: string; port?: number; silent?: boolean; directory: string; configureBuckets?: { name: string; configs: unknown[] }[] });
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
