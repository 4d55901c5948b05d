/** A throwaway feature repo: features/*.ts from strings, CSV data from rows, cleaned up by the caller. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { Larder } from "../../src/larder.ts";

let counter = 0;

export type TempRepo = { dir: string; larder: Larder; write(path: string, text: string): void; cleanup(): Promise<void> };

/** `config`: settings beyond the repo folder, e.g. `{ online: "redis://…" }`. */
export function tempRepo(files: Record<string, string> = {}, config: Record<string, string> = {}): TempRepo {
  // A unique folder per repo: feature modules are cached by path within one process.
  const dir = mkdtempSync(join(tmpdir(), `larder-test-${process.pid}-${counter++}-`));
  mkdirSync(join(dir, "features"));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  const larder = new Larder(loadConfig({ repoDir: dir, ...config }, {}));
  return {
    dir,
    larder,
    write,
    async cleanup() {
      await larder.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Rows → CSV text (values are numbers, strings without commas, null → empty). */
export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  return `${[columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n")}\n`;
}
