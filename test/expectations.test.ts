/**
 * Expectations gate every write: a batch failing an `error` expectation writes nothing
 * online or offline, its failing rows are quarantined with the reason per row, and the
 * message names the view or source, the feature or column, the rule and failing values.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExpectationFailedError } from "../src/errors.ts";
import { getOnlineFeatures } from "../src/online/online-features.ts";
import { createApp } from "../src/server/app.ts";
import { tempRepo, toCsv, type TempRepo } from "./helpers/temp-repo.ts";

const repos: TempRepo[] = [];
afterAll(async () => {
  for (const r of repos) await r.cleanup();
});

const FEATURES = `
import { entity, fileSource, pushSource, featureView, featureService, sql, count, sum, between, allowedValues, maxNullFraction, rowCount, meanBetween, psi, uniqueKeyPerTimestamp } from "larder";
import { z } from "zod";
export const user = entity({ name: "user", joinKeys: { user_id: "int64" } });
export const tx = fileSource({
  name: "tx", path: "tx.csv", timestampField: "ts",
  schema: z.object({ user_id: z.int(), ts: z.date(), amount: z.number(), balance: z.number().nullable(), channel: z.string(), event_id: z.string() }),
  expectations: [between("amount", { min: 0 }), allowedValues("channel", ["web", "pos"]), maxNullFraction("balance", 0.5), rowCount({ min: 3 })],
});
export const txPush = pushSource({ name: "tx_push", batchSource: tx, eventIdField: "event_id" });
export const spend = featureView({
  name: "spend", entity: user, source: txPush, ttl: "30d",
  features: { ratio: sql("amount / (balance + 1)"), n_7d: count("7d"), total_7d: sum("amount", "7d") },
  expectations: [between("ratio", { max: 10 }), uniqueKeyPerTimestamp({ severity: "warn" }), meanBetween("amount", { max: 1000 }, { severity: "warn" }), psi("amount", { max: 0.25, bins: 4 })],
});
export const svc = featureService({ name: "svc", features: [spend] });
`;

const T = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
type Tx = { user_id: number | string; ts: string; amount: number | string | null; balance: number | null; channel: string; event_id: string };
const row = (i: number, over: Partial<Tx> = {}): Tx => ({
  user_id: (i % 4) + 1,
  ts: new Date(T + i * HOUR).toISOString(),
  amount: 10 + (i % 7) * 5,
  balance: 100 + i,
  channel: i % 2 ? "web" : "pos",
  event_id: `e${i}`,
  ...over,
});
const csv = (rows: Tx[]) => toCsv(["user_id", "ts", "amount", "balance", "channel", "event_id"], rows);
const good = Array.from({ length: 40 }, (_, i) => row(i));

function repo(rows: Tx[]): TempRepo {
  const r = tempRepo({ "features/f.ts": FEATURES, "tx.csv": csv(rows) });
  repos.push(r);
  return r;
}

const lookup = async (r: TempRepo) => {
  const reg = r.larder.registry();
  return (await getOnlineFeatures(reg, r.larder.store(), { refs: reg.service("svc").features, entities: { user_id: [1, 2, 3, 4] }, at: T + 40 * HOUR }, 10)).results.map(
    (x) => x.values,
  );
};

describe("expectations", () => {
  test("a clean batch passes, records its checks, and makes the PSI reference", async () => {
    const r = repo(good);
    await r.larder.apply();
    const [m] = await r.larder.materialize({ end: T + 40 * HOUR });
    expect(m!.events).toBe(40);
    const [v] = await r.larder.validate();
    expect(v!.report.passed).toBe(true);
    expect(v!.report.checks.map((c) => `${c.passed ? "ok" : "FAIL"} ${c.rule}`)).toEqual([
      "ok schema types",
      "ok between(amount, min 0)",
      `ok allowedValues(channel, ["web", "pos"])`,
      "ok between(ratio, max 10)",
      "ok uniqueKeyPerTimestamp()",
      "ok maxNullFraction(balance, 0.5)",
      "ok rowCount(min 3)",
      "ok meanBetween(amount, max 1000)",
      "ok psi(amount, max 0.25)",
    ]);
    expect(existsSync(join(r.dir, "data", "references", "view-spend", "amount.json"))).toBe(true);
  });

  test("a bad batch writes nothing online or offline; its failing rows are quarantined with reasons", async () => {
    const r = repo(good);
    await r.larder.apply();
    await r.larder.materialize({ end: T + 40 * HOUR });
    const before = await lookup(r);
    const tableDir = join(r.dir, "data", "offline", "spend");
    const tablesBefore = readdirSync(tableDir, { recursive: true }).sort();

    // Three bad rows among good ones: a negative amount, an unknown channel, a type error;
    // and a ratio above 10 (balance 0).
    const bad = [...good.slice(0, 30), row(30, { amount: -5 }), row(31, { channel: "phone" }), row(32, { amount: "lots" }), row(33, { balance: 0, amount: 50 }), ...good.slice(34)];
    r.write("tx.csv", csv(bad));
    const err = await r.larder.materialize({ end: T + 41 * HOUR }).catch((e) => e);
    expect(err).toBeInstanceOf(ExpectationFailedError);
    const message = (err as Error).message;
    expect(message).toStartWith('feature view "spend" (source "tx"): 4 expectations failed; nothing was written');
    expect(message).toContain('✖ source "tx": schema types failed for 1 of 40 rows ("amount: lots is not a float64")');
    expect(message).toContain('✖ source "tx" column "amount": between(amount, min 0) failed for 1 of 40 rows (values: "-5.0")');
    expect(message).toContain('✖ source "tx" column "channel": allowedValues(channel, ["web", "pos"]) failed for 1 of 40 rows (values: "phone")');
    expect(message).toContain('✖ view "spend" feature "ratio": between(ratio, max 10) failed for 1 of 40 rows (values: "50.0")');
    // Nothing changed: the same values served, the same offline files.
    expect(await lookup(r)).toEqual(before);
    expect(readdirSync(tableDir, { recursive: true }).sort()).toEqual(tablesBefore);
    await expect(r.larder.historical({ labelsPath: join(r.dir, "tx.csv"), refs: r.larder.registry().service("svc").features, timestampColumn: "ts" })).rejects.toThrow(
      ExpectationFailedError,
    );

    const quarantined = message.match(/failing rows, with the reason per row: (\S+)/)![1]!;
    expect(quarantined).toStartWith(resolve(r.dir, "data", "quarantine", "spend"));
    const rows = await (await r.larder.duck()).all(`SELECT event_id, __reason FROM read_parquet('${quarantined}') ORDER BY event_id`);
    expect(rows).toEqual([
      { event_id: "e30", __reason: 'source "tx": between(amount, min 0)' },
      { event_id: "e31", __reason: 'source "tx": allowedValues(channel, ["web", "pos"])' },
      { event_id: "e32", __reason: 'source "tx": schema types' },
      { event_id: "e33", __reason: 'view "spend": between(ratio, max 10)' },
    ]);
  });

  test("warnings are recorded and write; batch rules judge the whole batch", async () => {
    // The same user twice at one instant (warn), a mean over 1000 (warn): written anyway.
    const r = repo([...good.slice(0, 10), row(10, { ts: good[9]!.ts, user_id: good[9]!.user_id, amount: 50_000, balance: 100_000 })]);
    await r.larder.apply();
    const [m] = await r.larder.materialize({ end: T + 40 * HOUR });
    expect(m!.events).toBe(11);
    const [v] = await r.larder.validate();
    const failed = v!.report.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.message}`);
    expect(failed).toHaveLength(2);
    expect(failed[0]).toBe('warn view "spend": uniqueKeyPerTimestamp() failed for 2 of 11 rows');
    // The mean of the ten amounts (220 in all) and 50 000.
    expect(failed[1]).toMatch(/^warn view "spend" column "amount": meanBetween\(amount, max 1000\) failed: mean 4565\.4545454545/);

    // Too few rows and too many nulls block.
    const few = repo([row(0, { balance: null }), row(1, { balance: null })]);
    await few.larder.apply();
    const err = (await few.larder.materialize().catch((e) => e)) as Error;
    expect(err.message).toContain('✖ source "tx" column "balance": maxNullFraction(balance, 0.5) failed: 100.00% null (max 50%)');
    expect(err.message).toContain('✖ source "tx": rowCount(min 3) failed: 2 rows');
  });

  test("PSI against the reference: a shifted batch fails, and --save-reference accepts it", async () => {
    const r = repo(good);
    await r.larder.apply();
    await r.larder.materialize({ end: T + 40 * HOUR });
    // Every amount moved up: the same shape, another place.
    r.write("tx.csv", csv(good.map((g, i) => ({ ...g, amount: 200 + (i % 7) * 5 }))));
    const err = (await r.larder.materialize({ end: T + 40 * HOUR }).catch((e) => e)) as Error;
    expect(err.message).toMatch(/✖ view "spend" column "amount": psi\(amount, max 0.25\) failed: PSI \d+\.\d{4} against the reference of /);
    const [checked] = await r.larder.validate({ saveReference: true });
    expect(checked!.report.passed).toBe(false);
    const [m] = await r.larder.materialize({ end: T + 40 * HOUR });
    expect(m!.events).toBe(40);
  });

  test("a push failing an expectation fails alone, with 422, and changes nothing", async () => {
    const r = repo(good);
    await r.larder.apply();
    await r.larder.materialize({ end: T + 40 * HOUR });
    const before = await lookup(r);
    const app = createApp(r.larder, () => {});
    const push = (rows: Tx[]) =>
      app.request("/v1/push", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ source: "tx_push", rows, to: "online_and_offline" }) });
    const res = await push([row(41), row(42, { amount: -1 })]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("expectation_failed");
    expect(body.message).toContain('push to "tx_push": 1 expectation failed; nothing was written');
    expect(body.message).toContain('✖ source "tx" column "amount": between(amount, min 0) failed for 1 of 2 rows (values: "-1.0")');
    // Paths relative to the repo: the server's folders are not the client's business.
    expect(body.message).toMatch(/failing rows, with the reason per row: data\/quarantine\/tx_push\/push-[\w-]+\.parquet/);
    expect(body.message).not.toContain(r.dir);
    expect(await lookup(r)).toEqual(before);
    expect(existsSync(join(r.dir, "data", "pushed"))).toBe(false);
    expect(readdirSync(join(r.dir, "data", "quarantine", "tx_push"))).toHaveLength(1);
    // Offline only, the expectations are a query of their own (online, they ride on the views' query).
    const offline = await app.request("/v1/push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "tx_push", rows: [row(42, { amount: -1 })], to: "offline" }),
    });
    expect(offline.status).toBe(422);
    expect(existsSync(join(r.dir, "data", "pushed"))).toBe(false);
    expect(readdirSync(join(r.dir, "data", "quarantine", "tx_push"))).toHaveLength(2);
    // Feast's endpoint says the same with its status code.
    const feast = await app.request("/push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        push_source_name: "tx_push",
        df: { user_id: [1], ts: [new Date(T + 43 * HOUR).toISOString()], amount: [5], balance: [0.1], channel: ["tv"], event_id: ["e43"] },
      }),
    });
    expect(feast.status).toBe(422);
    expect(((await feast.json()) as { detail: string }).detail).toContain("allowedValues(channel");
    // A good push still goes through.
    expect((await push([row(41)])).status).toBe(200);
    // Pushes waiting together are checked and applied as one batch: the bad one is refused alone.
    const counts = async () =>
      (
        await getOnlineFeatures(r.larder.registry(), r.larder.store(), { refs: [{ view: "spend", feature: "n_7d" }], entities: { user_id: [1, 2, 3, 4] }, at: T + 60 * HOUR }, 10)
      ).results.map((x) => x.values.n_7d as number);
    const countsBefore = await counts();
    // Rows 50–53 belong to users 3, 4, 1 and 2; row 51 (user 4) is bad.
    const outcomes = await Promise.allSettled([row(50), row(51, { amount: -3 }), row(52), row(53)].map((x) => r.larder.push({ source: "tx_push", rows: [x], to: "online" })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ExpectationFailedError);
    expect(((outcomes[1] as PromiseRejectedResult).reason as Error).message).toContain("between(amount, min 0) failed for 1 of 1 rows");
    expect(await counts()).toEqual([countsBefore[0]! + 1, countsBefore[1]! + 1, countsBefore[2]! + 1, countsBefore[3]!]);
  });

  test("larder validate prints a report, or JSON, and exits 3 when a view fails", async () => {
    const r = repo([...good.slice(0, 20), row(20, { channel: "fax" })]);
    await r.larder.apply();
    const run = async (...args: string[]) => {
      const p = Bun.spawn([process.execPath, resolve(import.meta.dir, "../src/main.ts"), "validate", ...args], { cwd: r.dir, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { stdout, stderr, code };
    };
    const text = await run();
    expect(text.code).toBe(3);
    expect(text.stdout).toContain("feature view spend @");
    expect(text.stdout).toContain("(source tx): 21 rows, 9 checks: FAILED (1)");
    expect(text.stdout).toContain('  ✖ source "tx" column "channel": allowedValues(channel, ["web", "pos"]) failed for 1 of 21 rows (values: "fax")');
    expect(text.stdout).toContain('  ✔ view "spend" feature "ratio": between(ratio, max 10) passed');
    expect(text.stderr).toContain("larder validate: 1 of 1 views failed their expectations: spend");
    const json = await run("spend", "--json", "--end", new Date(T + 20 * HOUR).toISOString());
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { view: string; report: { passed: boolean; rows: number } }[];
    expect(parsed.map((p) => [p.view, p.report.passed, p.report.rows])).toEqual([["spend", true, 20]]);
    // Nothing was written by validating: no offline table, no quarantine, no reference.
    for (const d of ["offline", "quarantine", "references"]) expect(existsSync(join(r.dir, "data", d))).toBe(false);
  });
});
