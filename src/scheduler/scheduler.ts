/**
 * Cron schedules inside `larder serve`: each view with a `schedule` gets a croner job that
 * runs its incremental materialization.
 * - Never two runs of one view at once, here or on another replica (the view's lease): a tick
 *   (or a trigger) while one is going is skipped and recorded as a skipped run.
 * - After downtime, a view whose last materialization is older than its latest tick runs
 *   once at start-up, not once per missed tick.
 * - Applies made while serving are picked up (the jobs follow the registry).
 */
import { runDraft } from "../registry/run-draft.ts";
import { Cron } from "croner";
import type { Larder } from "../larder.ts";
import type { Logger } from "../log.ts";
import type { ViewMaterialization } from "../materialize/materialize.ts";
import { newRunId } from "../ids.ts";
import { ConflictError, ViewBusyError } from "../errors.ts";
import { scheduleOf } from "../definitions/schedule.ts";

const REFRESH_MS = 2_000;

export type LastRun = { runId: string | null; at: string; status: "succeeded" | "failed" | "skipped"; via: string; error: string | null };
export type ScheduleState = { view: string; cron: string; timezone: string; next: string | null; running: boolean; last: LastRun | null };

type Job = { key: string; cron: string; timezone: string; job: Cron };

export class Scheduler {
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Map<string, Promise<ViewMaterialization | null>>();
  readonly #last = new Map<string, LastRun>();
  #timer?: ReturnType<typeof setInterval>;
  #stopped = false;

  constructor(
    readonly larder: Larder,
    readonly log: Logger,
  ) {}

  /** Starts the jobs, runs missed schedules once, and follows the registry from then on. */
  async start(): Promise<void> {
    this.#timer = setInterval(() => this.#safeRefresh(), REFRESH_MS);
    this.#timer.unref?.();
    if (this.#safeRefresh()) await this.catchUp();
  }

  #lastProblem: string | null = null;

  /** refresh(), reporting a failure (an unreadable registry) once rather than every time. */
  #safeRefresh(): boolean {
    try {
      this.refresh();
      this.#lastProblem = null;
      return true;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastProblem) this.log({ level: "error", event: "schedule.failed", view: "*", error });
      this.#lastProblem = message;
      return false;
    }
  }

  /** Makes the jobs match the registry's schedules. */
  refresh(): void {
    if (this.#stopped) return;
    const registry = this.larder.registry();
    const wanted = new Map<string, { cron: string; timezone: string }>();
    for (const name of registry.viewNames()) {
      const v = registry.viewEntry(name)!.definition;
      const s = scheduleOf(v.schedule);
      if (s && v.online) wanted.set(name, { cron: s.cron, timezone: s.timezone ?? "UTC" });
    }
    for (const [view, job] of this.#jobs) {
      const w = wanted.get(view);
      if (!w || `${w.cron}\0${w.timezone}` !== job.key) {
        job.job.stop();
        this.#jobs.delete(view);
      }
    }
    for (const [view, w] of wanted) {
      if (this.#jobs.has(view)) continue;
      let job: Cron;
      try {
        job = new Cron(w.cron, { timezone: w.timezone, unref: true }, () => void this.trigger(view, "schedule").catch(() => {}));
      } catch {
        continue; // apply refuses such a schedule; an older registry may still hold one
      }
      this.#jobs.set(view, { key: `${w.cron}\0${w.timezone}`, cron: w.cron, timezone: w.timezone, job });
    }
  }

  /** Each scheduled view whose latest tick came after its last materialization runs once now. */
  async catchUp(): Promise<void> {
    const now = new Date();
    for (const [view, { job }] of this.#jobs) {
      const [tick] = job.previousRuns(1, now);
      if (!tick) continue;
      // The last materialization of any kind counts (a manual run after the tick is as good).
      const [last] = await this.larder.runs.list({ kind: "materialize", view, status: "succeeded", limit: 1 });
      const pointer = (await this.larder.store().pointers()).get(view);
      const lastAt = last ? Date.parse(last.startedAt) : pointer ? Date.parse(pointer.updatedAt) : null;
      if (lastAt === null || lastAt < tick.getTime()) void this.trigger(view, "schedule (missed while down)").catch(() => {});
    }
  }

  /**
   * Runs the view's incremental (or full) materialization now, unless one is running: then the
   * request is skipped (recorded) and, when `conflict` is set, refused with a 409.
   */
  async trigger(view: string, via: string, opts: { conflict?: boolean; full?: boolean } = {}): Promise<ViewMaterialization | null> {
    if (this.#running.has(view)) {
      await this.#skipped(view, via, "a run of this view was still going");
      if (opts.conflict) throw new ConflictError(`feature view "${view}" is being materialized right now; try again when it is done (GET /v1/schedules)`);
      return null;
    }
    const run = (async () => {
      const at = new Date().toISOString();
      try {
        // Another process or replica running it now: this tick is skipped, not queued behind it.
        const [result] = await this.larder.materialize({ views: [view], incremental: !opts.full, via, whenBusy: "fail" });
        if (result) this.log({ level: "info", event: "schedule.ran", view, via, events: result.events, seconds: Math.round(result.seconds * 1000) / 1000 });
        this.#last.set(view, { runId: result?.runId ?? null, at, status: "succeeded", via, error: null });
        return result ?? null;
      } catch (err) {
        if (err instanceof ViewBusyError) {
          await this.#skipped(view, via, err.message);
          if (opts.conflict) throw err;
          return null;
        }
        const [rec] = await this.larder.runs.list({ kind: "materialize", view, limit: 1 }).catch(() => []);
        this.#last.set(view, { runId: rec?.id ?? null, at, status: "failed", via, error: (err as Error).message });
        this.log({ level: "error", event: "schedule.failed", view, error: err });
        throw err;
      } finally {
        this.#running.delete(view);
      }
    })();
    this.#running.set(view, run);
    return run;
  }

  /** Records a run that did not happen, and why. */
  async #skipped(view: string, via: string, reason: string): Promise<void> {
    const runId = newRunId();
    const run = runDraft({
      id: runId,
      kind: "materialize",
      status: "skipped",
      started: Date.now(),
      views: [{ view, version: this.larder.registry().view(view).version }],
      details: { reason },
    });
    const at = run.startedAt;
    await this.larder.runs.record(run, via);
    this.#last.set(view, { runId, at, status: "skipped", via, error: null });
  }

  isRunning(view: string): boolean {
    return this.#running.has(view);
  }

  states(): ScheduleState[] {
    return [...this.#jobs]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([view, j]) => ({
        view,
        cron: j.cron,
        timezone: j.timezone,
        next: j.job.nextRun()?.toISOString() ?? null,
        running: this.#running.has(view),
        last: this.#last.get(view) ?? null,
      }));
  }

  /** Stops the jobs and waits for runs in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const j of this.#jobs.values()) j.job.stop();
    this.#jobs.clear();
    await Promise.allSettled([...this.#running.values()]);
  }
}
