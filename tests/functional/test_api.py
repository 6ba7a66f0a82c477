#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the HTTPS transport (design.md 12): the built binary sends
through the SES API v2 simulator (sesapi.py), each transaction one signed
SendEmail call with the raw message.

  sends     one recipient, several, 51 and 101 (calls of at most 50), -t,
            8-bit, dots, long lines, 1 MB and 20 MB with flat memory, the
            summary line, -v with the secrets masked, a session token, a
            configuration set
  same      a corpus of messages and flags sent once over SMTP (sessim.py)
            and once over the API: the stored message and the envelope
            are the same, byte for byte
  faults    the API rows of the fault table: exit code, requests,
            connections, messages stored, time, the stderr line
  bs        -bs over one kept-alive connection; a connection the
            simulator closed while idle costs no attempt
  fallback  api_fallback: SMTP unreachable, the message goes by the API
  proxy     through an HTTP CONNECT proxy (connectproxy.py)
  chaos     sends four at a time under a seeded mix of faults: nothing
            lost, duplicates only where one was announced

Arguments, for working on one part: the names of the parts to run (all by
default)."""

import collections
import concurrent.futures
import hashlib
import json
import random
import re
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (SECRET, USER, ApiSim, BsSession,  # noqa: E402
                     ConnectProxy, Sim, Tap, binary, closed_port,
                     first_address, norm, run, run_measured, wire,
                     write_conf)

SENDER = "sender@example.com"           # `from` in write_conf's default
RCPT = "rcpt@example.net"
TOKEN = "FwoGZXIvYXdzEBYaDExampleSessionToken/+=" * 8
ID_RE = r"0100[0-9a-f]{12}-[0-9a-f-]{36}-000000"
DATE = b"Date: DATE"
MSGID = b"Message-ID: <ID@example.com>"
HEAD = b"From: Alice <alice@example.com>\nSubject: api\n"
HEAD_WIRE = (b"From: Alice <alice@example.com>", b"Subject: api")
DUP = "SES may have accepted the message"

# Under AddressSanitizer the resident set says nothing of the program's use.
SANITIZED = b"__asan_init" in Path(binary()).read_bytes()

PARTS = ("sends", "same", "faults", "bs", "fallback", "proxy", "chaos")
counts = collections.OrderedDict()      # checks per part, for the diag

t = Tap(name="api", deadline=900)
_confs = iter(range(1, 1 << 30))


def conf_for(sim, **keys):
    """A fresh configuration file for sim (write_conf's defaults)."""
    return write_conf(t.tmp / ("c%d.conf" % next(_confs)), sim, **keys)


def api_at(sim, host="127.0.0.1"):
    """sim's api_endpoint with host (127.0.0.1: one address, so that each
    connection is one attempt)."""
    return "https://%s:%d" % (host, sim.port)


def body_wire(*body):
    return wire(*HEAD_WIRE, DATE, MSGID, b"", *body)


def rcpts(n, tag="r"):
    return ["%s%03d@example.net" % (tag, i) for i in range(n)]


def last_line(err):
    lines = [ln for ln in err.splitlines() if ln]
    return lines[-1] if lines else ""


def summary_re(port, to=RCPT, host="localhost", addr=None, mid=None):
    """design.md 10's summary line for an API send, as a regex."""
    tos = ",".join("<%s>" % re.escape(a) for a in
                   ([to] if isinstance(to, str) else to))
    return re.compile(
        r"^ses-sendmail: from=<{s}> to={to} size=(?P<size>\d+) "
        r"relay={h}\[{a}\]:{p} attempts=1 delay=\d+\.\d\d status=sent "
        r"\(200 MessageId (?P<id>{i})\) "
        r"id=<(?P=id)@email\.amazonses\.com>$".format(
            s=re.escape(SENDER), to=tos, h=re.escape(host),
            a=re.escape(addr or first_address(host)), p=port,
            i=re.escape(mid) if mid else ID_RE))


def send_one(sim, desc, args, stdin, conf, n=1):
    """Run the binary; exit 0 and n messages stored; (result, messages)."""
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf, timeout=60)
    t.eq(r.rc, 0, "%s: exit 0" % desc, r.err[-2000:])
    msgs = sim.messages()
    t.eq(len(msgs), n, "%s: %d message%s stored" % (desc, n,
                                                      "" if n == 1 else "s"),
         r.err[-2000:])
    return r, msgs


# --- 1. sends ----------------------------------------------------------------

