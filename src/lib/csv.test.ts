import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.js';

describe('toCsv', () => {
  const cols = [
    { title: 'a', value: (r: { a: unknown }) => r.a },
    { title: 'b,c', value: () => 'x' },
  ];
  it('quotes what needs quoting and neutralises formulas', () => {
    expect(toCsv([{ a: 'he said "hi"' }, { a: '=cmd()' }, { a: null }, { a: 'line\nbreak' }], cols)).toBe(
      'a,"b,c"\r\n"he said ""hi""",x\r\n\'=cmd(),x\r\n,x\r\n"line\nbreak",x\r\n',
    );
  });
});
