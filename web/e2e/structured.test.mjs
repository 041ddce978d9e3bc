// Structured lines in the viewer (issue 13): field chips after the message, a click on a chip
// filters by it, the field-filter box takes comparisons (and says what is wrong), the whole
// fields open as JSON, and a custom level shows its own name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newPage, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const rowLines = (page) => page.$$eval('[data-testid="log-rows"] .row[data-line]', (els) => els.map((e) => Number(e.getAttribute('data-line'))));

describe('structured lines', () => {
  it('shows fields as chips, filters by them, and opens them as JSON', async () => {
    const r = await server.createRun('fields', 'trainer');
    const lines = [];
    for (let i = 0; i < 12; i++) {  // few enough that every row is on screen
      lines.push({ seq: i, message: JSON.stringify({ msg: 'train', step: i, loss: Number((3 - i / 10).toFixed(2)), rank: i % 4 }) });
    }
    lines.push({ seq: 12, message: 'plain text line' });
    lines.push({ seq: 13, message: 'done', level: 'SUCCESS', fields: { best: { step: 39, loss: -0.9 } } });
    await server.batch(r.id, lines);
    const page = await newPage(browser, server);
    await page.goto(`/runs/${r.id}`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await waitFor(async () => (await page.$('.row[data-line="14"]')) !== null, { what: 'all 14 lines' });

    // Chips: step, loss, rank (msg is the message itself); the custom level shows its name.
    const keys = await page.$$eval('.row[data-line="1"] .fchip[data-key]', (els) => els.map((e) => e.getAttribute('data-key')));
    assert.deepEqual(keys, ['step', 'loss', 'rank']);
    assert.equal(await page.textContent('.row[data-line="1"] .fchip[data-key="loss"] .fv'), '3');
    assert.equal((await page.textContent('.row[data-line="14"] .lvl')).trim(), 'SUCCESS');
    assert.equal(await page.$('.row[data-line="13"] [data-testid="fields"]'), null);

    // A chip click keeps only lines with that value.
    await page.click('.row[data-line="2"] .fchip[data-key="rank"]');
    await waitFor(async () => (await rowLines(page)).join() === '2,6,10', { what: 'only rank=1 lines' });
    assert.ok(page.url().includes('field=rank%3D1'), page.url());
    assert.equal(await page.inputValue('[data-testid="field-filter"]'), 'rank=1');

    // A comparison typed in the box, combined with the chip's filter.
    await page.fill('[data-testid="field-filter"]', 'rank=1, loss>2.5');
    await page.press('[data-testid="field-filter"]', 'Enter');
    await waitFor(async () => (await rowLines(page)).join() === '2', { what: 'rank=1 and loss>2.5' });

    // A bad expression is explained and not sent.
    await page.fill('[data-testid="field-filter"]', 'loss>high');
    await page.press('[data-testid="field-filter"]', 'Enter');
    await page.waitForSelector('[data-testid="field-filter-error"]');
    assert.match(await page.textContent('[data-testid="field-filter-error"]'), /needs a number/);
    assert.equal((await rowLines(page)).join(), '2');

    // Clearing brings every line back; the last line's fields open as JSON.
    await page.click('[data-testid="clear-fields"]');
    await waitFor(async () => (await rowLines(page)).includes(14), { what: 'every line again' });
    await page.click('.row[data-line="14"] [data-testid="show-fields"]');
    await page.waitForSelector('[data-testid="fields-panel"]');
    assert.deepEqual(JSON.parse(await page.textContent('[data-testid="fields-json"]')), { best: { step: 39, loss: -0.9 } });
    await page.keyboard.press('Escape');
    await waitFor(async () => (await page.$('[data-testid="fields-panel"]')) === null, { what: 'panel closed' });
    await page.close();
  });
});
