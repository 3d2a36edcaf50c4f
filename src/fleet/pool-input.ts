import { POOL_NUMBER_MAX } from './hostname.js';

/**
 * Pure parser for the many ways an operator hands over kart numbers: a list (`1, 2, 3`), ranges
 * (`1-60`), pasted text one per line, or a CSV export with a header row. Every line is reported on
 * its own; a bad entry never stops the good ones.
 */

export interface ParsedPoolLine {
  /** 1-based line number in the input. */
  line: number;
  text: string;
  numbers: number[];
  errors: string[];
}

/** The whole input refuses to import above this many numbers: almost certainly a typo (`1-100000`). */
export const POOL_IMPORT_MAX_NUMBERS = 100_000;

const HEADER_CELL = /^(kart[ _-]?)?(number|no|num|nr|#)$|^kart$/i;

export function parsePoolInput(text: string): ParsedPoolLine[] {
  const rawLines = text.split(/\r?\n/);
  const out: ParsedPoolLine[] = [];
  let column: number | undefined;
  let seenContent = false;

  rawLines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cells = splitCells(line);
    if (!seenContent) {
      seenContent = true;
      const headerAt = cells.findIndex((c) => HEADER_CELL.test(c));
      if (headerAt >= 0 && cells.every((c) => !/^[0-9]/.test(c))) {
        // A CSV header: from now on read only the number column and ignore labels beside it.
        column = cells.length > 1 ? headerAt : undefined;
        return;
      }
    }
    const entries = column === undefined ? cells : cells[column] === undefined ? [] : [cells[column]!];
    const parsed: ParsedPoolLine = { line: index + 1, text: line, numbers: [], errors: [] };
    if (entries.length === 0) parsed.errors.push(`no number in column ${column! + 1}`);
    for (const entry of entries) parseEntry(entry, parsed);
    out.push(parsed);
  });
  return out;
}

function splitCells(line: string): string[] {
  return line
    .replace(/\s*-\s*/g, '-')
    .split(/[,;\t ]+/)
    .map((c) => c.replace(/^["']|["']$/g, '').trim())
    .filter((c) => c !== '');
}

function parseEntry(entry: string, into: ParsedPoolLine): void {
  const range = /^([0-9]+)-([0-9]+)$/.exec(entry);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from > to) return void into.errors.push(`range ${entry} runs backwards; write ${to}-${from}`);
    if (to > POOL_NUMBER_MAX) return void into.errors.push(`range ${entry} goes past ${POOL_NUMBER_MAX}`);
    if (to - from + 1 > POOL_IMPORT_MAX_NUMBERS)
      return void into.errors.push(`range ${entry} holds more than ${POOL_IMPORT_MAX_NUMBERS} numbers`);
    for (let n = from; n <= to; n++) into.numbers.push(n);
    return;
  }
  if (/^[0-9]+$/.test(entry)) {
    const n = Number(entry);
    if (n > POOL_NUMBER_MAX) return void into.errors.push(`${entry} is larger than ${POOL_NUMBER_MAX}`);
    into.numbers.push(n);
    return;
  }
  into.errors.push(`${JSON.stringify(entry)} is not a number or a range (e.g. 7 or 1-60)`);
}

/** Why an input should not be imported as it is: not text at all, or text whose lines are mostly not numbers. */
export interface PoolInputProblem {
  /** `not-text` is always refused; `mostly-invalid` needs the operator's confirmation (`--force`, the UI's checkbox). */
  kind: 'not-text' | 'mostly-invalid';
  message: string;
}

/** Control characters no text file holds (tab, LF and CR are text), and U+FFFD: what bytes that were not UTF-8 decode to. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_TEXT_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

/**
 * What is wrong with an input as a whole, beyond its per-line errors: a binary file (random bytes
 * parse as a few "numbers" here and there) or a file in which most lines hold no valid number (the
 * wrong file, or the wrong column). Null when it may be imported.
 */
export function poolInputProblem(text: string, lines: readonly ParsedPoolLine[]): PoolInputProblem | null {
  const bad = NOT_TEXT_CHAR.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    const code = bad[0].charCodeAt(0).toString(16).padStart(2, '0');
    const what = bad[0] === '\ufffd' ? 'bytes that are not UTF-8' : `control character 0x${code}`;
    return {
      kind: 'not-text',
      message: `This is not text (${what} on line ${line}); give numbers, ranges (1-60) or a CSV file. Nothing was imported`,
    };
  }
  const invalid = lines.filter((l) => l.numbers.length === 0 && l.errors.length > 0).length;
  if (invalid * 2 > lines.length) {
    return {
      kind: 'mostly-invalid',
      message:
        `${invalid} of ${lines.length} lines hold no valid number: is this the right file? Nothing was imported; ` +
        'check it, or import the valid lines anyway (--force, or confirm the preview)',
    };
  }
  return null;
}
