/**
 * A view pushed to before it was ever materialized gets its first table from the pushes:
 * `view@version#stream`, its pointer written by no run (`runId` STREAM_RUN_ID).
 */
import { STREAM_RUN_ID } from "../ids.ts";
import { tableName, type ServingPointer } from "./online-store.ts";

export { STREAM_RUN_ID };

export function streamPointer(view: string, version: string): ServingPointer {
  return { view, version, table: tableName(view, version, STREAM_RUN_ID), watermark: 0, updatedAt: new Date().toISOString(), runId: STREAM_RUN_ID };
}
