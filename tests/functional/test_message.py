#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the message and its addresses (design.md sections 4 and 5):
line ends, dot-stuffing and the lone-dot rule, refusals before connecting,
long-line folding, the fields added, removed and never added, -t, the
envelope sender, local recipients, and From:/Sender: rewriting.

Each send is compared byte for byte with the wire form the simulator
stored, only the values of the generated Date: and Message-ID: replaced;
each refusal checks the exit code, the stderr line, and that no connection
was made."""

import pwd
import os
import re
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (SECRET, USER, ApiSim, Sim, Tap, norm,  # noqa: E402
                     run, wire, write_conf)

SENDER = "sender@example.com"           # `from` in write_conf's default
RCPT = "rcpt@example.net"

DATE = b"Date: DATE"
MSGID = b"Message-ID: <ID@example.com>"     # on SENDER's domain


def caller_from(addr):
    """The From: plan.c generates without -F: the caller's GECOS name (up
    to the first comma) and addr; None when that name would need quoting
    or encoding (the test then checks only the form)."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0]
    except KeyError:
        name = ""
    if not name:
        return b"From: " + addr
    if re.fullmatch(r"[A-Za-z0-9 _'+-]+", name):
        return b"From: %s <%s>" % (name.encode(), addr)
    return None


def crlf(text):
    """LF text as it goes on the wire (for messages with no dot lines)."""
    return text.replace(b"\n", b"\r\n")


t = Tap(deadline=150)
sim = Sim(t.tmp)
# Every case goes over the SES API too: the message SES stores and the
# envelope must be the same whichever transport carried them.
api = ApiSim(t.tmp, config_sets="cs-test")
_API_CONFS = {}
SAME = [0]


def api_conf(conf):
    """conf with the SES API as its transport, the rest unchanged."""
    if conf not in _API_CONFS:
        lines = [ln for ln in Path(conf).read_text().splitlines()
                 if not ln.startswith(("password ", "username "))]
        lines += ["transport api", "api_endpoint " + api.url,
                  "aws_access_key_id " + USER,
                  "aws_secret_access_key " + SECRET]
        path = Path(str(conf) + ".api")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        _API_CONFS[conf] = path
    return _API_CONFS[conf]


def same_over_api(desc, args, stdin, conf, m):
    """The case again over the API: what SES stores and the envelope are
    those SMTP gave it (only the generated Date:/Message-ID: values
    differ)."""
    api.scenario()
    r = run(args, stdin=stdin, conf=api_conf(conf))
    got = api.messages()
    ok = r.rc == 0 and len(got) == 1 and \
        norm(got[0]["raw"]) == norm(m["eml"]) and \
        (got[0]["from"], sorted(got[0]["rcpt"])) == \
        (m["mail_from"], sorted(m["rcpt"]))
    SAME[0] += ok
    t.ok(ok, "%s: the same message and envelope over the SES API" % desc,
         "%r\n%r\n%r" % (r, got[0]["raw"][:400] if got else None,
                          m["eml"][:400]))
CONF = write_conf(t.tmp / "ses.conf", sim)
CONF_NOFROM = write_conf(t.tmp / "nofrom.conf", sim, **{"from": None})
CONF_ADMIN = write_conf(t.tmp / "admin.conf", sim,
                        admin_address="admin@example.com")
CONF_SMALL = write_conf(t.tmp / "small.conf", sim, max_message_size=2000)
CONF_CS = write_conf(t.tmp / "cs.conf", sim, configuration_set="cs-test")
CONF_VER = write_conf(t.tmp / "verified.conf", sim,
                      verified_domains=["example.com", "ok@example.org"])


def send(desc, args, stdin, raw=None, mail_from=SENDER, rcpt=(RCPT,),
         params=(), conf=CONF, eml=None, err=None):
    """One message through the binary: exit 0, exactly one message stored,
    its envelope, and (when given) its exact wire form, its dot-unstuffed
    form, and a stderr line matching err."""
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf)
    t.eq(r.rc, 0, "%s: exit 0" % desc, r.err)
    msgs = sim.messages()
    if not t.eq(len(msgs), 1, "%s: one message stored" % desc, r.err):
        return r, None
    m = msgs[0]
    t.eq((m["mail_from"], sorted(m["rcpt"]), m["mail_params"]),
         (mail_from, sorted(rcpt), list(params)),
         "%s: envelope (MAIL FROM, RCPT TO, MAIL parameters)" % desc)
    if raw is not None:
        t.eq(norm(m["raw"]), raw, "%s: the wire form, byte for byte" % desc)
    if eml is not None:
        t.eq(norm(m["eml"]), eml, "%s: the message, unstuffed" % desc)
    if err is not None:
        t.ok(re.search(err, r.err, re.M), "%s: stderr says /%s/" %
             (desc, err), r.err)
    same_over_api(desc, args, stdin, conf, m)
    return r, m


