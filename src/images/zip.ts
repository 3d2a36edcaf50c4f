import { Transform, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ImageError } from './errors.js';

/** The one image inside a zip, ready to be streamed. */
export interface ZipImage {
  entryName: string;
  sizeBytes: number;
  /** Raw image bytes; fails if the entry's size or CRC-32 does not match what the zip says. */
  open(): Promise<Readable>;
  close(): void;
}

const isImageName = (name: string) => /\.img$/i.test(name) && !name.endsWith('/');

function corrupt(message: string, cause?: unknown): ImageError {
  return new ImageError(
    'IMAGE_INPUT_CORRUPT',
    `The zip is damaged: ${message.replace(/\.$/, '')}; nothing was imported`,
    { format: 'zip' },
    { cause },
  );
}

/**
 * Opens a zip by its central directory (so it must be a file, not a stream) and finds its one
 * `.img` entry; other files (a README, checksums) are ignored. yauzl checks that the entry
 * inflates to exactly its declared size; the CRC-32 is checked here, since yauzl does not.
 */
export async function openZipImage(path: string): Promise<ZipImage> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
      (err, z) => (err ? reject(corrupt(err.message, err)) : resolve(z)),
    ),
  );
  const images: yauzl.Entry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        if (isImageName(entry.fileName)) images.push(entry);
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', (e: Error) => reject(corrupt(e.message, e)));
      zip.readEntry();
    });
  } catch (e) {
    zip.close();
    throw e;
  }
  if (images.length !== 1) {
    zip.close();
    const names = images.map((e) => e.fileName);
    throw new ImageError(
      'IMAGE_ZIP_CONTENTS',
      images.length === 0
        ? 'The zip holds no .img file; put exactly one image in it'
        : `The zip holds ${images.length} .img files (${names.join(', ')}); put exactly one image in it`,
      { images: names },
    );
  }
  const entry = images[0]!;
  if (entry.isEncrypted()) {
    zip.close();
    throw new ImageError('IMAGE_ZIP_CONTENTS', `${entry.fileName} is encrypted in the zip; store it unencrypted`, {
      images: [entry.fileName],
    });
  }
  return {
    entryName: entry.fileName,
    sizeBytes: entry.uncompressedSize,
    async open() {
      const stream = await zip.openReadStreamPromise(entry);
      let crc = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          crc = crc32(chunk, crc);
          done(null, chunk);
        },
        flush(done) {
          done(crc === entry.crc32 ? null : corrupt(`${entry.fileName} fails its CRC-32 check`));
        },
      });
      stream.on('error', (e: Error) =>
        check.destroy(e instanceof ImageError ? e : corrupt(`${entry.fileName}: ${e.message}`, e)),
      );
      return stream.pipe(check);
    },
    close: () => zip.close(),
  };
}
