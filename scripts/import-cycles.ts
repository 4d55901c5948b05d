/**
 * Folder-level import cycles in src/: which folders import each other (value imports;
 * `import type` carries no behaviour), and the imports that close each cycle.
 *   bun scripts/import-cycles.ts
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");
/** Sub-folders that count as folders of their own. */
const NESTED = new Set(["server/ui", "server/workers", "server/routes", "online/lmdb", "online/redis", "offline/database"]);

function folderOf(file: string): string {
  const parts = relative(SRC, file).split("/");
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, "");
  const two = parts.slice(0, 2).join("/");
  return parts.length > 2 && NESTED.has(two) ? two : parts[0]!;
}

const files = readdirSync(SRC, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith("conformance.ts"))
  .map((f) => join(SRC, f));
/** folder → folder → the imports making that edge. */
const edges = new Map<string, Map<string, string[]>>();
for (const file of files) {
  for (const m of readFileSync(file, "utf8").matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"(\.[^"]+)"/gms)) {
    if (m[2]) continue;
    const target = normalize(join(dirname(file), m[3]!));
    const [a, b] = [folderOf(file), folderOf(target)];
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const into = edges.get(a)!;
    into.set(b, [...(into.get(b) ?? []), `${relative(SRC, file)} → ${relative(SRC, target)}`]);
  }
}

// Tarjan's strongly connected components.
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
const components: string[][] = [];
let next = 0;
function visit(v: string) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
  }
  if (low.get(v) === index.get(v)) {
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    components.push(component);
  }
}
for (const v of edges.keys()) if (!index.has(v)) visit(v);

const cycles = components.filter((c) => c.length > 1);
if (cycles.length === 0) console.log("no folder-level import cycles");
for (const c of cycles) {
  const members = new Set(c);
  console.log(`cycle: ${[...members].sort().join(", ")}`);
  for (const a of [...members].sort()) {
    for (const [b, imports] of edges.get(a) ?? []) {
      if (members.has(b)) console.log(`  ${a} → ${b}: ${imports.join("; ")}`);
    }
  }
}
