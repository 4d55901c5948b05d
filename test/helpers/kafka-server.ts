/**
 * A real Apache Kafka broker (KRaft mode: broker and controller in one JVM, no ZooKeeper)
 * on free loopback ports for one test file, from the jars Maven fetched into .kafka/lib
 * (`.ci/run`: mvn -f scripts/kafka/pom.xml dependency:copy-dependencies). Missing: a loud
 * skip, except under CI=true, where it is a failure.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./redis-server.ts";

export const KAFKA_LIB = resolve(import.meta.dir, "../../.kafka/lib");
export const KAFKA_FETCH = "mvn -q -f scripts/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=../../.kafka/lib";
export const kafkaInstalled = () => existsSync(KAFKA_LIB) && readdirSync(KAFKA_LIB).some((f) => /^kafka_2\.13-.*\.jar$/.test(f)) && Bun.which("java") !== null;

export type KafkaServer = { brokers: string; stop(): Promise<void> };

const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), done(true)));
    s.once("error", () => done(false));
  });

export async function startKafka(partitions = 3): Promise<KafkaServer | null> {
  if (!kafkaInstalled()) {
    if (process.env.CI === "true") throw new Error(`Kafka's jars are not in .kafka/lib: CI must fetch them (${KAFKA_FETCH})`);
    console.warn(`\n!!! SKIPPING Kafka tests: Kafka's jars are not in .kafka/lib (${KAFKA_FETCH}) !!!\n`);
    return null;
  }
  const [port, controller] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "larder-kafka-"));
  const config = join(dir, "server.properties");
  writeFileSync(
    config,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(dir, "logs")}`,
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      `num.partitions=${partitions}`,
    ].join("\n"),
  );
  const cp = `${KAFKA_LIB}/*`;
  const java = ["java", "-Xms128m", "-Xmx512m", "-cp", cp];
  const format = Bun.spawnSync([...java, "kafka.tools.StorageTool", "format", "-t", "bGFyZGVyLXRlc3RzLTAwMQ", "-c", config], { stdout: "pipe", stderr: "pipe" });
  if (format.exitCode !== 0) throw new Error(`kafka storage format failed: ${format.stderr.toString()}${format.stdout.toString()}`);
  const proc = Bun.spawn([...java, "kafka.Kafka", config], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; !(await listening(port)); i++) {
    if (i > 600 || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`Kafka did not start on port ${port}: ${proc.exitCode !== null ? await new Response(proc.stderr).text() : "timed out"}`);
    }
    await Bun.sleep(100);
  }
  return {
    brokers: `127.0.0.1:${port}`,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
