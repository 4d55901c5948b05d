/** What online stores keep beside records (served pointers, leases), checked when read back. */
import { z } from "zod";
import { checkStored } from "../storage/stored-json.ts";
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

const REBUILD = "run larder materialize --rebuild to rebuild the online store from the offline tables";

/** Every view's pointer, from the decoded stored value (undefined: none yet). `where`: the store, for the message. */
export function storedPointers(value: unknown, where: string): Record<string, ServingPointer> {
  return value === undefined || value === null ? {} : checkStored(value, PointersSchema, `the served pointers in ${where}`, REBUILD);
}

/** A stored lease; a damaged one counts as none (a lease only ever lasts seconds). */
export function storedLease(value: unknown): Lease | undefined {
  const r = LeaseSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
