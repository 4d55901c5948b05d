/**
 * Parses and validates a JSON body with a zod schema; every failure is a 4xx naming the
 * problem. The size limit is checked here (Content-Length first, then the bytes read)
 * rather than by a middleware wrapping every request's body stream.
 */
import { z } from "zod";
import { BadRequestError, PayloadTooLargeError } from "../errors.ts";

/**
 * `fast`, when given, is a hand-written check that accepts only bodies the schema accepts
 * unchanged: hot routes skip zod for well-formed requests, and anything it does not
 * accept still goes through zod, so every error message comes from the schema.
 */
export async function readJson<T extends z.ZodType>(req: Request, schema: T, maxBytes: number, fast?: (body: unknown) => body is z.output<T>): Promise<z.output<T>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new BadRequestError(`send the body as JSON with content-type: application/json (got "${type.slice(0, 60)}")`, "unsupported_media_type");
  const tooLarge = () => new PayloadTooLargeError(`request body is larger than ${maxBytes} bytes (LARDER_MAX_BODY_BYTES)`);
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  const text = await req.text();
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: count exactly only when it may matter.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes) throw tooLarge();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`malformed JSON body: ${(err as Error).message}`, "malformed_json");
  }
  if (fast?.(body)) return body;
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestError(`invalid request body:\n${z.prettifyError(r.error)}`, "invalid_body");
  return r.data;
}
