#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the SES simulator and the harness themselves, driven by
Python's smtplib and a raw line client (no ses-sendmail needed)."""

import base64
import os
import re
import smtplib
import socket
import ssl
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sessim                                       # noqa: E402
from sestest import (PASSWORD, USER, Sim, Tap, make_pki,  # noqa: E402
                     run, write_conf)

BANNER_RE = re.compile(r"220 email-smtp\.amazonaws\.com ESMTP "
                       r"SimpleEmailService-d-[A-Z0-9]{9} [A-Za-z0-9]{20}")
ID_RE = re.compile(r"0100([0-9a-f]{12})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                   r"[89ab][0-9a-f]{3}-[0-9a-f]{12}-000000")
EHLO_STARTTLS = ["250-email-smtp.amazonaws.com", "250-8BITMIME",
                 "250-STARTTLS", "250-AUTH PLAIN LOGIN", "250 Ok"]
EHLO_WRAPPER = ["250-email-smtp.amazonaws.com", "250-8BITMIME",
                "250-AUTH PLAIN LOGIN", "250 Ok"]
PLAIN_BLOB = base64.b64encode(b"\0%s\0%s" % (USER.encode(),
                                             PASSWORD.encode())).decode()
MESSAGE = (b"From: Sender <sender@example.com>\r\nTo: rcpt@example.net\r\n"
           b"Subject: test\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"\r\n\xc3\xa9t\xc3\xa9\r\n..a line that began with a dot\r\n"
           b"last\r\n")

t = Tap(deadline=120)
PKI = make_pki()
CTX = ssl.create_default_context(cafile=str(PKI.ca))


class Raw:
    """A line-level SMTP client: exact reply lines, no interpretation."""

    def __init__(self, port, tls=False, timeout=5, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout)
        self.buf = b""
        if tls:
            self.starttls()

    def starttls(self, ctx=CTX):
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def line(self):
        """One line without CRLF, or None at EOF."""
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        """The lines of one reply; a None last line means EOF."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line is None or line[3:4] != "-":
                return lines

    def cmd(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")
        return self.reply()

    def cmd1(self, text):
        """The single (or last) reply line to a command."""
        return self.cmd(text)[-1]

    def login(self):
        self.reply()
        self.cmd("EHLO client.test")
        return self.cmd1("AUTH PLAIN " + PLAIN_BLOB)

    def send(self, data, mail="sender@example.com",
             rcpts=("rcpt@example.net",), params=""):
        """MAIL, RCPT, DATA, the wire bytes `data` and the final dot; the
        reply to the dot."""
        self.cmd1("MAIL FROM:<%s>%s" % (mail, params))
        for r in rcpts:
            self.cmd1("RCPT TO:<%s>" % r)
        reply = self.cmd1("DATA")
        if not reply.startswith("354"):
            return reply
        self.sock.sendall(data + b".\r\n")
        return self.reply()[-1]

    def eof(self):
        """True when the server closed the connection (FIN or RST)."""
        try:
            return self.line() is None
        except ConnectionResetError:
            return True

    def closed_how(self):
        """"reset" or "eof" once the server has closed.  Reads the kernel
        socket itself: Python's TLS layer reports a reset as a plain EOF."""
        raw = socket.socket(fileno=os.dup(self.sock.fileno()))
        raw.settimeout(3)
        try:
            while raw.recv(65536):
                pass                    # TLS records still in flight
            return "eof"
        except ConnectionResetError:
            return "reset"
        finally:
            raw.close()

    def close(self):
        self.sock.close()


def session(sim, tls=True, **kw):
    """A logged-in wrapper-port session."""
    c = Raw(sim.wrapper_port, tls=tls, **kw)
    c.login()
    return c


def header_message(*headers):
    return b"".join(h + b"\r\n" for h in headers) + b"\r\nbody\r\n"


def test_units():
    t.eq(sessim.smtp_password("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              "us-east-1"), PASSWORD,
         "SigV4 SMTP password of the documented example key, us-east-1")
    # The published Terraform vectors (ses.md 4.2).
    for region, secret, want in (
            ("eu-central-1", "some+secret+key",
             "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"),
            ("eu-central-1", "another+secret+key",
             "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"),
            ("us-west-1", "some+secret+key",
             "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"),
            ("us-west-1", "another+secret+key",
             "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF")):
        t.eq(sessim.smtp_password(secret, region), want,
             "SigV4 vector %s %s" % (region, secret))
    mid = sessim.message_id()
    t.ok(len(mid) == 60 and ID_RE.fullmatch(mid), "message id format", mid)
    t.eq(sessim.unstuff(b"..a\r\n.\r\nb\r\n"), b".a\r\n\r\nb\r\n",
         "dot-unstuffing")
    fields = sessim.header_fields(b"Subject: a\r\n b\r\nsubject: c\r\n\r\n"
                                  b"Subject: body\r\n")
    t.eq(fields, [["Subject", "a b"], ["subject", "c"]],
         "header block parsed, folded lines joined, body ignored")
    t.eq(sessim.duplicate_header(fields), "subject",
         "duplicate found case-insensitively, named as written")


def test_greeting_and_ehlo(sim):
    c = Raw(sim.starttls_port)
    banner = c.reply()
    t.ok(len(banner) == 1 and BANNER_RE.fullmatch(banner[0]),
         "STARTTLS port banner", banner)
    t.eq(c.cmd("EHLO client.test"), EHLO_STARTTLS, "EHLO list before TLS")
    t.eq(c.cmd1("AUTH PLAIN " + PLAIN_BLOB),
         "530 Must issue a STARTTLS command first", "AUTH before TLS: 530")
    t.eq(c.cmd1("MAIL FROM:<sender@example.com>"),
         "530 Must issue a STARTTLS command first", "MAIL before TLS: 530")
    t.eq(c.cmd1("STARTTLS"), "220 Ready to start TLS", "STARTTLS: 220")
    c.starttls()
    t.eq(c.cmd("EHLO client.test"), EHLO_STARTTLS,
         "EHLO list after TLS still offers STARTTLS, as SES does")
    t.ok(c.cmd1("STARTTLS").startswith("503 "), "second STARTTLS: 503")
    t.eq(c.cmd1("MAIL FROM:<sender@example.com>"),
         "530 Authentication required", "MAIL before AUTH: 530")
    t.eq(c.cmd1("HELO client.test"), "250 email-smtp.amazonaws.com",
         "HELO reply")
    t.eq(c.cmd1("QUIT"), "221 Bye", "QUIT: 221 Bye")
    t.ok(c.eof(), "closed after QUIT")

    c = Raw(sim.wrapper_port, tls=True)
    banner = c.reply()
    t.ok(len(banner) == 1 and BANNER_RE.fullmatch(banner[0]),
         "wrapper port banner, after the TLS handshake", banner)
    t.eq(c.cmd("EHLO client.test"), EHLO_WRAPPER,
         "EHLO list on the wrapper port has no STARTTLS")
    t.ok(c.cmd1("STARTTLS").startswith("503 "), "STARTTLS on wrapper: 503")
    c.close()


def test_auth(sim):
    c = Raw(sim.wrapper_port, tls=True)
    c.reply()
    c.cmd("EHLO client.test")
    bad = base64.b64encode(b"\0%s\0wrong" % USER.encode()).decode()
    t.eq(c.cmd1("AUTH PLAIN " + bad), "535 Authentication Credentials Invalid",
         "bad password: 535")
    bad = base64.b64encode(b"\0AKIAOTHER\0%s" % PASSWORD.encode()).decode()
    t.eq(c.cmd1("AUTH PLAIN " + bad), "535 Authentication Credentials Invalid",
         "bad user: 535")
    t.ok(c.cmd1("AUTH CRAM-MD5").startswith("504 "), "CRAM-MD5: 504")
    t.eq(c.cmd1("AUTH PLAIN"), "334 ", "PLAIN without initial response: 334")
    t.eq(c.cmd1(PLAIN_BLOB), "235 Authentication successful.",
         "PLAIN after the empty prompt: 235")
    c.close()

    c = Raw(sim.wrapper_port, tls=True)
    c.reply()
    c.cmd("EHLO client.test")
    t.eq(c.cmd1("AUTH LOGIN"), "334 VXNlcm5hbWU6", "LOGIN user prompt")
    t.eq(c.cmd1(base64.b64encode(USER.encode()).decode()),
         "334 UGFzc3dvcmQ6", "LOGIN password prompt")
    t.eq(c.cmd1(base64.b64encode(PASSWORD.encode()).decode()),
         "235 Authentication successful.", "LOGIN: 235")
    c.close()

    # smtplib picks PLAIN with an initial response, as AWS's example does.
    with smtplib.SMTP_SSL("127.0.0.1", sim.wrapper_port, context=CTX,
                          timeout=5) as s:
        t.eq(s.login(USER, PASSWORD), (235, b"Authentication successful."),
             "smtplib login (PLAIN) on the wrapper port")
    with smtplib.SMTP("127.0.0.1", sim.starttls_port, timeout=5) as s:
        s.starttls(context=CTX)
        s.ehlo("client.test")
        s.user, s.password = USER, PASSWORD
        t.eq(s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0], 235,
             "smtplib AUTH LOGIN after STARTTLS")
    auths = sim.events("auth")
    t.eq([(e["mech"], e["ok"], e["initial"]) for e in auths],
         [("PLAIN", False, True), ("PLAIN", False, True),
          ("PLAIN", True, False), ("LOGIN", True, False),
          ("PLAIN", True, True), ("LOGIN", True, False)],
         "auth events: mechanism, outcome, initial response")


def test_commands(sim):
    c = session(sim)
    t.eq(c.cmd1("RCPT TO:<rcpt@example.net>")[:4], "503 ", "RCPT before MAIL")
    t.eq(c.cmd1("MAIL FROM:<>"), "501 Invalid MAIL FROM address provided",
         "null sender: 501")
    t.eq(c.cmd1("MAIL FROM:garbage"), "501 Invalid MAIL FROM address provided",
         "garbage MAIL: 501")
    t.eq(c.cmd1("MAIL FROM:<sender@example.com>"), "250 Ok", "MAIL: 250 Ok")
    t.eq(c.cmd1("DATA")[:4], "503 ", "DATA without RCPT: 503")
    t.eq(c.cmd1("RSET"), "250 Ok", "RSET: 250 Ok")
    t.eq(c.cmd1("NOOP"), "250 Ok", "NOOP: 250 Ok")
    t.eq(c.cmd1("VRFY x"), "500 Unrecognized command", "unknown: 500")
    t.eq(c.cmd1("NOOP " + "x" * 2100), "500 Line too long",
         "a 2100-octet command: 500 Line too long")
    t.eq(c.cmd1("NOOP"), "250 Ok", "session goes on after a long line")
    c.close()


def test_message(sim):
    sent_at = time.time()
    c = session(sim)
    reply = c.send(MESSAGE, params=" BODY=8BITMIME",
                   rcpts=("rcpt@example.net", "other@example.org"))
    m = re.fullmatch(r"250 Ok (\S+)", reply)
    mid = m.group(1) if m else ""
    t.ok(len(mid) == 60 and ID_RE.fullmatch(mid),
         "250 Ok with a 60-character SES id", reply)
    stamp = int(ID_RE.fullmatch(mid).group(1), 16) / 1000 if mid else 0
    t.ok(abs(stamp - sent_at) < 5, "id embeds the time in ms", stamp)
    t.eq(c.cmd1("QUIT"), "221 Bye", "QUIT after a message")
    msgs = sim.messages()
    t.eq(len(msgs), 1, "one message stored")
    if msgs:
        m = msgs[0]
        t.eq(m["raw"], MESSAGE, ".raw is the exact wire bytes, dot-stuffed")
        t.eq(m["eml"], MESSAGE.replace(b"\n..a", b"\n.a"),
             ".eml is dot-unstuffed")
        t.eq((m["mail_from"], m["mail_params"], m["rcpt"], m["id"], m["tls"],
              m["auth"], m["ehlo"], m["conn"]),
             ("sender@example.com", ["BODY=8BITMIME"],
              ["rcpt@example.net", "other@example.org"], mid, "TLSv1.3",
              "PLAIN", "client.test", 1), ".json envelope and session facts")
    lines = sim.transcript()
    t.ok("1 C: <%d octets of data>" % len(MESSAGE) in lines,
         "transcript logs the data size, not the data")
    t.ok("1 C: AUTH PLAIN ***" in lines and
         not any(PLAIN_BLOB in ln or PASSWORD in ln for ln in lines),
         "transcript masks AUTH payloads")
    sim.wait_closed()
    t.eq([e["event"] for e in sim.events()],
         ["connect", "tls", "auth", "stored", "close"],
         "events of the session")


def test_policy(sim):
    c = session(sim)
    dup = header_message(b"From: sender@example.com",
                         b"Content-Type: text/plain",
                         b"Content-Type: text/html")
    t.eq(c.send(dup), "554 Transaction failed: Duplicate header "
         "'Content-Type'.", "duplicate Content-Type: 554")
    ok = header_message(b"From: sender@example.com", b"Received: a",
                        b"Received: b")
    t.ok(c.send(ok).startswith("250 Ok "), "repeated Received: is fine")
    many = ["r%d@example.net" % i for i in range(51)]
    t.eq(c.send(ok, rcpts=many),
         "554 Transaction failed: Recipient count exceeds 50.",
         "51 recipients: 554")
    t.ok(c.send(ok, rcpts=many[:50]).startswith("250 Ok "),
         "50 recipients: 250")
    t.ok(c.send(b"").startswith("250 Ok "), "an empty message ends at once")
    # The 40 MB limit, both sides of it (ses.md 6.1).
    body = b"x" * 998 + b"\r\n"
    big = ok + body * ((sessim.MAX_MESSAGE - len(ok)) // len(body))
    big += b"y" * (sessim.MAX_MESSAGE - len(big) - 2) + b"\r\n"
    t.ok(c.send(big).startswith("250 Ok "), "exactly 41943040 octets: 250")
    t.eq(c.send(big + b"z\r\n"), "552 Message is too long.",
         "41943043 octets: 552")
    t.eq(c.cmd1("NOOP"), "250 Ok", "session goes on after a rejection")
    c.close()
    sizes = [len(m["raw"]) for m in sim.messages()]
    t.eq(sizes, [len(ok), len(ok), 0, sessim.MAX_MESSAGE],
         "only the accepted messages were stored")


def test_size_and_login_only(tmp):
    with Sim(tmp, size=1000, login_only=True, delay_ms=100) as sim:
        start = time.monotonic()
        c = Raw(sim.wrapper_port, tls=True)
        c.reply()
        lines = c.cmd("EHLO client.test")
        t.ok(time.monotonic() - start >= 0.2, "--delay-ms before each reply")
        t.eq(lines, ["250-email-smtp.amazonaws.com", "250-8BITMIME",
                     "250-SIZE 1000", "250-AUTH LOGIN", "250 Ok"],
             "EHLO with --size and --login-only")
        t.ok(c.cmd1("AUTH PLAIN " + PLAIN_BLOB).startswith("504 "),
             "PLAIN refused with --login-only")
        c.cmd1("AUTH LOGIN")
        c.cmd1(base64.b64encode(USER.encode()).decode())
        c.cmd1(base64.b64encode(PASSWORD.encode()).decode())
        t.eq(c.cmd1("MAIL FROM:<sender@example.com> SIZE=2000"),
             "552 Message is too long.", "MAIL SIZE= above SIZE: 552")
        t.eq(c.send(b"x" * 1500 + b"\r\n"), "552 Message is too long.",
             "data above SIZE: 552")
        c.close()
        t.eq(sim.errors(), "", "no simulator errors (size)")


def test_verified(tmp):
    with Sim(tmp, verified="example.com,solo@other.org",
             region="eu-west-1") as sim:
        c = Raw(sim.wrapper_port, tls=True)
        c.reply()
        c.cmd("EHLO client.test")
        t.eq(c.cmd1("AUTH PLAIN " + PLAIN_BLOB),
             "535 Authentication Credentials Invalid",
             "the us-east-1 password fails in eu-west-1")
        blob = base64.b64encode(
            b"\0%s\0BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk" %
            USER.encode()).decode()
        t.eq(c.cmd1("AUTH PLAIN " + blob), "235 Authentication successful.",
             "the eu-west-1 password (ses.md 4.2 vector)")
        good = header_message(b"From: A <a@sub.example.com>")
        t.ok(c.send(good, mail="solo@other.org").startswith("250 Ok "),
             "verified address and subdomain of a verified domain: 250")
        bad = header_message(b"From: X <x@evil.net>")
        t.eq(c.send(bad, mail="bad@other.org"),
             "554 Message rejected: Email address is not verified. The "
             "following identities failed the check in region EU-WEST-1: "
             "bad@other.org, x@evil.net", "unverified sender and From: 554")
        c.close()
        t.eq(sim.errors(), "", "no simulator errors (verified)")


def test_idle(tmp):
    with Sim(tmp, idle=1) as sim:
        c = Raw(sim.wrapper_port, tls=True)
        c.reply()
        start = time.monotonic()
        t.eq(c.reply(), ["451 4.4.2 Timeout waiting for data from client."],
             "idle after the banner: 451")
        t.ok(0.8 < time.monotonic() - start < 3 and c.eof(),
             "after --idle 1 s, then closed")
        c = session(sim)
        c.cmd1("MAIL FROM:<sender@example.com>")
        c.cmd1("RCPT TO:<rcpt@example.net>")
        c.cmd1("DATA")
        c.sock.sendall(b"Subject: half a message\r\n")
        t.eq(c.reply(), ["451 4.4.2 Timeout waiting for data from client."],
             "idle inside DATA: 451")
        t.ok(c.eof() and not sim.messages(), "closed, nothing stored")
        t.eq(sim.errors(), "", "no simulator errors (idle)")


def test_tls(tmp):
    with Sim(tmp, tls_min="1.0", tls_max="1.1") as sim:
        try:
            Raw(sim.wrapper_port, tls=True).close()
            t.ok(False, "a TLS >= 1.2 client cannot reach a TLS 1.1 server")
        except ssl.SSLError:
            t.ok(True, "a TLS >= 1.2 client cannot reach a TLS 1.1 server")
        old = ssl.create_default_context(cafile=str(PKI.ca))
        with warnings.catch_warnings():     # TLS 1.0 is deprecated: we know
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        c = Raw(sim.wrapper_port)
        c.starttls(old)
        c.login()
        t.eq(c.sock.version(), "TLSv1.1", "--tls-max 1.1 negotiates TLS 1.1")
        t.eq(c.send(header_message(b"From: a@example.com")),
             sessim.TLS_DENIED, "TLS 1.1 session refused at DATA, as SES "
             "did from 2023 on")
        c.close()
        t.eq(sim.errors(), "", "no simulator errors (old TLS)")

    for cert, why in (("wrong", "match"), ("expired", "expired"),
                      ("selfsigned", "self-signed")):
        with Sim(tmp, cert=cert) as sim:
            try:
                Raw(sim.wrapper_port, tls=True).close()
                t.ok(False, "the %s certificate fails verification" % cert)
            except ssl.SSLCertVerificationError as e:
                t.ok(why in str(e), "the %s certificate fails verification"
                     % cert, str(e))


def test_ipv6(tmp):
    with Sim(tmp, ipv6=True) as sim:
        t.ok(sim.wrapper6_port and sim.starttls6_port,
             "--ipv6 listens on ::1 too", sim.ports)
        t.eq((sim.wrapper6_port, sim.starttls6_port),
             (sim.wrapper_port, sim.starttls_port), "with the same ports")
        c = Raw(sim.wrapper6_port, tls=True, host="::1")
        t.ok(BANNER_RE.fullmatch(c.reply()[0]), "banner over ::1")
        c.close()
        t.eq([e["family"] for e in sim.events("connect")], ["ipv6"],
             "connect event records the family")


def test_faults(sim):
    def expect_eof(c, desc):
        t.ok(c.eof(), desc)
        c.close()

    busy = "421 Too many concurrent SMTP connections"
    sim.scenario(default=[{"stage": "greeting", "action": "reply",
                           "reply": busy}])
    c = Raw(sim.wrapper_port, tls=True)
    t.eq(c.reply(), [busy], "reply fault at greeting")
    expect_eof(c, "421 closes the connection")

    sim.scenario(default=[{"stage": "greeting", "action": "reply",
                           "reply": "554 No SMTP service here"}])
    c = Raw(sim.wrapper_port, tls=True)
    c.reply()
    t.eq(c.cmd1("EHLO client.test"), "503 Bad sequence of commands",
         "after a 554 greeting only QUIT is served")
    t.eq(c.cmd1("QUIT"), "221 Bye", "QUIT after a 554 greeting")
    c.close()

    sim.scenario(default=[{"stage": "dot", "action": "reply", "count": 1,
                           "reply": "451 Temporary service failure"}])
    c = session(sim)
    t.eq(c.send(MESSAGE), "451 Temporary service failure",
         "reply fault at the first dot")
    t.eq(c.cmd1("NOOP"), "250 Ok", "the session goes on after a 451")
    t.ok(c.send(MESSAGE).startswith("250 Ok "), "the second dot is accepted")
    c.close()
    t.eq(len(sim.messages()), 1, "only the second message stored")

    sim.scenario(default=[{"stage": "dot", "action": "reply",
                           "reply": ["250-Ok", "250 Ok odd-id"]}])
    c = session(sim)
    t.eq(c.send(MESSAGE), "250 Ok odd-id", "a 2xx reply fault at the dot")
    c.close()
    t.eq([m["id"] for m in sim.messages()], ["odd-id"],
         "stores the message under the reply's id")

    sim.scenario(default=[{"stage": "rcpt", "action": "reply", "count": 2,
                           "reply": "550 Mailbox unavailable"}])
    c = session(sim)
    c.cmd1("MAIL FROM:<sender@example.com>")
    t.eq([c.cmd1("RCPT TO:<%s@example.net>" % r) for r in "abc"],
         ["250 Ok", "550 Mailbox unavailable", "250 Ok"],
         "reply fault at the 2nd RCPT only")
    c.cmd1("DATA")
    c.sock.sendall(MESSAGE + b".\r\n")
    t.ok(c.reply()[-1].startswith("250 Ok "), "message accepted")
    c.close()
    t.eq([m["rcpt"] for m in sim.messages()],
         [["a@example.net", "c@example.net"]],
         "stored without the refused recipient")

    sim.scenario(default=[{"stage": "ehlo", "action": "reply", "nth": 1,
                           "reply": ["250-email-smtp.amazonaws.com",
                                     "250 Ok"]}])
    c = Raw(sim.starttls_port)
    c.reply()
    t.eq(c.cmd("EHLO client.test"), ["250-email-smtp.amazonaws.com",
                                     "250 Ok"],
         "multi-line reply fault: an EHLO without STARTTLS")
    t.eq(c.cmd1("AUTH PLAIN " + PLAIN_BLOB),
         "530 Must issue a STARTTLS command first",
         "and the server still refuses AUTH in plain text")
    c.close()

    sim.scenario(default=[{"stage": "ehlo", "action": "garbage"}])
    c = Raw(sim.wrapper_port, tls=True)
    c.reply()
    t.eq(c.cmd("EHLO client.test"), ["this is not smtp"], "garbage fault")
    t.eq(c.cmd1("NOOP"), "250 Ok", "the session goes on after garbage")
    c.close()

    sim.scenario(default=[{"stage": "mail", "action": "drop"}])
    c = session(sim)
    c.sock.sendall(b"MAIL FROM:<sender@example.com>\r\n")
    t.eq(c.closed_how(), "eof", "drop fault at MAIL: EOF, no reply")
    c.close()

    sim.scenario(default=[{"stage": "rcpt", "action": "reset"}])
    c = session(sim)
    c.cmd1("MAIL FROM:<sender@example.com>")
    c.sock.sendall(b"RCPT TO:<rcpt@example.net>\r\n")
    t.eq(c.closed_how(), "reset", "reset fault at RCPT: connection reset")
    c.close()

    sim.scenario(default=[{"stage": "data", "action": "hang", "seconds": 1}])
    c = session(sim, timeout=0.4)
    c.cmd1("MAIL FROM:<sender@example.com>")
    c.cmd1("RCPT TO:<rcpt@example.net>")
    c.sock.sendall(b"DATA\r\n")
    try:
        c.line()
        t.ok(False, "hang fault at DATA: no reply before the client timeout")
    except socket.timeout:
        t.ok(True, "hang fault at DATA: no reply before the client timeout")
    c.sock.settimeout(3)
    expect_eof(c, "closed when the hang ends")

    sim.scenario(default=[{"stage": "dot", "action": "accept_drop"}])
    c = session(sim)
    c.cmd1("MAIL FROM:<sender@example.com>")
    c.cmd1("RCPT TO:<rcpt@example.net>")
    c.cmd1("DATA")
    c.sock.sendall(MESSAGE + b".\r\n")
    expect_eof(c, "accept_drop: no reply to the dot")
    t.eq([m["raw"] for m in sim.messages()], [MESSAGE],
         "accept_drop: the message was stored all the same")

    sim.scenario(default=[{"stage": "dot", "action": "drop"}])
    c = session(sim)
    c.cmd1("MAIL FROM:<sender@example.com>")
    c.cmd1("RCPT TO:<rcpt@example.net>")
    c.cmd1("DATA")
    c.sock.sendall(MESSAGE + b".\r\n")
    expect_eof(c, "drop at dot: no reply")
    t.eq(sim.messages(), [], "drop at dot: nothing stored")

    sim.scenario(default=[{"stage": "data", "action": "stall_read",
                           "bytes": 65536, "seconds": 2}])
    c = session(sim, timeout=1)
    c.cmd1("MAIL FROM:<sender@example.com>")
    c.cmd1("RCPT TO:<rcpt@example.net>")
    t.eq(c.cmd1("DATA"), "354 End data with <CR><LF>.<CR><LF>",
         "stall_read answers DATA normally")
    sent, chunk = 0, b"x" * 998 + b"\r\n"
    try:
        while sent < 32 << 20:
            c.sock.sendall(chunk * 64)
            sent += len(chunk) * 64
        t.ok(False, "stall_read: the client's writes stall", sent)
    except socket.timeout:
        t.ok(True, "stall_read: the client's writes stall after %d KB" %
             (sent >> 10))
    c.close()
    t.ok(any(e["event"] == "stall" for e in sim.events()),
         "stall_read: stall event logged")

    sim.scenario(default=[{"stage": "ehlo", "action": "delay", "ms": 300}])
    c = Raw(sim.wrapper_port, tls=True)
    c.reply()
    start = time.monotonic()
    c.cmd("EHLO client.test")
    t.ok(time.monotonic() - start >= 0.3, "delay fault")
    c.close()

    sim.scenario(default=[{"stage": "quit", "action": "drop"}])
    c = session(sim)
    c.sock.sendall(b"QUIT\r\n")
    expect_eof(c, "drop at QUIT: no 221")

    for action, exc in (("drop", (ssl.SSLError, ConnectionResetError)),
                        ("reset", (ssl.SSLError, ConnectionResetError)),
                        ("garbage", ssl.SSLError)):
        sim.scenario(default=[{"stage": "tls", "action": action}])
        try:
            Raw(sim.wrapper_port, tls=True).close()
            t.ok(False, "%s during the TLS handshake fails it" % action)
        except exc as e:
            t.ok(True, "%s during the TLS handshake fails it (%s)" % (
                action, type(e).__name__))
    sim.scenario(default=[{"stage": "tls", "action": "hang", "seconds": 1}])
    try:
        Raw(sim.wrapper_port, tls=True, timeout=0.4).close()
        t.ok(False, "hang during the TLS handshake")
    except socket.timeout:
        t.ok(True, "hang during the TLS handshake")

    sim.scenario(default=[{"stage": "tls", "action": "drop"}])
    c = Raw(sim.starttls_port)
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd1("STARTTLS")
    try:
        c.starttls()
        t.ok(False, "tls fault also applies after STARTTLS")
    except (ssl.SSLError, ConnectionResetError):
        t.ok(True, "tls fault also applies after STARTTLS")
    c.close()

    # trail: plaintext right after "220 Ready to start TLS", in the same
    # write (one recv gets both) or in a write of its own; the handshake
    # then starts as usual, the injected bytes forgotten (RFC 3207 5).
    for extra in ({}, {"ms": 100}):
        sim.scenario(default=[{"stage": "starttls", "action": "trail",
                               "data": "250 injected\r\n", **extra}])
        c = Raw(sim.starttls_port)
        c.reply()
        c.cmd("EHLO client.test")
        c.sock.sendall(b"STARTTLS\r\n")
        want = b"220 Ready to start TLS\r\n250 injected\r\n"
        got = b""
        while len(got) < len(want):
            data = c.sock.recv(65536)
            if not data:
                break
            got += data
        t.eq(got, want, "trail at starttls%s: 220, then the injected line" %
             (" (100 ms later)" if extra else " (same write)"))
        c.starttls()
        t.ok(c.cmd1("EHLO client.test").startswith("250 "),
             "trail at starttls%s: the handshake follows" %
             (" (100 ms later)" if extra else " (same write)"))
        c.close()
    sim.scenario(default=[{"stage": "ehlo", "action": "trail"}])
    c = Raw(sim.starttls_port)
    c.reply()
    t.eq(c.cmd("EHLO client.test")[-1], "250 Ok", "trail at ehlo: the reply")
    t.eq(c.reply(), ["250 injected"], "trail at ehlo: the default data")
    c.close()

    sim.scenario(default=[{"stage": "connect", "action": "refuse"}])
    expect_eof(Raw(sim.starttls_port), "refuse at connect: closed, no banner")
    sim.scenario(default=[{"stage": "connect", "action": "reply",
                           "reply": busy}])
    try:
        Raw(sim.wrapper_port, tls=True).close()
        t.ok(False, "plaintext reply at connect breaks a wrapper handshake")
    except ssl.SSLError:
        t.ok(True, "plaintext reply at connect breaks a wrapper handshake")


def test_sequencing(sim):
    sim.scenario(conns=[[{"stage": "greeting", "action": "drop"}],
                        [{"stage": "greeting", "action": "reply",
                          "reply": "421 Too many concurrent SMTP connections"}]
                        ], name="seq")
    got = []
    for _ in range(3):
        c = Raw(sim.wrapper_port, tls=True)
        got.append(c.reply()[0])
        c.close()
    t.ok(got[0] is None and got[1].startswith("421 ") and
         BANNER_RE.fullmatch(got[2]),
         "connections 1, 2, 3 get conns[0], conns[1], then normal SES", got)
    t.eq(sim.connections(), 3, "connections() counts the scenario's")

    sim.scenario(conns=[[]], default=[{"stage": "greeting",
                                       "action": "drop"}])
    got = []
    for _ in range(3):
        c = Raw(sim.wrapper_port, tls=True)
        got.append(c.reply()[0] is not None)
        c.close()
    t.eq(got, [True, False, False], "a new id restarts at 1; then default")
    t.eq([e["conn"] for e in sim.events("connect")], [1, 2, 3],
         "connection numbers in events")

    def draws(seed):
        sim.scenario(random={"seed": seed, "p": 0.5})
        for _ in range(12):
            socket.create_connection(("127.0.0.1", sim.starttls_port)).close()
        deadline = time.monotonic() + 5
        while sim.connections() < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        return [e["faults"] for e in sim.events("connect")]
    first = draws(42)
    t.ok(len(first) == 12 and any(first) and not all(first),
         "random mode: some connections get a fault", first)
    t.eq(draws(42), first, "random mode is reproducible from the seed")
    t.ok(draws(7) != first, "another seed draws differently")

    # A small chaos run with real sessions: every 250 and every accept_drop
    # leaves exactly one stored message, and nothing breaks the simulator.
    sim.scenario(random={"seed": 1, "p": 0.6}, name="chaos")
    accepted = 0
    for _ in range(30):
        try:
            with smtplib.SMTP_SSL("127.0.0.1", sim.wrapper_port, context=CTX,
                                  timeout=3) as s:
                s.login(USER, PASSWORD)
                s.sendmail("sender@example.com", ["rcpt@example.net"],
                           MESSAGE)
                accepted += 1
        except (smtplib.SMTPException, OSError):
            pass
    sim.wait_closed()
    lost = sum(e["faults"] == [{"stage": "dot", "action": "accept_drop"}]
               for e in sim.events("connect"))
    t.ok(0 < accepted < 30, "chaos: some sessions fail, some succeed",
         accepted)
    t.eq(len(sim.messages()), accepted + lost,
         "chaos: stored = accepted + accepted-then-dropped")


def test_bad_scenario(tmp):
    with Sim(tmp) as sim:
        sim.scenario(default=[{"stage": "rcpt", "action": "explode"},
                              {"stage": "mail", "action": "accept_drop"},
                              {"stage": "tls", "action": "trail"}])
        c = Raw(sim.wrapper_port, tls=True)
        t.ok(BANNER_RE.fullmatch(c.reply()[0]),
             "bad faults are ignored: normal session")
        c.close()
        err = sim.errors()
        t.ok("unknown action 'explode'" in err and
             "accept_drop only at dot" in err and
             "trail needs an answer" in err,
             "bad faults are reported in sim-errors.log", err)


def test_harness(sim):
    conf = write_conf(t.tmp / "ses.conf", sim, timeout=7, helo=None,
                      retry_delays=[1, 2.5], retry_after_data=False)
    text = conf.read_text()
    t.ok("port %d\ntls wrapper\n" % sim.wrapper_port in text and
         "timeout 7\n" in text and "helo" not in text and
         "retry_delays 1 2.5\n" in text and "retry_after_data no\n" in text
         and "ca_file %s\n" % PKI.ca in text and
         "password %s\n" % PASSWORD in text, "write_conf content", text)
    t.eq(os.stat(conf).st_mode & 0o777, 0o600, "write_conf mode 0600")
    text = write_conf(t.tmp / "st.conf", sim,
                      port=sim.starttls_port).read_text()
    t.ok("tls starttls\n" in text, "tls follows the port", text)

    fake = t.tmp / "fake-sendmail"
    fake.write_text('#!/bin/sh\necho "$0 $*"; cat >&2; '
                    '[ "$1" = sleep ] && sleep 10; exit 3\n')
    fake.chmod(0o755)
    os.environ["SES_SENDMAIL"] = str(fake)
    try:
        r = run(["-i", "a@b"], stdin=b"in\xff", conf=conf)
        t.eq((r.rc, r.out, r.err), (3, "%s -C %s -i a@b\n" % (fake, conf),
                                    "in\ufffd"), "run(): rc, argv, stdin")
        r = run(["sleep"], timeout=0.5)
        t.ok(r.timed_out and r.rc is None and r.elapsed < 5 and
             "killed" in r.err, "run() kills on timeout", r)
        os.environ["SES_SENDMAIL"] = sys.executable
        r = run(["-c", "import sys; print(sys.orig_argv[0])"], argv0="mailq")
        t.eq(r.out, "mailq\n", "run(argv0=) sets the name it is called by")
    finally:
        del os.environ["SES_SENDMAIL"]


def main():
    with t.case("units"):
        test_units()
    with Sim(t.tmp) as sim:
        t.eq(sim.ports["pid"], sim.proc.pid, "ports.json names the pid")
        for name, fn in (("greeting", test_greeting_and_ehlo),
                         ("auth", test_auth), ("commands", test_commands),
                         ("message", test_message), ("policy", test_policy),
                         ("faults", test_faults),
                         ("sequencing", test_sequencing),
                         ("harness", test_harness)):
            with t.case(name):
                sim.scenario(name=name)
                fn(sim)
        t.ok(sim.wait_closed(), "every session of the last scenario ended")
        t.eq(sim.errors(), "", "sim-errors.log is empty")
        ports = sim.dir / "ports.json"
        t.eq(sim.stop(), 0, "SIGTERM: clean exit")
        t.ok(not ports.exists(), "ports.json removed at exit")
    for name, fn in (("size", test_size_and_login_only),
                     ("verified", test_verified), ("idle", test_idle),
                     ("tls", test_tls), ("ipv6", test_ipv6),
                     ("bad scenario", test_bad_scenario)):
        with t.case(name):
            fn(t.tmp)
    t.done()


main()
