#!/usr/bin/env python3
"""Loopback TLS server (Python's ssl module, OpenSSL) for wsmachine's TLS object tests.

    python3 tests/peers/tls_echo_server.py --cert server.pem --key server.key
        [--port 0] [--mode echo|greet-notify|greet-eof|http] [--tls13-only | --tls12-only]
        [--client-ca ca.pem]

Binds 127.0.0.1, prints exactly one line ``PORT <n>`` once it listens, then serves
connections (one thread each) until killed.

Modes:
  echo          echo every byte back; on the client's close_notify answer with
                close_notify (SSLSocket.unwrap) and close
  greet-notify  send b"hello\\n", then close_notify, then wait for the client's
  greet-eof     send b"hello\\n", then close TCP without close_notify
  http          read one HTTP/1.1 request head, answer 200 with a text body naming the
                request line and the TLS version, then close_notify
--client-ca   require a client certificate signed by this CA
"""

import argparse
import socket
import ssl
import sys
import threading


def serve(conn, mode):
    try:
        if mode == "echo":
            while True:
                data = conn.recv(65536)
                if not data:  # the client's close_notify
                    break
                conn.sendall(data)
            conn.unwrap()
        elif mode == "greet-notify":
            conn.sendall(b"hello\n")
            raw = conn.unwrap()  # sends close_notify and waits for the client's
            raw.close()
            return
        elif mode == "greet-eof":
            conn.sendall(b"hello\n")
            # SSLSocket.close() frees the connection without SSL_shutdown: no close_notify.
        elif mode == "http":
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode()
            body = ("you asked for %s over %s\n" % (line, conn.version())).encode()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + b"Content-Length: %d\r\n\r\n" % len(body)
                + body
            )
            conn.unwrap()
    except (ssl.SSLError, OSError):
        pass
    finally:
        conn.close()


def handshake_and_serve(ctx, raw, mode):
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    serve(conn, mode)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--mode", default="echo", choices=["echo", "greet-notify", "greet-eof", "http"])
    p.add_argument("--tls13-only", action="store_true")
    p.add_argument("--tls12-only", action="store_true")
    p.add_argument("--client-ca")
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.tls13_only:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if a.tls12_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(a.client_ca)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(16)
    print("PORT %d" % lsock.getsockname()[1], flush=True)
    while True:
        raw, _ = lsock.accept()
        # The handshake runs in the connection's thread: a client that stalls or fails
        # never holds up the next one.
        threading.Thread(target=handshake_and_serve, args=(ctx, raw, a.mode), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
