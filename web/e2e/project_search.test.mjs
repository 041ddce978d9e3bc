// Project-wide search on the project page (issue 14): which runs printed a text, how often, the
// first matching lines highlighted, and a click opens the viewer at that line with the search on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newPage, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const OOM = 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB';

async function run(project, name, oomAt) {
  const r = await server.createRun(project, name);
  const lines = Array.from({ length: 300 }, (_, i) => ({ seq: i, message: oomAt.includes(i + 1) ? OOM : `step ${i} loss ${(1 / (i + 1)).toFixed(4)}` }));
  await server.batch(r.id, lines);
  return r;
}

describe('project search', () => {
  it('lists the runs that printed a text with counts and previews, and opens the viewer at a match', async () => {
    const a = await run('vision', 'resnet-a', [40, 41, 250]);
    await run('vision', 'resnet-b', []);
    const c = await run('vision', 'resnet-c', [7]);
    await run('other', 'elsewhere', [1]);
    const page = await newPage(browser, server);
    await page.goto('/projects/vision');
    await page.waitForSelector('[data-testid="project-search-input"]');
    await page.fill('[data-testid="project-search-input"]', 'cuda out of MEMORY');
    await page.press('[data-testid="project-search-input"]', 'Enter');
    await waitFor(async () => (await page.getAttribute('[data-testid="project-search-status"]', 'data-busy')) === '0' && (await page.$$('[data-testid="search-run"]')).length === 2, {
      what: 'two runs with matches',
    });
    // Newest runs first: c was created after a.
    const ids = await page.$$eval('[data-testid="search-run"]', (els) => els.map((e) => e.getAttribute('data-run-id')));
    assert.deepEqual(ids, [c.id, a.id]);
    const counts = await page.$$eval('[data-testid="search-run-count"]', (els) => els.map((e) => e.textContent));
    assert.deepEqual(counts, ['1 match', '3 matches']);
    assert.match(await page.textContent('[data-testid="project-search-status"]'), /2 runs with matches of 3 searched/);
    const previews = await page.$$eval(`[data-run-id="${a.id}"] [data-testid="search-preview"]`, (els) => els.map((e) => e.textContent));
    assert.deepEqual(previews, [`40 ${OOM}`, `41 ${OOM}`, `250 ${OOM}`]);
    assert.equal(await page.textContent(`[data-run-id="${a.id}"] [data-testid="search-preview"] mark`), 'CUDA out of memory');

    await page.click(`[data-run-id="${a.id}"] [data-testid="search-preview"]:nth-of-type(3)`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await waitFor(async () => page.url().endsWith(`/runs/${a.id}?q=cuda+out+of+MEMORY#L250`), { what: 'viewer URL at line 250 with the search' });
    assert.equal(await page.inputValue('[data-testid="search-input"]'), 'cuda out of MEMORY');
    await waitFor(async () => (await page.$('[data-testid="log-rows"] .row.hl[data-line="250"]')) !== null, { what: 'line 250 highlighted' });
    await page.close();
  });

  it('says when no run printed the text, and explains a bad regex', async () => {
    await run('quiet', 'calm', []);
    const page = await newPage(browser, server);
    await page.goto('/projects/quiet');
    await page.fill('[data-testid="project-search-input"]', 'Segmentation fault');
    await page.press('[data-testid="project-search-input"]', 'Enter');
    await page.waitForSelector('[data-testid="project-search-none"]');
    await page.check('[data-testid="project-search-regex"]');
    await page.fill('[data-testid="project-search-input"]', '(unclosed');
    await page.click('[data-testid="project-search-go"]');
    await page.waitForSelector('[data-testid="project-search-error"]');
    assert.match(await page.textContent('[data-testid="project-search-error"]'), /regex/i);
    await page.close();
  });
});
