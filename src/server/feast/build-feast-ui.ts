/**
 * Bundles Feast's web UI for the browser (Bun's bundler, in memory): at `npm run build`,
 * into the executable (scripts/build.ts); from source, when `larder serve --feast-ui`
 * first serves it. The UI routes under /feast (react-router's basename is PUBLIC_URL).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { FeastUiUnavailableError } from "../../errors.ts";

export const FEAST_UI_BASE = "/feast";

const unavailable = (detail: string) =>
  new FeastUiUnavailableError(`the Feast web UI cannot be built here: ${detail}; install the dev dependencies (npm install), or use the executable, which carries it`);
export type FeastUiBundle = { js: Blob; css: Blob };

const ROOT = resolve(import.meta.dir, "../../..");

const ICONS = join(ROOT, "node_modules/@elastic/eui/es/components/icon");

/**
 * EUI loads each icon with a computed `import('./assets/' + name)`, which webpack turns
 * into chunks and Bun's bundler leaves as it is. This module (`larder:eui-icons`, imported
 * by the entry) puts every icon in EUI's cache up front instead: one bundle, no chunks.
 */
async function euiIconsModule(): Promise<string> {
  const { typeToPathMap } = (await import(join(ICONS, "icon_map.js"))) as { typeToPathMap: Record<string, string> };
  const entries = Object.entries(typeToPathMap).filter(([, file]) => existsSync(join(ICONS, "assets", `${file}.js`)));
  const imports = entries.map(([, file], i) => `import { icon as i${i} } from ${JSON.stringify(join(ICONS, "assets", `${file}.js`))};`);
  const cache = entries.map(([type], i) => `${JSON.stringify(type)}: i${i}`).join(", ");
  return `${imports.join("\n")}\nimport { appendIconComponentCache } from ${JSON.stringify(join(ICONS, "icon.js"))};\nappendIconComponentCache({ ${cache} });\n`;
}

export async function buildFeastUi(): Promise<FeastUiBundle> {
  if (!existsSync(join(ROOT, "node_modules/@feast-dev/feast-ui/package.json"))) throw unavailable("@feast-dev/feast-ui is not in node_modules");
  const icons = await euiIconsModule();
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "browser/feast-ui-entry.js")],
    target: "browser",
    minify: true,
    plugins: [
      {
        name: "larder-eui-icons",
        setup(build) {
          build.onResolve({ filter: /^larder:eui-icons$/ }, () => ({ path: "eui-icons", namespace: "larder" }));
          build.onLoad({ filter: /.*/, namespace: "larder" }, () => ({ contents: icons, loader: "js" }));
        },
      },
    ],
    // What create-react-app would set: the basename, and no separate feature server (the UI then shows Feast's default URL).
    define: { "process.env.NODE_ENV": '"production"', "process.env.PUBLIC_URL": JSON.stringify(FEAST_UI_BASE), "process.env.REACT_APP_FEAST_FEATURE_SERVER_URL": '""' },
  });
  if (!result.success) throw unavailable(result.logs.map(String).join("; "));
  const js = result.outputs.find((o) => o.kind === "entry-point");
  const css = result.outputs.find((o) => o.path.endsWith(".css"));
  if (!js || !css) throw unavailable(`the bundle has ${result.outputs.map((o) => o.path).join(", ")}`);
  return { js, css };
}
