// page_test.js: drives the system Chromium (puppeteer-core) against a live status page: no console error, no CSP
// violation, every node named, the right verdict, an in-place update after a real partition (keeping keyboard
// focus), nothing executed from a hostile governor state, readable without JavaScript; screenshots into ARTIFACTS.
// Environment: PAGE_URL, NODES (comma-separated), INTERVAL_MS, ARTIFACTS, PARTITION_CMD, HOSTILE_CMD, HOSTILE,
// CHROMIUM (default /usr/bin/chromium). Prints "ok ..." / "FAIL ..." lines; exits 1 on any failure.
'use strict';
const puppeteer = require('puppeteer-core');
const { execSync } = require('child_process');
const path = require('path');

const env = (k, d) => process.env[k] || d;
const url = env('PAGE_URL'), nodes = env('NODES', '').split(',').filter(Boolean);
const interval = +env('INTERVAL_MS', '1000'), out = env('ARTIFACTS', '.');
let failed = 0;
const ok = (m) => console.log(`  ok    browser: ${m}`);
const fail = (m) => { failed++; console.log(`  FAIL  browser: ${m}`); };
const check = (c, m) => (c ? ok(m) : fail(m));

async function verdict(page) {
  return page.$eval('#verdict', (e) => e.getAttribute('data-verdict'));
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const errors = [], dialogs = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    await page.evaluateOnNewDocument(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));
    });
    const resp = await page.goto(url, { waitUntil: 'load' });
    check(resp.status() === 200, `GET ${url} answers ${resp.status()}`);
    check(/script-src 'sha256-/.test(resp.headers()['content-security-policy'] || ''), 'a hash-based CSP');
    check((await verdict(page)) === 'converged', 'the verdict is converged');
    const names = await page.$$eval('details.node .name', (es) => es.map((e) => e.textContent));
    for (const n of nodes) check(names.includes(n), `node ${n} is named`);
    await page.evaluate(() => { window.__noReload = 1; });

    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
    check(['A', 'a', 'SUMMARY'].includes(focused), `the keyboard reaches the page's controls (${focused})`);

    await page.screenshot({ path: path.join(out, 'converged.png'), fullPage: false });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    await page.screenshot({ path: path.join(out, 'converged-dark.png'), fullPage: false });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

    // a real partition; the page is to show it by itself within two intervals (plus one probe round)
    execSync(env('PARTITION_CMD'), { stdio: 'inherit', shell: '/bin/bash' });
    const t0 = Date.now();
    try {
      await page.waitForFunction(
        () => document.querySelector('#verdict').getAttribute('data-verdict') === 'partitioned',
        { timeout: 2 * interval + 1000, polling: 50 });
      ok(`the page shows the partition ${Date.now() - t0} ms later (interval ${interval} ms)`);
    } catch (e) {
      fail(`no partition shown within ${2 * interval + 1000} ms: verdict ${await verdict(page)}`);
    }
    check((await page.evaluate(() => window.__noReload)) === 1, 'updated in place, without a reload');
    check(/data age: \d/.test(await page.$eval('#age', (e) => e.textContent)), 'the data age is shown');
    await page.screenshot({ path: path.join(out, 'partitioned.png'), fullPage: false });
    await page.screenshot({ path: path.join(out, 'partitioned-full.png'), fullPage: true });

    // keyboard focus on a node card's summary survives a refresh that replaces <main>
    await page.focus('#node-1 > summary');
    const before = await page.evaluate(() => {
      window.__oldMain = document.getElementById('main');
      return document.body.getAttribute('data-updated');
    });
    try {
      await page.waitForFunction((u) => document.body.getAttribute('data-updated') !== u,
        { timeout: 2 * interval + 1000, polling: 50 }, before);
      const kept = await page.evaluate(() => {
        const a = document.activeElement;
        return document.getElementById('main') !== window.__oldMain && !!a && a.tagName === 'SUMMARY' &&
          a.parentElement.id === 'node-1' && document.getElementById('main').contains(a);
      });
      check(kept, 'keyboard focus survives a refresh (on the new #node-1 summary)');
    } catch (e) {
      fail(`no refresh within ${2 * interval + 1000} ms to check focus on`);
    }

    // a hostile governor state name from the target
    const hostile = env('HOSTILE');
    execSync(env('HOSTILE_CMD'), { stdio: 'inherit', shell: '/bin/bash' });
    try {
      await page.waitForFunction((h) => document.body.innerText.includes(h), { timeout: 3 * interval + 2000 }, hostile);
      ok('the hostile state name is shown as text');
    } catch (e) {
      fail('the hostile state name never appeared');
    }
    await new Promise((r) => setTimeout(r, interval));
    check((await page.$$('img')).length === 0, 'no <img> element was created from it');
    check(dialogs.length === 0, `nothing executed (dialogs: ${JSON.stringify(dialogs)})`);
    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, `no CSP violation (${JSON.stringify(csp)})`);
    check(errors.length === 0, `no console error (${JSON.stringify(errors)})`);

    // without JavaScript the server-rendered page says the same
    const nojs = await browser.newPage();
    await nojs.setJavaScriptEnabled(false);
    await nojs.goto(url, { waitUntil: 'load' });
    const text = await nojs.evaluate(() => document.body.innerText);
    check(['partitioned'].includes(await verdict(nojs)) && nojs.url() === url, 'readable without JavaScript');
    for (const n of nodes) check(text.includes(n), `without JavaScript node ${n} is named`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`  FAIL  browser: ${e.stack || e}`); process.exit(1); });
