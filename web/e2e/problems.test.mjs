// Problems found for you (issue 13): a traceback ingested into a long run shows in the Problems
// panel above the log (count, first line, a folded traceback); a click lands on its line; the
// runs list shows the run's top problem.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { newPage, startServerAndBrowser, stopServerAndBrowser, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

const TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/workspace/train.py", line 88, in <module>',
  '    main()',
  '  File "/workspace/model.py", line 346, in forward',
  '    attn = torch.matmul(q, k.transpose(2, 3))',
  'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.',
];

describe('problems panel', () => {
  it('shows a traceback found at ingest, and a click lands on its line', async () => {
    const r = await server.createRun('vision', 'oom-run');
    const lines = [];
    for (let i = 0; i < 2000; i++) lines.push(`step ${i} loss ${(1 / (i + 1)).toFixed(4)}`);
    lines.splice(1500, 0, ...TRACEBACK); // lines 1501-1506
    await server.batch(
      r.id,
      lines.map((m, i) => ({ seq: i, message: m })),
    );
    await server.createRun('vision', 'clean-run');

    const page = await newPage(browser, server);
    await page.goto(`/runs/${r.id}`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    await page.waitForSelector('[data-testid="problems-panel"]');
    assert.equal(await page.textContent('[data-testid="problems-count"]'), '1 problem');
    assert.match(await page.textContent('[data-testid="problems-first"]'), /line 1,501/);
    assert.equal(await page.getAttribute('[data-testid="problem"]', 'data-kind'), 'cuda_oom');
    assert.match(await page.textContent('[data-testid="problem"] .problem-title'), /OutOfMemoryError/);
    // The traceback's innermost frame is folded away until asked for.
    assert.equal(await page.isVisible('[data-testid="problem-detail"] pre'), false);
    await page.click('[data-testid="problem-detail"] summary');
    assert.match(await page.textContent('[data-testid="problem-detail"] pre'), /model\.py", line 346, in forward/);

    await page.click('[data-testid="problem-jump"]');
    await waitFor(async () => page.url().endsWith(`/runs/${r.id}#L1501`), { what: 'URL at line 1501' });
    await waitFor(async () => (await page.$('[data-testid="log-rows"] .row.hl[data-line="1501"]')) !== null, { what: 'line 1501 highlighted' });
    assert.match(await page.textContent('[data-testid="log-rows"] .row.hl[data-line="1501"]'), /Traceback/);

    await page.goto('/projects/vision');
    await waitFor(async () => (await page.$$('[data-testid="run-row"]')).length === 2, { what: 'two runs listed' });
    assert.equal((await page.textContent(`[data-run-id="${r.id}"] [data-testid="run-problem"]`)).trim(), 'CUDA OOM');
    const clean = await page.$$eval('[data-testid="run-row"]', (rows) =>
      rows.filter((x) => !x.textContent.includes('oom-run')).map((x) => x.querySelector('[data-testid="run-problem"]').textContent),
    );
    assert.deepEqual(clean, ['']);
    await page.close();
  });

  it('adds a webhook on the project page and shows its delivery log', async () => {
    const got = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const run = await server.createRun('alerting', 'will-oom');
      const page = await newPage(browser, server);
      await page.goto('/projects/alerting');
      await page.click('[data-testid="webhooks-toggle"]');
      await page.fill('[data-testid="webhook-url"]', 'ftp://nope');
      await page.click('[data-testid="webhook-add"]');
      assert.match(await page.textContent('[data-testid="webhook-error"]'), /http/);
      await page.fill('[data-testid="webhook-url"]', `http://127.0.0.1:${receiver.address().port}/hook`);
      await page.fill('[data-testid="webhook-kinds"]', 'cuda_oom');
      await page.click('[data-testid="webhook-add"]');
      await page.waitForSelector('[data-testid="webhook"]');
      assert.match(await page.textContent('[data-testid="webhook-status"]'), /nothing sent yet/);
      await server.batch(run.id, TRACEBACK.map((m, i) => ({ seq: i, message: m })));
      await waitFor(async () => got.length === 1, { what: 'the webhook received the OOM' });
      assert.match(got[0].text, /will-oom/);
      await waitFor(async () => /1 delivered, last HTTP 200/.test(await page.textContent('[data-testid="webhook-status"]')), {
        what: 'the delivery in the log',
      });
      await page.click('[data-testid="webhook"] summary');
      assert.match(await page.textContent('[data-testid="webhook-log"]'), /problem/);
      await page.close();
    } finally {
      receiver.close();
    }
  });
});
