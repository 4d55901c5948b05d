/**
 * The layout's rules, checked: leaf modules import nothing of Larder's, and nothing outside
 * registry/ reads the registry's raw JSON (it asks Registry).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");
const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".test.ts"));
const text = (f: string) => readFileSync(join(SRC, f), "utf8");

test("leaf modules (errors, time, ids, input-limits) import nothing of Larder's but each other", () => {
  const leaves = ["errors.ts", "time.ts", "ids.ts", "input-limits.ts"];
  const imports = leaves.flatMap((f) => [...text(f).matchAll(/from "(\.[^"]+)"/g)].map((m) => `${f} → ${m[1]}`).filter((i) => !leaves.some((l) => i.endsWith(`./${l}`))));
  expect(imports).toEqual([]);
});

test("nothing outside registry/ reads the registry's raw data", () => {
  const raw = files
    .filter((f) => !f.startsWith("registry/"))
    .flatMap((f) =>
      text(f)
        .split("\n")
        .map((line, i) => ({ f, i, line }))
        .filter(({ line }) => /\bregistry(\(\))?\.data\b|\bRegistryData\b/.test(line))
        .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`),
    );
  expect(raw).toEqual([]);
});
