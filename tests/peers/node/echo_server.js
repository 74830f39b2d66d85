// Node `ws` echo server with permessage-deflate, for wsmachine interop tests.
//
//   node tests/peers/node/echo_server.js [--server-no-context-takeover]
//        [--client-no-context-takeover] [--server-max-window-bits N]
//        [--client-max-window-bits N] [--threshold N]
//
// Listens on 127.0.0.1 (free port), prints "PORT <n>", echoes text and binary with
// the same type (compressed whenever the message is at least --threshold bytes,
// default 0), and exits on SIGTERM.
'use strict';
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const perMessageDeflate = {
  serverNoContextTakeover: flag('--server-no-context-takeover'),
  clientNoContextTakeover: flag('--client-no-context-takeover'),
  threshold: value('--threshold') ?? 0,
};
if (value('--server-max-window-bits') !== undefined) perMessageDeflate.serverMaxWindowBits = value('--server-max-window-bits');
if (value('--client-max-window-bits') !== undefined) perMessageDeflate.clientMaxWindowBits = value('--client-max-window-bits');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate, maxPayload: 64 << 20 });
wss.on('listening', () => process.stdout.write(`PORT ${wss.address().port}\n`));
wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true }));
  ws.on('error', () => {});
  // The negotiated extension as the server sees it, for the test to compare.
  ws.send(JSON.stringify({ extensions: req.headers['sec-websocket-extensions'] || '', negotiated: ws.extensions }));
});
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
