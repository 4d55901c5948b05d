/**
 * A push: rows for a push source, validated, then written where `to` says.
 * - offline: one Parquet segment (pushed-segments.ts) that batch computations and
 *   historical retrieval read with the source's files;
 * - online: for every view over the push source, the rows' features are computed by
 *   DuckDB with the same SQL as the batch path (offline-table.ts), and applied to the
 *   served records in one atomic store update: all entities of all views, or nothing.
 * Rows whose event id was already applied online are skipped there (a redelivery).
 *
 * Pushes of one source and mode that wait behind each other are applied as one batch
 * (push-queue.ts): one query, one update, one segment, their rows in arrival order.
 */
import { BadRequestError, PointerMovedError } from "../errors.ts";
import type { Duck } from "../offline/duckdb.ts";
import { ident } from "../offline/duckdb.ts";
import { jsonRowsSql } from "../offline/source-sql.ts";
import { viewColumnsSql } from "../offline/offline-table.ts";
import { stagePushedSegment } from "../offline/pushed-segments.ts";
import type { OfflineContext } from "../offline/offline-context.ts";
import { ExpectationFailedError } from "../errors.ts";
import { failingRowIds, failingRowSql, failureMessage, validateBatch, type FailingRowSql } from "../validation/validate-batch.ts";
import { pushChecks } from "../validation/view-checks.ts";
import { encodeEntityKey } from "../online/entity-key.ts";
import { plainValue } from "../online/plain-value.ts";
import { recordExpiry } from "../online/record-expiry.ts";
import { streamPointer } from "../online/stream-table.ts";
import type { OnlineRecord, OnlineStore, ServingPointer } from "../online/online-store.ts";
import type { Registry, ResolvedView } from "../registry/registry.ts";
import type { PushSourceDef, SourceDef } from "../definitions/types.ts";
import { viewLayout } from "../windows/view-layout.ts";
import { applyEvents, type StreamEvent } from "./apply-events.ts";
import { validateRows, type PushedRow } from "./push-rows.ts";

/** Tries of a batch whose views' tables kept being switched under it. */
const MAX_ATTEMPTS = 5;

export const PUSH_MODES = ["online", "offline", "online_and_offline"] as const;
export type PushMode = (typeof PUSH_MODES)[number];

/**
 * `view`: apply online to this one view over the push source only (Feast's
 * /write-to-online-store writes one view at a time); its event ids are its own.
 */
export type PushRequest = { source: string; rows: unknown[]; to: PushMode; view?: string };
export type PushResult = {
  source: string;
  rows: number;
  to: PushMode;
  /** Rows skipped online because their event id was already applied. */
  duplicates: number;
  views: { view: string; version: string; entities: number }[];
  segment: string | null;
};

/**
 * Runs `fn` with the DuckDB connection, one caller at a time, in call order. A batch holds
 * it only while it uses DuckDB; its store update is started before it lets go, so updates
 * reach the store in batch order, and their commits may overlap.
 */
export type WithDuck = <T>(fn: (duck: Duck) => Promise<T>) => Promise<T>;

/** A push checked against the registry and its schema: ready to be applied. */
export type ValidatedPush = { req: PushRequest; pushSource: PushSourceDef; source: SourceDef; rows: PushedRow[] };

export function validatePush(registry: Registry, req: PushRequest, maxRows: number): ValidatedPush {
  const pushSource = registry.pushSource(req.source);
  const source = registry.hasSource(pushSource.batchSource) ? registry.source(pushSource.batchSource) : undefined;
  if (!source) throw new BadRequestError(`push source "${req.source}" has no file source "${pushSource.batchSource}" in the registry: run larder apply`, "not_applied");
  if (req.rows.length === 0) throw new BadRequestError(`push to "${req.source}": no rows given`, "invalid_rows");
  if (req.rows.length > maxRows)
    throw new BadRequestError(`push to "${req.source}": ${req.rows.length} rows in one push, the limit is ${maxRows} (LARDER_MAX_PUSH_ROWS)`, "too_many_rows");
  const rows = validateRows(source, req.source, req.rows, pushSource.eventIdField);
  const views = registry.viewsOfPushSource(pushSource.name).filter((v) => req.view === undefined || v.def.name === req.view);
  if (req.view !== undefined && views.length === 0) throw new BadRequestError(`feature view "${req.view}" does not read push source "${req.source}"`, "invalid_view");
  checkEntityKeys(views, rows, req.source);
  return { req, pushSource, source, rows };
}

