/**
 * Builds the single executable: `bun scripts/build.ts [target ...|all]`.
 *   linux-x64 (default) → dist/larder; any other target → dist/larder-<target>[.exe].
 * Targets: linux-x64, linux-arm64, darwin-arm64, darwin-x64, windows-x64. A target needs
 * its DuckDB and LMDB native packages in node_modules (npm installs only the host's);
 * a target whose packages are missing is named with the command that adds them.
 */
import { mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { nativeEmbedPlugin, nativePackages, TARGETS, type Target } from "./native-embed-plugin.ts";
import { buildFeastUi } from "../src/server/feast/build-feast-ui.ts";
import { feastUiEmbedPlugin } from "./feast-ui-embed-plugin.ts";

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const all = args.includes("all");
const requested = (all ? Object.keys(TARGETS) : args.length ? args : ["linux-x64"]) as Target[];
for (const t of requested) {
  if (!(t in TARGETS)) {
    console.error(`build: unknown target "${t}"; known: ${Object.keys(TARGETS).join(", ")}, all`);
    process.exit(2);
  }
}

mkdirSync(join(root, "dist"), { recursive: true });
// Feast's web UI (served by `larder serve --feast-ui`): bundled once, embedded in every target.
const feastUiDir = join(root, "dist", ".feast-ui");
mkdirSync(feastUiDir, { recursive: true });
const feastUi = await buildFeastUi();
await Bun.write(join(feastUiDir, "feast-ui.js"), feastUi.js);
await Bun.write(join(feastUiDir, "feast-ui.css"), feastUi.css);
const cannot: string[] = [];
for (const target of requested) {
  const natives = nativePackages(root, target);
  if ("missing" in natives) {
    cannot.push(
      `${target}: ${natives.missing.map((m) => m.name).join(" and ")} ${natives.missing.length > 1 ? "are" : "is"} not installed; add with\n    npm install --no-save --force ${natives.missing.map((m) => `${m.name}@${m.version}`).join(" ")}`,
    );
    continue;
  }
  const outfile = join(root, "dist", target === "linux-x64" ? "larder" : `larder-${target}${target.startsWith("windows") ? ".exe" : ""}`);
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    compile: { target: TARGETS[target].bun, outfile },
    minify: true,
    sourcemap: "none",
    plugins: [nativeEmbedPlugin(root, natives), feastUiEmbedPlugin(feastUiDir)],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    cannot.push(`${target}: the build failed (above)`);
    continue;
  }
  const mb = (statSync(outfile).size / 1e6).toFixed(0);
  console.log(`${target}: ${outfile} (${mb} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
if (cannot.length) {
  console.error(`cannot build:\n  ${cannot.join("\n  ")}`);
  // Asking for all builds what it can; a target asked for by name must be built.
  if (!all) process.exit(1);
}