def refuse(desc, args, stdin, rc, pattern, conf=CONF):
    """Refused before connecting: exit rc, one stderr line matching
    pattern, no connection, nothing stored."""
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf)
    t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r.err)
    lines = r.err.splitlines()
    t.ok(len(lines) == 1 and lines[0].startswith("ses-sendmail: ") and
         re.search(pattern, lines[0]), "%s: one stderr line /%s/" %
         (desc, pattern), r.err)
    t.eq((sim.connections(), len(sim.messages())), (0, 0),
         "%s: no connection, nothing sent" % desc)
    api.scenario()
    ra = run(args, stdin=stdin, conf=api_conf(conf))
    t.ok(ra.rc == rc and api.connections() == 0,
         "%s: refused the same way over the SES API" % desc, ra.err)
    return r


HEAD = b"From: Alice <alice@example.com>\nSubject: test\n"
HEAD_WIRE = (b"From: Alice <alice@example.com>", b"Subject: test")
ADDED = (DATE, MSGID)


def body_wire(*body):
    """HEAD with the generated fields, the empty line, then body lines."""
    return wire(*HEAD_WIRE, *ADDED, b"", *body)


# --- line ends --------------------------------------------------------------

send("LF in, CRLF out", ["-i", RCPT], HEAD + b"\nline 1\n\nline 3\n",
     raw=body_wire(b"line 1", b"", b"line 3"))
send("CRLF in, CRLF out", ["-i", RCPT],
     crlf(HEAD) + b"\r\nline 1\r\n\r\nline 3\r\n",
     raw=body_wire(b"line 1", b"", b"line 3"))
send("CR CR LF in, CRLF out", ["-i", RCPT],
     HEAD.replace(b"\n", b"\r\r\n") + b"\r\r\nline 1\r\r\n\r\r\nline 3\r\r\n",
     raw=body_wire(b"line 1", b"", b"line 3"))
send("mixed line ends", ["-i", RCPT],
     HEAD + b"\r\nline 1\r\r\nline 2\nline 3\r\n",
     raw=body_wire(b"line 1", b"line 2", b"line 3"))
for args in (["-i"], []):
    send("missing final newline added (%s)" % (" ".join(args) or "no -i"),
         args + [RCPT], HEAD + b"\nline 1\nno newline",
         raw=body_wire(b"line 1", b"no newline"))
send("missing final newline, CRLF before it", ["-i", RCPT],
     crlf(HEAD) + b"\r\nlast\r", raw=body_wire(b"last"))
send("header only, no empty line: one is written", ["-i", RCPT], HEAD,
     raw=body_wire())

# --- dots -------------------------------------------------------------------

DOTTY = b"\n.hidden\n.\n..x\n...\nend\n"
send("-i: dot-stuffed on the wire, intact unstuffed", ["-i", RCPT],
     HEAD + DOTTY,
     raw=body_wire(b"..hidden", b"..", b"...x", b"....", b"end"),
     eml=body_wire(b".hidden", b".", b"..x", b"...", b"end"))
send("no -i: .hidden is stuffed, kept", [RCPT], HEAD + b"\n.hidden\nend\n",
     raw=body_wire(b"..hidden", b"end"), eml=body_wire(b".hidden", b"end"))
send("no -i: a leading .. loses a dot", [RCPT],
     HEAD + b"\n..x\n..\n...\nend\n",
     raw=body_wire(b"..x", b"..", b"...", b"end"),
     eml=body_wire(b".x", b".", b"..", b"end"))
send("no -i: a lone dot ends the message, the rest ignored", [RCPT],
     HEAD + b"\nkept\n.\nSubject: ignored\n\nignored too\n",
     raw=body_wire(b"kept"))
send("no -i: a lone dot with CRLF ends it too", [RCPT],
     crlf(HEAD) + b"\r\nkept\r\n.\r\nignored\r\n", raw=body_wire(b"kept"))
send("no -i: a lone dot in the header block ends it there", [RCPT],
     HEAD + b".\nX-Ignored: yes\n\nbody\n", raw=body_wire())
send("no -i: '. ' and '.x' are not lone dots", [RCPT],
     HEAD + b"\n. \n.x\nend\n",
     raw=body_wire(b".. ", b"..x", b"end"))

# --- refused before connecting ----------------------------------------------

