import { expect, test } from "bun:test";
import { loadConfig } from "./config.ts";

test("a relative data folder is inside the feature repo, from a flag or the environment; an absolute one is kept", () => {
  expect(loadConfig({ repoDir: "/srv/features" }, {}).dataDir).toBe("/srv/features/data");
  expect(loadConfig({ repoDir: "/srv/features", dataDir: "state" }, {}).dataDir).toBe("/srv/features/state");
  expect(loadConfig({ repoDir: "/srv/features" }, { LARDER_DATA_DIR: "from-env" }).dataDir).toBe("/srv/features/from-env");
  expect(loadConfig({ repoDir: "/srv/features", dataDir: "/var/lib/larder" }, {}).dataDir).toBe("/var/lib/larder");
});
