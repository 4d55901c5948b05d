/**
 * One training set in a process of its own (so its peak RSS is its own), for
 * scripts/bench/feast-bench.ts and engine-bench.ts: prints `{ seconds, rows }` of
 * Larder.historical alone; LARDER_ENGINE, LARDER_DATA_DIR and LARDER_SPARK_* are read
 * from the environment.
 *   bun scripts/bench/historical-once.ts <repo> <labels> <out.parquet> <view:feature,...>
 */
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";
import { resolveFeatures } from "../../src/online/online-features.ts";

const [repo, labelsPath, outPath, features] = process.argv.slice(2);
if (!repo || !labelsPath || !outPath || !features) throw new Error("usage: historical-once.ts <repo> <labels> <out.parquet> <view:feature,...>");
const larder = new Larder(loadConfig({ repoDir: repo }));
const refs = resolveFeatures(larder.registry(), { features: features.split(",") });
const t0 = performance.now();
const result = await larder.historical({ labelsPath, refs, outPath });
const seconds = (performance.now() - t0) / 1000;
await larder.close();
console.log(JSON.stringify({ seconds, rows: result.rows }));