def part_sends(sim, tsim):
    conf = conf_for(sim)
    with t.case("one recipient"):
        r, msgs = send_one(sim, "one recipient", ["-i", RCPT],
                           HEAD + b"\nline 1\n\nline 3\n", conf)
        if msgs:
            m = msgs[0]
            t.eq((m["from"], m["to"], m["cc"], m["bcc"]),
                 (SENDER, [RCPT], [], []),
                 "one recipient: FromEmailAddress, Destination.ToAddresses")
            t.eq(norm(m["raw"]), body_wire(b"line 1", b"", b"line 3"),
                 "one recipient: Content.Raw.Data, byte for byte")
            t.eq((m["tls"] in ("TLSv1.2", "TLSv1.3"), m["sni"], m["key_id"],
                  m["token"]), (True, "localhost", USER, False),
                 "one recipient: TLS with SNI, signed with the key id, "
                 "no token")
            lines = r.err.splitlines()
            sm = summary_re(sim.port, mid=m["id"]).match(
                lines[-1] if lines else "")
            t.ok(len(lines) == 1 and sm,
                 "one recipient: stderr is the summary line: relay="
                 "localhost[%s]:%d, (200 MessageId ID), id=<ID@email."
                 "amazonses.com>" % (first_address(), sim.port), r.err)
            t.ok(sm and int(sm.group("size")) == m["size"],
                 "one recipient: size= is the raw message's size")
        t.eq(len(sim.requests()), 1, "one recipient: one request")

    with t.case("several"):
        many = ["a@example.net", "B@Example.ORG", "c+tag@x.example"]
        r, msgs = send_one(sim, "three recipients", ["-i"] + many,
                           HEAD + b"\nbody\n", conf)
        if msgs:
            t.eq(msgs[0]["to"], many, "three recipients: one call, all in "
                 "ToAddresses, in order")
            t.ok(summary_re(sim.port, to=many).match(last_line(r.err)),
                 "three recipients: all on the summary line", r.err)

    for n, want in ((51, [50, 1]), (101, [50, 50, 1])):
        with t.case("%d recipients" % n):
            everyone = rcpts(n)
            r, msgs = send_one(sim, "%d recipients" % n, ["-i"] + everyone,
                               HEAD + b"\nbody\n", conf, n=len(want))
            t.eq([len(m["to"]) for m in msgs], want,
                 "%d recipients: calls of %s" % (
                     n, " + ".join(str(k) for k in want)))
            t.eq([a for m in msgs for a in m["to"]], everyone,
                 "%d recipients: each once, in order" % n)
            t.eq(len({m["raw"] for m in msgs}), 1,
                 "%d recipients: the same raw message in each call" % n)
            t.eq((len(sim.requests()), sim.connections()), (len(want), 1),
                 "%d recipients: %d requests on one connection" % (
                     n, len(want)))

    with t.case("-t"):
        msg = (b"From: Alice <alice@example.com>\n"
               b"To: to1@x.example, \"Doe, John\" <john@x.example>\n"
               b"Cc: Carl <carl@x.example>\n"
               b"Bcc: hidden@x.example,\n \"Secret, Sam\" <sam@x.example>\n"
               b"Subject: -t\n\nbody\n")
        r, msgs = send_one(sim, "-t", ["-t"], msg, conf)
        if msgs:
            m = msgs[0]
            t.eq(m["to"], ["to1@x.example", "john@x.example",
                           "carl@x.example", "hidden@x.example",
                           "sam@x.example"],
                 "-t: To, Cc and Bcc recipients in Destination")
            t.eq(norm(m["raw"]),
                 wire(b"From: Alice <alice@example.com>",
                      b"To: to1@x.example, \"Doe, John\" <john@x.example>",
                      b"Cc: Carl <carl@x.example>", b"Subject: -t", DATE,
                      MSGID, b"", b"body"),
                 "-t: Bcc: removed from the raw message, the rest as given")

    with t.case("8-bit"):
        msg = (HEAD + b"MIME-Version: 1.0\n"
               b"Content-Type: text/plain; charset=utf-8\n"
               b"Content-Transfer-Encoding: 8bit\n\n"
               b"\xc3\xa9t\xc3\xa9 \xe2\x82\xac\n\xff\xfe raw octets\n")
        r, msgs = send_one(sim, "8-bit body", ["-i", RCPT], msg, conf)
        if msgs:
            t.eq(norm(msgs[0]["raw"]),
                 wire(*HEAD_WIRE, b"MIME-Version: 1.0",
                      b"Content-Type: text/plain; charset=utf-8",
                      b"Content-Transfer-Encoding: 8bit", DATE, MSGID, b"",
                      b"\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
                      b"\xff\xfe raw octets"),
                 "8-bit body: every octet as given")

    with t.case("dots"):
        r, msgs = send_one(sim, "leading dots", ["-i", RCPT],
                           HEAD + b"\n.hidden\n.\n..x\nend\n", conf)
        if msgs:
            t.eq(norm(msgs[0]["raw"]),
                 body_wire(b".hidden", b".", b"..x", b"end"),
                 "leading dots: no dot-stuffing in the raw message")

    with t.case("long line"):
        long_line = bytes(range(0x21, 0x7f)) * 32       # 3 008 octets
        r, msgs = send_one(sim, "3000-octet line", ["-i", RCPT],
                           HEAD + b"\nshort\n" + long_line + b"\n", conf)
        t.ok(re.search(r"^ses-sendmail: lines longer than 998 octets "
                       r"folded", r.err, re.M),
             "3000-octet line: the warning", r.err)
        if msgs:
            raw = msgs[0]["raw"]
            t.ok(max(len(ln) for ln in raw.split(b"\r\n")) <= 998,
                 "3000-octet line: folded to at most 998 octets a line")
            t.eq(norm(raw).replace(b"\r\n ", b""),
                 body_wire(b"short", long_line),
                 "3000-octet line: folded with CRLF SP, nothing else "
                 "changed")

    with t.case("sizes"):
        sizes(sim, conf)

    with t.case("-v"):
        verbose(sim, tsim)

    with t.case("configuration set"):
        cs_conf = conf_for(sim, configuration_set="cs1")
        r, msgs = send_one(sim, "configuration_set cs1", ["-i", RCPT],
                           HEAD + b"\nbody\n", cs_conf)
        if msgs:
            t.eq(msgs[0]["config_set"], "cs1",
                 "configuration_set: ConfigurationSetName sent")
        sim.scenario()
        r = run(["-i", RCPT], stdin=HEAD + b"\nbody\n",
                conf=conf_for(sim, configuration_set="nosuch"))
        t.eq((r.rc, len(sim.messages()), len(sim.requests())), (78, 0, 1),
             "unknown configuration set: exit 78 after one request, "
             "nothing stored", r.err)
        t.ok(re.search(r"^ses-sendmail: message not sent: 404 "
                       r"NotFoundException: Configuration set <nosuch> "
                       r"does not exist.*check configuration_set",
                       last_line(r.err)),
             "unknown configuration set: the line names it and the key",
             r.err)


def sizes(sim, conf):
    """1 MB and 20 MB arrive whole; the peak memory of a 20 MB send is
    that of a 2 KB one (within 1 MiB): the body is streamed."""
    rng = random.Random(7)
    line = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 ")
                 for _ in range(76))
    peak = {}
    for label, nlines in (("2 KB", 25), ("1 MB", 13500),
                          ("20 MB", 270000)):
        msg = HEAD + b"\n" + (line + b"\n") * nlines
        want = hashlib.sha256(body_wire(*[line] * nlines)).hexdigest()
        sim.scenario()
        r = run_measured(["-i", RCPT], stdin=msg, conf=conf, timeout=120)
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1, "%s: sent, one message stored "
             "(%.1f s)" % (label, r.elapsed), r.err[-1000:])
        if msgs:
            t.eq(hashlib.sha256(norm(msgs[0]["raw"])).hexdigest(), want,
                 "%s: the raw message, byte for byte (%d octets)" % (
                     label, msgs[0]["size"]))
        peak[label] = r.maxrss
    t.diag("peak RSS: %s" % ", ".join("%s %s KiB" % kv for kv in
                                     peak.items()))
    desc = "memory flat: peak RSS of a 20 MB send within 1 MiB of a 2 KB " \
        "send's (%s KiB vs %s KiB)" % (peak["20 MB"], peak["2 KB"])
    if None in peak.values():
        t.skip(desc, "no /usr/bin/time to measure the binary alone")
    elif SANITIZED:
        t.skip(desc, "a sanitizer build: its shadow memory and quarantine "
               "say nothing of the program's own use")
    else:
        t.ok(peak["20 MB"] - peak["2 KB"] <= 1024, desc)


def verbose(sim, tsim):
    """-v: the HTTP exchange, Authorization and X-Amz-Security-Token
    masked, the body elided; no secret anywhere."""
    for label, s, keys in (("-v", sim, {}),
                           ("-v with aws_session_token", tsim,
                            {"aws_session_token": TOKEN})):
        conf = conf_for(s, **keys)
        msg = HEAD + b"\nthe body text, never traced\n"
        s.scenario()
        r = run(["-v", "-i", RCPT], stdin=msg, conf=conf)
        msgs = s.messages()
        t.ok(r.rc == 0 and len(msgs) == 1, "%s: sent" % label, r.err)
        both = r.out + "\n" + r.err
        trace = [ln for ln in both.splitlines() if ln[:2] in ("> ", "< ")]
        t.ok("> POST /v2/email/outbound-emails HTTP/1.1" in trace and
             any(ln.startswith("< HTTP/1.1 200") for ln in trace),
             "%s: the request and the answer traced" % label, both)
        auth = [ln for ln in trace if ln.lower().startswith(
            "> authorization:")]
        t.eq(auth, ["> Authorization: ***"],
             "%s: Authorization shown masked" % label, both)
        tok = [ln for ln in trace if ln.lower().startswith(
            "> x-amz-security-token:")]
        t.eq(tok, ["> X-Amz-Security-Token: ***"] if keys else [],
             "%s: X-Amz-Security-Token %s" % (
                 label, "shown masked" if keys else "not sent"), both)
        t.ok(re.search(r"^> \[body: \d+ octets\]$", both, re.M) and
             "never traced" not in both and "FromEmailAddress" not in both,
             "%s: the body elided" % label, both)
        secrets = [SECRET, TOKEN, "Signature=", "Credential=",
                   SECRET[:16], TOKEN[:24]]
        t.ok(not any(x in both for x in secrets),
             "%s: no secret, token or signature in stdout/stderr" % label,
             both)
        if msgs:
            t.eq(msgs[0]["token"], bool(keys),
                 "%s: the token %s" % (label, "sent and accepted" if keys
                                       else "absent"))


