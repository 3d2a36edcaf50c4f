import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { PoolImportResult } from '../../../src/protocol/fleet.js';
import { PoolImportForm } from './pool-import-form.js';

const preview = (extra: Partial<PoolImportResult>): PoolImportResult => ({
  venue: 'CORO',
  product: 'KXP2',
  added: 1,
  duplicates: 0,
  invalid: 2,
  lines: [
    {
      line: 1,
      text: 'alpha',
      added: [],
      duplicates: [],
      errors: ['"alpha" is not a number or a range (e.g. 7 or 1-60)'],
    },
    {
      line: 2,
      text: 'beta',
      added: [],
      duplicates: [],
      errors: ['"beta" is not a number or a range (e.g. 7 or 1-60)'],
    },
    { line: 3, text: '7', added: [7], duplicates: [], errors: [] },
  ],
  ...extra,
});

const render = (result: PoolImportResult) =>
  renderToStaticMarkup(
    <PoolImportForm
      product="KXP2"
      preview={result}
      committed={false}
      errors={{ fields: {} }}
      busy={false}
      onPreview={() => undefined}
      onCommit={() => undefined}
      onChange={() => undefined}
    />,
  );

describe('PoolImportForm', () => {
  it('keeps Import off behind a confirmation when the preview says most lines are invalid', () => {
    const html = render(preview({ confirm: '2 of 3 lines hold no valid number: is this the right file?' }));
    expect(html).toContain('2 of 3 lines hold no valid number: is this the right file?');
    expect(html).toMatch(/<input type="checkbox"\/> This is the right file: import\s+the 1 valid number anyway/);
    expect(html).toMatch(/<button type="button" class="btn btn-primary" disabled="">Import 1 number<\/button>/);
  });

  it('offers Import at once when the preview needs no confirmation', () => {
    const html = render(preview({}));
    expect(html).not.toContain('This is the right file');
    expect(html).toMatch(/<button type="button" class="btn btn-primary">Import 1 number<\/button>/);
  });
});
