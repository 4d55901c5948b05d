/** What passes between `larder serve`'s primary and its lookup workers. */
import type { MetricsDrain } from "../../monitoring/metrics.ts";

/** A worker to its primary, over Bun's IPC channel. */
export type WorkerMessage =
  | { type: "ready" }
  /** Counts and sampled served values since the last message, to add to the primary's. */
  | { type: "counts"; metrics: MetricsDrain; served: Record<string, (number | string)[]> };

/** In a worker's environment: the primary's private loopback URL, where it sends every request but lookups. */
export const PRIMARY_URL_ENV = "LARDER_WORKER_PRIMARY";

/** How often a worker sends its counts: /metrics lags a worker's lookups by at most this. */
export const COUNTS_EVERY_MS = 1_000;
