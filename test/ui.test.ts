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
import { pushCsv, withScoredOnDemand } from "./helpers/push-scenario.ts";
import { T0, randomEvents } from "./helpers/random-scenario.ts";
import { CHROMIUM, SKIP } from "./helpers/needs.ts";
import { tempRepo } from "./helpers/temp-repo.ts";

const TOKEN = "read-token-for-the-ui-test";
const DAY = 86_400_000;
const r = tempRepo(
  {
    "features/stats.ts": withScoredOnDemand((ts) =>
      ts.replace('  ttl: "3d",', '  ttl: "3d",\n  schedule: "0 * * * *",\n  description: "Spending of a user: latest values, windows and lifetime totals",'),
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
      expect(await page.locator("table a[href='/ui/views/user_stats']").count()).toBe(1);
      expect(await page.locator("a[href='/ui/on-demand/scored']").count()).toBe(1);
      await page.screenshot({ path: join(shots, "catalog.png"), fullPage: true });
      // Content uses the window's width: no cap at ~1,175 px.
      // (Expressions as strings: they run in the page, whose DOM types this project does not load.)
      expect(await page.evaluate<number>(`document.querySelector("main").getBoundingClientRect().width`)).toBeGreaterThan(1250);

      // Into the view: definition, lineage graph, freshness, charts, runs.
      await page.click("a[href='/ui/views/user_stats']");
      await page.waitForURL(`${base}/ui/views/user_stats`);
      expect(await page.textContent("h1")).toContain("Feature view user_stats @");
      // Two sources (batch, push) → the view → two services (all, scoring).
      expect(await page.locator(`svg[aria-label='lineage of user_stats @${r.larder.registry().view("user_stats").version}'] rect`).count()).toBe(5);
      expect(await page.locator("svg[aria-label^='distribution of']").count()).toBeGreaterThan(5);
      expect(await page.locator("svg[aria-label='drift of user_stats'] rect").count()).toBeGreaterThan(5);
      expect((await page.locator("text=overdue").count()) + (await page.locator("text=on time").count())).toBe(1);
      expect(await page.locator("h2:has-text('Runs') + table tr").count()).toBe(3); // header + two materializations
      // Lineage labels fit their boxes; durations read as people write them.
      const overflowing = await page.evaluate<number>(
        `[...document.querySelectorAll("svg[aria-label^='lineage'] g")].filter((g) => g.querySelector("text").getBBox().width > g.querySelector("rect").getBBox().width).length`,
      );
      expect(overflowing).toBe(0);
      expect(await page.textContent("p.muted")).toContain("ttl 3 d;");
      expect(await page.locator("td.mono >> text=mean(amount, 7 d, hop 1 h)").count()).toBe(1);
      await page.screenshot({ path: join(shots, "view.png"), fullPage: true });

      // The on-demand view's page: its request data and what it reads.
      await page.goto(`${base}/ui/on-demand/scored`);
      expect(await page.textContent("h1")).toContain("On-demand feature view scored @");
      expect(await page.locator("td >> text=amount").count()).toBe(1);
      await page.screenshot({ path: join(shots, "on-demand.png"), fullPage: true });

      // A page that names nothing is an HTML page, not JSON.
      const missing = await page.goto(`${base}/ui/nowhere`);
      expect(missing!.status()).toBe(404);
      expect(await page.textContent("h1")).toBe("Not found");
      const noView = await page.goto(`${base}/ui/views/no_such_view`);
      expect(noView!.status()).toBe(404);
      expect(await page.textContent("section.card p")).toContain('"no_such_view"');
      errors.length = 0; // those 404s were asked for

      // The API page lists every route of /openapi.json.
      await page.goto(`${base}/ui/api`);
      const api = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, object> };
      const operations = Object.values(api.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(await page.locator("section.card h2").count()).toBe(operations);
      await page.screenshot({ path: join(shots, "api.png"), fullPage: true });
      await page.goto(`${base}/ui/views/user_stats`);

      // The playground runs a lookup with the session's token.
      await page.click("header >> text=Lookup");
      await page.fill("input[name=user_id]", "1, 2, 424242");
      await page.click("#run");
      await page.waitForSelector("#result-table");
      const rows = await page.locator("#result-table tr").allTextContents();
      expect(rows).toHaveLength(4);
      expect(rows[3]).toContain("missing");
      await page.screenshot({ path: join(shots, "lookup.png"), fullPage: true });

      // A service with on-demand features: the playground asks for their request data.
      await page.goto(`${base}/ui/lookup?service=scoring`);
      await page.fill("input[name=user_id]", "1, 2");
      await page.fill("input[name=amount]", "10, 20");
      await page.click("#run");
      await page.waitForSelector("#result-table");
      const scored = await page.locator("#result-table tr").allTextContents();
      expect(scored).toHaveLength(3);
      expect(scored[0]).toContain("ratio");
      // A wide result scrolls inside its box; the page itself does not get wider.
      expect(await page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);

      // A training set that failed: the run history says why, in its note.
      await expect(r.larder.historical({ labelsPath: join(r.dir, "no-labels.csv"), refs: r.larder.registry().service("all").features })).rejects.toThrow("does not exist");
      await page.click("header >> text=Runs");
      expect(await page.textContent("h1")).toBe("Run history");
      expect(await page.locator("td >> text=materialize").count()).toBe(2);
      expect(await page.locator("tr", { hasText: "historical" }).locator("td").last().textContent()).toBe(`label table ${join(r.dir, "no-labels.csv")} does not exist`);
      await page.screenshot({ path: join(shots, "runs.png"), fullPage: true });
      // Dates stay on one line; run ids lead to the run.
      const started = page.locator("span.nowrap", { hasText: " UTC" }).first();
      expect(await started.evaluate((el) => el.getClientRects().length)).toBe(1);
      await page.locator("tr", { hasText: "historical" }).locator("a").first().click();
      expect(await page.textContent("h1")).toMatch(/^Run \d{8}T\d+Z-[0-9a-f]{6}$/);
      expect(await page.locator("td.bad >> text=failed").count()).toBe(1);
      await page.screenshot({ path: join(shots, "run.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
      if (!keepShots) rmSync(shots, { recursive: true, force: true });
    }
  },
  60_000,
);
