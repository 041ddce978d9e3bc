// The log viewer in real Chromium against the real server, with data made through the API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeLines, newPage, renderedLines, sleep, startServerAndBrowser, stopServerAndBrowser, waitFor, waitLive } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const SOURCES = ['stdout', 'stderr', 'sdk', 'user', 'system'];

/** A run of n lines with levels, sources and messages in a fixed pattern. */
async function mixedRun(name, n = 200, opts = {}) {
  const run = await server.createRun(opts.project ?? 'e2e', name);
  const logs = makeLines(1, n, (i) => ({
    seq: i - 1,
    level: LEVELS[i % 5],
    source: SOURCES[i % 5 === 0 ? 1 : i % 7 === 0 ? 2 : 0],
    message: i % 10 === 3 ? `needle ${i} found` : `message ${i} loss=${(1 / i).toFixed(4)}`,
  }));
  await server.batch(run.id, logs);
  return run;
}

async function openRun(page, run, suffix = '') {
  await page.goto(`/runs/${run.id}${suffix}`);
  await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
  await waitFor(
    async () => (await page.$$('[data-testid="log-rows"] .row[data-line]')).length > 0 || (await page.$('[data-testid^="logs-empty"]')),
    { what: 'first rows' },
  );
}

describe('navigation', () => {
  it('lists projects and runs with badges and counts, and routes survive a reload', async () => {
    const run = await mixedRun('nav-run', 50, { project: 'nav-project' });
    await server.finish(run.id, 'failed', 3);
    const page = await newPage(browser, server);
    await page.goto('/');
    await page.click('text=nav-project');
    await page.waitForSelector('[data-testid="runs-table"]');
    assert.match(page.url(), /\/projects\/nav-project$/);
    const row = page.locator(`[data-run-id="${run.id}"]`);
    assert.equal(await row.locator('[data-testid="state-badge"]').getAttribute('data-state'), 'failed');
    assert.equal((await row.locator('[data-testid="run-lines"]').textContent()).trim(), '50');
    await page.reload();
    await page.waitForSelector(`[data-run-id="${run.id}"]`);
    await row.locator('a').first().click();
    await page.waitForSelector('[data-testid="log-viewer"]');
    assert.match(page.url(), new RegExp(`/runs/${run.id}$`));
    await page.reload();
    await page.waitForSelector('[data-testid="log-viewer"]');
    await page.context().close();
  });

  it('deletes a run after confirmation', async () => {
    const run = await mixedRun('doomed', 5, { project: 'del-project' });
    const page = await newPage(browser, server);
    await page.goto('/projects/del-project');
    const row = page.locator(`[data-run-id="${run.id}"]`);
    await row.locator('[data-testid="delete-run"]').click();
    await page.click('[data-testid="confirm-yes"]');
    await row.waitFor({ state: 'detached' });
    await assert.rejects(server.req('GET', `/runs/${run.id}`), /404/);
    await page.context().close();
  });

  it('fits 1280x720 and a narrow laptop window without page overflow', async () => {
    const run = await mixedRun('layout', 100);
    for (const viewport of [{ width: 1280, height: 720 }, { width: 900, height: 600 }]) {
      const page = await newPage(browser, server, { viewport });
      await openRun(page, run);
      const m = await page.evaluate(() => ({
        docW: document.documentElement.scrollWidth,
        docH: document.documentElement.scrollHeight,
        rows: document.querySelector('[data-testid="log-scroller"]').getBoundingClientRect().height,
        search: document.querySelector('[data-testid="search-input"]').getBoundingClientRect().right,
      }));
      assert.ok(m.docW <= viewport.width, `page is ${m.docW}px wide at ${viewport.width}`);
      assert.ok(m.docH <= viewport.height, `page is ${m.docH}px high at ${viewport.height}`);
      assert.ok(m.rows >= 200, `only ${m.rows}px for lines at ${JSON.stringify(viewport)}`);
      assert.ok(m.search <= viewport.width);
      await page.context().close();
    }
  });

  it('shows designed empty and not-found states', async () => {
    const page = await newPage(browser, server);
    await page.goto('/runs/00000000-0000-4000-8000-000000000000');
    await page.waitForSelector('[data-testid="run-error"]');
    await page.goto('/no/such/page');
    await page.waitForSelector('[data-testid="not-found"]');
    const run = await server.createRun('e2e', 'empty-run');
    await page.goto(`/runs/${run.id}`);
    await page.waitForSelector('[data-testid="logs-empty"]');
    await page.context().close();
  });
});

