#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the command line (design.md sections 2, 3 and 8): every flag
of the default mode, honoured (glued and separate values, after the
recipients, combined letters) or ignored (its argument never a recipient),
refused flags and arguments, the null sender, and the modes that exist.

Each send is compared byte for byte with the wire form the simulator
stored, only the values of the generated Date: and Message-ID: replaced;
each refusal checks the exit code, the stderr line, and that no connection
was made."""

import base64
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (PASSWORD, USER, Sim, Tap, norm,  # noqa: E402
                     run, wire, write_conf)

SENDER = "sender@example.com"           # `from` in write_conf's default
RCPT = "rcpt@example.net"
PLAIN_BLOB = base64.b64encode(b"\0%s\0%s" % (USER.encode(),
                                             PASSWORD.encode())).decode()



MSG = b"From: Alice <alice@example.com>\nSubject: flags\n\nbody\n"


def msg_wire(domain=b"example.com", *body):
    """MSG as it goes out, Message-ID on the envelope sender's domain."""
    return wire(b"From: Alice <alice@example.com>", b"Subject: flags",
                b"Date: DATE", b"Message-ID: <ID@" + domain + b">", b"",
                *(body or (b"body",)))


DOTS = b"From: alice@example.com\nSubject: dots\n\na\n.\nb\n"
DOTS_HEAD = (b"From: alice@example.com", b"Subject: dots", b"Date: DATE",
             b"Message-ID: <ID@example.com>", b"")
DOTS_KEPT = wire(*DOTS_HEAD, b"a", b"..", b"b")     # stuffed on the wire
DOTS_ENDED = wire(*DOTS_HEAD, b"a")

t = Tap(deadline=50)
sim = Sim(t.tmp)
CONF = write_conf(t.tmp / "ses.conf", sim)
CONF_NOFROM = write_conf(t.tmp / "nofrom.conf", sim, **{"from": None})
CONF_ADMIN = write_conf(t.tmp / "admin.conf", sim,
                        admin_address="admin@example.com")


def send(desc, args, stdin=MSG, raw=None, mail_from=SENDER, rcpt=(RCPT,),
         params=(), conf=CONF):
    """One message through the binary: exit 0, exactly one message stored,
    its envelope and (when raw is given) its exact wire form."""
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
    return r, m


def refuse(desc, args, rc, pattern, stdin=MSG, conf=CONF, one_line=True):
    """Refused before connecting: exit rc, a stderr line matching pattern
    (exactly one line when one_line), no connection, nothing stored."""
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf)
    t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r.err)
    lines = r.err.splitlines()
    t.ok(any(ln.startswith("ses-sendmail: ") and re.search(pattern, ln)
             for ln in lines),
         "%s: stderr says /%s/" % (desc, pattern), r.err)
    if one_line:
        t.eq(len(lines), 1, "%s: one line on stderr" % desc, r.err)
    t.eq((sim.connections(), len(sim.messages())), (0, 0),
         "%s: no connection, nothing sent" % desc)
    return r


# --- honoured flags, glued and separate values ------------------------------

send("-fuser@x", ["-fuser@x.example", RCPT], raw=msg_wire(b"x.example"),
     mail_from="user@x.example")
send("-f user@x", ["-f", "user@x.example", RCPT], raw=msg_wire(b"x.example"),
     mail_from="user@x.example")
send("-ruser@x", ["-ruser@x.example", RCPT], raw=msg_wire(b"x.example"),
     mail_from="user@x.example")
send("-r user@x", ["-r", "user@x.example", RCPT], raw=msg_wire(b"x.example"),
     mail_from="user@x.example")
send("-f '<user@x>'", ["-f", "<user@x.example>", RCPT],
     raw=msg_wire(b"x.example"), mail_from="user@x.example")
send("-f 'Name <a@b>' reduced to the address",
     ["-f", "Joe User <joe@b.example>", RCPT], raw=msg_wire(b"b.example"),
     mail_from="joe@b.example")

