// Signing in to the UI in real Chromium against the real server started with --require-auth and
// a bootstrap admin key file; a read-only key made with `wanllmdb keys create` on its data dir.
// Checks: the sign-in page keeps the route, errors for a wrong or revoked key and for 429, an
// HttpOnly SameSite=Strict cookie and no key in the URL or storage, write actions only for admin,
// sign-out, and a session that ends mid-use (cookie dropped, or ended on the server).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, Server, launchBrowser, makeLines, newPage, waitFor } from './harness.mjs';

const keysCli = (dataDir, ...args) => execFileSync(BIN, ['keys', ...args, '--data', dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const WRONG_KEY = 'wlk_000000000000_' + '0'.repeat(48);
const SESSION = 'wanllmdb_session';

/** A server that needs a key: the admin key comes from a file, as in a deployment. */
async function securedServer() {
  const adminKey = execFileSync(BIN, ['keys', 'generate'], { encoding: 'utf8' }).trim();
  const server = await Server.start({
    args: (dataDir) => {
      const file = join(dataDir, 'admin.key');
      writeFileSync(file, adminKey + '\n', { mode: 0o600 });
      return ['--require-auth', '--bootstrap-key-file', file];
    },
  });
  server.token = adminKey; // the harness's API helpers act as admin
  return { server, adminKey };
}

async function signIn(page, key) {
  await page.waitForSelector('[data-testid="sign-in"]');
  await page.fill('[data-testid="sign-in-key"]', key);
  await page.click('[data-testid="sign-in-submit"]');
}

async function signInError(page) {
  const el = await page.waitForSelector('[data-testid="sign-in-error"]');
  return el.textContent();
}

/** The run page fully shown: its header (the run loaded) and the first rows. */
async function runPageShown(page, run) {
  await page.waitForFunction((name) => document.querySelector('[data-testid="run-head"] h1')?.textContent === name, run.name);
  await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]');
  await page.waitForSelector('[data-testid="log-rows"] .row[data-line]');
  await page.waitForSelector('[data-testid="refresh"]');
}

async function runsListed(page, n) {
  await waitFor(async () => (await page.$$('[data-testid="run-row"]')).length === n, { what: `${n} runs listed` });
}

const sessionCookie = async (context) => (await context.cookies()).find((c) => c.name === SESSION);

describe('sign-in with API keys', () => {
  let server;
  let browser;
  let adminKey;
  let readKey;
  let run;
  let live;
  before(async () => {
    ({ server, adminKey } = await securedServer());
    readKey = keysCli(server.dataDir, 'create', '--scopes', 'read', '--name', 'e2e-reader');
    assert.match(readKey, /^wlk_[0-9a-f]{12}_/);
    run = await server.createRun('e2e', 'secured-run');
    await server.batch(run.id, makeLines(1, 30));
    await server.finish(run.id);
    live = await server.createRun('e2e', 'live-run'); // running: its page polls the server
    await server.batch(live.id, makeLines(1, 5));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks for a key, refuses a wrong one, and continues where the user was going', async () => {
    const page = await newPage(browser, server);
    const context = page.context();
    await page.goto('/projects/e2e?x=1');
    await page.waitForSelector('[data-testid="sign-in"]');
    assert.equal(await page.$('[data-testid="runs-page"]'), null);
    assert.equal(await page.$('[data-testid="sign-out"]'), null);

    await signIn(page, WRONG_KEY);
    assert.match(await signInError(page), /not valid: it is wrong, revoked or expired/);
    assert.equal(await sessionCookie(context), undefined);

    await signIn(page, adminKey);
    await page.waitForSelector('[data-testid="runs-page"]');
    await runsListed(page, 2);
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/projects/e2e?x=1');
    assert.equal((await page.$$('[data-testid="delete-run"]')).length, 2);
    assert.match(await page.textContent('[data-testid="session-who"]'), /bootstrap · ingest, read, admin/);

    // The cookie: HttpOnly (no script sees it), SameSite=Strict, not Secure over plain http.
    const cookie = await sessionCookie(context);
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.secure, false);
    assert.equal(await page.evaluate(() => document.cookie.includes('wanllmdb_session')), false);
    // The key is nowhere the page keeps things.
    const kept = await page.evaluate(() => JSON.stringify([location.href, { ...localStorage }, { ...sessionStorage }, history.state]));
    assert.ok(!kept.includes('wlk_'), kept);

    await page.click(`[data-testid="run-row"][data-run-id="${run.id}"] a`);
    await runPageShown(page, run);
    assert.ok(await page.$('[data-testid="clear-logs"]'), 'admin sees Clear');

    await page.click('[data-testid="sign-out"]');
    await page.waitForSelector('[data-testid="sign-in"]');
    assert.match(await page.textContent('[data-testid="sign-in-note"]'), /signed out/);
    assert.equal(await page.$('[data-testid="sign-out"]'), null);
    assert.equal(await sessionCookie(context), undefined);
    // Ended on the server too: the old cookie no longer works.
    const r = await fetch(`${server.url}/api/v1/runs`, { headers: { cookie: `${SESSION}=${cookie.value}` } });
    assert.equal(r.status, 403);

    // A read-only key: the same pages, without the write actions.
    await signIn(page, readKey);
    await runPageShown(page, run);
    assert.equal(new URL(page.url()).pathname, `/runs/${run.id}`);
    assert.equal(await page.$('[data-testid="clear-logs"]'), null);
    assert.match(await page.textContent('[data-testid="session-who"]'), /e2e-reader · read/);
    await page.click('[data-testid="run-head"] a[href="/projects/e2e"]');
    await runsListed(page, 2);
    assert.equal((await page.$$('[data-testid="delete-run"]')).length, 0);
    await context.close();
  });

  it('returns to the sign-in page when the session ends mid-use, and back to the page after', async () => {
    const page = await newPage(browser, server);
    const context = page.context();
    await page.goto(`/runs/${run.id}`);
    await signIn(page, readKey);
    await runPageShown(page, run); // a finished run: this page sends nothing more by itself

    // The browser dropped the cookie (it expired): the next request gets 401.
    await context.clearCookies();
    await page.click('[data-testid="run-head"] a[href="/projects/e2e"]');
    await page.waitForSelector('[data-testid="sign-in"]');
    assert.match(await page.textContent('[data-testid="sign-in-note"]'), /session has ended/);
    assert.equal(await page.$('[data-testid="runs-page"]'), null); // no half-loaded page behind it
    assert.equal(new URL(page.url()).pathname, '/projects/e2e');
    await signIn(page, readKey);
    await runsListed(page, 2);

    // The server ended the session (signed out elsewhere): the live run's page, left alone,
    // polls, gets 403, and whoami confirms the session is gone.
    await page.click(`[data-testid="run-row"][data-run-id="${live.id}"] a`);
    await runPageShown(page, live);
    const cookie = await sessionCookie(context);
    const out = await fetch(`${server.url}/api/v1/auth/session`, { method: 'DELETE', headers: { cookie: `${SESSION}=${cookie.value}` } });
    assert.equal(out.status, 204);
    await page.waitForSelector('[data-testid="sign-in"]');
    assert.match(await page.textContent('[data-testid="sign-in-note"]'), /session has ended/);
    assert.equal(new URL(page.url()).pathname, `/runs/${live.id}`);
    // The stale cookie was dropped, so it is not sent (and counted as a failed attempt) again.
    await waitFor(async () => (await sessionCookie(context)) === undefined, { what: 'stale cookie dropped' });

    // A revoked key cannot sign in again.
    await server.req('DELETE', `/keys/${readKey.slice(4, 16)}`);
    await signIn(page, readKey);
    assert.match(await signInError(page), /not valid: it is wrong, revoked or expired/);
    await signIn(page, adminKey);
    await runPageShown(page, live);
    await context.close();
  });
});

describe('sign-in rate limit', () => {
  let server;
  let browser;
  before(async () => {
    ({ server } = await securedServer());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows when to try again after too many failed attempts', async () => {
    // The limit is per client address: these requests and the browser's come from 127.0.0.1.
    let status = 0;
    for (let i = 0; i < 30 && status !== 429; i++) {
      const r = await fetch(`${server.url}/api/v1/runs`, { headers: { authorization: `Bearer ${WRONG_KEY}` } });
      status = r.status;
    }
    assert.equal(status, 429);
    const page = await newPage(browser, server);
    await page.goto('/');
    await signIn(page, WRONG_KEY);
    const text = await signInError(page);
    const m = /Too many failed sign-in attempts from this address\. Try again in (\d+) (s|min)\./.exec(text);
    assert.ok(m, text);
    assert.ok(Number(m[1]) >= 1, text);
    await page.context().close();
  });
});
