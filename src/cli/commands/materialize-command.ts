import type { Command } from "../command.ts";
import { UsageError } from "../../errors.ts";
import { isoTime, parseInstant } from "../../time.ts";
import { err, out, progress, table } from "../print.ts";
import type { MaterializeOptions } from "../../materialize/materialize.ts";

export const materializeCommand: Command = {
  name: "materialize",
  summary: "load latest values and window tiles into the online store",
  usage: "larder materialize [--views a,b] [--start TIME] [--end TIME] [--incremental] [--engine duckdb|spark] | --rebuild [--end TIME]",
  options: {
    views: { type: "string" },
    start: { type: "string" },
    end: { type: "string" },
    incremental: { type: "boolean" },
    rebuild: { type: "boolean" },
    engine: { type: "string" },
  },
  flagHelp: {
    views: "only these views (comma-separated)",
    start: "earliest event time to load (ISO 8601 or epoch ms)",
    end: "load events before this instant (default: now)",
    incremental: "from each view's watermark, applying only newer events",
    engine: "duckdb or spark: what builds the offline tables the online store is filled from (default LARDER_ENGINE, else duckdb)",
    rebuild: "set the online store aside and build it again from the offline tables",
  },
  async run(larder, flags) {
    if (flags.rebuild && (flags.incremental || flags.views || flags.start)) throw new UsageError("--rebuild builds every view afresh; drop --incremental, --views and --start");
    if (flags.incremental && flags.start) throw new UsageError("--incremental starts at each view's watermark; drop --start");
    const start = typeof flags.start === "string" ? parseInstant(flags.start, "--start") : undefined;
    const end = typeof flags.end === "string" ? parseInstant(flags.end, "--end") : undefined;
    if (start !== undefined && end !== undefined && start >= end) throw new UsageError("--start must be before --end");
    const views =
      typeof flags.views === "string"
        ? flags.views
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined;
    const shows = new Map<string, ReturnType<typeof progress>>();
    const opts = {
      views,
      start,
      end,
      incremental: flags.incremental === true,
      // Runs of one view are serialized: wait for one going on elsewhere (a schedule, another CLI).
      whenBusy: "wait",
      onWait: (view, lease) => err(`waiting for the run of ${view} that ${lease.holder} started at ${lease.acquiredAt}…`),
      onProgress: (p) => {
        if (!shows.has(p.view)) shows.set(p.view, progress(`materializing ${p.view}`));
        shows.get(p.view)!(p.entities, p.total);
      },
    } satisfies MaterializeOptions;
    let results: Awaited<ReturnType<typeof larder.materialize>>;
    if (flags.rebuild) {
      const rebuilt = await larder.rebuildOnline(opts);
      err(`the online store was set aside (${rebuilt.setAside}) and built again from the offline tables`);
      results = rebuilt.views;
    } else {
      results = await larder.materialize(opts);
    }
    out(
      table([
        ["view", "version", "mode", "events", "entities", "watermark", "seconds"],
        ...results.map((r) => [r.view, r.version, r.mode, r.events, r.entities, isoTime(r.watermark), r.seconds.toFixed(2)]),
      ]),
    );
  },
};
