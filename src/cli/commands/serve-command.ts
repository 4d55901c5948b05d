import type { Command } from "../command.ts";
import { startServer } from "../../server/start-server.ts";
import { startLookupWorker } from "../../server/workers/lookup-worker.ts";
import { PRIMARY_URL_ENV } from "../../server/workers/worker-messages.ts";
import { consoleLogger } from "../../log.ts";
import { out } from "../print.ts";
import { feastUiBundle } from "../../server/feast/feast-ui-bundle.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "serve online features over HTTP (default 127.0.0.1:6566)",
  usage: "larder serve [--host 127.0.0.1] [--port 6566] [--workers 1] [--feast-ui]",
  options: { host: { type: "string" }, port: { type: "string" }, workers: { type: "string" }, "feast-ui": { type: "boolean" } },
  flagHelp: {
    host: "address to listen on (LARDER_HOST)",
    port: "port to listen on (LARDER_PORT)",
    workers: "processes answering lookups on the port (LARDER_WORKERS; Linux)",
    "feast-ui": "also serve Feast's web UI at /feast, on Feast's registry routes at /api/v1 (LARDER_FEAST_UI=on)",
  },
  async run(larder) {
    await larder.loadOnDemandFunctions();
    // A process started by a primary's --workers: lookups here, everything else there.
    const primaryUrl = process.env[PRIMARY_URL_ENV];
    if (primaryUrl) return void (await startLookupWorker(larder, consoleLogger, primaryUrl).closed);
    // Its bundle ready before the first page, or the reason it cannot be.
    if (larder.config.feastUi === "on") await feastUiBundle();
    const server = startServer(larder);
    // A worker that cannot start (say, the store will not open there) stops the whole server.
    await server.workersReady.catch(async (err) => {
      await server.stop();
      throw err;
    });
    const workers = larder.config.workers > 1 ? ` with ${larder.config.workers} processes` : "";
    out(`Larder serving on http://${server.hostname}:${server.port}${workers} (Ctrl-C to stop)`);
    if (larder.config.feastUi === "on") out(`Feast's web UI on http://${server.hostname}:${server.port}/feast`);
    const loopback = /^(127\.|::1$|localhost$)/.test(larder.config.host);
    if (!loopback && !larder.config.tokens) out(`warning: listening on ${larder.config.host} with no tokens: anyone who can reach it can push and materialize (set LARDER_TOKENS)`);
    await server.closed;
  },
};