refuse("a NUL byte", ["-i", RCPT], HEAD + b"\nbefore\x00after\n", 65,
       r"NUL byte")
refuse("a NUL byte in the header", ["-i", RCPT],
       b"Subject: a\x00b\n\nbody\n", 65, r"NUL byte")
refuse("over max_message_size in the spool", ["-i", RCPT],
       HEAD + b"\n" + b"x" * 3000 + b"\n", 65, r"max_message_size",
       conf=CONF_SMALL)
# 1 900 octets with LF, 2 850 with CRLF: the limit is on the wire form.
refuse("over max_message_size once LF becomes CRLF", ["-i", RCPT],
       b"\n" + b"a\n" * 950, 65, r"max_message_size", conf=CONF_SMALL)
send("under max_message_size: sent", ["-i", RCPT],
     HEAD + b"\n" + (b"x" * 900 + b"\n") * 2, conf=CONF_SMALL,
     raw=body_wire(b"x" * 900, b"x" * 900))

# max_message_size to the octet, on the wire form (CRLF, dot-stuffing, the
# fields added): a message of exactly that many octets goes, one more is
# refused before connecting.  Fields removed before sending (Bcc:) do not
# count, however long: the same message with a 3000-octet Bcc: has the
# same wire size and still goes.
def sized(pad, extra=b""):
    return HEAD + extra + b"\n.dot\n" + b"p" * pad + b"\n"


_, probe = send("max_message_size probe", ["-i", RCPT], sized(100))
WIRE = probe["size"] if probe else 0
CONF_WIRE = write_conf(t.tmp / "wire.conf", sim, max_message_size=WIRE)
send("exactly max_message_size (%d) on the wire: sent" % WIRE, ["-i", RCPT],
     sized(100), conf=CONF_WIRE,
     raw=body_wire(b"..dot", b"p" * 100))
refuse("one octet over max_message_size on the wire", ["-i", RCPT],
       sized(101), 65, r"%d octets, more than max_message_size" % (WIRE + 1),
       conf=CONF_WIRE)
BCC = b"Bcc: " + b", ".join(b"hidden%04d@example.org" % i
                            for i in range(120)) + b"\n"
send("max_message_size: a long Bcc: removed does not count", ["-i", RCPT],
     sized(100, BCC), conf=CONF_WIRE, raw=body_wire(b"..dot", b"p" * 100))
refuse("no recipients", ["-i"], HEAD + b"\nbody\n", 65, r"no recipients")
refuse("no recipients with -t and no To:", ["-t"], HEAD + b"\nbody\n", 65,
       r"no recipients")
refuse("-t with only an empty group", ["-t"],
       b"To: undisclosed-recipients:;\n" + HEAD + b"\nbody\n", 65,
       r"no recipients")
for bad in ("a@@example.net", "two words@example.net", "a@-bad-.example",
            "a@example..net", "<a@example.net"):
    refuse("a malformed recipient %r" % bad, ["-i", bad], HEAD + b"\nb\n",
           65, r"bad recipient address")
refuse("a malformed recipient in To: (-t)", ["-t"],
       b"To: a@@example.net\n" + HEAD + b"\nb\n", 65,
       r"bad recipient address in the header")
refuse("a non-ASCII local part", ["-i", "j\u00f6rg@example.net"],
       HEAD + b"\nb\n", 65, r"non-ASCII local part")
refuse("a non-ASCII local part in To: (-t)", ["-t"],
       "To: J\u00f6rg <j\u00f6rg@example.net>\n".encode() + HEAD + b"\nb\n",
       65, r"non-ASCII local part")
for name in (b"Subject", b"From", b"Message-ID", b"Date", b"Content-Type",
             b"MIME-Version", b"Reply-To"):
    refuse("two %s: fields" % name.decode(), ["-i", RCPT],
           b"From: a@example.com\n%s: one\nX-Between: x\n%s: two\n\nb\n"
           % (name, name.upper()) if name != b"From" else
           b"From: a@example.com\nFROM: b@example.com\n\nb\n", 65,
           r"duplicate header '%s'" % name.decode())
send("two To:, two Received:, two X- fields: allowed", ["-i", RCPT],
     HEAD + b"To: a@example.net\nTo: b@example.net\nReceived: one\n"
     b"Received: two\nX-A: 1\nX-A: 2\n\nb\n",
     raw=wire(*HEAD_WIRE, b"To: a@example.net", b"To: b@example.net",
              b"Received: one", b"Received: two", b"X-A: 1", b"X-A: 2",
              *ADDED, b"", b"b"))
