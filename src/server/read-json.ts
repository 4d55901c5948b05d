/** Parses and validates a JSON body with a zod schema; every failure is a 400 naming the problem. */
import type { Context } from "hono";
import { z } from "zod";
import { BadRequestError } from "../errors.ts";

export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new BadRequestError(`send the body as JSON with content-type: application/json (got "${type.slice(0, 60)}")`, "unsupported_media_type");
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`malformed JSON body: ${(err as Error).message}`, "malformed_json");
  }
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestError(`invalid request body:\n${z.prettifyError(r.error)}`, "invalid_body");
  return r.data;
}
