/**
 * Which real servers a test needs and this machine lacks. A test that needs a missing one is
 * skipped (test.skipIf: reported as skipped, with a loud message from its helper), except
 * under CI=true, where it runs and fails: CI installs them all.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { postgresBin } from "./postgres-server.ts";
import { KAFKA_FETCH, kafkaInstalled } from "./kafka-server.ts";
import { MLFLOW_INSTALL, mlflowInstalled } from "./mlflow-server.ts";

const CI = process.env.CI === "true";

/** The Python of the virtual environment with Feast from PyPI (.ci/run makes it), or null. */
export const FEAST_PYTHON = existsSync(resolve(import.meta.dir, "../../.venvs/feast/bin/python")) ? resolve(import.meta.dir, "../../.venvs/feast/bin/python") : null;

/** The Python of the environment with the client from clients/python installed (.ci/run makes it), or null. */
export const CLIENT_PYTHON = existsSync(resolve(import.meta.dir, "../../.venvs/client/bin/python")) ? resolve(import.meta.dir, "../../.venvs/client/bin/python") : null;

/** The Python of the environment with PySpark from PyPI (.ci/run makes it), or null. */
export const SPARK_PYTHON = existsSync(resolve(import.meta.dir, "../../.venvs/spark/bin/python")) ? resolve(import.meta.dir, "../../.venvs/spark/bin/python") : null;

/** Chromium's path, or null. */
export const CHROMIUM = Bun.which("chromium") ?? Bun.which("chromium-browser") ?? null;

export const SKIP = {
  redis: !CI && !Bun.which("redis-server"),
  postgres: !CI && postgresBin() === null,
  chromium: !CI && CHROMIUM === null,
  feast: !CI && FEAST_PYTHON === null,
  kafka: !CI && !kafkaInstalled(),
  mlflow: !CI && !mlflowInstalled(),
  gx: !CI && !existsSync(resolve(import.meta.dir, "../../.venvs/gx/bin/python")),
  client: !CI && CLIENT_PYTHON === null,
  spark: !CI && SPARK_PYTHON === null,
};

const HOW: Record<keyof typeof SKIP, string> = {
  redis: "apt-get install -y redis-server",
  postgres: "apt-get install -y postgresql",
  chromium: "apt-get install -y chromium",
  feast: "python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast",
  kafka: KAFKA_FETCH,
  mlflow: MLFLOW_INSTALL,
  gx: "python3 -m venv .venvs/gx && .venvs/gx/bin/pip install great_expectations==1.24.1",
  client: "python3 -m venv .venvs/client && .venvs/client/bin/pip install -e 'clients/python[test]'",
  spark: "python3 -m venv .venvs/spark && .venvs/spark/bin/pip install pyspark==4.0.1 (and Java 17)",
};

for (const [what, skip] of Object.entries(SKIP)) {
  if (skip) console.warn(`\n!!! SKIPPING tests that need ${what}: it is not installed (${HOW[what as keyof typeof SKIP]}) !!!\n`);
}
