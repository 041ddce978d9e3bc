// Server restarted mid-view: the viewer reconnects with backoff, resumes from the last line it
// saw, and shows every line exactly once.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { makeLines, newPage, renderedLines, Server, sleep, startServerAndBrowser, stopServerAndBrowser, waitFor, waitLive } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

it('reconnects after a server restart and shows every line exactly once', async () => {
  const run = await server.createRun('e2e', 'restart');
  await server.batch(run.id, makeLines(1, 20, (i) => ({ message: `before ${i}` })));
  // tall enough that every line of the test is rendered at once
  const page = await newPage(browser, server, { viewport: { width: 1280, height: 1800 } });
  await page.goto(`/runs/${run.id}`);
  await waitLive(page);
  await waitFor(async () => (await renderedLines(page)).length === 20, { what: '20 lines' });
  await server.batch(run.id, makeLines(21, 10, (i) => ({ message: `live ${i}` })));
  await waitFor(async () => (await renderedLines(page)).length === 30, { what: '30 lines' });

  await server.kill();
  await page.waitForSelector('[data-testid="conn-state"][data-state="reconnecting"]');
  await sleep(1500); // a few failed attempts: backoff grows
  await server.spawn();
  // lines written while the viewer is still disconnected, and after it is back
  await server.batch(run.id, makeLines(31, 15, (i) => ({ message: `missed ${i}` })));
  await waitLive(page);
  await server.batch(run.id, makeLines(46, 15, (i) => ({ message: `after ${i}` })));

  await waitFor(async () => (await renderedLines(page)).length >= 60, { what: '60 lines' });
  await sleep(300);
  const lines = await renderedLines(page);
  assert.deepEqual(lines, Array.from({ length: 60 }, (_, i) => i + 1));
  const msgs = await page.$$eval('.row[data-line] .msg', (r) => r.map((x) => x.textContent));
  assert.equal(new Set(msgs).size, 60);
  assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-total'), '60');
  await page.context().close();
});
