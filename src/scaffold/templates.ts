/** The files `larder init` writes into a new feature repo (data comes from driver-stats-data.ts). */

export const ENTITIES_TS = `import { entity } from "larder";

export const driver = entity({
  name: "driver",
  joinKeys: { driver_id: "int64" },
  description: "A driver of the ride-hailing example",
});
`;

export const SOURCES_TS = `import { fileSource } from "larder";
import { z } from "zod";

/** Hourly statistics each driver reports (CSV; Parquet and JSON work the same way). */
export const driverStats = fileSource({
  name: "driver_stats",
  path: "data/driver_stats.csv",
  timestampField: "event_timestamp",
  schema: z.object({
    driver_id: z.int(),
    event_timestamp: z.date(),
    conv_rate: z.number(),
    acc_rate: z.number(),
    avg_daily_trips: z.int(),
  }),
});
`;

export const FEATURES_TS = `import { count, featureService, featureView, max, mean, sql } from "larder";
import { driver } from "./entities.ts";
import { driverStats } from "./sources.ts";

export const driverHourlyStats = featureView({
  name: "driver_hourly_stats",
  entity: driver,
  source: driverStats,
  ttl: "1d",
  features: {
    conv_rate: sql("conv_rate"),
    acc_rate: sql("acc_rate"),
    avg_daily_trips: sql("avg_daily_trips"),
    conv_rate_mean_24h: mean("conv_rate", "24h"),
    max_trips_7d: max("avg_daily_trips", "7d"),
    reports_24h: count("24h"),
    reports_lifetime: count("lifetime"),
  },
  description: "What drivers report every hour, and how it moves over a day and a week",
});

export const driverActivity = featureService({
  name: "driver_activity",
  features: [driverHourlyStats],
  description: "Features of a model that predicts whether a trip is completed",
});
`;

export const GITIGNORE = `# Written by larder (registry, offline tables, online store); the example CSVs are yours to keep.
data/registry.json
data/offline/
data/online/
*.parquet
`;

export const README_MD = `# A Larder feature repo

Made by \`larder init\`: one entity (\`driver\`), one source (\`data/driver_stats.csv\`,
hourly reports of five drivers over the last seven days), one feature view
(\`driver_hourly_stats\`) and one feature service (\`driver_activity\`), in \`features/\`.

## Next

\`\`\`sh
larder plan                  # what apply would register
larder apply                 # register the definitions (a version per feature view)
larder materialize           # compute features and load the latest into the online store
larder serve                 # HTTP on 127.0.0.1:6566 (Ctrl-C to stop)
\`\`\`

In another terminal, ask for the features of two drivers:

\`\`\`sh
curl -s localhost:6566/v1/features/online -H 'content-type: application/json' \\
  -d '{"service": "driver_activity", "entities": {"driver_id": [1001, 1002]}}'
\`\`\`

Build a point-in-time correct training set for the label table \`data/driver_labels.csv\`
(each row gets the features as they were at its \`event_timestamp\`):

\`\`\`sh
larder historical --entities data/driver_labels.csv --service driver_activity --out training.parquet
\`\`\`

Change a feature in \`features/features.ts\`, then \`larder plan\` shows what changed and
\`larder apply\` registers a new version. \`import ... from "larder"\` and \`from "zod"\` work
with no node_modules: the larder executable provides both.
`;
