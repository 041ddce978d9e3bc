// npm run bench: the log viewer on a 1,000,000-line run (BENCH_LINES=10000000 for the 10M figures)
// in real Chromium against the real server. Prints figures (goals in brackets); asserts nothing.
//   time to first lines [<= 1 s], jump to an arbitrary line [<= 200 ms],
//   frame time while scrolling (wheel, and dragging the scrollbar), JS heap [<= 150 MiB];
//   then an 8-writer run of BENCH_RANK_LINES (1M) lines with tracebacks, multi-line records and
//   repeated warnings: jump to a line with folding on and with interleave by time [<= 300 ms].
import { launchBrowser, newPage, postMillion, Server } from '../e2e/harness.mjs';
import { scrollFrames } from './scroll_frames.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const RANK_LINES = Number(process.env.BENCH_RANK_LINES ?? 1_000_000);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (x) => `${x.toFixed(1)} ms`;

// The 8-writer run: writers post 1,000-line batches in turn (so line order has timestamp
// inversions across batches); every 5,000th line of writer 0 starts a 6-line traceback, every
// 1,000th line of each writer is the same warning (identical lines across ranks land together in
// time order), every 200th a 2-line logging record.
const TB = ['Traceback (most recent call last):', '  File "train.py", line 88, in <module>', '    loss.backward()', '  File "torch/_tensor.py", line 525, in backward', '    torch.autograd.backward(', 'RuntimeError: CUDA error: an illegal memory access was encountered'];
function rankMessage(w, k) {
  if (w === 0 && k % 5000 >= 1 && k % 5000 <= 6) return TB[(k % 5000) - 1];
  if (k % 1000 === 500) return 'UserWarning: Grad strides do not match bucket view strides.';
  if (k % 200 === 100) return `2024-11-16 10:00:00,000 INFO step ${k} metrics:`;
  if (k % 200 === 101) return `  loss=${(1 / (k + 1)).toFixed(6)} lr=3e-4`;
  return `[rank${w}] step ${k} loss=${(2 / Math.log(k + 3)).toFixed(5)}`;
}
/** Line number of traceback i's third line (inside the fold): writer 0's batches come first in
 * each round of 8 batches of 1,000 lines. */
function tracebackLine(i) {
  const k = i * 5000 + 3; // writer 0's k-th line
  return Math.floor(k / 1000) * 8000 + (k % 1000) + 1;
}
async function postRanks(server, runId, total) {
  const t0 = Date.parse('2024-11-16T10:00:00Z') / 1000;
  const per = total / 8;
  for (let b = 0; b * 1000 < per; b++) {
    for (let w = 0; w < 8; w++) {
      const logs = [];
      for (let k = b * 1000; k < Math.min(per, (b + 1) * 1000); k++) {
        // a traceback is one write: its lines share a timestamp
        const tb = w === 0 && k % 5000 >= 1 && k % 5000 <= 6;
        logs.push({ seq: k, timestamp: t0 + (tb ? k - (k % 5000) + 1 : k) / 100 + w / 1000, message: rankMessage(w, k) });
      }
      await server.batch(runId, logs, `rank-${w}`);
    }
  }
}

