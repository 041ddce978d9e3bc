// npm run bench: the log viewer on a 1,000,000-line run in real Chromium against the real server.
// Prints figures (goals in brackets); asserts nothing.
//   time to first lines [<= 1 s], jump to an arbitrary line [<= 200 ms],
//   frame time while scrolling (wheel, and dragging the scrollbar), JS heap [<= 150 MiB].
import { launchBrowser, newPage, postMillion, Server } from '../e2e/harness.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (x) => `${x.toFixed(1)} ms`;

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
  const frames = async (mode) =>
    page.evaluate(async (mode) => {
      const el = document.querySelector('[data-testid="log-scroller"]');
      const times = [];
      const long = [];
      const obs = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
      obs.observe({ entryTypes: ['longtask'] });
      let last = performance.now();
      const end = last + 3000;
      let i = 0;
      await new Promise((res) => {
        const step = (now) => {
          times.push(now - last);
          last = now;
          if (mode === 'wheel') el.dispatchEvent(new WheelEvent('wheel', { deltaY: 100, bubbles: true, cancelable: true }));
          else el.scrollTop = ((i++ % 100) / 100) * (el.scrollHeight - el.clientHeight);
          if (now < end) requestAnimationFrame(step);
          else res();
        };
        requestAnimationFrame(step);
      });
      obs.disconnect();
      return { times: times.slice(1), long };
    }, mode);
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
} finally {
  await browser.close();
  await server.stop();
}
