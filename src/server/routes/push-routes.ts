/**
 * POST /v1/push: rows for a push source, `to` online, offline or both (default online,
 * as in Feast). POST /push: the same with Feast's body (`push_source_name`, columnar
 * `df`) and Feast's answers: 200 with an empty body, 422 for a request it refuses.
 * POST /write-to-online-store: Feast's write of one view's rows (what Feast's remote
 * online store sends for `materialize` and `push`), applied online to that view only.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Larder } from "../../larder.ts";
import type { Logger } from "../../log.ts";
import { PUSH_MODES } from "../../push/push.ts";
import { columnsToRows } from "../../push/push-rows.ts";
import { answerError } from "../error-handler.ts";
import { readJson } from "../read-json.ts";
import { feastRefusal } from "./feast-errors.ts";
import { onlineWriteOf } from "../feast/online-write.ts";

export const PushBody = z.strictObject({
  source: z.string().min(1).max(200),
  rows: z.array(z.unknown()),
  to: z.enum(PUSH_MODES).optional(),
});

export const FeastPushBody = z.object({
  push_source_name: z.string().min(1).max(200),
  df: z.record(z.string().max(200), z.unknown()),
  to: z.enum(PUSH_MODES).optional(),
  allow_registry_cache: z.boolean().optional(),
});

export const FeastWriteBody = z.object({
  feature_view_name: z.string().min(1).max(200),
  df: z.record(z.string().max(200), z.unknown()),
  allow_registry_cache: z.boolean().optional(),
  transform_on_write: z.boolean().optional(),
});

/**
 * Feast's refusal of a push (always 422) or a write (404 for a missing view), a missing
 * push source or view as its typed exception; a server error as `{ detail }` 500.
 */
async function feastPushRefusal(err: unknown, req: Request, larder: Larder, log: Logger, always422: boolean): Promise<Response> {
  const refused = feastRefusal(err);
  if (refused) return !always422 || refused.status === 422 ? refused : new Response(refused.body, { status: 422, headers: refused.headers });
  const res = answerError(err, req, log, larder.config.repoDir);
  return Response.json({ detail: ((await res.json()) as { message: string }).message }, { status: 500 });
}

export function pushRoutes(larder: Larder, log: Logger) {
  return new Hono()
    .post("/v1/push", async (c) => {
      const body = await readJson(c.req.raw, PushBody, larder.config.maxBodyBytes);
      const result = await larder.push({ source: body.source, rows: body.rows, to: body.to ?? "online" });
      return c.json({ source: result.source, rows: result.rows, to: result.to, duplicates: result.duplicates, views: result.views });
    })
    .post("/push", async (c) => {
      try {
        const body = await readJson(c.req.raw, FeastPushBody, larder.config.maxBodyBytes);
        // Columns the push source does not have are left out, as Feast's server does.
        const registry = larder.registry();
        const schema = registry.source(registry.pushSource(body.push_source_name).batchSource).schema;
        const rows = columnsToRows(body.df, new Set(schema.map((col) => col.name)));
        // An empty df is nothing to push: Feast answers it as done.
        if (rows.length) await larder.push({ source: body.push_source_name, rows, to: body.to ?? "online" });
        // As Feast (0.59 and later) answers a push: 200 with an empty body.
        return c.body(null, 200);
      } catch (err) {
        return feastPushRefusal(err, c.req.raw, larder, log, true);
      }
    })
    .post("/write-to-online-store", async (c) => {
      try {
        const body = await readJson(c.req.raw, FeastWriteBody, larder.config.maxBodyBytes);
        const write = onlineWriteOf(larder.registry(), body.feature_view_name, body.df);
        if (write.rows.length) await larder.push({ source: write.pushSource, rows: write.rows, to: "online", view: body.feature_view_name });
        return c.body(null, 200);
      } catch (err) {
        return feastPushRefusal(err, c.req.raw, larder, log, false);
      }
    });
}
