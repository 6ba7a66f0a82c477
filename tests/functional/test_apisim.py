#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""The SES API v2 simulator (sesapi.py) and the CONNECT proxy
(connectproxy.py), proved with real AWS clients: Debian's aws CLI v2
(/usr/bin/aws, whose own copy of botocore signs in Python) and Debian's
python3-botocore (which signs with awscrt's C signer when python3-awscrt is
installed, as awscli makes it), plus hand-made requests for what those
clients never send (Expect: 100-continue, chunked bodies, pipelining).

Nothing here may reach AWS: every client gets the simulator's endpoint, the
test CA, private configuration files, no instance metadata and no proxy but
ours.  Runs on /usr/bin/python3 (it re-executes itself there), since a
botocore from pip would not be the one the simulator and the CLI use."""

import base64
import contextlib
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

if (os.path.exists("/usr/bin/python3") and
        os.path.realpath(sys.executable) !=
        os.path.realpath("/usr/bin/python3")):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import Tap, ApiSim, ConnectProxy, USER, SECRET  # noqa: E402

AWS = "/usr/bin/aws"
REGION = "us-east-1"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN//+sessiontoken=="
VERIFIED = ["example.com", "solo@example.org"]

t = Tap(deadline=600)
try:
    import botocore.auth
    import botocore.exceptions
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
except ImportError as e:
    t.skip("SES API simulator", "python3-botocore missing (%s): "
           "sh tests/deps.sh" % e)
    t.done()

# Private, empty AWS configuration for this process too, and no proxy but
# the ones the cases set.
HOME = t.tmp / "home"
HOME.mkdir()
for name in ("config", "credentials"):
    (HOME / name).write_text("")
for key in list(os.environ):
    if key.startswith("AWS_") or key.lower() in (
            "http_proxy", "https_proxy", "all_proxy", "no_proxy") or \
            key in ("BOTO_CONFIG", "PYTHONPATH", "PYTHONHOME"):
        del os.environ[key]
os.environ.update(AWS_CONFIG_FILE=str(HOME / "config"),
                  AWS_SHARED_CREDENTIALS_FILE=str(HOME / "credentials"),
                  AWS_EC2_METADATA_DISABLED="true",
                  no_proxy="localhost,127.0.0.1,::1",
                  NO_PROXY="localhost,127.0.0.1,::1")


def message(subject="API test", extra=b""):
    """A message with CR LF line ends and one 8-bit octet, as bytes."""
    return (b"From: Sender <sender@example.com>\r\n"
            b"To: rcpt@example.net\r\n" + extra +
            b"Subject: " + subject.encode() + b"\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n"
            b"caf\xc3\xa9 .\r\n.leading dot\r\n\r\nlast line\r\n")


# --- the aws CLI -------------------------------------------------------------

class Cli:
    """What one aws run gave: rc (None when killed), out, err, json."""

    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        try:
            self.json = json.loads(out) if out.strip() else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "rc=%r out=%r err=%r" % (self.rc, self.out[-300:],
                                         self.err[-600:])


def aws(sim, *args, key_id=USER, secret=SECRET, token=None, proxy=None,
        attempts=1, timeout=60):
    """Run /usr/bin/aws against sim with a private HOME and configuration,
    the given credentials in the environment, and HTTPS_PROXY only when
    proxy is given."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(HOME), "LANG": "C.UTF-8",
           "AWS_CONFIG_FILE": str(HOME / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(HOME / "credentials"),
           "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CA_BUNDLE": str(sim.pki.ca),
           "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_PAGER": "", "AWS_DEFAULT_OUTPUT": "json",
           "AWS_MAX_ATTEMPTS": str(attempts), "AWS_RETRY_MODE": "standard"}
    if token:
        env["AWS_SESSION_TOKEN"] = token
    if proxy:
        env["HTTPS_PROXY"] = env["https_proxy"] = proxy
    else:
        env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    argv = [AWS, "--region", REGION, "--endpoint-url", sim.url] + list(args)
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        rc = None
    return Cli(rc, out.decode(errors="replace"), err.decode(errors="replace"))


def raw_content(msg):
    return json.dumps({"Raw": {"Data": base64.b64encode(msg).decode()}})


# --- botocore --------------------------------------------------------------

SIGNER = botocore.auth.AUTH_TYPE_MAPS["v4"].__name__


def client(sim, key_id=USER, secret=SECRET, token=None, attempts=1,
           read_timeout=10, url=None, proxies=None):
    session = botocore.session.get_session()
    session.set_credentials(key_id, secret, token)
    cfg = Config(retries={"total_max_attempts": attempts,
                          "mode": "standard"},
                 connect_timeout=5, read_timeout=read_timeout,
                 proxies=proxies)
    return session.create_client("sesv2", region_name=REGION,
                                 endpoint_url=url or sim.url,
                                 verify=str(sim.pki.ca), config=cfg)


def send(c, msg=None, to=("rcpt@example.net",), sender="sender@example.com",
         **kw):
    args = {"Destination": {"ToAddresses": list(to)},
            "Content": {"Raw": {"Data": msg or message()}}}
    if sender:
        args["FromEmailAddress"] = sender
    args.update(kw)
    return c.send_email(**args)


def failure(fn):
    """The exception fn() raises, or None."""
    try:
        fn()
    except Exception as e:          # noqa: BLE001 - the cases judge it
        return e
    return None


def code_of(e):
    """(code, HTTP status, message) of a ClientError, else its class."""
    if isinstance(e, botocore.exceptions.ClientError):
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"]["Message"])
    return type(e).__name__


@contextlib.contextmanager
def python_signer():
    """Sign with botocore's Python SigV4Auth instead of awscrt's."""
    saved = botocore.auth.AUTH_TYPE_MAPS["v4"]
    botocore.auth.AUTH_TYPE_MAPS["v4"] = botocore.auth.SigV4Auth
    try:
        yield
    finally:
        botocore.auth.AUTH_TYPE_MAPS["v4"] = saved


