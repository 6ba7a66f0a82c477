#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""A local Amazon SES SMTP simulator for the functional tests.

It answers as the real SES SMTP interface does (see doc/ses.md sections 3,
4.2, 5, 6, 7 and 11): the same banner, EHLO list, reply texts, SigV4-derived
password check, and policy checks after the final dot.  It stores every
accepted message and can inject faults per connection, driven by a scenario
file that the tests rewrite between cases.  Python 3 standard library only,
loopback only.

    /usr/bin/python3 sessim.py --dir DIR --cert CERT --key KEY [options]

Files in DIR:
  ports.json        written (atomically) once listening:
                    {"starttls": P1, "wrapper": P2, "pid": PID}
                    plus "starttls6"/"wrapper6" with --ipv6 (on ::1, the
                    same numbers as on 127.0.0.1)
  scenario.json     read at every accepted connection (see below); optional
  messages/NNNNNN.raw, .eml, .json
                    each accepted message: the wire bytes between the 354
                    and the final ".\\r\\n", the same dot-unstuffed, and the
                    envelope and session facts (written last), among
                    them "tls" (the version) and "sni" (the server name
                    the client sent, null when it sent none)
  transcript.log    "<scenario> <conn> C: <line>" / "... S: <line>"
  events.jsonl      one JSON object per line: connect, tls (version,
                    cipher, sni), auth, fault, rejected, stored, stall,
                    close
  sim-errors.log    simulator bugs and bad scenario files only; a client
                    misbehaving or vanishing is not an error

Scenario file:
  {"id": "abc", "conns": [[FAULT, ...], ...], "default": [FAULT, ...]}
  {"id": "abc", "random": {"seed": 42, "p": 0.3}}
Connections are numbered from 1 per scenario id.  Connection n gets conns[n-1]
when it exists, else "default", else no fault.  In random mode, connection n
gets, with probability p, one fault from RANDOM_FAULTS, drawn from an RNG
seeded with (seed, n) so that the draw does not depend on thread timing.

FAULT = {"stage": S, "action": A, ...}
  stages   connect (raw TCP, before TLS and banner), tls (the handshake:
           at connect on the wrapper port, after "220 Ready" on the other),
           greeting (the banner), ehlo (EHLO or HELO), starttls, auth, mail,
           rcpt, data (the DATA command), dot (the reply to the final dot),
           quit
  "count": k (or "nth": k)   only the k-th occurrence of the stage in this
           connection (e.g. the 2nd RCPT, or the EHLO after STARTTLS);
           without it every occurrence
  actions  reply       send "reply" (a string, or a list of lines) instead
                       of the normal answer; the command has no effect, except
                       that a 2xx answer to EHLO/HELO counts as a successful
                       EHLO, and a 2xx answer at "dot" stores the message
                       (its id is the reply's text after "250 Ok ").  A 421
                       reply closes the connection afterwards; a non-421
                       reply at "greeting" leaves the session waiting for
                       QUIT (503 to anything else), as RFC 5321 3.1 says;
                       at "connect" the reply goes out in plain text (on the
                       wrapper port: a plaintext server where TLS was
                       expected) and the connection is closed
           drop        close without replying (at "dot": not stored)
           reset       close with SO_LINGER 0, so the client sees a RST
           hang        answer nothing and read nothing for "seconds"
                       (default 120), then close
           garbage     send "this is not smtp" instead of the answer (at
                       connect/tls: instead of the banner/handshake, then
                       close)
           accept_drop (dot only) store the message, close without replying
           stall_read  answer normally, then read at most "bytes" (default
                       65536) more octets and stop reading for "seconds"
                       (default 120) before closing: an MTU black hole.  The
                       connection's receive buffer is made small, but the
                       client's own send buffer (up to 4 MB on Linux
                       loopback) still absorbs that much before its writes
                       block
           delay       wait "ms" milliseconds, then answer normally
           refuse      (connect only) close before the banner.  A port
                       where nothing listens is a truer "connection refused":
                       tests get one by connecting to a closed port.
           trail       answer normally, then send "data" (a string, default
                       "250 injected\r\n") unasked: in the same write as
                       the answer, or with "ms", that many milliseconds
                       after it in a write of its own.  At "starttls" the
                       bytes go in plain text after "220 Ready to start
                       TLS" and before the handshake: the injection of
                       RFC 3207 6 (CVE-2011-0411 on the server side)
Faults are checked before the command's normal rules, so they apply whatever
the session state.

With --max-send-rate R, SES's maximum send rate (ses.md 6.5): a token bucket
of R recipients a second holding one second's worth (at least one) plus a
quarter second's (RATE_TOLERANCE: SES lets short bursts pass, ses.md 6.5, and
arrivals jitter by a few milliseconds after their sender's turn), full at the
start; a message that passes every other check after the final dot and
finds fewer tokens than its recipients (or than a full bucket, for a message
with more) gets "454 Throttling failure: Maximum sending rate exceeded."
and the event "throttled"; otherwise it takes one token per recipient
(going into debt for a big one).