NOFROM = b"Subject: fullname\n\nbody\n"
for desc, args, name in (
        ("-FName", ["-FCronDaemon"], b"CronDaemon"),
        ("-F Name", ["-F", "Cron Daemon"], b"Cron Daemon"),
        ("-F with a comma is quoted", ["-F", "Doe, John"], b'"Doe, John"')):
    send(desc, args + ["-f", "user@x.example", RCPT], stdin=NOFROM,
         mail_from="user@x.example",
         raw=wire(b"Subject: fullname",
                  b"From: " + name + b" <user@x.example>",
                  b"Date: DATE", b"Message-ID: <ID@x.example>", b"", b"body"))

send("-B8BITMIME", ["-B8BITMIME", RCPT], raw=msg_wire(),
     params=["BODY=8BITMIME"])
send("-B 8BITMIME", ["-B", "8BITMIME", RCPT], raw=msg_wire(),
     params=["BODY=8BITMIME"])
send("-B 7BIT", ["-B", "7BIT", RCPT], raw=msg_wire(), params=["BODY=7BIT"])
send("-B7BIT", ["-B7BIT", RCPT], raw=msg_wire(), params=["BODY=7BIT"])
send("no -B, 7-bit body: no BODY=", [RCPT], raw=msg_wire())
refuse("-B bogus", ["-B", "bogus", RCPT], 64, r"-B takes 7BIT or 8BITMIME")

send("-bm is the default mode", ["-bm", RCPT], raw=msg_wire())
send("options after the recipients",
     [RCPT, "-f", "user@x.example", "-i", "other@example.net"], stdin=DOTS,
     mail_from="user@x.example", rcpt=(RCPT, "other@example.net"),
     raw=wire(b"From: alice@example.com", b"Subject: dots", b"Date: DATE",
              b"Message-ID: <ID@x.example>", b"", b"a", b"..", b"b"))
send("-- ends the options: a later -f... is a recipient",
     ["-f", "user@x.example", "--", RCPT, "-fother@example.net"],
     mail_from="user@x.example", rcpt=(RCPT, "-fother@example.net"),
     raw=msg_wire(b"x.example"))
send("-- then a recipient that starts with '-'", ["--", "-dash@example.net"],
     rcpt=("-dash@example.net",), raw=msg_wire())
refuse("-- then -i is a recipient (a local one), not a flag",
       ["--", RCPT, "-i"], 67, r"local recipient -i refused")

TO_DOTS = b"To: " + RCPT.encode() + b"\n" + DOTS
TO_DOTS_KEPT = wire(b"To: rcpt@example.net", *DOTS_HEAD, b"a", b"..", b"b")
send("-ti", ["-ti"], stdin=TO_DOTS, raw=TO_DOTS_KEPT)
send("-it", ["-it"], stdin=TO_DOTS, raw=TO_DOTS_KEPT)
send("-itf user@x: letters, then a flag with a value",
     ["-itf", "user@x.example"], stdin=TO_DOTS, mail_from="user@x.example",
     raw=TO_DOTS_KEPT.replace(b"@example.com>", b"@x.example>"))

# --- the lone dot: -i and its spellings -------------------------------------

for args in (["-i"], ["-oi"], ["-oitrue"], ["-O", "IgnoreDots"],
             ["-OIgnoreDots"], ["-O", "IgnoreDots=true"]):
    send("%s: a lone-dot line stays" % " ".join(args), args + [RCPT],
         stdin=DOTS, raw=DOTS_KEPT)
for args in ([], ["-oifalse"], ["-O", "IgnoreDots=false"]):
    send("%s: a lone dot ends the message" % (" ".join(args) or "no -i"),
         args + [RCPT], stdin=DOTS, raw=DOTS_ENDED)

# --- -v: the dialogue, AUTH masked ------------------------------------------

r, m = send("-v", ["-v", RCPT], raw=msg_wire())
for want in ("> EHLO ", "> AUTH PLAIN ***", "> MAIL FROM:<%s>" % SENDER,
             "> RCPT TO:<%s>" % RCPT, "> DATA", "< 354 ", "< 250 Ok ",
             "> QUIT"):
    t.ok(want in r.err, "-v: %r on stderr" % want, r.err)
