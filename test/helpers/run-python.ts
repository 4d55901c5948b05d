/** Runs a process to its end, and a Python script of test/python/ whose last line of output is JSON. */
import { resolve } from "node:path";

export async function runToEnd(cmd: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const p = Bun.spawn(cmd, { ...opts, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

/** `python test/python/<script> args…`; its last output line parsed as JSON, or an error carrying its stderr (`who`: what failed). */
export async function pythonJson<T>(python: string, script: string, args: string[], who: string): Promise<T> {
  const { stdout, stderr, code } = await runToEnd([python, resolve(import.meta.dir, "../python", script), ...args]);
  if (code !== 0) throw new Error(`${who} failed:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}