Where ses.md gives no exact behaviour, the simulator chooses, strictly
enough to catch a client bug:
  - checks after the final dot, in this order: more than 50 recipients (554),
    over the size limit (552; 40 MB, or N with --size), a duplicate header of
    ses.md 6.3 (554, named as written in its second occurrence), then with
    --verified the identities (554 listing them): MAIL FROM and the addresses
    in From:, Sender: and Return-Path: (SES checks all of them).  An entry
    with "@" is an address, else a domain that also covers its subdomains.
  - a session that negotiated TLS 1.0/1.1 (--tls-min 1.0) gets SES's
    "554 Access denied ... TLS 1.0 and TLS 1.1" reply to DATA (ses.md 2.2).
  - --size N also advertises SIZE N and refuses MAIL ... SIZE= above it (552).
  - AUTH needs an EHLO since the last TLS start (503), as RFC 3207 says the
    client must EHLO again; a bad RCPT address gets "553 <addr> Invalid email
    address" (ses.md 5.3); STARTTLS under TLS gets 503; a line ending in a
    bare LF is accepted as a command, but DATA ends only at CRLF.CRLF.
  - the transcript masks AUTH payloads ("AUTH PLAIN ***", "C: ***").
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import random
import re
import selectors
import signal
import socket
import ssl
import string
import struct
import sys
import threading
import time
import traceback
import uuid
import warnings
from email.utils import getaddresses

SES_HOST = "email-smtp.amazonaws.com"
MAX_MESSAGE = 41943040          # ses.md 6.1: 40 MB as sent
MAX_RECIPIENTS = 50             # ses.md 6.2
RCPT_HARD_CAP = 1000            # bounds memory; SES judges 50 after the dot
MAX_LINE = 2000                 # command line length, CRLF included
HANG_SECONDS = 120
STALL_BYTES = 65536
STALL_RCVBUF = 4096
CHUNK = 65536

# ses.md 6.3: headers that may appear only once.
UNIQUE_HEADERS = frozenset(h.lower() for h in """
    Accept-Language acceptLanguage Archived-At Auto-Submitted Bounces-to
    Comments Content-Alternative Content-Base Content-Class
    Content-Description Content-Disposition Content-Duration Content-ID
    Content-Language Content-Length Content-Location Content-MD5
    Content-Transfer-Encoding Content-Type Date Delivered-To
    Disposition-Notification-Options Disposition-Notification-To
    DKIM-Signature DomainKey-Signature Errors-To From Importance In-Reply-To
    Keywords List-Archive List-Help List-Id List-Owner List-Post
    List-Subscribe List-Unsubscribe Message-Context Message-ID MIME-Version
    Organization Original-From Original-Message-ID Original-Recipient
    Original-Subject Precedence Priority References Reply-To Return-Path
    Return-Receipt-To Sender Solicitation Sensitivity Subject Thread-Index
    Thread-Topic User-Agent VBR-Info""".split())

# Headers whose addresses SES checks against the verified identities
# (ses.md 6.3), besides the envelope sender.
IDENTITY_HEADERS = ("from", "sender", "return-path")

RATE_TOLERANCE = 0.25              # seconds of the rate, for short bursts


class SendRate:
    """SES's maximum send rate, for both simulators: a token bucket of
    `rate` recipients a second holding one second's worth and
    RATE_TOLERANCE more, full at the start; 0: no limit."""

    def __init__(self, rate):
        self.rate = rate
        self.cap = max(1.0, rate) + rate * RATE_TOLERANCE
        self.tokens = self.cap
        self.tick = time.monotonic()
        self.lock = threading.Lock()

    def admit(self, nrcpt):
        """Take nrcpt tokens: True, or False (throttled)."""
        if not self.rate:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.cap, self.tokens +
                              (now - self.tick) * self.rate)
            self.tick = now
            if self.tokens < min(nrcpt, self.cap):
                return False
            self.tokens -= nrcpt
            return True
THROTTLED = "454 Throttling failure: Maximum sending rate exceeded."
TLS_DENIED = ("554 Access denied: Amazon SES no longer supports TLS 1.0 and "
              "TLS 1.1 connections. You must update your client to use TLS "
              "version 1.2 or above. To learn more and to update your client,"
              " see https://go.aws/3AUlVSb. For further assistance, contact "
              "AWS support")

STAGES = ("connect", "tls", "greeting", "ehlo", "starttls", "auth", "mail",
          "rcpt", "data", "dot", "quit")
ACTIONS = ("reply", "drop", "reset", "hang", "garbage", "accept_drop",
           "stall_read", "delay", "refuse", "trail")
ONLY_AT = {"accept_drop": "dot", "refuse": "connect"}

# The faults a chaos soak draws from.  "hang" is left out on purpose: each
# one costs the client a full timeout, which would dominate a soak's time.
RANDOM_FAULTS = (
    {"stage": "connect", "action": "reset"},
    {"stage": "tls", "action": "drop"},
    {"stage": "greeting", "action": "drop"},
    {"stage": "greeting", "action": "reply",
     "reply": "421 Too many concurrent SMTP connections"},
    {"stage": "ehlo", "action": "drop"},
    {"stage": "auth", "action": "drop"},
    {"stage": "auth", "action": "reply",
     "reply": "454 Temporary authentication failure"},
    {"stage": "mail", "action": "drop"},
    {"stage": "mail", "action": "reply",
     "reply": "421 Connection closed by server. "
              "Maximum message count per session reached."},
    {"stage": "rcpt", "action": "reset"},
    {"stage": "data", "action": "drop"},
    {"stage": "data", "action": "reply",
     "reply": "451 Temporary service failure"},
    {"stage": "dot", "action": "drop"},
    {"stage": "dot", "action": "reply",
     "reply": "451 Temporary service failure"},
    {"stage": "dot", "action": "reply",
     "reply": "454 Throttling failure: Maximum sending rate exceeded."},
    {"stage": "dot", "action": "accept_drop"},
)

