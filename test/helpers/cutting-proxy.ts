import { createConnection, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy {
  /** Base URL to give clients instead of the server's. */
  url: string;
  /** Connections cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy that drops connections in the middle of a response: once a connection has carried
 * `cutAfterBytes` towards the client, both sides are destroyed, `cutsMax` times in all. Small
 * exchanges (JSON calls) pass; chunk downloads are cut mid-chunk, as a flaky link would. With
 * `direction: 'up'` it counts and cuts what the client sends instead (uploads cut mid-chunk).
 */
export async function startCuttingProxy(
  target: string,
  o: { cutAfterBytes: number; cutsMax: number; direction?: 'down' | 'up' },
): Promise<CuttingProxy> {
  const upstream = new URL(target);
  let cuts = 0;
  const open = new Set<{ destroy(): void }>();
  const server: Server = createServer((client) => {
    const up = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    open.add(client).add(up);
    client.on('close', () => open.delete(client));
    up.on('close', () => open.delete(up));
    let down = 0;
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    const [from, to] = o.direction === 'up' ? [client, up] : [up, client];
    if (from === client) up.pipe(client);
    else client.pipe(up);
    from.on('data', (data: Buffer) => {
      down += data.length;
      if (cuts < o.cutsMax && down > o.cutAfterBytes) {
        cuts++;
        to.write(data.subarray(0, data.length - (down - o.cutAfterBytes)));
        client.destroy();
        up.destroy();
        return;
      }
      if (!to.write(data)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cuts,
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
