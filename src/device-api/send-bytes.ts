import type { FastifyReply, FastifyRequest } from 'fastify';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { ErrorBody } from '../lib/http-server.js';
import { parseRange } from '../lib/http-range.js';
import type { ByteRange } from '../protocol/manifest.js';
import { DeviceApiError } from './errors.js';

export interface ByteSource {
  /** Size of the whole representation. */
  totalBytes: number;
  /** Strong validator; `If-Range` must match it for a range to be honoured. */
  etag: string;
  /** Collect the bytes before answering, so a failing source gets an error status (use for one chunk at most). */
  bufferWhole?: boolean;
  /** A stream, or bytes already read into a pooled buffer that goes back once the response has left. */
  open(range: ByteRange | undefined): Promise<{ stream: Readable } | { bytes: Buffer; release: () => void }>;
}

/**
 * Answers with a byte source, whole (200) or one range of it (206), with Content-Length, ETag
 * and Accept-Ranges; streams with backpressure. A source that ends short of what was announced
 * cuts the connection, so no client takes a short body for a whole one.
 */
export async function sendBytes(req: FastifyRequest, reply: FastifyReply, src: ByteSource): Promise<FastifyReply> {
  let range = parseRange(req.headers.range, src.totalBytes);
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== src.etag) range = undefined;
  if (range === 'unsatisfiable') {
    const body: ErrorBody = {
      error: `The range ${req.headers.range} starts past the end (${src.totalBytes} bytes)`,
      code: 'DEVICE_RANGE_NOT_SATISFIABLE',
    };
    return reply.code(416).header('content-range', `bytes */${src.totalBytes}`).send(body);
  }
  const part = range && { offsetBytes: range.start, lengthBytes: range.end - range.start + 1 };
  const lengthBytes = part?.lengthBytes ?? src.totalBytes;
  const opened = await src.open(part);
  reply
    .header('accept-ranges', 'bytes')
    .header('etag', src.etag)
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(lengthBytes));
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${src.totalBytes}`);
  if ('bytes' in opened) {
    if (opened.bytes.length !== lengthBytes) {
      opened.release();
      throw short(opened.bytes.length, lengthBytes);
    }
    // 'finish': the socket has taken every byte, so the buffer may be reused. A response cut
    // short never finishes; its buffer is then left to the garbage collector.
    reply.raw.once('finish', opened.release);
    return reply.send(opened.bytes);
  }
  const { stream } = opened;
  if (src.bufferWhole) {
    const parts: Buffer[] = [];
    for await (const p of stream as AsyncIterable<Buffer>) parts.push(p);
    const body = Buffer.concat(parts);
    if (body.length !== lengthBytes) throw short(body.length, lengthBytes);
    return reply.send(body);
  }
  const checked = exactly(lengthBytes);
  // pipeline destroys `checked` when the source fails, which cuts the response.
  pipeline(stream, checked, () => undefined);
  return reply.send(checked);
}

export function short(got: number, want: number): DeviceApiError {
  return new DeviceApiError(
    'DEVICE_CHUNK_DAMAGED',
    `The stored bytes end after ${got} of ${want} bytes; the image store is damaged (delete and import the image again)`,
    {
      got,
      want,
    },
  );
}

/** Passes exactly `lengthBytes` through, and fails (cutting the response) if the source ends before. */
function exactly(lengthBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > lengthBytes ? short(seen, lengthBytes) : null, chunk);
    },
    flush(done) {
      done(seen < lengthBytes ? short(seen, lengthBytes) : null);
    },
  });
}
