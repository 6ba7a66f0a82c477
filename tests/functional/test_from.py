#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the From: and Sender: fields ses-sendmail writes or judges,
read back with a strict RFC 5322 parser (Python's email.policy.default),
not a lenient one.

The -F name (default mode, -t, -bs) is a display name and nothing more:
whatever it holds (quotes, backslashes, specials, comments, encoded
words, non-ASCII, invalid UTF-8, very long, blank), the generated From:
parses to exactly one mailbox, `from`, without defects, and its display
name decodes back to the -F text.

Every mailbox of From: and Sender: is judged against verified_domains,
not only the first: several mailboxes, groups, a display name that holds
an address; repeated fields are refused; Reply-To: is left alone."""

import base64
import os
import re
import sys
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import Sim, Tap, run, write_conf  # noqa: E402

SENDER = "sender@example.com"           # `from` in write_conf's default
RCPT = "rcpt@example.net"
BODY = b"Subject: s\n\nbody\n"

t = Tap(deadline=240)
# The simulator judges identities as SES does: From:, Sender:,
# Return-Path: and MAIL FROM must be inside example.com.
sim = Sim(t.tmp, verified="example.com")
CONF = write_conf(t.tmp / "ses.conf", sim, verified_domains=["example.com"])

# Adjacent encoded words: RFC 2047 6.2 says the blanks between them are
# not text, but Python before 3.14 keeps them in an address header's
# display name (CPython gh-128110).  Where Python reads such a name
# differently, it is read again word by word as 6.2 says.
ADJACENT_EW = re.compile(r"\?=\s+=\?")
WORD = re.compile(r'\s*(?:(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)|'
                  r'"((?:[^"\\]|\\.)*)"|([^\s"]+))')


def rfc2047_phrase(phrase):
    """A phrase of encoded words, quoted-strings and atoms as RFC 2047 6.2
    and RFC 5322 3.2.5 read it."""
    parts, prev_ew = [], False
    for m in WORD.finditer(phrase):
        ew, qs, atom = m.groups()
        if ew:
            text = str(make_header(decode_header(ew)))
        elif qs is not None:
            text = re.sub(r"\\(.)", r"\1", qs)
        else:
            text = atom
        if parts and not (ew and prev_ew):
            parts.append(" ")
        parts.append(text)
        prev_ew = bool(ew)
    return "".join(parts)


def strict(eml):
    return BytesParser(policy=policy.default).parsebytes(eml)


def field_value(eml, name):
    """The unfolded value of the first field `name` of eml (bytes)."""
    head = eml.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    m = re.search(rb"^%s:(.*(?:\n[ \t].*)*)" % name, head, re.M | re.I)
    return m.group(1).replace(b"\n", b"").decode("ascii") if m else None


def head_lines(eml):
    return eml.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def check_field(desc, m, field, want):
    """field of the stored message m, read strictly: exactly the mailboxes
    want [(display name, address)], no defect, lines of printable ASCII
    within 998 octets."""
    eml = m["eml"]
    msg = strict(eml)
    got = msg.get_all(field) or []
    if not t.eq(len(got), 1, "%s: one %s: field" % (desc, field), eml):
        return
    h = got[0]
    t.eq([str(d) for d in h.defects], [], "%s: %s: no defect" %
         (desc, field), eml)
    addrs = [(a.display_name, a.addr_spec) for a in h.addresses]
    if len(addrs) == len(want) and len(want) == 1 and \
            addrs[0][0] != want[0][0]:
        phrase = field_value(eml, field.encode()).rsplit("<", 1)[0].strip()
        if ADJACENT_EW.search(phrase):
            t.diag("%s: Python reads %r (gh-128110)" % (desc, addrs[0][0]))
            addrs = [(rfc2047_phrase(phrase), addrs[0][1])]
    t.eq(addrs, want, "%s: %s: exactly these mailboxes" % (desc, field), eml)
    t.ok(all(len(ln) <= 998 and re.fullmatch(rb"[\x20-\x7e\t]*", ln)
             for ln in head_lines(eml)),
         "%s: header lines printable ASCII, at most 998 octets" % desc, eml)


def send(desc, args, stdin, conf=CONF):
    """One message sent (exit 0, one stored); the stored message or None."""
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf)
    t.eq(r.rc, 0, "%s: exit 0" % desc, r.err)
    msgs = sim.messages()
    if not t.eq(len(msgs), 1, "%s: one message stored" % desc, r.err):
        return None
    return msgs[0]


def bs_dialogue(body):
    """A whole -bs session written at once: the server reads it in turn."""
    return (b"EHLO client.example\r\nMAIL FROM:<" + SENDER.encode() +
            b">\r\nRCPT TO:<" + RCPT.encode() + b">\r\nDATA\r\n" +
            body.replace(b"\n", b"\r\n") + b".\r\nQUIT\r\n")


# --- -F: a display name, nothing more ---------------------------------------

def b64word(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


# (desc, -F argument, the display name it must read back as)
NAMES = [
    ("a name-addr", '"IT Support" <helpdesk@attacker.test>', None),
    ("an address", "helpdesk@attacker.test", None),
    ("two mailboxes", "ok@example.com, evil@attacker.test", None),
    ("a group", "g: a@x.example, b@attacker.test;", None),
    ("a comment", "(helpdesk@attacker.test) x", None),
    ("an open comment", "x (y", None),
    ("a close paren", "x) y", None),
    ("quotes", '"quoted"', None),
    ("a lone quote", '"', None),
    ("backslashes", "back\\slash\\", None),
    ("an escaped quote", 'esc\\"aped <evil@attacker.test>', None),
    ("angle brackets", "<>", None),
    ("a lone <", "x <", None),
    ("a lone >", "> x", None),
    ("an @", "@", None),
    ("a comma", "Doe, John", None),
    ("a semicolon", "a; b", None),
    ("a colon", "a: b", None),
    ("brackets", "[evil@attacker.test]", None),
    ("dots", "J. R. R. Tolkien", None),
    ("an encoded word giving an address",
     "=?UTF-8?Q?evil=40attacker.test?=", None),
    ("an encoded word giving a name-addr",
     b64word('"IT" <helpdesk@attacker.test>, x@attacker.test'), None),
    ("an encoded word and text", "=?utf-8?q?a?= <evil@attacker.test>", None),
    ("=? alone", "=?", None),
    ("UTF-8", "J\u00fcrgen M\u00fcller", None),
    ("UTF-8 with specials", "J\u00fcrgen <evil@attacker.test>, x", None),
    ("CJK", "\u65e5\u672c\u8a9e \u540d\u524d", None),
    ("invalid UTF-8", os.fsdecode(b"\xff\xfe<evil@attacker.test>"),
     "\ufffd\ufffd<evil@attacker.test>"),
    ("leading and trailing blanks", "  Joe  ", None),
    ("two blanks inside", "Joe  Doe", None),
    ("very long, with blanks", "Long Name " * 300 + "End", None),
    ("very long, one word", "x" * 4000, None),
    ("very long, UTF-8", "J\u00fcrgen " * 300 + "<evil@attacker.test>",
     None),
    ("a long word", "y" * 500 + " <evil@attacker.test>", None),
    ("empty", "", ""),
    ("only blanks", "     ", ""),
]

for desc, name, shown in NAMES:
    want = [(name if shown is None else shown, SENDER)]
    with t.case("-F " + desc):
        m = send("-F %s" % desc, ["-F", name, RCPT], BODY)
        if m:
            check_field("-F %s" % desc, m, "From", want)

# The same encoder in every mode: -t and -bs, on the hardest cases.
for desc, name, shown in NAMES[:4] + NAMES[20:22] + NAMES[27:29] + \
        NAMES[32:33]:
    want = [(name if shown is None else shown, SENDER)]
    with t.case("-t -F " + desc):
        m = send("-t -F %s" % desc, ["-t", "-F", name],
                 b"To: " + RCPT.encode() + b"\n" + BODY)
        if m:
            check_field("-t -F %s" % desc, m, "From", want)
    with t.case("-bs -F " + desc):
        sim.scenario()
        r = run(["-bs", "-F", name], stdin=bs_dialogue(BODY), conf=CONF)
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1 and
             re.search(rb"^250 Ok ", r.stdout, re.M),
             "-bs -F %s: 250 to the final dot, one message stored" % desc,
             r)
        if msgs:
            check_field("-bs -F %s" % desc, msgs[0], "From", want)

for desc, name in (("CR LF and a header", "x\r\nBcc: evil@attacker.test"),
                   ("a tab", "x\ty"), ("ESC", "x\x1b[2Jy"),
                   ("DEL", "x\x7fy")):
    sim.scenario()
    r = run(["-F", name, RCPT], stdin=BODY, conf=CONF)
    t.ok(r.rc == 64 and "control character" in r.err and
         not sim.messages(), "-F with %s: refused (64), nothing sent" % desc,
         r)

# --- From: and Sender: in the message: every mailbox judged -----------------

REWRITTEN = [
    ("a name-addr outside", b"From: \"IT Support\" <helpdesk@attacker.test>",
     [("IT Support", SENDER)], "helpdesk@attacker.test"),
    ("the second mailbox outside",
     b"From: ok@example.com, evil@attacker.test", [("", SENDER)],
     "ok@example.com, evil@attacker.test"),
    ("the second mailbox outside, named",
     b"From: Bank <ok@example.com>, \"Bank\" <evil@attacker.test>",
     [("Bank", SENDER)], "ok@example.com, evil@attacker.test"),
    ("a group with one mailbox outside",
     b"From: team: a@example.com, b@attacker.test;", [("", SENDER)],
     "a@example.com, b@attacker.test"),
    ("a group after an inside mailbox",
     b"From: ok@example.com, g: evil@attacker.test;", [("", SENDER)],
     "ok@example.com, evil@attacker.test"),
    ("an address as the display name of an inside mailbox",
     b"From: helpdesk@attacker.test <ok@example.com>",
     [("helpdesk@attacker.test", SENDER)], "ok@example.com"),
    ("a domain literal in the display name",
     b"From: x [helpdesk@attacker.test] <ok@example.com>",
     [("x [helpdesk@attacker.test]", SENDER)], "ok@example.com"),
    ("a display name kept as text, never as written",
     b"From: \"a\\\"b\" (c@attacker.test) d <evil@attacker.test>",
     [('a"b d', SENDER)], "evil@attacker.test"),
    ("an encoded word in the display name kept",
     b"From: =?UTF-8?B?SsO8cmdlbg==?= Smith <evil@attacker.test>",
     [("J\u00fcrgen Smith", SENDER)], "evil@attacker.test"),
    ("a local mailbox second", b"From: ok@example.com, root",
     [("", SENDER)], "ok@example.com"),
]
for desc, field, want, reply_to in REWRITTEN:
    with t.case("From: " + desc):
        m = send("From: " + desc, ["-i", RCPT],
                 field + b"\nSubject: s\n\nbody\n")
        if m:
            check_field("From: " + desc, m, "From", want)
            t.eq(field_value(m["eml"], b"Reply-To"), " " + reply_to,
                 "From: %s: the original addresses in Reply-To:" % desc)

KEPT = [
    ("one mailbox inside", b"From: \"Al\" <al@example.com>"),
    ("two mailboxes inside", b"From: a@example.com, B <b@example.com>"),
    ("a group inside", b"From: team: a@example.com, b@EXAMPLE.com;"),
    ("an '@' in quotes", b"From: \"helpdesk@attacker.test\" <ok@example.com>"),
]
for desc, field in KEPT:
    with t.case("From: " + desc):
        m = send("From: " + desc + ": untouched", ["-i", RCPT],
                 field + b"\nSubject: s\n\nbody\n")
        if m:
            t.eq(m["eml"].split(b"\r\n")[0], field,
                 "From: %s: sent as written" % desc)
            t.ok(b"Reply-To" not in m["eml"], "From: %s: no Reply-To" % desc)

HEAD = b"From: Al <al@example.com>\n"
for desc, field in (
        ("the second mailbox outside",
         b"Sender: ok@example.com, evil@attacker.test"),
        ("a local and an outside mailbox",
         b"Sender: root, evil@attacker.test"),
        ("an address as the display name",
         b"Sender: helpdesk@attacker.test <ok@example.com>"),
        ("a group outside", b"Sender: g: evil@attacker.test;"),
        ("one that cannot be parsed", b"Sender: ok@example.com <evil@x")):
    with t.case("Sender: " + desc):
        m = send("Sender: " + desc + ": removed", ["-i", RCPT],
                 HEAD + field + b"\n" + BODY)
        if m:
            t.eq(strict(m["eml"]).get_all("Sender"), None,
                 "Sender: %s: removed" % desc, m["eml"])
with t.case("Sender: local mailboxes only"):
    m = send("Sender: local mailboxes only", ["-i", RCPT],
             HEAD + b"Sender: Web <www-data@localhost>, root\n" + BODY)
    if m:
        check_field("Sender: local mailboxes only", m, "Sender",
                    [("Web", SENDER)])

for name in (b"From", b"Sender"):
    sim.scenario()
    r = run(["-i", RCPT], stdin=HEAD + b"Sender: s@example.com\n" + name +
            b": evil@attacker.test\n" + BODY, conf=CONF)
    t.ok(r.rc == 65 and "duplicate header '%s'" % name.decode() in r.err and
         sim.connections() == 0, "two %s: fields: refused (65), nothing sent"
         % name.decode(), r)

with t.case("Reply-To: is not judged"):
    m = send("Reply-To: is not judged", ["-i", RCPT],
             HEAD + b"Reply-To: evil@attacker.test\n" + BODY)
    if m:
        t.eq(field_value(m["eml"], b"Reply-To"), " evil@attacker.test",
             "Reply-To: outside verified_domains: untouched")
        check_field("Reply-To: is not judged", m, "From",
                    [("Al", "al@example.com")])

t.eq(sim.errors(), "", "the simulator saw nothing malformed")
sim.stop()
t.done()
