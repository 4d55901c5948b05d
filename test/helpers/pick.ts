/** Rows with only the named columns, in that order. */
export const pick = (rows: Record<string, unknown>[], columns: string[]) => rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