/** Every row's entity keys within the limits of the online store (entity-key.ts), before anything is written. */
function checkEntityKeys(views: ResolvedView[], rows: PushedRow[], source: string): void {
  // Only string keys can be too long or invalid Unicode; an entity shared by views is checked once.
  const entities = new Map(views.filter((v) => v.entity.joinKeys.some((k) => k.type === "string")).map((v) => [v.entity.name, v.entity]));
  const problems: string[] = [];
  for (const entity of entities.values()) {
    rows.forEach((row, i) => {
      const values = entity.joinKeys.map((k) => row[k.name]);
      if (problems.length >= 5 || values.some((x) => x === null || x === undefined)) return;
      try {
        encodeEntityKey(entity, values);
      } catch (err) {
        problems.push(`row ${i}: ${(err as Error).message}`);
      }
    });
  }
  if (problems.length) throw new BadRequestError(`push to "${source}" refused, nothing was written:\n${problems.map((p) => `  ${p}`).join("\n")}`, "invalid_rows");
}

/**
 * Starts applying pushes of one push source and one `to` as one batch. Resolves once
 * DuckDB is done and the store update is under way; `done` then gives each push's result
 * once the update has committed and the segment is published.
 */
/** `dedupeWindowMs`: how long event ids are remembered (LARDER_DEDUPE_WINDOW). */
export async function startPushBatch(
  withDuck: WithDuck,
  registry: Registry,
  store: OnlineStore,
  ctx: OfflineContext,
  batch: ValidatedPush[],
  dedupeWindowMs?: number,
  attempt = 1,
): Promise<{ done: Promise<(PushResult | Error)[]> }> {
  const {
    pushSource,
    source,
    req: { to, view: onlyView },
  } = batch[0]!;
  const rows = batch.flatMap((p) => p.rows);
  const owners = batch.flatMap((p, k) => p.rows.map(() => k));
  const results: PushResult[] = batch.map((p) => ({ source: p.req.source, rows: p.rows.length, to, duplicates: 0, views: [], segment: null }));
  const files = ctx.files;

  // The rows as a relation over one bound JSON parameter (never SQL built from values),
  // with `__i`, each row's position in the batch.
  const relation = jsonRowsSql(source);
  const params = [JSON.stringify(rows.map((r, i) => ({ ...r, __i: i })))];

  // Expectations, for the whole batch: columns of the views' query when the push goes
  // online (one DuckDB round trip, not two), a query of their own otherwise. A push with a
  // failing row is refused alone (judged by itself, for its message and quarantine) and
  // the others go on.
  const checks = pushChecks(source, registry.viewsOfPushSource(pushSource.name), pushSource.name, relation, params, ctx);
  const failingSql = checks && failingRowSql(checks);
  const online = to !== "offline";
  // Offline and online together or not at all: the segment is written first but
  // published only after the online update commits.
  const outcome = await withDuck(async (duck) => {
    const update = online
      ? await onlineUpdate(duck, registry, store, pushSource.name, onlyView, pushSource.eventIdField, rows, relation, params, failingSql, dedupeWindowMs)
      : null;
    const failing = update ? update.failing : failingSql ? await failingRowIds(duck, failingSql, params, "__i") : [];
    if (failing.length) return { refused: true as const, failing };
    const segment =
      to === "online"
        ? null
        : await stagePushedSegment(
            duck,
            files,
            pushSource.name,
            relation,
            params,
            source.schema.map((c) => c.name),
            online,
          );
    const applied = update ? update.apply(owners, results) : Promise.resolve();
    applied.catch(() => {}); // awaited in `done`; never an unhandled rejection meanwhile
    return { refused: false as const, segment, applied };
  });
  if (outcome.refused) return refuseFailing(withDuck, registry, store, ctx, batch, new Set(outcome.failing.map((i) => owners[i]!)), dedupeWindowMs);
  const { segment, applied } = outcome;
  for (const r of results) r.segment = segment?.path ?? null;
  const done = (async (): Promise<(PushResult | Error)[]> => {
    try {
      await applied;
      await segment?.publish();
    } catch (err) {
      segment?.discard();
      // A materialization switched a view's table while this batch was computed: nothing
      // was written; computed again against what is served now.
      if (err instanceof PointerMovedError && attempt < MAX_ATTEMPTS) {
        return (await startPushBatch(withDuck, registry, store, ctx, batch, dedupeWindowMs, attempt + 1)).done;
      }
      throw err;
    }
    return results;
  })();
  return { done };
}

