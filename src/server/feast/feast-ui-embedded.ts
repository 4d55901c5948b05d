/**
 * Feast's web UI inside the executable: scripts/build.ts replaces this module with one that
 * embeds the bundle's files (`with { type: "file" }`). From source there is none, and
 * feast-ui-bundle.ts builds it.
 */
export const EMBEDDED_FEAST_UI: { js: string; css: string } | null = null;
