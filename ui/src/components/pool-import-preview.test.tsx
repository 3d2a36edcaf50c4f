import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { PoolImportResult } from '../../../src/protocol/fleet.js';
import { formatNumberList } from '../format.js';
import { lineVerdict, PoolImportPreview, PREVIEW_MAX_LINES } from './pool-import-preview.js';

/** The shape `POST /venues/CORO/pool/import {dryRun: true}` answers for a small CSV. */
const csvPreview: PoolImportResult = {
  venue: 'CORO',
  product: 'KXP2',
  added: 18,
  duplicates: 2,
  invalid: 1,
  lines: [
    { line: 1, text: 'kart_number', added: [], duplicates: [], errors: [] },
    { line: 2, text: '1-18', added: Array.from({ length: 18 }, (_, i) => i + 1), duplicates: [], errors: [] },
    { line: 3, text: '5', added: [], duplicates: [5], errors: [] },
    { line: 4, text: 'x12', added: [], duplicates: [], errors: ['"x12" is not a number'] },
    { line: 5, text: '19, 20', added: [], duplicates: [19], errors: ['20 is retired'] },
  ],
};

/** Rows of the rendered preview as [line, verdict class, outcome text]. */
function rows(html: string): [string, string, string][] {
  return [
    ...html.matchAll(/<tr class="preview-(\w+)"><td[^>]*>(\d+)<\/td><td[^>]*>.*?<\/td><td[^>]*>(.*?)<\/td><\/tr>/g),
  ].map((m) => [
    m[2]!,
    m[1]!,
    m[3]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  ]);
}

describe('PoolImportPreview', () => {
  it('marks duplicates and invalid lines in words, problems first, before the new numbers', () => {
    const html = renderToStaticMarkup(<PoolImportPreview result={csvPreview} />);
    expect(html).toContain('Would import <strong>18</strong> new numbers for KXP2 at CORO');
    expect(html).toContain('2 duplicates skipped');
    expect(html).toContain('1 invalid entry');
    expect(rows(html)).toEqual([
      ['3', 'duplicate', 'duplicate (already in the pool or earlier in the input): 5'],
      ['4', 'invalid', 'invalid: &quot;x12&quot; is not a number'],
      ['5', 'mixed', 'duplicate (already in the pool or earlier in the input): 19 invalid: 20 is retired'],
      ['2', 'new', 'new: 1–18'],
    ]);
    expect(html).not.toContain('kart_number'); // the header line did nothing: not listed
  });

  it('says "Imported" once committed, and singular words for one', () => {
    const one: PoolImportResult = { ...csvPreview, added: 1, duplicates: 1, invalid: 0, lines: [] };
    const html = renderToStaticMarkup(<PoolImportPreview result={one} committed />);
    expect(html).toContain('Imported <strong>1</strong> new number for KXP2');
    expect(html).toContain('1 duplicate skipped');
    expect(html).not.toContain('invalid');
  });

  it(`shows at most ${PREVIEW_MAX_LINES} lines and says how many more`, () => {
    const lines = Array.from({ length: PREVIEW_MAX_LINES + 5 }, (_, i) => ({
      line: i + 1,
      text: String(i + 1),
      added: [i + 1],
      duplicates: [],
      errors: [],
    }));
    const html = renderToStaticMarkup(<PoolImportPreview result={{ ...csvPreview, lines }} />);
    expect(rows(html)).toHaveLength(PREVIEW_MAX_LINES);
    expect(html).toContain('…and 5 more lines without problems.');
  });

  it.each([
    [{ added: [1], duplicates: [], errors: [] }, 'new'],
    [{ added: [], duplicates: [2], errors: [] }, 'duplicate'],
    [{ added: [], duplicates: [], errors: ['bad'] }, 'invalid'],
    [{ added: [1], duplicates: [2], errors: [] }, 'mixed'],
    [{ added: [], duplicates: [], errors: [] }, 'empty'],
  ])('lineVerdict(%j) → %s', (parts, want) => expect(lineVerdict({ line: 1, text: '', ...parts })).toBe(want));
});

describe('formatNumberList', () => {
  it.each([
    [[1, 2, 3, 5, 7, 8], '1–3, 5, 7, 8'],
    [[9, 1, 2, 2, 3], '1–3, 9'],
    [[42], '42'],
    [[], ''],
  ])('%j → %s', (numbers, want) => expect(formatNumberList(numbers)).toBe(want));
});
