// Log viewer round 2 (issue 11): every defect and feature in real Chromium against the real server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { makeLines, newPage, renderedLines, startServerAndBrowser, stopServerAndBrowser, waitFor, waitLive, copySelection } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const T0 = Date.parse('2024-11-16T10:00:00Z') / 1000;

async function run(name, lines, opts = {}) {
  const r = await server.createRun(opts.project ?? 'r2', name, opts.extra ?? {});
  if (lines.length) await server.batch(r.id, lines.map((l, i) => ({ seq: i, timestamp: T0 + i, ...(typeof l === 'string' ? { message: l } : l) })));
  return r;
}

async function open(page, r, suffix = '') {
  await page.goto(`/runs/${r.id}${suffix}`);
  await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
  await waitFor(async () => (await page.$$('[data-testid="log-rows"] .row[data-line]')).length > 0, { what: 'first rows' });
}

const text = (page, sel) => page.textContent(sel).then((t) => (t ?? '').trim());

describe('search works on the visible text', () => {
  it('finds a coloured phrase, counts it, highlights it, and ignores invisible escape bytes', async () => {
    const r = await run('sgr', [
      '\u001b[32mLoading\u001b[0m dataset from /data/train',
      'Load\u001b[1ming\u001b[0m dataset from /data/val',
      'plain line',
      'literal [32m here',
    ]);
    const page = await newPage(browser, server);
    await open(page, r);
    await page.fill('[data-testid="search-input"]', 'Loading dataset from');
    await waitFor(async () => /^2 matches/.test(await text(page, '[data-testid="match-count"]')), { what: '2 matches' });
    const marks = await page.$$eval('.row mark', (m) => m.map((x) => x.textContent).join('|'));
    assert.match(marks, /Loading/);
    await page.fill('[data-testid="search-input"]', '[32m');
    await waitFor(async () => /^1 match\b/.test(await text(page, '[data-testid="match-count"]')), { what: '1 match' });
    await page.click('[data-testid="only-toggle"]');
    await waitFor(async () => JSON.stringify(await renderedLines(page)) === '[4]', { what: 'only the literal line' });
    await page.context().close();
  });
});

describe('regex errors stay at the search box', () => {
  it('keeps the log, shows the server error inline, and rejects lookahead like RE2', async () => {
    const r = await run('regex', makeLines(1, 30, (i) => `item ${i}`));
    const page = await newPage(browser, server);
    await open(page, r, '?regex=1&only=1&q=item%201');
    await waitFor(async () => (await renderedLines(page)).length === 11, { what: '11 matching rows' }); // 1, 10-19
    await page.fill('[data-testid="search-input"]', 'item (1');
    await page.waitForSelector('[data-testid="search-error"]');
    assert.match(await text(page, '[data-testid="search-error"]'), /missing \)|invalid regex/i);
    assert.equal(await page.$('[data-testid="logs-error"]'), null);
    assert.equal((await renderedLines(page)).length, 11, 'the log stays as it was');
    await page.fill('[data-testid="search-input"]', 'item(?=1)');
    await page.waitForSelector('[data-testid="search-error"]');
    assert.equal(await page.$$eval('.row mark', (m) => m.length), 0, 'nothing highlighted that the server rejects');
    await page.fill('[data-testid="search-input"]', 'item 2\\d');
    await page.waitForSelector('[data-testid="search-error"]', { state: 'detached' });
    await waitFor(async () => (await renderedLines(page)).length === 10, { what: '20-29' });
    await page.context().close();
  });

  it('shows N lines of context around each match in only-matches mode', async () => {
    const r = await run('ctx', makeLines(1, 40, (i) => (i === 10 || i === 30 ? `hit ${i}` : `plain ${i}`)));
    const page = await newPage(browser, server);
    await open(page, r, '?q=hit&only=1');
    await waitFor(async () => JSON.stringify(await renderedLines(page)) === '[10,30]', { what: 'two matches' });
    await page.fill('[data-testid="context-input"]', '2');
    await waitFor(async () => JSON.stringify(await renderedLines(page)) === '[8,9,10,11,12,28,29,30,31,32]', { what: 'matches with context' });
    assert.deepEqual(await page.$$eval('.row.ctx', (rs) => rs.map((x) => Number(x.dataset.line))), [8, 9, 11, 12, 28, 29, 31, 32]);
    assert.match(page.url(), /context=2/);
    await page.context().close();
  });

  it('case-sensitive and whole-word toggles', async () => {
    const r = await run('case', ['Error here', 'error there', 'errors everywhere', 'no']);
    const page = await newPage(browser, server);
    await open(page, r);
    await page.fill('[data-testid="search-input"]', 'error');
    await waitFor(async () => /^3 matches/.test(await text(page, '[data-testid="match-count"]')), { what: '3' });
    await page.click('[data-testid="case-toggle"]');
    await waitFor(async () => /^2 matches/.test(await text(page, '[data-testid="match-count"]')), { what: '2 case-sensitive' });
    await page.click('[data-testid="word-toggle"]');
    await waitFor(async () => /^1 match\b/.test(await text(page, '[data-testid="match-count"]')), { what: '1 whole word' });
    assert.match(page.url(), /case=1/);
    assert.match(page.url(), /word=1/);
    await page.context().close();
  });
});

