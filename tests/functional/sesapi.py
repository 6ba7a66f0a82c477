#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""A local Amazon SES API v2 simulator (HTTPS) for the functional tests.

It answers the SES API v2 operations a sender needs as the real service does
(doc/ses.md section 9): SendEmail with raw content, GetAccount,
GetEmailIdentity and GetConfigurationSet, in HTTP/1.1 over TLS, keep-alive, with each request's
Signature Version 4 recomputed by botocore's own signer.  It stores every
accepted message and injects faults per connection or per request, driven by
a scenario file that the tests rewrite between cases, like sessim.py (whose
helpers it shares).  Debian's Python 3 and python3-botocore; loopback only.

    /usr/bin/python3 sesapi.py --dir DIR --cert CERT --key KEY [options]

Files in DIR:
  ports.json      written (atomically) once listening: {"https": P,
                  "pid": PID}, plus "https6": P with --ipv6 (on ::1, the
                  same number as on 127.0.0.1, so that "localhost" reaches
                  this simulator whichever address it names first)
  scenario.json   read at every connection and every request (see below)
  messages/NNNNNN.raw, .json
                  each accepted message: the decoded Content.Raw.Data, then
                  (written last) the facts: "from" (FromEmailAddress, or
                  null), "to", "cc", "bcc" (Destination as sent), "rcpt"
                  (the recipients SES used), "config_set", "tags", "id",
                  "size", "key_id", "token" (one was sent), "signed" (the
                  signed header names), "content_sha256" (the header was
                  sent), "expect", "user_agent", "tls", "sni", "scenario",
                  "conn", "request" (k below), "seq"
  transcript.log  "<scenario> <conn> C: <line>" / "... S: <line>": request
                  and response heads, "<body: N octets>" for a request body,
                  a response body as is.  The Authorization header's
                  Signature and the X-Amz-Security-Token value show as ***.
  events.jsonl    one JSON object per line: connect, tls, request, auth
                  (failures), fault, rejected, stored, response, close
  sim-errors.log  simulator bugs and bad scenario files only; a client
                  misbehaving or vanishing is not an error

Scenario file:
  {"id": "abc", "conns": [[FAULT, ...], ...], "default": [FAULT, ...],
   "requests": [[FAULT, ...], ...], "token_expired": false,
   "clock_offset": 0, "denied": [OP, ...], "account": {...},
   "identities": {NAME: {...} or null}, "config_sets": {NAME: {...}},
   "keys": [{"id", "secret", "token", "expired"}]}
Connections are numbered from 1 per scenario id; a keep-alive connection
that carries a request of a newer scenario gets the next number there (its
"connect" event says "reused").  Connection n gets conns[n-1] when it exists,
else "default", else nothing; request k of the scenario (counted from 1
across its connections) also gets requests[k-1].  "token_expired" makes the
--session-token an expired one; "clock_offset" (seconds) moves the
simulator's clock, for clock skew.  "denied" lists operations the key's
IAM policy does not allow: 403 AccessDeniedException with AWS's "User: ARN
is not authorized to perform: ses:OP on resource: ARN" text, after the
signature is checked.  "account" overrides GetAccount's facts: "sandbox",
"sending_paused" (also refuses SendEmail), "enforcement" (HEALTHY,
PROBATION, SHUTDOWN), "quota", "rate", "sent".  "identities" adds or
replaces identities (a name in any case; null: not found): "status" (a
VerificationStatus; SUCCESS makes it verified for sending), "dkim" (a
DkimStatus; default SUCCESS for a verified domain, else NOT_STARTED) and
"signing" (DKIM SigningEnabled).  "config_sets" replaces --config-sets:
{NAME: {"sending": false}} makes one whose sending is disabled
(SendEmail naming it gets 400 SendingPausedException, "Sending is paused
for this configuration set.": v2 has no type of its own for it, v1 said
ConfigurationSetSendingPausedException).  The identities and configuration sets of a
scenario also rule SendEmail.  "keys" are temporary keys accepted besides
--key-id (the ones credsim.py hands out), "expired" making one's token
expired.

FAULT = {"action": A, ...}, with optional keys:
  "count": k   (connection faults) only the k-th request of the connection
  "op": NAME   only requests for that operation (SendEmail, GetAccount,
               GetEmailIdentity, GetConfigurationSet; null for an unknown
               path)
  "at": WHEN   for drop, reset, hang and garbage: "connect" (TCP accepted,
               before TLS), "tls" (after the ClientHello), "head" (request
               head read, not the body) or "body" (the default: the whole
               request read, nothing answered).  connect and tls are for
               "conns"/"default" only, and ignore "count" and "op".
actions
  error        answer "status" (default 400), "type", "message" instead of
               the operation (nothing stored).  "type_in": "header" (the
               default: x-amzn-ErrorType), "body" (__type in the body only),
               "body_ns" (__type as "com.amazon.coral.service#TYPE") or
               "both"; "headers": {name: value} adds fields (Retry-After);
               "early": true answers right after the head, with no
               100 Continue and without reading the body, then closes
  drop         close without answering
  reset        close with SO_LINGER 0, so that the client sees a RST
  hang         answer nothing for "seconds" (default 120), then close
  garbage      send "data" (default "this is not http" CR LF CR LF), close
  accept_drop  (SendEmail) do the operation, storing the message, then close
               without answering
  delay        wait "ms" milliseconds before answering
  chunked      answer with Transfer-Encoding: chunked, "size" octets a chunk
               (default 16); "ext": true adds a chunk extension to each size
               line, "trailer": true a trailer field
  close        answer with Connection: close, then close; "announce": false
               leaves the header out (a silent close after a response)
  split        write the response "bytes" octets at a time (default 1),
               "gap_ms" apart (default 0)
  no_continue  leave Expect: 100-continue unanswered (the body is read all
               the same)
delay, chunked, close, split and no_continue combine with each other and
with error.