# Removed always (design.md 4): two of them never reach SES, so they are no
# duplicate to refuse.
send("two Return-Path: fields are removed, not refused", ["-i", RCPT],
     b"Return-Path: <a@example.com>\nReturn-Path: <b@example.com>\n" +
     HEAD + b"\nb\n", raw=body_wire(b"b"))
send("two Content-Length: fields are removed, not refused", ["-i", RCPT],
     HEAD + b"Content-Length: 1\nContent-Length: 2\n\nb\n",
     raw=body_wire(b"b"))

# --- addresses on the wire --------------------------------------------------

send("a non-ASCII domain goes as punycode", ["-i", "user@b\u00fccher.example"],
     HEAD + b"\nb\n", rcpt=("user@xn--bcher-kva.example",),
     raw=body_wire(b"b"))
send("a non-ASCII domain in To: (-t): punycode, field as written",
     ["-t"], "To: user@M\u00fcnchen.example\n".encode() + HEAD + b"\nb\n",
     rcpt=("user@xn--mnchen-3ya.example",), params=("BODY=8BITMIME",),
     raw=wire("To: user@M\u00fcnchen.example".encode(), *HEAD_WIRE, *ADDED,
              b"", b"b"))
send("an ASCII domain keeps its case", ["-i", "User@Example.NET"],
     HEAD + b"\nb\n", rcpt=("User@Example.NET",), raw=body_wire(b"b"))

# --- long lines -------------------------------------------------------------

LONG = bytes(range(0x21, 0x7f)) * 32          # 3 008 printable octets
LONG_HDR = b"X-Long: " + b"y" * 2000
sim.scenario()
r = run(["-i", RCPT], stdin=HEAD + LONG_HDR + b"\n\nshort\n" + LONG +
        b"\nafter\n", conf=CONF)
t.eq(r.rc, 0, "3000-octet lines: sent", r.err)
t.ok(re.search(r"^ses-sendmail: lines longer than 998 octets folded",
               r.err, re.M), "3000-octet lines: a warning on stderr", r.err)
msgs = sim.messages()
if t.eq(len(msgs), 1, "3000-octet lines: one message stored"):
    raw = msgs[0]["raw"]
    lines = raw.split(b"\r\n")
    t.ok(max(len(ln) for ln in lines) <= 998 and b"\n" not in
         raw.replace(b"\r\n", b""), "3000-octet lines: every line on the "
         "wire at most 998 octets + CRLF", max(len(ln) for ln in lines))
    t.ok(raw.count(b"\r\n ") >= 4, "3000-octet lines: both were folded")
    t.eq(norm(raw).replace(b"\r\n ", b""),
         wire(*HEAD_WIRE, LONG_HDR, *ADDED, b"", b"short", LONG, b"after"),
         "3000-octet lines: folded with CRLF SP only, nothing else changed")
send("a 998-octet line is not folded", ["-i", RCPT],
     HEAD + b"\n" + b"z" * 998 + b"\n", raw=body_wire(b"z" * 998))

# --- fields added -----------------------------------------------------------

NOFROM = b"Subject: no from\n\nbody\n"


def nofrom_wire(from_line, domain=b"example.com"):
    return wire(b"Subject: no from", from_line, DATE,
                b"Message-ID: <ID@" + domain + b">", b"", b"body")


send("From: added from -f, with -F", ["-f", "user@x.example", "-F",
                                      "Cron Daemon", RCPT], NOFROM,
     mail_from="user@x.example",
     raw=nofrom_wire(b"From: Cron Daemon <user@x.example>", b"x.example"))
send("From: added from `from`, with -F", ["-F", "Cron Daemon", RCPT], NOFROM,
     raw=nofrom_wire(b"From: Cron Daemon <sender@example.com>"))
send("From: added, -F with specials quoted", ["-F", 'Doe, "J" \\x', RCPT],
     NOFROM, raw=nofrom_wire(b'From: "Doe, \\"J\\" \\\\x" '
                             b'<sender@example.com>'))
send("From: added, -F non-ASCII as an encoded word",
     ["-F", "J\u00fcrgen", RCPT], NOFROM,
     raw=nofrom_wire(b"From: =?UTF-8?B?SsO8cmdlbg==?= <sender@example.com>"))

