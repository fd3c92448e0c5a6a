/**
 * Rows as a text table for a terminal: a header, then one line per row, columns padded to their widest
 * cell; numbers (and nulls, shown as `-`) aligned right.
 * @example textTable(['key', 'cost_usd'], [['gpt-4o', 1.5]])
 */
export function textTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map((v) => (v === null || v === undefined ? '-' : String(v))));
  const numeric = header.map((_, c) => rows.every((row) => row[c] === null || typeof row[c] === 'number'));
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}
