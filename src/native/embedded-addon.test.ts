import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureInCache, nativeCacheRoot, nativeFolder, type EmbeddedFile } from "./embedded-addon.ts";

// Stand-ins for embedded files: real files with the sizes and names of a native pair.
const dir = mkdtempSync(join(tmpdir(), "larder-native-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const src = join(dir, "src");
mkdirSync(src);
writeFileSync(join(src, "addon-3f2a9c1d.node"), Buffer.alloc(200_000, 1));
writeFileSync(join(src, "libthing-77aa00bb.so"), Buffer.alloc(3_000_000, 2));
const files: EmbeddedFile[] = [
  { path: join(src, "addon-3f2a9c1d.node"), name: "addon.node" },
  { path: join(src, "libthing-77aa00bb.so"), name: "libthing.so" },
];

test("the cache folder: LARDER_CACHE_DIR, else XDG_CACHE_HOME/larder, else ~/.cache/larder", () => {
  expect(nativeCacheRoot({ LARDER_CACHE_DIR: "/x", XDG_CACHE_HOME: "/y" })).toBe("/x");
  expect(nativeCacheRoot({ XDG_CACHE_HOME: "/y" })).toBe("/y/larder");
  expect(nativeCacheRoot({})).toMatch(/\/\.cache\/larder$/);
});

test("files are written once under their own names; a complete folder is only read", () => {
  const root = join(dir, "cache1");
  const out = ensureInCache(root, "thing-1.0", files);
  expect(out).toBe(join(root, "thing-1.0"));
  expect(readdirSync(root)).toEqual(["thing-1.0"]); // no staging folder left behind
  expect(readdirSync(out).sort()).toEqual(["addon.node", "libthing.so"]);
  expect(readFileSync(join(out, "libthing.so")).equals(readFileSync(files[1]!.path))).toBe(true);
  const before = statSync(join(out, "libthing.so"));
  expect(ensureInCache(root, "thing-1.0", files)).toBe(out);
  const after = statSync(join(out, "libthing.so"));
  expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
});

test("a damaged copy is left alone and a complete one is written beside it", () => {
  const root = join(dir, "cache2");
  mkdirSync(join(root, "thing-1.0"), { recursive: true });
  writeFileSync(join(root, "thing-1.0", "addon.node"), "truncated");
  const out = ensureInCache(root, "thing-1.0", files);
  expect(out).toBe(join(root, "thing-1.0.1"));
  expect(statSync(join(out, "addon.node")).size).toBe(200_000);
  expect(ensureInCache(root, "thing-1.0", files)).toBe(out); // found again, not written again
  expect(readFileSync(join(root, "thing-1.0", "addon.node"), "utf8")).toBe("truncated");
});

test("an unwritable cache folder falls back to the temp folder, saying so", () => {
  const warnings: string[] = [];
  // /proc refuses new folders even to root, so this holds under CI's root too.
  const out = nativeFolder({ key: "thing-1.0", files, addon: "addon.node" }, { LARDER_CACHE_DIR: "/proc/larder-cache", TMPDIR: join(dir, "tmp") }, (m) => warnings.push(m));
  expect(out.startsWith(join(dir, "tmp", "larder-cache-"))).toBe(true);
  expect(statSync(join(out, "libthing.so")).size).toBe(3_000_000);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toStartWith("larder: cannot write native libraries to /proc/larder-cache (");
  expect(warnings[0]).toContain("Set LARDER_CACHE_DIR to a writable folder");
});

test("with both folders unwritable the error says what to set", () => {
  expect(() => nativeFolder({ key: "thing-1.0", files, addon: "addon.node" }, { LARDER_CACHE_DIR: "/proc/a", TMPDIR: "/proc/b" }, () => {})).toThrow(
    /cannot write the native libraries \(thing-1\.0\) to \/proc\/a .* nor to \/proc\/b\/larder-cache-\d+ .*set LARDER_CACHE_DIR/,
  );
});

test("processes starting at once all get one complete copy", async () => {
  const root = join(dir, "cache3");
  const script = `import { ensureInCache } from ${JSON.stringify(join(import.meta.dir, "embedded-addon.ts"))};
    const files = JSON.parse(process.argv[2]);
    await Bun.sleep(Number(process.argv[3]) - Date.now());
    console.log(ensureInCache(${JSON.stringify(root)}, "thing-1.0", files));`;
  writeFileSync(join(dir, "race.ts"), script);
  const at = Date.now() + 700;
  const procs = Array.from({ length: 6 }, () => Bun.spawn([process.execPath, join(dir, "race.ts"), JSON.stringify(files), String(at)], { stdout: "pipe", stderr: "pipe" }));
  const outs = await Promise.all(procs.map(async (p) => ({ out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text(), code: await p.exited })));
  for (const o of outs) expect(o).toEqual({ out: join(root, "thing-1.0"), err: "", code: 0 });
  expect(readdirSync(root)).toEqual(["thing-1.0"]);
  expect(statSync(join(root, "thing-1.0", "libthing.so")).size).toBe(3_000_000);
  expect(existsSync(join(root, "thing-1.0", "addon.node"))).toBe(true);
});
