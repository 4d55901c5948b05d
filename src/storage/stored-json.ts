/**
 * Reading back what Larder wrote: JSON checked with a zod schema, so a truncated or
 * hand-edited file is named in a clear error with its way out (DamagedDataError), not a
 * SyntaxError or a crash further on.
 */
import type { z } from "zod";
import { DamagedDataError } from "../errors.ts";

/** `what`: the file or value, as a user finds it; `wayOut`: what to do about it. */
export function parseStored<T extends z.ZodType>(text: string, schema: T, what: string, wayOut: string): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DamagedDataError(`${what} is damaged: it is not valid JSON (${(err as Error).message}); ${wayOut}`, { cause: err });
  }
  return checkStored(value, schema, what, wayOut);
}

/** A decoded value (msgpack from LMDB, say) against its schema. */
export function checkStored<T extends z.ZodType>(value: unknown, schema: T, what: string, wayOut: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length ? i.path.join(".") : "(top)"}: ${i.message}`)
      .join("; ");
    throw new DamagedDataError(`${what} is damaged (${problems}); ${wayOut}`);
  }
  return r.data;
}
