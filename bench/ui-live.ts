/**
 * The live dashboard under fleet load, in the browser (issue 5): 500 boards report progress twice
 * a second through the real device API, and the web UI's dashboard in Debian's Chromium follows
 * them. Measures how long a report takes to show on the page — from when it was due (open loop)
 * to when the board's progress bar changed in the DOM (a MutationObserver in the page) — and how
 * busy the page's main thread and the server are meanwhile. bench/live.ts measures the same
 * channel up to a plain SSE client; the difference is the UI's share (parsing, the 250 ms batch,
 * React rendering 500 rows). Target: p95 ≤ 1 s. Usage: npm run bench -- ui-live
 */
import type { CDPSession } from 'playwright-core';
import { tempDir } from '../test/helpers/temp-dir.js';
import { launchBrowser } from '../test/ui/browser.js';
import {
  BOARDS,
  cpuSeconds,
  DURATION_S,
  LIVE_PASSWORD,
  post,
  REPORTS_PER_S,
  startLiveFleet,
  WARMUP_S,
} from './live.js';

/**
 * Runs before the app: notes when each progress event reaches the page (the live stream read
 * through a tee of the app's own fetch), so the UI's share of the latency can be told apart from
 * the server's and the load generator's on a shared machine.
 */
const TAP_STREAM = `(() => {
  window.__arrivals = [];
  const original = window.fetch;
  window.fetch = async (...args) => {
    const res = await original(...args);
    if (!String(args[0]).includes('/api/v1/events') || !res.body) return res;
    const [mine, theirs] = res.body.tee();
    (async () => {
      const reader = mine.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.timeOrigin + performance.now();
        for (const m of value.matchAll(/"type":"deployment.progress","data":\\{[^}]*"serial":"([0-9a-f]+)"[^}]*"bytesDone":(\\d+),"bytesTotal":(\\d+)/g)) {
          window.__arrivals.push([m[1], Math.floor((Number(m[2]) / Number(m[3])) * 100), at]);
        }
      }
    })().catch((e) => (window.__tapError = String(e)));
    return new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
})()`;

/** Collects every progress-bar change as [serial, percent, epoch ms] inside the page. */
const OBSERVE = `(() => {
  window.__changes = [];
  new MutationObserver((records) => {
    const at = performance.timeOrigin + performance.now();
    for (const r of records) {
      const row = r.target.closest('li.board[data-serial]');
      if (row) window.__changes.push([row.dataset.serial, Number(r.target.getAttribute('aria-valuenow')), at]);
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
})()`;

/** Seconds the page's main thread spent so far: in all, running script, and in style and layout. */
async function mainThreadSeconds(cdp: CDPSession): Promise<{ task: number; script: number; layout: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = (name: string) => metrics.find((x) => x.name === name)?.value ?? NaN;
  return {
    task: m('TaskDuration'),
    script: m('ScriptDuration'),
    layout: m('LayoutDuration') + m('RecalcStyleDuration'),
  };
}