# --- 2. the same bytes by either transport ----------------------------------

def caller_names():
    """Local recipients (admin_address): root, and a user@this-host."""
    return ["root", "root@localhost", "www-data@" + socket.gethostname()]


NOFROM = b"Subject: no from\n\nbody\n"
DOTTY = b"\n.hidden\n.\n..x\n...\nend\n"
LONG = bytes(range(0x21, 0x7f)) * 32
UNUSUAL = (b"Received: from relay by host; 1 Jan 2024 00:00:00 -0000\n"
           b"From: \"Doe, Jane (HQ)\" <jane@example.com> (comment)\n"
           b"To: undisclosed-recipients:;\n"
           b"Date: Mon, 01 Jan 2024 00:00:00 +0000 (UTC)\n"
           b"Message-ID: <a.b+c@example.com>\n"
           b"X-Empty:\nX-NoSpace:value\nX-Tab:\tvalue\n"
           b"X-Trailing: value   \t\nX-Obsolete  : blank before the colon\n"
           b"X-Folded: one\n\ttwo\n    three\n"
           b"Subject: =?UTF-8?Q?caf=C3=A9?= \"quotes\" (not a comment\n"
           b"MIME-Version: 1.0\n"
           b"Content-Type: multipart/alternative;\n boundary=\"=_b\"\n\n"
           b"preamble\n--=_b\nContent-Type: text/plain\n\n"
           b"  leading blanks, trailing blanks  \n\t\n\n"
           b"From me, a line that starts with From\n--=_b--\n\n")
T_MSG = (b"From: Alice <alice@example.com>\n"
         b"To: to1@x.example, \"Doe, John\" <john@x.example>,\n"
         b"\t(a comment, with a comma) to2@x.example (To Two)\n"
         b"Cc: team: a@x.example, b@x.example;, undisclosed-recipients:;\n"
         b"Subject: -t\nCC: Carl <carl@x.example>\n"
         b"Bcc: hidden@x.example, \"Secret, Sam\" <sam@x.example>\n"
         b"\nbody\n")
RESENT = (b"Resent-From: r@example.com\nResent-To: new@x.example\n"
          b"Resent-Cc: cc@x.example\nResent-Bcc: rb@x.example\n"
          b"From: Alice <alice@example.com>\nTo: old@x.example\n"
          b"Cc: oldcc@x.example\nBcc: oldbcc@x.example\nSubject: resent\n"
          b"\nbody\n")
MBOX = b"From alice@example.com Mon Jan  1 00:00:00 2024\n"


