/**
 * The facade the CLI and the server share: configuration plus lazily opened resources
 * (DuckDB, the online store) and the registry, re-read when `apply` changes its file.
 * Operations live in their modules; this only composes them.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "./time.ts";
import type { Config } from "./config/config.ts";
import { importDefinitionFiles, loadDefinitions, normalizeDefinitions } from "./definitions/load-definitions.ts";
import type { Definitions } from "./definitions/types.ts";
import { materialize, type MaterializeOptions } from "./materialize/materialize.ts";
import { type Columns, Duck, literal } from "./offline/duckdb.ts";
import type { HistoricalRequest } from "./offline/historical.ts";
import { readManifest, rebuildFromManifest, trainingSet, type TrainingResult } from "./offline/training-run.ts";
import { trainingProfileKey } from "./monitoring/training-profile.ts";
import { MlflowClient } from "./mlflow/mlflow-client.ts";
import { logTrainingSet, type LoggedTrainingSet } from "./mlflow/log-to-mlflow.ts";
import { openOnlineStore, setAsideOnlineStore } from "./online/open-online-store.ts";
import type { OnlineStore } from "./online/online-store.ts";
import type { OnlineRequest, OnlineResponse } from "./online/online-features.ts";
import { getFeaturesWithOnDemand, type RequestData } from "./online/on-demand.ts";
import { applyPlan, planChanges, type Plan } from "./registry/plan.ts";
import { Registry, setAsideRegistry } from "./registry/registry.ts";
import { publishSharedRegistry, pullSharedRegistry } from "./registry/shared-registry.ts";
import { startPushBatch, validatePush, type PushRequest, type PushResult, type ValidatedPush, type WithDuck } from "./push/push.ts";
import { PushQueue } from "./push/push-queue.ts";
import type { OfflineContext } from "./offline/offline-context.ts";
import { openFileStore } from "./storage/file-store.ts";
import { s3SettingsFromEnv } from "./storage/s3-location.ts";
import { Storage } from "./storage/storage.ts";
import { DamagedDataError, ExpectationFailedError, LarderError, UsageError } from "./errors.ts";
import { RunLog, type RunDraft } from "./registry/runs.ts";
import { LarderMetrics, UNKNOWN_PUSH_SOURCE } from "./monitoring/larder-metrics.ts";
import { perScrape } from "./monitoring/metrics.ts";
import { viewFreshness } from "./monitoring/freshness.ts";
import { driftReport } from "./monitoring/drift.ts";
import { ServedSample } from "./monitoring/served-sample.ts";
import { PushRunRecorder } from "./push/push-runs.ts";
import type { ValidationReport } from "./validation/validate-batch.ts";
import { validateView, type ViewValidation } from "./validation/validate-view.ts";
import { parseSparkConf, SparkEngine } from "./offline/spark/spark-job.ts";

const REGISTRY_CHECK_MS = 250;

export class Larder {
  /** Batch work (materialize, historical, validate) and the CLI: one job at a time (#batch). */
  #duck?: Promise<Duck>;
  /** Pushes: their own DuckDB, so a scheduled run never holds them up or shares temp tables. */
  #pushDuck?: Promise<Duck>;
  readonly #batchQueue = serialQueue();
  #store?: OnlineStore;
  #registry?: { registry: Registry; mtimeMs: number; checkedAt: number };
  readonly #pushDuckQueue = serialQueue();
  #pushQueue?: PushQueue;

  constructor(readonly config: Config) {
    // Freshness and drift as gauges, read when scraped: one computation each per scrape,
    // shared by the gauges that read it.
    const freshness = perScrape(() => this.freshness());
    const driftNow = perScrape(() => this.drift());
    const fresh = (pick: (f: Awaited<ReturnType<Larder["freshness"]>>[number]) => number | null) => async () =>
      (await freshness()).flatMap((f) => (pick(f) === null ? [] : [{ labels: { view: f.view }, value: pick(f)! }]));
    this.metrics.gauge(
      "larder_view_event_age_seconds",
      "Seconds since the newest event served, per view.",
      fresh((f) => f.ageSeconds),
    );
    this.metrics.gauge(
      "larder_view_watermark_lag_seconds",
      "Seconds since the point up to which a view's served data is complete.",
      fresh((f) => (f.served ? (Date.now() - Date.parse(f.served.watermark)) / 1000 : null)),
    );
    const drift = (pick: "psi" | "ks") => async () =>
      (await driftNow()).flatMap((d) => (d[pick] === null ? [] : [{ labels: { view: d.view, feature: d.feature }, value: d[pick]! }]));
    this.metrics.gauge("larder_feature_drift_psi", "PSI of a feature's served values against its reference (GET /v1/drift).", drift("psi"));
    this.metrics.gauge("larder_feature_drift_ks", "KS statistic of a feature's served values against its reference.", drift("ks"));
    this.metrics.gauge(
      "larder_view_schedule_lag_seconds",
      "Seconds a scheduled view's due run is overdue (0 when up to date).",
      fresh((f) => f.schedule?.lagSeconds ?? null),
    );
  }

  #ctx?: OfflineContext;

  /** What the offline engine reads and writes through: the repo, the data folder, local and S3 storage. */
  get ctx(): OfflineContext {
    if (!this.#ctx) {
      const { repoDir, dataDir, offline, s3Endpoint } = this.config;
      const storage = new Storage({ ...s3SettingsFromEnv(), endpoint: s3Endpoint || undefined }, join(dataDir, "cache"));
      const spark =
        this.config.engine === "spark"
          ? new SparkEngine({ master: this.config.sparkMaster, python: this.config.sparkPython, conf: parseSparkConf(this.config.sparkConf) }, dataDir)
          : undefined;
      this.#ctx = { repoDir, dataDir, storage, files: openFileStore(offline === "local" ? dataDir : offline, storage), spark };
    }
    return this.#ctx;
  }

  duck(): Promise<Duck> {
    return (this.#duck ??= Duck.open());
  }

  /** Runs batch jobs one at a time, in call order: they share the batch DuckDB's temp tables. */
  #batch<T>(fn: (duck: Duck) => Promise<T>): Promise<T> {
    return this.#batchQueue(async () => fn(await this.duck()));
  }

  store(): OnlineStore {
    return (this.#store ??= openOnlineStore(this.config.online, this.config.dataDir));
  }

  /**
   * The applied registry; re-read when its file changed (e.g. `larder apply` beside
   * `serve`), checked at most every REGISTRY_CHECK_MS so lookups don't stat per request.
   */
  registry(): Registry {
    const now = performance.now();
    if (this.#registry && now - this.#registry.checkedAt < REGISTRY_CHECK_MS) return this.#registry.registry;
    const path = Registry.registryPath(this.config.dataDir);
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {}
    if (!this.#registry || this.#registry.mtimeMs !== mtimeMs) this.#registry = { registry: Registry.load(this.config.dataDir), mtimeMs, checkedAt: now };
    this.#registry.checkedAt = now;
    return this.#registry.registry;
  }

  async loadDefinitions(): Promise<Definitions> {
    return loadDefinitions(this.config.repoDir, await this.duck());
  }

  get sharesRegistry(): boolean {
    return this.config.offline !== "local";
  }

  /**
   * With S3 offline storage, brings the local registry copy up to date with the shared one
   * (the CLI does it before every command, `serve` every few seconds).
   */
  async syncRegistry(): Promise<void> {
    if (this.sharesRegistry && (await pullSharedRegistry(this.ctx.files, this.config.dataDir))) this.#registry = undefined;
  }

  async plan(): Promise<{ defs: Definitions; plan: Plan }> {
    await this.syncRegistry();
    const defs = await this.loadDefinitions();
    return { defs, plan: planChanges(defs, this.registry()) };
  }

  /**
   * Applies features/. A damaged registry (here, or the shared one) is set aside and the
   * definitions applied afresh: versions are hashes of definitions, so what is served
   * keeps its version. `setAside` says where the damaged file went.
   */
  async apply(): Promise<Plan & { setAside: string | null }> {
    let setAside: string | null = null;
    try {
      await this.syncRegistry();
      this.registry();
    } catch (err) {
      if (!(err instanceof DamagedDataError)) throw err;
      setAside = setAsideRegistry(this.config.dataDir);
      this.#registry = undefined;
    }
    const defs = await this.loadDefinitions();
    const plan = planChanges(defs, this.registry());
    if (plan.changes.length || setAside) {
      applyPlan(defs, plan, this.registry());
      if (this.sharesRegistry) await publishSharedRegistry(this.ctx.files, this.registry());
    }
    return { ...plan, setAside };
  }

  /** What starts this instance's runs, for the run history: `cli materialize`, `serve`, `api`. */
  via = "api";
  #runs?: RunLog;
  #pushRuns?: PushRunRecorder;

  get runs(): RunLog {
    return (this.#runs ??= new RunLog(this.ctx.files, (run) => {
      this.metrics.runs.inc({ kind: run.kind, status: run.status });
      this.metrics.runSeconds.observe({ kind: run.kind }, run.durationMs / 1000);
    }));
  }

  readonly metrics = new LarderMetrics();
  /** The newest event pushed through this instance, per view (ms): freshness between materializations. */
  readonly newestPushed = new Map<string, number>();

  /** Values served by lookups here, sampled for drift (monitoring/served-sample.ts). */
  readonly served = new ServedSample();

  /** Drift of served values from their reference (monitoring/drift.ts). */
  async drift(opts: { views?: string[]; reference?: string } = {}) {
    return driftReport(this.registry(), this.ctx.files, this.served, opts);
  }

  /** Freshness of every online view (monitoring/freshness.ts). */
  async freshness() {
    return viewFreshness(this.registry(), this.store(), this.runs, this.newestPushed);
  }

  /** `via`: what started it, for the run history (default: this instance's `via`). */
  async materialize(opts: MaterializeOptions & { via?: string } = {}) {
    const leaseTtlMs = parseDuration(this.config.leaseTtl);
    return this.#batch((duck) => materialize(duck, this.registry(), this.store(), this.ctx, { leaseTtlMs, ...opts, record: this.#recorder(opts.via) }));
  }

  /**
   * Builds the online store again from the offline tables: the store is set aside without
   * being opened (it may be damaged), then every view is materialized in full. What was
   * pushed online only is not in the offline tables, so it is not in the new store.
   */
  async rebuildOnline(opts: MaterializeOptions = {}): Promise<{ setAside: string; views: Awaited<ReturnType<Larder["materialize"]>> }> {
    await this.#store?.close().catch(() => {});
    this.#store = undefined;
    const setAside = await setAsideOnlineStore(this.config.online, this.config.dataDir);
    return { setAside, views: await this.materialize({ ...opts, incremental: false }) };
  }

  /** A push: validated now, then applied in arrival order, coalesced with pushes waiting beside it. */
  async push(req: PushRequest): Promise<PushResult> {
    this.#pushRuns ??= new PushRunRecorder(this.runs, () => this.via);
    try {
      const { result, validated } = await this.#push(req);
      const times = validated.rows.map((r) => r[validated.source.timestampField] as number);
      this.#pushRuns.applied(result, times);
      // Not Math.max(...times): a push may hold more rows than a call takes arguments.
      let newest = -Infinity;
      for (const t of times) if (t > newest) newest = t;
      for (const v of result.views) if (!(this.newestPushed.get(v.view)! >= newest)) this.newestPushed.set(v.view, newest);
      this.metrics.pushed(req.source, "applied", result.rows - result.duplicates);
      if (result.duplicates) this.metrics.pushed(req.source, "duplicate", result.duplicates);
      return result;
    } catch (err) {
      if (err instanceof LarderError && err.status < 500) {
        // A refused push to a push source is its history; one naming no push source leaves
        // none (a run per made-up name, a metrics series per name, would grow without bound).
        const known = typeof req.source === "string" && this.#knownPushSource(req.source);
        if (known) {
          const quarantine = err instanceof ExpectationFailedError ? (err.report as ValidationReport).quarantine : null;
          this.#pushRuns.rejected(req.source, err.message, quarantine);
        }
        this.metrics.pushed(known ? req.source : UNKNOWN_PUSH_SOURCE, "refused", Array.isArray(req.rows) ? req.rows.length : 0);
      }
      throw err;
    }
  }

  #knownPushSource(name: string): boolean {
    try {
      this.registry().pushSource(name);
      return true;
    } catch {
      return false;
    }
  }

  async #push(req: PushRequest): Promise<{ result: PushResult; validated: ValidatedPush }> {
    const registry = this.registry();
    const validated = validatePush(registry, req, this.config.maxPushRows);
    this.#pushQueue ??= new PushQueue(
      (batch) => startPushBatch(this.#withDuck, this.registry(), this.store(), this.ctx, batch, parseDuration(this.config.dedupeWindow)),
      this.config.maxPushRows,
    );
    return { result: await this.#pushQueue.submit(validated), validated };
  }

  /** The pushes' DuckDB connection for one caller at a time, in call order (see WithDuck). */
  readonly #withDuck: WithDuck = (fn) => this.#pushDuckQueue(async () => fn(await (this.#pushDuck ??= Duck.open(":memory:", { threads: 1 }))));

  /** Every view's (or the named views') expectations over its input now; writes nothing. */
  async validate(opts: { views?: string[]; start?: number; end?: number; saveReference?: boolean } = {}): Promise<ViewValidation[]> {
    const registry = this.registry();
    const names = opts.views ?? registry.viewNames();
    const views = names.map((n) => registry.view(n));
    return this.#batch(async (duck) => {
      const out: ViewValidation[] = [];
      for (const v of views) out.push(await validateView(duck, v, this.ctx, opts));
      return out;
    });
  }

  #functionsLoaded = false;

  /**
   * Loads the functions of on-demand feature views from features/*.ts (the registry keeps
   * their text, not the code). Lookups and training sets with on-demand features need it;
   * `serve` and `historical` call it first.
   */
  async loadOnDemandFunctions(): Promise<void> {
    if (this.#functionsLoaded || this.registry().onDemandViews().length === 0) return;
    normalizeDefinitions(await importDefinitionFiles(this.config.repoDir));
    this.#functionsLoaded = true;
  }

  /**
   * An online lookup as every route serves it: stored and on-demand features, counted for
   * /metrics and sampled for drift.
   */
  async lookup(req: OnlineRequest & { requestData?: RequestData }): Promise<OnlineResponse> {
    const result = await getFeaturesWithOnDemand(this.registry(), this.store(), req, this.config.maxEntitiesPerRequest);
    this.metrics.countLookup(result.results);
    this.served.offer(req.refs, result.features, result.results);
    return result;
  }

  /** A training set, recorded as a run, with a manifest beside it when written to `outPath`. */
  async historical(req: HistoricalRequest): Promise<TrainingResult> {
    await this.loadOnDemandFunctions();
    return this.#batch((duck) => trainingSet(duck, this.registry(), this.ctx, req, this.#recorder()));
  }

  /**
   * Reads a training set Larder wrote (a local Parquet file) by column, in the batch queue:
   * `SELECT <select> FROM the file <rest>`. For code of Larder's own (train, the demo), never
   * for request values.
   */
  async readTrainingSet(path: string, select: string, rest = ""): Promise<Columns> {
    return this.#batch((duck) => duck.columnsPrepared(`SELECT ${select} FROM read_parquet(${literal(path)}) ${rest}`, []));
  }

  /**
   * Logs a training set written with a manifest to the MLflow tracking server of
   * MLFLOW_TRACKING_URI, as a run (mlflow/log-to-mlflow.ts); `service`: the one it was built for.
   */
  async logTrainingSetToMlflow(manifestPath: string, service: string | null): Promise<LoggedTrainingSet> {
    const client = MlflowClient.fromEnv();
    if (!client) throw new UsageError("set MLFLOW_TRACKING_URI to the MLflow tracking server's address (http://host:5000) to log to MLflow");
    const manifest = await readManifest(this.ctx, manifestPath);
    const profileText = await this.ctx.files.readText(trainingProfileKey(manifest.runId));
    return logTrainingSet(client, { manifest, manifestText: `${JSON.stringify(manifest, null, 2)}\n`, profileText, service });
  }

  /** Rebuilds a training set from its manifest (see offline/training-run.ts). */
  async rebuildTrainingSet(manifest: string, out?: string) {
    await this.loadOnDemandFunctions();
    return this.#batch((duck) => rebuildFromManifest(duck, this.registry(), this.ctx, manifest, out, this.#recorder()));
  }

  /** Records runs in the history as started by `via` (default: this instance's). */
  #recorder(via?: string): (run: RunDraft) => Promise<void> {
    return async (run) => void (await this.runs.record(run, via ?? this.via));
  }

  async close(): Promise<void> {
    await this.#pushRuns?.flush().catch(() => {});
    await this.#store?.close();
    if (this.#duck) (await this.#duck).close();
    if (this.#pushDuck) (await this.#pushDuck).close();
    await this.#ctx?.spark?.close();
    this.#store = undefined;
    this.#duck = undefined;
    this.#pushDuck = undefined;
  }
}

/** Runs the functions given to it one at a time, in call order; a failure does not stop the next. */
function serialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
}