/** Refuses the pushes in `failing` with their own reports, and applies the rest as a batch. */
async function refuseFailing(
  withDuck: WithDuck,
  registry: Registry,
  store: OnlineStore,
  ctx: OfflineContext,
  batch: ValidatedPush[],
  failing: Set<number>,
  dedupeWindowMs?: number,
): Promise<{ done: Promise<(PushResult | Error)[]> }> {
  const errors = new Map<number, Error>();
  for (const k of failing) {
    const p = batch[k]!;
    const alone = pushChecks(p.source, registry.viewsOfPushSource(p.pushSource.name), p.pushSource.name, jsonRowsSql(p.source), [JSON.stringify(p.rows)], ctx)!;
    const report = await withDuck((duck) => validateBatch(duck, alone));
    errors.set(k, new ExpectationFailedError(failureMessage(`push to "${p.req.source}"`, report), report));
  }
  const rest = batch.filter((_, k) => !errors.has(k));
  const inner = rest.length ? await startPushBatch(withDuck, registry, store, ctx, rest, dedupeWindowMs) : { done: Promise.resolve([]) };
  return {
    done: inner.done.then((results) => {
      let j = 0;
      return batch.map((_, k) => errors.get(k) ?? results[j++]!);
    }),
  };
}

type ViewBatch = { view: ResolvedView; table: string; pointer?: ServingPointer; keys: string[]; events: { row: number; event: StreamEvent }[][] };

type OnlineUpdate = {
  /** Rows (`__i`) failing an expectation: when there are any, nothing is to be applied. */
  failing: number[];
  apply(owners: number[], results: PushResult[]): Promise<void>;
};

/**
 * Computes every view's events with DuckDB, and which rows fail the expectations
 * (`failingSql`, read from the same rows); returns the store update that applies them,
 * or null when no view over the source is online.
 */
