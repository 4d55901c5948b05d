/**
 * POST /v1/features/historical: a point-in-time training set over HTTP, Parquet in and
 * out, so large sets never pass through JSON rows. The body is the entity table (label
 * table) as a Parquet file: join keys, a timestamp column, any labels. The query names
 * the features: `service=NAME` or `features=view:feature,…`, with `timestamp_column`
 * (default event_timestamp) and `full_names=true`. The answer streams the training set as
 * Parquet, its run id and row count in `x-larder-run-id` and `x-larder-rows`; it is
 * recorded as a historical run like `larder historical`.
 */
import { Hono } from "hono";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Larder } from "../../larder.ts";
import { BadRequestError, PayloadTooLargeError } from "../../errors.ts";
import { resolveFeatures } from "../../online/online-features.ts";
import { DEFAULT_TIMESTAMP_COLUMN } from "../../offline/historical.ts";

export const PARQUET = "application/vnd.apache.parquet";
const MAGIC = "PAR1";

/** The request body into `path`, refusing more than `max` bytes (413) before all of it is read. */
async function saveBody(req: Request, path: string, max: number): Promise<number> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) throw new PayloadTooLargeError(`the entity table is ${declared} bytes; the limit is ${max} (LARDER_MAX_UPLOAD_BYTES)`);
  if (!req.body) throw new BadRequestError("send the entity table as a Parquet file in the body", "invalid_entities");
  const writer = Bun.file(path).writer();
  let size = 0;
  try {
    for await (const chunk of req.body) {
      size += chunk.byteLength;
      if (size > max) throw new PayloadTooLargeError(`the entity table is over ${max} bytes (LARDER_MAX_UPLOAD_BYTES)`);
      writer.write(chunk);
    }
  } finally {
    await writer.end();
  }
  return size;
}

async function isParquet(path: string, size: number): Promise<boolean> {
  if (size < 12) return false;
  const file = Bun.file(path);
  const [head, tail] = await Promise.all([file.slice(0, 4).text(), file.slice(size - 4).text()]);
  return head === MAGIC && tail === MAGIC;
}

export function historicalRoutes(larder: Larder) {
  return new Hono().post("/v1/features/historical", async (c) => {
    const q = c.req.query();
    const service = q.service;
    const features = q.features?.split(",").map((f) => f.trim());
    if ((service === undefined) === (features === undefined)) throw new BadRequestError("give ?service=NAME or ?features=view:feature,… (one of them)", "invalid_features");
    const timestampColumn = q.timestamp_column ?? DEFAULT_TIMESTAMP_COLUMN;
    if (timestampColumn.length > 200) throw new BadRequestError("timestamp_column: at most 200 characters", "invalid_entities");
    const refs = resolveFeatures(larder.registry(), { service, features });

    const dir = join(larder.config.dataDir, "cache", "http-historical");
    mkdirSync(dir, { recursive: true });
    const id = randomUUID();
    const input = join(dir, `${id}-entities.parquet`);
    const output = join(dir, `${id}-training.parquet`);
    const cleanup = () => {
      for (const p of [input, output, `${output}.manifest.json`]) rmSync(p, { force: true });
    };
    try {
      const size = await saveBody(c.req.raw, input, larder.config.maxUploadBytes);
      if (!(await isParquet(input, size)))
        throw new BadRequestError(`the body is not a Parquet file (send the entity table as Parquet, content-type ${PARQUET})`, "invalid_entities");
      // A damaged file is the request's fault: read it once before the training set does.
      await larder.readTrainingSet(input, "count(*) AS n").catch((err: Error) => {
        throw new BadRequestError(`the entity table cannot be read as Parquet: ${err.message.split("\n")[0]}`, "invalid_entities");
      });
      const result = await larder.historical({ labelsPath: input, refs, outPath: output, timestampColumn, fullNames: q.full_names === "true" });
      // Streamed from disk, and removed once sent (or when the client goes away).
      const file = Bun.file(output).stream();
      const body = file.pipeThrough(new TransformStream({ flush: cleanup }));
      return new Response(body, {
        headers: {
          "content-type": PARQUET,
          "x-larder-run-id": result.runId,
          "x-larder-rows": String(result.rows),
          "content-disposition": 'attachment; filename="training.parquet"',
        },
      });
    } catch (err) {
      cleanup();
      throw err;
    }
  });
}
