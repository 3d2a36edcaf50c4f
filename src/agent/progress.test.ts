import { describe, expect, it } from 'vitest';
import type { ProgressReport } from '../protocol/agent-api.js';
import { AgentError, TransientError } from './errors.js';
import { rateOf, startProgressReporter } from './progress.js';
import { createRateLimiter } from './rate-limit.js';

describe('rateOf', () => {
  it.each([
    ['no samples', [], 0],
    ['one sample', [{ atMs: 0, bytes: 10 }], 0],
    [
      'two seconds of 1 MB/s',
      [
        { atMs: 1000, bytes: 0 },
        { atMs: 2000, bytes: 1e6 },
        { atMs: 3000, bytes: 2e6 },
      ],
      1e6,
    ],
    [
      'a clock that did not move',
      [
        { atMs: 5, bytes: 0 },
        { atMs: 5, bytes: 100 },
      ],
      0,
    ],
  ])('%s → %d B/s', (_case, samples, want) => expect(rateOf(samples)).toBe(want));
});

describe('startProgressReporter', () => {
  it('delivers every phase in order and every verified chunk once, across failed reports', async () => {
    const sent: ProgressReport[] = [];
    let failNext = 2;
    const reporter = startProgressReporter({
      intervalMs: 20,
      async send(r) {
        if (failNext-- > 0) throw new TransientError('server restarting');
        sent.push(r);
        return { status: 'writing', verifiedCount: 0 };
      },
      onStop: () => expect.fail('must not stop'),
      onWarn: () => undefined,
    });
    reporter.phase('downloading');
    reporter.phase('writing');
    reporter.verified({ index: 3, sizeBytes: 10 });
    reporter.verified({ index: 4, sizeBytes: 10 });
    reporter.phase('verifying');
    await reporter.drain(5_000);
    reporter.stop();
    expect(sent.map((r) => r.phase).slice(0, 3)).toEqual(['downloading', 'writing', 'verifying']);
    expect(sent.flatMap((r) => r.verifiedChunks)).toEqual([3, 4]);
    expect(reporter.unsent()).toEqual([]);
  });

  it('reports written bytes as chunks land, before any is verified, and counts a rewrite once', async () => {
    const sent: ProgressReport[] = [];
    const reporter = startProgressReporter({
      intervalMs: 1000,
      async send(r) {
        sent.push(r);
        return { status: 'writing', verifiedCount: 0 };
      },
      onStop: () => expect.fail('must not stop'),
      onWarn: () => undefined,
    });
    reporter.setTotal(400);
    reporter.written({ index: 0, sizeBytes: 100 });
    reporter.written({ index: 1, sizeBytes: 100 });
    reporter.phase('writing');
    await reporter.drain(1000);
    reporter.written({ index: 1, sizeBytes: 100 });
    reporter.verified({ index: 0, sizeBytes: 100 });
    reporter.verified({ index: 2, sizeBytes: 100 });
    reporter.phase('verifying');
    await reporter.drain(1000);
    reporter.stop();
    expect(
      sent.map(({ phase, bytesWritten, bytesDone, bytesTotal }) => ({ phase, bytesWritten, bytesDone, bytesTotal })),
    ).toEqual([
      { phase: 'writing', bytesWritten: 200, bytesDone: 0, bytesTotal: 400 },
      // chunk 2 was resumed: verified on the card without a write, so it is on the card all the same
      { phase: 'verifying', bytesWritten: 300, bytesDone: 200, bytesTotal: 400 },
    ]);
  });

  it('stops the agent when the server says the deployment ended', async () => {
    const stopped: AgentError[] = [];
    const reporter = startProgressReporter({
      intervalMs: 1000,
      send: async () => ({ status: 'failed', verifiedCount: 0 }),
      onStop: (e) => stopped.push(e),
      onWarn: () => undefined,
    });
    reporter.phase('writing');
    await reporter.drain(1000);
    reporter.stop();
    expect(stopped.map((e) => e.code)).toEqual(['AGENT_SUPERSEDED']);
  });
});

describe('createRateLimiter', () => {
  it('lets one second of credit through at once, then paces to the rate', async () => {
    let now = 0;
    const limiter = createRateLimiter(1000, () => now);
    const t0 = performance.now();
    await limiter.take(1000);
    expect(performance.now() - t0).toBeLessThan(50);
    await limiter.take(100); // 100 bytes over budget at 1000 B/s: about 100 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    now += 5000; // five idle seconds refill at most one second of credit
    const t1 = performance.now();
    await limiter.take(1000);
    expect(performance.now() - t1).toBeLessThan(50);
  });
});
