/**
 * A feature repo for benches that push: the demo's features with their views reading a
 * push source over the transactions file, the demo's data (1000 users, 90 days) applied
 * and materialized, and a way to start `larder serve` on it and make transactions.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serverUrl } from "./bench-tools.ts";

const ROOT = resolve(import.meta.dir, "../..");
export const MAIN = join(ROOT, "src/main.ts");

export function pushRepo(prefix: string, users = 1000): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(ROOT, "features"), join(dir, "features"), { recursive: true });
  writeFileSync(
    join(dir, "features/sources.ts"),
    readFileSync(join(dir, "features/sources.ts"), "utf8").replace("fileSource,", "fileSource, pushSource,") +
      '\nexport const transactionsPush = pushSource({ name: "transactions_push", batchSource: transactions, eventIdField: "transaction_id" });\n',
  );
  writeFileSync(
    join(dir, "features/fraud.ts"),
    readFileSync(join(dir, "features/fraud.ts"), "utf8")
      .replace('import { transactions } from "./sources.ts";', 'import { transactionsPush } from "./sources.ts";')
      .replaceAll("source: transactions,", "source: transactionsPush,"),
  );
  const p = Bun.spawnSync([process.execPath, MAIN, "demo", "--no-serve", "--users", String(users), "--repo", dir], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`larder demo: ${p.stderr.toString()}`);
  return dir;
}

/** `larder serve` on the repo (port chosen by the system), with its URL. */
export async function serveRepo(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const server = Bun.spawn([process.execPath, ...args, MAIN, "serve", "--repo", dir], { stdout: "pipe", stderr: "inherit", env: { ...process.env, LARDER_PORT: "0", ...env } });
  return { server, url: await serverUrl(server) };
}

let seq = 0;
/** A new transaction of `user` at this instant, with an id no other transaction has. */
export const transaction = (user: number) => ({
  transaction_id: `bench-${process.pid}-${seq++}`,
  user_id: user,
  merchant_id: 1 + Math.floor(Math.random() * 200),
  amount: Math.round(Math.random() * 20_000) / 100,
  account_balance: Math.round(Math.random() * 500_000) / 100,
  ts: Date.now(),
  is_fraud: false,
});
