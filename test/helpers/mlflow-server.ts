/**
 * A real MLflow tracking server (`mlflow server`, MLflow from PyPI in .venvs/mlflow) on a
 * free loopback port for one test file, with a SQLite store and proxied artifacts in a temp
 * folder. Missing: a loud skip, except under CI=true, where it is a failure.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./redis-server.ts";

export const MLFLOW_BIN = resolve(import.meta.dir, "../../.venvs/mlflow/bin/mlflow");
export const MLFLOW_PYTHON = resolve(import.meta.dir, "../../.venvs/mlflow/bin/python");
export const MLFLOW_INSTALL = "python3 -m venv .venvs/mlflow && .venvs/mlflow/bin/pip install mlflow==3.17.2";
export const mlflowInstalled = () => existsSync(MLFLOW_BIN);

export type MlflowServer = { url: string; stop(): Promise<void> };

export async function startMlflow(): Promise<MlflowServer | null> {
  if (!mlflowInstalled()) {
    if (process.env.CI === "true") throw new Error(`MLflow is not installed: CI must install it (${MLFLOW_INSTALL})`);
    console.warn(`\n!!! SKIPPING MLflow tests: MLflow is not installed (${MLFLOW_INSTALL}) !!!\n`);
    return null;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "larder-mlflow-"));
  const proc = Bun.spawn(
    [
      MLFLOW_BIN,
      "server",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      "1",
      "--backend-store-uri",
      `sqlite:///${join(dir, "mlflow.db")}`,
      "--artifacts-destination",
      join(dir, "artifacts"),
    ],
    { stdout: "ignore", stderr: "pipe", env: { ...process.env, MLFLOW_TRACKING_URI: "" } },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/health`).catch(() => null))?.ok) break;
    if (i > 900 || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`mlflow server did not start on port ${port}: ${proc.exitCode !== null ? await new Response(proc.stderr).text() : "timed out"}`);
    }
    await Bun.sleep(100);
  }
  return {
    url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
