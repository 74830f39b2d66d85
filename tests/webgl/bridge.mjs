// Runs the C# WebGL driver on Mono against the real jslib in headless Chromium.
//
//   node tests/webgl/bridge.mjs BUILD_DIR LIBBRIDGE_SO -- mono PROGRAM.exe ARGS...
//
// Opens BUILD_DIR/index.html?js=jslib_test.js&arg=bridge in /usr/bin/chromium (a fresh
// profile; ws:// only), then starts the command with LD_PRELOAD=LIBBRIDGE_SO and two extra
// pipes: the bridge library (tests/webgl/bridge.c) writes one request line per ws_js_*
// call on fd 3, and this script answers on fd 4 after calling the same function of
// wsmachine.jslib in the page, copying buffers into and out of the wasm heap (_malloc,
// HEAPU8). Exits with the command's exit code.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const sep = process.argv.indexOf('--');
const [dir, lib] = process.argv.slice(2, sep);
const command = process.argv.slice(sep + 1);
if (sep < 0 || !lib || command.length === 0) {
  console.error('usage: node bridge.mjs BUILD_DIR LIBBRIDGE_SO -- COMMAND...');
  process.exit(2);
}

// Runs in the page: one request line in, one reply line out.
function pageBridge(line) {
  const f = line.split('\t');
  const NONE = -2147483647;
  const hexTable = [];
  for (let i = 0; i < 256; i++) hexTable.push((i < 16 ? '0' : '') + i.toString(16));
  const fromHex = (h) => {
    if (h === '-') return null;
    const b = new Uint8Array(h.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16);
    return b;
  };
  const toHex = (u8) => {
    const parts = new Array(u8.length);
    for (let i = 0; i < u8.length; i++) parts[i] = hexTable[u8[i]];
    return parts.join('') || '';
  };
  const allocated = [];
  const alloc = (n) => { const p = _malloc(Math.max(n, 1)); allocated.push(p); return p; };
  const bytes = (b, nul) => {
    const p = alloc(b.length + 1);
    HEAPU8.set(b, p);
    if (nul) HEAPU8[p + b.length] = 0;
    return p;
  };
  const outs = alloc(16);
  for (let i = 0; i < 4; i++) HEAP32[(outs >> 2) + i] = NONE;
  const out = (i) => (HEAP32[(outs >> 2) + i] === NONE ? '-' : String(HEAP32[(outs >> 2) + i]));
  const o = (i) => outs + 4 * i;
  try {
    const id = +f[1];
    let r;
    switch (f[0]) {
      case 'open': {
        const cap = +f[6];
        const err = alloc(cap);
        HEAPU8[err] = 0;
        r = _ws_js_open(bytes(fromHex(f[1]), true), f[2] === '-' ? 0 : bytes(fromHex(f[2]), true),
          +f[3], +f[4], +f[5], o(0), err, cap);
        const end = HEAPU8.indexOf(0, err);
        return [r, out(0), toHex(HEAPU8.slice(err, end))].join('\t');
      }
      case 'send_text':
      case 'send_binary': {
        const data = fromHex(f[2]) || new Uint8Array(0);
        const fn = f[0] === 'send_text' ? _ws_js_send_text : _ws_js_send_binary;
        return String(fn(id, bytes(data, false), data.length, +f[3]));
      }
      case 'close': {
        const reason = fromHex(f[3]) || new Uint8Array(0);
        return String(_ws_js_close(id, +f[2], bytes(reason, false), reason.length));
      }
      case 'poll': {
        const cap = +f[2];
        const buf = alloc(cap);
        r = _ws_js_poll_event(id, buf, cap, o(0), o(1), o(2));
        const n = HEAP32[(o(1)) >> 2];
        return [r, out(0), out(1), out(2), r === 0 ? toHex(HEAPU8.slice(buf, buf + n)) : '-'].join('\t');
      }
      case 'state':
        r = _ws_js_state(id, o(0));
        return [r, out(0)].join('\t');
      case 'buffered':
        r = _ws_js_buffered_amount(id, o(0), o(1));
        return [r, out(0), out(1)].join('\t');
      case 'subprotocol':
      case 'extensions': {
        const cap = +f[2];
        const buf = alloc(cap);
        const fn = f[0] === 'subprotocol' ? _ws_js_subprotocol : _ws_js_extensions;
        r = fn(id, buf, cap, o(0));
        const n = HEAP32[o(0) >> 2];
        return [r, out(0), r === 0 ? toHex(HEAPU8.slice(buf, buf + n)) : '-'].join('\t');
      }
      case 'free':
        return String(_ws_js_free(id));
      default:
        return '104';
    }
  } finally {
    for (const p of allocated) _free(p);
  }
}

const server = http.createServer((req, res) => {
  const name = path.basename(new URL(req.url, 'http://x').pathname) || 'index.html';
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  res.writeHead(200, { 'Content-Type': types[path.extname(name)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsm-chromium-'));
let code = 1;
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] || await context.newPage();
  const ready = new Promise((resolve) => page.on('console', (m) => {
    if (m.text() === 'BRIDGE READY') resolve();
    else if (!/^WebSocket connection to/.test(m.text())) console.log('page: ' + m.text());
  }));
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html?js=jslib_test.js&arg=bridge`);
  await Promise.race([ready, new Promise((_, no) => setTimeout(() => no(new Error('page not ready in 30 s')), 30000))]);
  await page.evaluate(`window.wsmBridge = ${pageBridge.toString()}`);

  const child = spawn(command[0], command.slice(1), {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'],
    env: { ...process.env, LD_PRELOAD: lib },
  });
  const requests = child.stdio[3];
  const replies = child.stdio[4];
  let pending = '';
  let busy = Promise.resolve();
  requests.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      busy = busy.then(async () => {
        const reply = await page.evaluate((l) => window.wsmBridge(l), line);
        replies.write(reply + '\n');
      }).catch((e) => { console.log('bridge error: ' + e.message); child.kill(); });
    }
  });
  code = await new Promise((resolve) => child.on('exit', (c) => resolve(c === null ? 1 : c)));
} catch (e) {
  console.log('FAIL ' + (e && e.stack ? e.stack : e));
} finally {
  if (context) await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
