/** What every `larder serve` listener shares: address and body limit (primary and workers alike). */
import type { Config } from "../config/config.ts";
import { ListenError } from "../errors.ts";

export function listenOptions(config: Config) {
  return {
    hostname: config.host,
    port: config.port,
    // Several processes on one port (workers): the kernel spreads connections over them.
    reusePort: config.workers > 1,
    // Bodies are checked against maxBodyBytes when read (read-json.ts: a JSON 413, reading
    // stops at the limit); Bun's own limit would answer an empty 413 first, so it is set
    // out of the way. A body no route reads is never buffered.
    maxRequestBodySize: 2 ** 40,
  };
}

/** Bun.serve, with a refusal to listen turned into a message a user can act on (no stack). */
export function listen<T extends Parameters<typeof Bun.serve>[0]>(options: T & { hostname?: string; port?: number }) {
  try {
    return Bun.serve(options);
  } catch (error) {
    const where = `${options.hostname ?? "0.0.0.0"}:${options.port}`;
    const inUse = /in use|EADDRINUSE/i.test(String((error as Error)?.message ?? error));
    throw new ListenError(
      inUse
        ? `port ${options.port} is already in use on ${options.hostname ?? "0.0.0.0"}: stop what listens there, or choose another with --port (LARDER_PORT)`
        : `cannot listen on ${where}: ${(error as Error)?.message ?? error}; check --host (LARDER_HOST) and --port (LARDER_PORT)`,
      { cause: error },
    );
  }
}
