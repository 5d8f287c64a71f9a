// Loads pullpath's status page in Debian's headless chromium (through playwright-core) and prints, as one JSON
// object on stdout, what a person would see: every target card, the page's width against the viewport, the
// computed font size, and any console error, page error or failed request. Run by StatusPageBrowserTest; the
// assertions live there.
//
// usage: node status-page-check.cjs URL SCREENSHOT.png WIDTH HEIGHT
// env:   PLAYWRIGHT_CORE (the installed playwright-core directory), CHROMIUM (default /usr/bin/chromium)
'use strict';

const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, screenshot, width, height] = process.argv.slice(2);
if (!url || !screenshot || !width || !height) {
  console.error('usage: node status-page-check.cjs URL SCREENSHOT.png WIDTH HEIGHT');
  process.exit(2);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // --no-sandbox: the test may run as root, where chromium refuses its sandbox. No network beyond loopback is
    // needed: background networking (updates, safe browsing) is off.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30000,
  });
  try {
    const page = await browser.newPage({
      viewport: { width: Number(width), height: Number(height) },
      deviceScaleFactor: 1,
    });
    page.setDefaultTimeout(15000);
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
    const response = await page.goto(url, { waitUntil: 'load' });
    const seen = await page.evaluate(() => {
      const text = (root, sel) => { const e = root.querySelector(sel); return e ? e.innerText.trim() : null; };
      const viewport = document.documentElement.clientWidth;
      // Anything whose box ends right of the viewport would need sideways scrolling on a phone.
      const overflowing = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > viewport + 0.5)
        .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
      return {
        title: document.title,
        summary: text(document, '.summary'),
        scrollWidth: document.scrollingElement.scrollWidth,
        clientWidth: viewport,
        bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
        smallestFontPx: Math.min(...[...document.querySelectorAll('body *')]
          .filter((e) => e.innerText && e.innerText.trim() && e.children.length === 0)
          .map((e) => parseFloat(getComputedStyle(e).fontSize))),
        overflowing,
        scripts: document.scripts.length,
        targets: [...document.querySelectorAll('[data-target]')].map((t) => ({
          name: t.dataset.target,
          state: t.dataset.state,
          badge: text(t, '.badge'),
          reason: text(t, '.reason'),
          since: text(t, '.since'),
          hop: text(t, '.hop'),
          hint: text(t, '.hint'),
          runbook: t.querySelector('a.runbook') ? t.querySelector('a.runbook').href : null,
          phases: text(t, '.phases'),
          endpoints: text(t, '.endpoints'),
          checked: text(t, '.checked'),
          visible: t.getBoundingClientRect().height > 0,
        })),
      };
    });
    await page.screenshot({ path: screenshot, fullPage: true });
    seen.status = response ? response.status() : null;
    seen.problems = problems;
    process.stdout.write(JSON.stringify(seen) + '\n');
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
