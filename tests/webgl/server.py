#!/usr/bin/env python3
"""Loopback peers for the WebGL jslib tests (Python `websockets` 17.x, asyncio API).

    python3 tests/webgl/server.py --tls-cert server.pem --tls-key server.key

Listens on 127.0.0.1 twice, on ports picked by the OS: plain ws and wss (the given
certificate). Prints "WS <port>", "WSS <port>" and "REFUSED <port>" (a port that was just
free, so nothing listens there), "SILENT <port>" (accepts TCP, never answers) and
"MUTE <port>" (completes the WebSocket handshake by hand, then reads and ignores everything,
so a close is never answered), then serves until SIGTERM.

By path:
  /echo                echo every message with its type; offers subprotocol "wsm.test"
  /close?code=N&reason=TEXT
                       close right after the handshake with that code and reason
  /push?n=N&size=S     send N binary messages of S bytes (bytes 0-3: the index, little
                       endian), then echo until the client closes
"""

import argparse
import asyncio
import base64
import hashlib
import signal
import socket
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def handler(ws):
    url = urlsplit(ws.request.path)
    q = parse_qs(url.query)
    try:
        if url.path == "/close":
            await ws.close(int(q.get("code", ["1000"])[0]), q.get("reason", [""])[0])
            return
        if url.path == "/push":
            n = int(q["n"][0])
            size = int(q["size"][0])
            for i in range(n):
                body = bytearray(size)
                body[0:4] = i.to_bytes(4, "little")[: min(4, size)]
                await ws.send(bytes(body))
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


def select_subprotocol(connection, offered):
    """Selects "wsm.test" when offered; a client that offers nothing gets no subprotocol."""
    return "wsm.test" if "wsm.test" in offered else None


async def mute(reader, writer):
    """Accepts the upgrade, then never answers anything (not even a close frame)."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = ""
    for line in head.decode("latin1").split("\r\n"):
        if line.lower().startswith("sec-websocket-key:"):
            key = line.split(":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    await writer.drain()
    while await reader.read(65536):
        pass
    writer.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tls-cert", required=True)
    p.add_argument("--tls-key", required=True)
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    common = dict(select_subprotocol=select_subprotocol, max_size=4 * 1024 * 1024, compression="deflate")
    async with serve(handler, "127.0.0.1", 0, **common) as plain, \
            serve(handler, "127.0.0.1", 0, ssl=ctx, **common) as tls:
        print("WS", plain.sockets[0].getsockname()[1])
        print("WSS", tls.sockets[0].getsockname()[1])
        print("REFUSED", free_port())
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes connections; nobody reads or answers
        print("SILENT", silent.getsockname()[1])
        muted = await asyncio.start_server(mute, "127.0.0.1", 0)
        print("MUTE", muted.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
        await stop


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
