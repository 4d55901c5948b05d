/**
 * Cross-checks between definitions, and every SQL expression against its source's
 * declared columns (DuckDB answers; no data needs to exist yet). Fills in each
 * expression's type and expands "view:*" in services. Throws one DefinitionError with
 * every problem found.
 */
import { DefinitionError, type DefinitionProblem } from "../errors.ts";
import type { Duck } from "../offline/duckdb.ts";
import { emptySourceSql } from "../offline/source-sql.ts";
import { parseSchedule, scheduleOf } from "./schedule.ts";
import type { Definitions, ExpectationDef, FeatureViewDef } from "./types.ts";

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN)$/;
const KEY_COLUMN_TYPE = { int64: "int64", string: "string" } as const;

export async function checkDefinitions(defs: Definitions, duck: Duck, files: Map<string, string> = new Map()): Promise<Definitions> {
  const problems: DefinitionProblem[] = [];
  const at = (kind: string, name: string) => ({ file: files.get(`${kind}:${name}`), definition: name });

  // Sources and push sources share one namespace: a view names either.
  // Views and on-demand views share one namespace: a "view:feature" reference names either.
  for (const [kind, list] of [
    ["entity", defs.entities],
    ["source", [...defs.sources, ...defs.pushSources]],
    ["featureView", [...defs.views, ...defs.onDemandViews]],
    ["featureService", defs.services],
  ] as const) {
    const seen = new Set<string>();
    for (const d of list) {
      if (seen.has(d.name)) problems.push({ ...at(kind, d.name), message: `✖ another ${kind} is also named "${d.name}"; names must be unique` });
      seen.add(d.name);
    }
  }
  // With duplicates, the first definition stands (the others are already reported).
  const firstByName = <T extends { name: string }>(list: T[]) => {
    const m = new Map<string, T>();
    for (const d of list) if (!m.has(d.name)) m.set(d.name, d);
    return m;
  };
  const entities = firstByName(defs.entities);
  const sources = firstByName(defs.sources);

  for (const p of defs.pushSources) {
    const fail = (message: string, path: string) => problems.push({ ...at("pushSource", p.name), message: `✖ ${message}\n  → at ${path}` });
    const batch = sources.get(p.batchSource);
    if (!batch) fail(`unknown source "${p.batchSource}": export it from a file in features/`, "batchSource");
    else if (p.eventIdField !== null && !batch.schema.some((c) => c.name === p.eventIdField)) {
      fail(`eventIdField "${p.eventIdField}" is not a column of source "${batch.name}" (it has ${batch.schema.map((c) => c.name).join(", ")})`, "eventIdField");
    }
  }
  const pushSources = firstByName(defs.pushSources);

  for (const src of defs.sources) {
    const columns = src.schema.map((c) => c.name);
    checkExpectationColumns(src.expectations, columns, (message, path) => problems.push({ ...at("source", src.name), message: `✖ ${message}\n  → at ${path}` }), false);
  }

  const views: FeatureViewDef[] = [];
  for (const v of defs.views) {
    const fail = (message: string, path: string) => problems.push({ ...at("featureView", v.name), message: `✖ ${message}\n  → at ${path}` });
    const entity = entities.get(v.entity);
    // A view over a push source computes from its batch source's columns.
    const source = sources.get(pushSources.get(v.source)?.batchSource ?? v.source);
    if (!entity) fail(`unknown entity "${v.entity}": export it from a file in features/`, "entity");
    if (!source) fail(`unknown source "${v.source}": export it from a file in features/`, "source");
    if (!entity || !source) continue;
    for (const k of entity.joinKeys) {
      const col = source.schema.find((c) => c.name === k.name);
      if (!col) fail(`join key "${k.name}" of entity "${entity.name}" is not a column of source "${source.name}"`, "entity");
      else if (col.type !== KEY_COLUMN_TYPE[k.type]) fail(`join key "${k.name}" is ${k.type} in entity "${entity.name}" but ${col.type} in source "${source.name}"`, "entity");
    }
    const empty = emptySourceSql(source);
    const features = [];
    for (const f of v.features) {
      if (f.name.startsWith("__")) fail(`feature names starting with "__" are reserved`, `features.${f.name}`);
      if (entity.joinKeys.some((k) => k.name === f.name)) fail(`feature "${f.name}" has the name of a join key`, `features.${f.name}`);
      const expr = f.kind === "expression" ? f.sql : f.of;
      if (expr === null) {
        features.push(f);
        continue;
      }
      try {
        const [col] = await duck.describe(`SELECT (${expr}) AS x FROM (${empty})`);
        if (f.kind === "aggregation" && !NUMERIC.test(col!.type)) {
          fail(`"${expr}" is ${col!.type}; ${f.function} needs a numeric expression`, `features.${f.name}.of`);
        }
        features.push(f.kind === "expression" ? { ...f, type: col!.type } : f);
      } catch (err) {
        fail(`${(err as Error).message} (in ${f.kind === "expression" ? "sql" : "of"}: ${expr})`, `features.${f.name}.${f.kind === "expression" ? "sql" : "of"}`);
      }
    }
    const schedule = scheduleOf(v.schedule);
    if (schedule) {
      const parsed = parseSchedule(schedule);
      if ("problem" in parsed)
        fail(`schedule ${JSON.stringify(schedule.cron)}${schedule.timezone ? ` in ${schedule.timezone}` : ""} is not a cron schedule: ${parsed.problem}`, "schedule");
    }
    const columns = [...source.schema.map((c) => c.name), ...v.features.filter((f) => f.kind === "expression").map((f) => f.name)];
    checkExpectationColumns(v.expectations, columns, fail, true);
    views.push({ ...v, features });
  }

  for (const o of defs.onDemandViews) {
    const fail = (message: string, path: string) => problems.push({ ...at("onDemandView", o.name), message: `✖ ${message}\n  → at ${path}` });
    const seen = new Map<string, string>();
    for (const c of o.request) seen.set(c.name, "the request");
    for (const name of o.inputs) {
      const v = views.find((x) => x.name === name);
      if (!v) {
        fail(`unknown feature view "${name}": export it from a file in features/`, "inputs");
        continue;
      }
      for (const f of v.features) {
        if (seen.has(f.name)) fail(`"${f.name}" comes from both ${seen.get(f.name)} and feature view "${name}": compute would see one of them`, "inputs");
        seen.set(f.name, `feature view "${name}"`);
      }
    }
    if (o.output.length === 0) fail("an on-demand feature view needs at least one output field", "output");
  }

  const viewByName = new Map<string, { name: string; features: { name: string }[] }>([
    ...views.map((v) => [v.name, v] as const),
    ...defs.onDemandViews.map((o) => [o.name, { name: o.name, features: o.output }] as const),
  ]);
  const services = defs.services.map((s) => {
    const refs = s.features.flatMap((r) => {
      const view = viewByName.get(r.view);
      if (!view) {
        if (!defs.views.some((v) => v.name === r.view) && !defs.onDemandViews.some((v) => v.name === r.view))
          problems.push({ ...at("featureService", s.name), message: `✖ unknown feature view "${r.view}"\n  → at features` });
        return [];
      }
      if (r.feature === "*") return view.features.map((f) => ({ view: view.name, feature: f.name }));
      if (!view.features.some((f) => f.name === r.feature)) {
        problems.push({
          ...at("featureService", s.name),
          message: `✖ feature view "${r.view}" has no feature "${r.feature}" (it has ${view.features.map((f) => f.name).join(", ")})\n  → at features`,
        });
      }
      return [r];
    });
    const unique = [...new Map(refs.map((r) => [`${r.view}:${r.feature}`, r])).values()];
    return { ...s, features: unique };
  });

  if (problems.length) throw new DefinitionError(problems);
  return { entities: defs.entities, sources: defs.sources, pushSources: defs.pushSources, views, onDemandViews: defs.onDemandViews, services };
}

/** Every column an expectation names must be one the checked rows have. */
function checkExpectationColumns(list: ExpectationDef[], columns: string[], fail: (message: string, path: string) => void, isView: boolean) {
  list.forEach((e, i) => {
    if (e.rule === "uniqueKeyPerTimestamp" && !isView) fail("uniqueKeyPerTimestamp needs an entity key: put it on a feature view", `expectations[${i}]`);
    if ("column" in e && !columns.includes(e.column)) {
      fail(`${e.rule}: no column "${e.column}" here (${isView ? "source columns and sql features" : "columns"}: ${columns.join(", ")})`, `expectations[${i}].column`);
    }
  });
}
