/**
 * Makes `import ... from "larder"` and `from "zod"` in feature files resolve to the
 * copies inside this process, with no node_modules beside the feature repo (the same
 * mechanism works inside the compiled executable; see decision 0001).
 */
import { plugin } from "bun";
import * as zod from "zod";
import * as larder from "../index.ts";

let registered = false;

export function registerLarderModules(): void {
  if (registered) return;
  registered = true;
  plugin({
    name: "larder-modules",
    setup(build) {
      build.module("larder", () => ({ exports: { ...larder }, loader: "object" }));
      build.module("zod", () => ({ exports: { ...zod }, loader: "object" }));
    },
  });
}
