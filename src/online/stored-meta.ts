/** What online stores keep beside records (served pointers, leases), checked when read back. */
import { z } from "zod";
import { checkStored, parseStored } from "../storage/stored-json.ts";
import type { Lease, ServingPointer } from "./online-store.ts";

const PointerSchema = z.object({
  view: z.string(),
  version: z.string(),
  table: z.string(),
  watermark: z.number(),
  updatedAt: z.string(),
  runId: z.string(),
}) satisfies z.ZodType<ServingPointer>;

const PointersSchema = z.record(z.string(), PointerSchema);

const LeaseSchema = z.object({ name: z.string(), holder: z.string(), acquiredAt: z.string(), expiresAt: z.number() }) satisfies z.ZodType<Lease>;

/** The way out of a damaged online store. */
export const REBUILD_ONLINE = "run larder materialize --rebuild: it sets the store aside and builds it again from the offline tables (values pushed online only are not in those)";

/** Every view's pointer, from the decoded stored value (undefined: none yet). `where`: the store, for the message. */
export function storedPointers(value: unknown, where: string): Record<string, ServingPointer> {
  return value === undefined || value === null ? {} : checkStored(value, PointersSchema, `the pointer record in ${where}`, REBUILD_ONLINE);
}

/** The same from stored JSON text (null: none yet). */
export function storedPointersJson(text: string | null, where: string): Record<string, ServingPointer> {
  return text === null ? {} : parseStored(text, PointersSchema, `the pointer record in ${where}`, REBUILD_ONLINE);
}

/** A stored lease; a damaged one counts as none (a lease only ever lasts seconds). */
export function storedLease(value: unknown): Lease | undefined {
  const r = LeaseSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
