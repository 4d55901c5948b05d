/**
 * Feast's client turns Larder's refusals on Feast's routes back into Feast's own typed
 * exceptions: each body is decoded by `feast.errors.FeastError.from_error_detail` from the
 * Feast package on PyPI (in .venvs/feast, made by .ci/run), unchanged.
 */
import { afterAll, expect, test } from "bun:test";
import { createApp } from "../src/server/app.ts";
import { FEAST_PYTHON, SKIP } from "./helpers/needs.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./helpers/push-scenario.ts";
import { randomEvents } from "./helpers/random-scenario.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const r = tempRepo({ "features/stats.ts": PUSH_FEATURES_TS, "data/events.csv": pushCsv(randomEvents(7, 50)) });
afterAll(() => r.cleanup());

/** What Feast's client raises for an answer: the exception's class, whether it is Feast's "not found" kind, its message. */
function feastClientSees(body: unknown): { class: string; notFound: boolean; message: string } {
  const script = `
import json, sys
from feast.errors import FeastError, FeastObjectNotFoundException
e = FeastError.from_error_detail(json.loads(sys.stdin.read()))
print(json.dumps({"class": type(e).__name__, "notFound": isinstance(e, FeastObjectNotFoundException), "message": str(e)}))
`;
  const p = Bun.spawnSync([FEAST_PYTHON!, "-c", script], { stdin: Buffer.from(JSON.stringify(body)) });
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
  return JSON.parse(p.stdout.toString());
}

test.skipIf(SKIP.feast)(
  "missing views, services and push sources come back as Feast's exception classes, with Feast's statuses",
  async () => {
    if (!FEAST_PYTHON) throw new Error("Feast is not installed: CI must make .venvs/feast (python3 -m venv .venvs/feast && .venvs/feast/bin/pip install feast)");
    await r.larder.apply();
    const app = createApp(r.larder, () => {});
    const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

    const view = await post("/get-online-features", { features: ["no_such_view:x"], entities: { user_id: [1] } });
    expect(view.status).toBe(404);
    expect(feastClientSees(await view.json())).toEqual({ class: "FeatureViewNotFoundException", notFound: true, message: 'feature view "no_such_view" not found' });

    const service = await post("/get-online-features", { feature_service: "no_such_service", entities: { user_id: [1] } });
    expect(service.status).toBe(404);
    expect(feastClientSees(await service.json())).toEqual({ class: "FeatureServiceNotFoundException", notFound: true, message: 'feature service "no_such_service" not found' });

    const push = await post("/push", { push_source_name: "no_such_source", df: { user_id: [1] } });
    expect(push.status).toBe(422);
    expect(feastClientSees(await push.json())).toEqual({ class: "PushSourceNotFoundException", notFound: false, message: 'push source "no_such_source" not found' });

    // Bad input that names nothing missing stays FastAPI's { detail }, 422.
    const bad = await post("/get-online-features", { features: ["user_stats:mean_7d"], entities: { nobody: [1] } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: string }).detail).toBe(
      'entities: no join key of the features asked for (user_id); "nobody" is neither a join key, an entity name nor request data',
    );
  },
  // Each decoding starts Python and imports Feast (a few seconds).
  90_000,
);
