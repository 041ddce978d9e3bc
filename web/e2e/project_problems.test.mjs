// The project page answers "which runs hit CUDA OOM this week" (issue 13): runs with the problem
// are listed, the others are not, and a click opens the viewer at the problem's line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newPage, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

describe('project problems', () => {
  it('lists the runs that hit a kind of problem and opens one at its line', async () => {
    const oom = await server.createRun('gpus', 'big-batch');
    await server.batch(oom.id, [
      ...Array.from({ length: 30 }, (_, i) => ({ seq: i, message: `step ${i}` })),
      { seq: 30, message: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.' },
    ]);
    const fine = await server.createRun('gpus', 'small-batch');
    await server.batch(fine.id, Array.from({ length: 30 }, (_, i) => ({ seq: i, message: `step ${i}` })));
    const page = await newPage(browser, server);
    await page.goto('/projects/gpus');
    await page.waitForSelector('[data-testid="project-problems"]');
    await page.selectOption('[data-testid="project-problems-kind"]', 'cuda_oom');
    await page.selectOption('[data-testid="project-problems-window"]', '7d');
    await page.click('[data-testid="project-problems-go"]');
    await page.waitForSelector('[data-testid="project-problems-headline"]');
    assert.equal(await page.textContent('[data-testid="project-problems-headline"]'), '1 run hit CUDA OOM this week (7 days)');
    const ids = await page.$$eval('[data-testid="project-problems-run"]', (els) => els.map((e) => e.getAttribute('data-run-id')));
    assert.deepEqual(ids, [oom.id]);

    await page.selectOption('[data-testid="project-problems-kind"]', 'nan_loss');
    await page.click('[data-testid="project-problems-go"]');
    await waitFor(async () => (await page.textContent('[data-testid="project-problems-headline"]')).startsWith('No run hit NaN loss'), { what: 'no NaN runs' });

    await page.selectOption('[data-testid="project-problems-kind"]', 'cuda_oom');
    await page.click('[data-testid="project-problems-go"]');
    await page.waitForSelector(`[data-testid="project-problems-run"][data-run-id="${oom.id}"] a`);
    await page.click(`[data-testid="project-problems-run"][data-run-id="${oom.id}"] a`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await waitFor(async () => page.url().endsWith(`/runs/${oom.id}#L31`), { what: 'viewer at line 31' });
    await page.close();
  });
});