@contextlib.contextmanager
def env_proxy(url):
    """HTTPS_PROXY set (and no_proxy cleared) while clients are made."""
    saved = {k: os.environ.pop(k, None) for k in ("no_proxy", "NO_PROXY")}
    os.environ["HTTPS_PROXY"] = url
    try:
        yield
    finally:
        del os.environ["HTTPS_PROXY"]
        os.environ.update({k: v for k, v in saved.items() if v})


# --- hand-made requests ----------------------------------------------------

class SignAll(botocore.auth.SigV4Auth):
    """botocore's Python signer, signing every header it is given (its own
    choice leaves out User-Agent and Expect)."""

    def headers_to_sign(self, request):
        out = super().headers_to_sign(request)
        for name, value in request.headers.items():
            if name.lower() not in out:
                out[name.lower()] = value
        return out


def signed(sim, method, path, body=b"", headers=None, secret=SECRET,
           unsigned=None, sign_all=False):
    """(head fields, body) of a request signed by botocore's Python
    signer; headers are signed too (with sign_all even those botocore
    leaves out), unsigned ones added after signing."""
    req = AWSRequest(method=method, url=sim.url + path, data=body,
                     headers=headers or {})
    signer = SignAll if sign_all else botocore.auth.SigV4Auth
    signer(Credentials(USER, secret), "ses", REGION).add_auth(req)
    fields = [("Host", "localhost:%d" % sim.port)]
    fields += [(k, v) for k, v in req.headers.items()]
    if method == "POST":
        fields.append(("Content-Length", str(len(body))))
    fields += list((unsigned or {}).items())
    return fields, body


def head_bytes(method, path, fields):
    return ("%s %s HTTP/1.1\r\n" % (method, path) + "".join(
        "%s: %s\r\n" % f for f in fields) + "\r\n").encode()


def tls_socket(sim, timeout=10):
    ctx = ssl.create_default_context(cafile=str(sim.pki.ca))
    s = socket.create_connection(("localhost", sim.port), timeout=timeout)
    return ctx.wrap_socket(s, server_hostname="localhost")


