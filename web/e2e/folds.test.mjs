// Folding and interleave-by-time (issue 11) in real Chromium against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copySelection, newPage, renderedLines, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const T0 = Date.parse('2024-11-16T10:00:00Z') / 1000;

const TRACEBACK = [
  'epoch 1 done', // 1
  'Traceback (most recent call last):', // 2
  '  File "train.py", line 12, in <module>', // 3
  '    main()', // 4
  '  File "train.py", line 8, in main', // 5
  '    raise ValueError("bad batch")', // 6
  'ValueError: bad batch', // 7
  'after the crash', // 8
];

async function run(name, lines) {
  const r = await server.createRun('folds', name);
  await server.batch(r.id, lines.map((l, i) => ({ seq: i, timestamp: T0 + i, ...(typeof l === 'string' ? { message: l } : l) })));
  return r;
}

async function open(page, r, suffix = '') {
  await page.goto(`/runs/${r.id}${suffix}`);
  await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
  await waitFor(async () => (await page.$$('[data-testid="log-rows"] .row[data-line]')).length > 0, { what: 'first rows' });
}

const rows = (page) => renderedLines(page).then((l) => JSON.stringify(l));

describe('folding', () => {
  it('a traceback folds to one row, opens by click and by Enter', async () => {
    const r = await run('traceback', TRACEBACK);
    const page = await newPage(browser, server);
    await open(page, r);
    await waitFor(async () => (await rows(page)) === '[1,2,8]', { what: 'the traceback folded into its first line' });
    assert.match(await page.textContent('.row[data-line="2"] [data-testid="fold-badge"]'), /traceback, \+5 lines/);
    assert.equal(await page.getAttribute('.row[data-line="2"]', 'data-fold'), 'closed');
    // Open by click, close by click.
    await page.click('.row[data-line="2"] [data-testid="fold-toggle"]');
    await waitFor(async () => (await rows(page)) === '[1,2,3,4,5,6,7,8]', { what: 'the traceback open' });
    assert.equal(await page.getAttribute('.row[data-line="2"]', 'data-fold'), 'open');
    await page.click('.row[data-line="2"] [data-testid="fold-toggle"]');
    await waitFor(async () => (await rows(page)) === '[1,2,8]', { what: 'closed again' });
    assert.equal(await page.getAttribute('.row[data-line="2"]', 'data-fold'), 'closed');
    // The cursor moves by rows (j skips the folded lines) and Enter opens the entry at it.
    await page.click('.row[data-line="1"] .ln');
    await page.focus('[data-testid="log-scroller"]'); // keys go to the viewer, not the link
    await page.keyboard.press('j');
    await page.waitForSelector('.row.cursor[data-line="2"]');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await rows(page)) === '[1,2,3,4,5,6,7,8]', { what: 'opened by Enter' });
    await page.keyboard.press('Enter');
    await waitFor(async () => (await rows(page)) === '[1,2,8]', { what: 'closed by Enter' });
    await page.keyboard.press('j');
    await page.waitForSelector('.row.cursor[data-line="8"]');
    // ? lists Enter.
    await page.keyboard.press('?');
    assert.match(await page.textContent('[data-testid="shortcuts-help"]'), /Enter.*fold/i);
    await page.keyboard.press('Escape');
    // Folding off: every line, and fold=0 in the URL.
    await page.click('[data-testid="fold-mode"]');
    await waitFor(async () => (await rows(page)) === '[1,2,3,4,5,6,7,8]', { what: 'folding off' });
    assert.match(page.url(), /fold=0/);
    await page.context().close();
  });

  it('identical lines collapse into one row with ×N', async () => {
    const warn = '\u001b[33mWARNING: gradient overflow, skipping step\u001b[0m';
    const r = await server.createRun('folds', 'repeats');
    const at = (i, message) => ({ seq: i, timestamp: T0 + i, message });
    await server.batch(r.id, [at(0, 'start'), at(1, warn), at(2, warn), at(3, warn)]);
    // The same warning from another rank, with the same visible text (no colour).
    await server.batch(r.id, [at(0, 'WARNING: gradient overflow, skipping step')], 'rank-1');
    await server.batch(r.id, [at(4, warn), at(5, warn), at(6, warn), at(7, 'end')]);
    const page = await newPage(browser, server);
    await open(page, r);
    await waitFor(async () => (await rows(page)) === '[1,2,9]', { what: 'seven identical lines as one row' });
    assert.equal((await page.textContent('.row[data-line="2"] [data-testid="fold-badge"]')).trim(), '×7');
    await page.click('.row[data-line="2"] [data-testid="fold-badge"]');
    await waitFor(async () => (await renderedLines(page)).length === 9, { what: 'all nine' });
    await page.context().close();
  });

  it('two ranks failing at once: each traceback folds, the other rank shows between', async () => {
    // DDP: both ranks raise together and their lines arrive interleaved, one at a time.
    const r = await server.createRun('folds', 'ranks');
    const tb = ['Traceback (most recent call last):', '  File "train.py", line 40, in <module>', '    loss.backward()', 'RuntimeError: CUDA out of memory'];
    const seq = [0, 0];
    const post = (rank, message) => server.batch(r.id, [{ seq: seq[rank]++, timestamp: T0 + seq[rank], message }], `rank-${rank}`);
    await post(0, 'step 9');
    for (const t of tb) {
      await post(0, t);
      await post(1, t);
    }
    await post(0, 'after');
    // Lines: 1 step, rank 0's traceback at 2, 4, 6, 8, rank 1's at 3, 5, 7, 9, then 10.
    const page = await newPage(browser, server);
    await open(page, r);
    await waitFor(async () => (await rows(page)) === '[1,2,3,10]', { what: 'both tracebacks folded' });
    for (const line of [2, 3]) assert.match(await page.textContent(`.row[data-line="${line}"] [data-testid="fold-badge"]`), /traceback, \+3 lines/);
    // Copying across the closed folds gives each one's own lines (not the other rank's between).
    assert.equal(await copySelection(page, 2, null), ['step 9', ...tb, ...tb].join('\n'));
    // Opening rank 0's shows its lines; rank 1's stay folded in its row.
    await page.click('.row[data-line="2"] [data-testid="fold-toggle"]');
    await waitFor(async () => (await rows(page)) === '[1,2,3,4,6,8,10]', { what: "rank 0's traceback open" });
    assert.equal(await page.getAttribute('.row[data-line="3"]', 'data-fold'), 'closed');
    // Going to a line of rank 1's traceback opens that one.
    await page.fill('[data-testid="goto-input"]', '7');
    await page.press('[data-testid="goto-input"]', 'Enter');
    await page.waitForSelector('.row.hl[data-line="7"]');
    await waitFor(async () => (await rows(page)) === '[1,2,3,4,5,6,7,8,9,10]', { what: 'both open' });
    await page.context().close();
  });

  it('going to a line inside a fold opens it', async () => {
    const lines = [...Array.from({ length: 200 }, (_, i) => `step ${i + 1}`), ...TRACEBACK, ...Array.from({ length: 200 }, (_, i) => `tail ${i}`)];
    const r = await run('jump', lines);
    const page = await newPage(browser, server);
    await open(page, r, '#L205');
    // Line 205 is inside the traceback at 202..207: the fold opens and the line is selected.
    await page.waitForSelector('.row.hl[data-line="205"]');
    assert.equal(await page.getAttribute('.row[data-line="202"]', 'data-fold'), 'open');
    // From the go-to box too, after closing it again.
    await page.click('.row[data-line="202"] [data-testid="fold-toggle"]');
    await waitFor(async () => !(await renderedLines(page)).includes(205), { what: 'closed' });
    await page.fill('[data-testid="goto-input"]', '206');
    await page.press('[data-testid="goto-input"]', 'Enter');
    await page.waitForSelector('.row.hl[data-line="206"]');
    assert.match(page.url(), /#L206$/);
    await page.context().close();
  });
});


