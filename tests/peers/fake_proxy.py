#!/usr/bin/env python3
"""A scripted HTTP CONNECT "proxy" that misbehaves on purpose, for the failure cases of
scripts/test-proxy.sh (the success paths use real proxies: squid, tinyproxy, dante).

    python3 tests/peers/fake_proxy.py --mode MODE

Binds 127.0.0.1 on a free port, prints ``PORT <n>``, serves until killed.

Modes (each reads the CONNECT request head first):
  midclose   answers "HTTP/1.1 200 Conn" and closes the connection
  garbage    answers bytes that are not HTTP
  endless    answers "HTTP/1.1 200 OK" and then header lines without end
  trickle    a working tunnel that writes its "200" answer and the first 4096 bytes
             from the server one byte at a time (TCP_NODELAY, a pause after each), so
             that the client receives the proxy's answer and the first TLS bytes in
             1-byte reads
"""

import argparse
import socket
import sys
import threading
import time


def read_head(conn):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        head += chunk
    return head


def trickle(dst, data, state):
    for i in range(len(data)):
        if state["left"] <= 0:
            dst.sendall(data[i:])
            return
        dst.sendall(data[i:i + 1])
        state["left"] -= 1
        time.sleep(0.0005)


def pipe(src, dst, state=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if state is not None:
                trickle(dst, data, state)
            else:
                dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(conn, mode):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = read_head(conn)
    if head is None:
        conn.close()
        return
    target = head.split(b" ")[1].decode()
    sys.stderr.write(f"fake_proxy {mode}: {head.splitlines()[0].decode()}\n")
    if mode == "midclose":
        conn.sendall(b"HTTP/1.1 200 Conn")
        conn.close()
    elif mode == "garbage":
        conn.sendall(b"\x00\x01garbage, not HTTP at all\r\n\r\n")
        time.sleep(1)
        conn.close()
    elif mode == "endless":
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            for i in range(100000):
                conn.sendall(b"X-Endless-%d: %s\r\n" % (i, b"a" * 64))
        except OSError:
            pass
        conn.close()
    elif mode == "trickle":
        host, port = target.rsplit(":", 1)
        up = socket.create_connection((host.strip("[]"), int(port)))
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state = {"left": 4096}
        trickle(conn, b"HTTP/1.1 200 Connection established\r\nX-Fake: 1\r\n\r\n", {"left": 1 << 30})
        threading.Thread(target=pipe, args=(conn, up), daemon=True).start()
        pipe(up, conn, state)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True, choices=["midclose", "garbage", "endless", "trickle"])
    a = p.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    sys.stdout.write(f"PORT {srv.getsockname()[1]}\n")
    sys.stdout.flush()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, a.mode), daemon=True).start()


if __name__ == "__main__":
    main()
