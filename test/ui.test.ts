/**
 * The web UI in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core, with tokens configured. Signs in, loads every page, clicks from the
 * catalog into a view (lineage graph, charts, runs), runs a lookup in the playground.
 * Screenshots go to a temp folder, or to docs/screenshots/ with LARDER_SCREENSHOTS=1
 * (as committed and shown in the README). Without Chromium: a loud skip, except under CI=true.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "../src/server/start-server.ts";
import { PUSH_FEATURES_TS, pushCsv } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { CHROMIUM, SKIP } from "./helpers/needs.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const TOKEN = "read-token-for-the-ui-test";
const DAY = 86_400_000;
const r = tempRepo(
  {
    "features/stats.ts": PUSH_FEATURES_TS.replace(
      '  ttl: "3d",',
      '  ttl: "3d",\n  schedule: "0 * * * *",\n  description: "Spending of a user: latest values, windows and lifetime totals",',
    ),
    "data/events.csv": pushCsv(randomEvents(111, 600)),
  },
  { port: "0", tokens: `read=${TOKEN},admin=admin-token-for-the-ui-test`, schedules: "off" },
);
afterAll(() => r.cleanup());

test.skipIf(SKIP.chromium)(
  "every page renders in Chromium; sign in, catalog → view → lookup → runs",
  async () => {
    if (!CHROMIUM) throw new Error("chromium is not installed: CI must install it (apt-get install -y chromium)");
    await r.larder.apply();
    await r.larder.materialize({ end: T0 + 20 * DAY });
    await r.larder.materialize({ end: T0 + 21 * DAY }); // a second profile: drift has a reference
    const server = startServer(r.larder, () => {});
    const base = `http://${server.hostname}:${server.port}`;
    const keepShots = process.env.LARDER_SCREENSHOTS === "1";
    const shots = keepShots ? resolve(import.meta.dir, "../docs/screenshots") : mkdtempSync(join(tmpdir(), "larder-ui-"));
    mkdirSync(shots, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      // Not signed in: every page sends to the sign-in form.
      await page.goto(`${base}/ui/views/user_stats`);
      expect(new URL(page.url()).pathname).toBe("/ui/login");
      await page.fill("input[name=token]", "wrong-token-000000000");
      await page.click("button[type=submit]");
      expect(await page.textContent("p.bad")).toBe("That token is not valid here.");
      errors.length = 0; // that 401 was asked for
      await page.fill("input[name=token]", TOKEN);
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/ui/views/user_stats`);

      await page.goto(`${base}/`);
      expect(await page.textContent("h1")).toBe("Catalog");
      expect(await page.locator("table >> text=user_stats").count()).toBe(1);
      await page.screenshot({ path: join(shots, "catalog.png"), fullPage: true });

      // Into the view: definition, lineage graph, freshness, charts, runs.
      await page.click("a[href='/ui/views/user_stats']");
      await page.waitForURL(`${base}/ui/views/user_stats`);
      expect(await page.textContent("h1")).toContain("Feature view user_stats @");
      expect(await page.locator(`svg[aria-label='lineage of user_stats @${r.larder.registry().view("user_stats").version}'] rect`).count()).toBe(4);
      expect(await page.locator("svg[aria-label^='distribution of']").count()).toBeGreaterThan(5);
      expect(await page.locator("svg[aria-label='drift of user_stats'] rect").count()).toBeGreaterThan(5);
      expect((await page.locator("text=overdue").count()) + (await page.locator("text=on time").count())).toBe(1);
      expect(await page.locator("h2:has-text('Runs') + table tr").count()).toBe(3); // header + two materializations
      await page.screenshot({ path: join(shots, "view.png"), fullPage: true });

      // The playground runs a lookup with the session's token.
      await page.click("header >> text=Lookup");
      await page.fill("input[name=user_id]", "1, 2, 424242");
      await page.click("#run");
      await page.waitForSelector("#result-table");
      const rows = await page.locator("#result-table tr").allTextContents();
      expect(rows).toHaveLength(4);
      expect(rows[3]).toContain("missing");
      await page.screenshot({ path: join(shots, "lookup.png"), fullPage: true });

      // A training set that failed: the run history says why, in its note.
      await expect(r.larder.historical({ labelsPath: join(r.dir, "no-labels.csv"), refs: r.larder.registry().service("all").features })).rejects.toThrow("does not exist");
      await page.click("header >> text=Runs");
      expect(await page.textContent("h1")).toBe("Run history");
      expect(await page.locator("td >> text=materialize").count()).toBe(2);
      expect(await page.locator("tr", { hasText: "historical" }).locator("td").last().textContent()).toBe(`label table ${join(r.dir, "no-labels.csv")} does not exist`);
      await page.screenshot({ path: join(shots, "runs.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
      if (!keepShots) rmSync(shots, { recursive: true, force: true });
    }
  },
  60_000,
);
