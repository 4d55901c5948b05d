/** The CLI's printer: the only place besides the logger that writes to the console. */
export const out = (text = "") => process.stdout.write(`${text}\n`);
export const err = (text = "") => process.stderr.write(`${text}\n`);

/** A progress line: rewritten in place on a terminal, printed every ~10% otherwise. */
export function progress(label: string) {
  let lastShown = -1;
  return (done: number, total: number) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label}: ${done}/${total} entities (${pct}%)${done >= total ? "\n" : ""}`);
    } else if (Math.floor(pct / 10) !== Math.floor(lastShown / 10) || done >= total) {
      if (total >= 10_000 || done >= total) err(`${label}: ${done}/${total} entities (${pct}%)`);
    }
    lastShown = pct;
  };
}

/** Right-pads cells into aligned columns. */
export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => String(cell).padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