// Three ranks' four steps each, timestamps interleaved, posted rank by rank (2, 0, 1) as ranks
// flush in batches: line order is rank 2's lines 1-4, rank 0's 5-8, rank 1's 9-12.
async function postRanksOutOfOrder(r) {
  for (const rank of [2, 0, 1]) {
    const logs = Array.from({ length: 4 }, (_, k) => ({ seq: k, timestamp: T0 + k * 3 + rank, message: `rank ${rank} step ${k}` }));
    await server.batch(r.id, logs, `rank-${rank}`);
  }
}

describe('interleave by time', () => {
  it('orders a 3-writer run with timestamp inversions by time', async () => {
    const r = await server.createRun('folds', 'ranks');
    // Ranks flush in batches: rank-2's lines arrive first, then rank-0's, then rank-1's.
    await postRanksOutOfOrder(r);
    const page = await newPage(browser, server);
    await open(page, r);
    const msgs = () => page.$$eval('.row[data-line] .msg', (m) => m.map((x) => x.textContent));
    await waitFor(async () => (await renderedLines(page)).length === 12, { what: '12 lines' });
    assert.equal((await msgs())[0], 'rank 2 step 0'); // line order: rank 2's batch first
    await page.click('[data-testid="sort-time"]');
    const expected = [];
    for (let k = 0; k < 4; k++) for (const rank of [0, 1, 2]) expected.push(`rank ${rank} step ${k}`);
    await waitFor(async () => JSON.stringify(await msgs()) === JSON.stringify(expected), { what: 'time order' });
    assert.match(page.url(), /sort=time/);
    // Line numbers stay the real ones: rank 0 step 0 is line 5.
    assert.deepEqual((await renderedLines(page)).slice(0, 3), [5, 9, 1]);
    // A permalink in time order finds its position.
    await page.goto(`/runs/${r.id}?sort=time#L12`);
    await page.waitForSelector('.row.hl[data-line="12"]');
    assert.equal(JSON.stringify(await msgs()), JSON.stringify(expected));
    await page.context().close();
  });
  it('next/previous match steps in display order', async () => {
    const r = await server.createRun('folds', 'ranks-search');
    // line order: rank 2's batch (lines 1-4), rank 0's (5-8), rank 1's (9-12)
    await postRanksOutOfOrder(r);
    const page = await newPage(browser, server);
    await open(page, r, '?sort=time&q=step%201');
    await waitFor(async () => (await renderedLines(page)).length === 12, { what: '12 lines' });
    // "step 1" of ranks 0, 1, 2 are lines 6, 10, 2 in display order (line order: 2, 6, 10)
    const steps = [];
    for (let i = 0; i < 4; i++) {
      await page.click('[data-testid="next-match"]');
      await waitFor(async () => (await page.textContent('[data-testid="match-count"]')).startsWith(`${(i % 3) + 1} of 3`), { what: `match ${i + 1}` });
      steps.push(Number(await page.getAttribute('.row.hl[data-line]', 'data-line')));
    }
    assert.deepEqual(steps, [6, 10, 2, 6]);
    await page.click('[data-testid="prev-match"]');
    await waitFor(async () => (await page.textContent('[data-testid="match-count"]')).startsWith('3 of 3'), { what: 'previous wraps to the last' });
    assert.equal(await page.getAttribute('.row.hl[data-line]', 'data-line'), '2');
    await page.context().close();
  });
});