export async function benchUiLive(): Promise<string[]> {
  const dir = tempDir('rpi-deploy-bench-ui-live-');
  const browser = await launchBrowser();
  try {
    const { management, device, agent, pid, boards, stop } = await startLiveFleet(dir.path, 0xbf);
    try {
      const page = await browser.page();
      await page.addInitScript(TAP_STREAM);
      await page.goto(management.href);
      await page.getByLabel('Username').fill('bench');
      await page.getByLabel('Password').fill(LIVE_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('Live', { exact: true }).waitFor();
      await page.waitForFunction(`document.querySelectorAll('li.board[data-serial]').length === ${BOARDS}`, undefined, {
        timeout: 30_000,
      });
      await page.evaluate(OBSERVE);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');

      // Report k of each board says k % done, so every report changes its bar (1 % … 46 %).
      const due = new Map<string, number>();
      let failed = 0;
      const pending: Promise<void>[] = [];
      const start = performance.now();
      const total = Math.round(BOARDS * REPORTS_PER_S * (WARMUP_S + DURATION_S));
      let measuredFrom = Infinity;
      let cpuStart = 0;
      let mainStart = { task: 0, script: 0, layout: 0 };
      let wallStart = 0;
      for (let i = 0; i < total; i++) {
        const at = start + (i * 1000) / (BOARDS * REPORTS_PER_S);
        if (measuredFrom === Infinity && at - start >= WARMUP_S * 1000) {
          measuredFrom = performance.timeOrigin + at;
          cpuStart = cpuSeconds(pid);
          mainStart = await mainThreadSeconds(cdp);
          wallStart = performance.now();
        }
        const wait = at - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const board = boards[i % BOARDS]!;
        const percent = Math.floor(i / BOARDS) + 1;
        due.set(`${board.serial}:${percent}`, performance.timeOrigin + at);
        const bytesDone = Math.ceil((board.bytesTotal * percent) / 100);
        pending.push(
          post(
            agent,
            device,
            `/v1/deployments/${board.deploymentId}/progress`,
            {
              phase: 'writing',
              bytesWritten: bytesDone,
              bytesDone,
              bytesTotal: board.bytesTotal,
              rateBytesPerSec: 20_000_000,
              verifiedChunks: [],
            },
            { authorization: `Bearer ${board.token}` },
          ).then(
            (r) => void (r.status !== 200 && failed++),
            () => void failed++,
          ),
        );
      }
      await Promise.all(pending);
      const cpu = cpuSeconds(pid) - cpuStart;
      const mainEnd = await mainThreadSeconds(cdp);
      const busy = (k: keyof typeof mainEnd) => `${(((mainEnd[k] - mainStart[k]) / wall) * 100).toFixed(0)} %`;
      const wall = (performance.now() - wallStart) / 1000;
      await new Promise((r) => setTimeout(r, 1500));

      const changes = await page.evaluate<[string, number, number][]>('window.__changes');
      const arrivals = new Map(
        (await page.evaluate<[string, number, number][]>('window.__arrivals')).map(([serial, percent, at]) => [
          `${serial}:${percent}`,
          at,
        ]),
      );
      const latencies: number[] = [];
      const inPage: number[] = [];
      const toPage: number[] = [];
      let shown = 0;
      for (const [serial, percent, at] of changes) {
        const key = `${serial}:${percent}`;
        const t = due.get(key);
        if (t === undefined) continue;
        due.delete(key);
        shown++;
        if (t < measuredFrom) continue;
        latencies.push(at - t);
        const arrived = arrivals.get(key);
        if (arrived !== undefined) {
          inPage.push(at - arrived);
          toPage.push(arrived - t);
        }
      }
      const q = (xs: number[], p: number) =>
        (xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN).toFixed(0);
      return [
        `${BOARDS} boards × ${REPORTS_PER_S}/s into one dashboard in Chromium: ${total} reports (${failed} failed); ${shown} bar changes seen on the page ` +
          `(a report superseded within one 250 ms batch is drawn once, so fewer is expected); report due → bar changed p50 ${q(latencies, 0.5)} ms, ` +
          `p95 ${q(latencies, 0.95)} ms, p99 ${q(latencies, 0.99)} ms, max ${q(latencies, 1)} ms, of which due → reached the page p50 ${q(toPage, 0.5)} ms, ` +
          `p95 ${q(toPage, 0.95)} ms and reached the page → bar changed (the UI) p50 ${q(inPage, 0.5)} ms, p95 ${q(inPage, 0.95)} ms; page main thread busy ${busy('task')} (script ${busy('script')}, style and layout ${busy('layout')}); ` +
          `server CPU ${(cpu / wall).toFixed(2)} cores`,
      ];
    } finally {
      stop();
    }
  } finally {
    await browser.close();
    dir.remove();
  }
}
