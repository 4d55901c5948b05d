/**
 * Structured log events and the injected logger (kysely's pattern): modules emit events,
 * the process decides where they go. The console logger is the only console use outside
 * the CLI's printer.
 */
export type LogEvent =
  | { level: "error"; event: "http.server_error"; method: string; path: string; error: unknown };

export type Logger = (event: LogEvent) => void;

export const consoleLogger: Logger = (e) => {
  const error = e.error instanceof Error ? (e.error.stack ?? e.error.message) : String(e.error);
  console.error(`${new Date().toISOString()} ${e.level} ${e.event} ${e.method} ${e.path}: ${error}`);
};
