/**
 * Parses and validates a JSON body with a zod schema; every failure is a 4xx naming the
 * problem: a body over the size limit (413, whether it declares its length or is sent in
 * chunks: reading stops at the limit), bytes that are not UTF-8, a string that is not
 * valid Unicode (a lone surrogate written as "\ud800"), malformed JSON, or the schema.
 */
import { z } from "zod";
import { BadRequestError, PayloadTooLargeError } from "../errors.ts";
import { isValidUnicode } from "../input-limits.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `fast`, when given, is a hand-written check that accepts only bodies the schema accepts
 * unchanged: hot routes skip zod for well-formed requests, and anything it does not
 * accept still goes through zod, so every error message comes from the schema.
 */
export async function readJson<T extends z.ZodType>(req: Request, schema: T, maxBytes: number, fast?: (body: unknown) => body is z.output<T>): Promise<z.output<T>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type))
    throw new BadRequestError(`send the body as JSON with content-type: application/json (got "${type.slice(0, 60)}")`, "unsupported_media_type");
  const text = await readBodyText(req, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`malformed JSON body: ${(err as Error).message}`, "malformed_json");
  }
  // A surrogate can only be alone where the text escapes one: look closer only then.
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const at = loneSurrogateAt(body, "");
    if (at !== null) throw new BadRequestError(`invalid Unicode in the body at ${at || "(top)"}: a lone UTF-16 surrogate; send well-formed strings`, "invalid_unicode");
  }
  if (fast?.(body)) return body;
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestError(`invalid request body:\n${z.prettifyError(r.error)}`, "invalid_body");
  return r.data;
}

/** The body as text: at most `maxBytes` bytes read, and only UTF-8. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new PayloadTooLargeError(`request body is larger than ${maxBytes} bytes (LARDER_MAX_BODY_BYTES)`);
  const declared = req.headers.get("content-length");
  if (Number(declared ?? 0) > maxBytes) throw tooLarge();
  let bytes: Uint8Array;
  if (declared !== null || !req.body) {
    // Bun reads no more than the declared length.
    bytes = new Uint8Array(await req.arrayBuffer());
  } else {
    // Chunked: read up to the limit, then stop.
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = req.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        void reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    bytes = Buffer.concat(chunks);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequestError("the body is not valid UTF-8", "invalid_unicode");
  }
}

/** Where in a parsed body a string (or key) is not valid Unicode, as a path; null when nowhere. */
function loneSurrogateAt(v: unknown, path: string): string | null {
  if (typeof v === "string") return isValidUnicode(v) ? null : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = loneSurrogateAt(v[i], `${path}[${i}]`);
      if (at !== null) return at;
    }
  } else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const key = isValidUnicode(k) ? k : k.toWellFormed();
      if (key !== k) return `${path ? `${path}.` : ""}${JSON.stringify(key)} (the key)`;
      const at = loneSurrogateAt(x, path ? `${path}.${k}` : k);
      if (at !== null) return at;
    }
  }
  return null;
}
