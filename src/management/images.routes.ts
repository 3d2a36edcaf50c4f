import { PassThrough, Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { createEmit, type EventBus } from '../lib/event-bus.js';
import type { HttpServer } from '../lib/http-server.js';
import type { ImageService } from '../images/index.js';
import type { FleetEvent, FleetEvents } from '../protocol/events.js';
import { ImageDiff } from '../protocol/image-diff.js';
import { Image, ImageImportInput } from '../protocol/images.js';
import { ImportedImage, SanitiseStep, type SanitiseReport } from '../protocol/sanitise.js';
import { actorName } from './auth/principal.js';
import { ManagementError } from './errors.js';
import { ForceQuery, IdParam, NoContent } from './route-schemas.js';

/** What browsers and tools call the files an image comes in; all are taken as a byte stream. */
const UPLOAD_TYPES = [
  'application/octet-stream',
  'application/x-xz',
  'application/gzip',
  'application/x-gzip',
  'application/zstd',
  'application/zip',
  'application/x-zip-compressed',
];

const UploadQuery = Type.Object(
  {
    ...ImageImportInput.properties,
    filename: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'the uploaded file’s name, for messages (the format is told by its first bytes)',
      }),
    ),
    sanitise: Type.Optional(
      Type.Boolean({ description: 'reset the golden board identity in the image before storing it (docs/images.md)' }),
    ),
    keep: Type.Optional(
      Type.Array(SanitiseStep, { description: 'with sanitise, steps to skip (repeat the parameter)' }),
    ),
  },
  { additionalProperties: false },
);

/** How long a refused upload is read on and thrown away so the client can see the answer. */
const REFUSED_UPLOAD_DRAIN_MS = 10_000;

/**
 * An upload refused before its body was read (not signed in, bad query, unknown product) would
 * otherwise be answered while the client is still sending, and most HTTP clients report that as a
 * broken pipe instead of showing our message. So the rest of the body is read and discarded first,
 * for a bounded time; after that the connection is closed anyway.
 */
async function drainRefusedUpload(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const raw = req.raw;
  if (reply.statusCode < 400 || raw.readableEnded || raw.destroyed) return payload;
  void reply.header('connection', 'close');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, REFUSED_UPLOAD_DRAIN_MS);
    raw.once('end', () => (clearTimeout(timer), resolve()));
    raw.once('close', () => (clearTimeout(timer), resolve()));
    raw.resume();
  });
  return payload;
}

/** Master images: upload (streamed), list, inspect, choose the active one per product, delete. */
export function registerImageRoutes(
  app: HttpServer,
  { images, events, clock }: { images: ImageService; events: EventBus<FleetEvent>; clock: () => Date },
): void {
  const emit = createEmit<FleetEvents>(events, clock);
  const tags = ['images'];
  // The upload is handed on as the request stream itself: never buffered, so no body limit applies.
  app.addContentTypeParser(UPLOAD_TYPES, (_req, payload, done) => done(null, payload));

  app.post(
    '/images',
    {
      config: { access: 'operator', audit: 'image.upload' },
      onSend: drainRefusedUpload,
      schema: {
        tags,
        description:
          'The image file (raw .img, .xz, .gz, .zst or a .zip holding one .img) is the request body, Content-Type application/octet-stream. Progress: image.progress live events.',
        querystring: UploadQuery,
        response: { 201: ImportedImage },
      },
    },
    async (req, reply) => {
      const { filename, sanitise, keep, ...input } = req.query;
      if (keep && !sanitise)
        throw new ManagementError('MANAGEMENT_INPUT_INVALID', 'keep only applies with sanitise=true');
      if (!(req.body instanceof Readable)) {
        throw new ManagementError(
          'MANAGEMENT_UPLOAD_TYPE',
          'Send the image file itself as the request body, with Content-Type: application/octet-stream',
        );
      }
      const aborted = new AbortController();
      // A browser tab closed mid-upload: stop reading, and the import leaves nothing behind.
      reply.raw.once('close', () => reply.raw.writableFinished || aborted.abort());
      const length = Number(req.headers['content-length']);
      const by = actorName(req.principal);
      // A failed import destroys its source; were that the request, its socket would close before
      // the answer (a full disk read as a dropped connection). Through this, the rest is drained.
      const body = new PassThrough();
      req.body.once('error', (e) => body.destroy(e));
      req.body.pipe(body);
      let report: SanitiseReport | undefined;
      const image = await images.import(
        {
          stream: body,
          name: filename ?? `${input.product}-${input.version}`,
          sizeBytes: Number.isFinite(length) ? length : null,
        },
        input,
        {
          signal: aborted.signal,
          onProgress: (p) => emit('image.progress', { product: input.product, version: input.version, ...p, by }),
          ...(sanitise && { sanitise: { keep: keep ?? [] }, onSanitised: (r) => (report = r) }),
        },
      );
      return reply.code(201).send(report ? { ...image, sanitise: report } : image);
    },
  );
  app.get(
    '/images',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        querystring: Type.Object(
          { product: Type.Optional(Type.String({ maxLength: 16 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Image) },
      },
    },
    (req) => images.list({ product: req.query.product }),
  );
  app.get(
    '/images/:id',
    { config: { access: 'viewer' }, schema: { tags, params: IdParam, response: { 200: Image } } },
    (req) => images.get(req.params.id),
  );
  app.get(
    '/images/:id/diff',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        description: 'How this image differs from the image `from`: chunks, bytes and the files whose blocks changed.',
        params: IdParam,
        querystring: Type.Object({ from: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        response: { 200: ImageDiff },
      },
    },
    (req) => images.diff(req.query.from, req.params.id),
  );
  app.post(
    '/images/:id/activate',
    {
      config: { access: 'operator', audit: 'image.activate' },
      schema: { tags, params: IdParam, response: { 200: Image } },
    },
    (req) => images.activate(req.params.id),
  );
  app.post(
    '/images/:id/deactivate',
    {
      config: { access: 'operator', audit: 'image.deactivate' },
      schema: { tags, params: IdParam, response: { 200: Image } },
    },
    (req) => images.deactivate(req.params.id),
  );
  app.delete(
    '/images/:id',
    {
      config: { access: 'operator', audit: 'image.delete' },
      schema: { tags, params: IdParam, querystring: ForceQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      await images.remove(req.params.id, { force: req.query.force ?? false });
      return reply.code(204).send(null);
    },
  );
}
