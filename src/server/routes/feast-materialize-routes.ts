/**
 * Feast's materialization routes, so `feast`'s HTTP clients and scripts written for
 * `feast serve` drive Larder's materialization:
 * - `POST /materialize` `{ start_ts, end_ts, feature_views?, disable_event_timestamp? }`:
 *   a full run of the views over events in [start_ts, end_ts) (every event up to now with
 *   `disable_event_timestamp`);
 * - `POST /materialize-incremental` `{ end_ts, feature_views? }`: from each view's watermark.
 * Both answer 200 `null` when done; with `?async=true`, 202 `{ status: "accepted",
 * feature_views }` at once and the run goes on, or 409 `{ error }` when one of the views is
 * being materialized by this server already (runs elsewhere are waited for, as leases say).
 * Refusals as on Feast's other routes (feast-errors.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { BadRequestError } from "../../errors.ts";
import type { Larder } from "../../larder.ts";
import type { Logger } from "../../log.ts";
import type { MaterializeOptions } from "../../materialize/materialize.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import { parseInstant } from "../../time.ts";
import { answerError } from "../error-handler.ts";
import { readJson } from "../read-json.ts";
import { feastRefusal } from "./feast-errors.ts";

const Views = z.array(z.string().min(1).max(200)).min(1).max(1000).nullish();

export const FeastMaterializeBody = z.object({
  start_ts: z.string().max(64).nullish(),
  end_ts: z.string().max(64).nullish(),
  feature_views: Views,
  disable_event_timestamp: z.boolean().optional(),
  full_feature_names: z.boolean().optional(),
});

export const FeastMaterializeIncrementalBody = z.object({
  end_ts: z.string().max(64),
  feature_views: Views,
  full_feature_names: z.boolean().optional(),
});

/** Feast writes times as ISO 8601, often without a zone: those are UTC, as Feast reads them. */
const feastTime = (text: string, what: string) => parseInstant(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`, what);

export function feastMaterializeRoutes(larder: Larder, scheduler: Scheduler, log: Logger) {
  /** Views an async run of this server is materializing now. */
  const running = new Set<string>();

  const answer = async (asyncMode: boolean, names: string[], opts: MaterializeOptions) => {
    if (!asyncMode) {
      await larder.materialize({ ...opts, views: names, via: "feast http", whenBusy: "wait" });
      return Response.json(null);
    }
    const busy = names.filter((v) => running.has(v) || scheduler.isRunning(v));
    if (busy.length)
      return Response.json(
        { error: `Cannot start async materialization — the following feature views are already being materialized: ${JSON.stringify(busy)}. Try again when they are done.` },
        { status: 409 },
      );
    for (const v of names) running.add(v);
    void larder
      .materialize({ ...opts, views: names, via: "feast http async", whenBusy: "wait" })
      .catch((error) => log({ level: "error", event: "materialize.failed", view: names.join(","), via: "feast http async", error }))
      .finally(() => {
        for (const v of names) running.delete(v);
      });
    return Response.json({ status: "accepted", feature_views: names }, { status: 202 });
  };

  const handle = (fn: (req: Request, asyncMode: boolean) => Promise<Response>) => async (c: { req: { raw: Request; query: (k: string) => string | undefined } }) => {
    try {
      return await fn(c.req.raw, c.req.query("async") === "true");
    } catch (err) {
      return feastRefusal(err) ?? answerError(err, c.req.raw, log, larder.config.repoDir);
    }
  };

  return new Hono()
    .post(
      "/materialize",
      handle(async (req, asyncMode) => {
        const body = await readJson(req, FeastMaterializeBody, larder.config.maxBodyBytes);
        const names = larder.registry().viewsNamed(body.feature_views);
        if (body.disable_event_timestamp) return answer(asyncMode, names, {});
        if (!body.start_ts || !body.end_ts) throw new BadRequestError("start_ts and end_ts are required when disable_event_timestamp is false", "invalid_body");
        const start = feastTime(body.start_ts, "start_ts");
        const end = feastTime(body.end_ts, "end_ts");
        if (start >= end) throw new BadRequestError(`start_ts (${body.start_ts}) must be before end_ts (${body.end_ts})`, "invalid_body");
        return answer(asyncMode, names, { start, end });
      }),
    )
    .post(
      "/materialize-incremental",
      handle(async (req, asyncMode) => {
        const body = await readJson(req, FeastMaterializeIncrementalBody, larder.config.maxBodyBytes);
        const names = larder.registry().viewsNamed(body.feature_views);
        return answer(asyncMode, names, { incremental: true, end: feastTime(body.end_ts, "end_ts") });
      }),
    );
}
