/**
 * The push-error table of admin and stakeholder emails, byte-compatible with the table the
 * original prints (tablewriter v0.0.5 defaults with borders off; spec
 * notifications-observability.md 2.6). Rows are sorted by node (the original's order is random).
 */

export const PUSH_TABLE_LEAD =
  'The following is a list of nodes on which all vault tokens were not refreshed, and the corresponding roles for those failed token refreshes:';

const HEADER = ['Node', 'Error'] as const;
/** Cells wider than this are wrapped (tablewriter's MAX_ROW_WIDTH). */
const MAX_CELL_WIDTH = 30;
/** Extra cost of a line longer than the limit in the minimum-raggedness wrap. */
const OVERLONG_PENALTY = 100_000;
/** A cell whose text is a plain decimal number is right-aligned. */
const DECIMAL = /^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$/;

/** `LEAD ⏎⏎ table`, or `""` when there is nothing to report. */
export function renderPushTable(errorsByNode: ReadonlyMap<string, string>): string {
  if (errorsByNode.size === 0) return '';
  const rows = [...errorsByNode.entries()].sort(([a], [b]) => compareBytes(a, b));
  return `${PUSH_TABLE_LEAD}\n\n${renderTable(
    HEADER,
    rows.map(([node, message]) => [node, message]),
  )}`;
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

interface Cell {
  readonly lines: readonly string[];
  readonly width: number;
}

export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const headerCells = header.map(layoutCell);
  const bodyCells = rows.map((row) => row.map(layoutCell));
  const widths = header.map((_, column) =>
    Math.max(...[headerCells, ...bodyCells].map((row) => row[column]?.width ?? 0)),
  );
  const last = widths.length - 1;

  let out = ' ';
  widths.forEach((width, column) => {
    const title = (header[column] ?? '').toUpperCase();
    out += ` ${center(title, width)} ${column === last ? ' ' : '|'}`;
  });
  out += '\n-';
  widths.forEach((width, column) => {
    out += '-'.repeat(width + 2) + (column === last ? '-' : '+');
  });
  out += '\n';

  for (const row of bodyCells) {
    const height = Math.max(...row.map((cell) => cell.lines.length));
    for (let lineIndex = 0; lineIndex < height; lineIndex++) {
      widths.forEach((width, column) => {
        const text = row[column]?.lines[lineIndex] ?? '  ';
        out += `${column === 0 ? ' ' : '|'} ${align(text, width)} `;
      });
      out += ' \n';
    }
  }
  return out;
}

function layoutCell(text: string): Cell {
  const raw = text.split('\n');
  const limit = Math.min(Math.max(0, ...raw.map(displayWidth)), MAX_CELL_WIDTH);
  // Every line of the cell is re-flowed into one paragraph before wrapping.
  const lines = wrapParagraph(raw.join(' '), limit);
  return { lines, width: Math.max(limit, ...lines.map(displayWidth)) };
}

function wrapParagraph(paragraph: string, requestedLimit: number): string[] {
  const words = paragraph.replaceAll('\n', ' ').split(' ');
  const limit = Math.max(requestedLimit, ...words.map(displayWidth));
  return breakLines(words, limit).map((line) => line.join(' '));
}

/** Minimum-raggedness line breaking; ties keep the earliest break. */
function breakLines(words: readonly string[], limit: number): string[][] {
  const n = words.length;
  const widths = words.map(displayWidth);
  const lineWidth = (from: number, to: number): number => {
    let total = 0;
    for (let k = from; k <= to; k++) total += (widths[k] ?? 0) + (k > from ? 1 : 0);
    return total;
  };
  const cost = new Array<number>(n).fill(Number.MAX_SAFE_INTEGER);
  const nextBreak = new Array<number>(n).fill(n);
  for (let i = n - 1; i >= 0; i--) {
    if (lineWidth(i, n - 1) <= limit) {
      cost[i] = 0;
      nextBreak[i] = n;
      continue;
    }
    for (let j = i + 1; j < n; j++) {
      const width = lineWidth(i, j - 1);
      const slack = limit - width;
      const candidate = slack * slack + (cost[j] ?? 0) + (width > limit ? OVERLONG_PENALTY : 0);
      if (candidate < (cost[i] ?? Number.MAX_SAFE_INTEGER)) {
        cost[i] = candidate;
        nextBreak[i] = j;
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = nextBreak[i] ?? n) lines.push(words.slice(i, nextBreak[i] ?? n));
  return lines;
}

function center(text: string, width: number): string {
  const gap = width - displayWidth(text);
  if (gap <= 0) return text;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + text + ' '.repeat(gap - left);
}

function align(text: string, width: number): string {
  const gap = Math.max(0, width - displayWidth(text));
  return DECIMAL.test(text.trim()) ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}

function displayWidth(text: string): number {
  return [...text].length;
}