const server = await Server.start();
const browser = await launchBrowser();
try {
  const run = await server.createRun('bench', `bench-${LINES}`);
  let t = Date.now();
  await postMillion(server, run.id, LINES);
  console.log(`ingest: ${LINES.toLocaleString('en-US')} lines in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const page = await newPage(browser, server);
  const cdp = await page.context().newCDPSession(page);
  // warm the static files so we time the viewer, not the first disk read
  await page.goto('/');
  await page.waitForSelector('[data-testid="projects-page"]');

  const firsts = [];
  for (let i = 0; i < 3; i++) {
    t = Date.now();
    await page.goto(`/runs/${run.id}`);
    await page.waitForSelector(`.row[data-line="${LINES}"]`, { timeout: 30000 });
    firsts.push(Date.now() - t);
  }
  console.log(`time to first lines (navigation -> tail rendered) [goal <= 1000 ms]: ${firsts.map((x) => `${x} ms`).join(', ')}`);
  // The same with folding off: what asking for the view's folds costs the first lines.
  const unfolded = [];
  for (let i = 0; i < 3; i++) {
    t = Date.now();
    await page.goto(`/runs/${run.id}?fold=0`);
    await page.waitForSelector(`.row[data-line="${LINES}"]`, { timeout: 30000 });
    unfolded.push(Date.now() - t);
  }
  console.log(`time to first lines with folding off (fold=0), for comparison: ${unfolded.map((x) => `${x} ms`).join(', ')}`);

  // Jump to arbitrary lines through "go to line", timed inside the page until the row is painted.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const jumpTo = (n) =>
    page.evaluate(async (n) => {
      const input = document.querySelector('[data-testid="goto-input"]');
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      set.call(input, String(n));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
      const start = performance.now();
      input.form.requestSubmit();
      await new Promise((res) => {
        const check = () =>
          document.querySelector(`.row.hl[data-line="${n}"]`) ? requestAnimationFrame(() => res()) : requestAnimationFrame(check);
        check();
      });
      return performance.now() - start;
    }, n);
  const stats = (xs) => `median ${fmt(pct(xs, 50))}, p90 ${fmt(pct(xs, 90))}, max ${fmt(Math.max(...xs))}`;
  const jumps = [];
  for (let i = 0; i < 10; i++) jumps.push(await jumpTo(1 + Math.floor(rand() * LINES)));
  console.log(
    `jump to a line (10 random lines) [goal <= 200 ms]: median ${fmt(pct(jumps, 50))}, p90 ${fmt(pct(jumps, 90))}, max ${fmt(Math.max(...jumps))}`,
  );
  // the same in a filtered view (level=ERROR, every 8th line): positioned through /logs/locate
  await page.goto(`/runs/${run.id}?level=ERROR`);
  await page.waitForSelector('.row[data-level="ERROR"]');
  const fjumps = [];
  for (let i = 0; i < 10; i++) fjumps.push(await jumpTo(8 * (1 + Math.floor((rand() * LINES) / 8 - 1))));
  console.log(
    `jump to a line in a filtered view (level=ERROR) [goal <= 200 ms]: median ${fmt(pct(fjumps, 50))}, p90 ${fmt(pct(fjumps, 90))}, max ${fmt(Math.max(...fjumps))}`,
  );
  await page.goto(`/runs/${run.id}`);
  await page.waitForSelector(`.row[data-line="${LINES}"]`);

  // Frame times: wheel scrolling (a notch a frame) and dragging the scrollbar (1% of the run a frame).
  const frames = (mode) => page.evaluate(scrollFrames, mode);
  await page.evaluate(() => {
    document.querySelector('[data-testid="log-scroller"]').scrollTop = 0;
  });
  for (const mode of ['wheel', 'scrollbar']) {
    const { times: f, long } = await frames(mode);
    console.log(
      `frame time while scrolling (${mode}, ${f.length} frames in 3 s): mean ${fmt(f.reduce((a, b) => a + b, 0) / f.length)}, p95 ${fmt(pct(f, 95))}, max ${fmt(Math.max(...f))}; long tasks (> 50 ms): ${long.length}`,
    );
  }

  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const pm = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(
    `JS heap after all of the above [goal <= 150 MiB]: used ${(heap.usedSize / 2 ** 20).toFixed(1)} MiB (CDP, after GC), performance.memory ${(pm / 2 ** 20).toFixed(1)} MiB`,
  );

  // --- 8 writers: folds and interleave by time ---------------------------------------------------
  const ranks = await server.createRun('bench', `ranks-${RANK_LINES}`);
  t = Date.now();
  await postRanks(server, ranks.id, RANK_LINES);
  console.log(`ingest: ${RANK_LINES.toLocaleString('en-US')} lines from 8 writers in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  for (const sort of ['line', 'time']) {
    const q = `/runs/${ranks.id}/logs/folds?sort=${sort}`;
    t = Date.now();
    const f = await server.req('GET', q);
    const cold = Date.now() - t;
    t = Date.now();
    await server.req('GET', q);
    console.log(`server: folds of the 8-writer run (sort=${sort}): ${f.start.length.toLocaleString('en-US')} folds hiding ${(f.length.reduce((a, b) => a + b, 0) - f.length.length - f.holes.at.length).toLocaleString('en-US')} lines (${f.holes.at.length.toLocaleString('en-US')} holes); first ${cold} ms, cached ${Date.now() - t} ms`);
  }
  const total = RANK_LINES;
  for (const [label, suffix] of [
    ['folding on', ''],
    ['interleave by time (folding on)', '?sort=time'],
  ]) {
    await page.goto(`/runs/${ranks.id}${suffix}`);
    await page.waitForSelector(`[data-testid="log-scroller"]`);
    // Folds arrived: fewer rows than lines.
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="log-scroller"]');
      return el && Number(el.dataset.rows) < Number(el.dataset.total);
    }, null, { timeout: 30000 });
    const js = [];
    for (let i = 0; i < 10; i++) js.push(await jumpTo(1 + Math.floor(rand() * total)));
    // and lines inside tracebacks (folded: the jump opens the fold)
    const inside = [];
    for (let i = 0; i < 5; i++) inside.push(await jumpTo(tracebackLine(Math.floor(rand() * Math.max(1, total / 8 / 5000 - 1)))));
    console.log(`jump to a line, 8-writer run, ${label} [goal <= 300 ms]: random lines ${stats(js)}; lines inside folded tracebacks ${stats(inside)}`);
  }
  await cdp.send('HeapProfiler.collectGarbage');
  const heap2 = await cdp.send('Runtime.getHeapUsage');
  console.log(`JS heap after the 8-writer views: used ${(heap2.usedSize / 2 ** 20).toFixed(1)} MiB (CDP, after GC)`);
} finally {
  await browser.close();
  await server.stop();
}
