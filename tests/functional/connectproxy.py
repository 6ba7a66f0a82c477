#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""A minimal HTTP CONNECT proxy on loopback, for the functional tests of the
HTTPS transport: clients reach the SES API simulator (sesapi.py) through it
as they would through a corporate proxy.  Python 3 standard library only
(and sessim.py, beside it, for serve_until_signal()).

    /usr/bin/python3 connectproxy.py --dir DIR [--auth USER:PASSWORD]
                                     [--idle SECONDS]

It listens on 127.0.0.1, on a port of the system's choosing.  Only CONNECT
is served (anything else gets 405), only to a loopback target: "localhost",
127.0.0.0/8 or ::1 (anything else gets 403, and the name is never looked
up).  With --auth, a CONNECT without the matching "Proxy-Authorization:
Basic ..." gets 407 with "Proxy-Authenticate: Basic realm=...".  A target
that cannot be reached gets 502.  Then "200 Connection established" and the
bytes go both ways until one side closes or --idle seconds pass in silence.

Files in DIR:
  port            the port number, written (atomically) once listening
  mode.json       read at every connection, optional: {"answer": 407} or
                  {"answer": 502} answers every CONNECT so (a 407 with
                  Proxy-Authenticate), whatever the target and credentials
  connects.jsonl  one JSON object per CONNECT: "target" (as asked), "status"
                  (the answer), "auth" (whether Proxy-Authorization came),
                  "peer"
  errors.log      proxy bugs only
"""

import argparse
import base64
import ipaddress
import json
import os
import selectors
import socket
import sys
import threading
import time
import traceback

import sessim           # same directory: serve_until_signal()

MAX_HEAD = 8192
CHUNK = 65536
REASONS = {200: "Connection established", 400: "Bad Request",
           403: "Forbidden", 405: "Method Not Allowed",
           407: "Proxy Authentication Required", 502: "Bad Gateway"}


def loopback_target(target):
    """(host, port) of a CONNECT target on loopback, else None."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() == "localhost":
        return host, int(port)
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host, int(port)
    except ValueError:
        pass
    return None


class Proxy:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.log_f = open(os.path.join(opts.dir, "connects.jsonl"), "a")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.threads = set()

    def note(self, **rec):
        rec["t"] = round(time.time(), 3)
        with self.lock:
            if not self.log_f.closed:
                self.log_f.write(json.dumps(rec) + "\n")
                self.log_f.flush()

    def error(self, text):
        with self.lock:
            with open(os.path.join(self.opts.dir, "errors.log"), "a") as f:
                f.write(time.strftime("%H:%M:%S ") + text.rstrip() + "\n")

    def mode(self):
        try:
            with open(os.path.join(self.opts.dir, "mode.json")) as f:
                mode = json.load(f)
            return mode if isinstance(mode, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            self.error("mode.json: %s" % e)
            return {}

    def serve(self, wakeup):
        sel = selectors.DefaultSelector()
        sel.register(wakeup, selectors.EVENT_READ)
        sel.register(self.listener, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select():
                if key.fileobj is wakeup:
                    self.stop.set()
                    break
                try:
                    sock, peer = self.listener.accept()
                except OSError:
                    continue
                t = threading.Thread(target=self.run, args=(sock, peer),
                                     daemon=True)
                with self.lock:
                    self.threads.add(t)
                t.start()
        sel.close()
        self.listener.close()

    def run(self, sock, peer):
        try:
            sock.settimeout(self.opts.idle)
            self.handle(sock, "%s:%d" % peer[:2])
        except OSError:
            pass                        # a client or target going away
        except Exception:
            self.error(traceback.format_exc())
        finally:
            sock.close()
            with self.lock:
                self.threads.discard(threading.current_thread())

    def answer(self, sock, status, extra=""):
        sock.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n"
                      "Connection: close\r\n\r\n" % (
                          status, REASONS[status], extra)).encode())

    def handle(self, sock, peer):
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = sock.recv(CHUNK)
            if not data or len(buf) > MAX_HEAD:
                return
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        words = lines[0].split(" ")
        target = words[1] if len(words) == 3 else None
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        auth = fields.get("proxy-authorization")
        status, extra = 200, ""
        forced = self.mode().get("answer")
        addr = loopback_target(target) if target else None
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            status = 400
        elif words[0] != "CONNECT":
            status = 405
        elif forced in (407, 502):
            status = forced
        elif addr is None:
            status = 403
        elif self.opts.auth and auth != "Basic " + base64.b64encode(
                self.opts.auth.encode()).decode():
            status = 407
        if status == 407:
            extra = 'Proxy-Authenticate: Basic realm="test proxy"\r\n'
        upstream = None
        if status == 200:
            try:
                upstream = socket.create_connection(addr, timeout=5)
            except OSError:
                status = 502
        self.note(target=target, status=status, auth=auth is not None,
                  peer=peer)
        if status != 200:
            self.answer(sock, status, extra)
            return
        with upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            self.splice(sock, upstream)

    def splice(self, a, b):
        """Copy both ways until one side ends or all is idle too long."""
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while not self.stop.is_set():
                ready = sel.select(self.opts.idle)
                if not ready:
                    return
                for key, _ in ready:
                    data = key.fileobj.recv(CHUNK)
                    if not data:
                        return
                    key.data.sendall(data)
        finally:
            sel.close()

    def shutdown(self):
        self.stop.set()
        with self.lock:
            threads = list(self.threads)
        deadline = time.monotonic() + 2
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        with self.lock:
            self.log_f.close()


def main(argv):
    p = argparse.ArgumentParser(description="loopback CONNECT proxy")
    p.add_argument("--dir", required=True)
    p.add_argument("--auth", default="", help="USER:PASSWORD to require")
    p.add_argument("--idle", type=float, default=30.0)
    opts = p.parse_args(argv)
    proxy = Proxy(opts)
    return sessim.serve_until_signal(
        proxy, os.path.join(opts.dir, "port"),
        b"%d\n" % proxy.listener.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
