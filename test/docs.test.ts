/**
 * The docs stay true: generated parts match what the code and results make, every relative
 * link leads to a file, the README stays short, and every flag and setting is explained.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { generatedDocs, ROOT } from "../scripts/docs/generate-docs.ts";
import { COMMANDS } from "../src/cli/run-cli.ts";
import { ConfigSchema, SETTINGS } from "../src/config/config.ts";

const markdown = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", ...readdirSync(join(ROOT, "docs"), { recursive: true, encoding: "utf8" }).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith(".md"),
);

describe("docs", () => {
  test("generated files are current (npm run docs)", () => {
    for (const [path, content] of Object.entries(generatedDocs())) {
      expect({ path, content: readFileSync(join(ROOT, path), "utf8") }).toEqual({ path, content });
    }
  });

  test("README.md is at most 10 KB", () => {
    expect(statSync(join(ROOT, "README.md")).size).toBeLessThanOrEqual(10 * 1024);
  });

  test("every relative link in the docs leads to a file or folder", () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        const path = resolve(dirname(join(ROOT, file)), target!.split("#")[0]!);
        if (!existsSync(path)) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
    expect(markdown.length).toBeGreaterThan(25);
  });

  test("every command's flags are explained, and every setting is in the settings table", () => {
    const unexplained = COMMANDS.flatMap((c) =>
      Object.keys(c.options)
        .filter((f) => !c.flagHelp?.[f])
        .map((f) => `larder ${c.name} --${f}`),
    );
    expect(unexplained).toEqual([]);
    expect(SETTINGS.map((s): string => s.key).sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });
});