TLS_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}

ADDR_RE = re.compile(r"[!-~]+@[!-~]+")     # printable ASCII, one @ at least
MAIL_RE = re.compile(r"FROM:\s*<([^<>]*)>(.*)", re.I | re.S)
RCPT_RE = re.compile(r"TO:\s*<([^<>]*)>(.*)", re.I | re.S)


def smtp_password(secret, region):
    """The SES SMTP password for an IAM secret key (ses.md 4.2, SigV4)."""
    key = ("AWS4" + secret).encode()
    for part in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + key).decode()


def message_id():
    """A 60-character SES message id (ses.md 7.2): region prefix, the time
    in ms as 12 hex digits, a UUID, and "-000000"."""
    mid = "0100%012x-%s-000000" % (int(time.time() * 1000), uuid.uuid4())
    assert len(mid) == 60, mid
    return mid


def unstuff(raw):
    """Undo SMTP dot-stuffing (RFC 5321 4.5.2) on CRLF lines."""
    lines = raw.split(b"\r\n")
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in lines)


def header_fields(eml):
    """(name as written, unfolded value) for each field of the header block."""
    head = eml.split(b"\r\n\r\n", 1)[0] if not eml.startswith(b"\r\n") else b""
    fields = []
    for line in head.decode("utf-8", "replace").split("\r\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            fields.append([name.strip(), value.strip()])
    return fields


def duplicate_header(fields):
    """The name (as written, second occurrence) of the first field that SES
    allows once but that appears twice, or None."""
    seen = set()
    for name, _ in fields:
        low = name.lower()
        if low in UNIQUE_HEADERS:
            if low in seen:
                return name
            seen.add(low)
    return None


def random_faults(spec, n):
    """The faults of connection n in random mode: reproducible from the seed
    and n alone."""
    rng = random.Random("%s/%d" % (spec.get("seed", 0), n))
    if rng.random() < float(spec.get("p", 0.3)):
        return [dict(rng.choice(RANDOM_FAULTS))]
    return []


def fault_problem(f):
    """Why a fault description is unusable, or None."""
    if not isinstance(f, dict):
        return "not an object"
    stage, action = f.get("stage"), f.get("action")
    if stage not in STAGES:
        return "unknown stage %r" % (stage,)
    if action not in ACTIONS:
        return "unknown action %r" % (action,)
    if action in ONLY_AT and stage != ONLY_AT[action]:
        return "%s only at %s" % (action, ONLY_AT[action])
    if action == "reply":
        reply = f.get("reply")
        lines = [reply] if isinstance(reply, str) else reply
        if (not isinstance(lines, list) or not lines or
                not all(isinstance(x, str) and re.match(r"\d{3}", x)
                        for x in lines)):
            return "reply needs a line, or lines, starting with a code"
        if stage == "tls":
            return "no reply is possible during the TLS handshake"
    if action == "trail":
        if stage in ("connect", "tls"):
            return "trail needs an answer to follow"
        if not isinstance(f.get("data", ""), str):
            return "trail data must be a string"
    return None


class Hangup(Exception):
    """Ends a session; the argument is the reason recorded in the log."""


class Session:
    """One client connection, run in its own thread with blocking I/O."""

    def __init__(self, server, sock, kind, sid, conn, faults):
        self.server = server
        self.opts = server.opts
        self.sock = sock                # the raw socket, then the TLS one
        self.kind = kind                # "starttls" or "wrapper"
        self.sid = sid
        self.conn = conn
        self.faults = faults
        self.stage_count = dict.fromkeys(STAGES, 0)
        self.rbuf = bytearray()
        self.discarding = False         # inside an over-long command line
        self.read_budget = None         # set by a stall_read fault
        self.stall_seconds = HANG_SECONDS
        self.tls = None                 # negotiated version, e.g. "TLSv1.3"
        self.sni = None                 # the SNI name the client sent
        self.ehlo = None                # EHLO/HELO name since the last TLS
        self.auth = None                # mechanism that authenticated us
        self.rejected = False           # greeting was a 5xx/4xx: wait QUIT
        self.trail = None               # a trail fault for the next reply
        self.reset_transaction()

    # --- logging --------------------------------------------------------

    def event(self, name, **kw):
        self.server.event(self.sid, self.conn, name, **kw)

    def log(self, who, text):
        self.server.transcript(self.sid, self.conn, who, text)

    # --- I/O ------------------------------------------------------------

    def recv(self):
        """Some bytes from the client; idle timeout and stall faults are
        handled here so that they apply at every point of the session."""
        size = CHUNK
        if self.read_budget is not None:
            if self.read_budget <= 0:
                self.event("stall")
                self.server.stop.wait(self.stall_seconds)
                raise Hangup("stall_read")
            size = min(size, self.read_budget)
        try:
            data = self.sock.recv(size)
        except socket.timeout:
            self.reply("451 4.4.2 Timeout waiting for data from client.")
            self.close_notify()
            raise Hangup("idle") from None
        if not data:
            raise Hangup("eof")
        if self.read_budget is not None:
            self.read_budget -= len(data)
        return data

    def readline(self):
        """The next command line without its line end, or None when it was
        longer than MAX_LINE (the rest of it is skipped)."""
        while True:
            i = self.rbuf.find(b"\n")
            if i >= 0:
                line = bytes(self.rbuf[:i + 1])
                del self.rbuf[:i + 1]
                if self.discarding or len(line) > MAX_LINE:
                    self.discarding = False
                    return None
                line = line[:-1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                return line.decode("latin-1")
            if len(self.rbuf) > MAX_LINE:
                self.discarding = True
                self.rbuf.clear()
            self.rbuf += self.recv()

    def read_data(self):
        """The message after a 354: (raw bytes, wire size).  Bytes past the
        size limit are counted but not kept, so a huge message costs no
        memory beyond the limit."""
        limit = self.server.max_size
        buf = bytearray(b"\r\n")        # lets a leading ".\r\n" end it too
        buf += self.rbuf
        self.rbuf.clear()
        dropped = 0                     # bytes counted but no longer kept
        start = 0
        while True:
            i = buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                break
            start = max(0, len(buf) - 4)
            if len(buf) > limit + 8:
                dropped += len(buf) - 4
                del buf[:-4]
                start = 0
            buf += self.recv()
        self.rbuf += buf[i + 5:]
        size = dropped + i
        raw = bytes(buf[2:i + 2]) if not dropped else None
        return raw, size

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self, *lines):
        """Send a reply (one or more complete lines, last one final)."""
        if self.opts.delay_ms:
            time.sleep(self.opts.delay_ms / 1000.0)
        for line in lines:
            self.log("S", line)
        data = "".join(line + "\r\n" for line in lines).encode()
        trail, self.trail = self.trail, None
        if trail is None:
            self.send_raw(data)
            return
        extra = trail.get("data", "250 injected\r\n").encode("latin-1")
        self.log("S", "<%d octets unasked%s>" % (
            len(extra), ", %d ms later" % trail["ms"] if "ms" in trail
            else ""))
        if "ms" not in trail:
            self.send_raw(data + extra)     # one write: one TCP segment
            return
        self.send_raw(data)
        time.sleep(trail["ms"] / 1000.0)
        self.send_raw(extra)

    def close_notify(self):
        """Best-effort TLS close_notify before a polite close."""
        if isinstance(self.sock, ssl.SSLSocket):
            try:
                self.sock.settimeout(0.2)
                self.sock.unwrap()
            except (OSError, ValueError):
                pass

    def reset_connection(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()

    # --- faults -----------------------------------------------------------

    def fault_at(self, stage):
        """Count one occurrence of stage and return the fault for it."""
        self.stage_count[stage] += 1
        n = self.stage_count[stage]
        for f in self.faults:
            if f["stage"] == stage and f.get("count", f.get("nth", n)) == n:
                self.event("fault", stage=stage, action=f["action"], n=n)
                return f
        return None

    def apply(self, f):
        """Carry out the actions that are the same at every command stage.
        Returns the reply code (int) when the fault answered the command in
        place of the normal code path, else None."""
        action = f["action"]
        if action == "drop":
            raise Hangup("fault drop")
        if action == "reset":
            self.reset_connection()
            raise Hangup("fault reset")
        if action == "hang":
            self.server.stop.wait(f.get("seconds", HANG_SECONDS))
            raise Hangup("fault hang")
        if action == "garbage":
            self.log("S", "this is not smtp")
            self.send_raw(b"this is not smtp\r\n")
            return 0
        if action == "reply":
            lines = f["reply"]
            lines = [lines] if isinstance(lines, str) else lines
            self.reply(*lines)
            code = int(lines[-1][:3])
            if code == 421:
                self.close_notify()
                raise Hangup("fault 421")
            return code
        if action == "stall_read":
            self.read_budget = f.get("bytes", STALL_BYTES)
            self.stall_seconds = f.get("seconds", HANG_SECONDS)
        elif action == "delay":
            time.sleep(f.get("ms", 0) / 1000.0)
        elif action == "trail":
            self.trail = f
        return None

    def inject(self, stage):
        """Apply the fault for a command stage, if any; the reply code it
        sent in place of the normal answer, or None to go on normally."""
        f = self.fault_at(stage)
        return None if f is None else self.apply(f)

    # --- session ----------------------------------------------------------

    def run(self):
        reason = "?"
        try:
            self.session()
        except Hangup as e:
            reason = str(e)
        except OSError as e:            # includes TLS errors and timeouts
            reason = "%s: %s" % (type(e).__name__, e)
        except Exception:               # a bug in this simulator
            reason = "simulator error"
            self.server.error("scenario %s conn %d:\n%s" % (
                self.sid, self.conn, traceback.format_exc()))
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            self.event("close", reason=reason)

    def session(self):
        self.sock.settimeout(self.opts.idle)
        f = self.fault_at("connect")
        if f is not None:
            self.connect_fault(f)
        if self.kind == "wrapper":
            self.start_tls()
        code = self.inject("greeting")
        if code is None:
            token = "".join(random.choices(
                string.ascii_uppercase + string.digits, k=9))
            session_id = "".join(random.choices(
                string.ascii_letters + string.digits, k=20))
            self.reply("220 %s ESMTP SimpleEmailService-d-%s %s" % (
                SES_HOST, token, session_id))
        elif code >= 400:
            self.rejected = True        # a refusing banner: RFC 5321 3.1
        self.commands()

    def connect_fault(self, f):
        action = f["action"]
        if action in ("refuse", "drop"):
            raise Hangup("fault " + action)
        if action in ("reply", "garbage"):
            # Plain text, even on the wrapper port (a plaintext server where
            # TLS was expected), then close.
            lines = (["this is not smtp"] if action == "garbage" else
                     [f["reply"]] if isinstance(f["reply"], str) else
                     f["reply"])
            self.reply(*lines)
            raise Hangup("fault " + action)
        self.apply(f)

    def start_tls(self):
        f = self.fault_at("tls")
        if f is not None:
            if f["action"] in ("drop", "reset", "garbage"):
                # Wait for the ClientHello so the failure lands mid-handshake.
                self.sock.recv(CHUNK)
            if f["action"] == "garbage":
                self.send_raw(b"this is not smtp\r\n")
                raise Hangup("fault garbage")
            self.apply(f)
        self.rbuf.clear()               # RFC 3207 5: no plaintext carried over
        accept_tls(self, Hangup)
        self.ehlo = None
        self.auth = None
        self.reset_transaction()

    def commands(self):
        while True:
            line = self.readline()
            if line is None:
                self.log("C", "<line too long>")
                self.reply("500 Line too long")
                continue
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "AUTH" and len(arg.split()) > 1:
                self.log("C", "AUTH %s ***" % arg.split()[0])
            else:
                self.log("C", line)
            handler = self.HANDLERS.get(verb)
            if self.rejected and verb != "QUIT":
                self.reply("503 Bad sequence of commands")
            elif handler is None:
                self.reply("500 Unrecognized command")
            else:
                handler(self, arg.strip())

    def reset_transaction(self):
        self.mail = None
        self.mail_params = []
        self.rcpts = []

    # --- commands ---------------------------------------------------------

    def ehlo_lines(self):
        lines = [SES_HOST, "8BITMIME"]
        if self.opts.size:
            lines.append("SIZE %d" % self.opts.size)
        if self.kind == "starttls":
            lines.append("STARTTLS")    # still offered after TLS, as SES does
        lines += ["AUTH LOGIN" if self.opts.login_only else "AUTH PLAIN LOGIN",
                  "Ok"]
        return ["250-" + x for x in lines[:-1]] + ["250 " + lines[-1]]

    def cmd_ehlo(self, arg, extended=True):
        code = self.inject("ehlo")
        if code is not None:
            if 200 <= code < 300:
                self.ehlo = arg or "(none)"
            return
        if not arg:
            self.reply("501 Syntax: %s hostname" %
                       ("EHLO" if extended else "HELO"))
            return
        self.ehlo = arg
        self.reset_transaction()        # RFC 5321 4.1.4
        if extended:
            self.reply(*self.ehlo_lines())
        else:
            self.reply("250 " + SES_HOST)

    def cmd_helo(self, arg):
        self.cmd_ehlo(arg, extended=False)

    def cmd_starttls(self, arg):
        if self.inject("starttls") is not None:
            return
        if self.tls:
            self.reply("503 TLS already active")
        elif arg:
            self.reply("501 Syntax error")
        else:
            self.reply("220 Ready to start TLS")
            self.start_tls()

    def cmd_auth(self, arg):
        if self.inject("auth") is not None:
            return
        if not self.tls:
            self.reply("530 Must issue a STARTTLS command first")
            return
        if not self.ehlo:
            self.reply("503 Send EHLO first")
            return
        if self.auth:
            self.reply("503 Already authenticated")
            return
        words = arg.split()
        mech = words[0].upper() if words else ""
        initial = words[1] if len(words) > 1 else None
        offered = ("LOGIN",) if self.opts.login_only else ("PLAIN", "LOGIN")
        if mech not in offered:
            self.reply("504 Unrecognized authentication type")
            return
        try:
            if mech == "PLAIN":
                blob = self.sasl_decode(initial if initial is not None
                                        else self.challenge(""))
                parts = blob.split(b"\0")
                if len(parts) != 3:
                    raise ValueError("not authzid NUL user NUL password")
                user, password = parts[1], parts[2]
            else:
                user = self.sasl_decode(
                    initial if initial is not None
                    else self.challenge("VXNlcm5hbWU6"))
                password = self.sasl_decode(self.challenge("UGFzc3dvcmQ6"))
        except ValueError as e:
            self.event("auth", mech=mech, ok=False, error=str(e))
            self.reply("501 %s" % e)
            return
        ok = (hmac.compare_digest(user, self.opts.user.encode()) and
              hmac.compare_digest(password, self.server.password.encode()))
        self.event("auth", mech=mech, ok=ok, initial=initial is not None,
                   user=user.decode("latin-1"))
        if ok:
            self.auth = mech
            self.reply("235 Authentication successful.")
        else:
            self.reply("535 Authentication Credentials Invalid")

    def challenge(self, prompt):
        self.reply("334 " + prompt)
        line = self.readline()
        self.log("C", "***" if line is not None else "<line too long>")
        if line is None:
            raise ValueError("Line too long")
        if line == "*":
            raise ValueError("Authentication cancelled")
        return line

    @staticmethod
    def sasl_decode(text):
        if text == "=":                 # RFC 4954 4: an empty response
            return b""
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise ValueError("Cannot decode response") from None

    def cmd_mail(self, arg):
        if self.inject("mail") is not None:
            return
        if not self.tls:
            self.reply("530 Must issue a STARTTLS command first")
            return
        if not self.auth:
            self.reply("530 Authentication required")
            return
        if self.mail is not None:
            self.reply("503 Sender already specified")
            return
        m = MAIL_RE.fullmatch(arg)
        if not m or not ADDR_RE.fullmatch(m.group(1)):
            self.reply("501 Invalid MAIL FROM address provided")
            return
        params = m.group(2).split()
        for p in params:
            key, _, value = p.partition("=")
            if (key.upper() == "SIZE" and self.opts.size and
                    value.isdigit() and int(value) > self.opts.size):
                self.reply("552 Message is too long.")
                return
        self.mail, self.mail_params, self.rcpts = m.group(1), params, []
        self.reply("250 Ok")

    def cmd_rcpt(self, arg):
        if self.inject("rcpt") is not None:
            return
        if self.mail is None:
            self.reply("503 Error: need MAIL command")
            return
        m = RCPT_RE.fullmatch(arg)
        if not m or not ADDR_RE.fullmatch(m.group(1)):
            self.reply("553 %s Invalid email address" %
                       arg.split(":", 1)[-1].strip())
            return
        if len(self.rcpts) >= RCPT_HARD_CAP:
            self.reply("452 Too many recipients")
            return
        self.rcpts.append(m.group(1))
        self.reply("250 Ok")

    def cmd_data(self, arg):
        if self.inject("data") is not None:
            return
        if self.mail is None:
            self.reply("503 Error: need MAIL command")
        elif not self.rcpts:
            self.reply("503 Error: need RCPT command")
        elif arg:
            self.reply("501 Syntax error")
        elif self.tls in ("TLSv1", "TLSv1.1"):
            # ses.md 2.2: old TLS got through the envelope and failed here.
            self.reply(TLS_DENIED)
            self.reset_transaction()
        else:
            self.reply("354 End data with <CR><LF>.<CR><LF>")
            raw, size = self.read_data()
            self.log("C", "<%d octets of data>" % size)
            self.end_of_data(raw, size)
            self.reset_transaction()

    def end_of_data(self, raw, size):
        """The reply to the final dot.  raw is None when the message was too
        long to keep; such a message is never stored."""
        eml = None if raw is None else unstuff(raw)
        f = self.fault_at("dot")
        if f is not None and f["action"] == "accept_drop":
            if raw is not None:
                self.store(raw, eml, message_id())
            raise Hangup("fault accept_drop")
        if f is not None and f["action"] == "reply":
            text = f["reply"] if isinstance(f["reply"], str) \
                else f["reply"][-1]
            if text.startswith("2") and raw is not None:
                # Stored before the reply, as always; the id is what
                # follows "250 Ok " (or the code).
                self.store(raw, eml, re.sub(r"^Ok\b\s*", "", text[4:]))
        if f is not None and self.apply(f) is not None:
            return
        problem = self.verdict(eml, size)
        if problem:
            self.event("rejected", reply=problem)
            self.reply(problem)
            return
        if not self.server.rate.admit(len(self.rcpts)):
            self.event("throttled", rcpts=len(self.rcpts))
            self.reply(THROTTLED)
            return
        mid = message_id()
        self.store(raw, eml, mid)
        self.reply("250 Ok " + mid)

    def verdict(self, eml, size):
        """SES's checks after the final dot (ses.md 5.1), in a fixed order;
        the rejection reply, or None to accept."""
        if len(self.rcpts) > MAX_RECIPIENTS:
            return ("554 Transaction failed: Recipient count exceeds %d." %
                    MAX_RECIPIENTS)
        if size > self.server.max_size:
            return "552 Message is too long."
        fields = header_fields(eml)
        dup = duplicate_header(fields)
        if dup:
            return "554 Transaction failed: Duplicate header '%s'." % dup
        if self.server.verified:
            addrs = [self.mail] + [a for n, v in fields
                                   if n.lower() in IDENTITY_HEADERS
                                   for _, a in getaddresses([v]) if a]
            failed = []
            for a in addrs:
                if (not self.server.is_verified(a) and
                        a.lower() not in map(str.lower, failed)):
                    failed.append(a)
            if failed:
                return ("554 Message rejected: Email address is not "
                        "verified. The following identities failed the check"
                        " in region %s: %s" % (self.opts.region.upper(),
                                               ", ".join(failed)))
        return None

    def store(self, raw, eml, mid):
        info = {"scenario": self.sid, "conn": self.conn,
                "mail_from": self.mail,
                "mail_params": self.mail_params, "rcpt": self.rcpts,
                "id": mid, "tls": self.tls, "auth": self.auth,
                "ehlo": self.ehlo, "sni": self.sni, "size": len(raw)}
        seq = self.server.store(raw, eml, info)
        self.event("stored", seq=seq, id=mid)

    def cmd_rset(self, arg):
        self.reset_transaction()
        self.reply("250 Ok")

    def cmd_noop(self, arg):
        self.reply("250 Ok")

    def cmd_quit(self, arg):
        if self.inject("quit") is None:
            self.reply("221 Bye")
        self.close_notify()
        raise Hangup("quit")

    HANDLERS = {"EHLO": cmd_ehlo, "HELO": cmd_helo, "STARTTLS": cmd_starttls,
                "AUTH": cmd_auth, "MAIL": cmd_mail, "RCPT": cmd_rcpt,
                "DATA": cmd_data, "RSET": cmd_rset, "NOOP": cmd_noop,
                "QUIT": cmd_quit}


class Server:
    """Listening sockets, the accept loop, and the shared output files."""

    def __init__(self, opts):
        self.opts = opts
        self.dir = opts.dir
        self.msgdir = os.path.join(self.dir, "messages")
        os.makedirs(self.msgdir, exist_ok=True)
        self.password = smtp_password(opts.secret, opts.region)
        self.max_size = min(MAX_MESSAGE, opts.size or MAX_MESSAGE)
        self.verified = [v.strip().lower() for v in (opts.verified or "")
                         .split(",") if v.strip()]
        self.ctx = self.tls_context()
        self.stop = threading.Event()
        self.lock = threading.Lock()    # counters and the output files
        self.counts = {}                # connections per scenario id
        self.rate = SendRate(opts.max_send_rate)
        self.seq = 0
        self.threads = set()
        self.sessions = set()
        self.listeners = {}             # socket -> (kind, family)
        self.events_f = open(os.path.join(self.dir, "events.jsonl"), "a")
        self.transcript_f = open(os.path.join(self.dir, "transcript.log"),
                                 "a", encoding="utf-8", errors="replace")

    def tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.opts.cert, self.opts.key)
        ctx.sni_callback = note_sni
        with warnings.catch_warnings():     # TLS 1.0/1.1 are deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = TLS_VERSIONS[self.opts.tls_min]
            ctx.maximum_version = TLS_VERSIONS[self.opts.tls_max]
        if ctx.minimum_version < ssl.TLSVersion.TLSv1_2:
            # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        return ctx

    def is_verified(self, addr):
        """A verified address, or an address in a verified domain or one of
        its subdomains (SES lets a verified domain send for subdomains)."""
        addr = addr.lower()
        domain = addr.rpartition("@")[2]
        return any(addr == v if "@" in v else
                   domain == v or domain.endswith("." + v)
                   for v in self.verified)

    # --- output files -----------------------------------------------------

    def event(self, sid, conn, name, **kw):
        rec = {"t": round(time.time(), 3), "scenario": sid, "conn": conn,
               "event": name}
        rec.update(kw)
        with self.lock:
            if not self.events_f.closed:    # a late thread after shutdown
                self.events_f.write(json.dumps(rec) + "\n")
                self.events_f.flush()

    def transcript(self, sid, conn, who, text):
        with self.lock:
            if not self.transcript_f.closed:
                self.transcript_f.write("%s %d %s: %s\n" % (sid, conn, who,
                                                             text))
                self.transcript_f.flush()

    def error(self, text):
        with self.lock:
            with open(os.path.join(self.dir, "sim-errors.log"), "a") as f:
                f.write(time.strftime("%H:%M:%S ") + text.rstrip() + "\n")

    def store(self, raw, eml, info):
        with self.lock:
            self.seq += 1
            seq = self.seq
        base = os.path.join(self.msgdir, "%06d" % seq)
        info = dict(info, seq=seq)
        write_atomic(base + ".raw", raw)
        write_atomic(base + ".eml", eml)
        write_atomic(base + ".json", json.dumps(info, indent=1).encode())
        return seq

    # --- connections ------------------------------------------------------

    def listen(self):
        """Bind the IPv4 (and with --ipv6 the ::1) listeners; the ports.
        With --ipv6, ::1 gets the same port numbers as 127.0.0.1, so that
        "localhost" reaches this simulator whichever address it names
        first (Debian's /etc/hosts gives ::1 and 127.0.0.1): a ::1 port of
        its own could be another simulator's.  After 100 collisions it
        gives up."""
        for attempt in range(100):
            ports, socks = {}, []
            try:
                for kind in ("starttls", "wrapper"):
                    s = bind(socket.AF_INET, "127.0.0.1", 0)
                    socks.append((s, kind, "ipv4"))
                    ports[kind] = s.getsockname()[1]
                    if self.opts.ipv6:
                        s = bind(socket.AF_INET6, "::1", ports[kind])
                        socks.append((s, kind, "ipv6"))
                        ports[kind + "6"] = ports[kind]
            except OSError:
                for s, _, _ in socks:
                    s.close()
                continue
            break
        else:
            raise OSError("no port free on both 127.0.0.1 and ::1")
        for s, kind, family in socks:
            s.listen(64)
            self.listeners[s] = (kind, family)
        return ports

    def plan(self):
        """Read the scenario file: (scenario id, connection number, faults)
        for the connection just accepted.  A bad file or fault is reported
        in sim-errors.log and ignored."""
        path = os.path.join(self.dir, "scenario.json")
        try:
            with open(path) as f:
                spec = json.load(f)
            if not isinstance(spec, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            spec = {}
        except (OSError, ValueError) as e:
            self.error("%s: %s" % (path, e))
            spec = {}
        sid = str(spec.get("id", "none"))
        with self.lock:
            n = self.counts[sid] = self.counts.get(sid, 0) + 1
        if isinstance(spec.get("random"), dict):
            faults = random_faults(spec["random"], n)
        else:
            conns = spec.get("conns") or []
            faults = (conns[n - 1] if n <= len(conns) else
                      spec.get("default")) or []
        if not isinstance(faults, list):
            faults = [faults]
        good = []
        for f in faults:
            problem = fault_problem(f)
            if problem:
                self.error("scenario %s: fault %r ignored: %s" % (
                    sid, f, problem))
            else:
                good.append(f)
        return sid, n, good

    def serve(self, wakeup):
        """Accept until `wakeup` (the signal socket) becomes readable."""
        sel = selectors.DefaultSelector()
        sel.register(wakeup, selectors.EVENT_READ)
        for s in self.listeners:
            sel.register(s, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select():
                if key.fileobj is wakeup:
                    self.stop.set()
                    break
                try:
                    self.accept(key.fileobj)
                except Exception:       # never let the accept loop die
                    self.error("accept:\n" + traceback.format_exc())
        sel.close()

    def accept(self, listener):
        try:
            sock, peer = listener.accept()
        except OSError:
            return
        kind, family = self.listeners[listener]
        # Replies go out at once, as a real server's do: without this, a
        # reply written after the TLS 1.3 session tickets waits for the
        # client's delayed ACK (40 ms) under Nagle's algorithm.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sid, n, faults = self.plan()
        if any(f["action"] == "stall_read" for f in faults):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALL_RCVBUF)
        self.event(sid, n, "connect", kind=kind, family=family,
                   peer=("[%s]:%d" if family == "ipv6" else "%s:%d") %
                   peer[:2], faults=faults)
        session = Session(self, sock, kind, sid, n, faults)
        t = threading.Thread(target=self.run_session, args=(session,),
                             daemon=True)
        with self.lock:
            self.threads.add(t)
            self.sessions.add(session)
        t.start()

    def run_session(self, session):
        try:
            session.run()
        finally:
            with self.lock:
                self.threads.discard(threading.current_thread())
                self.sessions.discard(session)

    def shutdown(self):
        """Close the listeners, wake every session, wait a little for them."""
        self.stop.set()
        for s in self.listeners:
            s.close()
        with self.lock:
            sessions, threads = list(self.sessions), list(self.threads)
        for session in sessions:
            try:
                # The plain socket's shutdown, even under TLS: it wakes the
                # session's blocking read without touching the TLS state.
                socket.socket.shutdown(session.sock, socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 3
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        with self.lock:
            self.events_f.close()
            self.transcript_f.close()


def note_sni(sock, server_name, ctx):
    """The TLS context's SNI callback, run during each handshake: keep the
    name the client sent (None when it sent none) on the socket, where
    Session.start_tls() finds it.  Returning None lets the handshake go on
    with the one certificate."""
    sock.sni = server_name


def accept_tls(conn, hangup, alpn=False):
    """The server's side of the handshake on conn.sock, for both
    simulators: conn.tls and conn.sni set and a "tls" event written (with
    the ALPN protocol chosen when alpn), or hangup raised."""
    try:
        conn.sock = conn.server.ctx.wrap_socket(conn.sock, server_side=True)
    except socket.timeout:
        raise hangup("tls timeout") from None
    except (ssl.SSLError, OSError) as e:
        conn.event("tls", error=str(e))
        raise hangup("tls failed") from None
    conn.tls = conn.sock.version()
    conn.sni = getattr(conn.sock, "sni", None)
    extra = {"alpn": conn.sock.selected_alpn_protocol()} if alpn else {}
    conn.event("tls", version=conn.tls, cipher=conn.sock.cipher()[0],
               sni=conn.sni, **extra)


def bind(family, host, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        s.bind((host, port))
    except OSError:
        s.close()
        raise
    return s


def write_atomic(path, data):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Amazon SES SMTP simulator")
    p.add_argument("--dir", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--user", default="AKIAIOSFODNN7EXAMPLE")
    p.add_argument("--secret",
                   default="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    p.add_argument("--idle", type=float, default=10.0,
                   help="seconds of client silence before 451 and close")
    p.add_argument("--size", type=int, default=0,
                   help="advertise SIZE N and enforce it (legacy SES)")
    p.add_argument("--login-only", action="store_true",
                   help="offer AUTH LOGIN only")
    p.add_argument("--delay-ms", type=int, default=0,
                   help="sleep before every reply")
    p.add_argument("--verified", default="",
                   help="comma list of verified domains and addresses")
    p.add_argument("--tls-min", choices=sorted(TLS_VERSIONS), default="1.2")
    p.add_argument("--tls-max", choices=sorted(TLS_VERSIONS), default="1.3")
    p.add_argument("--ipv6", action="store_true", help="also listen on ::1")
    p.add_argument("--max-send-rate", type=float, default=0,
                   help="recipients a second (454 throttling above it)")
    return p.parse_args(argv)


def serve_until_signal(server, path, data):
    """Write `data` to `path` (atomically: the sign that `server` listens),
    run server.serve(wakeup) until SIGTERM or SIGINT, then
    server.shutdown() and remove `path`; 0.  sesapi.py and connectproxy.py
    use it too."""
    # SIGTERM/SIGINT wake the accept loop through a socket pair.
    wakeup, wakeup_w = socket.socketpair()
    wakeup_w.setblocking(False)
    signal.set_wakeup_fd(wakeup_w.fileno())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)

    write_atomic(path, data)
    try:
        server.serve(wakeup)
    finally:
        server.shutdown()
        try:
            os.unlink(path)             # a stale file must not mislead
        except FileNotFoundError:
            pass
    return 0


def main(argv):
    opts = parse_args(argv)
    server = Server(opts)
    ports = server.listen()
    ports["pid"] = os.getpid()
    return serve_until_signal(server, os.path.join(opts.dir, "ports.json"),
                              json.dumps(ports).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
