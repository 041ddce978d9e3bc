// End-to-end harness: the real wanllmdb binary on a free port with a temp data dir, serving the
// built web/dist, and the system's Chromium driven by playwright-core. Nothing is downloaded.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = resolve(here, '..');
export const REPO_DIR = resolve(WEB_DIR, '..');
export const BIN = process.env.WANLLMDB_BIN ?? join(REPO_DIR, 'build', 'wanllmdb');
export const DIST = join(WEB_DIR, 'dist');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function requirePrereqs() {
  if (!existsSync(BIN)) {
    throw new Error(`e2e: the server binary ${BIN} is missing: build it first (make build)`);
  }
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`e2e: ${DIST}/index.html is missing: build the UI first (npm run build)`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`e2e: Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  }
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  constructor(port, dataDir, args = []) {
    this.port = port;
    this.dataDir = dataDir;
    this.args = args; // extra server flags
    this.token = null; // an API key for the helpers below (a server with auth on)
    this.url = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.log = '';
  }

  /** `opts.args`: extra server flags, or a function of the data dir that returns them. */
  static async start(opts = {}) {
    requirePrereqs();
    const dataDir = mkdtempSync(join(tmpdir(), 'wanllmdb-e2e-'));
    const args = typeof opts.args === 'function' ? opts.args(dataDir) : (opts.args ?? []);
    const s = new Server(await freePort(), dataDir, args);
    await s.spawn();
    return s;
  }

  async spawn() {
    this.proc = spawn(BIN, ['server', '--listen', `127.0.0.1:${this.port}`, '--data', this.dataDir, '--web', DIST, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => {
      this.log = (this.log + d.toString()).slice(-20000);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`wanllmdb exited with ${this.proc.exitCode}:\n${this.log}`);
      try {
        const r = await fetch(`${this.url}/api/v1/health`);
        if (r.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(50);
    }
    throw new Error(`wanllmdb did not become healthy on ${this.url}:\n${this.log}`);
  }

  async kill(signal = 'SIGTERM') {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  async restart() {
    await this.kill();
    await this.spawn();
  }

  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  // --- API helpers ---
  async req(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const r = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} -> ${r.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
  createRun(project, name, extra = {}) {
    return this.req('POST', '/runs', { project, name, ...extra });
  }
  batch(runId, logs, writer) {
    return this.req('POST', `/runs/${runId}/logs/batch`, writer ? { writer, logs } : { logs });
  }
  line(runId, body) {
    return this.req('POST', `/runs/${runId}/logs`, body);
  }
  finish(runId, state = 'finished', exit_code = 0) {
    return this.req('PATCH', `/runs/${runId}`, { state, exit_code });
  }
  summary(runId) {
    return this.req('GET', `/runs/${runId}/logs/summary`);
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser() {
  requirePrereqs();
  // launch() gives every browser a fresh temporary profile (user-data-dir).
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A server and a browser for one test file: `before` starts both, `after` stops both. */
export async function startServerAndBrowser() {
  const server = await Server.start();
  try {
    return { server, browser: await launchBrowser() };
  } catch (e) {
    await server.stop(); // no browser: don't leave the server running behind the failure
    throw e;
  }
}

export async function stopServerAndBrowser({ server, browser } = {}) {
  await browser?.close();
  await server?.stop();
}

export async function newPage(browser, server, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 720 },
    acceptDownloads: true,
    baseURL: server.url,
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  return page;
}

/** Line numbers currently rendered in the viewer (loaded rows only). */
export function renderedLines(page) {
  return page.$$eval('[data-testid="log-rows"] .row[data-line]', (rows) => rows.map((r) => Number(r.dataset.line)));
}

export async function waitLive(page) {
  await page.waitForSelector('[data-testid="conn-state"][data-state="live"]');
}

export async function waitFor(fn, { timeout = 30000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Simple deterministic lines: 'msg i' with a level cycle. */
export function makeLines(from, n, f = (i) => ({ message: `line ${i}` })) {
  return Array.from({ length: n }, (_, k) => f(from + k));
}

/** Posts a run of `total` lines in batches: line n says `step n loss=… lr=3e-4`, every 8th is ERROR. */
export async function postMillion(server, runId, total = 1_000_000, batch = 10_000) {
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARNING', 'INFO', 'INFO', 'ERROR'];
  const t0 = Date.parse('2024-11-16T10:00:00Z') / 1000;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const from = next;
      next += batch;
      const logs = [];
      for (let i = from; i < Math.min(total, from + batch); i++) {
        logs.push({ seq: i, level: levels[i % 8], timestamp: t0 + i / 100, message: `step ${i + 1} loss=${(2 / Math.log(i + 3)).toFixed(5)} lr=3e-4` });
      }
      await server.batch(runId, logs);
    }
  };
  // one request at a time, so line numbers are seq + 1 (line i + 1 says "step i + 1")
  await worker();
}

// Selects from the first rendered row's line number to the end of row `endRow`'s message (or to
// `endOffset` characters into its first text node) and returns what a copy puts on the clipboard.
export function copySelection(page, endRow, endOffset) {
  return page.evaluate(
    ([endRow, endOffset]) => {
      const rows = document.querySelectorAll('[data-testid="log-rows"] .row[data-line]');
      const range = document.createRange();
      range.setStart(rows[0].querySelector('.ln'), 0);
      const msg = rows[endRow].querySelector('.msg');
      const last = endOffset === null ? msg : document.createTreeWalker(msg, NodeFilter.SHOW_TEXT).nextNode();
      range.setEnd(last, endOffset === null ? last.childNodes.length : endOffset);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      let got = null;
      document.addEventListener('copy', (e) => (got = e.clipboardData.getData('text/plain')), { once: true });
      document.execCommand('copy');
      return got;
    },
    [endRow, endOffset],
  );
}
