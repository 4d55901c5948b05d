/** GET /v1/runs (newest first; ?kind=&view=&status=&limit=) and GET /v1/runs/:id. */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";
import { BadRequestError, NotFoundError } from "../../errors.ts";
import type { DamagedRun, RunKind, RunRecord } from "../../registry/runs.ts";

const KINDS = ["materialize", "push", "historical"];
const MAX_LIMIT = 500;

export function runRoutes(larder: Larder) {
  return new Hono()
    .get("/", async (c) => {
      const { kind, view, status, limit } = c.req.query();
      if (kind !== undefined && !KINDS.includes(kind)) throw new BadRequestError(`kind must be one of ${KINDS.join(", ")}`, "invalid_query");
      if (status !== undefined && status !== "succeeded" && status !== "failed") throw new BadRequestError("status must be succeeded or failed", "invalid_query");
      const n = limit === undefined ? 20 : Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new BadRequestError(`limit must be a whole number from 1 to ${MAX_LIMIT}`, "invalid_query");
      // Damaged records are left out and named, so one bad file does not hide the history.
      const damaged: DamagedRun[] = [];
      const runs = await larder.runs.list({ kind: kind as RunKind | undefined, view, status: status as RunRecord["status"] | undefined, limit: n }, (d) => damaged.push(d));
      return c.json({ runs, damaged: damaged.map((d) => d.problem) });
    })
    .get("/:id", async (c) => {
      const run = await larder.runs.get(c.req.param("id"));
      if (!run) throw new NotFoundError(`run "${c.req.param("id").slice(0, 80)}" not found`);
      return c.json(run);
    });
}