def corpus():
    """(description, argv, stdin, configuration keys) of the messages the
    SMTP tests send (test_message.py, test_from.py, test_send.py)."""
    here = socket.gethostname().encode()
    admin = {"admin_address": "admin@example.com"}
    ver = {"verified_domains": ["example.com", "ok@example.org"]}
    nofrom = {"from": None}
    out = [
        ("LF line ends", ["-i", RCPT], HEAD + b"\nline 1\n\nline 3\n", {}),
        ("CRLF line ends", ["-i", RCPT],
         HEAD.replace(b"\n", b"\r\n") + b"\r\nline 1\r\n\r\nline 3\r\n", {}),
        ("CR CR LF line ends", ["-i", RCPT],
         HEAD.replace(b"\n", b"\r\r\n") + b"\r\r\nline 1\r\r\n", {}),
        ("mixed line ends", ["-i", RCPT],
         HEAD + b"\r\nline 1\r\r\nline 2\nline 3\r\n", {}),
        ("no final newline", [RCPT], HEAD + b"\nline 1\nno newline", {}),
        ("a final CR", ["-i", RCPT],
         HEAD.replace(b"\n", b"\r\n") + b"\r\nlast\r", {}),
        ("header only", ["-i", RCPT], HEAD, {}),
        ("empty body", ["-i", RCPT], HEAD + b"\n", {}),
        ("-i: dot lines", ["-i", RCPT], HEAD + DOTTY, {}),
        ("no -i: .hidden", [RCPT], HEAD + b"\n.hidden\nend\n", {}),
        ("no -i: a leading .. loses a dot", [RCPT],
         HEAD + b"\n..x\n..\n...\nend\n", {}),
        ("no -i: a lone dot ends it", [RCPT],
         HEAD + b"\nkept\n.\nSubject: ignored\n\nignored\n", {}),
        ("no -i: a lone dot in the header", [RCPT],
         HEAD + b".\nX-Ignored: yes\n\nbody\n", {}),
        ("no -i: '. ' and '.x'", [RCPT], HEAD + b"\n. \n.x\nend\n", {}),
        ("two To:, Received:, X-", ["-i", RCPT],
         HEAD + b"To: a@example.net\nTo: b@example.net\nReceived: one\n"
         b"Received: two\nX-A: 1\nX-A: 2\n\nb\n", {}),
        ("Return-Path:, Content-Length: removed", ["-i", RCPT],
         b"Return-Path: <a@example.com>\nReturn-Path: <b@example.com>\n" +
         HEAD + b"Content-Length: 1\n\t2\nCONTENT-LENGTH: 7\n\nb\n", {}),
        ("Bcc:, Resent-Bcc: removed", ["-i", RCPT],
         b"From: Alice <alice@example.com>\nBcc: hidden@example.net,\n"
         b" other@example.net\nSubject: test\nresent-bcc: rb@example.net\n"
         b"BCC:\nX-After: kept\n\nbody\nBcc: a body line stays\n", {}),
        ("a non-ASCII domain", ["-i", "user@b\u00fccher.example"],
         HEAD + b"\nb\n", {}),
        ("a non-ASCII domain in To: (-t)", ["-t"],
         "To: user@M\u00fcnchen.example\n".encode() + HEAD + b"\nb\n", {}),
        ("long lines folded", ["-i", RCPT],
         HEAD + b"X-Long: " + b"y" * 2000 + b"\n\nshort\n" + LONG +
         b"\nafter\n", {}),
        ("a 998-octet line", ["-i", RCPT], HEAD + b"\n" + b"z" * 998 + b"\n",
         {}),
        ("From: from -f, with -F", ["-f", "user@x.example", "-F",
                                    "Cron Daemon", RCPT], NOFROM, {}),
        ("From: from `from`, with -F", ["-F", "Cron Daemon", RCPT],
         NOFROM, {}),
        ("-F with specials", ["-F", 'Doe, "J" \\x', RCPT], NOFROM, {}),
        ("-F non-ASCII", ["-F", "J\u00fcrgen M\u00fcller", RCPT], NOFROM,
         {}),
        ("-F very long", ["-F", "Long Name " * 100 + "End", RCPT], NOFROM,
         {}),
        ("-F an encoded word giving an address",
         ["-F", "=?UTF-8?Q?evil=40attacker.test?=", RCPT], NOFROM, {}),
        ("From: with the caller's name", ["-f", "user@x.example", RCPT],
         NOFROM, {}),
        ("Date: and Message-ID: given", ["-i", RCPT],
         b"From: Alice <alice@example.com>\nDate: 1 Jan 2024 00:00 -0000\n"
         b"Message-ID: <given@example.org>\nSubject: dated\n\nbody\n", {}),
        ("X-SES-CONFIGURATION-SET: added", ["-i", RCPT], HEAD + b"\nb\n",
         {"configuration_set": "cs1"}),
        ("a leading mbox From line", ["-i", RCPT],
         MBOX + HEAD + b"\nFrom here on, body\n", {}),
        ("unusual fields, byte for byte", ["-i", RCPT], UNUSUAL, {}),
        ("no header block", ["-i", "-F", "Nobody", RCPT],
         b"just a body line\nand another\n", {}),
        ("-t: To, Cc, Bcc, groups", ["-t"], T_MSG, {}),
        ("-t with argv recipients", ["-t", "extra@y.example"], T_MSG, {}),
        ("-t: duplicates once", ["-t", "to1@x.example", "TO1@x.example"],
         b"To: to1@x.example, to1@X.EXAMPLE\nCc: <to1@x.example>\n"
         b"Bcc: to1@x.example\n" + HEAD + b"\nbody\n", {}),
        ("without -t, To: is no recipient", [RCPT], T_MSG, {}),
        ("-t: Resent-*", ["-t"], RESENT, {}),
        ("-t: a Resent-Bcc alone", ["-t"],
         b"Resent-Bcc: rb@x.example\nTo: old@x.example\n" + HEAD +
         b"\nbody\n", {}),
        ("-f wins", ["-f", "f@f.example", RCPT],
         b"From: Bob <bob@other.example>\nSubject: s\n\nbody\n", {}),
        ("no from: the From: address", [RCPT],
         b"From: (team) bob@other.example (Bob), carol@other.example\n"
         b"\nb\n", nofrom),
        ("-f root replaced by from", ["-f", "root", RCPT],
         HEAD + b"\nbody\n", {}),
        ("local recipients to admin_address", ["-i"] + caller_names(),
         HEAD + b"\nbody\n", admin),
        ("local -t recipients to admin_address", ["-t"],
         b"To: root, " + RCPT.encode() + b"\nCc: Postmaster <postmaster@"
         b"localhost>\n" + HEAD + b"\nbody\n", admin),
        ("a local From: rewritten", ["-i", RCPT],
         b"From: Cron Daemon <root@localhost>\nSubject: s\n\nbody\n", {}),
        ("a local From: with a comment", ["-i", RCPT],
         b"From: root@localhost (Cron Daemon)\nSubject: s\n\nbody\n", {}),
        ("a local Sender: rewritten", ["-i", RCPT],
         HEAD + b"Sender: Web <www-data@" + here + b">\n\nbody\n", {}),
        ("verified_domains: From: outside, Reply-To: added", ["-i", RCPT],
         b"From: Bob Smith <bob@other.example>\nSubject: s\n\nb\n", ver),
        ("verified_domains: a Sender: outside removed", ["-i", RCPT],
         HEAD + b"Sender: Bob <bob@other.example>\n\nb\n", ver),
        ("verified_domains: -f outside replaced", ["-f", "bob@other.example",
                                                   RCPT], HEAD + b"\nb\n",
         ver),
        ("verified_domains: -f inside, -F", ["-f", "ok@example.org", "-F",
                                             "X", RCPT], b"Subject: s\n\nb\n",
         ver),
        ("8-bit body", ["-i", RCPT],
         HEAD + b"Content-Type: text/plain; charset=utf-8\n\n"
         b"\xc3\xa9t\xc3\xa9\n.\xe2\x82\xac\n", {}),
        ("8-bit header (-t)", ["-t"],
         "To: J\u00f6rg <rcpt@example.net>\nSubject: gr\u00fc\u00dfe\n"
         "\nb\n".encode(), {}),
        ("NUL-free binary-ish body", ["-i", RCPT],
         HEAD + b"\n" + bytes(range(1, 256)).replace(b"\n", b"")
         .replace(b"\r", b"") + b"\n", {}),
        ("-r as -f", ["-r", "r@x.example", RCPT], NOFROM, {}),
        ("-oi: dot lines", ["-oi", RCPT], HEAD + DOTTY, {}),
        ("-t -i, Bcc: only", ["-t", "-i"],
         b"Bcc: " + RCPT.encode() + b"\n" + HEAD + b"\n.body\n", {}),
        ("X-SES-Configuration-Set: given, not added twice", ["-i", RCPT],
         HEAD + b"X-SES-Configuration-Set: mine\n\nb\n",
         {"configuration_set": "cs1"}),
        ("several recipients", ["-i"] + rcpts(7), HEAD + b"\nb\n", {}),
        ("60 recipients", ["-i"] + rcpts(60), HEAD + b"\nb\n", {}),
    ]
    return out


def part_same(sim, smtp):
    """Each message of the corpus once over SMTP, once over the API: the
    raw message SES stores and the envelope must be the same."""
    confs = {}
    same = 0
    cases = corpus()
    for desc, args, stdin, keys in cases:
        k = json.dumps(keys, sort_keys=True)
        if k not in confs:
            confs[k] = (conf_for(smtp, **keys), conf_for(sim, **keys))
        sconf, aconf = confs[k]
        with t.case("same bytes: " + desc):
            smtp.scenario()
            rs = run(args, stdin=stdin, conf=sconf)
            sim.scenario()
            ra = run(args, stdin=stdin, conf=aconf)
            sm, am = smtp.messages(), sim.messages()
            ok = t.ok(rs.rc == 0 and ra.rc == 0 and len(sm) == len(am) and
                      len(sm) > 0,
                      "%s: sent by both (%d, %d messages)" % (
                          desc, len(sm), len(am)),
                      "smtp: %r\napi: %r" % (rs, ra))
            if not ok:
                continue
            s_raw = [norm(m["eml"]) for m in sm]
            a_raw = [norm(m["raw"]) for m in am]
            s_env = [(m["mail_from"], m["rcpt"]) for m in sm]
            a_env = [(m["from"], m["to"]) for m in am]
            ok1 = t.eq(a_raw, s_raw, "%s: the same raw message" % desc)
            ok2 = t.eq(a_env, s_env, "%s: the same envelope" % desc)
            same += ok1 and ok2
    t.diag("byte-for-byte comparison: %d of %d messages the same by SMTP "
           "and by the API" % (same, len(cases)))
    t.ok(len(cases) >= 40, "the corpus has %d cases (at least 40)" %
         len(cases))


# --- 3. the fault table ------------------------------------------------------

FAST = dict(retry_delays="0.1 0.1 0.1", retry_deadline=30, timeout=2)
HANG = 30
NOT_VERIFIED = ("Email address is not verified. The following identities "
                "failed the check in region US-EAST-1: sender@example.com")
DENIED = ("User: arn:aws:iam::123456789012:user/x is not authorized to "
          "perform: ses:SendRawEmail on resource: arn:aws:ses:us-east-1:"
          "123456789012:identity/sender@example.com")


def err(status, etype, message="", **kw):
    f = {"action": "error", "status": status, "type": etype,
         "message": message}
    f.update(kw)
    return f


