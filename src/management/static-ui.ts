import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { ErrorBody, HttpServer } from '../lib/http-server.js';
import { resolveInside, SafePathError } from '../lib/safe-path.js';

/** Where `npm run build` puts the web UI, relative to this file in src/ and in dist/ alike. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../ui/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names built assets by content hash, so they never change under their name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const NOT_BUILT =
  'UI not built: run npm run build (the web UI is built into ui/dist). The management API works meanwhile under /api/v1.\n';

/**
 * Serves the built web UI: files from `root` (inside it only, through safe-path), `index.html`
 * for client-side routes (GET of a page, not of an API path or a file), and a plain explanation
 * when the UI has not been built.
 */
export function registerStaticUi(app: HttpServer, options: { root: string }): void {
  const { root } = options;

  async function sendFile(reply: FastifyReply, path: string, cache: string): Promise<FastifyReply> {
    const st = await stat(path);
    return reply
      .type(TYPES[extname(path)] ?? 'application/octet-stream')
      .header('content-length', st.size)
      .header('last-modified', st.mtime.toUTCString())
      .header('cache-control', cache)
      .send(createReadStream(path));
  }

  const notFound = (reply: FastifyReply, path: string) =>
    reply.code(404).send({ error: `No route GET ${path}`, code: 'NOT_FOUND' } satisfies ErrorBody);

  app.get('/*', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path === '/api' || path.startsWith('/api/')) return notFound(reply, path);
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return reply
        .code(400)
        .send({ error: `Path ${path} is not valid percent-encoding`, code: 'REQUEST_INVALID' } satisfies ErrorBody);
    }
    if (decoded !== '/') {
      try {
        const file = await resolveInside(root, decoded);
        if ((await stat(file)).isFile())
          return await sendFile(reply, file, decoded.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
      } catch (err) {
        if (err instanceof SafePathError) return notFound(reply, path);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    // Client routes (/venues/CORO) get the app; a missing file (/x.png) or a script's request does not.
    const wantsPage = decoded === '/' || (/\btext\/html\b/.test(req.headers.accept ?? '') && extname(decoded) === '');
    if (!wantsPage) return notFound(reply, path);
    try {
      return await sendFile(reply, join(root, 'index.html'), REVALIDATE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', REVALIDATE).send(NOT_BUILT);
    }
  });
}
