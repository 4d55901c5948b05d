/**
 * Structured log events and the injected logger (kysely's pattern): modules emit events,
 * the process decides where they go: readable lines by default, one JSON object per line
 * with LARDER_LOG=json, filtered by LARDER_LOG_LEVEL (debug, info, warn, error; default
 * info). Loggers write to stderr; stdout is the CLI's. Nothing logs tokens or bodies.
 */
export type LogEvent =
  | { level: "info"; event: "server.started"; url: string; schedules: boolean; auth: boolean; workers: number }
  | { level: "info"; event: "server.stopping"; signal: string; inFlight: number }
  | { level: "warn"; event: "server.forced_exit"; signal: string }
  | { level: "info"; event: "server.stopped" }
  | { level: "info"; event: "server.worker_ready"; pid: number }
  | { level: "error"; event: "server.worker_exited"; pid: number; code: number | null; signal: string | null }
  | { level: "error"; event: "http.server_error"; method: string; path: string; error: unknown }
  | { level: "warn"; event: "http.timeout"; method: string; path: string; ms: number }
  | { level: "error"; event: "stream.failed"; stream: string; error: unknown }
  | { level: "warn"; event: "stream.retry"; stream: string; id: string; tries: number; error: unknown }
  | { level: "warn"; event: "stream.dead_letter"; stream: string; id: string; reason: string }
  | { level: "warn"; event: "stream.client"; stream: string; message: string; error: unknown }
  | { level: "warn"; event: "registry.sync_failed"; error: unknown }
  | { level: "info"; event: "schedule.ran"; view: string; via: string; events: number; seconds: number }
  | { level: "error"; event: "schedule.failed"; view: string; error: unknown }
  | { level: "error"; event: "materialize.failed"; view: string; via: string; error: unknown };

export type Logger = (event: LogEvent) => void;
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const describeError = (error: unknown, stack: boolean) => (error instanceof Error ? (stack ? (error.stack ?? error.message) : error.message) : String(error));

/** The event's fields but level and name, errors as text. */
function fields(e: LogEvent, stack: boolean): Record<string, unknown> {
  const { level: _level, event: _event, ...rest } = e as LogEvent & Record<string, unknown>;
  if ("error" in rest) rest.error = describeError(rest.error, stack);
  return rest;
}

/** Readable lines: `2026-11-22T… warn stream.dead_letter stream=… id=… reason=…`. */
function line(e: LogEvent): string {
  const parts = Object.entries(fields(e, e.event === "http.server_error")).map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return `${new Date().toISOString()} ${e.level} ${e.event}${parts.length ? ` ${parts.join(" ")}` : ""}`;
}

export function makeLogger(format: "text" | "json", level: LogLevel, write: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): Logger {
  return (e) => {
    if (RANK[e.level] < RANK[level]) return;
    write(format === "json" ? JSON.stringify({ ts: new Date().toISOString(), level: e.level, event: e.event, ...fields(e, true) }) : line(e));
  };
}

/** The logger LARDER_LOG and LARDER_LOG_LEVEL ask for. */
export function loggerFromEnv(env: Record<string, string | undefined> = process.env): Logger {
  const level = (["debug", "info", "warn", "error"] as const).find((l) => l === env.LARDER_LOG_LEVEL) ?? "info";
  return makeLogger(env.LARDER_LOG === "json" ? "json" : "text", level);
}

export const consoleLogger: Logger = loggerFromEnv();
