/** An inclusive byte range, as HTTP writes it (`bytes=0-99` is 100 bytes). */
export interface ByteSpan {
  start: number;
  end: number;
}

/**
 * The single byte range a `Range` header asks of a representation of `sizeBytes` bytes (RFC 9110
 * §14): undefined when the whole representation is to be sent (no header, a header this server
 * ignores, such as several ranges or another unit), 'unsatisfiable' when it starts past the end.
 */
export function parseRange(header: string | undefined, sizeBytes: number): ByteSpan | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, sizeBytes - suffix), end: sizeBytes - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? sizeBytes - 1 : Math.min(Number(m[2]), sizeBytes - 1);
  if (!Number.isSafeInteger(start) || start >= sizeBytes) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}
