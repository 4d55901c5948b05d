/**
 * Pushes in arrival order, with the ones that wait coalesced: while a batch is being
 * computed, later pushes queue; the next batch takes the queue's front run of pushes of
 * the same source and mode (up to the row limit) and applies them as one. Idle, a push is
 * a batch of one; under load, batches grow and each record is rewritten once per batch
 * rather than once per push.
 */
import type { PushResult, ValidatedPush } from "./push.ts";

type Waiting = { push: ValidatedPush; resolve(r: PushResult): void; reject(e: unknown): void };

export class PushQueue {
  readonly #waiting: Waiting[] = [];
  #draining = false;

  constructor(
    /** Applies a batch; `done` gives each push's result, or the error that refused it alone. */
    private readonly start: (batch: ValidatedPush[]) => Promise<{ done: Promise<(PushResult | Error)[]> }>,
    private readonly maxRows: number,
  ) {}

  submit(push: ValidatedPush): Promise<PushResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ push, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#waiting.length) {
      const head = this.#waiting[0]!.push;
      let rows = 0;
      let n = 0;
      for (const w of this.#waiting) {
        const same = w.push.req.source === head.req.source && w.push.req.to === head.req.to && w.push.req.view === head.req.view;
        if (!same || (n > 0 && rows + w.push.rows.length > this.maxRows)) break;
        rows += w.push.rows.length;
        n++;
      }
      const batch = this.#waiting.splice(0, n);
      try {
        const { done } = await this.start(batch.map((w) => w.push));
        done.then(
          (results) =>
            batch.forEach((w, i) => {
              const r = results[i]!;
              if (r instanceof Error) w.reject(r);
              else w.resolve(r);
            }),
          (err) => batch.forEach((w) => w.reject(err)),
        );
      } catch (err) {
        batch.forEach((w) => w.reject(err));
      }
    }
    this.#draining = false;
  }
}
