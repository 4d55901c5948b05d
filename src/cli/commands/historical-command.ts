import type { Command } from "../command.ts";
import { LarderError, UsageError } from "../../errors.ts";
import { resolveFeatures } from "../../online/online-features.ts";
import { DEFAULT_TIMESTAMP_COLUMN } from "../../offline/historical.ts";
import { out, table } from "../print.ts";

export const historicalCommand: Command = {
  name: "historical",
  summary: "build a point-in-time correct training set for a label table",
  usage: `larder historical --entities labels.(csv|parquet|json) (--service NAME | --features view:feature,...) [--out train.parquet] [--timestamp-column ${DEFAULT_TIMESTAMP_COLUMN}] [--full-names] [--mlflow] [--engine duckdb|spark]
       larder historical --from-manifest train.parquet.manifest.json [--out rebuilt.parquet]`,
  options: {
    entities: { type: "string" },
    service: { type: "string" },
    features: { type: "string" },
    out: { type: "string" },
    "timestamp-column": { type: "string" },
    "full-names": { type: "boolean" },
    "from-manifest": { type: "string" },
    mlflow: { type: "boolean" },
    engine: { type: "string" },
  },
  flagHelp: {
    entities: "the label table: join keys, a timestamp column and labels (CSV, Parquet or JSON; local or s3://)",
    service: "the feature service whose features to join",
    features: "feature references instead of a service: view:feature,...",
    out: "write the training set here (Parquet, with a manifest beside it)",
    "timestamp-column": "the label table's timestamp column",
    "full-names": "name columns view__feature, as Feast's full_feature_names",
    "from-manifest": "rebuild a training set exactly from its manifest, refusing if any input changed",
    engine: "duckdb or spark: what computes the offline tables and the training set (default LARDER_ENGINE, else duckdb)",
    mlflow: "log the training set to MLflow (MLFLOW_TRACKING_URI) as a run: params, manifest, profile, dataset; needs --out",
  },
  async run(larder, flags) {
    if (typeof flags["from-manifest"] === "string") {
      if (flags.entities || flags.service || flags.features)
        throw new UsageError("--from-manifest takes the label table and features from the manifest; drop --entities/--service/--features");
      const r = await larder.rebuildTrainingSet(flags["from-manifest"], flags.out as string | undefined);
      out(`${r.rows} rows, ${r.columns.length} columns → ${flags.out ?? "the manifest's output path"} (run ${r.runId})`);
      if (!r.identical)
        throw new LarderError(
          `the rebuilt training set differs from the manifest's (sha256 ${r.outputSha256} ≠ ${r.expectedSha256}) although its inputs are the same: please report this`,
        );
      out(`byte-identical to the manifest's training set (sha256 ${r.outputSha256})`);
      return;
    }
    if (typeof flags.entities !== "string") throw new UsageError("--entities <label table> is required");
    if (flags.mlflow === true && typeof flags.out !== "string") throw new UsageError("--mlflow logs the training set written with --out (its manifest and file): give --out");
    if (flags.mlflow === true && !process.env.MLFLOW_TRACKING_URI)
      throw new UsageError("--mlflow needs MLFLOW_TRACKING_URI: the MLflow tracking server's address (http://host:5000)");
    if ((flags.service === undefined) === (flags.features === undefined)) throw new UsageError("give --service NAME or --features view:feature,... (one of them)");
    const refs = resolveFeatures(larder.registry(), {
      service: flags.service as string | undefined,
      features: typeof flags.features === "string" ? flags.features.split(",").map((s) => s.trim()) : undefined,
    });
    const began = performance.now();
    const result = await larder.historical({
      labelsPath: flags.entities,
      refs,
      outPath: flags.out as string | undefined,
      timestampColumn: flags["timestamp-column"] as string | undefined,
      fullNames: flags["full-names"] === true,
    });
    const seconds = (performance.now() - began) / 1000;
    out(`${result.rows} rows, ${result.columns.length} columns in ${seconds.toFixed(2)} s${flags.out ? ` → ${flags.out}` : ""}`);
    out(`views: ${result.views.map((v) => `${v.view}@${v.version}`).join(", ")}`);
    if (result.manifest) out(`manifest: ${result.manifest} (run ${result.runId})`);
    if (flags.mlflow === true && result.manifest) {
      const logged = await larder.logTrainingSetToMlflow(result.manifest, (flags.service as string | undefined) ?? null);
      out(`MLflow: run ${logged.run.runId} in experiment ${logged.run.experimentId}`);
    }
    // A mean only where the column holds numbers (strings and timestamps have none).
    out(table([["feature", "non-null", "mean"], ...result.summary.map((s) => [s.column, s.nonNull, fmt(s.mean)])]));
  },
};

const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(3) : "");