for secret, what in ((PASSWORD, "the password"),
                     (PLAIN_BLOB, "the AUTH PLAIN blob"),
                     (PLAIN_BLOB[:20], "any part of the AUTH PLAIN blob")):
    t.ok(secret not in r.err and secret not in r.out,
         "-v: %s never printed" % what)

# AUTH LOGIN (the server offers no PLAIN): user name and password masked.
with Sim(t.tmp, login_only=True) as sim_login:
    conf_login = write_conf(t.tmp / "login.conf", sim_login)
    r = run(["-v", RCPT], stdin=MSG, conf=conf_login)
    t.eq(r.rc, 0, "-v, AUTH LOGIN: exit 0", r.err)
    t.ok("> AUTH LOGIN" in r.err and r.err.count("> ***\n") == 2,
         "-v, AUTH LOGIN: the two credential lines shown as ***", r.err)
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode(),
                   base64.b64encode(USER.encode()).decode()):
        t.ok(secret not in r.err and secret not in r.out,
             "-v, AUTH LOGIN: %s... never printed" % secret[:6])

# --- -C and the program name ------------------------------------------------

send("-C glued", ["-C" + str(CONF), RCPT], raw=msg_wire(), conf=None)
sim.scenario()
r = run([RCPT], stdin=MSG, conf=CONF, argv0="/usr/lib/sendmail")
t.ok(r.rc == 0 and len(sim.messages()) == 1,
     "called as /usr/lib/sendmail: the default mode sends", r.err)

sim.scenario()
r = run(["-C", str(t.tmp / "missing.conf"), RCPT], stdin=MSG)
t.eq(r.rc, 78, "-C missing file: exit 78", r.err)
t.ok(re.match(r"ses-sendmail: .*missing\.conf", r.err) and
     len(r.err.splitlines()) == 1, "-C missing file: one line naming it",
     r.err)
t.eq(sim.connections(), 0, "-C missing file: no connection")

# --- ignored flags: accepted, their argument never a recipient --------------

XFILE = t.tmp / "traffic.log"
IGNORED = (["-N", "never"], ["-Nnever"], ["-R", "hdrs"], ["-V", "envid"],
           ["-X", str(XFILE)], ["-X" + str(XFILE)], ["-L", "tag"],
           ["-h", "5"], ["-A", "c"], ["-O", "Timeout=5"], ["-oem"], ["-odi"],
           ["-o", "em"], ["-oA/etc/aliases"], ["-G"], ["-U"], ["-n"], ["-m"],
           ["-s"], ["-d0.1"], ["-d"])
for args in IGNORED:
    send("ignored: %s" % " ".join(args), args + [RCPT], raw=msg_wire())
send("all the ignored flags at once, around the recipient",
     [a for args in IGNORED[:10] for a in args] + [RCPT] +
     [a for args in IGNORED[10:] for a in args], raw=msg_wire())
t.ok(not XFILE.exists(), "-X never creates its file")

# --- refused flags and arguments --------------------------------------------

for flag in ("-x", "-Z"):
    # The line naming the flag is followed by the usage text.
    refuse("unknown flag %s" % flag, [flag, RCPT], 64,
           r"unknown flag %s\b" % flag, one_line=False)
refuse("unknown flag inside combined letters", ["-tix", RCPT], 64,
       r"unknown flag -x\b", one_line=False)
refuse("unknown long option --bogus", ["--bogus", RCPT], 64,
       r"unknown option --bogus\b")
refuse("-f without its value", [RCPT, "-f"], 64, r"-f needs a value")
refuse("-F without its value", [RCPT, "-F"], 64, r"-F needs a value")
refuse("-f with a control character", ["-f", "a\x01b@x.example", RCPT], 64,
       r"sender address \(-f\) contains a control character")
refuse("-F with LF and a header after it", ["-F", "Name\nInjected: x", RCPT],
       64, r"full name \(-F\) contains a control character")