async function onlineUpdate(
  duck: Duck,
  registry: Registry,
  store: OnlineStore,
  sourceName: string,
  onlyView: string | undefined,
  idField: string | null,
  rows: Record<string, unknown>[],
  relation: string,
  params: string[],
  failingSql: FailingRowSql | null,
  dedupeWindowMs?: number,
): Promise<OnlineUpdate | null> {
  const pointers = await store.pointers();
  const views: { view: ResolvedView; table: string; pointer?: ServingPointer }[] = [];
  for (const current of registry.viewsOfPushSource(sourceName)) {
    if (!current.def.online || (onlyView !== undefined && current.def.name !== onlyView)) continue;
    const served = pointers.get(current.def.name);
    // Update what is served, with the definition it was computed by; a view never
    // materialized gets its first table from the pushes.
    const view = served && served.version !== current.version ? { ...current, def: registry.definitionOf(current.def.name, served.version), version: served.version } : current;
    const pointer = served ? undefined : streamPointer(view.def.name, view.version);
    views.push({ view, table: served?.table ?? pointer!.table, pointer });
  }
  if (views.length === 0) return null;
  // Every view's columns in one query: a DuckDB round trip costs more than the columns.
  const ts = ident(views[0]!.view.source.timestampField);
  // The rows the expectations read carry every column of the source (and a few more).
  const failingColumn = failingSql ? `coalesce(${failingSql.predicate}, false) AS __failing, ` : "";
  // Read by column: no object per row (hundreds of rows, a dozen or more columns each).
  const { rows: count, columns } = await duck.columnsPrepared(
    `SELECT epoch_ms(${ts}) AS __ts, __i AS __seq, ${failingColumn}${views.map((v, j) => viewColumnsSql(v.view, `v${j}_`)).join(", ")} FROM (${failingSql?.relation ?? relation})`,
    params,
  );
  const eventTs = columns.__ts as number[];
  const seq = columns.__seq as number[];
  // In event time, then arrival order: sorted here, as a sort in the query costs a push
  // about a third of its DuckDB time.
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => eventTs[a]! - eventTs[b]! || seq[a]! - seq[b]!);
  const failingFlags = columns.__failing;
  const failing = failingSql ? order.filter((i) => failingFlags![i] === true).map((i) => seq[i]!) : [];
  if (failing.length) return { failing, apply: () => Promise.resolve() };
  const batches: ViewBatch[] = views.map(({ view, table, pointer }, j) => {
    const layout = viewLayout(view.def);
    const keyCols = view.entity.joinKeys.map((_, i) => columns[`v${j}_k${i}`]!);
    const exprCols = layout.expressions.map((_, i) => columns[`v${j}_e${i}`]!);
    const inputCols = layout.inputs.map((_, i) => columns[`v${j}_i${i}`] as (number | null)[]);
    const byKey = new Map<string, { row: number; event: StreamEvent }[]>();
    const keyValues: unknown[] = new Array(keyCols.length);
    for (const i of order) {
      let nullKey = false;
      for (let k = 0; k < keyCols.length; k++) {
        const v = (keyValues[k] = keyCols[k]![i]);
        if (v === null || v === undefined) nullKey = true;
      }
      if (nullKey) continue;
      const key = encodeEntityKey(view.entity, keyValues);
      const event: StreamEvent = {
        ts: eventTs[i]!,
        values: exprCols.map((c) => plainValue(c[i])),
        inputs: inputCols.map((c) => c[i] ?? null),
      };
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push({ row: seq[i]!, event });
    }
    return { view, table, pointer, keys: [...byKey.keys()], events: [...byKey.values()] };
  });
  const ids = idField ? rows.map((r) => String(r[idField])) : undefined;
  const expiry = new Map(batches.map((b) => [b.table, recordExpiry(b.view.def)]));
  return {
    failing,
    apply: (owners, results) =>
      store.update({
        keys: batches.flatMap((b) => b.keys.map((key) => ({ table: b.table, key }))),
        // Only into the tables served now: a run switching one meanwhile makes this batch try again.
        expect: batches.map((b) => ({ view: b.view.def.name, table: b.pointer ? null : b.table })),
        expireAt: (table, record) => expiry.get(table)?.(record),
        // Writes to one view remember their ids apart: the same rows written to each view are applied to each.
        ids: ids && { namespace: onlyView === undefined ? sourceName : `${sourceName}>${onlyView}`, ids, windowMs: dedupeWindowMs },
        compute(records, seen) {
          // Rows to skip: ids applied before, and repeats of an id within this batch.
          const skip = new Set<number>();
          const fresh = new Set<string>();
          ids?.forEach((id, row) => {
            if (seen[row] || fresh.has(id)) skip.add(row);
            else fresh.add(id);
          });
          for (const r of results) r.duplicates = 0;
          for (const row of skip) results[owners[row]!]!.duplicates++;
          for (const r of results) r.views = [];
          const out: (OnlineRecord | undefined)[] = [];
          let at = 0;
          for (const b of batches) {
            const layout = viewLayout(b.view.def);
            const entities = results.map(() => 0);
            for (const list of b.events) {
              const applied = list.filter((e) => !skip.has(e.row));
              out[at] = applied.length
                ? applyEvents(
                    layout,
                    records[at],
                    applied.map((e) => e.event),
                  )
                : undefined;
              at++;
              // An entity counts once for each push that has rows for it.
              for (const k of new Set(applied.map((e) => owners[e.row]!))) entities[k]!++;
            }
            results.forEach((r, k) => r.views.push({ view: b.view.def.name, version: b.view.version, entities: entities[k]! }));
          }
          return { records: out, seen: [...fresh], pointers: batches.flatMap((b) => (b.pointer ? [b.pointer] : [])) };
        },
      }),
  };
}
