// Makes doc/screenshot-logs.png (referenced from README.md) from a realistic run.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, it } from 'node:test';
import { newPage, REPO_DIR, sleep, startServerAndBrowser, stopServerAndBrowser, waitLive } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser({ server, browser }));

function trainingLog() {
  const t0 = Date.now() / 1000 - 3600;
  const out = [];
  const add = (dt, message, level, source = 'stdout') => out.push({ timestamp: t0 + dt, message, level, source });
  add(0, 'wanllmdb: run started on gpu-node-3 (pid 48213), 8x A100-80GB', 'INFO', 'system');
  add(1, '\u001b[1mLoading dataset\u001b[0m from /data/sft/alpaca-cleaned.jsonl … 51,760 examples', 'INFO');
  add(2, '\u001b[32m✔\u001b[0m tokenizer loaded (vocab=32000, pad_token=<unk>)', 'INFO');
  add(3, 'model: llama-7b  params=6.74B  dtype=bf16  fsdp=FULL_SHARD  grad_ckpt=True', 'DEBUG');
  add(4, "UserWarning: torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly", 'WARNING', 'stderr');
  let t = 10;
  for (let step = 10; step <= 2400; step += 10) {
    t += 6 + (step % 70 === 0 ? 20 : 0);
    const loss = (2.1 * Math.exp(-step / 900) + 0.62 + 0.03 * Math.sin(step)).toFixed(4);
    add(t, `step ${String(step).padStart(5)} | loss ${loss} | lr ${(2e-5 * Math.min(1, step / 200)).toExponential(2)} | grad_norm ${(0.8 + 0.4 * Math.abs(Math.sin(step / 7))).toFixed(2)} | tok/s 12,8${step % 10}0`, 'INFO');
    if (step % 500 === 0) add(t + 1, `wanllmdb: saved checkpoint \u001b[36mstep_${step}\u001b[0m (13.5 GB) in 41.2s`, 'INFO', 'sdk');
    if (step % 330 === 0) add(t + 1, `\u001b[33mWARNING\u001b[0m grad_norm spike at step ${step}: clipping to 1.0`, 'WARNING', 'stderr');
    if (step === 1940) {
      add(t + 2, 'Traceback (most recent call last):', 'ERROR', 'stderr');
      add(t + 2, '  File "train.py", line 212, in evaluate', 'ERROR', 'stderr');
      add(t + 2, '    batch = next(eval_iter)', 'ERROR', 'stderr');
      add(t + 2, 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 3; 79.35 GiB total capacity)', 'ERROR', 'stderr');
      add(t + 3, 'eval skipped; retrying with eval_batch_size=8', 'WARNING', 'user');
    }
  }
  add(t + 4, '\u001b[1;31mCRITICAL\u001b[0m NaN loss detected at step 2400 — stopping', 'CRITICAL', 'stderr');
  add(t + 5, 'Epoch 3/3: 100%|\u001b[32m██████████\u001b[0m| 2400/2400 [59:12<00:00,  1.48s/it, loss=0.6512]', 'INFO', 'stderr');
  return out;
}

it('takes the README screenshot of the log viewer', async () => {
  const run = await server.createRun('llama-sft', 'llama-7b-sft-lr2e-5', { config: { lr: 2e-5, epochs: 3 } });
  await server.batch(run.id, trainingLog());
  const page = await newPage(browser, server, { viewport: { width: 1280, height: 720 } });
  await page.goto(`/runs/${run.id}?q=grad_norm`);
  await waitLive(page);
  await page.waitForSelector('[data-testid="histogram"] .bar');
  await page.click('[data-testid="first-error"]');
  await page.waitForSelector('.row.hl');
  await sleep(400);
  // Every run checks the screenshot can be made; README's copy in doc/ is only replaced on
  // request (WANLLMDB_UPDATE_SCREENSHOT=1), so `make test` leaves the work tree clean.
  const file = join(REPO_DIR, 'web', 'test-results', 'screenshot-logs.png');
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  assert.ok(statSync(file).size > 10_000);
  const docFile = join(REPO_DIR, 'doc', 'screenshot-logs.png');
  if (process.env.WANLLMDB_UPDATE_SCREENSHOT === '1' || !existsSync(docFile)) copyFileSync(file, docFile);
  await page.context().close();
});
