/** What every `larder serve` listener shares: address and body limit (primary and workers alike). */
import type { Config } from "../config/config.ts";

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
