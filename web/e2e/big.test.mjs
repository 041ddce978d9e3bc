// A 1,000,000-line run opens quickly and any line (here 500,000) is reachable, by "go to line"
// and by the scrollbar, while the page holds only a window of lines.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { newPage, postMillion, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

it('opens a 1,000,000-line run and reaches line 500,000', async () => {
  const run = await server.createRun('e2e', 'million');
  const t = Date.now();
  await postMillion(server, run.id);
  console.log(`# posted 1,000,000 lines in ${Date.now() - t} ms`);
  const page = await newPage(browser, server);
  const t1 = Date.now();
  await page.goto(`/runs/${run.id}`);
  await page.waitForSelector('.row[data-line="1000000"]');
  console.log(`# first lines (tail) after ${Date.now() - t1} ms`);
  assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-total'), '1000000');

  await page.fill('[data-testid="goto-input"]', '500000');
  const t2 = Date.now();
  await page.press('[data-testid="goto-input"]', 'Enter');
  await page.waitForSelector('.row.hl[data-line="500000"]');
  console.log(`# go to line 500,000 in ${Date.now() - t2} ms`);
  assert.equal(await page.textContent('.row[data-line="500000"] .msg'), `step 500000 loss=${(2 / Math.log(500002)).toFixed(5)} lr=3e-4`);
  assert.match(page.url(), /#L500000$/);

  // the scrollbar spans the run: its middle is the middle of the run
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="log-scroller"]');
    el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
  });
  await waitFor(
    async () => {
      const lines = await page.$$eval('.row[data-line]', (r) => r.map((x) => Number(x.dataset.line)));
      return lines.length > 10 && Math.abs(lines[0] - 500_000) < 100;
    },
    { what: 'rows near the middle' },
  );
  // scroll to the very end and back to the start by the scrollbar
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="log-scroller"]');
    el.scrollTop = 0;
  });
  await page.waitForSelector('.row[data-line="1"]');
  // a filtered view (every 8th line is an ERROR: 125,000 rows) is positioned through locate
  await page.goto(`/runs/${run.id}?level=ERROR#L500000`);
  await page.waitForSelector('.row.hl[data-line="500000"]');
  assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-total'), '125000');
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="log-scroller"]');
    el.scrollTop = (el.scrollHeight - el.clientHeight) * 0.25;
  });
  await waitFor(
    async () => {
      const lines = await page.$$eval('.row[data-line]', (r) => r.map((x) => Number(x.dataset.line)));
      return lines.length > 10 && Math.abs(lines[0] - 250_000) < 1000 && lines.every((n, i) => i === 0 || n === lines[i - 1] + 8);
    },
    { what: 'ERROR rows near a quarter of the run' },
  );
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(`# JS heap ${(heap / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(heap < 150 * 2 ** 20, `heap ${heap}`);
  await page.context().close();
});
