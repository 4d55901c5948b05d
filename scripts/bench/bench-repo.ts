/**
 * A benchmark feature repo: the demo's features/ with synthetic transactions generated
 * in DuckDB (fast at 10M rows), under $TMPDIR/larder-bench/<name>. Reused when present.
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { Duck, literal } from "../../src/offline/duckdb.ts";

export const DAY = 86_400_000;
export const END = Date.UTC(2026, 3, 1);

export type BenchRepo = { dir: string; larder: Larder; events: number; users: number; merchants: number };

/** `end`: the data's last instant (default END, fixed so offline runs are comparable). */
export async function benchRepo(name: string, events: number, users: number, merchants = 1000, days = 90, end = END): Promise<BenchRepo> {
  const dir = join(tmpdir(), "larder-bench", name);
  const data = join(dir, "data");
  mkdirSync(data, { recursive: true });
  cpSync(resolve(import.meta.dir, "../../features"), join(dir, "features"), { recursive: true });
  const path = join(data, "transactions.parquet");
  if (!existsSync(path)) {
    const duck = await Duck.open();
    const start = end - days * DAY;
    await duck.run(`COPY (
      SELECT 't' || i AS transaction_id,
        (hash(i) % ${users} + 1)::BIGINT AS user_id,
        (hash(i * 7 + 3) % ${merchants} + 1)::BIGINT AS merchant_id,
        round(exp(random() * 3 + 1), 2) AS amount,
        round(random() * 5000, 2) AS account_balance,
        make_timestamp((${start}::BIGINT + (random() * ${days * DAY})::BIGINT) * 1000) AS ts,
        random() < 0.01 AS is_fraud
      FROM range(${events}) t(i)) TO ${literal(path)} (FORMAT parquet)`);
    duck.close();
  }
  const larder = new Larder(loadConfig({ repoDir: dir }, {}));
  await larder.apply();
  return { dir, larder, events, users, merchants };
}

/** Label rows: random users and merchants at random instants over the data's range. */
export async function benchLabels(repo: BenchRepo, rows: number, days = 90): Promise<string> {
  const path = join(repo.dir, "data", `labels-${rows}.parquet`);
  if (existsSync(path)) return path;
  const duck = await repo.larder.duck();
  await duck.run(`COPY (
    SELECT (hash(i * 13 + 1) % ${repo.users} + 1)::BIGINT AS user_id, (hash(i * 17 + 5) % ${repo.merchants} + 1)::BIGINT AS merchant_id,
      make_timestamp((${END - days * DAY}::BIGINT + (random() * ${days * DAY})::BIGINT) * 1000) AS event_timestamp, random() < 0.01 AS label
    FROM range(${rows}) t(i)) TO ${literal(path)} (FORMAT parquet)`);
  return path;
}

export const machine = () => `${navigator.hardwareConcurrency} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}-${process.arch}, Bun ${Bun.version}`;
