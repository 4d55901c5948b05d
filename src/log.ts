/**
 * Structured log events and the injected logger (kysely's pattern): modules emit events,
 * the process decides where they go. The console logger is the only console use outside
 * the CLI's printer.
 */
export type LogEvent =
  | { level: "error"; event: "http.server_error"; method: string; path: string; error: unknown }
  | { level: "error"; event: "stream.failed"; stream: string; error: unknown }
  | { level: "warn"; event: "stream.dead_letter"; stream: string; id: string; reason: string }
  | { level: "warn"; event: "registry.sync_failed"; error: unknown }
  | { level: "error"; event: "schedule.failed"; view: string; error: unknown };

export type Logger = (event: LogEvent) => void;

export const consoleLogger: Logger = (e) => {
  const at = new Date().toISOString();
  switch (e.event) {
    case "http.server_error":
      return console.error(`${at} ${e.level} ${e.event} ${e.method} ${e.path}: ${describeError(e.error)}`);
    case "stream.failed":
      return console.error(`${at} ${e.level} ${e.event} ${e.stream}: ${describeError(e.error)}`);
    case "stream.dead_letter":
      return console.error(`${at} ${e.level} ${e.event} ${e.stream} ${e.id}: ${e.reason}`);
    case "schedule.failed":
      return console.error(`${at} ${e.level} ${e.event} ${e.view}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
    case "registry.sync_failed":
      return console.error(`${at} ${e.level} ${e.event}: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
  }
};

const describeError = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));
