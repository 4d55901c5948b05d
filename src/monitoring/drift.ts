/**
 * Drift per feature: the values served now against a reference, as PSI and KS, judged by
 * the view's thresholds (`drift: { psi, ks }`, default 0.25 and 0.2).
 * - reference: a training set's profile (`reference`: its historical run id), or else the
 *   first materialization profile of the version being served (what it looked like then);
 * - current: the values lookups served here (sampled), when there are at least MIN_SERVED,
 *   or else the latest materialization's profile.
 */
import { firstViewProfile, latestViewProfile, type FeatureProfile } from "./feature-profile.ts";
import type { Registry } from "../registry/registry.ts";
import type { FileStore } from "../storage/file-store.ts";
import { BadRequestError, NotFoundError } from "../errors.ts";
import { DRIFT_DEFAULTS } from "../definitions/load-definitions.ts";
import { categoricalPsi, ksStatistic, numericPsi } from "./drift-math.ts";
import type { ServedSample } from "./served-sample.ts";
import { loadTrainingProfile, type TrainingProfile } from "./training-profile.ts";

const MIN_SERVED = 200;

export type FeatureDrift = {
  view: string;
  feature: string;
  kind: "numeric" | "categorical";
  reference: { source: string; at: string; values: number };
  current: { source: "served" | "materialization"; at: string | null; values: number };
  psi: number | null;
  ks: number | null;
  thresholds: { psi: number; ks: number };
  drifting: boolean;
};

type Reference = { source: string; at: string; features: Map<string, FeatureProfile> };

const counts = (values: readonly (number | string)[]) => {
  const m = new Map<string, number>();
  for (const v of values) m.set(String(v), (m.get(String(v)) ?? 0) + 1);
  return m;
};

export async function driftReport(registry: Registry, files: FileStore, served: ServedSample | null, opts: { views?: string[]; reference?: string } = {}): Promise<FeatureDrift[]> {
  let training: TrainingProfile | null = null;
  if (opts.reference !== undefined) {
    if (!/^[0-9TZ]+-[0-9a-f]+$/.test(opts.reference))
      throw new BadRequestError(
        `reference "${opts.reference.slice(0, 80)}" is not a run id: give the id of the historical run that wrote the training set (larder runs --kind historical)`,
      );
    training = await loadTrainingProfile(files, opts.reference);
    if (!training) throw new NotFoundError(`no training-set profile for run "${opts.reference}": only training sets written with --out have one`);
  }
  const out: FeatureDrift[] = [];
  for (const name of opts.views ?? registry.viewNames()) {
    const v = registry.view(name);
    if (!v.def.online) continue;
    let reference: Reference | null = null;
    if (training) {
      reference = {
        source: `training set of run ${training.runId}`,
        at: training.at,
        features: new Map(training.features.filter((f) => f.view === name).map((f) => [f.feature, f])),
      };
    } else {
      const first = await firstViewProfile(files, name, v.version);
      if (first) reference = { source: `first materialization of @${v.version} (run ${first.runId})`, at: first.at, features: new Map(first.features.map((f) => [f.feature, f])) };
    }
    if (!reference) continue;
    const latest = await latestViewProfile(files, name, v.version);
    const thresholds = v.def.drift ?? DRIFT_DEFAULTS;
    for (const [feature, ref] of reference.features) {
      const servedValues = served?.values(name, feature) ?? [];
      const fromServed = servedValues.length >= MIN_SERVED;
      const now = latest?.features.find((f) => f.feature === feature);
      if (!fromServed && !now) continue;
      const current = { source: fromServed ? ("served" as const) : ("materialization" as const), at: fromServed ? null : latest!.at, values: 0 };
      let psi: number | null = null,
        ks: number | null = null;
      if (ref.kind === "numeric") {
        // Profiles saved before samples were kept have none: nothing to compare then.
        const cur = fromServed ? servedValues.filter((x): x is number => typeof x === "number") : now?.kind === "numeric" ? (now.sample ?? []) : [];
        current.values = cur.length;
        if (ref.sample?.length && cur.length) {
          psi = numericPsi(ref.sample, cur);
          ks = ksStatistic(ref.sample, cur);
        }
      } else {
        const cur = fromServed ? counts(servedValues) : new Map(now?.kind === "categorical" ? now.top.map((t) => [t.value, t.count]) : []);
        current.values = [...cur.values()].reduce((a, b) => a + b, 0);
        if (ref.top.length && current.values) psi = categoricalPsi(new Map(ref.top.map((t) => [t.value, t.count])), cur);
      }
      out.push({
        view: name,
        feature,
        kind: ref.kind,
        current,
        psi,
        ks,
        thresholds,
        reference: { source: reference.source, at: reference.at, values: ref.kind === "numeric" ? (ref.sample?.length ?? 0) : ref.top.reduce((a, t) => a + t.count, 0) },
        drifting: (psi !== null && psi > thresholds.psi) || (ks !== null && ks > thresholds.ks),
      });
    }
  }
  return out;
}
