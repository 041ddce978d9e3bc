// Opens a URL of the pip-installed server in the system's Chromium (playwright-core from web/)
// and waits until the page shows the given text: the bundled UI loaded and talks to the API.
// Usage: node tests/wheel/ui_check.mjs URL TEXT
import { createRequire } from 'node:module';

// playwright-core is web/'s dev dependency: resolve it from there.
const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, text] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  headless: true,
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-testid="log-viewer"][data-phase="ready"]', { timeout: 60000 });
  await page.getByText(text).first().waitFor({ timeout: 60000 });
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('ok');
} finally {
  await browser.close();
}
