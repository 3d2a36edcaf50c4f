import { describe, expect, it } from 'vitest';
import { parsePoolInput, poolInputProblem } from './pool-input.js';

const numbers = (text: string) => parsePoolInput(text).flatMap((l) => l.numbers);
const errors = (text: string) => parsePoolInput(text).flatMap((l) => l.errors.map((e) => `${l.line}: ${e}`));

describe('parsePoolInput', () => {
  it.each([
    ['a list', '1, 2,3;4', [1, 2, 3, 4]],
    ['a range', '1-5', [1, 2, 3, 4, 5]],
    ['a spaced range', '1 - 3', [1, 2, 3]],
    ['pasted lines with blanks and comments', '7\n\n# spare karts\n008\r\n9\n', [7, 8, 9]],
    ['tabs from a spreadsheet', '1\t2\t3', [1, 2, 3]],
    ['a CSV with a header keeps only the number column', 'kart_number,label\n4,front\n5,"back, left"\n', [4, 5]],
    ['a single-column header', 'Number\n10\n11', [10, 11]],
    ['quoted cells', '"12","13"', [12, 13]],
  ])('reads %s', (_case, text, want) => expect(numbers(text)).toEqual(want));

  it('reports every bad entry on its own line and keeps the good ones', () => {
    const text = '1\nabc\n3-1\n4,x5,6\n1000000';
    expect(numbers(text)).toEqual([1, 4, 6]);
    expect(errors(text)).toEqual([
      '2: "abc" is not a number or a range (e.g. 7 or 1-60)',
      '3: range 3-1 runs backwards; write 1-3',
      '4: "x5" is not a number or a range (e.g. 7 or 1-60)',
      '5: 1000000 is larger than 999999',
    ]);
  });

  it('counts line numbers from the original text', () => {
    expect(parsePoolInput('\n\n5\n#x\nbad').map((l) => l.line)).toEqual([3, 5]);
  });

  it('keeps duplicates inside the input for the importer to report', () => {
    expect(numbers('1,1\n1-2')).toEqual([1, 1, 1, 2]);
  });

  it('refuses a range that is almost certainly a typo', () => {
    expect(errors('1-200000')).toEqual(['1: range 1-200000 holds more than 100000 numbers']);
  });

  it('reads SQL-looking and Unicode input as plain invalid text', () => {
    expect(numbers('1; DROP TABLE pool_entries; --\n２')).toEqual([1]);
    expect(errors('1; DROP TABLE pool_entries; --\n２')).toHaveLength(5);
  });
});

describe('poolInputProblem (issue 12 item 8: 3 MB of random bytes added 9 numbers)', () => {
  const randomText = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)).toString('utf8');

  it.each([
    ['binary bytes read as UTF-8', randomText, /not text/],
    ['a NUL byte', '1\n2\u0000\n3', /not text.*line 2/],
    ['other control characters', '1-5\n\u0001\u0002\u0003', /not text.*line 2/],
  ])('refuses %s as not text', (_case, text, message) => {
    expect(poolInputProblem(text, parsePoolInput(text))).toMatchObject({
      kind: 'not-text',
      message: expect.stringMatching(message),
    });
  });

  it('asks for confirmation when most lines hold no valid number', () => {
    const text = 'alpha\nbeta\n3\ngamma';
    expect(poolInputProblem(text, parsePoolInput(text))).toMatchObject({
      kind: 'mostly-invalid',
      message: expect.stringMatching(/3 of 4 lines/),
    });
  });

  it.each([
    ['a clean list', '1-60\n61, 62'],
    ['a CSV with labels', 'kart_number,label\n4,front\n5,"back, left"\n'],
    ['half the lines bad (not most)', '1\nx\n2\ny'],
    ['tabs, CR LF and Unicode text', '1\t2\r\n３ is not ascii\n4'],
  ])('accepts %s', (_case, text) => {
    expect(poolInputProblem(text, parsePoolInput(text))).toBeNull();
  });
});