def fault_rows():
    """(name, scenario, rc, requests, connections, stored, within,
    stderr regex, configuration keys, options)."""
    rate = "Maximum sending rate exceeded."
    once = lambda f: {"requests": [[f]]}                # noqa: E731
    always = lambda f: {"default": [f]}                 # noqa: E731
    nsent = r"^ses-sendmail: message not sent: "
    rows = [
        # Throttling uses up no retry_delays: retried until
        # retry_deadline, as often as full jitter's waits allow (None:
        # two or more; design.md 7, "Sending rate").
        ("429 TooManyRequestsException, then accepted",
         once(err(429, "TooManyRequestsException", rate)), 0, 2, 2, 1, 10,
         r"attempt 1 via 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ throttled at "
         r"HTTP response: 429 TooManyRequestsException: Maximum sending "
         r"rate", {}),
        ("429 every time", always(err(429, "TooManyRequestsException",
                                      rate)), 75, None, None, 0, 3.5,
         nsent + r"429 TooManyRequestsException: Maximum sending rate "
         r"exceeded.*set max_send_rate", {"retry_deadline": 3}),
        ("Throttling in the __type of the body, then accepted",
         once(err(400, "Throttling", rate, type_in="body")), 0, 2, 2, 1, 10,
         r"throttled at HTTP response: 400 Throttling: Maximum sending rate",
         {}),
        ("ThrottlingException as com.amazon.coral.service#, every time",
         always(err(400, "ThrottlingException", rate, type_in="body_ns")),
         75, None, None, 0, 3.5, nsent + r"400 ThrottlingException",
         {"retry_deadline": 3}),
        ("Daily message quota exceeded (LimitExceededException)",
         always(err(400, "LimitExceededException",
                    "Daily message quota exceeded.")), 75, 1, 1, 0, 5,
         nsent + r"400 LimitExceededException: Daily message quota "
         r"exceeded.*24-hour sending quota", {}),
        ("Daily message quota exceeded as a throttling type",
         always(err(429, "TooManyRequestsException",
                    "Daily message quota exceeded.")), 75, 1, 1, 0, 5,
         nsent + r"429 TooManyRequestsException: Daily message quota "
         r"exceeded.*24-hour", {}),
        ("500 InternalFailure, then accepted",
         once(err(500, "InternalFailure", "Internal error")), 0, 2, 2, 1, 10,
         r"failed at HTTP response: 500 InternalFailure", {}),
        ("503 ServiceUnavailable, then accepted",
         once(err(503, "ServiceUnavailable", "Service unavailable")), 0, 2,
         2, 1, 10, r"failed at HTTP response: 503 ServiceUnavailable", {}),
        ("500 every time", always(err(500, "InternalFailure", "oops")), 75,
         4, 4, 0, 10, nsent + r"500 InternalFailure", {}),
        ("MessageRejected: not verified",
         always(err(400, "MessageRejected", NOT_VERIFIED)), 69, 1, 1, 0, 5,
         nsent + r"400 MessageRejected: Email address is not verified.*"
         r"verify the identity in SES", {}),
        ("MessageRejected: another reason",
         always(err(400, "MessageRejected", "Message too long.")), 69, 1, 1,
         0, 5, nsent + r"400 MessageRejected: Message too long\.$", {}),
        ("AccountSuspendedException",
         always(err(400, "AccountSuspendedException", "Account suspended.")),
         69, 1, 1, 0, 5, nsent + r"400 AccountSuspendedException: Account "
         r"suspended.*suspended sending", {}),
        ("SendingPausedException (the simulator's own, --sending-paused)",
         None, 69, 1, 1, 0, 5, nsent + r"400 SendingPausedException: "
         r"Sending is paused.*resume it", {}, {"sim": "paused"}),
        ("MailFromDomainNotVerifiedException",
         always(err(400, "MailFromDomainNotVerifiedException",
                    "MAIL FROM domain not verified")), 69, 1, 1, 0, 5,
         nsent + r"400 MailFromDomainNotVerifiedException: .*verify the "
         r"identity",
         {}),
        ("BadRequestException", always(err(400, "BadRequestException",
                                           "Missing required header "
                                           "'From'.")), 65, 1, 1, 0, 5,
         nsent + r"400 BadRequestException: Missing required header", {}),
        ("NotFoundException", always(err(404, "NotFoundException",
                                         "Configuration set <x> does not "
                                         "exist.")), 78, 1, 1, 0, 5,
         nsent + r"404 NotFoundException.*check configuration_set", {}),
        ("InvalidSignatureException: the clock an hour off",
         {"clock_offset": 3600}, 77, 1, 1, 0, 5,
         nsent + r"403 InvalidSignatureException: Signature expired.*"
         r"this host's clock", {}),
        ("UnrecognizedClientException: an unknown key id", None, 77, 1, 1,
         0, 5, nsent + r"403 UnrecognizedClientException: The security "
         r"token included in the request is invalid.*check "
         r"aws_access_key_id", {"aws_access_key_id": "AKIAUNKNOWNKEY000000"}),
        ("a wrong secret: InvalidSignatureException, as SES v2 says", None,
         77, 1, 1, 0, 5, nsent + r"403 InvalidSignatureException: The "
         r"request signature we calculated does not match.*clock",
         {"aws_secret_access_key": "x" * 40}),
        ("SignatureDoesNotMatch (the v1 name)",
         always(err(403, "SignatureDoesNotMatch", "does not match")), 77, 1,
         1, 0, 5, nsent + r"403 SignatureDoesNotMatch", {}),
        ("InvalidClientTokenId", always(err(403, "InvalidClientTokenId",
                                            "invalid")), 77, 1, 1, 0, 5,
         nsent + r"403 InvalidClientTokenId.*aws_secret_access_key", {}),
        ("AccessDeniedException", always(err(403, "AccessDeniedException",
                                             DENIED)), 77, 1, 1, 0, 5,
         nsent + r"403 AccessDeniedException: .*allow ses:SendRawEmail", {}),
        ("ExpiredTokenException (the simulator's expired token)",
         {"token_expired": True}, 77, 1, 1, 0, 5,
         nsent + r"403 ExpiredTokenException: The security token included "
         r"in the request is expired.*renew aws_session_token",
         {"aws_session_token": TOKEN}, {"sim": "token"}),
        ("ExpiredToken (the STS name)", always(err(403, "ExpiredToken",
                                                   "expired")), 77, 1, 1, 0,
         5, nsent + r"403 ExpiredToken: expired", {}),
        ("an error answered early, the body not read, then accepted",
         once(err(503, "ServiceUnavailable", "busy", early=True)), 0, 2, 2,
         1, 10, r"failed at HTTP (request|response)", {}, {"big": True}),
        ("dropped before the body is read: retried, no duplicate warning",
         once({"action": "drop", "at": "head"}), 0, 2, 2, 1, 15,
         r"failed at HTTP request", {}, {"big": True, "nodup": True}),
        ("dropped after the whole body: a possible duplicate, not stored",
         once({"action": "drop"}), 0, 2, 2, 1, 10,
         r"lost after the final dot: SES may have accepted the message; "
         r"sending it again may duplicate it", {}),
        ("accepted, then dropped: sent again, stored twice",
         once({"action": "accept_drop"}), 0, 2, 2, 2, 10,
         r"SES may have accepted the message; sending it again may "
         r"duplicate it", {}),
        ("accepted, then dropped, retry_after_data no: 75, not sent again",
         once({"action": "accept_drop"}), 75, 1, 1, 1, 5,
         r"not sent again \(retry_after_data no\)",
         {"retry_after_data": False}),
        ("reset after the body, then accepted", once({"action": "reset"}), 0,
         2, 2, 1, 10, DUP, {}),
        ("reset before the body is read, then accepted",
         once({"action": "reset", "at": "head"}), 0, 2, 2, 1, 15,
         r"failed at HTTP request", {}, {"big": True, "nodup": True}),
        ("reset at the TLS handshake, then accepted",
         {"conns": [[{"action": "reset", "at": "tls"}]]}, 0, 1, 2, 1, 10,
         r"failed at TLS handshake", {}, {"nodup": True}),
        ("dropped on connect, then accepted",
         {"conns": [[{"action": "drop", "at": "connect"}]]}, 0, 1, 2, 1, 10,
         r"attempt 1 via .* failed", {}, {"nodup": True}),
        ("hang after the body: bounded by timeout, then accepted",
         once({"action": "hang", "seconds": HANG}), 0, 2, 2, 1, 12,
         r"SES may have accepted", {}),
        ("hang every time: 75 within the bounds",
         always({"action": "hang", "seconds": HANG}), 75, 4, 4, 0, 20,
         r"^ses-sendmail: message perhaps not sent: ", {}),
        ("a garbage answer: 76", always({"action": "garbage"}), 76, 1, 1, 0,
         5, nsent + r"127\.0\.0\.1\[127\.0\.0\.1\] sent a malformed HTTP "
         r"response: status line \"this is not http\"; check that "
         r"api_endpoint", {}),
        ("a chunked answer", always({"action": "chunked", "size": 5,
                                     "ext": True, "trailer": True}), 0, 1,
         1, 1, 5, r"status=sent \(200 MessageId", {}),
        ("an answer one octet at a time", always({"action": "split"}), 0, 1,
         1, 1, 5, r"status=sent \(200 MessageId", {}),
        ("an error answer, chunked",
         always(err(400, "BadRequestException", "chunked no",
                    type_in="both")), 65, 1, 1, 0, 5,
         nsent + r"400 BadRequestException: chunked no", {},
         {"chunk_error": True}),
        ("a 200 without a MessageId: protocol error, possible duplicate",
         always(err(200, "Odd", "no id here")), 76, 1, 1, 0, 5,
         r"without a MessageId", {}, {"dup": True}),
    ]
    out = []
    for row in rows:
        name, scen, rc, nreq, nconn, stored, within, regex, keys = row[:9]
        opts = row[9] if len(row) > 9 else {}
        out.append(dict(name=name, scen=scen or {}, rc=rc, nreq=nreq,
                        nconn=nconn, stored=stored, within=within,
                        err=regex, keys=keys, **opts))
    return out


