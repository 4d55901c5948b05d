import { between, fileSource, maxNullFraction, rowCount } from "larder";
import { z } from "zod";

/** Card transactions written by `larder demo` (src/demo/generate-transactions.ts). */
export const transactions = fileSource({
  name: "transactions",
  path: "data/transactions.parquet",
  timestampField: "ts",
  schema: z.object({
    transaction_id: z.string(),
    user_id: z.int(),
    merchant_id: z.int(),
    amount: z.number(),
    account_balance: z.number(),
    ts: z.date(),
    is_fraud: z.boolean(),
  }),
  // Checked before anything is written: a failing batch is quarantined, nothing changes.
  expectations: [between("amount", { min: 0, max: 1_000_000 }), between("account_balance", { min: 0 }), maxNullFraction("merchant_id", 0), rowCount({ min: 1 })],
  description: "Card transactions, one row each, with the balance before the transaction",
  owner: "fraud-team@example.com",
});