describe('copy and ranges', () => {
  it('copying a selection over three rows gives exactly the messages', async () => {
    const r = await run('copy', ['Traceback (most recent call last):', '  File "\u001b[1mtrain.py\u001b[0m", line 3, in <module>', 'ValueError: bad', 'after'], {});
    const page = await newPage(browser, server);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await open(page, r, '?fold=0'); // three rows: the traceback unfolded
    const copied = await copySelection(page, 2, null);
    assert.equal(copied, 'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\nValueError: bad');
    await page.context().close();
  });

  it('copying a selection across a closed fold gives the folded lines too', async () => {
    const r = await run('copy-fold', ['before', 'Traceback (most recent call last):', '  File "\u001b[1mtrain.py\u001b[0m", line 3, in <module>', 'ValueError: bad', 'after'], {});
    const page = await newPage(browser, server);
    await open(page, r);
    await waitFor(async () => JSON.stringify(await renderedLines(page)) === '[1,2,5]', { what: 'the traceback folded' });
    const copy = (endOffset) => copySelection(page, endOffset === null ? 2 : 1, endOffset);
    assert.equal(await copy(null), 'before\nTraceback (most recent call last):\n  File "train.py", line 3, in <module>\nValueError: bad\nafter');
    // ending inside the fold's own first line: only that part of it
    assert.equal(await copy(9), 'before\nTraceback');
    await page.context().close();
  });
  it('click, shift-click, #L10-L20 permalinks and the copy-lines button', async () => {
    const r = await run('range', makeLines(1, 60, (i) => ({ message: `msg ${i}`, level: i === 15 ? 'ERROR' : 'INFO' })));
    const page = await newPage(browser, server);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await open(page, r, '#L10-L20');
    await waitFor(async () => (await page.$$('.row.hl')).length === 11, { what: '11 highlighted rows' });
    await page.click('.row[data-line="12"] .ln');
    await page.click('.row[data-line="15"] .ln', { modifiers: ['Shift'] });
    await waitFor(async () => page.url().endsWith('#L12-L15'), { what: 'range hash' });
    assert.deepEqual(await page.$$eval('.row.hl', (rs) => rs.map((x) => Number(x.dataset.line))), [12, 13, 14, 15]);
    await page.click('[data-testid="copy-lines"]');
    await page.waitForSelector('[data-testid="copy-note"]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'msg 12\nmsg 13\nmsg 14\nmsg 15');
    await page.check('[data-testid="copy-meta"]');
    await page.click('[data-testid="copy-lines"]');
    await waitFor(async () => /^\S+ INFO msg 12\n/.test(await page.evaluate(() => navigator.clipboard.readText())), { what: 'with time and level' });
    await page.context().close();
  });
});

describe('histogram', () => {
  it('shows bars at once, the new filter at once, marks errors, and a drag sets since/until', async () => {
    const lines = makeLines(1, 2000, (i) => ({ message: `l ${i}`, level: i === 1500 ? 'ERROR' : 'INFO' }));
    const r = await run('hist', lines);
    const page = await newPage(browser, server);
    await open(page, r);
    await page.waitForSelector('[data-testid="histogram"][data-ready="1"]');
    assert.ok((await page.$$('[data-testid="histogram"] .bar[data-errors="1"]')).length >= 1, 'the one error is marked');
    await page.click('[data-testid="level-filter"] [data-value="ERROR"]');
    // the next bars are the ERROR filter's: never the previous filter's
    await waitFor(async () => (await page.$$('[data-testid="histogram"] .bar[data-first-line]')).length === 1, { what: 'one ERROR bar' });
    await page.click('[data-testid="level-filter"] [data-value="ALL"]');
    await waitFor(async () => (await page.$$('[data-testid="histogram"] .bar[data-first-line]')).length > 50, { what: 'all bars' });
    const bars = page.locator('[data-testid="histogram"] .bar');
    const a = await bars.nth(10).boundingBox();
    const b = await bars.nth(20).boundingBox();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await waitFor(async () => /since=.*until=/.test(page.url()), { what: 'since/until in the URL' });
    await page.waitForSelector('[data-testid="time-window"]');
    const shown = Number(await text(page, '[data-testid="view-total"]'));
    assert.ok(shown > 100 && shown < 300, `window shows ${shown} lines`);
    await page.click('[data-testid="clear-window"]');
    await page.waitForSelector('[data-testid="time-window"]', { state: 'detached' });
    await page.context().close();
  });
});

describe('header, missing lines, layout', () => {
  it('the run header follows Clear and live lines', async () => {
    const r = await run('head', makeLines(1, 40, (i) => ({ message: `x ${i}`, level: i % 10 === 0 ? 'ERROR' : 'INFO' })));
    const page = await newPage(browser, server);
    await open(page, r);
    await waitLive(page);
    assert.equal(await text(page, '[data-testid="head-lines"]'), '40');
    assert.equal(await text(page, '[data-testid="head-errors"]'), '4');
    await server.batch(r.id, makeLines(0, 5, (i) => ({ message: `live ${i}`, level: 'ERROR' })), 'w2');
    await waitFor(async () => (await text(page, '[data-testid="head-lines"]')) === '45', { what: 'live line count' });
    assert.equal(await text(page, '[data-testid="head-errors"]'), '9');
    await page.click('[data-testid="clear-logs"]');
    await page.click('[data-testid="confirm-yes"]');
    await waitFor(async () => (await text(page, '[data-testid="head-lines"]')) === '0', { what: 'cleared count' });
    assert.equal(await text(page, '[data-testid="head-errors"]'), '0');
    await page.context().close();
  });

  it('going to a line that does not exist says so', async () => {
    const r = await run('missing', makeLines(1, 41, (i) => `m ${i}`));
    const page = await newPage(browser, server);
    await page.goto(`/runs/${r.id}#L9999`);
    await page.waitForSelector('[data-testid="goto-note"]');
    assert.match(await text(page, '[data-testid="goto-note"]'), /Line 9,999 does not exist \(this run has lines 1–41\)/);
    await page.context().close();
  });

  it('the live pill covers no text, 7-digit line numbers fit, and a phone gets most of the screen', async () => {
    const r = await run('layout', makeLines(1, 50, (i) => `layout line ${i} ${'w'.repeat(20)}`));
    const page = await newPage(browser, server);
    await open(page, r);
    await waitLive(page);
    const pill = await page.locator('[data-testid="conn-state"]').boundingBox();
    const scroller = await page.locator('[data-testid="log-scroller"]').boundingBox();
    assert.ok(pill.y + pill.height <= scroller.y, 'the pill sits above the log');
    await page.context().close();
    const phone = await newPage(browser, server, { viewport: { width: 390, height: 844 } });
    await open(phone, r);
    const m = await phone.evaluate(() => ({
      log: document.querySelector('[data-testid="log-scroller"]').getBoundingClientRect().height,
      msg: document.querySelector('.row[data-line] .msg').getBoundingClientRect().width,
      docW: document.documentElement.scrollWidth,
    }));
    assert.ok(m.log >= 0.6 * 844, `log gets ${m.log}px of 844`);
    assert.ok(m.msg >= 250, `message column is ${m.msg}px wide`);
    assert.ok(m.docW <= 390, `page is ${m.docW}px wide`);
    await phone.context().close();
  });

  it('line numbers keep every digit: the gutter grows with them', async () => {
    const r = await server.createRun('r2', 'digits');
    for (let k = 0; k < 2; k += 1) await server.batch(r.id, makeLines(0, 6000, (i) => ({ seq: k * 6000 + i, message: `d ${k * 6000 + i}` })));
    const page = await newPage(browser, server);
    await page.goto(`/runs/${r.id}#L11999`);
    await page.waitForSelector('.row.hl[data-line="11999"]');
    const m = await page.$eval('.row[data-line="11999"] .ln', (a) => ({ sw: a.scrollWidth, cw: a.clientWidth, text: a.textContent }));
    assert.equal(m.text, '11999');
    assert.ok(m.sw <= m.cw, `the number overflows its gutter: ${JSON.stringify(m)}`);
    assert.equal(await page.evaluate(() => document.querySelector('.viewport-wrap').style.getPropertyValue('--ln-w')), '6ch');
    await page.context().close();
  });
});

describe('ranks and time', () => {
  it('filters several writers at once, colours each, and shows elapsed time with the zone', async () => {
    const r = await server.createRun('r2', 'ranks');
    for (const w of ['rank-0', 'rank-1', 'rank-2']) {
      await server.batch(r.id, makeLines(0, 5, (i) => ({ seq: i, timestamp: T0 + i + 0.1, message: `${w} step ${i}` })), w);
    }
    const page = await newPage(browser, server);
    await open(page, r);
    await page.click('[data-testid="writer-filter"] [data-value="rank-0"]');
    await page.click('[data-testid="writer-filter"] [data-value="rank-2"]');
    await waitFor(async () => {
      const ws = await page.$$eval('.row[data-line]', (rs) => rs.map((x) => x.dataset.writer));
      return ws.length === 10 && ws.every((w) => w === 'rank-0' || w === 'rank-2');
    }, { what: 'two writers' });
    assert.match(page.url(), /writer=rank-0%2Crank-2/);
    const colours = await page.$$eval('.row[data-line]', (rs) => [...new Set(rs.map((x) => x.style.getPropertyValue('--wr')))]);
    assert.equal(colours.length, 2);
    assert.match(await text(page, '[data-testid="time-zone"]'), /UTC[+-]\d\d:\d\d/);
    await page.click('[data-testid="time-toggle"]');
    await waitFor(async () => /^\[\+0:00\.000\]$/.test(await text(page, '.row[data-line="1"] .ts')), { what: 'elapsed time' });
    assert.match(page.url(), /time=elapsed/);
    assert.equal(await page.$('[data-testid="time-zone"]'), null);
    await page.context().close();
  });
});

describe('keyboard', () => {
  it('? lists the shortcuts, j/k move a line cursor', async () => {
    const r = await run('keys', makeLines(1, 20, (i) => `k ${i}`));
    const page = await newPage(browser, server);
    await open(page, r, '#L5');
    await page.waitForSelector('.row.hl[data-line="5"]');
    await page.keyboard.press('?');
    await page.waitForSelector('[data-testid="shortcuts-help"]');
    const help = await text(page, '[data-testid="shortcuts-help"]');
    for (const k of ['j', 'k', 'n', 'g', 'G', '/']) assert.ok(help.includes(k), k);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="shortcuts-help"]', { state: 'detached' });
    await page.keyboard.press('j');
    await page.waitForSelector('.row.cursor[data-line="6"]');
    await page.keyboard.press('j');
    await page.waitForSelector('.row.cursor[data-line="7"]');
    await page.keyboard.press('k');
    await page.waitForSelector('.row.cursor[data-line="6"]');
    await waitFor(async () => page.url().endsWith('#L6'), { what: 'cursor in the hash' });
    await page.context().close();
  });
});

