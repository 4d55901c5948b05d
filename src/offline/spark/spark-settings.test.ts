import { expect, test } from "bun:test";
import { loadConfig } from "../../config/config.ts";
import { parseSparkConf } from "./spark-job.ts";

test("LARDER_SPARK_CONF becomes the session's settings; other shapes are refused by name", () => {
  const config = loadConfig({}, { LARDER_ENGINE: "spark", LARDER_SPARK_CONF: "spark.executor.memory=8g, spark.sql.shuffle.partitions=400" });
  expect(config.engine).toBe("spark");
  expect(parseSparkConf(config.sparkConf)).toEqual({ "spark.executor.memory": "8g", "spark.sql.shuffle.partitions": "400" });
  expect(parseSparkConf("")).toEqual({});
  expect(() => loadConfig({}, { LARDER_SPARK_CONF: "executor=1" })).toThrow("must be spark.key=value pairs, comma-separated");
  expect(() => loadConfig({}, { LARDER_SPARK_MASTER: "sc://spark:15002" })).toThrow("Spark Connect (sc://) is not supported: use local[*], spark://host:7077 or yarn");
  expect(() => loadConfig({ engine: "flink" }, {})).toThrow("engine");
});
