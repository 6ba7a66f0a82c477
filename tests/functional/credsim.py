#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""Local simulators of the places AWS hands out temporary keys, for the
credential chain's tests (doc/ses.md 13): the EC2 instance metadata service
(IMDSv2), the ECS/EKS container credentials endpoint, and STS
AssumeRoleWithWebIdentity.  Loopback only (127.0.0.1, and ::1 on the same
port where it exists); Debian's Python 3.

    /usr/bin/python3 credsim.py --dir DIR --role imds|container|sts
                                [--cert CERT --key KEY]   (sts: HTTPS)

Files in DIR:
  port            written once listening: the port number
  state.json      read at every request (the tests rewrite it whole):
                    "keys": [{"id", "secret", "token", "expiration"}, ...]
                        the keys handed out: the n-th credentials request
                        gets keys[n-1], the last one after that
                    imds: "role" (the attached role; null: none, 404),
                        "region" (the identity document's), "fault":
                        null, "put401", "disabled" (403 to everything),
                        "slow" (wait "slow_ms", default 1500, before each
                        answer), "5xx" (503 to everything); "delay_ms":
                        every answer waits that long (a round trip)
                    container: "path" (the credentials path),
                        "authorization" (the token wanted; null: none)
                    sts: "role_arn", "web_token" (the token file's content)
  requests.jsonl  one JSON object per request: "method", "path", "token"
                  (imds: the session token header came and was valid),
                  "authorization" (container: it matched), "status",
                  "peer" (the client's port: one per connection)

What the real services do, and these copy (doc/ses.md 13):
  - IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
    (1 to 21600; else 400) gives a token; a PUT with X-Forwarded-For is
    refused (403).  Every GET must carry X-aws-ec2-metadata-token, else
    401 (IMDSv1 is refused, as on an instance with HttpTokens required).
    GET /latest/meta-data/iam/security-credentials/ names the role (404
    when none is attached); .../ROLE gives {"Code": "Success",
    "LastUpdated", "Type": "AWS-HMAC", "AccessKeyId", "SecretAccessKey",
    "Token", "Expiration"}; /latest/dynamic/instance-identity/document a
    JSON object with "region".
  - The container endpoint: GET of its path with the Authorization token
    (401 when it is wrong or missing), {"AccessKeyId", "SecretAccessKey",
    "Token", "Expiration", "RoleArn"}.
  - STS: a query-API POST (form) of Action=AssumeRoleWithWebIdentity,
    Version=2011-06-15, RoleArn, RoleSessionName, WebIdentityToken,
    unsigned; the answer is XML (AssumeRoleWithWebIdentityResponse /
    AssumeRoleWithWebIdentityResult / Credentials), an error an
    ErrorResponse with Type, Code and Message: 400 InvalidIdentityToken,
    403 AccessDenied for a role the token may not assume.
"""

import argparse
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/latest/api/token"
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
DOC_PATH = "/latest/dynamic/instance-identity/document"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, *args):
        pass

    # --- plumbing -----------------------------------------------------------

    def state(self):
        try:
            with open(os.path.join(self.server.dir, "state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def record(self, status, **kw):
        kw.update(method=self.command, path=self.path, status=status,
                  peer=self.client_address[1])
        with self.server.lock:
            with open(os.path.join(self.server.dir, "requests.jsonl"),
                      "a") as f:
                f.write(json.dumps(kw) + "\n")

    def answer(self, status, body, ctype="text/plain", **kw):
        data = body.encode() if isinstance(body, str) else body
        self.record(status, **kw)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        # Head and body in one write, as a real server sends a small
        # answer: two writes would make Nagle's algorithm wait for the
        # client's delayed ACK (40 ms) on every answer.
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + data)
        self._headers_buffer = []

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def keys(self, st):
        keys = st.get("keys") or [{}]
        with self.server.lock:
            self.server.served += 1
            n = self.server.served
        return keys[min(n, len(keys)) - 1]

    # --- IMDSv2 --------------------------------------------------------------

    def imds(self):
        st = self.state()
        fault = st.get("fault")
        # A path's round trip, for the benchmark: every answer waits.
        time.sleep(st.get("delay_ms", 0) / 1000.0)
        if fault == "slow":
            time.sleep(st.get("slow_ms", 1500) / 1000.0)
        if fault == "5xx":
            return self.answer(503, "Service Unavailable")
        if fault == "disabled":
            return self.answer(403, "Forbidden")
        if self.command == "PUT":
            self.body()
            if self.path != TOKEN_PATH:
                return self.answer(405, "Method Not Allowed")
            if fault == "put401":
                return self.answer(401, "Unauthorized")
            if self.headers.get("X-Forwarded-For") is not None:
                return self.answer(403, "Forbidden")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or \
                    not 1 <= int(ttl) <= 21600:
                return self.answer(400, "Bad Request")
            tok = secrets.token_urlsafe(42)
            with self.server.lock:
                self.server.tokens[tok] = time.monotonic() + int(ttl)
            return self.answer(200, tok, ttl=int(ttl))
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with self.server.lock:
            good = tok is not None and \
                self.server.tokens.get(tok, 0) > time.monotonic()
        if not good:
            # IMDSv1, or a token this service never gave: refused.
            return self.answer(401, "Unauthorized", token=False)
        role = st.get("role", "ses-sender")
        if self.path == ROLE_PATH:
            if not role:
                return self.answer(404, "Not Found", token=True)
            return self.answer(200, role, token=True)
        if role and self.path == ROLE_PATH + role:
            k = self.keys(st)
            return self.answer(200, json.dumps({
                "Code": "Success", "LastUpdated": time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "Type": "AWS-HMAC", "AccessKeyId": k.get("id"),
                "SecretAccessKey": k.get("secret"), "Token": k.get("token"),
                "Expiration": k.get("expiration")}, indent=2),
                token=True)
        if self.path == DOC_PATH:
            return self.answer(200, json.dumps({
                "accountId": "123456789012", "architecture": "x86_64",
                "availabilityZone": st.get("region", "eu-west-3") + "a",
                "imageId": "ami-0123456789abcdef0",
                "instanceId": "i-0123456789abcdef0",
                "instanceType": "t3.micro", "privateIp": "10.0.0.12",
                "region": st.get("region", "eu-west-3"),
                "version": "2017-09-30"}, indent=2), "application/json",
                token=True)
        return self.answer(404, "Not Found", token=True)

    # --- the container endpoint ----------------------------------------------

    def container(self):
        st = self.state()
        want = st.get("authorization")
        got = self.headers.get("Authorization")
        if self.command != "GET":
            return self.answer(405, "Method Not Allowed")
        if want is not None and got != want:
            return self.answer(401, json.dumps({
                "message": "invalid authorization token"}),
                "application/json", authorization=False)
        if self.path != st.get("path", "/v2/credentials/task"):
            return self.answer(404, "Not Found", authorization=True)
        k = self.keys(st)
        return self.answer(200, json.dumps({
            "RoleArn": "arn:aws:iam::123456789012:role/ses-sender",
            "AccessKeyId": k.get("id"), "SecretAccessKey": k.get("secret"),
            "Token": k.get("token"), "Expiration": k.get("expiration")}),
            "application/json", authorization=True)

    # --- STS -----------------------------------------------------------------

    def sts_error(self, status, code, message, **kw):
        body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>Sender'
                '</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n'
                '  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
                % (STS_NS, code, message, secrets.token_hex(8)))
        return self.answer(status, body, "text/xml", **kw)

    def sts(self):
        st = self.state()
        if self.command != "POST" or self.path != "/":
            self.body()
            return self.sts_error(400, "InvalidAction", "Could not find "
                                  "operation for this request.")
        form = urllib.parse.parse_qs(self.body().decode(),
                                     keep_blank_values=True)
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        facts = {"action": one.get("Action"),
                 "session": one.get("RoleSessionName"),
                 "signed": "Authorization" in self.headers}
        if one.get("Action") != "AssumeRoleWithWebIdentity" or \
                one.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidAction", "Could not find "
                                  "operation", **facts)
        if one.get("WebIdentityToken") != st.get("web_token"):
            return self.sts_error(400, "InvalidIdentityToken", "The ID "
                                  "Token provided is not a valid JWT.",
                                  **facts)
        if one.get("RoleArn") != st.get("role_arn"):
            return self.sts_error(403, "AccessDenied", "Not authorized to "
                                  "perform sts:AssumeRoleWithWebIdentity",
                                  **facts)
        k = self.keys(st)
        body = ('<AssumeRoleWithWebIdentityResponse xmlns="%s">\n'
                '  <AssumeRoleWithWebIdentityResult>\n'
                '    <SubjectFromWebIdentityToken>system:serviceaccount:mail:'
                'sender</SubjectFromWebIdentityToken>\n'
                '    <Audience>sts.amazonaws.com</Audience>\n'
                '    <AssumedRoleUser>\n      <Arn>arn:aws:sts::123456789012:'
                'assumed-role/ses-sender/%s</Arn>\n      <AssumedRoleId>'
                'AROACLKWSDQRAOEXAMPLE:%s</AssumedRoleId>\n'
                '    </AssumedRoleUser>\n    <Credentials>\n'
                '      <AccessKeyId>%s</AccessKeyId>\n'
                '      <SecretAccessKey>%s</SecretAccessKey>\n'
                '      <SessionToken>%s</SessionToken>\n'
                '      <Expiration>%s</Expiration>\n    </Credentials>\n'
                '    <Provider>oidc.eks.amazonaws.com</Provider>\n'
                '  </AssumeRoleWithWebIdentityResult>\n'
                '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
                '  </ResponseMetadata>\n'
                '</AssumeRoleWithWebIdentityResponse>\n' % (
                    STS_NS, one.get("RoleSessionName"),
                    one.get("RoleSessionName"), k.get("id"),
                    k.get("secret"), k.get("token"), k.get("expiration"),
                    secrets.token_hex(8)))
        return self.answer(200, body, "text/xml", **facts)

    def handle_one(self):
        getattr(self, self.server.role)()

    do_GET = do_PUT = do_POST = handle_one


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, family, opts, shared):
        self.address_family = family
        super().__init__(addr, Handler)
        self.dir, self.role = opts.dir, opts.role
        self.shared = shared
        self.lock, self.tokens = shared["lock"], shared["tokens"]
        if opts.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opts.cert, opts.key)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)

    # One count of credentials requests across the two listeners.
    @property
    def served(self):
        return self.shared["served"]

    @served.setter
    def served(self, n):
        self.shared["served"] = n


def main(argv):
    p = argparse.ArgumentParser(description="AWS credential simulators")
    p.add_argument("--dir", required=True)
    p.add_argument("--role", choices=("imds", "container", "sts"),
                   required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    opts = p.parse_args(argv)
    shared = {"lock": threading.Lock(), "tokens": {}, "served": 0}
    servers = [Server(("127.0.0.1", 0), socket.AF_INET, opts, shared)]
    port = servers[0].server_address[1]
    try:
        servers.append(Server(("::1", port), socket.AF_INET6, opts, shared))
    except OSError:
        pass
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    tmp = os.path.join(opts.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, os.path.join(opts.dir, "port"))
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    sys.exit(main(sys.argv[1:]))