# Without -F: the caller's name (GECOS) or the bare address.
sim.scenario()
r = run(["-f", "user@x.example", RCPT], stdin=NOFROM, conf=CONF)
t.eq(r.rc, 0, "From: added with the caller's name: exit 0", r.err)
msgs = sim.messages()
if t.eq(len(msgs), 1, "From: added with the caller's name: stored"):
    raw = norm(msgs[0]["raw"])
    got = re.search(rb"^From: ([^\r\n]*)\r$", raw, re.M)
    t.ok(got and re.fullmatch(rb"(?:[^<>\r\n]+ )?<user@x\.example>|"
                              rb"user@x\.example", got.group(1)),
         "From: added with the caller's name: a display name or the bare "
         "address", raw)
    want = caller_from(b"user@x.example")
    if want is not None:
        t.eq(b"From: " + got.group(1) if got else None, want,
             "From: added with the caller's name: %r" % want)
    t.eq(raw, nofrom_wire(b"From: " + (got.group(1) if got else b"?"),
                          b"x.example"),
         "From: added with the caller's name: the rest byte for byte")

DATED = (b"From: Alice <alice@example.com>\nDate: 1 Jan 2024 00:00 -0000\n"
         b"Message-ID: <given@example.org>\nSubject: dated\n\nbody\n")
send("Date: and Message-ID: given: nothing added", ["-i", RCPT], DATED,
     raw=crlf(DATED))
send("Date: given, Message-ID: added", ["-i", RCPT],
     b"Date: 1 Jan 2024 00:00 -0000\nFrom: a@example.com\n\nbody\n",
     raw=wire(b"Date: 1 Jan 2024 00:00 -0000", b"From: a@example.com",
              MSGID, b"", b"body"))
send("Message-ID: given (lower case), Date: added", ["-i", RCPT],
     b"message-id: <x@y>\nFrom: a@example.com\n\nbody\n",
     raw=wire(b"message-id: <x@y>", b"From: a@example.com", DATE, b"",
              b"body"))
send("X-SES-CONFIGURATION-SET: added when configured", ["-i", RCPT],
     HEAD + b"\nbody\n", conf=CONF_CS,
     raw=body_wire(b"body").replace(
         MSGID + b"\r\n", MSGID + b"\r\nX-SES-CONFIGURATION-SET: cs-test\r\n"))
send("X-SES-CONFIGURATION-SET: not added twice", ["-i", RCPT],
     HEAD + b"X-SES-Configuration-Set: mine\n\nbody\n", conf=CONF_CS,
     raw=wire(*HEAD_WIRE, b"X-SES-Configuration-Set: mine", *ADDED, b"",
              b"body"))
send("X-SES-CONFIGURATION-SET: not added without configuration_set",
     ["-i", RCPT], HEAD + b"\nbody\n", raw=body_wire(b"body"))
r, m = send("no To: and no Received: added (-t from Bcc: only)", ["-t"],
            b"Bcc: " + RCPT.encode() + b"\n" + HEAD + b"\nbody\n",
            raw=body_wire(b"body"))
t.ok(m and not re.search(rb"^(To|Received):", m["raw"], re.M | re.I),
     "no To: and no Received: in the message")

# --- fields removed ---------------------------------------------------------

send("Bcc:, Resent-Bcc:, Return-Path:, Content-Length: removed",
     ["-i", RCPT],
     b"Return-Path: <bounce@example.com>\nFrom: Alice <alice@example.com>\n"
     b"Bcc: hidden@example.net,\n other@example.net\n"
     b"Subject: test\nresent-bcc: rb@example.net\n"
     b"Content-Length: 12\n\t34\n  56\nCONTENT-LENGTH: 7\nBCC:\n"
     b"X-After: kept\n\nbody\nBcc: a body line stays\n",
     raw=wire(*HEAD_WIRE, b"X-After: kept", *ADDED, b"", b"body",
              b"Bcc: a body line stays"))
MBOX = b"From alice@example.com Mon Jan  1 00:00:00 2024\n"
send("a leading mbox 'From ' line removed", ["-i", RCPT],
     MBOX + HEAD + b"\nFrom here on, body\n",
     raw=body_wire(b"From here on, body"))
send("a leading mbox 'From ' line with CRLF removed", ["-i", RCPT],
     crlf(MBOX + HEAD) + b"\r\nbody\r\n", raw=body_wire(b"body"))
send("'From:' first is a field, not an mbox line", ["-i", RCPT],
     HEAD + b"\nbody\n", raw=body_wire(b"body"))
send("'From ' only when it starts the message", ["-i", RCPT],
     b"\nFrom a@b Mon Jan  1 00:00:00 2024\n",
     raw=wire(caller_from(b"sender@example.com"), *ADDED, b"",
              b"From a@b Mon Jan  1 00:00:00 2024")
     if caller_from(b"sender@example.com") else None)

# --- nothing else changed ---------------------------------------------------