refuse("-F with a tab", ["-F", "Name\tTab", RCPT], 64,
       r"full name \(-F\) contains a control character")
refuse("a recipient with CR", ["rcpt@example.net\r", "b@example.net"], 64,
       r"recipient address contains a control character")
refuse("a recipient with ESC", ["rc\x1bpt@example.net"], 64,
       r"recipient address contains a control character")
LONG = "a" * 100000
refuse("a 100 000-character recipient", [LONG + "@example.net"], 64,
       r"recipient address is longer than \d+ octets")
refuse("a 100 000-character -f", ["-f", LONG + "@example.net", RCPT], 64,
       r"sender address \(-f\) is longer than \d+ octets")
refuse("a 100 000-character -F", ["-F", LONG, RCPT], 64,
       r"full name \(-F\) is longer than \d+ octets")

# --- the null sender --------------------------------------------------------

send("-f '' with from: from is MAIL FROM", ["-f", "", RCPT], raw=msg_wire())
send("-f '<>' with from: from is MAIL FROM", ["-f", "<>", RCPT],
     raw=msg_wire())
send("-f<> glued", ["-f<>", RCPT], raw=msg_wire())
refuse("-f '' without from", ["-f", "", RCPT], 65, r"null sender.*set from",
       conf=CONF_NOFROM)
refuse("-f '<>' without from", ["-f", "<>", RCPT], 65,
       r"null sender.*set from", conf=CONF_NOFROM)

# --- modes ------------------------------------------------------------------


def mode(desc, args, rc, out="", argv0=None, conf=CONF, err_re=None):
    sim.scenario()
    r = run(args, stdin=MSG, conf=conf, argv0=argv0)
    t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r.err)
    if out is not None:
        t.eq(r.out, out, "%s: stdout" % desc, r.err)
    if err_re is None:
        t.eq(r.err, "", "%s: nothing on stderr" % desc)
    else:
        t.ok(re.fullmatch(err_re, r.err), "%s: one line /%s/ on stderr" %
             (desc, err_re), r.err)
    t.eq((sim.connections(), len(sim.messages())), (0, 0),
         "%s: no connection, nothing sent" % desc)
    return r


QUEUE_EMPTY = "Mail queue is empty\n"
mode("-bp", ["-bp"], 0, QUEUE_EMPTY)
mode("called as mailq", [], 0, QUEUE_EMPTY, argv0="mailq")
mode("called as /usr/bin/mailq", [], 0, QUEUE_EMPTY, argv0="/usr/bin/mailq")
mode("called as mailq without -C", [], 0, QUEUE_EMPTY, argv0="mailq",
     conf=None)
mode("-bi", ["-bi"], 0)
mode("called as newaliases", [], 0, argv0="newaliases")
mode("-q", ["-q"], 0)
mode("-q1h", ["-q1h"], 0)
for m_ in ("d", "D", "t", "h", "H", "P"):
    mode("-b%s" % m_, ["-b" + m_], 64, err_re=r"ses-sendmail: -b%s is not "
         r"supported[^\n]*\n" % m_)

# -bv: each recipient printed after rewriting (punycode, admin_address),
# one by one, so that a refused one does not hide the others.
BV = ["-bv", "a@b.example", "root", "Joe <joe@b\u00fccher.example>"]
BV_WANT = ("a@b.example... deliverable: via SES localhost\n"
           "%s\n"
           "joe@xn--bcher-kva.example... deliverable: via SES localhost\n")
for desc, conf, rc, root_line, err_re in (
        ("with admin_address", CONF_ADMIN, 0,
         "admin@example.com... deliverable: via SES localhost",
         r"ses-sendmail: local recipient <root> sent to admin_address "
         r"<admin@example.com>\n"),
        ("without admin_address", CONF, 67,
         "root... local recipient root refused: nothing was sent",
         r"ses-sendmail: 1 of 3 recipients would not be delivered\n")):
    mode("-bv %s" % desc, BV, rc, BV_WANT % root_line, conf=conf,
         err_re=err_re)
