/**
 * A real Spark standalone cluster on loopback for one test file: a master and one worker,
 * started with the spark-class script PySpark from PyPI ships (.venvs/spark), so the Spark
 * engine runs at a spark:// master with executors in processes of their own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "./redis-server.ts";

export type SparkCluster = { master: string; stop(): Promise<void> };

/** Reads a process's stderr until `pattern` appears; the text read, or an error with it. */
async function waitFor(stream: ReadableStream<Uint8Array>, pattern: RegExp, what: string, ms = 90_000): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => void reader.cancel(), ms);
  try {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${what} did not start:\n${text.slice(-2000)}`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  // Keep draining, so the process never blocks on a full pipe.
  void stream.pipeTo(new WritableStream()).catch(() => {});
}

export async function startSparkCluster(python: string): Promise<SparkCluster> {
  const home = Bun.spawnSync([python, "-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"]).stdout.toString().trim();
  const sparkClass = join(home, "bin", "spark-class");
  const dir = mkdtempSync(join(tmpdir(), "larder-spark-"));
  const env = {
    ...process.env,
    SPARK_HOME: home,
    SPARK_LOCAL_IP: "127.0.0.1",
    SPARK_WORKER_DIR: join(dir, "work"),
    PYSPARK_PYTHON: python,
    PATH: `${dirname(python)}:${process.env.PATH}`,
  };
  const port = await freePort();
  const master = Bun.spawn([sparkClass, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String(port), "--webui-port", String(await freePort())], {
    env,
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = `spark://127.0.0.1:${port}`;
  await waitFor(master.stderr, /I have been elected leader|Starting Spark master/, "the Spark master");
  const worker = Bun.spawn([sparkClass, "org.apache.spark.deploy.worker.Worker", "--cores", "2", "--memory", "2g", "--webui-port", String(await freePort()), url], {
    env,
    stdout: "ignore",
    stderr: "pipe",
  });
  await waitFor(worker.stderr, /Successfully registered with master/, "the Spark worker");
  return {
    master: url,
    async stop() {
      for (const p of [worker, master]) p.kill("SIGTERM");
      await Promise.all([worker.exited, master.exited]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
