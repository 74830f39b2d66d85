// Runs the jslib test page in Debian's headless Chromium and reports its result.
//
//   node tests/webgl/run.mjs BUILD_DIR QUERY SPKI_SHA256_BASE64 SCREENSHOT [TIMEOUT_S]
//
// Serves BUILD_DIR over http://127.0.0.1:<free port>/ (Node's http module), opens
// index.html?QUERY (for example js=jslib_test.js&arg=1234&arg=...) in /usr/bin/chromium (a fresh profile; the test
// server's certificate is trusted by its key hash with --ignore-certificate-errors-spki-list,
// verification stays on for everything else), prints the page's lines, saves a screenshot,
// (SPKI '-': no wss), and exits 0 only when the page printed "DONE <n> 0" with n > 0.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [dir, query, spki, shot, timeoutArg] = process.argv.slice(2);
if (!shot) {
  console.error('usage: node run.mjs BUILD_DIR QUERY SPKI SCREENSHOT [TIMEOUT_S]');
  process.exit(2);
}
const timeoutMs = 1000 * Number(timeoutArg || 150);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const name = path.basename(new URL(req.url, 'http://x').pathname) || 'index.html';
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(name)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const httpPort = server.address().port;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsm-chromium-'));
let code = 1;
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 900, height: 560 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'].concat(spki === '-' ? [] : [`--ignore-certificate-errors-spki-list=${spki}`]),
  });
  const page = context.pages()[0] || await context.newPage();
  let done = null;
  const finished = new Promise((resolve) => {
    page.on('console', (m) => {
      const line = m.text();
      console.log(line);
      const d = /^DONE (\d+) (\d+)/.exec(line);
      if (d) { done = { passed: +d[1], failed: +d[2] }; resolve(); }
    });
    page.on('pageerror', (e) => { console.log('page error: ' + e.message); });
  });
  const url = `http://127.0.0.1:${httpPort}/index.html?${query}`;
  console.log(`${await context.browser()?.version?.() ?? ''} ${url}`);
  await page.goto(url);
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  await page.screenshot({ path: shot, fullPage: true });
  if (!done) {
    console.log(`FAIL the page did not finish within ${timeoutMs / 1000} s`);
  } else if (done.failed === 0 && done.passed > 0) {
    code = 0;
  }
  console.log(`screenshot: ${shot}`);
} catch (e) {
  console.log('FAIL ' + (e && e.stack ? e.stack : e));
} finally {
  if (context) await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
