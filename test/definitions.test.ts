/**
 * Definitions: errors name file, definition and field; nothing is applied when any
 * definition is invalid; versions ignore formatting, key order and metadata but change
 * with any semantic change.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DefinitionError } from "../src/errors.ts";
import { tempRepo, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const BASE = `
import { entity, fileSource, featureView, featureService, sql, count, mean } from "larder";
import { z } from "zod";
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const txns = fileSource({ name: "txns", path: "data/t.csv", timestampField: "ts",
  schema: z.object({ user_id: z.int(), ts: z.date(), amount: z.number() }) });
`;

async function problemsOf(files: Record<string, string>): Promise<string> {
  const repo = tempRepo(files);
  repos.push(repo);
  try {
    await repo.larder.apply();
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    expect(existsSync(join(repo.dir, "data", "registry.json"))).toBe(false);
    return (e as Error).message;
  }
  throw new Error("apply accepted invalid definitions");
}

describe("invalid definitions are reported precisely and nothing is applied", () => {
  test("zod errors carry the file, the definition and the field path", async () => {
    const msg = await problemsOf({
      "features/a.ts": `${BASE}export const v = featureView({ name: "spend", entity: user, source: txns, ttl: "3 days",
        features: { avg: { aggregate: "mean", window: "7d" }, n: count("1h", { hop: "7x" }) } });`,
    });
    expect(msg).toContain('features/a.ts "spend"');
    expect(msg).toContain('must be a duration such as "10m", "1h" or "7d"\n  → at ttl');
    expect(msg).toContain('"mean" needs "of": the column or SQL expression to aggregate\n  → at features.avg.of');
    expect(msg).toContain("→ at features.n.hop");
    expect(msg).not.toContain("    at "); // no stack trace
  });

  test("unknown entity and unknown column (DuckDB names it)", async () => {
    const msg = await problemsOf({
      "features/a.ts": `${BASE}
        const ghost = entity({ name: "ghost", joinKeys: { ghost_id: "int64" } });
        export const v = featureView({ name: "spend", entity: ghost, source: txns, features: { r: sql("amunt / 2") } });`,
    });
    expect(msg).toContain('features/a.ts "spend": ✖ unknown entity "ghost"');
    // ghost is not exported, so the view's entity is unknown; the column error needs the entity: check separately.
    const msg2 = await problemsOf({
      "features/a.ts": `${BASE}export const v = featureView({ name: "spend", entity: user, source: txns, features: { r: sql("amunt / 2"), m: mean("ts", "1d") } });`,
    });
    expect(msg2).toMatch(/"spend": ✖ .*amunt.*not found/);
    expect(msg2).toContain("→ at features.r.sql");
    expect(msg2).toContain('"ts" is TIMESTAMP; mean needs a numeric expression');
  });

  test("duplicate names across files, and a service naming a missing feature", async () => {
    const msg = await problemsOf({
      "features/a.ts": `${BASE}export const v = featureView({ name: "spend", entity: user, source: txns, features: { n: count("1d") } });
        export const s = featureService({ name: "svc", features: ["spend:n", "spend:nope", "other:x"] });`,
      "features/b.ts": `import { entity } from "larder"; export const dup = entity({ name: "user", joinKeys: { id: "string" } });`,
    });
    expect(msg).toContain('features/b.ts "user": ✖ another entity is also named "user"');
    expect(msg).not.toContain("join key"); // the view is checked against the first "user", not the duplicate
    expect(msg).toContain('"svc": ✖ feature view "spend" has no feature "nope" (it has n)');
    expect(msg).toContain('"svc": ✖ unknown feature view "other"');
  });

  test("join key missing from the source, and a file that does not load", async () => {
    const msg = await problemsOf({
      "features/a.ts": `${BASE}const acct = entity({ name: "acct", joinKeys: { acct_id: "string" } });
        export { acct }; export const v = featureView({ name: "spend", entity: acct, source: txns, features: { n: count("1d") } });`,
    });
    expect(msg).toContain('join key "acct_id" of entity "acct" is not a column of source "txns"');
    const msg2 = await problemsOf({ "features/a.ts": "export const broken = ;" });
    expect(msg2).toContain("features/a.ts: could not be loaded");
  });
});

describe("expectations in definitions", () => {
  test("unknown columns, a rule in the wrong place, a range without bounds and a bad severity are reported", async () => {
    const withView = (expectations: string, source = "") => ({
      "features/a.ts": `${BASE.replace("import { entity,", "import { between, notNull, rowCount, uniqueKeyPerTimestamp, entity,").replace(
        "amount: z.number() }) });",
        `amount: z.number() })${source} });`,
      )}export const v = featureView({ name: "spend", entity: user, source: txns, features: { r: sql("amount * 2") }, expectations: [${expectations}] });`,
    });
    // Shapes (zod), then ranges (normalizing), then columns (cross-checks): each phase reports all it finds.
    expect(await problemsOf(withView('{ rule: "notNull", column: "r", severity: "fatal" }'))).toContain(
      'features/a.ts "spend": ✖ Invalid option: expected one of "error"|"warn"\n  → at expectations[0].severity',
    );
    expect(await problemsOf(withView("rowCount({})"))).toContain('features/a.ts "spend": ✖ rowCount needs a min, a max or both\n  → at expectations[0]');
    const msg = await problemsOf(withView('between("r", { min: 0 }), between("nope", { max: 1 })', ', expectations: [notNull("amout"), uniqueKeyPerTimestamp()]'));
    expect(msg).toContain('features/a.ts "txns": ✖ notNull: no column "amout" here (columns: user_id, ts, amount)\n  → at expectations[0].column');
    expect(msg).toContain('features/a.ts "txns": ✖ uniqueKeyPerTimestamp needs an entity key: put it on a feature view\n  → at expectations[1]');
    expect(msg).toContain('features/a.ts "spend": ✖ between: no column "nope" here (source columns and sql features: user_id, ts, amount, r)\n  → at expectations[1].column');
  });
});

describe("versions", () => {
  const view = (features: string, extra = "") => `${BASE}export const v = featureView({ name: "spend", entity: user, source: txns, ${extra} features: { ${features} } });`;

  test("formatting, key order and metadata keep the version; semantics change it", async () => {
    const repo = tempRepo({ "features/a.ts": view(`n: count("1d"), avg: mean("amount", "7d")`) });
    repos.push(repo);
    const first = (await repo.larder.apply()).versions.spend!;
    repo.write("features/a.ts", view(`avg:   mean("amount","7d"),\n\n n: { window: "1d", aggregate: "count" }`, `description: "now documented", tags: { t: "x" }, owner: "me",`));
    const second = await repo.larder.plan();
    expect(second.plan.versions.spend).toBe(first);
    const change = second.plan.changes.find((c) => c.name === "spend")!;
    expect(change.fields).toContain('description: "" → "now documented"');
    repo.write("features/a.ts", view(`n: count("1d"), avg: mean("amount", "7d", { hop: "2h" })`));
    expect((await repo.larder.plan()).plan.versions.spend).not.toBe(first);
    repo.write("features/a.ts", view(`n: count("1d"), avg: mean("amount", "7d")`, `ttl: "1d",`));
    expect((await repo.larder.plan()).plan.versions.spend).not.toBe(first);
    repo.write("features/a.ts", view(`n: count("1d"), avg: mean("amount", "7d")`));
    expect((await repo.larder.plan()).plan).toEqual({ changes: [], versions: { spend: first } });
  });

  test("apply keeps every version in the registry", async () => {
    const repo = tempRepo({ "features/a.ts": view(`n: count("1d")`) });
    repos.push(repo);
    await repo.larder.apply();
    repo.write("features/a.ts", view(`n: count("2d")`));
    await repo.larder.apply();
    repo.write("features/a.ts", view(`n: count("1d")`));
    const plan = await repo.larder.apply();
    const entry = repo.larder.registry().data.views.spend!;
    expect(entry.versions.map((v) => v.version)).toEqual([plan.changes[0]!.oldVersion!, entry.current]);
    expect(entry.versions).toHaveLength(2);
  });
});
