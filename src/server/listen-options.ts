/** What every `larder serve` listener shares: address and body limit (primary and workers alike). */
import type { Config } from "../config/config.ts";

export function listenOptions(config: Config) {
  return {
    hostname: config.host,
    port: config.port,
    // Several processes on one port (workers): the kernel spreads connections over them.
    reusePort: config.workers > 1,
    // Bodies are checked against maxBodyBytes (with a JSON 413) when read; this only keeps
    // Bun from buffering far larger chunked bodies first.
    maxRequestBodySize: Math.max(4 * config.maxBodyBytes, 65_536),
  };
}
