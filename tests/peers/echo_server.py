#!/usr/bin/env python3
"""Loopback WebSocket echo server for wsmachine tests (Python `websockets` 17.x, asyncio API).

    python3 tests/peers/echo_server.py --port 0 [--tls-cert server.pem --tls-key server.key]
                                       [--tls12-only | --tls13-only] [--max-size BYTES] [--no-compression]

Binds 127.0.0.1 (``--host`` to change), prints exactly one line ``PORT <n>`` to stdout once
it listens, then serves until SIGTERM/SIGINT and exits 0.

Behaviour by request path:
  any path         echo every text/binary message back with the same type
  /close?code=N&reason=TEXT
                   complete the handshake, then close at once with code N (default 1000)
                   and reason TEXT (default empty)
  /status403       reject the opening handshake with HTTP 403 Forbidden
"""

import argparse
import asyncio
import http
import logging
import signal
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("echo_server")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    p.add_argument("--tls-cert", help="PEM certificate (chain) file: enables wss://")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--tls13-only", action="store_true", help="refuse TLS versions below 1.3")
    p.add_argument("--tls12-only", action="store_true", help="speak TLS 1.2 only")
    p.add_argument("--max-size", type=int, default=64 * 1024 * 1024,
                   help="max incoming message size in bytes, 0 = unlimited (default 64 MiB)")
    p.add_argument("--compression", action=argparse.BooleanOptionalAction, default=True,
                   help="offer/accept permessage-deflate (default on)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging to stderr")
    a = p.parse_args(argv)
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if (a.tls13_only or a.tls12_only) and not a.tls_cert:
        p.error("--tls13-only needs --tls-cert/--tls-key")
    return a


def make_ssl_context(args):
    if not args.tls_cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if args.tls13_only else ssl.TLSVersion.TLSv1_2
    if args.tls12_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def process_request(connection, request):
    if urlsplit(request.path).path == "/status403":
        return connection.respond(http.HTTPStatus.FORBIDDEN, "Forbidden\n")
    return None  # go on with the WebSocket handshake


async def handler(ws):
    url = urlsplit(ws.request.path)
    try:
        if url.path == "/close":
            q = parse_qs(url.query)
            code = int(q.get("code", ["1000"])[0])
            reason = q.get("reason", [""])[0]
            await ws.close(code, reason)
            return
        async for message in ws:  # str -> text frame, bytes -> binary frame
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async with serve(
        handler,
        args.host,
        args.port,
        ssl=make_ssl_context(args),
        max_size=args.max_size or None,
        compression="deflate" if args.compression else None,
        process_request=process_request,
    ) as server:
        port = next(s.getsockname()[1] for s in server.sockets)
        sys.stdout.write(f"PORT {port}\n")
        sys.stdout.flush()
        await stop
        log.info("signal received, shutting down")
    return 0


if __name__ == "__main__":
    args = parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="echo_server: %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(args)))
