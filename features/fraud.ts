import { between, count, featureService, featureView, max, mean, onDemandFeatureView, psi, sql, stddev, sum } from "larder";
import { z } from "zod";
import { merchant, user } from "./entities.ts";
import { transactions } from "./sources.ts";

export const userTransactions = featureView({
  name: "user_transactions",
  entity: user,
  source: transactions,
  ttl: "30d",
  features: {
    transaction_ratio: sql("amount / (account_balance + 1)", { description: "Latest amount relative to the balance before it" }),
    last_amount: sql("amount"),
    avg_spend_7d: mean("amount", "7d"),
    stddev_spend_7d: stddev("amount", "7d"),
    txn_count_1h: count("1h"),
    txn_count_24h: count("24h"),
    max_amount_30d: max("amount", "30d"),
    lifetime_txn_count: count("lifetime"),
    lifetime_spend: sum("amount", "lifetime"),
  },
  expectations: [
    between("transaction_ratio", { min: 0 }),
    // Drift of amounts against the first batch that passed (larder validate --save-reference moves it).
    psi("amount", { max: 0.25, severity: "warn" }),
  ],
  description: "Spending behaviour of a card holder",
  tags: { team: "fraud" },
  owner: "fraud-team@example.com",
});

export const merchantActivity = featureView({
  name: "merchant_activity",
  entity: merchant,
  source: transactions,
  ttl: "7d",
  features: {
    merchant_txn_count_24h: count("24h"),
    merchant_avg_amount_7d: mean("amount", "7d"),
    merchant_lifetime_txn_count: count("lifetime"),
  },
  description: "How busy a merchant is and what its customers usually spend",
  tags: { team: "fraud" },
});

export const fraudDetection = featureService({
  name: "fraud_detection",
  features: [userTransactions, "merchant_activity:merchant_txn_count_24h", "merchant_activity:merchant_avg_amount_7d"],
  description: "Features of the fraud model",
  owner: "fraud-team@example.com",
});

/**
 * The transaction being scored against the card holder's history: computed at request time
 * from the transaction's amount and the stored features, by the same function in training
 * sets (the amount column of the label table) and in lookups (requestData.amount).
 */
export const transactionFeatures = onDemandFeatureView({
  name: "transaction_features",
  request: z.object({ amount: z.number() }),
  inputs: [userTransactions],
  output: z.object({
    amount_to_avg_7d: z.number().nullable(),
    amount_to_max_30d: z.number().nullable(),
    is_first_transaction: z.boolean(),
  }),
  compute: ({ amount, avg_spend_7d, max_amount_30d, lifetime_txn_count }) => ({
    amount_to_avg_7d: typeof avg_spend_7d === "number" && avg_spend_7d > 0 ? (amount as number) / avg_spend_7d : null,
    amount_to_max_30d: typeof max_amount_30d === "number" && max_amount_30d > 0 ? (amount as number) / max_amount_30d : null,
    is_first_transaction: !lifetime_txn_count,
  }),
  description: "The scored transaction relative to the card holder's recent spending",
});

/** What the fraud model reads: the stored features and the transaction's own. */
export const fraudScoring = featureService({
  name: "fraud_scoring",
  features: [userTransactions, "merchant_activity:merchant_txn_count_24h", "merchant_activity:merchant_avg_amount_7d", transactionFeatures],
  description: "Features of the fraud model, with the scored transaction's on-demand features",
  owner: "fraud-team@example.com",
});
