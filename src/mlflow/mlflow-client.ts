/**
 * The few calls of MLflow's tracking REST API (2.0) Larder makes: experiments by name,
 * runs, their params, metrics, tags and dataset inputs, and artifacts through the
 * tracking server's artifact proxy (`mlflow server`'s default, `mlflow-artifacts:/`).
 * MLflow's own variables say where and as whom: MLFLOW_TRACKING_URI,
 * MLFLOW_TRACKING_USERNAME/PASSWORD (basic) or MLFLOW_TRACKING_TOKEN (bearer),
 * MLFLOW_EXPERIMENT_NAME.
 */
import { MlflowError } from "../errors.ts";

export type MlflowRun = { runId: string; experimentId: string; artifactUri: string };
export type MlflowDataset = { name: string; digest: string; sourceType: string; source: string; schema?: string; profile?: string };

/** MLflow caps a param value at 6000 characters (older servers: 500); longer ones are cut, saying so. */
const PARAM_MAX = 500;
const clip = (v: string) => (v.length > PARAM_MAX ? `${v.slice(0, PARAM_MAX - 12)}…(${v.length})` : v);

export class MlflowClient {
  constructor(
    readonly trackingUri: string,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    if (!/^https?:\/\//.test(trackingUri)) throw new MlflowError(`MLFLOW_TRACKING_URI is "${trackingUri}": Larder logs to a tracking server, give its http(s):// address`);
  }

  /** From MLFLOW_TRACKING_URI, or null when it is not set. */
  static fromEnv(env: Record<string, string | undefined> = process.env): MlflowClient | null {
    return env.MLFLOW_TRACKING_URI ? new MlflowClient(env.MLFLOW_TRACKING_URI.replace(/\/+$/, ""), env) : null;
  }

  #headers(json = true): Record<string, string> {
    const h: Record<string, string> = json ? { "content-type": "application/json" } : {};
    if (this.env.MLFLOW_TRACKING_TOKEN) h.authorization = `Bearer ${this.env.MLFLOW_TRACKING_TOKEN}`;
    else if (this.env.MLFLOW_TRACKING_USERNAME) h.authorization = `Basic ${btoa(`${this.env.MLFLOW_TRACKING_USERNAME}:${this.env.MLFLOW_TRACKING_PASSWORD ?? ""}`)}`;
    return h;
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.trackingUri}/api/2.0/mlflow/${path}`, { method, headers: this.#headers(), body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new MlflowError(`MLflow tracking server ${this.trackingUri} cannot be reached: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new MlflowError(`MLflow ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`, res.status);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** The experiment's id, made when it does not exist yet. */
  async experimentId(name: string): Promise<string> {
    try {
      const r = await this.#call<{ experiment: { experiment_id: string } }>("GET", `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return r.experiment.experiment_id;
    } catch (err) {
      if (!(err instanceof MlflowError) || err.upstreamStatus !== 404) throw err;
    }
    return (await this.#call<{ experiment_id: string }>("POST", "experiments/create", { name })).experiment_id;
  }

  async createRun(experimentId: string, runName: string, tags: Record<string, string>): Promise<MlflowRun> {
    const r = await this.#call<{ run: { info: { run_id: string; experiment_id: string; artifact_uri: string } } }>("POST", "runs/create", {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: Object.entries({ ...tags, "mlflow.runName": runName, "mlflow.source.type": "JOB", "mlflow.source.name": "larder" }).map(([key, value]) => ({ key, value })),
    });
    return { runId: r.run.info.run_id, experimentId: r.run.info.experiment_id, artifactUri: r.run.info.artifact_uri };
  }

  async log(runId: string, o: { params?: Record<string, string>; metrics?: Record<string, number>; tags?: Record<string, string> }): Promise<void> {
    const now = Date.now();
    // log-batch takes at most 100 params and 1000 metrics per call.
    const params = Object.entries(o.params ?? {}).map(([key, value]) => ({ key, value: clip(value) }));
    for (let i = 0; i === 0 || i < params.length; i += 100) {
      await this.#call("POST", "runs/log-batch", {
        run_id: runId,
        params: params.slice(i, i + 100),
        metrics: i === 0 ? Object.entries(o.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })) : [],
        tags: i === 0 ? Object.entries(o.tags ?? {}).map(([key, value]) => ({ key, value })) : [],
      });
    }
  }

  async logDataset(runId: string, d: MlflowDataset, context: "training" | "evaluation"): Promise<void> {
    await this.#call("POST", "runs/log-inputs", {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: "mlflow.data.context", value: context }],
          dataset: { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source, schema: d.schema, profile: d.profile },
        },
      ],
    });
  }

  /** Uploads `bytes` as the run's artifact at `path` (through the server's artifact proxy). */
  async uploadArtifact(run: MlflowRun, path: string, bytes: Uint8Array | string): Promise<void> {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(run.artifactUri);
    if (!m)
      throw new MlflowError(
        `the run's artifacts go to ${run.artifactUri}, which the tracking server does not proxy: start it with --serve-artifacts (the default) and an --artifacts-destination`,
      );
    const url = `${this.trackingUri}/api/2.0/mlflow-artifacts/artifacts/${m[1]}/${path.split("/").map(encodeURIComponent).join("/")}`;
    const res = await fetch(url, { method: "PUT", headers: this.#headers(false), body: bytes }).catch((err: Error) => {
      throw new MlflowError(`MLflow artifact upload to ${this.trackingUri} failed: ${err.message}`);
    });
    if (!res.ok) throw new MlflowError(`MLflow artifact upload of ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`, res.status);
  }

  async finishRun(runId: string, status: "FINISHED" | "FAILED" = "FINISHED"): Promise<void> {
    await this.#call("POST", "runs/update", { run_id: runId, status, end_time: Date.now() });
  }
}