UNUSUAL = (b"Received: from relay by host; 1 Jan 2024 00:00:00 -0000\n"
           b"From: \"Doe, Jane (HQ)\" <jane@example.com> (comment)\n"
           b"To: undisclosed-recipients:;\n"
           b"Date: Mon, 01 Jan 2024 00:00:00 +0000 (UTC)\n"
           b"Message-ID: <a.b+c@example.com>\n"
           b"X-Empty:\n"
           b"X-NoSpace:value\n"
           b"X-Tab:\tvalue\n"
           b"X-Trailing: value   \t\n"
           b"X-Obsolete  : blank before the colon\n"
           b"x-lower-case: v\n"
           b"X-Odd_Name.1!#$%&'*+/=?^`{|}~: v\n"
           b"X-Folded: one\n\ttwo\n    three\n"
           b"Subject: =?UTF-8?Q?caf=C3=A9?= \"quotes\" (not a comment\n"
           b"Comments: (nested (comment)) and \\backslash\n"
           b"MIME-Version: 1.0\n"
           b"Content-Type: multipart/alternative;\n"
           b" boundary=\"=_b\"\n"
           b"\n"
           b"preamble\n"
           b"--=_b\n"
           b"Content-Type: text/plain\n"
           b"\n"
           b"  leading blanks, trailing blanks  \n"
           b"\t\n"
           b"\n"
           b"From me, a line that starts with From\n"
           b"--=_b--\n"
           b"\n")
send("unusual but valid fields and body, byte for byte", ["-i", RCPT],
     UNUSUAL, raw=crlf(UNUSUAL))
send("no header block at all: only the added fields before it",
     ["-i", "-F", "Nobody", RCPT], b"just a body line\nand another\n",
     raw=wire(b"From: Nobody <sender@example.com>", *ADDED, b"",
              b"just a body line", b"and another"))

# --- -t ---------------------------------------------------------------------

T_MSG = (b"From: Alice <alice@example.com>\n"
         b"To: to1@x.example, \"Doe, John\" <john@x.example>,\n"
         b"\t(a comment, with a comma) to2@x.example (To Two)\n"
         b"Cc: team: a@x.example, b@x.example;, undisclosed-recipients:;\n"
         b"Subject: -t\n"
         b"CC: Carl <carl@x.example>\n"
         b"Bcc: hidden@x.example, \"Secret, Sam\" <sam@x.example>\n"
         b"\nbody\n")
T_WIRE = wire(b"From: Alice <alice@example.com>",
              b"To: to1@x.example, \"Doe, John\" <john@x.example>,",
              b"\t(a comment, with a comma) to2@x.example (To Two)",
              b"Cc: team: a@x.example, b@x.example;, undisclosed-recipients:;",
              b"Subject: -t", b"CC: Carl <carl@x.example>", *ADDED, b"",
              b"body")
T_RCPTS = ("to1@x.example", "john@x.example", "to2@x.example", "a@x.example",
           "b@x.example", "carl@x.example", "hidden@x.example",
           "sam@x.example")
send("-t: To, Cc, Bcc (groups, quoted commas, comments, folds); Bcc removed",
     ["-t"], T_MSG, rcpt=T_RCPTS, raw=T_WIRE)
send("-t: argv recipients added to the header ones", ["-t", "extra@y.example"],
     T_MSG, rcpt=T_RCPTS + ("extra@y.example",), raw=T_WIRE)
send("-t: duplicates sent once", ["-t", "to1@x.example", "TO1@x.example"],
     b"To: to1@x.example, to1@X.EXAMPLE\nCc: <to1@x.example>\n"
     b"Bcc: to1@x.example\n" + HEAD + b"\nbody\n",
     rcpt=("to1@x.example", "TO1@x.example"),
     raw=wire(b"To: to1@x.example, to1@X.EXAMPLE", b"Cc: <to1@x.example>",
              *HEAD_WIRE, *ADDED, b"", b"body"))
send("without -t, To:/Cc:/Bcc: are not recipients (Bcc: still removed)",
     [RCPT], T_MSG, raw=T_WIRE)
RESENT = (b"Resent-From: r@example.com\nResent-To: new@x.example\n"
          b"Resent-Cc: cc@x.example\nResent-Bcc: rb@x.example\n"
          b"From: Alice <alice@example.com>\nTo: old@x.example\n"
          b"Cc: oldcc@x.example\nBcc: oldbcc@x.example\nSubject: resent\n"
          b"\nbody\n")
send("-t: only Resent-To/Cc/Bcc when any exists; both Bccs removed",
     ["-t"], RESENT, rcpt=("new@x.example", "cc@x.example", "rb@x.example"),
     raw=wire(b"Resent-From: r@example.com", b"Resent-To: new@x.example",
              b"Resent-Cc: cc@x.example", b"From: Alice <alice@example.com>",
              b"To: old@x.example", b"Cc: oldcc@x.example",
              b"Subject: resent", *ADDED, b"", b"body"))
