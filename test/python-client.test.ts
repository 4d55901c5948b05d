/**
 * The Python client (clients/python/) against a real `larder serve`: its pytest suite,
 * run with the client installed from the repo into .venvs/client (.ci/run makes it) with
 * pandas, pyarrow and scikit-learn from PyPI. It checks values against Larder's own
 * answers, training sets against `larder historical`, pushes, the registry, typed errors,
 * and the notebook example's scikit-learn AUC against `larder train`'s.
 */
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { CLIENT_PYTHON, SKIP } from "./helpers/needs.ts";
import { runToEnd } from "./helpers/run-python.ts";

test.skipIf(SKIP.client)(
  "the Python client's pytest suite passes against a real larder serve",
  async () => {
    if (!CLIENT_PYTHON) throw new Error("the Python client is not installed: CI must make .venvs/client (pip install -e 'clients/python[test]')");
    const dir = resolve(import.meta.dir, "../clients/python");
    const { stdout, stderr, code } = await runToEnd([CLIENT_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], {
      cwd: dir,
      env: { ...process.env, LARDER_BUN: process.execPath },
    });
    if (code !== 0) throw new Error(`pytest failed:\n${stdout}\n${stderr}`);
    expect(stdout).toMatch(/\b6 passed\b/);
  },
  300_000,
);
