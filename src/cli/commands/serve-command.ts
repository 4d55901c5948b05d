import type { Command } from "../command.ts";
import { startServer } from "../../server/start-server.ts";
import { out } from "../print.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "serve online features over HTTP (default 127.0.0.1:6566)",
  usage: "larder serve [--host 127.0.0.1] [--port 6566]",
  options: { host: { type: "string" }, port: { type: "string" } },
  async run(larder) {
    await larder.loadOnDemandFunctions();
    const server = startServer(larder);
    out(`Larder serving on http://${server.hostname}:${server.port} (Ctrl-C to stop)`);
    const loopback = /^(127\.|::1$|localhost$)/.test(larder.config.host);
    if (!loopback && !larder.config.tokens) out(`warning: listening on ${larder.config.host} with no tokens: anyone who can reach it can push and materialize (set LARDER_TOKENS)`);
    await server.closed;
  },
};