send("-t: a Resent-Bcc alone switches to the Resent- fields", ["-t"],
     b"Resent-Bcc: rb@x.example\nTo: old@x.example\n" + HEAD + b"\nbody\n",
     rcpt=("rb@x.example",),
     raw=wire(b"To: old@x.example", *HEAD_WIRE, *ADDED, b"", b"body"))

# --- the envelope sender ----------------------------------------------------

FROM_BOB = b"From: Bob <bob@other.example>\nSubject: s\n\nbody\n"
FROM_BOB_WIRE = wire(b"From: Bob <bob@other.example>", b"Subject: s", DATE,
                     b"Message-ID: <ID@%s>", b"", b"body")
send("-f wins over from and From:", ["-f", "f@f.example", RCPT], FROM_BOB,
     mail_from="f@f.example", raw=FROM_BOB_WIRE % b"f.example")
send("no -f: from wins over From:", [RCPT], FROM_BOB,
     raw=FROM_BOB_WIRE % b"example.com")
send("no -f, no from: the From: address", [RCPT], FROM_BOB,
     conf=CONF_NOFROM, mail_from="bob@other.example",
     raw=FROM_BOB_WIRE % b"other.example")
send("no -f, no from: the first From: mailbox, comments and all", [RCPT],
     b"From: (team) bob@other.example (Bob), carol@other.example\n\nb\n",
     conf=CONF_NOFROM, mail_from="bob@other.example",
     raw=wire(b"From: (team) bob@other.example (Bob), carol@other.example",
              DATE, b"Message-ID: <ID@other.example>", b"", b"b"))
for sender in ("root", "root@localhost", "www-data@" + socket.gethostname()):
    send("-f %s (local) replaced by from" % sender, ["-f", sender, RCPT],
         HEAD + b"\nbody\n", raw=body_wire(b"body"),
         err=r"envelope sender <%s> replaced by from <%s>" %
         (re.escape(sender), SENDER))
    refuse("-f %s without from: 78, set from" % sender, ["-f", sender, RCPT],
           HEAD + b"\nbody\n", 78, r"<%s>.*set from" % re.escape(sender),
           conf=CONF_NOFROM)
refuse("no -f, no from, From: root: 78, set from", [RCPT],
       b"From: root\n\nbody\n", 78, r"<root>.*set from", conf=CONF_NOFROM)
refuse("-f outside, no from, From: root@localhost: 78, set from",
       ["-f", "bob@other.example", RCPT],
       b"From: Cron Daemon <root@localhost>\n\nbody\n", 78,
       r"From: <root@localhost>.*set from", conf=CONF_NOFROM)
refuse("no -f, no from, no From:: the caller here: 78, set from", [RCPT],
       b"Subject: s\n\nbody\n", 78, r"set from", conf=CONF_NOFROM)

# --- local recipients -------------------------------------------------------

LOCALS = ["root", "root@localhost", "www-data@" + socket.gethostname()]
send("local recipients go to admin_address (once)", ["-i"] + LOCALS,
     HEAD + b"\nbody\n", conf=CONF_ADMIN, rcpt=("admin@example.com",),
     raw=body_wire(b"body"),
     err=r"local recipient <root> sent to admin_address <admin@example.com>")
send("local -t recipients go to admin_address, others kept", ["-t"],
     b"To: root, " + RCPT.encode() + b"\nCc: Postmaster <postmaster@"
     b"localhost>\n" + HEAD + b"\nbody\n", conf=CONF_ADMIN,
     rcpt=(RCPT, "admin@example.com"),
     raw=wire(b"To: root, " + RCPT.encode(),
              b"Cc: Postmaster <postmaster@localhost>", *HEAD_WIRE, *ADDED,
              b"", b"body"))
refuse("local recipients without admin_address: 67, named", ["-i", RCPT] +
       LOCALS, HEAD + b"\nbody\n", 67,
       r"local recipient root, root@localhost, www-data@%s refused" %
       re.escape(socket.gethostname()))
refuse("a local -t recipient without admin_address: 67", ["-t"],
       b"To: " + RCPT.encode() + b"\nCc: root@localhost\n" + HEAD +
       b"\nbody\n", 67, r"local recipient root@localhost refused")

# --- From: and Sender: rewriting --------------------------------------------

