"""
Larder's offline engine on Apache Spark (PySpark). Larder starts this script once and
keeps it (and its Spark session) while jobs come: it writes a JSON job file's path per
line to stdin and reads one result line per job from stdout. Two jobs:

- "offline-table": a view's events from its source files (and pushed segments), as the
  DuckDB engine writes them (offline/offline-table.ts): the keys, __ts (epoch ms), __seq
  (the row's place in the input, which breaks ties), the latest-value expressions, the
  aggregation inputs __in_<i> (DOUBLE, NaN as null) and __online, sorted by
  (keys, __ts, __seq), in one Parquet file.
- "training-set": for every label row, each requested feature as of the row's own time t,
  from the views' offline tables (semantics in windows/window-math.ts):
  windows cover align(t - w, h) <= ts < t, lifetime ts < t, the latest row is the last
  event before t (the later row wins a tie) if within ttl, and every feature is null
  when the entity has no event before t.

How the training set is computed, all with DataFrame operations that Spark spreads over
its executors (no collect of data to the driver):
- labels and events are unioned per entity and ordered by (time, kind, seq), labels
  before events at the same instant (an event at t is not part of t's features); running
  window aggregates over that order give the latest row and the lifetime aggregations;
- windowed count, sum, mean and stddev are differences of running sums (of values
  shifted by the entity's mean, for stddev's sake) between the label and a marker row at
  the window's start;
- windowed last is the running last non-null value, if it lies inside the window;
- windowed min and max combine whole hop tiles inside the window (an equi-join of the
  tiles each label needs) with the running min/max in the label's own, partial tile.
"""

import json
import os
import shutil
import sys
import time

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

SPARK_TYPE = {"int64": "bigint", "float64": "double", "string": "string", "bool": "boolean", "timestamp": "timestamp"}

