import { expect, test } from "bun:test";
import { runNote } from "./run-note.ts";
import type { RunRecord } from "./runs.ts";

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: "20261123T000000000Z-abcdef",
  kind: "materialize",
  status: "succeeded",
  startedAt: "",
  finishedAt: "",
  durationMs: 0,
  startedBy: { via: "api", host: "h", pid: 1, user: "u" },
  views: [],
  range: null,
  sources: [],
  rows: { in: null, out: null },
  validation: null,
  details: {},
  error: null,
  ...over,
});
const validation = (failed: string[], warnings: string[] = []) => ({ passed: failed.length === 0, failed, warnings, quarantine: null });

test("a run's note: its error's first line, else its first refusal on one line, else its warnings", () => {
  expect(
    runNote(run({ status: "failed", error: 'feature view "v": 1 expectation failed\n  between(amount, max 100)', validation: validation(['view "v" column "amount": failed']) })),
  ).toBe('feature view "v": 1 expectation failed');
  expect(runNote(run({ status: "failed", validation: validation(['view "v" column "amount": between(amount, max 100) failed for 3 of 9 rows']) }))).toBe(
    'view "v" column "amount": between(amount, max 100) failed for 3 of 9 rows',
  );
  expect(
    runNote(
      run({
        kind: "push",
        details: { rejected: 2 },
        validation: validation(['push to "p" refused, nothing was written:\n  row 0, field "user_id": expected an integer, got the string "x"', "another"]),
      }),
    ),
  ).toBe('2 refused: push to "p" refused, nothing was written: row 0, field "user_id": expected an integer, got the string "x"');
  expect(runNote(run({ validation: validation([], ["psi(amount) 0.31 > 0.25", "nulls"]) }))).toBe("2 warning(s)");
  expect(runNote(run({ validation: validation([]) }))).toBe("");
  expect(runNote(run({}))).toBe("");
});
