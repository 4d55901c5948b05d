/**
 * The fraud demo's data: seeded, realistic card transactions over `days` days ending at
 * `end`. Users have their own spend level, activity rate, favourite merchants, paydays and
 * sometimes idle stretches; fraud is injected as account takeovers (a burst of large
 * amounts at unfamiliar merchants) and card testing (tiny amounts, then a large one).
 * Writes `transactions.parquet` (the source) and `fraud_labels.parquet` (a label table).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Duck } from "../offline/duckdb.ts";
import { literal } from "../offline/duckdb.ts";
import { DAY, HOUR, MINUTE } from "../windows/window-math.ts";
import { Random } from "./random.ts";

export type GenerateOptions = { users?: number; merchants?: number; days?: number; end?: number; seed?: number; outDir: string };
export type GenerateResult = { transactions: number; fraud: number; users: number; start: number; end: number; transactionsPath: string; labelsPath: string };

type Txn = { user: number; merchant: number; amount: number; ts: number; fraud: boolean };

export async function generateTransactions(duck: Duck, opts: GenerateOptions): Promise<GenerateResult> {
  const users = opts.users ?? 1000;
  const merchants = opts.merchants ?? 200;
  const days = opts.days ?? 90;
  const end = opts.end ?? Math.floor(Date.now() / HOUR) * HOUR;
  const start = end - days * DAY;
  const rnd = new Random(opts.seed ?? 42);
  const txns: Txn[] = [];
  const incomes: { user: number; ts: number; amount: number }[] = [];
  const profiles: { balance: number }[] = [];

  for (let u = 1; u <= users; u++) {
    const spend = rnd.logNormal(40, 0.6);
    const perDay = 0.3 + rnd.next() * 3.5;
    const favourites = Array.from({ length: 5 }, () => 1 + Math.floor(merchants * rnd.next() ** 2));
    profiles[u] = { balance: rnd.logNormal(1500, 0.8) };
    // Some users go quiet for a stretch of 8 to 20 days.
    const idleFrom = rnd.chance(0.15) ? start + rnd.next() * (days - 20) * DAY : Infinity;
    const idleTo = idleFrom + rnd.int(8, 20) * DAY;
    const count = Math.round(perDay * days * (0.8 + 0.4 * rnd.next()));
    for (let i = 0; i < count; i++) {
      const day = Math.floor(rnd.next() * days);
      // Mostly daytime: hours 7–22, a few at night.
      const hour = rnd.chance(0.92) ? rnd.int(7, 22) : rnd.int(0, 6);
      const ts = start + day * DAY + hour * HOUR + Math.floor(rnd.next() * HOUR);
      if (ts >= idleFrom && ts < idleTo) continue;
      const merchant = rnd.chance(0.8) ? rnd.pick(favourites) : rnd.int(1, merchants);
      txns.push({ user: u, merchant, amount: round2(rnd.logNormal(spend, 0.5)), ts, fraud: false });
    }
    for (let payday = start + rnd.int(0, 13) * DAY + 9 * HOUR; payday < end; payday += 14 * DAY) {
      incomes.push({ user: u, ts: payday, amount: spend * perDay * 14 * (1 + 0.3 * rnd.next()) });
    }
    if (rnd.chance(0.03)) {
      // Account takeover: a burst of large purchases at unfamiliar merchants within two hours.
      const at = start + 15 * DAY + rnd.next() * (days - 16) * DAY;
      for (let i = rnd.int(3, 12); i > 0; i--) {
        txns.push({ user: u, merchant: rnd.int(1, merchants), amount: round2(spend * (3 + rnd.next() * 12)), ts: Math.floor(at + rnd.next() * 2 * HOUR), fraud: true });
      }
    } else if (rnd.chance(0.02)) {
      // Card testing: tiny amounts within ten minutes, then a large one.
      const at = start + 15 * DAY + rnd.next() * (days - 16) * DAY;
      const n = rnd.int(5, 10);
      for (let i = 0; i < n; i++)
        txns.push({ user: u, merchant: rnd.int(1, merchants), amount: round2(0.5 + rnd.next() * 1.5), ts: Math.floor(at + i * MINUTE + rnd.next() * MINUTE), fraud: true });
      txns.push({ user: u, merchant: rnd.int(1, merchants), amount: round2(spend * (5 + rnd.next() * 10)), ts: Math.floor(at + (n + 2) * MINUTE), fraud: true });
    }
  }
  txns.sort((a, b) => a.ts - b.ts || a.user - b.user);
  incomes.sort((a, b) => a.ts - b.ts);

  // Balances: each transaction carries the balance before it; paydays top it up.
  mkdirSync(opts.outDir, { recursive: true });
  const csvPath = join(opts.outDir, `.transactions-${process.pid}.csv`);
  const writer = Bun.file(csvPath).writer();
  writer.write("transaction_id,user_id,merchant_id,amount,account_balance,ts,is_fraud\n");
  let income = 0;
  let fraud = 0;
  for (let i = 0; i < txns.length; i++) {
    const t = txns[i]!;
    while (income < incomes.length && incomes[income]!.ts <= t.ts) {
      profiles[incomes[income]!.user]!.balance += incomes[income]!.amount;
      income++;
    }
    const p = profiles[t.user]!;
    const balance = round2(Math.max(0, p.balance));
    p.balance = Math.max(0, p.balance - t.amount);
    if (t.fraud) fraud++;
    writer.write(`t${String(i + 1).padStart(8, "0")},${t.user},${t.merchant},${t.amount},${balance},${new Date(t.ts).toISOString()},${t.fraud}\n`);
  }
  await writer.end();

  const transactionsPath = join(opts.outDir, "transactions.parquet");
  const labelsPath = join(opts.outDir, "fraud_labels.parquet");
  const csv = `read_csv(${literal(csvPath)}, header = true, columns = {'transaction_id': 'VARCHAR', 'user_id': 'BIGINT', 'merchant_id': 'BIGINT', 'amount': 'DOUBLE', 'account_balance': 'DOUBLE', 'ts': 'TIMESTAMP', 'is_fraud': 'BOOLEAN'})`;
  await duck.run(`COPY (SELECT * FROM ${csv}) TO ${literal(transactionsPath)} (FORMAT parquet)`);
  await duck.run(`COPY (SELECT transaction_id, user_id, merchant_id, amount, ts AS event_timestamp, is_fraud FROM ${csv}) TO ${literal(labelsPath)} (FORMAT parquet)`);
  rmSync(csvPath, { force: true });
  return { transactions: txns.length, fraud, users, start, end, transactionsPath, labelsPath };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