mode("-bv with a malformed address", ["-bv", "a@@b.example"], 65,
     "a@@b.example... bad recipient address: missing domain after '@' in "
     "<a@>\n", err_re=r"ses-sendmail: 1 of 1 recipients would not be "
     r"delivered\n")

for flag in ("--version", "--help"):
    sim.scenario()
    r = run([flag])
    t.eq(r.rc, 0, "%s: exit 0" % flag, r.err)
    t.ok(re.search(r"^configuration: /\S*/ses-sendmail\.conf$", r.out, re.M),
         "%s: names the configuration file" % flag, r.out)
    t.ok(re.search(r"GnuTLS \d+\.\d+", r.out), "%s: names GnuTLS and its "
         "version" % flag, r.out)
    t.eq(r.err, "", "%s: nothing on stderr" % flag)

# Whatever a caller passes is echoed printable: no control character
# (a newline would forge a log line, ESC drives the terminal), no invalid
# UTF-8 or other non-ASCII octet, and bounded.  The str arguments carry
# raw octets as surrogate escapes, which subprocess passes as they are.
HOSTILE = ("\x1b[31m\x1b]0;title\x07\udcff\udcfe\r\n"
           "ses-sendmail: from=<forged> status=sent")


def printable(data):
    """Octets that are neither printable ASCII nor the line ends."""
    return sorted({c for c in data if c != 0x0a and not 0x20 <= c < 0x7f})


def echoed(desc, args, rc, stdin=MSG, conf=None, lines=1, stdout=False):
    sim.scenario()
    r = run(args, stdin=stdin, conf=conf)
    t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r.err)
    err = r.stderr.split(b"\n")
    t.ok(r.stderr.endswith(b"\n") and len(err) == lines + 1 and
         not printable(r.stderr) and all(len(ln) < 1200 for ln in err),
         "%s: %d bounded, printable line(s) on stderr" % (desc, lines),
         repr(r.stderr[-600:]))
    if stdout:
        t.ok(r.stdout and not printable(r.stdout),
             "%s: stdout is printable" % desc, repr(r.stdout[-300:]))
    return r


echoed("an unknown long option with control octets", ["--x" + HOSTILE],
       64)
echoed("an unknown long option of 100 000 octets", ["--" + "x" * 100000],
       64)
echoed("an unknown mode with control octets", ["-bX" + HOSTILE], 64)
echoed("--ports with control octets", ["--check", "--ports",
                                       "25," + HOSTILE], 64)
echoed("-C naming a file with control octets", ["-C", "/nonexistent" +
                                                HOSTILE, RCPT], 78)
echoed("-C naming a file of 5000 octets", ["-C", "/" + "x" * 5000, RCPT],
       78)
echoed("-f with invalid UTF-8", ["-f", "\udcff\udcfe@example.com", RCPT],
       64, conf=CONF)
echoed("a recipient with invalid UTF-8", ["\udcff\udcfe@example.net"], 65,
       conf=CONF)
echoed("-t with ESC in To:", ["-t"], 65, conf=CONF,
       stdin=b"To: \"a\x1b[2Jb\"@example.net\n\nbody\n")
echoed("-bv with invalid UTF-8 in a recipient", ["-bv",
                                                "\udcff\udcfe@example.net"],
       65, conf=CONF, stdout=True)
echoed("-bs -v: the client's command with ESC and invalid UTF-8",
       ["-bs", "-v"], 0, conf=CONF, lines=5,
       stdin=b"HELO \x1b[31m\xff\xfe\r\nQUIT\r\n")
bad_key = t.tmp / "badkey.conf"
bad_key.write_bytes(CONF.read_bytes() + b"k\xff\x1b[2Jey value\n")
bad_key.chmod(0o600)
echoed("a configuration line with ESC and invalid UTF-8", ["-i", RCPT],
       78, conf=bad_key)

t.eq(sim.errors(), "", "the simulator saw nothing malformed")
sim.stop()
t.done()
