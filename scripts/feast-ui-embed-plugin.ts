/**
 * The build plugin that puts Feast's web UI bundle inside the executable: the module
 * src/server/feast/feast-ui-embedded.ts (null from source) becomes one that embeds the
 * bundle's two files and exports their paths in the executable.
 */
import { join } from "node:path";
import type { BunPlugin } from "bun";

export function feastUiEmbedPlugin(bundleDir: string): BunPlugin {
  const file = (name: string) => JSON.stringify(join(bundleDir, name));
  return {
    name: "larder-feast-ui-embed",
    setup(build) {
      build.onLoad({ filter: /[\\/]server[\\/]feast[\\/]feast-ui-embedded\.ts$/ }, () => ({
        contents: `import js from ${file("feast-ui.js")} with { type: "file" };\nimport css from ${file("feast-ui.css")} with { type: "file" };\nexport const EMBEDDED_FEAST_UI = { js, css };\n`,
        loader: "js",
      }));
    },
  };
}
