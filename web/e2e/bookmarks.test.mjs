// Bookmarks in the viewer (issue 13): select a line range, bookmark it with a note, see it in the
// side panel after a reload (stored by the server), jump to it, delete it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newPage, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

describe('bookmarks', () => {
  it('bookmarks a range with a note, lists it after a reload, jumps to it and deletes it', async () => {
    const r = await server.createRun('marks', 'trainer');
    await server.batch(r.id, Array.from({ length: 3000 }, (_, i) => ({ seq: i, message: `step ${i + 1}` })));
    const page = await newPage(browser, server);
    await page.goto(`/runs/${r.id}#L12-L15`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await page.click('[data-testid="bookmarks-toggle"]');
    await page.waitForSelector('[data-testid="bookmarks-panel"]');
    await page.fill('[data-testid="bookmark-note"]', 'loss spike starts');
    await page.click('[data-testid="bookmark-add"]');
    await page.waitForSelector('[data-testid="bookmark"][data-line="12"]');
    assert.match(await page.textContent('[data-testid="bookmark"]'), /L12–L15\s*loss spike starts/);

    // Stored on the server: a fresh page at the end of the run lists it, and a click jumps there.
    await page.goto(`/runs/${r.id}`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await page.click('[data-testid="bookmarks-toggle"]');
    await page.waitForSelector('[data-testid="bookmark"][data-line="12"]');
    await page.click('[data-testid="bookmark"] a');
    await waitFor(async () => page.url().endsWith('#L12-L15'), { what: 'the bookmark permalink' });
    await waitFor(async () => (await page.$('[data-testid="log-rows"] .row.hl[data-line="15"]')) !== null, { what: 'lines 12-15 highlighted' });

    await page.click('[data-testid="bookmark-delete"]');
    await waitFor(async () => (await page.$('[data-testid="bookmark"]')) === null, { what: 'bookmark gone' });
    const left = await server.req('GET', `/runs/${r.id}/bookmarks`);
    assert.deepEqual(left.bookmarks, []);
    await page.close();
  });
});
