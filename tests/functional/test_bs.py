#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of -bs (design.md section 2; issue #4 point 1): the server side
of SMTP on stdin and stdout, as Symfony Mailer and Laravel speak it to
"sendmail -bs".

Raw pipe sessions check the protocol exactly: the greeting, EHLO/HELO,
MAIL parameters and SIZE, RCPT, DATA and its dot-unstuffing, RSET, NOOP,
VRFY, HELP, QUIT, bad sequences, overlong lines, LF-only input, local
recipients.  Then SES's verdict in the reply to the final dot (250 with
the id the simulator stored, in SES's "250 Ok ID" form; 554 when SES
refuses; 4xx when transient, with retries counted per message), and the
SES session kept between messages: one connection for several, renewed
after max_messages_per_connection, max_connection_age and ~8 s of
idleness.  Last, real SMTP clients over the pipe: Symfony Mailer's
dialogue as its SmtpTransport writes it, swaks --pipe, and Python's
smtplib bridged to the process through a socketpair."""

import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import BsSession, Sim, Tap, binary, write_conf  # noqa: E402

SENDER = "sender@example.com"           # `from` in write_conf's default
RCPT = "rcpt@example.net"
NOT_VERIFIED = ("554 Message rejected: Email address is not verified. The "
                "following identities failed the check in region US-EAST-1: "
                "nobody@unverified.example")
TRANSIENT = "451 Temporary service failure"
IDLE_PAUSE = 9.0                        # SES closes a session idle ~10 s


def body(subject, *lines):
    return [b"From: Alice <alice@example.com>", b"To: " + RCPT.encode(),
            b"Subject: " + subject.encode(), b""] + list(lines)


def ses_id(text):
    """The SES id in the "250 Ok ID" reply to the final dot (SES's form)."""
    m = re.match(r"250 Ok (\S+)$", text)
    return m.group(1) if m else None


def kept_closed(conf, sim, how, conns=2, attempts=1, pause=0):
    """Two messages in one -bs session; SES closes the kept session before
    the second (a fault at its MAIL, or idleness during `pause`).  The
    second is still sent, on connection `conns`, with `attempts` in its
    summary line, and a warning says the kept session was closed."""
    s = BsSession(t.tmp, conf)
    s.reply()
    s.cmd("EHLO client.example")
    _, c1, _ = s.message(body("first", b"x"))
    time.sleep(pause)
    _, c2, text2 = s.message(body("second", b"y"))
    t.eq([c1, c2], [250, 250], "%s: both messages 250" % how, text2)
    s.cmd("QUIT")
    t.eq(s.finish(), 0, "%s: exit 0" % how, s.errlog())
    sim.wait_closed()
    msgs = sim.messages()
    t.eq([m["conn"] for m in msgs], [1, conns],
         "%s: the 2nd message on connection %d" % (how, conns))
    t.eq([m["id"] for m in msgs[1:]], [ses_id(text2)],
         "%s: its 250 carries the id SES gave" % how)
    summary = re.findall(r"attempts=(\d+) delay=[\d.]+ status=(\w+)",
                         s.errlog())
    t.eq(summary, [("1", "sent"), (str(attempts), "sent")],
         "%s: reconnecting cost no attempt (attempts=1, then %d)" %
         (how, attempts), s.errlog())
    t.ok("the kept session to " in s.errlog(),
         "%s: a warning says the kept session was closed" % how, s.errlog())


t = Tap(deadline=200)
start = time.monotonic()

with Sim(t.tmp) as sim:
    CONF = write_conf(t.tmp / "ses.conf", sim)
    CONF_SMALL = write_conf(t.tmp / "small.conf", sim, max_message_size=3000)
    CONF_ADMIN = write_conf(t.tmp / "admin.conf", sim,
                            admin_address="admin@example.com")
    CONF_MAX2 = write_conf(t.tmp / "max2.conf", sim,
                           max_messages_per_connection=2)

    # --- the protocol, CRLF, one session ---------------------------------
    with t.case("protocol"):
        sim.scenario(name="protocol")
        s = BsSession(t.tmp, CONF)
        code, lines = s.reply()
        t.eq(code, 220, "greeting 220", lines)
        t.ok(lines and "ESMTP" in lines[0], "greeting says ESMTP", lines)
        t.eq(s.cmd("MAIL FROM:<%s>" % SENDER), 503, "MAIL before EHLO: 503")
        t.eq(s.cmd("EHLO client.example"), 250, "EHLO: 250")
        ext = [ln[4:] for ln in s.last]
        t.ok(all(ln.startswith("250-") for ln in s.last[:-1]) and
             s.last[-1].startswith("250 "), "EHLO: a multi-line 250",
             s.last)
        t.eq(ext[1:], ["8BITMIME", "SIZE 41943040", "HELP"],
             "EHLO offers 8BITMIME, SIZE max_message_size, HELP", s.last)
        t.eq(s.cmd("NOOP"), 250, "NOOP: 250")
        t.eq(s.cmd("VRFY rcpt@example.net"), 252, "VRFY: 252")
        t.eq(s.cmd("HELP"), 214, "HELP: 214")
        t.eq(s.cmd("FROBNICATE now"), 500, "unknown command: 500")
        t.eq(s.cmd("RCPT TO:<%s>" % RCPT), 503, "RCPT before MAIL: 503")
        t.eq(s.cmd("DATA"), 503, "DATA before MAIL: 503")
        t.eq(s.cmd("MAIL FROM:<%s> BODY=8BITMIME SIZE=123" % SENDER), 250,
             "MAIL with BODY=8BITMIME SIZE=123: 250")
        t.eq(s.cmd("MAIL FROM:<%s>" % SENDER), 503, "a second MAIL: 503")
        t.eq(s.cmd("DATA"), 503, "DATA before RCPT: 503")
        t.eq(s.cmd("RCPT TO:<root>"), 550,
             "a local recipient without admin_address: 550 at RCPT")
        t.eq(s.cmd("RCPT TO:<a@@example.net>") // 100, 5,
             "a malformed recipient: 5xx")
        t.eq(s.cmd(b"NOOP " + b"x" * 5000), 500,
             "a 5000-octet command line: 500")
        t.eq(s.cmd("NOOP"), 250, "the session goes on after it")
        t.eq(s.cmd(b"NOOP " + b"y" * 100000), 500,
             "a 100000-octet command line (past the input buffer): 500")
        t.eq(s.cmd("NOOP"), 250, "the session goes on after that too")
        t.eq(s.cmd("RCPT TO:<%s>" % RCPT), 250,
             "RCPT: 250 (the transaction survived)")
        t.eq(s.cmd("DATA"), 354, "DATA: 354")
        s.send(b"".join(ln + b"\r\n" for ln in body(
            "first", b"caf\xc3\xa9", b"..x", b"..", b"last")) + b".\r\n")
        code, lines = s.reply()
        t.eq(code, 250, "the final dot: 250", lines)
        id1 = ses_id(lines[-1]) if lines else None
        # RSET clears the transaction: DATA after it is out of sequence.
        t.eq(s.cmd("MAIL FROM:<%s>" % SENDER), 250, "MAIL again: 250")
        t.eq(s.cmd("RCPT TO:<%s>" % RCPT), 250, "RCPT again: 250")
        t.eq(s.cmd("RSET"), 250, "RSET: 250")
        t.eq(s.cmd("DATA"), 503, "DATA after RSET: 503")
        codes, code, text = s.message(body("second", b"plain"),
                                      rcpts=(RCPT, "other@example.org"))
        t.eq((codes, code), ([250, 250, 250, 354], 250),
             "a second message in the session: 250", text)
        id2 = ses_id(text)
        t.eq(s.cmd("QUIT"), 221, "QUIT: 221")
        t.eq(s.finish(), 0, "exit 0 after QUIT", s.errlog())
        sim.wait_closed()
        msgs = sim.messages()
        t.eq(len(msgs), 2, "two messages stored", s.errlog())
        t.eq(sim.connections(), 1, "both over ONE SES connection")
        if len(msgs) == 2:
            m1, m2 = msgs
            t.eq([m1["id"], m2["id"]], [id1, id2],
                 "each 250 carries the id SES gave", [id1, id2])
            t.eq((m1["mail_from"], m1["rcpt"], m1["mail_params"]),
                 (SENDER, [RCPT], ["BODY=8BITMIME"]),
                 "1st: envelope from MAIL/RCPT, BODY=8BITMIME passed on")
            t.ok(b"\r\n.x\r\n.\r\nlast\r\n" in m1["eml"],
                 "1st: ..x and .. unstuffed to .x and . (eml)", m1["eml"])
            t.ok(b"\r\n..x\r\n..\r\nlast\r\n" in m1["raw"],
                 "1st: stuffed again on the way to SES (raw)", m1["raw"])
            t.ok(b"\r\ncaf\xc3\xa9\r\n" in m1["eml"],
                 "1st: 8-bit body intact", m1["eml"])
            t.ok(m1["eml"].startswith(
                b"From: Alice <alice@example.com>\r\nTo: rcpt@example.net"
                b"\r\nSubject: first\r\n"), "1st: header kept as given",
                m1["eml"][:200])
            t.ok(re.search(rb"^Date: .+\r\n", m1["eml"], re.M) and
                 re.search(rb"^Message-ID: <.+>\r\n", m1["eml"], re.M),
                 "1st: Date: and Message-ID: added", m1["eml"][:400])
            t.eq((m2["mail_from"], m2["rcpt"], m2["mail_params"]),
                 (SENDER, [RCPT, "other@example.org"], []),
                 "2nd: two recipients, 7-bit: no BODY=")
            t.ok(m2["eml"].endswith(b"\r\n\r\nplain\r\n"), "2nd: its body",
                 m2["eml"])

    # --- HELO and LF-only input ------------------------------------------
    with t.case("LF"):
        sim.scenario(name="lf")
        s = BsSession(t.tmp, CONF)
        t.eq(s.reply()[0], 220, "LF input: greeting")
        t.eq(s.cmd("HELO client.example", eol=b"\n"), 250,
             "HELO (LF): 250")
        t.eq(len(s.last), 1, "HELO: a one-line 250", s.last)
        codes = [s.cmd("MAIL FROM:<%s>" % SENDER, eol=b"\n"),
                 s.cmd("RCPT TO:<%s>" % RCPT, eol=b"\n"),
                 s.cmd("DATA", eol=b"\n")]
        # RFC 5321 4.1.1.4: only CR LF . CR LF ends the data, so an
        # LF-only client ends its last line with CR LF before the dot.
        s.send(b"\n".join(body("lf", b"..dot", b"end")) + b"\r\n.\r\n")
        code, lines = s.reply()
        text = lines[-1] if lines else ""
        t.eq((codes, code), ([250, 250, 354], 250),
             "a message with LF line ends: 250", text)
        t.eq(s.cmd("QUIT", eol=b"\n"), 221, "QUIT (LF): 221")
        t.eq(s.finish(), 0, "LF input: exit 0", s.errlog())
        msgs = sim.messages()
        t.eq(len(msgs), 1, "LF input: stored")
        if msgs:
            t.ok(msgs[0]["eml"].endswith(b"\r\n\r\n.dot\r\nend\r\n") and
                 b"\n" not in msgs[0]["eml"].replace(b"\r\n", b""),
                 "LF input: CRLF on the wire, unstuffed", msgs[0]["eml"])

    # --- SMTP smuggling: only CR LF . CR LF ends DATA ---------------------
    # A dot line ended by a bare LF or CR, or after one, is content (RFC
    # 5321 4.1.1.4; CVE-2023-51764 for Postfix): the commands after it
    # stay in the one message, which reaches SES with the dot stuffed.
    SMUGGLED = (b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example."
                b"org>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n")
    AS_CONTENT = b"\r\n.\r\n" + SMUGGLED        # as SES must store it

    def session(conf, head, data, slow=b""):
        """One -bs session: the greeting, then `head` (the commands up to
        and including DATA, pipelined), then `slow` one octet per write,
        then `data` with the true end of data and QUIT; stdin is closed.
        (codes of every reply, exit code, stderr)."""
        s = BsSession(t.tmp, conf)
        s.send(head)
        for i in range(len(slow)):
            s.send(slow[i:i + 1])
            time.sleep(0.01)            # one read() each, most likely
        s.send(data + b"\r\n.\r\nQUIT\r\n")
        s.proc.stdin.close()
        codes = []
        while True:
            code, lines = s.reply()
            if not lines:
                break
            codes.append(code)
        return codes, s.finish(), s.errlog()

    ENVELOPE = ("EHLO client.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>"
                "\r\n" % (SENDER, RCPT)).encode()
    HEAD = b"".join(ln + b"\r\n" for ln in body("smuggle"))
    OK_CODES = [220, 250, 250, 250, 354, 250, 221]

    def smuggle_case(name, head, data, slow=b"", want=AS_CONTENT,
                     codes=OK_CODES, stored=1):
        with t.case("smuggling: " + name):
            sim.scenario(name="smuggle")
            got, rc, err = session(CONF, head, data, slow)
            t.eq((got, rc), (codes, 0), "%s: one transaction, the "
                 "smuggled commands get no reply" % name, err)
            sim.wait_closed()
            msgs = sim.messages()
            t.eq([(m["mail_from"], m["rcpt"]) for m in msgs],
                 [(SENDER, [RCPT])] * stored,
                 "%s: SES got %d message(s), none to the victim" %
                 (name, stored), msgs)
            t.ok(not any("victim" in ln or "evil" in ln
                         for ln in sim.transcript()),
                 "%s: no smuggled command on the wire to SES" % name,
                 sim.transcript())
            if stored:
                m = msgs[0] if msgs else {"eml": b"", "raw": b""}
                t.ok(want in m["eml"],
                     "%s: the smuggled lines are content" % name, m["eml"])
                t.ok(want.replace(b"\r\n.\r\n", b"\r\n..\r\n") in
                     m["raw"], "%s: the dot stuffed on the wire" % name,
                     m["raw"])

    DATA_CMD = ENVELOPE + b"DATA\r\n" + HEAD + b"hello"
    for name, sep in (("LF . LF", b"\n.\n"), ("CR LF . LF", b"\r\n.\n"),
                      ("LF . CR LF", b"\n.\r\n"), ("LF . CR", b"\n.\r"),
                      ("CR . CR", b"\r.\r"), ("CR . CR LF", b"\r.\r\n"),
                      ("CR LF . CR CR LF", b"\r\n.\r\r\n")):
        smuggle_case(name, DATA_CMD, sep[1:] + SMUGGLED[:-2],
                     slow=sep[:1], want=b"hello" + AS_CONTENT[:-2])
    smuggle_case("LF . LF fed one octet at a time", DATA_CMD,
                 SMUGGLED[:-2], slow=b"\n.\n",
                 want=b"hello" + AS_CONTENT[:-2])
    smuggle_case("LF .. LF", DATA_CMD, b"\n..\n" + SMUGGLED[:-2],
                 want=b"hello" + AS_CONTENT[:-2])
    # At the very start of DATA the CR LF before the dot is the DATA
    # command's own.
    smuggle_case("DATA CR LF . LF", ENVELOPE + b"DATA\r\n",
                 b".\n" + SMUGGLED[:-2], want=AS_CONTENT[:-2])
    smuggle_case("DATA LF . CR LF", ENVELOPE + b"DATA\n",
                 b".\r\n" + SMUGGLED[:-2], want=AS_CONTENT[:-2])
    # A refused message (NUL) is read to the true end, then refused.
    smuggle_case("NUL, then LF . LF", DATA_CMD, b"\0\n.\n" +
                 SMUGGLED[:-2], codes=[220, 250, 250, 250, 354, 554, 221],
                 stored=0)

    # The true end still ends DATA when the input buffer (64 KiB) cuts a
    # long line between its CR and its LF.
    with t.case("CR LF cut by the input buffer"):
        sim.scenario(name="cut")
        got, rc, err = session(CONF, DATA_CMD[:-5], b"a" * 65535)
        t.eq((got, rc), (OK_CODES, 0), "a 65535-octet line, then CR LF . "
             "CR LF: the end of data", err)
        msgs = sim.messages()
        t.ok(len(msgs) == 1 and msgs[0]["eml"].endswith(b"a\r\n"),
             "the message stored, the long line last", len(msgs))

    # --- -bs -i ------------------------------------------------------------
    with t.case("-bs -i"):
        sim.scenario(name="bs-i")
        s = BsSession(t.tmp, CONF, args=("-bs", "-i"))
        t.eq(s.reply()[0], 220, "-bs -i: greeting")
        t.eq(s.cmd("EHLO client.example"), 250, "-bs -i: EHLO")
        codes, code, text = s.message(body("dash i", b"..", b"end"))
        t.eq(code, 250, "-bs -i: message accepted", text)
        t.eq(s.cmd("QUIT"), 221, "-bs -i: QUIT")
        t.eq(s.finish(), 0, "-bs -i: exit 0", s.errlog())
        msgs = sim.messages()
        t.ok(len(msgs) == 1 and msgs[0]["eml"].endswith(
            b"\r\n\r\n.\r\nend\r\n") and ses_id(text) == msgs[0]["id"],
            "-bs -i: the dot protocol as without -i (a .. line is .)",
            msgs)

    # --- SIZE ----------------------------------------------------------------
    with t.case("SIZE"):
        sim.scenario(name="size")
        s = BsSession(t.tmp, CONF_SMALL)
        s.reply()
        s.cmd("EHLO client.example")
        t.ok("250-SIZE 3000" in s.last, "EHLO offers SIZE 3000", s.last)
        t.eq(s.cmd("MAIL FROM:<%s> SIZE=3001" % SENDER), 552,
             "MAIL SIZE= above max_message_size: 552")
        t.eq(s.cmd("MAIL FROM:<%s> SIZE=3000" % SENDER), 250,
             "MAIL SIZE= max_message_size exactly: 250")
        t.eq(s.cmd("RSET"), 250, "RSET after it")
        t.eq(s.cmd("MAIL FROM:<%s> SIZE=2999" % SENDER), 250,
             "MAIL SIZE= under it: 250")
        t.eq(s.cmd("RCPT TO:<%s>" % RCPT), 250, "RCPT: 250")
        t.eq(s.cmd("DATA"), 354, "DATA: 354")
        s.send(b"".join(ln + b"\r\n" for ln in body("big", b"y" * 900,
                        b"y" * 900, b"y" * 900, b"y" * 900)) + b".\r\n")
        code, lines = s.reply()
        t.eq(code // 100, 5, "a message above it despite SIZE=: 5xx", lines)
        codes, code, text = s.message(body("small", b"fits"))
        t.eq(code, 250, "the session goes on: the next message is sent",
             text)
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "SIZE: exit 0", s.errlog())
        t.eq([m["eml"].split(b"Subject: ")[1][:5] for m in
              sim.messages()], [b"small"], "only the small one stored")

    # --- transactions of at most 50 recipients ----------------------------
    # One message with n RCPTs goes to SES in transactions of at most 50 on
    # one connection, in order, each recipient once; the 250 to the final
    # dot carries the id of the last transaction.
    for n in (50, 51, 100, 101):
        with t.case("-bs %d recipients" % n):
            rs = ["b%03d@example.net" % i for i in range(n)]
            sim.scenario(name="bs-rcpts-%d" % n)
            s = BsSession(t.tmp, CONF)
            s.reply()
            s.cmd("EHLO client.example")
            codes, code, text = s.message(body("many", b"x"), rcpts=rs)
            t.eq((codes, code), ([250] * (n + 1) + [354], 250),
                 "-bs, %d RCPT: 250 to each, 250 to the dot" % n, text)
            s.cmd("QUIT")
            t.eq(s.finish(), 0, "-bs, %d: exit 0" % n, s.errlog())
            sim.wait_closed()
            msgs = sim.messages()
            t.eq([m["rcpt"] for m in msgs],
                 [rs[i:i + 50] for i in range(0, n, 50)],
                 "-bs, %d: transactions of at most 50, in order, each "
                 "recipient once" % n)
            t.eq((sim.connections(), len({m["conn"] for m in msgs})),
                 (1, 1), "-bs, %d: on one connection" % n)
            t.eq(ses_id(text), msgs[-1]["id"] if msgs else None,
                 "-bs, %d: the 250 carries the last transaction's id" % n)

    # --- local recipients with admin_address ------------------------------
    with t.case("admin"):
        sim.scenario(name="admin")
        s = BsSession(t.tmp, CONF_ADMIN)
        s.reply()
        s.cmd("EHLO client.example")
        codes, code, text = s.message(body("to root", b"hi"),
                                      rcpts=("root",))
        t.eq((codes, code), ([250, 250, 354], 250),
             "RCPT TO:<root> with admin_address: accepted and sent", text)
        s.cmd("QUIT")
        s.finish()
        t.eq([m["rcpt"] for m in sim.messages()], [["admin@example.com"]],
             "a local recipient goes to admin_address")

    # --- SES refuses the 2nd message ------------------------------------
    with t.case("refused"):
        sim.scenario(name="refused", conns=[[
            {"stage": "dot", "action": "reply", "reply": NOT_VERIFIED,
             "count": 2}]])
        s = BsSession(t.tmp, CONF)
        s.reply()
        s.cmd("EHLO client.example")
        _, c1, text1 = s.message(body("accepted", b"one"))
        _, c2, text2 = s.message(body("refused", b"two"))
        t.eq(c1, 250, "1st message: 250", text1)
        t.eq(c2, 554, "2nd message, refused by SES: 554", text2)
        t.ok("not verified" in text2, "the 554 carries SES's reason", text2)
        t.eq(s.cmd("NOOP"), 250, "the session goes on after the 554")
        t.eq(s.cmd("QUIT"), 221, "QUIT: 221")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        msgs = sim.messages()
        t.eq([m["id"] for m in msgs], [ses_id(text1)],
             "the stored message is the 1st, with the id in its 250")
        t.eq(sim.connections(), 1, "one SES connection for both")

    # --- transient failure -------------------------------------------------
    with t.case("transient"):
        sim.scenario(name="transient", conns=[[
            {"stage": "dot", "action": "reply", "reply": TRANSIENT}]])
        s = BsSession(t.tmp, CONF)      # retry_delays none
        s.reply()
        s.cmd("EHLO client.example")
        _, c1, text1 = s.message(body("deferred", b"one"))
        t.eq(c1 // 100, 4, "a transient failure at the dot: 4xx", text1)
        t.ok("Temporary service failure" in text1,
             "the 4xx carries SES's text", text1)
        _, c2, text2 = s.message(body("later", b"two"))
        t.eq(c2, 250, "the next message (new connection, no fault): 250",
             text2)
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        t.eq([m["id"] for m in sim.messages()], [ses_id(text2)],
             "only the 2nd stored")

    # --- retries late in a session ------------------------------------------
    # retry_deadline counts from each message's final dot: a session older
    # than retry_deadline still gets its retries (design.md 2: "4xx when
    # transient after retries"), and the logged delay is the message's.
    with t.case("late retry"):
        conf = write_conf(t.tmp / "deadline.conf", sim, retry_delays="0.2",
                          retry_deadline=2)
        sim.scenario(name="late-retry", conns=[[
            {"stage": "dot", "action": "reply", "reply": TRANSIENT}], []])
        s = BsSession(t.tmp, conf)
        s.reply()
        s.cmd("EHLO client.example")
        time.sleep(2.5)                 # past retry_deadline
        _, code, text = s.message(body("late", b"x"))
        t.eq(code, 250, "2.5 s into a session with retry_deadline 2: the "
             "451 is retried, 250", text)
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        t.eq([m["conn"] for m in sim.messages()], [2],
             "stored by the 2nd attempt, on a new connection")
        delay = re.search(r"attempts=2 delay=([\d.]+) status=sent",
                          s.errlog())
        t.ok(delay and float(delay.group(1)) < 2,
             "the logged delay is the message's, not the session's",
             s.errlog())

    # --- the input ends in the middle of DATA ------------------------------
    with t.case("eof in data"):
        sim.scenario(name="eof")
        s = BsSession(t.tmp, CONF)
        s.reply()
        s.cmd("EHLO client.example")
        s.cmd("MAIL FROM:<%s>" % SENDER)
        s.cmd("RCPT TO:<%s>" % RCPT)
        s.cmd("DATA")
        s.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
        rc = s.finish()
        t.ok(rc is not None, "EOF inside DATA: the process ends", rc)
        t.eq((sim.connections(), sim.messages()), (0, []),
             "EOF inside DATA: nothing sent")

    # --- max_messages_per_connection ----------------------------------------
    with t.case("max messages"):
        sim.scenario(name="max2")
        s = BsSession(t.tmp, CONF_MAX2)
        s.reply()
        s.cmd("EHLO client.example")
        codes = [s.message(body("n%d" % i, b"x"))[1] for i in range(3)]
        t.eq(codes, [250, 250, 250], "3 messages: 250 each")
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        sim.wait_closed()
        t.eq(sim.connections(), 2,
             "max_messages_per_connection 2, 3 messages: 2 connections")
        t.eq([m["conn"] for m in sim.messages()], [1, 1, 2],
             "messages 1 and 2 on the 1st, 3 on the 2nd")

    # --- max_connection_age -----------------------------------------------
    with t.case("max age"):
        conf = write_conf(t.tmp / "age.conf", sim, max_connection_age=1)
        sim.scenario(name="age")
        s = BsSession(t.tmp, conf)
        s.reply()
        s.cmd("EHLO client.example")
        c1 = s.message(body("young", b"x"))[1]
        time.sleep(1.2)
        c2 = s.message(body("old", b"y"))[1]
        c3 = s.message(body("again", b"z"))[1]
        t.eq([c1, c2, c3], [250, 250, 250], "3 messages: 250 each")
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        t.eq([m["conn"] for m in sim.messages()], [1, 2, 2],
             "max_connection_age 1: a new connection after 1.2 s, then "
             "kept")

    # --- idleness ------------------------------------------------------------
    with t.case("idle"):
        sim.scenario(name="idle")
        s = BsSession(t.tmp, CONF)
        s.reply()
        s.cmd("EHLO client.example")
        _, c1, _ = s.message(body("before", b"x"))
        time.sleep(IDLE_PAUSE)
        _, c2, text2 = s.message(body("after", b"y"))
        t.eq([c1, c2], [250, 250], "messages 9 s apart: 250 each", text2)
        s.cmd("QUIT")
        t.eq(s.finish(), 0, "exit 0", s.errlog())
        sim.wait_closed()
        t.eq([m["conn"] for m in sim.messages()], [1, 2],
             "after ~9 s idle, a new SES connection for the next send")
        t.eq(len(sim.events("fault")), 0, "no fault injected")
        t.ok("closed" not in s.errlog(),
             "no kept session found closed by SES (renewed before)",
             s.errlog())

    # --- a kept session SES closed: reconnecting costs no attempt ------------
    # SES ends a session with 421, with its idle "451 4.4.2 Timeout", or
    # just closes it; the next message's MAIL finds out.  With one attempt
    # only (retry_delays none) the message must still go, on a new
    # connection, and the summary line must say attempts=1.  (The idle 451
    # itself, with a 1 s idle simulator, is below.)
    for how, fault in (
            ("421", {"action": "reply", "reply": "421 Service not "
                     "available, closing transmission channel"}),
            ("EOF", {"action": "drop"}),
            ("reset", {"action": "reset"})):
        with t.case("kept session closed: " + how):
            sim.scenario(name="closed-" + how, conns=[[
                dict(stage="mail", count=2, **fault)]])
            kept_closed(CONF, sim, how)

    # One attempt left after that, not one fewer: with two attempts and
    # the new connection's greeting dropped, the third connection sends it.
    with t.case("kept session closed: then one retry"):
        # One address, or the dropped greeting moves on to the next.
        conf = write_conf(t.tmp / "retry1.conf", sim, retry_delays="0.1",
                          host="127.0.0.1")
        sim.scenario(name="closed-retry", conns=[
            [{"stage": "mail", "count": 2, "action": "drop"}],
            [{"stage": "greeting", "action": "drop"}]])
        kept_closed(conf, sim, "EOF, then a dropped greeting", conns=3,
                    attempts=2)

    # --- Symfony Mailer's dialogue, as SmtpTransport writes it ---------------
    # SendmailTransport with "-bs" runs SmtpTransport over the process's
    # pipes: HELO (not EHLO), MAIL, RCPT, DATA, the message with "\r\n."
    # made "\r\n..", then "\r\n.\r\n"; it reads the SES id from the reply
    # with the regex below (SmtpTransport::parseMessageId), and after a
    # failure sends RSET before going on.
    SYMFONY_ID = re.compile(r"250 Ok (?P<id>[0-9a-f-]+)\r?$",
                            re.M | re.I | re.S)

    def symfony_send(s, subject, text):
        codes = [s.cmd("MAIL FROM:<%s>" % SENDER),
                 s.cmd("RCPT TO:<%s>" % RCPT), s.cmd("DATA")]
        msg = ("From: App <app@example.com>\r\nTo: %s\r\nSubject: %s\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; "
               "charset=utf-8\r\nContent-Transfer-Encoding: "
               "quoted-printable\r\n\r\n%s" % (RCPT, subject, text))
        s.send(msg.replace("\r\n.", "\r\n..").encode())
        s.send(b"\r\n.\r\n")
        code, lines = s.reply()
        return codes, code, "".join(ln + "\r\n" for ln in lines)

    with t.case("symfony"):
        sim.scenario(name="symfony", conns=[[
            {"stage": "dot", "action": "reply", "reply": NOT_VERIFIED,
             "count": 2}]])
        s = BsSession(t.tmp, CONF, args=("-bs", "-i"))
        t.eq(s.reply()[0], 220, "Symfony: greeting 220")
        t.eq(s.cmd("HELO [127.0.0.1]"), 250, "Symfony: HELO [127.0.0.1]")
        codes, c1, r1 = symfony_send(s, "one", "line 1\r\n.dot line\r\n"
                                     "last line")
        t.eq((codes, c1), ([250, 250, 354], 250), "Symfony: 1st: 250", r1)
        found = SYMFONY_ID.search(r1)
        codes, c2, r2 = symfony_send(s, "two", "refused")
        t.eq(c2, 554, "Symfony: 2nd, refused by SES: 554", r2)
        t.eq(s.cmd("RSET"), 250, "Symfony: RSET after the failure: 250")
        t.eq(s.cmd("QUIT"), 221, "Symfony: QUIT: 221")
        t.eq(s.finish(), 0, "Symfony: exit 0", s.errlog())
        msgs = sim.messages()
        t.eq(len(msgs), 1, "Symfony: one message stored")
        if msgs:
            m = msgs[0]
            t.eq(found.group("id") if found else None, m["id"],
                 "Symfony: parseMessageId() finds the id SES stored", r1)
            t.ok(m["eml"].endswith(b"\r\n\r\nline 1\r\n.dot line\r\n"
                                   b"last line\r\n") and
                 m["eml"].startswith(b"From: App <app@example.com>\r\n"),
                 "Symfony: the message as written, dot line intact",
                 m["eml"])
            t.eq((m["mail_from"], m["rcpt"]), (SENDER, [RCPT]),
                 "Symfony: envelope")

    # --- swaks --pipe -----------------------------------------------------
    swaks = shutil.which("swaks")
    if swaks is None:
        t.skip("swaks --pipe", "swaks is not installed")
    else:
        with t.case("swaks"):
            sim.scenario(name="swaks")
            r = subprocess.run(
                [swaks, "--pipe", "%s -C %s -bs" % (binary(), CONF),
                 "--from", SENDER, "--to", RCPT, "--helo", "client.example",
                 "--header", "Subject: via swaks", "--body", "swaks body"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                env=dict(os.environ, HOME=str(t.tmp)))
            out = r.stdout.decode(errors="replace")
            t.eq(r.returncode, 0, "swaks --pipe: exit 0", out)
            t.ok(re.search(r"^<-\s+250 Ok \S+$", out, re.M),
                 "swaks saw 250 with the SES id after its dot", out)
            msgs = sim.messages()
            t.eq(len(msgs), 1, "swaks: one message stored", out)
            if msgs:
                m = msgs[0]
                t.eq((m["mail_from"], m["rcpt"]), (SENDER, [RCPT]),
                     "swaks: envelope")
                t.ok(b"\r\nSubject: via swaks\r\n" in m["eml"] and
                     b"swaks body" in m["eml"], "swaks: header and body",
                     m["eml"])
                t.ok(m["id"] in out, "swaks: the id it saw is SES's",
                     out)

    # --- Python's smtplib over a socketpair --------------------------------
    class PipeSMTP(smtplib.SMTP):
        """smtplib.SMTP whose connection is a child process: one end of a
        socketpair is its stdin and stdout, the other is self.sock (and
        smtplib makes self.file from it)."""

        def __init__(self, argv, errfile, timeout=20):
            self.argv, self.errfile, self.proc = argv, errfile, None
            super().__init__(timeout=timeout)

        def connect(self, host="localhost", port=0, source_address=None):
            ours, theirs = socket.socketpair()
            self.proc = subprocess.Popen(self.argv, stdin=theirs,
                                         stdout=theirs, stderr=self.errfile,
                                         start_new_session=True)
            theirs.close()
            ours.settimeout(self.timeout)
            self.sock, self.file = ours, None
            code, msg = self.getreply()
            if self.debuglevel > 0:
                self._print_debug("connect:", repr(msg))
            return code, msg

        def reap(self, timeout=20):
            if self.proc is None:
                return None
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
                return None

    with t.case("smtplib"):
        sim.scenario(name="smtplib", conns=[[
            {"stage": "dot", "action": "reply", "reply": NOT_VERIFIED,
             "count": 2}]])
        errpath = t.tmp / "smtplib.err"
        with open(errpath, "wb") as errf:
            c = PipeSMTP([binary(), "-C", str(CONF), "-bs"], errf)
            code, greet = c.connect()
            t.eq(code, 220, "smtplib: greeting 220", greet)
            msg1 = ("From: App <app@example.com>\r\nTo: %s\r\n"
                    "Subject: smtplib one\r\n\r\nfirst\r\n.leading dot\r\n"
                    % RCPT)
            refused1 = c.sendmail(SENDER, [RCPT, "cc@example.org"], msg1)
            t.eq(refused1, {}, "smtplib: 1st sendmail() returns normally")
            try:
                c.sendmail(SENDER, [RCPT], "Subject: smtplib two\r\n\r\n"
                           "second\r\n")
                t.ok(False, "smtplib: 2nd sendmail() raises SMTPDataError")
            except smtplib.SMTPDataError as e:
                t.eq(e.smtp_code, 554,
                     "smtplib: 2nd raises SMTPDataError 554", e)
            t.eq(c.noop()[0], 250, "smtplib: the session goes on (NOOP)")
            t.eq(c.quit()[0], 221, "smtplib: QUIT 221")
            t.eq(c.reap(), 0, "smtplib: the process exits 0",
                 errpath.read_text(errors="replace"))
        sim.wait_closed()
        msgs = sim.messages()
        t.eq(len(msgs), 1, "smtplib: one message stored")
        t.eq(sim.connections(), 1, "smtplib: one SES connection")
        if msgs:
            m = msgs[0]
            t.eq((m["mail_from"], m["rcpt"]),
                 (SENDER, [RCPT, "cc@example.org"]), "smtplib: envelope")
            t.ok(m["eml"].startswith(b"From: App <app@example.com>\r\nTo: "
                                     b"rcpt@example.net\r\nSubject: smtplib "
                                     b"one\r\n") and
                 m["eml"].endswith(b"\r\n\r\nfirst\r\n.leading dot\r\n"),
                 "smtplib: header and body (smtplib stuffed the dot, "
                 "ses-sendmail unstuffed it)", m["eml"])

    t.eq(sim.errors(), "", "simulator: no errors")

# SES's own idle timeout, shortened to 1 s: the kept session (used less
# than 8 s before, so kept) gets "451 4.4.2 Timeout waiting for data from
# client." and is closed before the second message.
with Sim(t.tmp, idle=1) as sim:
    with t.case("kept session closed: idle 451"):
        sim.scenario(name="closed-idle")
        kept_closed(write_conf(t.tmp / "idle1.conf", sim), sim, "idle 451",
                    pause=2)
        t.ok(any("451 4.4.2 Timeout" in ln for ln in sim.transcript()),
             "idle 451: SES said so before closing")

t.diag("%.1f s" % (time.monotonic() - start))
t.done()