class Reader:
    """Reads HTTP/1.1 responses from a socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def response(self):
        """(status, {lower name: value}, body); interim 1xx included."""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            return status, fields, b""
        length = int(fields.get("content-length", 0))
        while len(self.buf) < length:
            self.fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, fields, body


def error_type(fields, body):
    etype = fields.get("x-amzn-errortype", "").split(":")[0]
    return etype or json.loads(body or b"{}").get("__type")


def send_body(msg=None, to=("rcpt@example.net",)):
    return json.dumps({"FromEmailAddress": "sender@example.com",
                       "Destination": {"ToAddresses": list(to)},
                       "Content": {"Raw": {"Data": base64.b64encode(
                           msg or message()).decode()}}}).encode()


# ============================================================================
# The aws CLI
# ============================================================================

def cli_cases():
    if not os.access(AWS, os.X_OK):
        t.skip("aws CLI cases", "no %s: sh tests/deps.sh" % AWS)
        return
    r = subprocess.run([AWS, "--version"], capture_output=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(HOME)})
    t.diag("aws --version: %s; botocore signs v4 with %s" % (
        r.stdout.decode().strip(), SIGNER))
    with ApiSim(t.tmp, verified=VERIFIED, pending="pending.example",
                config_sets="cs1", quota=1000, max_send_rate=7) as sim:
        with t.case("cli send-email"):
            msg = message("cli")
            r = aws(sim, "sesv2", "send-email",
                    "--from-email-address", "sender@example.com",
                    "--destination", "ToAddresses=rcpt@example.net,"
                    "other@example.net", "--configuration-set-name", "cs1",
                    "--content", raw_content(msg))
            t.eq(r.rc, 0, "cli send-email: exit 0", r)
            got = sim.messages()
            t.eq(len(got), 1, "cli send-email: one message stored")
            if got and r.json:
                m = got[0]
                t.eq(r.json.get("MessageId"), m["id"],
                     "cli send-email: the MessageId printed is the one "
                     "stored")
                t.eq(len(m["id"]), 60, "cli send-email: a 60-character id")
                t.eq(m["raw"], msg, "cli send-email: the message stored "
                     "is exactly the one given, octet for octet")
                t.eq((m["from"], m["to"], m["config_set"]),
                     ("sender@example.com",
                      ["rcpt@example.net", "other@example.net"], "cs1"),
                     "cli send-email: sender, recipients, configuration set")
                t.ok({"host", "x-amz-date"} <= set(m["signed"]) and
                     m["key_id"] == USER and not m["token"],
                     "cli send-email: signed host and X-Amz-Date with the "
                     "key id, no token", m)

        with t.case("cli get-account"):
            r = aws(sim, "sesv2", "get-account")
            t.eq(r.rc, 0, "cli get-account: exit 0", r)
            q = (r.json or {}).get("SendQuota", {})
            t.eq((q.get("Max24HourSend"), q.get("MaxSendRate"),
                  q.get("SentLast24Hours"),
                  (r.json or {}).get("ProductionAccessEnabled")),
                 (1000.0, 7.0, 2.0, True),
                 "cli get-account: the quota, rate, recipients sent and "
                 "production access configured", r)

        with t.case("cli get-email-identity"):
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "example.com")
            j = r.json or {}
            t.eq((r.rc, j.get("IdentityType"), j.get("VerificationStatus"),
                  j.get("VerifiedForSendingStatus"),
                  j.get("DkimAttributes", {}).get("Status")),
                 (0, "DOMAIN", "SUCCESS", True, "SUCCESS"),
                 "cli get-email-identity: a verified domain", r)
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "solo@example.org")
            j = r.json or {}
            t.eq((r.rc, j.get("IdentityType"), j.get("VerificationStatus")),
                 (0, "EMAIL_ADDRESS", "SUCCESS"),
                 "cli get-email-identity: a verified address (the path "
                 "carries %40, signed twice encoded)", r)
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "pending.example")
            j = r.json or {}
            t.eq((r.rc, j.get("VerificationStatus"),
                  j.get("VerifiedForSendingStatus")),
                 (0, "PENDING", False),
                 "cli get-email-identity: a pending domain", r)
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "nobody.example")
            t.ok(r.rc == 254 and "(NotFoundException)" in r.err,
                 "cli get-email-identity: an unknown identity is "
                 "NotFoundException, exit 254", r)

        with t.case("cli account reads"):
            r = aws(sim, "sesv2", "get-configuration-set",
                    "--configuration-set-name", "cs1")
            j = r.json or {}
            t.eq((r.rc, j.get("ConfigurationSetName"),
                  j.get("SendingOptions", {}).get("SendingEnabled")),
                 (0, "cs1", True),
                 "cli get-configuration-set: an existing set", r)
            r = aws(sim, "sesv2", "get-configuration-set",
                    "--configuration-set-name", "nosuch")
            t.ok(r.rc == 254 and "(NotFoundException)" in r.err and
                 "Configuration set <nosuch> does not exist." in r.err,
                 "cli get-configuration-set: an unknown set is "
                 "NotFoundException", r)
            sim.scenario(name="cli-states", identities={
                "solo@example.org": {"status": "FAILED"},
                "example.com": {"dkim": "TEMPORARY_FAILURE",
                                "signing": False}},
                config_sets={"cs1": {"sending": False}})
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "solo@example.org")
            j = r.json or {}
            t.eq((r.rc, j.get("VerificationStatus"),
                  j.get("VerifiedForSendingStatus")), (0, "FAILED", False),
                 "cli get-email-identity: a failed address, set by the "
                 "scenario", r)
            r = aws(sim, "sesv2", "get-email-identity",
                    "--email-identity", "example.com")
            d = (r.json or {}).get("DkimAttributes", {})
            t.eq((r.rc, d.get("Status"), d.get("SigningEnabled")),
                 (0, "TEMPORARY_FAILURE", False),
                 "cli get-email-identity: the DKIM status set", r)
            r = aws(sim, "sesv2", "get-configuration-set",
                    "--configuration-set-name", "cs1")
            t.eq((r.json or {}).get("SendingOptions"),
                 {"SendingEnabled": False},
                 "cli get-configuration-set: sending disabled", r)
            for op, args in (
                    ("GetAccount", ["get-account"]),
                    ("GetEmailIdentity", ["get-email-identity",
                                          "--email-identity",
                                          "example.com"]),
                    ("GetConfigurationSet", ["get-configuration-set",
                                             "--configuration-set-name",
                                             "cs1"])):
                sim.scenario(name="cli-deny", denied=[op])
                r = aws(sim, "sesv2", *args)
                t.ok(r.rc == 254 and "(AccessDeniedException)" in r.err and
                     "is not authorized to perform: ses:%s" % op in r.err,
                     "cli: %s denied is AccessDeniedException" % op, r)
            sim.scenario()

        with t.case("cli credentials"):
            sim.scenario(name="badsecret")
            r = aws(sim, "sesv2", "send-email", "--content",
                    raw_content(message()), "--destination",
                    "ToAddresses=rcpt@example.net",
                    secret="wrong" + SECRET[5:])
            t.ok(r.rc == 254 and "(InvalidSignatureException)" in r.err and
                 "The request signature we calculated does not match" in
                 r.err, "cli: a wrong secret is InvalidSignatureException",
                 r)
            t.eq(sim.messages(), [], "cli: nothing stored with a wrong "
                 "secret")
            r = aws(sim, "sesv2", "get-account", key_id="AKIAIOSFODNN7WRONG1")
            t.ok(r.rc == 254 and "(UnrecognizedClientException)" in r.err
                 and "The security token included in the request is "
                 "invalid." in r.err,
                 "cli: an unknown key id is UnrecognizedClientException", r)
            r = aws(sim, "sesv2", "get-account", token=TOKEN)
            t.ok(r.rc == 254 and "(UnrecognizedClientException)" in r.err,
                 "cli: a session token for a long-term key is refused", r)
            sim.scenario(name="skew", clock_offset=900)
            r = aws(sim, "sesv2", "get-account")
            t.ok(r.rc == 254 and "(InvalidSignatureException)" in r.err and
                 "Signature expired" in r.err,
                 "cli: 15 minutes of clock skew is InvalidSignatureException"
                 " 'Signature expired'", r)

        with t.case("cli faults"):
            sim.scenario(name="cli429", requests=[[{
                "action": "error", "status": 429,
                "type": "TooManyRequestsException",
                "message": "Maximum sending rate exceeded."}]])
            r = aws(sim, "sesv2", "send-email", "--content",
                    raw_content(message()), "--destination",
                    "ToAddresses=rcpt@example.net")
            t.ok(r.rc == 254 and "(TooManyRequestsException)" in r.err and
                 "Maximum sending rate exceeded." in r.err,
                 "cli: a 429 is TooManyRequestsException (no retry)", r)
            sim.scenario(name="cli503", requests=[[{
                "action": "error", "status": 503,
                "type": "ServiceUnavailable",
                "message": "Service unavailable"}]])
            r = aws(sim, "sesv2", "send-email", "--content",
                    raw_content(message()), "--destination",
                    "ToAddresses=rcpt@example.net", attempts=3)
            t.ok(r.rc == 0 and len(sim.messages()) == 1 and
                 len(sim.requests()) == 2,
                 "cli: a 503 on the first request is retried; the second "
                 "request stores the message", r)

    with ApiSim(t.tmp, session_token=TOKEN) as sim:
        with t.case("cli session token"):
            r = aws(sim, "sesv2", "send-email", "--content",
                    raw_content(message()), "--destination",
                    "ToAddresses=rcpt@example.net", token=TOKEN)
            got = sim.messages()
            t.ok(r.rc == 0 and got and got[0]["token"] and
                 "x-amz-security-token" in got[0]["signed"],
                 "cli: temporary credentials (signed X-Amz-Security-Token) "
                 "are accepted", r)
            r = aws(sim, "sesv2", "get-account")
            t.ok(r.rc == 254 and "(UnrecognizedClientException)" in r.err,
                 "cli: a temporary key without its token is refused", r)
            sim.scenario(name="expired", token_expired=True)
            r = aws(sim, "sesv2", "get-account", token=TOKEN)
            t.ok(r.rc == 254 and "(ExpiredTokenException)" in r.err and
                 "The security token included in the request is expired"
                 in r.err, "cli: an expired token is ExpiredTokenException",
                 r)
            log = (sim.dir / "transcript.log").read_text()
            t.ok(TOKEN not in log and SECRET not in log and
                 "X-Amz-Security-Token: ***" in log and "Signature=***" in
                 log, "cli: the transcript masks the token and the "
                 "signature")

        with ConnectProxy(t.tmp) as proxy, t.case("cli through a proxy"):
            sim.scenario(name="proxy")
            r = aws(sim, "sesv2", "send-email", "--content",
                    raw_content(message()), "--destination",
                    "ToAddresses=rcpt@example.net", token=TOKEN,
                    proxy=proxy.url)
            t.eq(r.rc, 0, "cli: sends through HTTPS_PROXY", r)
            t.eq([(c["target"], c["status"]) for c in proxy.connects()],
                 [("localhost:%d" % sim.port, 200)],
                 "cli: the proxy saw one CONNECT to the simulator")
            t.eq(len(sim.messages()), 1, "cli: stored through the proxy")
            t.eq(proxy.errors(), "", "cli: no proxy error")
        t.eq(sim.errors(), "", "cli: no simulator error (session-token "
             "simulator)")


# ============================================================================
# botocore
# ============================================================================

ERRORS = [  # type, status, message, modeled for SendEmail
    ("TooManyRequestsException", 429, "Maximum sending rate exceeded.", 1),
    ("LimitExceededException", 400, "Daily message quota exceeded.", 1),
    ("InternalFailure", 500, "An internal error occurred.", 0),
    ("ServiceUnavailable", 503, "Service Unavailable", 0),
    ("MessageRejected", 400, "Email address is not verified. The following "
     "identities failed the check in region US-EAST-1: a@example.com", 1),
    ("AccountSuspendedException", 400, "Account suspended.", 1),
    ("SendingPausedException", 400, "Sending is paused for this account.",
     1),
    ("MailFromDomainNotVerifiedException", 400,
     "MAIL FROM domain is not verified.", 1),
    ("BadRequestException", 400, "Invalid request.", 1),
    ("NotFoundException", 404, "Configuration set <x> does not exist.", 1),
    ("AccessDeniedException", 403, "User is not authorized to perform: "
     "ses:SendRawEmail", 0),
    ("ExpiredTokenException", 403,
     "The security token included in the request is expired", 0),
    ("Throttling", 400, "Maximum sending rate exceeded.", 0),
]


def botocore_send_cases():
    with ApiSim(t.tmp, verified=VERIFIED, config_sets="cs1") as sim:
        with t.case("botocore keep-alive"):
            c = client(sim)
            ids = [send(c, message("one"))["MessageId"],
                   send(c, message("two"), to=["a@example.net",
                                               "b@example.net"],
                        ConfigurationSetName="cs1",
                        EmailTags=[{"Name": "n", "Value": "v"}])
                   ["MessageId"]]
            got = sim.messages()
            t.eq([m["id"] for m in got], ids, "botocore (%s): two messages "
                 "stored with the ids returned" % SIGNER)
            t.eq([m["raw"] for m in got], [message("one"), message("two")],
                 "botocore: stored exactly as given")
            t.eq(got[1]["tags"], [{"Name": "n", "Value": "v"}],
                 "botocore: EmailTags kept")
            t.eq(sim.connections(), 1, "botocore: both on one keep-alive "
                 "connection")
        with t.case("botocore python signer"), python_signer():
            sim.scenario(name="pysigner")
            c = client(sim)
            r = send(c)
            t.eq(len(r["MessageId"]), 60, "botocore's Python SigV4Auth "
                 "signs acceptably too")
        with t.case("botocore over ::1"):
            if sim.port6:
                c = client(sim, url="https://[::1]:%d" % sim.port6)
                send(c)
                t.eq(sim.events("connect")[-1]["family"], "ipv6",
                     "botocore: [::1] reaches the same simulator, same port")
            else:
                t.skip("botocore over ::1", "no IPv6 loopback here")

        with t.case("error shapes"):
            c = client(sim)
            stored = len(list((sim.dir / "messages").glob("*.json")))
            wrong = []
            for etype, status, text, modeled in ERRORS:
                for type_in in ("header", "body", "body_ns"):
                    sim.scenario(name=etype, requests=[[{
                        "action": "error", "status": status, "type": etype,
                        "message": text, "type_in": type_in}]])
                    e = failure(lambda: send(c))
                    ok = code_of(e) == (etype, status, text)
                    if modeled:
                        ok = ok and isinstance(
                            e, getattr(c.exceptions, etype))
                    if type_in == "header":
                        t.ok(ok, "botocore: %d %s is ClientError %s%s" % (
                            status, etype, etype,
                            " (modeled)" if modeled else ""),
                            repr(code_of(e)))
                    elif not ok:
                        wrong.append((etype, type_in, code_of(e)))
            t.eq(wrong, [], "botocore: each error type read as well from "
                 "__type in the body, plain and namespaced")
            t.eq(len(list((sim.dir / "messages").glob("*.json"))), stored,
                 "no error answer stored a message")

        with t.case("response shapes"):
            c = client(sim)
            for name, faults in (
                    ("chunked", [{"action": "chunked", "size": 5}]),
                    ("chunked-ext", [{"action": "chunked", "size": 1,
                                      "ext": True, "trailer": True}]),
                    ("split", [{"action": "split", "bytes": 3}]),
                    ("delay", [{"action": "delay", "ms": 300}]),
                    ("chunked-error", [{"action": "chunked"},
                                       {"action": "error", "status": 429,
                                        "type": "TooManyRequestsException",
                                        "message": "slow down"}])):
                sim.scenario(name=name, requests=[faults])
                e = failure(lambda: send(c))
                if name == "chunked-error":
                    t.eq(code_of(e), ("TooManyRequestsException", 429,
                                      "slow down"),
                         "botocore: a chunked error answer is read")
                else:
                    t.ok(e is None and len(sim.messages()) == 1,
                         "botocore: a %s answer is read" % name, repr(e))
            sim.scenario(name="delay-time", requests=[[{"action": "delay",
                                                        "ms": 400}]])
            start = time.monotonic()
            send(c)
            t.ok(time.monotonic() - start >= 0.4, "delay: the answer comes "
                 "after 400 ms")
            for announce in (True, False):
                sim.scenario(name="close-%s" % announce,
                             requests=[[{"action": "close",
                                         "announce": announce}]])
                c = client(sim)
                send(c)
                # The silent close's FIN must have come back before the
                # pool looks: else urllib3 reuses the closing connection.
                time.sleep(0.3)
                send(c)
                t.eq((len(sim.messages()), sim.connections()), (2, 2),
                     "botocore: after a close (%s), the next request opens "
                     "a new connection" % ("announced" if announce else
                                           "silent"))

        with t.case("connection faults"):
            cases = [
                ("drop after the body", [{"action": "drop"}], 0),
                ("drop before the body", [{"action": "drop", "at": "head"}],
                 0),
                ("reset", [{"action": "reset"}], 0),
                ("garbage", [{"action": "garbage"}], 0),
                ("accept_drop", [{"action": "accept_drop"}], 1),
            ]
            for name, faults, stored in cases:
                sim.scenario(name=name.replace(" ", "-"), requests=[faults])
                e = failure(lambda: send(client(sim)))
                t.ok(e is not None and not isinstance(
                    e, botocore.exceptions.ClientError) and
                    len(sim.messages()) == stored,
                    "botocore: %s is a transport error (%s), %d stored" % (
                        name, type(e).__name__, stored), repr(e))
            sim.scenario(name="hang", requests=[[{"action": "hang",
                                                  "seconds": 5}]])
            start = time.monotonic()
            e = failure(lambda: send(client(sim, read_timeout=1)))
            t.ok(isinstance(e, botocore.exceptions.ReadTimeoutError) and
                 time.monotonic() - start < 4,
                 "botocore: a hang is a read timeout", repr(e))
            sim.scenario(name="drop-retry", requests=[[{"action": "drop"}]])
            send(client(sim, attempts=3))
            t.eq((len(sim.messages()), len(sim.requests())), (1, 2),
                 "botocore retries a dropped request: stored once")
            sim.scenario(name="accept-drop-retry",
                         requests=[[{"action": "accept_drop"}]])
            send(client(sim, attempts=3))
            t.eq(len(sim.messages()), 2, "botocore retries after "
                 "accept_drop: the message is stored twice (the duplicate "
                 "a client cannot avoid)")
            sim.scenario(name="reset-connect",
                         conns=[[{"action": "reset", "at": "connect"}]])
            send(client(sim, attempts=3))
            t.eq((len(sim.messages()), sim.connections()), (1, 2),
                 "a RST at connect, then a new connection")
            sim.scenario(name="tls-drop",
                         conns=[[{"action": "drop", "at": "tls"}]])
            e = failure(lambda: send(client(sim)))
            t.ok(e is not None and not sim.messages(),
                 "a dropped TLS handshake fails the request (%s)" %
                 type(e).__name__, repr(e))
            sim.scenario(name="count", conns=[[{"action": "error",
                                                "count": 2, "status": 500,
                                                "type": "InternalFailure",
                                                "message": "x"}]])
            c = client(sim)
            e = [failure(lambda: send(c)) for _ in range(3)]
            t.eq([code_of(x) if x else None for x in e],
                 [None, ("InternalFailure", 500, "x"), None],
                 "a connection fault with count 2 hits the second request "
                 "only")
            sim.scenario(name="op", default=[{"action": "error", "op":
                                               "SendEmail", "status": 400,
                                               "type": "MessageRejected",
                                               "message": "no"}])
            c = client(sim)
            t.ok(c.get_account()["SendingEnabled"] and
                 code_of(failure(lambda: send(c)))[0] == "MessageRejected",
                 "a fault for SendEmail leaves GetAccount alone")

        with t.case("botocore account reads"):
            c = client(sim)
            sim.scenario(name="reads", account={
                "sandbox": True, "sending_paused": True,
                "enforcement": "PROBATION", "quota": 200, "rate": 1,
                "sent": 12}, identities={
                "example.com": {"status": "PENDING", "dkim": "PENDING"},
                "new@example.net": {"status": "NOT_STARTED"},
                "solo@example.org": None})
            a = c.get_account()
            t.eq((a["ProductionAccessEnabled"], a["SendingEnabled"],
                  a["EnforcementStatus"], a["SendQuota"]),
                 (False, False, "PROBATION",
                  {"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                   "SentLast24Hours": 12.0}),
                 "botocore get_account: sandbox, paused, probation, the "
                 "quota as the scenario sets them", a)
            i = c.get_email_identity(EmailIdentity="example.com")
            t.eq((i["IdentityType"], i["VerificationStatus"],
                  i["VerifiedForSendingStatus"], i["DkimAttributes"]
                  ["Status"]), ("DOMAIN", "PENDING", False, "PENDING"),
                 "botocore get_email_identity: a pending domain", i)
            i = c.get_email_identity(EmailIdentity="new@example.net")
            t.eq((i["IdentityType"], i["VerificationStatus"]),
                 ("EMAIL_ADDRESS", "NOT_STARTED"),
                 "botocore get_email_identity: an address not started", i)
            e = failure(lambda: c.get_email_identity(
                EmailIdentity="solo@example.org"))
            t.eq(code_of(e), ("NotFoundException", 404, "Email identity "
                              "<solo@example.org> does not exist."),
                 "botocore get_email_identity: removed by the scenario: "
                 "NotFoundException 404")
            cs = c.get_configuration_set(ConfigurationSetName="cs1")
            t.eq((cs["ConfigurationSetName"],
                  cs["SendingOptions"]["SendingEnabled"]), ("cs1", True),
                 "botocore get_configuration_set: an existing set", cs)
            e = failure(lambda: c.get_configuration_set(
                ConfigurationSetName="cs2"))
            t.eq(code_of(e)[:2], ("NotFoundException", 404),
                 "botocore get_configuration_set: unknown: 404")
            sim.scenario(name="deny-reads", denied=["GetEmailIdentity",
                                                    "GetConfigurationSet"])
            e = failure(lambda: c.get_email_identity(
                EmailIdentity="example.com"))
            t.ok(code_of(e)[:2] == ("AccessDeniedException", 403) and
                 "ses:GetEmailIdentity on resource: arn:aws:ses:us-east-1:"
                 in code_of(e)[2],
                 "botocore: a denied read is AccessDeniedException 403 "
                 "naming the action and the resource", code_of(e))
            e = failure(lambda: c.get_configuration_set(
                ConfigurationSetName="cs1"))
            t.eq(code_of(e)[:2], ("AccessDeniedException", 403),
                 "botocore: GetConfigurationSet denied alone")
            t.ok(c.get_account()["SendingEnabled"],
                 "botocore: GetAccount still allowed")
            sim.scenario(name="cs-paused", config_sets={"cs1": {
                "sending": False}})
            e = failure(lambda: send(c, ConfigurationSetName="cs1"))
            t.eq(code_of(e), ("SendingPausedException", 400, "Sending is "
                              "paused for this configuration set."),
                 "botocore: a configuration set with sending disabled "
                 "refuses SendEmail")
            t.eq(sim.messages(), [], "botocore: nothing stored")
            sim.scenario()

        with t.case("validation"):
            c = client(sim)
            sim.scenario(name="validation")
            cases = [
                ("51 recipients", dict(to=["r%d@example.net" % i
                                           for i in range(51)]),
                 ("MessageRejected", 400, "Recipient count exceeds 50.")),
                ("no From:", dict(msg=b"To: r@example.net\r\n\r\nx\r\n"),
                 ("BadRequestException", 400,
                  "Missing required header 'From'.")),
                ("two Subject:", dict(msg=message(extra=b"subject: x\r\n")),
                 ("BadRequestException", 400,
                  "Duplicate header 'Subject'.")),
                ("an unverified sender", dict(sender="x@example.net"),
                 ("MessageRejected", 400, "Email address is not verified. "
                  "The following identities failed the check in region "
                  "US-EAST-1: x@example.net")),
                ("an unverified Sender:", dict(msg=message(
                    extra=b"Sender: s@elsewhere.example\r\n")),
                 ("MessageRejected", 400, "Email address is not verified. "
                  "The following identities failed the check in region "
                  "US-EAST-1: s@elsewhere.example")),
                ("an unknown configuration set",
                 dict(ConfigurationSetName="nope"),
                 ("NotFoundException", 404,
                  "Configuration set <nope> does not exist.")),
            ]
            for name, kw, want in cases:
                t.eq(code_of(failure(lambda: send(c, **kw))), want,
                     "SendEmail with %s" % name)
            t.eq(sim.messages(), [], "none of them stored")
            send(c, msg=message(extra=b"Sender: x@sub.example.com\r\n"),
                 sender=None, Destination={})
            m = sim.messages()
            t.eq(m and (m[0]["rcpt"], m[0]["from"]),
                 (["rcpt@example.net"], None),
                 "no FromEmailAddress and no Destination: the recipients "
                 "come from To:, a subdomain of a verified domain passes")
        t.eq(sim.errors(), "", "botocore: no simulator error")

    with ApiSim(t.tmp, max_size=1000, sandbox=True,
                verified="example.com") as sim:
        with t.case("sandbox and size"):
            c = client(sim)
            big = message(extra=b"X-Pad: " + b"x" * 1000 + b"\r\n")
            t.eq(code_of(failure(lambda: send(c, msg=big))),
                 ("MessageRejected", 400, "Message too long."),
                 "a message over --max-size is MessageRejected")
            t.eq(code_of(failure(lambda: send(c))),
                 ("MessageRejected", 400, "Email address is not verified. "
                  "The following identities failed the check in region "
                  "US-EAST-1: rcpt@example.net"),
                 "sandbox: an unverified recipient is refused")
            send(c, to=["success@simulator.amazonses.com", "r@example.com"])
            a = c.get_account()
            t.eq((len(sim.messages()), a["ProductionAccessEnabled"],
                  a["SendQuota"]["Max24HourSend"],
                  a["SendQuota"]["MaxSendRate"]),
                 (1, False, 200.0, 1.0),
                 "sandbox: the mailbox simulator and verified recipients "
                 "pass; GetAccount says sandbox, 200 a day, 1 a second")

    with ApiSim(t.tmp, max_send_rate=2, quota=4) as sim:
        with t.case("rate and quota"):
            c = client(sim)
            res = [code_of(e)[0] if e else None for e in
                   [failure(lambda: send(c)) for _ in range(3)]]
            t.eq(res, [None, None, "TooManyRequestsException"],
                 "--max-send-rate 2: the third message at once is 429 "
                 "TooManyRequestsException")
            time.sleep(1.1)
            send(c, to=["a@example.net", "b@example.net"])
            t.eq(code_of(failure(lambda: send(c))),
                 ("LimitExceededException", 400,
                  "Daily message quota exceeded."),
                 "--quota 4: the fifth recipient is LimitExceededException")
            t.eq(c.get_account()["SendQuota"]["SentLast24Hours"], 4.0,
                 "GetAccount counts the recipients sent")

    with ApiSim(t.tmp, session_token=TOKEN, sending_paused=True) as sim:
        with t.case("botocore credentials"):
            ok = client(sim, token=TOKEN)
            t.eq(code_of(failure(lambda: send(ok))),
                 ("SendingPausedException", 400,
                  "Sending is paused for this account."),
                 "--sending-paused: SendingPausedException")
            t.eq(ok.get_account()["SendingEnabled"], False,
                 "--sending-paused: GetAccount says SendingEnabled false")
            e = failure(lambda: client(sim, token=TOKEN,
                                       secret="x" + SECRET[1:])
                        .get_account())
            t.ok(code_of(e)[:2] == ("InvalidSignatureException", 403) and
                 "The Canonical String for this request should have been"
                 in code_of(e)[2], "a wrong secret: 403 "
                 "InvalidSignatureException with the canonical request",
                 repr(code_of(e)))
            t.eq(code_of(failure(lambda: client(sim).get_account()))[:2],
                 ("UnrecognizedClientException", 403),
                 "no token for a temporary key: UnrecognizedClientException")
            t.eq(code_of(failure(lambda: client(
                sim, token=TOKEN + "x").get_account()))[:2],
                ("UnrecognizedClientException", 403),
                "a wrong token: UnrecognizedClientException")
            sim.scenario(name="expired", token_expired=True)
            t.eq(code_of(failure(lambda: ok.get_account())),
                 ("ExpiredTokenException", 403,
                  "The security token included in the request is expired"),
                 "an expired token: ExpiredTokenException")
            for offset, text in ((600, "Signature expired: "),
                                 (-600, "Signature not yet current: ")):
                sim.scenario(name="skew", clock_offset=offset)
                e = code_of(failure(lambda: ok.get_account()))
                t.ok(e[:2] == ("InvalidSignatureException", 403) and
                     e[2].startswith(text) and e[2].endswith("5 min.)"),
                     "clock %+d s: %s..." % (offset, text.strip()), repr(e))
            sim.scenario(name="small-skew", clock_offset=200)
            t.ok(ok.get_account()["SendingEnabled"] is False,
                 "200 s of skew is tolerated")
        t.eq(sim.errors(), "", "credentials: no simulator error")


def raw_cases():
    with ApiSim(t.tmp) as sim:
        def exchange(method, path, body=b"", headers=None, unsigned=None,
                     secret=SECRET, split_body=False, fields=None,
                     sign_all=False):
            if fields is None:
                fields, body = signed(sim, method, path, body, headers,
                                      secret, unsigned, sign_all)
            with tls_socket(sim) as s:
                rd = Reader(s)
                s.sendall(head_bytes(method, path, fields))
                out = []
                if split_body:
                    out.append(rd.response())
                s.sendall(body)
                out.append(rd.response())
                return out

        with t.case("expect 100-continue"):
            body = send_body()
            r = exchange("POST", "/v2/email/outbound-emails", body,
                         {"Content-Type": "application/json"},
                         unsigned={"Expect": "100-continue"},
                         split_body=True)
            t.eq([x[0] for x in r], [100, 200], "Expect: 100-continue gets "
                 "100 Continue, then 200 once the body came")
            m = sim.messages()
            t.ok(m and m[0]["expect"] and m[0]["raw"] == message(),
                 "the message sent after 100 Continue is stored")
            sim.scenario(name="no-continue", requests=[[{
                "action": "no_continue"}]])
            fields, body = signed(sim, "POST", "/v2/email/outbound-emails",
                                  send_body(), unsigned={
                                      "Expect": "100-continue"})
            with tls_socket(sim, timeout=1) as s:
                s.sendall(head_bytes("POST", "/v2/email/outbound-emails",
                                     fields))
                try:
                    early = s.recv(100)
                except socket.timeout:
                    early = None
                s.settimeout(10)
                s.sendall(body)
                status = Reader(s).response()[0]
            t.eq((early, status), (None, 200), "no_continue: no 100 within "
                 "a second; the body sent anyway gets 200")
            sim.scenario(name="early", requests=[[{
                "action": "error", "early": True, "status": 400,
                "type": "MessageRejected", "message": "refused early"}]])
            fields, body = signed(sim, "POST", "/v2/email/outbound-emails",
                                  send_body(), unsigned={
                                      "Expect": "100-continue"})
            with tls_socket(sim) as s:
                s.sendall(head_bytes("POST", "/v2/email/outbound-emails",
                                     fields))
                st, f, b = Reader(s).response()
            t.eq((st, error_type(f, b), f.get("connection")),
                 (400, "MessageRejected", "close"),
                 "an early error answers the head instead of 100 Continue")

        with t.case("framing"):
            sim.scenario(name="framing")
            fields, body = signed(sim, "POST", "/v2/email/outbound-emails",
                                  send_body())
            chunked = [f for f in fields if f[0].lower() != "content-length"]
            chunked.append(("Transfer-Encoding", "chunked"))
            r = exchange("POST", "/v2/email/outbound-emails",
                         b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
                         fields=chunked)
            t.eq((r[0][0], r[0][1].get("connection")), (411, "close"),
                 "a chunked request body: 411, then close")
            nolen = [f for f in fields if f[0].lower() != "content-length"]
            r = exchange("POST", "/v2/email/outbound-emails", b"",
                         fields=nolen)
            t.eq(r[0][0], 411, "a POST without Content-Length: 411")
            r = exchange("POST", "/v2/email/outbound-emails", send_body(),
                         {"X-Amz-Content-Sha256": "0" * 64})
            t.eq((r[0][0], error_type(r[0][1], r[0][2])),
                 (403, "InvalidSignatureException"),
                 "a signed X-Amz-Content-Sha256 that is not the body's: "
                 "InvalidSignatureException")
            good = send_body()
            r = exchange("POST", "/v2/email/outbound-emails", good,
                         {"X-Amz-Content-Sha256":
                          hashlib.sha256(good).hexdigest(),
                          "User-Agent": "ses-sendmail/test"}, sign_all=True)
            m = sim.messages()
            t.ok(r[0][0] == 200 and m and m[-1]["content_sha256"] and
                 "user-agent" in m[-1]["signed"],
                 "the right X-Amz-Content-Sha256, and a signed User-Agent "
                 "(which botocore never signs): 200", r)
            fields, body = signed(sim, "POST", "/v2/email/outbound-emails",
                                  send_body())
            r = exchange("POST", "/v2/email/outbound-emails",
                         body.replace(b"rcpt@", b"evil@"), fields=fields)
            t.eq((r[0][0], error_type(r[0][1], r[0][2])),
                 (403, "InvalidSignatureException"),
                 "a body changed after signing: InvalidSignatureException")
            data = json.dumps({"Content": {"Raw": {"Data": "not base64!"}},
                               "Destination": {"ToAddresses": ["a@b.c"]}})
            r = exchange("POST", "/v2/email/outbound-emails", data.encode())
            t.eq((r[0][0], error_type(r[0][1], r[0][2])),
                 (400, "BadRequestException"),
                 "Raw.Data that is not base64: BadRequestException")
            fields, _ = signed(sim, "GET", "/v2/email/account")
            r = exchange("GET", "/v2/email/account", fields=[
                f for f in fields if f[0].lower() != "authorization"])
            t.eq((r[0][0], error_type(r[0][1], r[0][2])),
                 (403, "MissingAuthenticationTokenException"),
                 "no Authorization: MissingAuthenticationTokenException")
            r = exchange("GET", "/v2/email/nothing")
            t.eq((r[0][0], error_type(r[0][1], r[0][2])),
                 (404, "UnknownOperationException"),
                 "an unknown path: 404 UnknownOperationException")
            with tls_socket(sim) as s:
                s.sendall(b"GET /v2/email/account HTTP/1.1\nHost: x\n\n")
                s.sendall(b"\r\n\r\n")
                st = Reader(s).response()[0]
            t.eq(st, 400, "bare LF line ends: 400")

        with t.case("pipelining"):
            sim.scenario(name="pipeline")
            one = head_bytes("GET", "/v2/email/account",
                             signed(sim, "GET", "/v2/email/account")[0])
            with tls_socket(sim) as s:
                s.sendall(one + one)
                rd = Reader(s)
                st = [rd.response()[0], rd.response()[0]]
            t.eq((st, sim.connections()), ([200, 200], 1),
                 "two pipelined requests in one write: two answers")
        t.eq(sim.errors(), "", "raw: no simulator error")


def proxy_cases():
    with ApiSim(t.tmp) as sim:
        with ConnectProxy(t.tmp) as proxy:
            with t.case("botocore through HTTPS_PROXY"):
                with env_proxy(proxy.url):
                    c = client(sim)
                send(c)
                send(c)
                t.eq([(x["target"], x["status"]) for x in proxy.connects()],
                     [("localhost:%d" % sim.port, 200)],
                     "botocore: HTTPS_PROXY, one CONNECT for two messages")
                t.eq(len(sim.messages()), 2, "botocore: both stored")
                proxy.answer(502)
                with env_proxy(proxy.url):
                    c = client(sim)
                e = failure(lambda: send(c))
                t.ok(isinstance(e, botocore.exceptions.ProxyConnectionError),
                     "a proxy answering 502: ProxyConnectionError", repr(e))
                proxy.answer(None)
            with t.case("proxy refusals"):
                with socket.create_connection(("127.0.0.1", proxy.port),
                                              timeout=5) as s:
                    s.sendall(b"CONNECT email.us-east-1.amazonaws.com:443 "
                              b"HTTP/1.1\r\nHost: x\r\n\r\n")
                    st = Reader(s).response()[0]
                t.eq(st, 403, "a target off loopback: 403, never looked up")
                with socket.create_connection(("127.0.0.1", proxy.port),
                                              timeout=5) as s:
                    s.sendall(b"GET http://localhost/ HTTP/1.1\r\n"
                              b"Host: localhost\r\n\r\n")
                    st = Reader(s).response()[0]
                t.eq(st, 405, "not CONNECT: 405")
            t.eq(proxy.errors(), "", "proxy: no error")
        with ConnectProxy(t.tmp, auth="user:pa ss") as proxy:
            with t.case("proxy authentication"):
                e = failure(lambda: send(client(
                    sim, proxies={"https": proxy.url})))
                t.ok(isinstance(e, botocore.exceptions.ProxyConnectionError)
                     and proxy.connects()[-1]["status"] == 407,
                     "no Proxy-Authorization: 407", repr(e))
                send(client(sim, proxies={
                    "https": "http://user:pa%%20ss@127.0.0.1:%d" %
                    proxy.port}))
                t.eq((proxy.connects()[-1]["status"],
                      proxy.connects()[-1]["auth"]), (200, True),
                     "with the credentials in the proxy URL: 200")
                proxy.answer(407)
                e = failure(lambda: send(client(sim, proxies={
                    "https": "http://user:pa%%20ss@127.0.0.1:%d" %
                    proxy.port})))
                t.ok(isinstance(e, botocore.exceptions.ProxyConnectionError),
                     "a proxy told to answer 407 refuses even good "
                     "credentials", repr(e))
        t.eq(sim.errors(), "", "proxy: no simulator error")


cli_cases()
botocore_send_cases()
raw_cases()
proxy_cases()
t.done()