BIG = HEAD + b"\n" + (b"b" * 76 + b"\n") * 110000         # 8.5 MB


def check_row(row, sims):
    sim = sims[row.get("sim", "main")]
    keys = dict(FAST, api_endpoint=api_at(sim))
    keys.update(row["keys"])
    conf = conf_for(sim, **keys)
    scen = dict(row["scen"])
    if row.get("chunk_error"):
        scen["default"] = scen["default"] + [{"action": "chunked",
                                              "size": 3}]
    sim.scenario(name="fault", **scen)
    msg = BIG if row.get("big") else b"Subject: fault table\n\nbody\n"
    r = run([RCPT], stdin=msg, conf=conf, timeout=60)
    sim.wait_closed()
    got = (r.rc, len(sim.requests()), sim.connections(),
           len(sim.messages()))
    want = (row["rc"], row["nreq"], row["nconn"], row["stored"])
    if row["nreq"] is None:         # as many as the deadline allows
        want = (row["rc"], max(2, got[1]), got[1], row["stored"])
    ok = (got == want and r.elapsed <= row["within"] and
          re.search(row["err"], r.err, re.M) is not None and
          last_line(r.err).startswith("ses-sendmail: "))
    if row.get("nodup"):
        ok = ok and DUP not in r.err
    if row.get("dup"):
        ok = ok and DUP in r.err
    t.ok(ok, "%s: exit %d, %s request%s, %s connection%s, %d stored, "
         "within %g s" % (row["name"], row["rc"], row["nreq"] or "2+",
                          "" if row["nreq"] == 1 else "s",
                          row["nconn"] or "as many",
                          "" if row["nconn"] == 1 else "s", row["stored"],
                          row["within"]),
         "got exit %s, %d requests, %d connections, %d stored, %.2f s\n%s"
         % (got + (r.elapsed, r.err[-2000:])))


def part_faults(sim, tsim, tmp):
    table = fault_rows()
    t.diag("%d fault rows" % len(table))
    with ApiSim(tmp, sending_paused=True) as paused:
        sims = {"main": sim, "token": tsim, "paused": paused}
        for row in table:
            with t.case(row["name"]):
                check_row(row, sims)
        t.eq(paused.errors(), "",
             "faults: the paused simulator logged no error")
    return len(table)


# --- 4. -bs ------------------------------------------------------------------

def bs_session(sim, conf, n, pause=0.0, desc=""):
    """n messages in one -bs session, pause seconds after the first;
    (final codes, ids from the 250s, exit, stderr)."""
    s = BsSession(t.tmp, conf)
    s.reply()
    s.cmd("EHLO client.example")
    codes, ids = [], []
    for i in range(n):
        if i == 1:
            time.sleep(pause)
        subject = ("%s %d" % (desc, i)).encode()
        sent, code, text = s.message(
            [b"From: Alice <alice@example.com>", b"Subject: " + subject, b"",
             b"body"], rcpts=(RCPT,), sender=SENDER)
        if sent[-1] != 354:
            code = sent[-1]             # DATA refused: its code
        codes.append(code)
        m = re.match(r"250 Ok (\S+)$", text)
        ids.append(m.group(1) if m else text)
    rc = s.finish(quit=True)
    sim.wait_closed()
    return codes, ids, rc, s.errlog()