for desc, field, want in (
        ("a local From: rewritten, display name kept",
         b"From: Cron Daemon <root@localhost>",
         b"From: Cron Daemon <sender@example.com>"),
        ("a From: without domain rewritten, bare",
         b"From: root", b"From: sender@example.com"),
        ("a local From: with a comment: the comment becomes the name",
         b"From: root@localhost (Cron Daemon)",
         b"From: Cron Daemon <sender@example.com>"),
        ("a local From: with a quoted name",
         b"From: \"Daemon, Cron\" <root@" + socket.gethostname().encode() +
         b">", b"From: \"Daemon, Cron\" <sender@example.com>")):
    send(desc, ["-i", RCPT], field + b"\nSubject: s\n\nbody\n",
         raw=wire(want, b"Subject: s", *ADDED, b"", b"body"))
send("a local Sender: rewritten", ["-i", RCPT],
     HEAD + b"Sender: Web <www-data@localhost>\n\nbody\n",
     raw=wire(*HEAD_WIRE, b"Sender: Web <sender@example.com>", *ADDED, b"",
              b"body"))
send("without verified_domains, other From:/Sender: untouched", ["-i", RCPT],
     b"From: Bob <bob@other.example>\nSender: s@other.example\n\nbody\n",
     raw=wire(b"From: Bob <bob@other.example>", b"Sender: s@other.example",
              *ADDED, b"", b"body"))

send("verified_domains: a From: outside rewritten, Reply-To: added",
     ["-i", RCPT], b"From: Bob Smith <bob@other.example>\nSubject: s\n\nb\n",
     conf=CONF_VER,
     raw=wire(b"From: Bob Smith <sender@example.com>", b"Subject: s",
              b"Reply-To: bob@other.example", *ADDED, b"", b"b"))
send("verified_domains: a quoted display name kept", ["-i", RCPT],
     b"From: \"Smith, Bob\" <bob@other.example>\n\nb\n", conf=CONF_VER,
     raw=wire(b"From: \"Smith, Bob\" <sender@example.com>",
              b"Reply-To: bob@other.example", *ADDED, b"", b"b"))
send("verified_domains: no Reply-To: added when there is one", ["-i", RCPT],
     b"From: Bob <bob@other.example>\nreply-to: list@other.example\n\nb\n",
     conf=CONF_VER,
     raw=wire(b"From: Bob <sender@example.com>",
              b"reply-to: list@other.example", *ADDED, b"", b"b"))
send("verified_domains: From: inside (domain, any case) untouched",
     ["-i", RCPT], b"From: Al <al@EXAMPLE.com>\nSender: s@example.com\n\nb\n",
     conf=CONF_VER,
     raw=wire(b"From: Al <al@EXAMPLE.com>", b"Sender: s@example.com",
              *ADDED, b"", b"b"))
send("verified_domains: From: a listed address untouched", ["-i", RCPT],
     b"From: ok@example.org\n\nb\n", conf=CONF_VER,
     raw=wire(b"From: ok@example.org", *ADDED, b"", b"b"))
send("verified_domains: another address of that domain rewritten",
     ["-i", RCPT], b"From: no@example.org\n\nb\n", conf=CONF_VER,
     raw=wire(b"From: sender@example.com", b"Reply-To: no@example.org",
              *ADDED, b"", b"b"))
send("verified_domains: a Sender: outside removed", ["-i", RCPT],
     HEAD + b"Sender: Bob <bob@other.example>\n\nb\n", conf=CONF_VER,
     raw=body_wire(b"b"))
send("verified_domains: -f outside replaced by from", ["-f",
                                                      "bob@other.example",
                                                      RCPT],
     HEAD + b"\nb\n", conf=CONF_VER, raw=body_wire(b"b"))
send("verified_domains: -f inside kept", ["-f", "ok@example.org", "-i",
                                          RCPT],
     HEAD + b"\nb\n", conf=CONF_VER, mail_from="ok@example.org",
     raw=wire(*HEAD_WIRE, DATE, b"Message-ID: <ID@example.org>", b"", b"b"))
send("verified_domains: a generated From: is the (kept) envelope sender",
     ["-f", "ok@example.org", "-F", "X", RCPT], b"Subject: s\n\nb\n",
     conf=CONF_VER, mail_from="ok@example.org",
     raw=wire(b"Subject: s", b"From: X <ok@example.org>", DATE,
              b"Message-ID: <ID@example.org>", b"", b"b"))

t.eq(sim.errors(), "", "the simulator saw nothing malformed")
t.eq(api.errors(), "", "the API simulator saw nothing malformed")
t.diag("%d messages stored byte for byte alike over SMTP and the API" %
       SAME[0])
sim.stop()
api.stop()
t.done()
