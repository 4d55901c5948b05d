/**
 * The build plugin that puts native DuckDB and LMDB inside the executable (decision 0001):
 * - `@duckdb/node-bindings` (which picks a platform package at run time) becomes a module
 *   that embeds the target's duckdb.node and its shared library as files and loads them
 *   through src/native/embedded-addon.ts;
 * - lmdb's addon loader (a package search a compiled binary cannot do) becomes the same,
 *   for the target's LMDB addon.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BunPlugin } from "bun";

export const TARGETS = {
  "linux-x64": { bun: "bun-linux-x64", duckdb: "@duckdb/node-bindings-linux-x64", lmdb: "@lmdb/lmdb-linux-x64", lmdbAddon: "node.napi.glibc.node" },
  "linux-arm64": { bun: "bun-linux-arm64", duckdb: "@duckdb/node-bindings-linux-arm64", lmdb: "@lmdb/lmdb-linux-arm64", lmdbAddon: "node.napi.glibc.node" },
  "darwin-arm64": { bun: "bun-darwin-arm64", duckdb: "@duckdb/node-bindings-darwin-arm64", lmdb: "@lmdb/lmdb-darwin-arm64", lmdbAddon: "node.napi.node" },
  "darwin-x64": { bun: "bun-darwin-x64", duckdb: "@duckdb/node-bindings-darwin-x64", lmdb: "@lmdb/lmdb-darwin-x64", lmdbAddon: "node.napi.node" },
  "windows-x64": { bun: "bun-windows-x64", duckdb: "@duckdb/node-bindings-win32-x64", lmdb: "@lmdb/lmdb-win32-x64", lmdbAddon: "node.napi.node" },
} as const;
export type Target = keyof typeof TARGETS;

type NativePackage = { name: string; version: string; dir: string; files: string[]; addon: string };
export type NativePackages = { target: Target; duckdb: NativePackage; lmdb: NativePackage };

const version = (root: string, pkg: string) => (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

/** The target's native packages, or which of them are not installed (with the versions to install). */
export function nativePackages(root: string, target: Target): NativePackages | { missing: { name: string; version: string }[] } {
  const t = TARGETS[target];
  const wanted = [
    { name: t.duckdb, version: version(root, "@duckdb/node-bindings"), addon: "duckdb.node" },
    { name: t.lmdb, version: version(root, "lmdb"), addon: t.lmdbAddon },
  ];
  const missing = wanted.filter((w) => !existsSync(join(root, "node_modules", w.name, w.addon)));
  if (missing.length) return { missing: missing.map(({ name, version }) => ({ name, version })) };
  const [duckdb, lmdb] = wanted.map((w) => {
    const dir = join(root, "node_modules", w.name);
    // DuckDB: the addon and the shared library it links (libduckdb.so / .dylib / duckdb.dll).
    // LMDB: the one addon for this platform (the package also has other ABIs' builds).
    const files = w.name === t.lmdb ? [w.addon] : readdirSync(dir).filter((f) => /\.(node|so|dylib|dll)$/.test(f));
    return { ...w, dir, files, version: version(root, w.name) };
  });
  return { target, duckdb: duckdb!, lmdb: lmdb! };
}

/** Source of a module that embeds a package's native files and exports them as EmbeddedFile[]. */
function filesModule(pkg: NativePackage): string {
  const imports = pkg.files.map((f, i) => `import f${i} from ${JSON.stringify(join(pkg.dir, f))} with { type: "file" };`);
  const list = pkg.files.map((f, i) => `{ path: f${i}, name: ${JSON.stringify(f)} }`).join(", ");
  return `${imports.join("\n")}\nexport const files = [${list}];\n`;
}

export function nativeEmbedPlugin(root: string, natives: NativePackages): BunPlugin {
  const loader = JSON.stringify(join(root, "src/native/embedded-addon.ts"));
  const key = (pkg: NativePackage) => JSON.stringify(`${pkg.name.replace(/^@[^/]+\//, "")}-${pkg.version}`);
  return {
    name: "larder-native-embed",
    setup(build) {
      build.onResolve({ filter: /^larder-native:/ }, (args) => ({ path: args.path.slice("larder-native:".length), namespace: "larder-native" }));
      build.onLoad({ filter: /.*/, namespace: "larder-native" }, (args) => {
        if (args.path === "duckdb-files") return { contents: filesModule(natives.duckdb), loader: "js" };
        if (args.path === "lmdb-files") return { contents: filesModule(natives.lmdb), loader: "js" };
        if (args.path === "lmdb-loader") {
          // Stands in for node-gyp-build-optional-packages inside lmdb/native.js.
          return {
            contents: `import { files } from "larder-native:lmdb-files";\nimport { loadEmbeddedAddon } from ${loader};\nexport default function loadNAPI() { return loadEmbeddedAddon({ key: ${key(natives.lmdb)}, files, addon: ${JSON.stringify(natives.lmdb.addon)} }); }\n`,
            loader: "js",
          };
        }
        throw new Error(`unknown larder-native module ${args.path}`);
      });
      // @duckdb/node-bindings' entry is CommonJS required by @duckdb/node-api: stay CommonJS.
      build.onLoad({ filter: /[\\/]@duckdb[\\/]node-bindings[\\/]duckdb\.js$/ }, () => ({
        contents: `const { files } = require("larder-native:duckdb-files");\nconst { loadEmbeddedAddon } = require(${loader});\nmodule.exports = loadEmbeddedAddon({ key: ${key(natives.duckdb)}, files, addon: "duckdb.node" });\n`,
        loader: "js",
      }));
      build.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (args) =>
        /[\\/]lmdb[\\/]/.test(args.importer) ? { path: "lmdb-loader", namespace: "larder-native" } : undefined,
      );
    },
  };
}