def part_bs(sim, tmp):
    conf = conf_for(sim)
    with t.case("-bs kept alive"):
        sim.scenario(name="bs")
        codes, ids, rc, errlog = bs_session(sim, conf, 4, desc="kept")
        msgs = sim.messages()
        t.eq((codes, rc), ([250] * 4, 0), "-bs: four messages, each 250, "
             "exit 0", errlog)
        t.eq((sim.connections(), [m["conn"] for m in msgs]), (1, [1] * 4),
             "-bs: one kept-alive HTTPS connection for the four")
        t.eq(ids, [m["id"] for m in msgs],
             "-bs: each 250 carries the MessageId SES gave")
        t.eq(re.findall(r"attempts=(\d+) delay=\S+ status=(\w+) \(200 "
                        r"MessageId", errlog), [("1", "sent")] * 4,
             "-bs: a summary line each, attempts=1")

    with t.case("-bs Connection: close"):
        sim.scenario(name="bs-close", requests=[[{"action": "close"}]])
        codes, ids, rc, errlog = bs_session(sim, conf, 2, desc="close")
        msgs = sim.messages()
        t.eq((codes, rc, [m["conn"] for m in msgs]), ([250, 250], 0, [1, 2]),
             "-bs: after a Connection: close answer the next message opens "
             "a new connection", errlog)
        t.ok(DUP not in errlog and "attempt 1 via" not in errlog and
             errlog.count("attempts=1 ") == 2,
             "-bs: Connection: close: no failed attempt, no warning", errlog)

    # A connection the simulator ends without a word: idle, or closed
    # right after an answer that announced keep-alive.  Finding it closed
    # costs no attempt, and the message may not be called a duplicate:
    # retry_delays none, so a lost attempt would be a lost message.
    with ApiSim(tmp, idle=1) as idle:
        for how, s, scen, pause in (
                ("idle 1 s", idle, {}, 2.0),
                ("a silent close after the answer", sim,
                 {"requests": [[{"action": "close", "announce": False}]]},
                 0.5)):
            with t.case("-bs kept connection closed: " + how):
                s.scenario(name="bs-idle", **scen)
                codes, ids, rc, errlog = bs_session(
                    s, conf_for(s, retry_delays="none"), 2, pause=pause,
                    desc="idle")
                msgs = s.messages()
                t.ok((codes, rc, len(msgs)) == ([250, 250], 0, 2),
                          "-bs, %s: both messages sent, exit 0" % how,
                          "%r\n%s" % ((codes, rc, len(msgs)), errlog))
                attempts = re.findall(r"attempts=(\d+) delay=\S+ "
                                      r"status=(\w+)", errlog)
                t.ok(attempts == [("1", "sent")] * 2,
                          "-bs, %s: the closed connection cost no attempt "
                          "(attempts=1)" % how, repr(attempts))
                t.ok(DUP not in errlog and "possible-duplicate" not in
                     errlog, "-bs, %s: no possible duplicate" % how, errlog)
                t.ok([m["conn"] for m in msgs] == [1, 2],
                          "-bs, %s: the second message on a new "
                          "connection" % how)
        t.eq(idle.errors(), "", "-bs: the idle simulator logged no error")


# --- 5. api_fallback -------------------------------------------------------

