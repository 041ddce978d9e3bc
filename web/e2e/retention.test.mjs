// Retention in the UI (issue 12): the project page shows the policy that applies, and the viewer
// of a rotated run says which lines were removed and starts after them, numbered as stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, newPage, renderedLines, Server, waitFor } from './harness.mjs';

let server;
let browser;
before(async () => {
  // A fast sweep, and a server-wide default the project page attributes to the server.
  server = await Server.start({ args: ['--retention-interval', '0.1', '--retention-max-bytes-per-project', '2G'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('retention', () => {
  it('the project page shows the policy, and the viewer the removed lines', async () => {
    const run = await server.createRun('rotating', 'long-run');
    for (let b = 0; b < 4; b++) {
      await server.batch(
        run.id,
        Array.from({ length: 1000 }, (_, i) => ({ seq: b * 1000 + i, message: `step ${b * 1000 + i + 1}` })),
      );
    }
    await server.req('PUT', '/projects/rotating/retention', { max_lines_per_run: 1500, max_age_days: 30 });
    await waitFor(async () => (await server.summary(run.id)).total <= 1500, { what: 'rotation' });
    const s = await server.summary(run.id);
    assert.equal(s.removed.from_line, 1);

    const page = await newPage(browser, server);
    await page.goto('/projects/rotating');
    await page.waitForSelector('[data-testid="retention-policy"]');
    assert.match(await page.textContent('[data-testid="retention-max_lines_per_run"]'), /Each run keeps its newest 1,500 lines · this project/);
    assert.match(await page.textContent('[data-testid="retention-max_age_days"]'), /Logs of runs finished more than 30 days ago are deleted/);
    assert.match(await page.textContent('[data-testid="retention-max_bytes_per_project"]'), /2 GiB.*server default/);

    await page.goto(`/runs/${run.id}`);
    await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
    const notice = await page.waitForSelector('[data-testid="retention-notice"]');
    assert.match(await notice.textContent(), new RegExp(`^Lines 1–${s.removed.to_line.toLocaleString('en-US')} were removed by retention on \\d{4}-\\d\\d-\\d\\d`));
    // The first rows are the first kept line, with its own number and text.
    await waitFor(
      async () => {
        await page.$eval('[data-testid="log-scroller"]', (el) => el.scrollTo(0, 0));
        return (await renderedLines(page)).includes(s.first_line);
      },
      { what: 'first kept line rendered at the top' },
    );
    const lines = await renderedLines(page);
    assert.equal(Math.min(...lines), s.first_line);
    assert.match(await page.textContent(`[data-testid="log-rows"] .row[data-line="${s.first_line}"]`), new RegExp(`step ${s.first_line}\\b`));
    await page.close();
  });

  it('a project without a policy says everything is kept', async () => {
    const quiet = await Server.start();
    try {
      await quiet.createRun('kept', 'r');
      const page = await newPage(browser, quiet);
      await page.goto('/projects/kept');
      await page.waitForSelector('[data-testid="retention-keep-all"]');
      await page.close();
    } finally {
      await quiet.stop();
    }
  });
});
