import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** Base URL to give clients instead of the server's. */
  url: string;
  /** Chunk indexes requested with GET …/chunks/N, in order. */
  chunks: number[];
  /** Response body bytes the server sent for those chunk requests. */
  chunkBytes(): number;
  close(): Promise<void>;
}

/** An HTTP proxy in front of the device API that counts what the server sends for chunks. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const chunks: number[] = [];
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    const chunk = /\/chunks\/(\d+)$/.exec(req.url ?? '');
    if (chunk && req.method === 'GET') chunks.push(Number(chunk[1]));
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (chunk) answer.on('data', (d: Buffer) => (bytes += d.length));
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    chunks,
    chunkBytes: () => bytes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
