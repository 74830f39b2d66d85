// Node `ws` echo server over TLS with fixed session-ticket keys, for wsmachine's
// reconnect tests: killed and started again on the same port with the same keys, it
// accepts the tickets it issued before, as a fleet sharing a ticket key does.
//
//   node tests/peers/node/restart_server.js --port N --cert PEM --key PEM --ticket-keys FILE
//
// --port 0 picks a free port. FILE holds 48 bytes (Node's ticketKeys). Listens on
// 127.0.0.1, prints "PORT <n>", echoes text and binary with the same type, and exits
// on SIGTERM.
'use strict';
const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`missing ${name}`);
  return args[i + 1];
};
const server = https.createServer({
  cert: fs.readFileSync(arg('--cert')),
  key: fs.readFileSync(arg('--key')),
  ticketKeys: fs.readFileSync(arg('--ticket-keys')),
  // Node derives the default from argv, which differs between --port 0 and --port N.
  sessionIdContext: 'wsmachine-restart-server',
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.listen(Number(arg('--port')), '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
