import { openFatVolume, type BlockDevice } from '../lib/fat/index.js';
import type { Customisation } from '../protocol/firstboot.js';
import type { Manifest } from '../protocol/manifest.js';
import type { Card } from './card.js';
import { AgentError } from './errors.js';
import { renderFirstBoot } from './firstboot-files.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * Writes the first-boot files into the image's FAT boot partition on the card, in userspace (no
 * mount: the netboot kernel and CI kernels may lack vfat), then reads every one of them back
 * from the medium and compares.
 */
export async function customiseCard(card: Card, manifest: Manifest, c: Customisation): Promise<void> {
  const boot = manifest.boot;
  const part = boot && manifest.partitions.find((p) => p.number === boot.partitionNumber);
  if (!part) throw new AgentError('AGENT_CUSTOMISE_FAILED', 'The image has no FAT boot partition to customise', {});
  try {
    const volume = await openFatVolume(
      partitionDevice(card, part.startBytes, part.sizeBytes, (o, n) => card.read(o, n)),
    );
    const cmdline = await volume.readFile('cmdline.txt').catch(() => {
      throw new AgentError('AGENT_CUSTOMISE_FAILED', 'The boot partition has no cmdline.txt', {});
    });
    const rendered = renderFirstBoot(c, text.decode(cmdline));
    const wanted = [...rendered.files, { path: 'cmdline.txt', content: rendered.cmdline }];
    for (const f of wanted) await volume.writeFile(f.path, utf8.encode(f.content));
    await card.flush();

    const cold = await openFatVolume(
      partitionDevice(card, part.startBytes, part.sizeBytes, async (o, n) => Buffer.from(await card.readBack(o, n))),
    );
    for (const f of wanted) {
      const onCard = text.decode(await cold.readFile(f.path));
      if (onCard !== f.content)
        throw new AgentError('AGENT_CUSTOMISE_FAILED', `${f.path} on the card differs from what was written`, {
          file: f.path,
        });
    }
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw new AgentError(
      'AGENT_CUSTOMISE_FAILED',
      `Customising the boot partition failed: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/** The boot partition of the card as a block device for the FAT library. */
function partitionDevice(
  card: Card,
  startBytes: number,
  sizeBytes: number,
  read: (offsetBytes: number, lengthBytes: number) => Promise<Buffer>,
): BlockDevice {
  const inside = (offsetBytes: number, lengthBytes: number) => {
    if (offsetBytes < 0 || offsetBytes + lengthBytes > sizeBytes)
      throw new AgentError(
        'AGENT_CUSTOMISE_FAILED',
        `Boot partition access at ${offsetBytes}+${lengthBytes} is outside it`,
        {},
      );
  };
  return {
    sizeBytes,
    async read(offsetBytes, lengthBytes) {
      inside(offsetBytes, lengthBytes);
      return read(startBytes + offsetBytes, lengthBytes);
    },
    async write(offsetBytes, data) {
      inside(offsetBytes, data.length);
      await card.writeAt(startBytes + offsetBytes, Buffer.from(data.buffer, data.byteOffset, data.length));
    },
  };
}
