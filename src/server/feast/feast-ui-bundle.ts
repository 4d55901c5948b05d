/** Feast's web UI bundle: the one embedded in the executable, or built once from node_modules. */
import { buildFeastUi, type FeastUiBundle } from "./build-feast-ui.ts";
import { EMBEDDED_FEAST_UI } from "./feast-ui-embedded.ts";

let bundle: Promise<FeastUiBundle> | undefined;

export function feastUiBundle(): Promise<FeastUiBundle> {
  bundle ??= EMBEDDED_FEAST_UI ? Promise.resolve({ js: Bun.file(EMBEDDED_FEAST_UI.js), css: Bun.file(EMBEDDED_FEAST_UI.css) }) : buildFeastUi();
  // A failed build is tried again next time (the dependencies may have been installed since).
  bundle.catch(() => (bundle = undefined));
  return bundle;
}