# DuckDB type names of `sql` features, as Spark types (the offline table keeps DuckDB's).
DUCKDB_TO_SPARK = {
    "DOUBLE": "double",
    "FLOAT": "float",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


def col(name: str):
    """A column by its exact name (no dots or backticks read as syntax)."""
    return F.col("`" + name.replace("`", "``") + "`")


def session(job: dict) -> SparkSession:
    builder = (
        SparkSession.builder.master(job["master"])
        .appName("larder " + job["kind"])
        .config("spark.sql.session.timeZone", "UTC")
        # Casts of values not of their type give null (like DuckDB's TRY_CAST): counted below.
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Few partitions suit local[*]; a cluster sets its own (LARDER_SPARK_CONF), applied after.
        .config("spark.sql.shuffle.partitions", "8")
    )
    for key, value in job.get("conf", {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def write_one_file(df: DataFrame, out: str, stats=None):
    """Writes df, in its order, as one Parquet file at `out`; `stats(written)` is read first."""
    folder = out + ".parts"
    df.coalesce(1).write.mode("overwrite").option("compression", "snappy").parquet(folder)
    # Read back from the folder: Spark skips files whose names start with "." or "_".
    result = stats(df.sparkSession.read.parquet(folder)) if stats else None
    [part] = [f for f in os.listdir(folder) if f.endswith(".parquet")]
    os.replace(os.path.join(folder, part), out)
    shutil.rmtree(folder, ignore_errors=True)
    return result


# ---------------------------------------------------------------- offline table


def read_file(spark: SparkSession, fmt: str, path: str) -> DataFrame:
    if fmt == "csv":
        # Every column as text: the declared types are applied (and checked) below.
        return spark.read.option("header", True).option("inferSchema", False).csv(path)
    if fmt == "parquet":
        return spark.read.parquet(path)
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    return spark.read.option("multiLine", head.startswith(b"[")).json(path)


def offline_table(spark: SparkSession, job: dict) -> dict:
    source = job["source"]
    schema = source["schema"]
    ts_field = source["timestampField"]
    spark_type = lambda c: "timestamp" if c["name"] == ts_field else SPARK_TYPE[c["type"]]
    names = [c["name"] for c in schema]

    # Files one by one, unioned in order: the union's partitions follow the input's order
    # (one read of many files would order its splits by size).
    parts = []
    for path in source["files"]:
        df = read_file(spark, source["format"], path)
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise LarderJobError(f'source "{source["name"]}": {path} has no column {", ".join(missing)} (it has {", ".join(df.columns)})')
        df = df.select([col(n) for n in names])
        bad = []
        for c in schema:
            typed = col(c["name"]).cast(spark_type(c))
            problem = F.when(col(c["name"]).isNotNull() & typed.isNull(), F.concat(F.lit(c["name"] + ": "), col(c["name"]).cast("string"), F.lit(f' is not a {"timestamp" if c["name"] == ts_field else c["type"]}')))
            if not c["nullable"]:
                problem = F.coalesce(problem, F.when(col(c["name"]).isNull(), F.lit(c["name"] + ": null")))
            bad.append(problem)
        df = df.select([col(c["name"]).cast(spark_type(c)).alias(c["name"]) for c in schema] + [F.coalesce(*bad).alias("__type_error"), F.lit(False).alias("__online")])
        parts.append(df)
    for path in source["segments"]:
        df = spark.read.parquet(path).select([col(c["name"]).cast(spark_type(c)).alias(c["name"]) for c in schema] + [F.lit(None).cast("string").alias("__type_error"), col("__online")])
        parts.append(df)
    if not parts:
        empty = spark.createDataFrame([], ", ".join(f"`{c['name']}` {spark_type(c)}" for c in schema) + ", __type_error string, __online boolean")
        parts.append(empty)
    rows = parts[0]
    for p in parts[1:]:
        rows = rows.unionByName(p)

    # A value not of its type, or a null the schema does not allow, refuses the batch.
    broken = rows.filter(col("__type_error").isNotNull()).persist()
    broken_count = broken.count()
    if broken_count:
        examples = [r["__type_error"] for r in broken.limit(3).collect()]
        raise LarderJobError(f'source "{source["name"]}": {broken_count} rows do not keep to the declared schema (' + "; ".join(examples) + ")")

    # __seq: the row's place in the input, numbered across partitions in order.
    rows = rows.withColumn("__pid", F.spark_partition_id()).withColumn("__mid", F.monotonically_increasing_id())
    rows = rows.persist()
    counts = sorted((r["__pid"], r["n"]) for r in rows.groupBy("__pid").agg(F.count(F.lit(1)).alias("n")).collect())
    offsets, total = [], 0
    for pid, n in counts:
        offsets.append((pid, total))
        total += n
    offset_df = spark.createDataFrame(offsets or [(0, 0)], "__pid int, __offset bigint")
    rows = rows.join(F.broadcast(offset_df), "__pid").withColumn("__seq", col("__offset") + col("__mid") - F.shiftleft(col("__pid").cast("bigint"), 33))

    # An event pushed twice (a redelivery) counts once: its first row stands.
    id_field = job.get("eventIdField")
    if id_field:
        rows = rows.withColumn("__first", F.min("__seq").over(Window.partitionBy(col(id_field))))
        rows = rows.filter(col(id_field).isNull() | (col("__seq") == col("__first")))
    keys = [k["name"] for k in job["keys"]]
    for k in keys + [ts_field]:
        rows = rows.filter(col(k).isNotNull())

    out = [col(k) for k in keys]
    out += [F.unix_millis(col(ts_field)).alias("__ts"), col("__seq")]
    for e in job["expressions"]:
        value = F.expr(e["sql"])
        target = DUCKDB_TO_SPARK.get(e["type"])
        out.append((value.cast(target) if target else value).alias(e["name"]))
    for i, sql in enumerate(job["inputs"]):
        x = F.expr(f"CAST(({sql}) AS DOUBLE)")
        out.append(F.when(F.isnan(x), F.lit(None)).otherwise(x).cast("double").alias(f"__in_{i}"))
    out.append(col("__online"))
    table = rows.select(out).orderBy(*[col(k) for k in keys], "__ts", "__seq")
    stats = write_one_file(table, job["out"], lambda t: t.agg(F.count(F.lit(1)).alias("n"), F.min("__ts").alias("lo"), F.max("__ts").alias("hi")).collect()[0])
    return {"rows": stats["n"], "minTs": stats["lo"], "maxTs": stats["hi"]}


# ---------------------------------------------------------------- training set

LABEL, EVENT = 0, 1


def view_features(spark: SparkSession, labels: DataFrame, view: dict) -> DataFrame:
    """One row per label (__row) with this view's features, named as the job says."""
    keys = [k["name"] for k in view["keys"]]
    features = view["features"]
    inputs = sorted({f["input"] for f in features if f["kind"] != "expression"})
    expressions = [f["name"] for f in features if f["kind"] == "expression"]
    x = lambda i: f"__in_{i}"

    events = spark.read.parquet(view["events"])
    event_rows = events.select(
        *[col(k) for k in keys],
        col("__ts").alias("__time"),
        F.lit(EVENT).alias("__kind"),
        col("__seq"),
        F.lit(None).cast("bigint").alias("__row"),
        F.lit(None).cast("int").alias("__g"),
        *[col(x(i)) for i in inputs],
        (F.struct(col("__ts"), *[col(e) for e in expressions]) if expressions else F.lit(None)).alias("__latest"),
    )
    label_keys = labels.select(*[col(k) for k in keys], "__row", "__t")

    def label_like(time, g: int) -> DataFrame:
        return label_keys.select(
            *[col(k) for k in keys],
            time.alias("__time"),
            F.lit(LABEL).alias("__kind"),
            F.lit(None).cast("bigint").alias("__seq"),
            col("__row"),
            F.lit(g).alias("__g"),
            *[F.lit(None).cast("double").alias(x(i)) for i in inputs],
            F.lit(None).cast(event_rows.schema["__latest"].dataType).alias("__latest"),
        )

    start = lambda w, h: F.floor((col("__t") - F.lit(w)) / F.lit(h)) * F.lit(h)
    # Marker rows at the start of each window whose aggregation is a difference of sums.
    summed = sorted({(f["window"], f["hop"]) for f in features if f["kind"] == "window" and f["fn"] in ("count", "sum", "mean", "stddev")})
    union = event_rows.unionByName(label_like(col("__t"), -1))
    for g, (w, h) in enumerate(summed):
        union = union.unionByName(label_like(start(w, h), g))

    order = [col("__time"), col("__kind"), col("__seq")]
    running = Window.partitionBy(*[col(k) for k in keys]).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy(*[col(k) for k in keys])
    cols = [col(k) for k in keys] + [col("__time"), col("__kind"), col("__row"), col("__g")]
    cols.append(F.count(F.when(col("__kind") == EVENT, 1)).over(running).alias("__any"))
    if expressions:
        cols.append(F.last(F.when(col("__kind") == EVENT, col("__latest")), ignorenulls=True).over(running).alias("__latest"))
    lifetime = [f for f in features if f["kind"] == "lifetime"]
    windowed = [f for f in features if f["kind"] == "window"]
    for i in inputs:
        v = col(x(i))
        shift = F.avg(v).over(whole)
        d = v - shift
        cols += [
            shift.alias(f"__shift_{i}"),
            F.count(v).over(running).alias(f"__c_{i}"),
            # A frame with no value sums to null: here that is 0, so differences stay defined.
            F.coalesce(F.sum(d).over(running), F.lit(0.0)).alias(f"__s_{i}"),
            F.coalesce(F.sum(d * d).over(running), F.lit(0.0)).alias(f"__q_{i}"),
            F.last(F.when(v.isNotNull(), F.struct(col("__time").alias("ts"), v.alias("v"))), ignorenulls=True).over(running).alias(f"__last_{i}"),
        ]
        if any(f["input"] == i for f in lifetime):
            cols += [F.min(v).over(running).alias(f"__min_{i}"), F.max(v).over(running).alias(f"__max_{i}"), F.stddev_samp(v).over(running).alias(f"__sd_{i}")]
    # Windowed min/max: the running extreme within the label's own hop tile.
    extremes = sorted({(f["input"], f["hop"]) for f in windowed if f["fn"] in ("min", "max")})
    for i, h in extremes:
        tile = Window.partitionBy(*[col(k) for k in keys], F.floor(col("__time") / F.lit(h))).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)
        cols += [F.min(col(x(i))).over(tile).alias(f"__tmin_{i}_{h}"), F.max(col(x(i))).over(tile).alias(f"__tmax_{i}_{h}")]
    computed = union.select(*cols).filter(col("__kind") == LABEL)

    # A label's row and its markers share __row: one aggregation puts them side by side.
    at = lambda g, c: F.first(F.when(col("__g") == g, col(c)), ignorenulls=True)
    own = [c for c in computed.columns if c not in ("__row", "__g", "__kind", "__time", *keys)]
    markers = [at(g, f"__{s}_{i}").alias(f"__{s}_{i}_m{g}") for g in range(len(summed)) for i in inputs for s in ("c", "s", "q")]
    at_label = computed.groupBy("__row").agg(at(-1, "__time").alias("__t"), *[at(-1, c).alias(c) for c in own], *markers)

    # Whole tiles inside a window, for windowed min and max: each label's tiles, joined.
    for w, h in sorted({(f["window"], f["hop"]) for f in windowed if f["fn"] in ("min", "max")}):
        ins = sorted({f["input"] for f in windowed if f["fn"] in ("min", "max") and f["window"] == w and f["hop"] == h})
        tiles = events.groupBy(*[col(k) for k in keys], (F.floor(col("__ts") / F.lit(h)) * F.lit(h)).alias("__tile")).agg(
            *[F.min(col(x(i))).alias(f"__min_{i}") for i in ins], *[F.max(col(x(i))).alias(f"__max_{i}") for i in ins]
        )
        first, end = start(w, h), F.floor(col("__t") / F.lit(h)) * F.lit(h)
        wanted = label_keys.select(*[col(k) for k in keys], "__row", F.explode(F.when(end > first, F.sequence(first, end - F.lit(h), F.lit(h))).otherwise(F.array().cast("array<bigint>"))).alias("__tile"))
        whole_tiles = wanted.join(tiles, keys + ["__tile"]).groupBy("__row").agg(
            *[F.min(f"__min_{i}").alias(f"__wmin_{i}_{w}_{h}") for i in ins], *[F.max(f"__max_{i}").alias(f"__wmax_{i}_{w}_{h}") for i in ins]
        )
        at_label = at_label.join(whole_tiles, "__row", "left")

    out = [col("__row")]
    has_history = col("__any") > 0
    for f in features:
        name = f["out"]
        if f["kind"] == "expression":
            fresh = F.lit(True) if view["ttl"] is None else col("__latest")["__ts"] >= col("__t") - F.lit(view["ttl"])
            value = F.when(fresh, col("__latest")[f["name"]])
        elif f["kind"] == "lifetime":
            i = f["input"]
            n, s, shift = col(f"__c_{i}"), col(f"__s_{i}"), col(f"__shift_{i}")
            value = {
                "count": n,
                "sum": F.when(n > 0, s + n * shift).otherwise(F.lit(0.0)),
                "mean": F.when(n > 0, s / n + shift),
                "min": col(f"__min_{i}"),
                "max": col(f"__max_{i}"),
                "last": col(f"__last_{i}")["v"],
                "stddev": col(f"__sd_{i}"),
            }[f["fn"]]
        else:
            i, w, h = f["input"], f["window"], f["hop"]
            if f["fn"] in ("count", "sum", "mean", "stddev"):
                g = summed.index((w, h))
                n = col(f"__c_{i}") - col(f"__c_{i}_m{g}")
                s = col(f"__s_{i}") - col(f"__s_{i}_m{g}")
                q = col(f"__q_{i}") - col(f"__q_{i}_m{g}")
                shift = col(f"__shift_{i}")
                value = {
                    "count": n,
                    "sum": F.when(n > 0, s + n * shift).otherwise(F.lit(0.0)),
                    "mean": F.when(n > 0, s / n + shift),
                    "stddev": F.when(n > 1, F.sqrt(F.greatest(F.lit(0.0), (q - s * s / n) / (n - 1)))),
                }[f["fn"]]
            elif f["fn"] == "last":
                value = F.when(col(f"__last_{i}")["ts"] >= start(w, h), col(f"__last_{i}")["v"])
            else:
                pick = F.least if f["fn"] == "min" else F.greatest
                value = pick(col(f"__w{f['fn']}_{i}_{w}_{h}"), col(f"__t{f['fn']}_{i}_{h}"))
        out.append(F.when(has_history, value).alias(name))
    return at_label.select(*out)


def training_set(spark: SparkSession, job: dict) -> dict:
    labels = spark.read.parquet(job["labels"])
    for view in job["views"]:
        write_one_file(view_features(spark, labels, view).orderBy("__row"), view["out"])
    return {"views": len(job["views"])}


class LarderJobError(Exception):
    """A problem with the job's data that Larder reports as it is."""


def run(spark: SparkSession, job: dict) -> dict:
    try:
        result = offline_table(spark, job) if job["kind"] == "offline-table" else training_set(spark, job)
        return {"ok": True, **result}
    except LarderJobError as e:
        return {"ok": False, "data": True, "error": str(e)}
    except Exception as e:  # a failing expression, a missing file: this job fails, the session stays
        first = str(e).strip().split("\n")[0]
        return {"ok": False, "data": False, "error": f"{type(e).__name__}: {first}"}
    finally:
        # The session outlives the job: what the job cached must not pile up in it.
        spark.catalog.clearCache()


def main() -> None:
    """Serves jobs: one job file's path per line on stdin, one result line per job on stdout."""
    spark = None
    try:
        for line in sys.stdin:
            with open(line.strip()) as f:
                job = json.load(f)
            began = time.monotonic()
            spark = spark or session(job)
            result = run(spark, job)
            print(f"larder: {job['kind']} job took {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
            print(RESULT + json.dumps(result), flush=True)
    finally:
        if spark:
            spark.stop()


RESULT = "LARDER-RESULT "

if __name__ == "__main__":
    main()
