/**
 * Feast's web UI on Larder's registry (`larder serve --feast-ui`): the page at /feast (every
 * path under it is the UI's own route), its bundle, `projects-list.json` (the one project,
 * whose registry is /api/v1), and the registry routes it loads (feast-registry-routes.ts).
 */
import { Hono } from "hono";
import type { Larder } from "../../larder.ts";
import { FEAST_UI_BASE } from "./build-feast-ui.ts";
import { feastUiBundle } from "./feast-ui-bundle.ts";
import { feastProjectName, feastRegistryRoutes } from "./feast-registry-routes.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feast UI · Larder</title>
<link rel="stylesheet" href="${FEAST_UI_BASE}/assets/feast-ui.css">
</head>
<body>
<div id="root"></div>
<script type="module" src="${FEAST_UI_BASE}/assets/feast-ui.js"></script>
</body>
</html>
`;

export function feastUiRoutes(larder: Larder) {
  const projectsList = () => ({
    projects: [{ name: feastProjectName(larder.config.repoDir), description: "A Larder feature repo", id: feastProjectName(larder.config.repoDir), registryPath: "/api/v1" }],
  });
  const page = () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  return (
    new Hono()
      .route("/api/v1", feastRegistryRoutes(larder))
      .get("/projects-list.json", (c) => c.json(projectsList()))
      // What Feast's UI server answers with no MLflow configured.
      .get("/api/mlflow-feature-usage", (c) => c.json({ feature_usage: {}, mlflow_enabled: false }))
      .get("/api/mlflow-feature-models", (c) => c.json({ feature_models: {} }))
      .get(`${FEAST_UI_BASE}/projects-list.json`, (c) => c.json(projectsList()))
      .get(
        `${FEAST_UI_BASE}/assets/feast-ui.js`,
        async () => new Response((await feastUiBundle()).js, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=300" } }),
      )
      .get(
        `${FEAST_UI_BASE}/assets/feast-ui.css`,
        async () => new Response((await feastUiBundle()).css, { headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" } }),
      )
      .get(FEAST_UI_BASE, page)
      .get(`${FEAST_UI_BASE}/*`, page)
  );
}