The checks, in this order, and the answers AWS does not document exactly
(the simulator's choice, strict enough to catch a client bug):
  - HTTP: a malformed head (bare LF line ends, folded or nameless fields, no
    Host) gets 400; a request body with Transfer-Encoding, or a POST
    without Content-Length, 411; a Content-Length above what the size
    limit allows in base64 (plus 64 KiB), 413 without reading it.  All
    three then close.  A connection idle for --idle seconds is closed
    without a word, as load balancers do.
  - Authentication, every request (403 unless said): no Authorization:
    MissingAuthenticationTokenException; not AWS4-HMAC-SHA256 or a part
    missing, no X-Amz-Date, or host not signed:
    IncompleteSignatureException; X-Amz-Date more than --skew seconds off:
    InvalidSignatureException "Signature expired: ..." (or "not yet
    current"); an unknown key id, or a session token that is not exactly
    --session-token (none when that is empty):
    UnrecognizedClientException; the token with "token_expired":
    ExpiredTokenException; a wrong scope date, region or service, an
    X-Amz-Content-Sha256 that is not the body's hash, or a wrong signature:
    InvalidSignatureException, the last with the canonical request and the
    string to sign in the message, as AWS writes them.  SES v2 says
    InvalidSignatureException where the v1 (query) API says
    SignatureDoesNotMatch (aws/aws-sdk#307, a SESv2 client).
  - An unknown method or path: 404 UnknownOperationException.
  - An operation in the scenario's "denied": 403 AccessDeniedException.
  - GetEmailIdentity of an unknown name: 404 NotFoundException "Email
    identity <NAME> does not exist."; GetConfigurationSet of an unknown
    name: 404 NotFoundException "Configuration set <NAME> does not exist."
  - SendEmail (400 unless said): a body that is not the JSON object of the
    model, Simple or Template content, or Raw.Data that is not base64:
    BadRequestException; --sending-paused: SendingPausedException; no
    recipient in Destination nor in To:/Cc:/Bcc: BadRequestException;
    more than 50: MessageRejected "Recipient count exceeds 50."; a decoded
    message over --max-size: MessageRejected "Message too long."; no From:
    BadRequestException "Missing required header 'From'."; a field of
    sessim's UNIQUE_HEADERS twice: BadRequestException "Duplicate header
    'NAME'."; ConfigurationSetName not in --config-sets: 404
    NotFoundException; with --verified, FromEmailAddress and the From:,
    Sender: and Return-Path: addresses, and in the sandbox the recipients
    too (the mailbox simulator's excepted): MessageRejected "Email address
    is not verified. ..."; with --quota, more recipients than the 24-hour
    quota leaves: LimitExceededException "Daily message quota exceeded.";
    with --max-send-rate, a token bucket of that many recipients a second
    (sessim's: one second's worth and a quarter second more):
    429 TooManyRequestsException "Maximum sending rate exceeded." (and the
    event "throttled").
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import uuid
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import formatdate, getaddresses
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

import sessim           # same directory: message ids, header rules, sockets

ERROR_NS = "http://internal.amazon.com/coral/com.amazon.coral.service/"
BODY_NS = "com.amazon.coral.service#"
MAX_HEAD = 16384
HANG_SECONDS = 120
CHUNK = 65536
GARBAGE = "this is not http\r\n\r\n"
QUOTA = {False: 50000, True: 200}       # 24-hour quota: production, sandbox
RATE = {False: 14, True: 1}             # recipients a second
MAILBOX_SIMULATOR = "simulator.amazonses.com"
AMZ_DATE = "%Y%m%dT%H%M%SZ"

BAD_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.")
SIG_ERROR = "InvalidSignatureException"

OPS = ("SendEmail", "GetAccount", "GetEmailIdentity", "GetConfigurationSet",
       None)
STATUSES = ("PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE",
            "NOT_STARTED")         # VerificationStatus and DkimStatus
ACCOUNT_ID = "123456789012"
ACTIONS = ("error", "drop", "reset", "hang", "garbage", "accept_drop",
           "delay", "chunked", "close", "split", "no_continue")
TERMINAL = ("drop", "reset", "hang", "garbage", "accept_drop")
WHEN = ("connect", "tls", "head", "body")
TYPE_IN = ("header", "body", "body_ns", "both")


class ApiError(Exception):
    """An AWS error answer; with etype None, an HTTP-level refusal of a
    request the simulator cannot frame (answered, then closed)."""

    def __init__(self, status, etype, message):
        super().__init__(message)
        self.status, self.etype, self.message = status, etype, message


class Hangup(Exception):
    """Ends a connection; the argument is the reason recorded in the log."""


class Request:
    def __init__(self, method, target, version, headers):
        self.method, self.target, self.version = method, target, version
        self.headers = headers          # [(name as sent, value)]
        self.path = target.split("?", 1)[0]
        self.body = b""

    def values(self, name):
        return [v for n, v in self.headers if n.lower() == name]

    def header(self, name):
        v = self.values(name)
        return v[0] if v else None


def parse_head(head):
    """A Request from the head's bytes (no final empty line)."""
    lines = head.split(b"\r\n")
    if any(b"\n" in ln or b"\r" in ln for ln in lines):
        raise ApiError(400, None, "Bad line end")
    parts = lines[0].decode("latin-1").split(" ")
    if (len(parts) != 3 or not parts[0].isalpha() or
            parts[2] not in ("HTTP/1.1", "HTTP/1.0") or
            not parts[1].startswith("/")):
        raise ApiError(400, None, "Bad request line")
    headers = []
    for ln in lines[1:]:
        text = ln.decode("latin-1")
        name, colon, value = text.partition(":")
        if (not colon or not name or name != name.strip() or
                text[:1] in (" ", "\t")):
            raise ApiError(400, None, "Bad header field")
        headers.append((name, value.strip(" \t")))
    req = Request(parts[0], parts[1], parts[2], headers)
    if req.version == "HTTP/1.1" and len(req.values("host")) != 1:
        raise ApiError(400, None, "Host is required")
    return req


def route(method, path):
    """(operation, argument) of a request; (None, None) when unknown."""
    if path == "/v2/email/outbound-emails" and method == "POST":
        return "SendEmail", None
    if path == "/v2/email/account" and method == "GET":
        return "GetAccount", None
    prefix = "/v2/email/identities/"
    if path.startswith(prefix) and method == "GET":
        name = path[len(prefix):]
        if name and "/" not in name:
            return "GetEmailIdentity", unquote(name)
    prefix = "/v2/email/configuration-sets/"
    if path.startswith(prefix) and method == "GET":
        name = path[len(prefix):]
        if name and "/" not in name:
            return "GetConfigurationSet", unquote(name)
    return None, None


def mask(name, value):
    """A header value as the transcript shows it."""
    low = name.lower()
    if low == "x-amz-security-token":
        return "***"
    if low == "authorization" and "Signature=" in value:
        return value[:value.index("Signature=") + 10] + "***"
    return value


def error_answer(status, etype, message, type_in="header", extra=None):
    """(status, headers, body) of an AWS rest-json error."""
    headers = list((extra or {}).items())
    body = {"message": message}
    if etype is None:
        pass
    elif type_in in ("header", "both"):
        headers.append(("x-amzn-ErrorType", "%s:%s" % (etype, ERROR_NS)))
    if etype is not None and type_in in ("body", "both"):
        body = {"__type": etype, "message": message}
    elif etype is not None and type_in == "body_ns":
        body = {"__type": BODY_NS + etype, "message": message}
    return status, headers, json.dumps(body).encode()


def chunk_body(body, f):
    size = max(1, int(f.get("size", 16)))
    ext = b";sim=1" if f.get("ext") else b""
    out = bytearray()
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
    out += b"0\r\n" + (b"X-Sim-Trailer: 1\r\n" if f.get("trailer") else b"")
    return bytes(out + b"\r\n")


def fault_problem(f, per_request):
    """Why a fault description is unusable, or None."""
    if not isinstance(f, dict):
        return "not an object"
    action = f.get("action")
    if action not in ACTIONS:
        return "unknown action %r" % (action,)
    if "at" in f:
        if action not in ("drop", "reset", "hang", "garbage"):
            return "'at' is for drop, reset, hang and garbage"
        if f["at"] not in WHEN:
            return "unknown 'at' %r" % (f["at"],)
        if per_request and f["at"] in ("connect", "tls"):
            return "'at': %s only in conns/default" % f["at"]
    if f.get("op", None) not in OPS:
        return "unknown op %r" % (f["op"],)
    if not isinstance(f.get("count", 1), int):
        return "count is not a number"
    if action == "error":
        if not (isinstance(f.get("status", 400), int) and
                100 <= f.get("status", 400) <= 599):
            return "status is not an HTTP status"
        if not (isinstance(f.get("type"), str) and
                isinstance(f.get("message", ""), str)):
            return "error needs a type (and a message) as strings"
        if f.get("type_in", "header") not in TYPE_IN:
            return "unknown type_in %r" % (f["type_in"],)
    return None


class Verifier(SigV4Auth):
    """botocore's SigV4 signer, told which headers the client signed
    (botocore would pick its own set, leaving out User-Agent and Expect)."""

    def __init__(self, credentials, region, signed):
        super().__init__(credentials, "ses", region)
        self.signed = signed

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self.signed:
            for value in request.headers.get_all(name) or []:
                out[name] = value
        return out


class Conn:
    """One client connection, in its own thread with blocking I/O."""

    def __init__(self, server, sock, family, peer):
        self.server, self.opts = server, server.opts
        self.sock, self.family, self.peer = sock, family, peer
        self.rbuf = bytearray()
        self.nums = {}                  # scenario id -> number there
        self.reqs = {}                  # scenario id -> requests there
        self.sid = self.n = None
        self.tls = self.sni = None

    def event(self, name, **kw):
        self.server.event(self.sid, self.n, name, **kw)

    def log(self, who, text):
        self.server.transcript(self.sid, self.n, who, text)

    def enter(self, spec, reused):
        """Make spec's scenario the connection's current one."""
        sid = spec["id"]
        if sid not in self.nums:
            self.nums[sid] = self.server.count("conns", sid)
            self.reqs[sid] = 0
            self.sid, self.n = sid, self.nums[sid]
            self.event("connect", family=self.family, peer=self.peer,
                       reused=reused)
        self.sid, self.n = sid, self.nums[sid]

    def conn_faults(self, spec):
        conns = spec.get("conns") or []
        faults = (conns[self.n - 1] if self.n <= len(conns)
                  else spec.get("default"))
        return self.server.usable(self.sid, faults, False)

    # --- I/O --------------------------------------------------------------

    def recv(self):
        try:
            data = self.sock.recv(CHUNK)
        except socket.timeout:
            raise Hangup("idle") from None
        if not data:
            raise Hangup("eof")
        return data

    def read_head(self):
        while True:
            while self.rbuf[:2] == b"\r\n":    # RFC 9112 2.2
                del self.rbuf[:2]
            i = self.rbuf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.rbuf[:i])
                del self.rbuf[:i + 4]
                return head
            if len(self.rbuf) > MAX_HEAD:
                raise ApiError(400, None, "Request head too long")
            self.rbuf += self.recv()

    def read_body(self, length):
        buf = bytearray(self.rbuf[:length])
        del self.rbuf[:length]
        while len(buf) < length:
            buf += self.recv()
        self.rbuf += buf[length:]
        return bytes(buf[:length])

    def body_length(self, req):
        if req.values("transfer-encoding"):
            raise ApiError(411, None, "Length Required")
        lengths = set(req.values("content-length"))
        if not lengths:
            if req.method == "POST":
                raise ApiError(411, None, "Length Required")
            return 0
        value = lengths.pop()
        if lengths or not value.isdigit():
            raise ApiError(400, None, "Bad Content-Length")
        length = int(value)
        if length > (self.server.max_size + 2) // 3 * 4 + 65536:
            raise ApiError(413, None, "Request Entity Too Large")
        return length

    def send(self, data):
        self.sock.sendall(data)

    def close_notify(self):
        if isinstance(self.sock, ssl.SSLSocket):
            try:
                self.sock.settimeout(0.2)
                self.sock.unwrap()
            except (OSError, ValueError):
                pass

    # --- faults -----------------------------------------------------------

    def terminal(self, f, where):
        """Carry out drop, reset, hang or garbage; never returns."""
        action = f["action"]
        self.event("fault", action=action, at=where)
        if where == "tls" and action in ("drop", "reset", "garbage"):
            self.sock.recv(CHUNK)       # the ClientHello: fail mid-handshake
        if action == "reset":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        elif action == "hang":
            self.server.stop.wait(f.get("seconds", HANG_SECONDS))
        elif action == "garbage":
            data = f.get("data", GARBAGE)
            self.log("S", "<garbage: %r>" % data)
            self.send(data.encode("utf-8"))
        raise Hangup("fault " + action)

    # --- the connection ---------------------------------------------------

    def run(self):
        reason = "?"
        try:
            self.serve()
        except Hangup as e:
            reason = str(e)
        except OSError as e:            # TLS errors, resets, timeouts
            reason = "%s: %s" % (type(e).__name__, e)
        except Exception:               # a bug in this simulator
            reason = "simulator error"
            self.server.error("scenario %s conn %s:\n%s" % (
                self.sid, self.n, traceback.format_exc()))
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            for sid, n in self.nums.items():
                self.server.event(sid, n, "close", reason=reason)

    def serve(self):
        self.sock.settimeout(self.opts.idle)
        spec = self.server.scenario()
        self.enter(spec, reused=False)
        faults = self.conn_faults(spec)
        # "tls" strikes after the ClientHello, before the handshake ends.
        for when in ("connect", "tls"):
            for f in faults:
                if f.get("at") == when:
                    self.terminal(f, when)
        self.start_tls()
        while True:
            self.exchange()

    def start_tls(self):
        sessim.accept_tls(self, Hangup, alpn=True)

    def exchange(self):
        """One request and its answer."""
        try:
            head = self.read_head()
        except ApiError as e:
            self.refuse(e, {})
        spec = self.server.scenario()
        self.enter(spec, reused=True)
        self.reqs[self.sid] += 1
        rn = self.reqs[self.sid]
        k = self.server.count("reqs", self.sid)
        try:
            req = parse_head(head)
        except ApiError as e:
            self.log("C", head.split(b"\r\n", 1)[0].decode("latin-1"))
            self.refuse(e, {})
        self.log("C", "%s %s %s" % (req.method, req.target, req.version))
        for name, value in req.headers:
            self.log("C", "%s: %s" % (name, mask(name, value)))
        op, arg = route(req.method, req.path)
        reqs = spec.get("requests") or []
        faults = [f for f in self.conn_faults(spec)
                  if f.get("at") not in ("connect", "tls") and
                  f.get("count", rn) == rn]
        if k <= len(reqs):
            faults += self.server.usable(self.sid, reqs[k - 1], True)
        faults = [f for f in faults if f.get("op", op) == op]
        self.event("request", k=k, rn=rn, method=req.method, path=req.path,
                   op=op, faults=faults)
        mods = {f["action"]: f for f in faults if f["action"] not in TERMINAL}
        term = next((f for f in faults if f["action"] in TERMINAL), None)
        if term is not None and term.get("at") == "head":
            self.terminal(term, "head")
        if mods.get("error", {}).get("early"):
            self.event("fault", action="error", early=True)
            self.answer(*self.fault_answer(mods["error"]), mods, close=True)
            raise Hangup("early answer")
        try:
            length = self.body_length(req)
        except ApiError as e:
            self.refuse(e, mods)
        expect = (req.header("expect") or "").lower() == "100-continue"
        if expect and "no_continue" not in mods:
            self.log("S", "HTTP/1.1 100 Continue")
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        req.body = self.read_body(length)
        if length:
            self.log("C", "<body: %d octets>" % length)
        if term is not None and term["action"] == "accept_drop":
            self.server.operation(self, req, op, arg, spec, k, expect)
        if term is not None:
            self.terminal(term, "body")
        if "error" in mods:
            self.event("fault", action="error")
            status, headers, body = self.fault_answer(mods["error"])
        else:
            status, headers, body = self.server.operation(
                self, req, op, arg, spec, k, expect)
        conn = (req.header("connection") or "").lower()
        close = ("close" in mods or conn == "close" or
                 (req.version == "HTTP/1.0" and conn != "keep-alive"))
        self.answer(status, headers, body, mods, close)
        if close:
            self.close_notify()
            raise Hangup("close")

    def refuse(self, e, mods):
        """Answer a request that cannot be framed, then close."""
        self.answer(*error_answer(e.status, e.etype, e.message), mods,
                    close=True)
        raise Hangup("bad request")

    def fault_answer(self, f):
        return error_answer(f.get("status", 400), f["type"],
                            f.get("message", ""), f.get("type_in", "header"),
                            f.get("headers"))

    def answer(self, status, headers, body, mods, close):
        """Send a response, as the modifiers in mods say."""
        for name in ("delay", "chunked", "split", "close"):
            if name in mods:
                self.event("fault", action=name)
        if "delay" in mods:
            self.server.stop.wait(mods["delay"].get("ms", 0) / 1000.0)
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Status %d" % status
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Date: " + formatdate(usegmt=True),
                 "Content-Type: application/json",
                 "x-amzn-RequestId: %s" % uuid.uuid4()]
        lines += ["%s: %s" % h for h in headers]
        if "chunked" in mods:
            lines.append("Transfer-Encoding: chunked")
            payload = chunk_body(body, mods["chunked"])
        else:
            lines.append("Content-Length: %d" % len(body))
            payload = body
        if not close:
            lines.append("Connection: keep-alive")
        elif mods.get("close", {}).get("announce", True):
            lines.append("Connection: close")
        for line in lines:
            self.log("S", line)
        if body:
            self.log("S", body.decode("utf-8", "replace"))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        split = mods.get("split")
        if split:
            step = max(1, int(split.get("bytes", 1)))
            for i in range(0, len(data), step):
                self.send(data[i:i + step])
                if split.get("gap_ms"):
                    time.sleep(split["gap_ms"] / 1000.0)
        else:
            self.send(data)
        self.event("response", status=status)


class Server(sessim.Server):
    """The account, the checks and the operations.  The output files, the
    accept loop and the shutdown are sessim's (its __init__ is not: the
    attributes they use are set here)."""

    def __init__(self, opts):
        self.opts = opts
        self.dir = opts.dir
        self.msgdir = os.path.join(self.dir, "messages")
        os.makedirs(self.msgdir, exist_ok=True)
        self.max_size = opts.max_size
        self.verified = lower_list(opts.verified)
        self.pending = lower_list(opts.pending)
        self.config_sets = set(x for x in opts.config_sets.split(",") if x)
        self.quota = opts.quota or QUOTA[opts.sandbox]
        self.rate = opts.max_send_rate or RATE[opts.sandbox]
        self.bucket = sessim.SendRate(opts.max_send_rate)
        self.sent = 0                   # recipients accepted
        self.ctx = self.tls_context()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counters = {}              # ("conns"|"reqs", scenario) -> n
        self.bad_faults = set()         # reported once each
        self.seq = 0
        self.threads = set()
        self.sessions = set()           # the Conns alive
        self.listeners = {}             # socket -> family
        self.events_f = open(os.path.join(self.dir, "events.jsonl"), "a")
        self.transcript_f = open(os.path.join(self.dir, "transcript.log"),
                                 "a", encoding="utf-8", errors="replace")

    def tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.opts.cert, self.opts.key)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = (ssl.TLSVersion.TLSv1_2 if
                               self.opts.tls_max == "1.2" else
                               ssl.TLSVersion.TLSv1_3)
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.sni_callback = sessim.note_sni
        return ctx

    # --- shared state and files -------------------------------------------

    def count(self, kind, sid):
        with self.lock:
            n = self.counters[kind, sid] = self.counters.get((kind, sid),
                                                             0) + 1
        return n

    def scenario(self):
        """The scenario file as a dict with a string "id"; a bad file is
        reported in sim-errors.log and taken as empty."""
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
        spec["id"] = str(spec.get("id", "none"))
        return spec

    def usable(self, sid, faults, per_request):
        """The well-formed faults of a list; the others reported once."""
        faults = faults or []
        if not isinstance(faults, list):
            faults = [faults]
        good = []
        for f in faults:
            problem = fault_problem(f, per_request)
            if problem is None:
                good.append(f)
                continue
            key = (sid, json.dumps(f, sort_keys=True))
            with self.lock:
                new = key not in self.bad_faults
                self.bad_faults.add(key)
            if new:
                self.error("scenario %s: fault %r ignored: %s" % (
                    sid, f, problem))
        return good

    def store(self, raw, info):
        with self.lock:
            self.seq += 1
            seq = self.seq
        base = os.path.join(self.msgdir, "%06d" % seq)
        sessim.write_atomic(base + ".raw", raw)
        sessim.write_atomic(base + ".json", json.dumps(
            dict(info, seq=seq), indent=1).encode())
        return seq

    # --- identities and the account ----------------------------------------

    def admit(self, nrcpt):
        """Charge the quota and the rate for nrcpt recipients, or raise."""
        with self.lock:
            if self.opts.quota and self.sent + nrcpt > self.quota:
                raise ApiError(400, "LimitExceededException",
                               "Daily message quota exceeded.")
            if not self.bucket.admit(nrcpt):
                raise ApiError(429, "TooManyRequestsException",
                               "Maximum sending rate exceeded.")
            self.sent += nrcpt

    # --- authentication -----------------------------------------------------

    def check_auth(self, req, spec):
        """Verify the request's SigV4 signature; facts for the log."""
        auth = req.header("authorization")
        if auth is None:
            raise ApiError(403, "MissingAuthenticationTokenException",
                           "Missing Authentication Token")
        algo, _, rest = auth.partition(" ")
        params = {}
        for part in rest.split(","):
            key, eq, value = part.strip().partition("=")
            if eq:
                params[key] = value
        incomplete = [
            "Authorization header requires '%s' parameter." % key
            for key in ("Credential", "Signature", "SignedHeaders")
            if key not in params]
        if algo != "AWS4-HMAC-SHA256":
            incomplete = ["Unsupported AWS 'algorithm': '%s'." % algo]
        amz_date = req.header("x-amz-date")
        if amz_date is None:
            incomplete.append("Authorization header requires existence of "
                              "either a 'X-Amz-Date' or a 'Date' header.")
        if incomplete:
            raise ApiError(403, "IncompleteSignatureException",
                           " ".join(incomplete))
        cred = params["Credential"].split("/")
        if len(cred) != 5 or cred[4] != "aws4_request":
            raise ApiError(403, "IncompleteSignatureException",
                           "Credential should be 'KEYID/DATE/REGION/SERVICE/"
                           "aws4_request', not '%s'." % params["Credential"])
        try:
            when = datetime.datetime.strptime(amz_date, AMZ_DATE)
        except ValueError:
            raise ApiError(403, "IncompleteSignatureException",
                           "Date must be in ISO-8601 'basic format'. Got "
                           "'%s'." % amz_date) from None
        now = (datetime.datetime.utcnow() +
               datetime.timedelta(seconds=spec.get("clock_offset", 0)))
        skew = datetime.timedelta(seconds=self.opts.skew)
        mins = "%g min." % (self.opts.skew / 60.0)
        if when < now - skew:
            raise ApiError(403, SIG_ERROR,
                           "Signature expired: %s is now earlier than %s "
                           "(%s - %s)" % (amz_date, (now - skew).strftime(
                               AMZ_DATE), now.strftime(AMZ_DATE), mins))
        if when > now + skew:
            raise ApiError(403, SIG_ERROR,
                           "Signature not yet current: %s is still later "
                           "than %s (%s + %s)" % (amz_date, (now + skew)
                                                  .strftime(AMZ_DATE),
                                                  now.strftime(AMZ_DATE),
                                                  mins))
        key_id, date, region, service, _ = cred
        token = req.header("x-amz-security-token")
        # The configured key, and the temporary ones of the scenario
        # (what a credential simulator hands out).
        keys = [(self.opts.key_id, self.opts.secret,
                 self.opts.session_token, spec.get("token_expired"))] + [
            (k.get("id"), k.get("secret"), k.get("token") or "",
             k.get("expired")) for k in spec.get("keys", [])]
        match = [k for k in keys if k[0] == key_id and k[2] == (token or "")]
        if not match:
            raise ApiError(403, "UnrecognizedClientException", BAD_TOKEN)
        secret = match[0][1]
        if token and match[0][3]:
            raise ApiError(403, "ExpiredTokenException", EXPIRED_TOKEN)
        if date != amz_date[:8]:
            raise ApiError(403, SIG_ERROR,
                           "Date in Credential scope does not match YYYYMMDD "
                           "from ISO-8601 version of date from HTTP: '%s' != "
                           "'%s', from '%s'." % (date, amz_date[:8],
                                                 amz_date))
        if region != self.opts.region:
            raise ApiError(403, SIG_ERROR, "Credential should be scoped to "
                           "a valid region. ")
        if service != "ses":
            raise ApiError(403, SIG_ERROR, "Credential should be scoped to "
                           "correct service: 'ses'. ")
        signed = params["SignedHeaders"].split(";")
        if "host" not in signed:
            raise ApiError(403, "IncompleteSignatureException",
                           "'Host' or ':authority' must be a 'SignedHeader' "
                           "in the AWS Authorization.")
        sha = req.header("x-amz-content-sha256")
        if sha is not None and sha != hashlib.sha256(req.body).hexdigest():
            raise ApiError(403, SIG_ERROR, "The provided 'x-amz-content-"
                           "sha256' header does not match what was "
                           "computed.")
        areq = AWSRequest(method=req.method, url="https://sim" + req.target,
                          data=req.body)
        for name, value in req.headers:
            areq.headers[name] = value
        areq.context["timestamp"] = amz_date
        signer = Verifier(Credentials(key_id, secret, token),
                          region, signed)
        canonical = signer.canonical_request(areq)
        to_sign = signer.string_to_sign(areq, canonical)
        if not hmac.compare_digest(signer.signature(to_sign, areq),
                                   params["Signature"]):
            raise ApiError(403, SIG_ERROR, "%s\n\nThe Canonical String for "
                           "this request should have been\n'%s'\n\nThe "
                           "String-to-Sign should have been\n'%s'\n" % (
                               BAD_SIGNATURE, canonical, to_sign))
        return {"key_id": key_id, "token": token is not None,
                "signed": signed, "content_sha256": sha is not None}

    # --- operations ---------------------------------------------------------

    def operation(self, conn, req, op, arg, spec, k, expect):
        """(status, headers, body) of the operation the request asks for."""
        try:
            try:
                auth = self.check_auth(req, spec)
            except ApiError as e:
                conn.event("auth", ok=False, type=e.etype)
                raise
            if op is not None and op in (spec.get("denied") or []):
                raise ApiError(403, "AccessDeniedException",
                               self.denied_text(op, arg))
            if op == "SendEmail":
                return self.send_email(conn, req, spec, k, expect, auth)
            if op == "GetAccount":
                return self.get_account(spec)
            if op == "GetEmailIdentity":
                return self.get_identity(arg, spec)
            if op == "GetConfigurationSet":
                return self.get_config_set(arg, spec)
            raise ApiError(404, "UnknownOperationException",
                           "Unknown operation %s %s" % (req.method,
                                                        req.path))
        except ApiError as e:
            conn.event("rejected", status=e.status, type=e.etype,
                       message=e.message)
            return error_answer(e.status, e.etype, e.message)

    def send_email(self, conn, req, spec, k, expect, auth):
        doc = parse_send_email(req.body)
        raw = doc["raw"]
        fields = BytesHeaderParser(policy=compat32).parsebytes(raw).items()
        if self.account(spec)["sending_paused"]:
            raise ApiError(400, "SendingPausedException",
                           "Sending is paused for this account.")
        rcpt = doc["to"] + doc["cc"] + doc["bcc"]
        if not rcpt:
            rcpt = [a for n, v in fields if n.lower() in ("to", "cc", "bcc")
                    for _, a in getaddresses([v]) if a]
        if not rcpt:
            raise ApiError(400, "BadRequestException", "No recipients.")
        if len(rcpt) > sessim.MAX_RECIPIENTS:
            raise ApiError(400, "MessageRejected",
                           "Recipient count exceeds %d." %
                           sessim.MAX_RECIPIENTS)
        if len(raw) > self.max_size:
            raise ApiError(400, "MessageRejected", "Message too long.")
        if not any(n.lower() == "from" for n, _ in fields):
            raise ApiError(400, "BadRequestException",
                           "Missing required header 'From'.")
        seen = set()
        for name, _ in fields:
            low = name.lower()
            if low in sessim.UNIQUE_HEADERS and low in seen:
                raise ApiError(400, "BadRequestException",
                               "Duplicate header '%s'." % name)
            seen.add(low)
        cs = doc["config_set"]
        sets = self.config_sets_of(spec)
        if cs is not None and cs not in sets:
            raise ApiError(404, "NotFoundException",
                           "Configuration set <%s> does not exist." % cs)
        if cs is not None and not sets[cs].get("sending", True):
            raise ApiError(400, "SendingPausedException", "Sending is "
                           "paused for this configuration set.")
        if self.verified or spec.get("identities"):
            addrs = [doc["from"]] if doc["from"] else []
            addrs += [a for n, v in fields
                      if n.lower() in sessim.IDENTITY_HEADERS
                      for _, a in getaddresses([v]) if a]
            if self.account(spec)["sandbox"]:
                addrs += [a for a in rcpt if not a.lower().endswith(
                    "@" + MAILBOX_SIMULATOR)]
            failed = []
            for a in addrs:
                if not self.may_send(a, spec) and a.lower() not in \
                        map(str.lower, failed):
                    failed.append(a)
            if failed:
                raise ApiError(400, "MessageRejected",
                               "Email address is not verified. The following"
                               " identities failed the check in region %s: "
                               "%s" % (self.opts.region.upper(),
                                       ", ".join(failed)))
        try:
            self.admit(len(rcpt))
        except ApiError as e:
            if e.status == 429:
                conn.event("throttled", rcpts=len(rcpt))
            raise
        mid = sessim.message_id()
        info = {"scenario": conn.sid, "conn": conn.n, "request": k,
                "from": doc["from"], "to": doc["to"], "cc": doc["cc"],
                "bcc": doc["bcc"], "rcpt": rcpt, "config_set": cs,
                "tags": doc["tags"], "id": mid, "size": len(raw),
                "expect": expect, "user_agent": req.header("user-agent"),
                "tls": conn.tls, "sni": conn.sni}
        info.update(auth)
        seq = self.store(raw, info)
        conn.event("stored", seq=seq, id=mid)
        return 200, [], json.dumps({"MessageId": mid}).encode()

    def account(self, spec):
        """The account's facts: the options, then the scenario's."""
        acct = {"sandbox": self.opts.sandbox,
                "sending_paused": self.opts.sending_paused,
                "enforcement": "HEALTHY", "quota": self.quota,
                "rate": self.rate, "sent": None}
        acct.update(spec.get("account") or {})
        return acct

    def get_account(self, spec):
        acct = self.account(spec)
        sent = self.sent if acct["sent"] is None else acct["sent"]
        body = {"DedicatedIpAutoWarmupEnabled": False,
                "EnforcementStatus": acct["enforcement"],
                "ProductionAccessEnabled": not acct["sandbox"],
                "SendQuota": {"Max24HourSend": float(acct["quota"]),
                              "MaxSendRate": float(acct["rate"]),
                              "SentLast24Hours": float(sent)},
                "SendingEnabled": not acct["sending_paused"],
                "SuppressionAttributes": {"SuppressedReasons": []}}
        return 200, [], json.dumps(body).encode()

    def identity(self, name, spec):
        """(status, dkim, signing) of an identity, or None: the
        scenario's "identities", else --verified and --pending."""
        low = name.lower()
        over = {k.lower(): v for k, v in
                (spec.get("identities") or {}).items()}
        domain = "@" not in low
        if low in over:
            v = over[low]
            if not isinstance(v, dict):
                return None
            status = v.get("status", "SUCCESS")
            if status not in STATUSES:
                self.error("identity %s: unknown status %r" % (name,
                                                              status))
            dkim = v.get("dkim", "SUCCESS" if domain and
                         status == "SUCCESS" else "NOT_STARTED")
            return status, dkim, v.get("signing", dkim == "SUCCESS")
        if low in self.verified:
            return ("SUCCESS", "SUCCESS" if domain else "NOT_STARTED",
                    domain)
        if low in self.pending:
            return "PENDING", "PENDING" if domain else "NOT_STARTED", False
        return None

    def may_send(self, addr, spec):
        """SES's rule: the address, its domain or a parent domain is
        verified for sending."""
        low = addr.lower()
        names = [low]
        labels = low.rpartition("@")[2].split(".")
        names += [".".join(labels[i:]) for i in range(len(labels) - 1)]
        return any((self.identity(n, spec) or ("",))[0] == "SUCCESS"
                   for n in names)

    def get_identity(self, name, spec):
        state = self.identity(name, spec)
        if state is None:
            raise ApiError(404, "NotFoundException",
                           "Email identity <%s> does not exist." % name)
        status, dkim_status, signing = state
        ok = status == "SUCCESS"
        domain = "@" not in name
        token = hashlib.sha1(name.lower().encode()).hexdigest()
        dkim = {"SigningEnabled": bool(signing), "Status": dkim_status,
                "SigningAttributesOrigin": "AWS_SES",
                "Tokens": [token[i:i + 32] for i in (0, 4, 8)] if domain
                else []}
        body = {"IdentityType": "DOMAIN" if domain else "EMAIL_ADDRESS",
                "FeedbackForwardingStatus": True,
                "VerifiedForSendingStatus": ok,
                "VerificationStatus": status,
                "DkimAttributes": dkim,
                "MailFromAttributes": {
                    "MailFromDomain": "", "MailFromDomainStatus": "PENDING",
                    "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"},
                "Policies": {}, "Tags": []}
        return 200, [], json.dumps(body).encode()

    def config_sets_of(self, spec):
        """{name: {"sending": bool}}: the scenario's, else --config-sets."""
        sets = spec.get("config_sets")
        if isinstance(sets, list):
            return {n: {} for n in sets}
        if isinstance(sets, dict):
            return {n: (v or {}) for n, v in sets.items()}
        return {n: {} for n in self.config_sets}

    def get_config_set(self, name, spec):
        sets = self.config_sets_of(spec)
        if name not in sets:
            raise ApiError(404, "NotFoundException",
                           "Configuration set <%s> does not exist." % name)
        body = {"ConfigurationSetName": name,
                "TrackingOptions": {}, "DeliveryOptions":
                {"TlsPolicy": "OPTIONAL"},
                "ReputationOptions": {"ReputationMetricsEnabled": False},
                "SendingOptions": {"SendingEnabled":
                                   sets[name].get("sending", True)},
                "Tags": [], "SuppressionOptions": {}}
        return 200, [], json.dumps(body).encode()

    def denied_text(self, op, arg):
        """AccessDeniedException's text, as IAM writes it."""
        region = self.opts.region
        arn = "arn:aws:ses:%s:%s:" % (region, ACCOUNT_ID)
        if op == "GetEmailIdentity":
            res = arn + "identity/" + arg
        elif op == "GetConfigurationSet":
            res = arn + "configuration-set/" + arg
        else:
            res = "*"
        return ("User: arn:aws:iam::%s:user/ses-sendmail is not authorized "
                "to perform: ses:%s on resource: %s because no "
                "identity-based policy allows the ses:%s action" % (
                    ACCOUNT_ID, op, res, op))

    # --- connections -------------------------------------------------------

    def listen(self):
        """127.0.0.1, and with --ipv6 ::1 on the same port number."""
        for _ in range(100):
            socks = []
            try:
                s = sessim.bind(socket.AF_INET, "127.0.0.1", 0)
                socks.append((s, "ipv4"))
                port = s.getsockname()[1]
                if self.opts.ipv6:
                    socks.append((sessim.bind(socket.AF_INET6, "::1", port),
                                  "ipv6"))
            except OSError:
                for s, _ in socks:
                    s.close()
                continue
            break
        else:
            raise OSError("no port free on both 127.0.0.1 and ::1")
        for s, family in socks:
            s.listen(64)
            self.listeners[s] = family
        ports = {"https": port}
        if self.opts.ipv6:
            ports["https6"] = port
        return ports

    def accept(self, listener):
        try:
            sock, peer = listener.accept()
        except OSError:
            return
        family = self.listeners[listener]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(self, sock, family, ("[%s]:%d" if family == "ipv6" else
                                         "%s:%d") % peer[:2])
        t = threading.Thread(target=self.run_session, args=(conn,),
                             daemon=True)
        with self.lock:
            self.threads.add(t)
            self.sessions.add(conn)
        t.start()

def parse_send_email(body):
    """The parts of a SendEmail body, checked against the model's shapes."""
    def bad(text):
        return ApiError(400, "BadRequestException", text)
    try:
        doc = json.loads(body)
    except ValueError:
        raise bad("The request body is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise bad("The request body is not a JSON object.")
    content = doc.get("Content")
    if not isinstance(content, dict) or set(content) != {"Raw"}:
        raise bad("Content must have Raw (Simple and Template are not "
                  "simulated).")
    data = content["Raw"].get("Data") if isinstance(content["Raw"],
                                                    dict) else None
    if not isinstance(data, str):
        raise bad("Content.Raw.Data must be a string.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad("Content.Raw.Data is not valid base64.") from None
    dest = doc.get("Destination", {})
    out = {"raw": raw, "from": doc.get("FromEmailAddress"),
           "config_set": doc.get("ConfigurationSetName"),
           "tags": doc.get("EmailTags", [])}
    if not isinstance(dest, dict):
        raise bad("Destination must be an object.")
    for key, name in (("to", "ToAddresses"), ("cc", "CcAddresses"),
                      ("bcc", "BccAddresses")):
        out[key] = dest.get(name, [])
        if not (isinstance(out[key], list) and
                all(isinstance(a, str) for a in out[key])):
            raise bad("Destination.%s must be a list of strings." % name)
    for key in ("from", "config_set"):
        if out[key] is not None and not isinstance(out[key], str):
            raise bad("%s must be a string." % key)
    return out


def lower_list(text):
    return [v.strip().lower() for v in text.split(",") if v.strip()]


def parse_args(argv):
    p = argparse.ArgumentParser(description="Amazon SES API v2 simulator")
    p.add_argument("--dir", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--key-id", default="AKIAIOSFODNN7EXAMPLE")
    p.add_argument("--secret",
                   default="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    p.add_argument("--session-token", default="",
                   help="the token the key needs (temporary credentials)")
    p.add_argument("--skew", type=float, default=300.0,
                   help="seconds X-Amz-Date may be off the clock")
    p.add_argument("--idle", type=float, default=20.0,
                   help="seconds before an idle connection is closed")
    p.add_argument("--max-size", type=int, default=sessim.MAX_MESSAGE,
                   help="largest decoded message, in octets")
    p.add_argument("--verified", default="",
                   help="comma list of verified domains and addresses")
    p.add_argument("--pending", default="",
                   help="comma list of identities pending verification")
    p.add_argument("--config-sets", default="",
                   help="comma list of existing configuration sets")
    p.add_argument("--sandbox", action="store_true")
    p.add_argument("--sending-paused", action="store_true")
    p.add_argument("--quota", type=int, default=0,
                   help="24-hour quota in recipients, enforced")
    p.add_argument("--max-send-rate", type=float, default=0,
                   help="recipients a second, enforced (token bucket)")
    p.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--ipv6", action="store_true", help="also listen on ::1")
    return p.parse_args(argv)


def main(argv):
    opts = parse_args(argv)
    server = Server(opts)
    ports = server.listen()
    ports["pid"] = os.getpid()
    return sessim.serve_until_signal(
        server, os.path.join(opts.dir, "ports.json"),
        json.dumps(ports).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