def silent_listener():
    """A listener whose queue is full: a connect to it times out."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    filler = socket.create_connection(s.getsockname(), timeout=2)
    return s, filler


def part_fallback(sim, smtp):
    def fconf(port, **keys):
        base = dict(host="127.0.0.1", port=port, tls="wrapper",
                    username=USER, password=None, aws_secret_access_key=SECRET,
                    api_endpoint=api_at(sim), timeout=2,
                    retry_delays="0.1 0.1 0.1")
        base.update(keys)
        return conf_for(smtp, **base)

    msg = HEAD + b"\nfallback\n"
    with t.case("fallback: SMTP reachable"):
        smtp.scenario()
        sim.scenario()
        r = run(["-i", RCPT], stdin=msg, conf=fconf(smtp.wrapper_port))
        t.eq((r.rc, len(smtp.messages()), len(sim.requests())), (0, 1, 0),
             "SMTP reachable: sent by SMTP with the password derived from "
             "the secret, no API call", r.err)
        t.ok("api_fallback" not in r.err and "250 Ok" in r.err,
             "SMTP reachable: no fallback warning", r.err)

    with t.case("fallback: SMTP refused"):
        port = closed_port()
        sim.scenario()
        r = run(["-i", RCPT], stdin=msg, conf=fconf(port))
        msgs = sim.messages()
        t.eq((r.rc, len(msgs), len(sim.requests())), (0, 1, 1),
             "SMTP refused: sent by the API, one request", r.err)
        t.ok(re.search(r"^ses-sendmail: no SMTP connection to 127\.0\.0\.1 "
                       r"\(.*refused.*\): sending through the SES API at "
                       r"https://127\.0\.0\.1:%d instead \(api_fallback\)$"
                       % sim.port, r.err, re.M),
             "SMTP refused: a warning line naming api_fallback", r.err)
        t.ok(re.search(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d attempts=1 "
                       r".*status=sent \(200 MessageId" % sim.port,
                       last_line(r.err)),
             "SMTP refused: the summary names the API relay, attempts=1",
             r.err)
        if msgs:
            t.eq((msgs[0]["from"], msgs[0]["to"], msgs[0]["key_id"]),
                 (SENDER, [RCPT], USER),
                 "SMTP refused: the envelope, signed with username as the "
                 "key id")

        sim.scenario()
        r = run(["-i", RCPT], stdin=msg, conf=fconf(port,
                                                    api_fallback=False))
        t.eq((r.rc, len(sim.requests())), (75, 0),
             "api_fallback no: exit 75, no API call", r.err)
        t.ok("api_fallback" not in r.err and
             re.search(r"^ses-sendmail: message not sent: .*refused",
                       last_line(r.err)),
             "api_fallback no: the SMTP failure on stderr", r.err)

    with t.case("fallback: SMTP silent"):
        lsock, filler = silent_listener()
        try:
            sim.scenario()
            r = run(["-i", RCPT], stdin=msg,
                    conf=fconf(lsock.getsockname()[1]), timeout=30)
        finally:
            lsock.close()
            filler.close()
        t.eq((r.rc, len(sim.messages())), (0, 1),
             "SMTP silent: sent by the API", r.err)
        t.ok("(api_fallback)" in r.err and r.elapsed < 10,
             "SMTP silent: the warning, within the timeout (%.1f s)" %
             r.elapsed, r.err)


# --- 6. the proxy ------------------------------------------------------------

def part_proxy(sim, tmp):
    msg = HEAD + b"\nproxied\n"
    with ConnectProxy(tmp) as proxy, \
            ApiSim(tmp, cert="wrong") as wrong:
        with t.case("proxy"):
            conf = conf_for(sim, proxy=proxy.url, **FAST)
            sim.scenario()
            r = run(["-i", RCPT], stdin=msg, conf=conf)
            msgs = sim.messages()
            t.eq((r.rc, len(msgs)), (0, 1), "proxy: sent", r.err)
            cs = proxy.connects()
            t.eq([(c["target"], c["status"]) for c in cs],
                 [("localhost:%d" % sim.port, 200)],
                 "proxy: one CONNECT to the API's host:port")
            if msgs:
                t.eq(msgs[0]["sni"], "localhost",
                     "proxy: TLS through the tunnel names the API host")
            t.ok(re.search(r"relay=localhost\[.*\]:%d .*status=sent" %
                           sim.port, last_line(r.err)),
                 "proxy: the summary line", r.err)

        with t.case("proxy: certificate"):
            wconf = conf_for(wrong, proxy=proxy.url, **FAST)
            wrong.scenario()
            r = run(["-i", RCPT], stdin=msg, conf=wconf)
            t.eq((r.rc, len(wrong.messages())), (69, 0),
                 "proxy: a certificate for another name: exit 69, nothing "
                 "sent", r.err)
            t.ok(re.search(r"certificate", last_line(r.err), re.I),
                 "proxy: the line says the certificate", r.err)

        with t.case("proxy 407"):
            proxy.answer(407)
            before = len(proxy.connects())
            sim.scenario()
            r = run(["-i", RCPT], stdin=msg, conf=conf)
            t.eq((r.rc, len(sim.requests())), (78, 0),
                 "proxy 407: exit 78, no request reached SES", r.err)
            t.eq(len(proxy.connects()) - before, 1,
                 "proxy 407: asked once, not retried")
            t.ok(re.search(r"^ses-sendmail: message not sent: proxy "
                           r"127\.0\.0\.1\[127\.0\.0\.1\] wants credentials "
                           r"for CONNECT localhost:%d: 407 Proxy "
                           r"Authentication Required$" % sim.port,
                           last_line(r.err)),
                 "proxy 407: a clear line", r.err)

        with t.case("proxy 502"):
            proxy.answer(502)
            before = len(proxy.connects())
            r = run(["-i", RCPT], stdin=msg, conf=conf)
            t.eq((r.rc, len(sim.requests())), (75, 0),
                 "proxy 502: exit 75, no request reached SES", r.err)
            t.eq(len(proxy.connects()) - before, 4,
                 "proxy 502: retried (four CONNECTs)")
            t.ok(re.search(r"^ses-sendmail: message not sent: proxy "
                           r"127\.0\.0\.1\[127\.0\.0\.1\] could not reach "
                           r"localhost:%d: 502 Bad Gateway; " % sim.port,
                           last_line(r.err)) and r.elapsed < 10,
                 "proxy 502: the line names the proxy's 502", r.err)
            proxy.answer(None)
        t.eq(proxy.errors() + wrong.errors(), "",
             "proxy: the proxy logged no error")


# --- 7. chaos ----------------------------------------------------------------

SENDS = 300
PARALLEL = 4
SEED = 20261204


def chaos_faults(rng, n):
    """Per-request and per-connection faults, a seeded mix."""
    menu = [
        [err(429, "TooManyRequestsException", "Maximum sending rate "
             "exceeded.")],
        [err(500, "InternalFailure", "x")],
        [err(503, "ServiceUnavailable", "busy")],
        [err(400, "Throttling", "Maximum sending rate exceeded.",
             type_in="body")],
        [{"action": "drop"}],
        [{"action": "drop", "at": "head"}],
        [{"action": "accept_drop"}],
        [{"action": "reset"}],
        [{"action": "delay", "ms": 100}],
        [{"action": "chunked", "size": 9}],
        [{"action": "close"}],
        [{"action": "close", "announce": False}],
        [{"action": "split", "bytes": 7}],
        [{"action": "hang", "seconds": 4}],
    ]
    weights = [4, 3, 3, 2, 3, 2, 3, 3, 2, 2, 2, 2, 2, 1]
    reqs = []
    for _ in range(n):
        if rng.random() < 0.35:
            reqs.append(rng.choices(menu, weights)[0])
        else:
            reqs.append([])
    conn_menu = [[{"action": "drop", "at": "connect"}],
                 [{"action": "reset", "at": "tls"}],
                 [{"action": "drop", "at": "tls"}]]
    conns = [rng.choice(conn_menu) if rng.random() < 0.1 else []
             for _ in range(n)]
    return reqs, conns


def part_chaos(sim):
    rng = random.Random(SEED)
    reqs, conns = chaos_faults(rng, SENDS * 3)
    conf = conf_for(sim, retry_delays="0.05 0.05 0.05", retry_deadline=30,
                    timeout=2, api_endpoint=api_at(sim))
    sim.scenario(name="chaos", requests=reqs, conns=conns)

    def send(n):
        msg = ("Subject: chaos %d\nX-Chaos-Id: %d\n\nmessage %d\n"
               % (n, n, n)).encode()
        return n, run(["chaos%d@example.net" % n], stdin=msg, conf=conf,
                      timeout=60)

    start = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for n, r in pool.map(send, range(SENDS)):
            results[n] = r
    took = time.monotonic() - start
    sim.wait_closed(timeout=10)
    stored = collections.Counter()
    for m in sim.messages():
        found = re.search(rb"X-Chaos-Id: (\d+)", m["raw"])
        stored[int(found.group(1)) if found else -1] += 1
    faults = collections.Counter(e.get("action") for e in
                                 sim.events("fault"))
    exits = collections.Counter(r.rc for r in results.values())
    dups = {n for n, r in results.items() if DUP in r.err}
    t.diag("chaos: %d sends in %.1f s; exits %s; %d requests, %d "
           "connections, %d stored; faults %s; %d possible duplicates "
           "announced, %d stored twice" % (
               SENDS, took, dict(exits), len(sim.requests()),
               sim.connections(), sum(stored.values()),
               dict(faults), len(dups),
               sum(1 for c in stored.values() if c > 1)))
    t.eq(len(results), SENDS, "chaos: every send ended")
    t.ok(sum(faults.values()) >= SENDS // 5,
         "chaos: faults were injected (%d)" % sum(faults.values()))
    t.ok(set(exits) <= {0, 75}, "chaos: every exit is 0 or 75",
         repr(exits))
    lost = [n for n, r in results.items() if r.rc == 0 and not stored[n]]
    t.ok(not lost, "chaos: every exit 0 has its message stored",
         repr(lost[:20]))
    failed = [n for n, r in results.items() if r.rc == 75]
    t.ok(all(re.search(r"^ses-sendmail: message (perhaps )?not sent: ",
                       results[n].err, re.M) for n in failed),
         "chaos: every exit 75 says so on stderr (%d)" % len(failed))
    unexplained = [n for n in stored if n < 0 or
                   (results[n].rc != 0 and n not in dups)]
    t.ok(not unexplained, "chaos: every stored message had exit 0 or an "
         "announced possible duplicate", repr(unexplained[:20]))
    twice = [n for n, c in stored.items() if c > 1 and n not in dups]
    t.ok(not twice, "chaos: nothing stored twice without an announced "
         "possible duplicate", repr(twice[:20]))
    t.ok(took < 90, "chaos: done in %.1f s" % took)


# --- main --------------------------------------------------------------------

def main():
    parts = sys.argv[1:] or list(PARTS)
    for p in parts:
        if p not in PARTS:
            sys.exit("unknown part %r: %s" % (p, " ".join(PARTS)))

    def counted(name, fn, *args):
        n0 = t.n
        start = time.monotonic()
        with t.case(name):
            fn(*args)
        counts[name] = t.n - n0
        t.diag("part %s: %d checks, %.1f s" % (name, counts[name],
                                               time.monotonic() - start))

    with ApiSim(t.tmp, config_sets="cs1") as sim, \
            ApiSim(t.tmp, session_token=TOKEN) as tsim:
        if "sends" in parts:
            counted("sends", part_sends, sim, tsim)
        if "same" in parts or "fallback" in parts:
            with Sim(t.tmp) as smtp:
                if "same" in parts:
                    counted("same", part_same, sim, smtp)
                if "fallback" in parts:
                    counted("fallback", part_fallback, sim, smtp)
                t.eq(smtp.errors(), "", "the SMTP simulator logged no error")
        if "faults" in parts:
            counted("faults", part_faults, sim, tsim, t.tmp)
        if "bs" in parts:
            counted("bs", part_bs, sim, t.tmp)
        if "proxy" in parts:
            counted("proxy", part_proxy, sim, t.tmp)
        if "chaos" in parts:
            counted("chaos", part_chaos, sim)
        t.eq(sim.errors() + tsim.errors(), "",
             "the API simulators logged no error")
    t.diag("checks per part: %s" % ", ".join(
        "%s %d" % kv for kv in counts.items()))
    t.done()


if __name__ == "__main__":
    main()
