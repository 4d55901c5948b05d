/**
 * Feast's /write-to-online-store body as a push. Feast's remote online store sends a view's
 * rows (join keys, the columns of the view's schema, `event_timestamp`, `created`) for
 * `feast materialize` and `FeatureStore.push`. Larder's online values are computed from
 * events, so the rows are read as events of the view's source: applied online to that view
 * through the push source that feeds the source, with the view's own features computed
 * from them (windows count them as events, as a push does).
 */
import { BadRequestError } from "../../errors.ts";
import { columnsToRows } from "../../push/push-rows.ts";
import type { Registry } from "../../registry/registry.ts";

/** The column Feast's remote online store names the event time by, whatever the source calls it. */
const FEAST_EVENT_TIME = "event_timestamp";

export function onlineWriteOf(registry: Registry, viewName: string, df: Record<string, unknown>): { pushSource: string; rows: unknown[] } {
  if (registry.onDemandView(viewName))
    throw new BadRequestError(`"${viewName}" is an on-demand feature view: it is computed at lookup time from request data, there is nothing to write`, "invalid_view");
  const view = registry.view(viewName);
  const source = view.source;
  const push = view.push ?? registry.pushSources().find((p) => p.batchSource === source.name);
  if (!push)
    throw new BadRequestError(
      `feature view "${viewName}" reads source "${source.name}", which no push source feeds: Larder computes online values from events, and writes are applied as events pushed to a push source over "${source.name}" (define one with pushSource({ batchSource: ${source.name} })), or run larder materialize`,
      "no_push_source",
    );
  const columns = { ...df };
  if (!(source.timestampField in columns) && FEAST_EVENT_TIME in columns) {
    columns[source.timestampField] = columns[FEAST_EVENT_TIME];
    delete columns[FEAST_EVENT_TIME];
  }
  return { pushSource: push.name, rows: columnsToRows(columns, new Set(source.schema.map((c) => c.name))) };
}