describe('live tail', () => {
  // How fast is measured by `make bench` (print-to-stored and viewer latency); here, that it
  // arrives without a reload.
  it('shows a posted line live', async () => {
    const run = await mixedRun('live', 20);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await waitLive(page);
    const t0 = Date.now();
    await server.line(run.id, { message: 'hello from the live test', level: 'WARNING' });
    await page.waitForSelector('.row:has-text("hello from the live test")');
    console.log(`# live line shown after ${Date.now() - t0} ms`);
    await page.context().close();
  });

  it('shows a progress bar in place while it runs, then its finished line', async () => {
    const run = await mixedRun('progress', 5);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await waitLive(page);
    await server.req('POST', `/runs/${run.id}/logs/progress`, { message: 'epoch 1:  40%|####      |' });
    await page.waitForSelector('[data-testid="progress-strip"] .row:has-text("40%")');
    await sleep(300); // the server passes at most four states a second per stream
    await server.req('POST', `/runs/${run.id}/logs/progress`, { message: 'epoch 1:  90%|######### |' });
    await page.waitForSelector('[data-testid="progress-strip"] .row:has-text("90%")');
    assert.equal(await page.$$eval('[data-testid="progress-strip"] .row', (r) => r.length), 1);
    await server.batch(run.id, [{ message: 'epoch 1: 100%|##########|' }]);
    await page.waitForSelector('[data-testid="log-rows"] .row:has-text("100%")');
    await page.waitForSelector('[data-testid="progress-strip"]', { state: 'detached' });
    await page.context().close();
  });

  it('pauses and resumes without losing or repeating lines', async () => {
    const run = await mixedRun('pause', 10);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await waitLive(page);
    await page.click('[data-testid="pause-toggle"]');
    await page.waitForSelector('[data-testid="conn-state"][data-state="paused"]');
    await server.batch(run.id, makeLines(0, 5, (i) => ({ message: `while paused ${i}` })), 'w2');
    await sleep(600);
    assert.equal(await page.locator('.row:has-text("while paused")').count(), 0);
    await page.keyboard.press('Space'); // resume with the keyboard
    await waitLive(page);
    await waitFor(async () => (await page.locator('.row:has-text("while paused")').count()) === 5, { what: '5 resumed lines' });
    const lines = await renderedLines(page);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
    assert.equal(new Set(lines).size, lines.length);
    assert.equal(lines.at(-1), 15);
    await page.context().close();
  });

  it('follows the tail, stops when scrolled up, and offers the new lines', async () => {
    const run = await mixedRun('follow', 400);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await waitLive(page);
    await waitFor(async () => (await renderedLines(page)).includes(400), { what: 'tail at 400' });
    await page.hover('[data-testid="log-scroller"]');
    await page.mouse.wheel(0, -600);
    await waitFor(async () => (await page.getAttribute('[data-testid="log-scroller"]', 'data-follow')) === '0', { what: 'follow off' });
    await server.batch(run.id, makeLines(0, 7, (i) => ({ message: `new ${i}` })), 'w2');
    const btn = page.locator('[data-testid="new-lines"]');
    await btn.waitFor();
    assert.match(await btn.textContent(), /7 new lines/);
    assert.ok(!(await renderedLines(page)).includes(407));
    await btn.click();
    await waitFor(async () => (await renderedLines(page)).includes(407), { what: 'tail at 407' });
    assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-follow'), '1');
    // keyboard: g goes to the top, G back to the bottom
    await page.keyboard.press('g');
    await waitFor(async () => (await renderedLines(page))[0] === 1, { what: 'top' });
    await page.keyboard.press('Shift+G');
    await waitFor(async () => (await renderedLines(page)).includes(407), { what: 'bottom' });
    await page.context().close();
  });
});