describe('downloads', () => {
  it('are named after project, run, filters and format; plain text by default; raw and gzip on request', async () => {
    const r = await run('dl run', ['\u001b[31mred\u001b[0m alert', { message: 'boom', level: 'ERROR' }], { project: 'vision' });
    const page = await newPage(browser, server);
    await open(page, r, '?level=ERROR');
    const get = async (fmt, setup) => {
      await page.click('[data-testid="download"]');
      if (setup) await setup();
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="download-${fmt}"]`)]);
      return { name: dl.suggestedFilename(), body: readFileSync(await dl.path()) };
    };
    const t = await get('txt');
    assert.equal(t.name, 'vision_dl-run_level-ERROR.txt');
    assert.match(t.body.toString(), /\[ERROR\] \[stdout\] boom\n$/);
    await page.click('[data-testid="level-filter"] [data-value="ALL"]');
    await waitFor(async () => !/level=/.test(page.url()), { what: 'no level filter' });
    const plain = await get('csv');
    assert.equal(plain.name, 'vision_dl-run.csv');
    assert.match(plain.body.toString(), /,red alert\r\n/);
    const raw = await get('txt', () => page.check('[data-testid="download-raw"]'));
    assert.ok(raw.body.toString().includes('\u001b[31mred\u001b[0m alert'));
    const gz = await get('txt', () => page.check('[data-testid="download-gzip"]'));
    assert.equal(gz.name, 'vision_dl-run.txt.gz');
    assert.match(gunzipSync(gz.body).toString(), /red/);
    // Accept-Encoding on the stream
    const res = await fetch(`${server.url}/api/v1/runs/${r.id}/logs/download?format=txt`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.match(await res.text(), /red alert/); // fetch undoes the encoding
    await page.context().close();
  });
});

describe('runs at scale and ids', () => {
  it('pages past 1,000 runs, searches, filters by state and sorts', async () => {
    const ids = [];
    for (let i = 0; i < 1005; i += 25) {
      const batch = Array.from({ length: Math.min(25, 1005 - i) }, (_, k) =>
        server.createRun('many', `run-${String(i + k).padStart(4, '0')}`, i + k === 3 ? { tags: ['golden'] } : {}),
      );
      for (const r of await Promise.all(batch)) ids.push(r.id);
    }
    await server.finish(ids[7], 'failed', 1);
    await server.batch(ids[9], makeLines(1, 30, (i) => ({ message: `x ${i}` })));
    const page = await newPage(browser, server);
    await page.goto('/projects/many');
    await page.waitForSelector('[data-testid="runs-table"]');
    assert.equal(await text(page, '[data-testid="runs-count"]'), '1,005 runs');
    for (let k = 0; k < 10; k += 1) {
      if (!(await page.$('[data-testid="runs-more"]'))) break;
      await page.click('[data-testid="runs-more"]');
      await waitFor(async () => (await page.$$('[data-testid="run-row"]')).length >= Math.min(1005, 100 * (k + 2)), { what: `page ${k + 2}` });
    }
    assert.equal((await page.$$('[data-testid="run-row"]')).length, 1005);
    await page.waitForSelector(`[data-run-id="${ids[0]}"]`); // the oldest is reachable
    assert.equal((await server.req('GET', '/runs?project=many&q=golden')).total, 1);
    await page.fill('[data-testid="runs-search"]', 'golden');
    await waitFor(async () => (await page.$$('[data-testid="run-row"]')).length === 1, { what: 'tag search' });
    await page.fill('[data-testid="runs-search"]', '');
    await page.selectOption('[data-testid="runs-state"]', 'failed');
    await waitFor(async () => (await page.$$eval('[data-testid="run-row"]', (r) => r.map((x) => x.dataset.runId))).join() === ids[7], { what: 'failed run' });
    await page.selectOption('[data-testid="runs-state"]', '');
    await page.selectOption('[data-testid="runs-sort"]', 'lines');
    await waitFor(async () => (await page.getAttribute('[data-testid="run-row"]', 'data-run-id')) === ids[9], { what: 'most lines first' });
    await page.context().close();
  });

  it('short ids work in the URL, an ambiguous one says so, and an unknown project is a page', async () => {
    const a = await server.createRun('ids', 'a', { id: '7e57a11d-0000-4000-8000-000000000001' });
    await server.createRun('ids', 'b', { id: '7e57a11d-0000-4000-8000-000000000002' });
    const c = await run('c', ['short id line'], { project: 'ids' });
    const page = await newPage(browser, server);
    await page.goto(`/runs/${c.id.slice(0, 8)}`);
    await page.waitForSelector('.row:has-text("short id line")');
    await page.goto('/runs/7e57a11d');
    await page.waitForSelector('[data-testid="run-error"]');
    assert.match(await text(page, '[data-testid="run-error"]'), /ambiguous/i);
    await page.goto(`/runs/${c.id.slice(0, 13).toUpperCase()}`);
    await page.waitForSelector('.row:has-text("short id line")');
    assert.ok(a.id.startsWith('7e57a11d'));
    await page.goto('/projects/no-such-proj');
    await page.waitForSelector('[data-testid="no-such-project"]');
    await page.context().close();
  });
});