describe('filters and search', () => {
  let run;
  before(async () => {
    run = await mixedRun('filters', 300);
    await server.batch(run.id, makeLines(0, 20, (i) => ({ seq: i, message: `rank one says ${i}` })), 'rank-1');
    await server.batch(run.id, [
      { seq: 20, message: 'from the user', source: 'user' },
      { seq: 21, message: 'from the system', source: 'system' },
    ], 'rank-1');
  });

  it('filters by level, kept in the URL across a reload', async () => {
    const page = await newPage(browser, server);
    await openRun(page, run);
    await page.click('[data-testid="level-filter"] [data-value="ERROR"]');
    await waitFor(async () => {
      const lv = await page.$$eval('.row[data-line]', (r) => r.map((x) => x.dataset.level));
      return lv.length > 0 && lv.every((l) => l === 'ERROR');
    }, { what: 'only ERROR rows' });
    assert.match(page.url(), /level=ERROR/);
    await page.reload();
    await page.waitForSelector('.row[data-level="ERROR"]');
    const lv = await page.$$eval('.row[data-line]', (r) => r.map((x) => x.dataset.level));
    assert.ok(lv.every((l) => l === 'ERROR'));
    assert.equal(await page.textContent('[data-testid="view-total"]'), '60');
    // going to a line the filter hides lands on (and marks) the next line shown
    await page.fill('[data-testid="goto-input"]', '104');
    await page.press('[data-testid="goto-input"]', 'Enter');
    await page.waitForSelector('.row.hl[data-line="108"]');
    await waitFor(async () => page.url().endsWith('#L108'), { what: 'hash #L108' });
    // each level chip works
    for (const level of ['DEBUG', 'INFO', 'WARNING', 'CRITICAL']) {
      await page.click('[data-testid="level-filter"] [data-value="ALL"]');
      await page.click(`[data-testid="level-filter"] [data-value="${level}"]`);
      await waitFor(async () => {
        const l = await page.$$eval('.row[data-line]', (r) => r.map((x) => x.dataset.level));
        return l.length > 0 && l.every((x) => x === level);
      }, { what: `only ${level}` });
    }
    await page.context().close();
  });

  it('filters by source and writer', async () => {
    const page = await newPage(browser, server);
    await openRun(page, run);
    await page.click('[data-testid="source-filter"] [data-value="stderr"]');
    await waitFor(async () => {
      const s = await page.$$eval('.row[data-line]', (r) => r.map((x) => x.dataset.source));
      return s.length > 0 && s.every((x) => x === 'stderr');
    }, { what: 'only stderr' });
    assert.match(page.url(), /source=stderr/);
    for (const source of ['stdout', 'sdk', 'user', 'system']) {
      await page.click('[data-testid="source-filter"] [data-value="ALL"]');
      await page.click(`[data-testid="source-filter"] [data-value="${source}"]`);
      await waitFor(async () => {
        const s = await page.$$eval('.row[data-line]', (r) => r.map((x) => x.dataset.source));
        return s.length > 0 && s.every((x) => x === source);
      }, { what: `only ${source}` });
    }
    await page.click('[data-testid="source-filter"] [data-value="ALL"]');
    await page.click('[data-testid="writer-filter"] [data-value="rank-1"]');
    await waitFor(async () => {
      const t = await page.$$eval('.row[data-line] .msg', (r) => r.map((x) => x.textContent));
      return t.length === 22 && t.slice(0, 20).every((x) => x.startsWith('rank one says'));
    }, { what: 'only rank-1' });
    assert.match(page.url(), /writer=rank-1/);
    await page.context().close();
  });

  it('searches the whole run with highlights, counts and next/previous, and regex', async () => {
    const page = await newPage(browser, server);
    await openRun(page, run);
    await page.keyboard.press('/');
    await page.keyboard.type('needle');
    await waitFor(async () => /30 matches/.test(await page.textContent('[data-testid="match-count"]')), { what: '30 matches' });
    assert.match(page.url(), /q=needle/);
    await page.keyboard.press('Enter'); // first Enter after debounce: next match
    await waitFor(async () => /of 30/.test(await page.textContent('[data-testid="match-count"]')), { what: 'n of 30' });
    const marks = await page.$$eval('.row mark', (m) => m.map((x) => x.textContent.toLowerCase()));
    assert.ok(marks.length > 0 && marks.every((m) => m === 'needle'));
    const hl1 = Number(await page.getAttribute('.row.hl', 'data-line'));
    await page.click('[data-testid="next-match"]');
    await waitFor(async () => Number(await page.getAttribute('.row.hl', 'data-line')) === hl1 + 10, { what: 'next match' });
    await page.click('[data-testid="prev-match"]');
    await waitFor(async () => Number(await page.getAttribute('.row.hl', 'data-line')) === hl1, { what: 'previous match' });
    // regex
    await page.click('[data-testid="regex-toggle"]');
    await page.fill('[data-testid="search-input"]', 'needle 2\\d\\d');
    await waitFor(async () => /(\d+) match/.exec(await page.textContent('[data-testid="match-count"]'))?.[1] === '10', {
      what: 'regex count',
    });
    assert.match(page.url(), /regex=1/);
    // only matching lines
    await page.click('[data-testid="only-toggle"]');
    await waitFor(async () => {
      const t = await page.$$eval('.row[data-line] .msg', (r) => r.map((x) => x.textContent));
      return t.length === 10 && t.every((x) => /^needle 2\d\d found$/.test(x));
    }, { what: 'only regex matches' });
    const marks2 = await page.$$eval('.row mark', (m) => m.map((x) => x.textContent));
    assert.ok(marks2.length === 10 && marks2.every((m) => /^needle 2\d\d$/.test(m)), JSON.stringify(marks2));
    await page.context().close();
  });

  it('downloads TXT, JSON and CSV with the current filters', async () => {
    const page = await newPage(browser, server);
    await openRun(page, run, '?level=ERROR');
    await page.waitForSelector('.row[data-level="ERROR"]');
    const get = async (fmt) => {
      await page.click('[data-testid="download"]');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="download-${fmt}"]`)]);
      return readFileSync(await dl.path(), 'utf8');
    };
    const txt = (await get('txt')).trim().split('\n');
    assert.equal(txt.length, 60);
    assert.ok(txt.every((l) => / \[ERROR\] \[(stdout|stderr|sdk)\] /.test(l)), txt[0]);
    const json = JSON.parse(await get('json'));
    assert.equal(json.length, 60);
    assert.ok(json.every((l) => l.level === 'ERROR' && l.run_id === run.id));
    const csv = (await get('csv')).trim().split(/\r?\n/);
    assert.equal(csv[0], 'line_number,timestamp,level,source,writer,message');
    assert.equal(csv.length, 61);
    assert.ok(csv.slice(1).every((l) => l.split(',')[2] === 'ERROR'));
    await page.context().close();
  });
});

describe('navigation within a run', () => {
  it('permalinks scroll to and highlight a line, and clicking a number sets the hash', async () => {
    const run = await mixedRun('permalink', 3000);
    const page = await newPage(browser, server);
    await page.goto(`/runs/${run.id}#L1234`);
    await page.waitForSelector('.row.hl[data-line="1234"]');
    assert.ok(await page.isVisible('.row.hl[data-line="1234"]'));
    await page.click('.row[data-line="1240"] .ln');
    await waitFor(async () => page.url().endsWith('#L1240'), { what: 'hash' });
    await page.waitForSelector('.row.hl[data-line="1240"]');
    // go to line, and histogram / error jumps
    await page.fill('[data-testid="goto-input"]', '2500');
    await page.press('[data-testid="goto-input"]', 'Enter');
    await page.waitForSelector('.row.hl[data-line="2500"]');
    await page.click('[data-testid="first-error"]');
    await page.waitForSelector('.row.hl[data-line="3"]');
    await page.click('[data-testid="next-error"]');
    await page.waitForSelector('.row.hl[data-line="4"]'); // CRITICAL counts as an error
    await page.click('[data-testid="next-error"]');
    await page.waitForSelector('.row.hl[data-line="8"]');
    // a histogram bar jumps to its first line
    const bar = page.locator('[data-testid="histogram"] .bar[data-first-line]').last();
    const first = await bar.getAttribute('data-first-line');
    await bar.click();
    await page.waitForSelector(`.row.hl[data-line="${first}"]`);
    assert.ok(page.url().endsWith(`#L${first}`));
    await page.context().close();
  });

  it('keeps a scrollbar move that a render overtakes', async () => {
    // The scroll event comes a frame after the move; a render in between (here a click, flushed
    // before that frame; in use, a page of lines arriving) must not put the scrollbar back.
    const run = await mixedRun('scroll-race', 3000);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await page.waitForSelector('.row[data-line="3000"]');
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="log-scroller"]');
      el.scrollTop = 0;
      el.querySelector('.row[data-line="2990"] .ln').click();
    });
    await page.waitForSelector('.row[data-line="1"]');
    assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-top'), '0');
    assert.equal(await page.getAttribute('[data-testid="log-scroller"]', 'data-follow'), '0');
    await page.context().close();
  });

  it('renders ANSI colours, preserves spacing and toggles wrap and dates', async () => {
    const run = await server.createRun('e2e', 'ansi');
    await server.batch(run.id, [
      { message: '\u001b[31mred\u001b[0m and \u001b[1;32mbold green\u001b[0m' },
      { message: 'col1    col2\tcol3' },
      { message: 'x'.repeat(400) },
    ]);
    const page = await newPage(browser, server);
    await openRun(page, run);
    const color = await page.$eval('.row[data-line="1"] .msg span', (s) => getComputedStyle(s).color);
    assert.equal(color, 'rgb(224, 108, 117)');
    assert.equal(await page.textContent('.row[data-line="1"] .msg'), 'red and bold green');
    assert.equal(await page.textContent('.row[data-line="2"] .msg'), 'col1    col2\tcol3');
    // unwrapped long lines scroll horizontally; wrapped ones fit
    const overflow = () => page.$eval('[data-testid="log-scroller"]', (el) => el.scrollWidth - el.clientWidth);
    assert.ok((await overflow()) > 1000, 'long line gives a horizontal scroll range');
    const h1 = await page.$eval('.row[data-line="3"]', (r) => r.getBoundingClientRect().height);
    await page.click('[data-testid="wrap-toggle"]');
    await waitFor(async () => (await page.$eval('.row[data-line="3"]', (r) => r.getBoundingClientRect().height)) > h1, { what: 'wrapped' });
    assert.ok((await overflow()) <= 0, 'wrapped lines fit the width');
    assert.match(await page.textContent('.row[data-line="1"] .ts'), /^\[\d\d:\d\d:\d\d\]$/);
    await page.click('[data-testid="date-toggle"]');
    await waitFor(async () => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]$/.test(await page.textContent('.row[data-line="1"] .ts')), {
      what: 'full date',
    });
    await page.context().close();
  });

  it('clears all logs after confirmation', async () => {
    const run = await mixedRun('clear', 100);
    const page = await newPage(browser, server);
    await openRun(page, run);
    await waitLive(page);
    await page.click('[data-testid="clear-logs"]');
    await page.click('[data-testid="confirm-yes"]');
    await page.waitForSelector('[data-testid="logs-empty"]');
    assert.equal((await server.summary(run.id)).total, 0);
    assert.equal(await page.textContent('[data-testid="summary-total"]'), '0');
    // numbering continues after a clear, and the viewer shows it
    await waitLive(page);
    await server.line(run.id, { message: 'after clear' });
    await page.waitForSelector('.row[data-line="101"]:has-text("after clear")');
    await page.context().close();
  });
});
