#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP: the happy paths end to end (design.md 4, 6, 10).  Each message is
compared byte for byte with the wire form the simulator stored; only the
generated Date: and Message-ID: values are normalised.  TLS wrapper and
STARTTLS, AUTH PLAIN and LOGIN, BODY=8BITMIME, SIZE, QUIT without waiting,
the summary line, several recipients, -v with AUTH masked, IPv6."""

import base64
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (PASSWORD, SECRET, USER, Sim, Tap,  # noqa: E402
                     first_address, run, write_conf)
import sessim                                       # noqa: E402

SENDER = "sender@example.com"
RCPT = "rcpt@example.net"
DATE_RE = re.compile(rb"(?m)^Date: (?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} "
                     rb"\d{4} \d\d:\d\d:\d\d [+-]\d{4}\r$")
MSGID_RE = re.compile(rb"(?m)^Message-ID: <[!-;=?-~]+@[!-;=?-~]+>\r$")
ID_RE = r"0100[0-9a-f]{12}-[0-9a-f-]{36}-000000"
PLAIN_BLOB = base64.b64encode(b"\0%s\0%s" % (USER.encode(),
                                             PASSWORD.encode())).decode()
NOT_SHOWN = (PASSWORD, SECRET, PLAIN_BLOB,
             base64.b64encode(PASSWORD.encode()).decode())

# 7-bit: a leading dot, two dots, a CRLF line, and no final newline.
MSG7 = (b"From: Sender <sender@example.com>\nTo: rcpt@example.net\n"
        b"Subject: wrapper test\n\nline one\n.leading dot\n..two dots\n"
        b"crlf line\r\nlast line without newline")
WIRE7 = (b"From: Sender <sender@example.com>\r\nTo: rcpt@example.net\r\n"
         b"Subject: wrapper test\r\nDate: <DATE>\r\nMessage-ID: <ID>\r\n"
         b"\r\nline one\r\n..leading dot\r\n...two dots\r\ncrlf line\r\n"
         b"last line without newline\r\n")
# 8-bit body (UTF-8), headers 7-bit.
MSG8 = (b"From: Sender <sender@example.com>\nTo: rcpt@example.net\n"
        b"Subject: starttls test\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n\xc3\xa9t\xc3\xa9\n.\xe2\x82\xac\n")
WIRE8 = (b"From: Sender <sender@example.com>\r\nTo: rcpt@example.net\r\n"
         b"Subject: starttls test\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\nDate: <DATE>\r\n"
         b"Message-ID: <ID>\r\n\r\n\xc3\xa9t\xc3\xa9\r\n..\xe2\x82\xac\r\n")

t = Tap(deadline=120)


def norm(raw):
    """raw with the generated Date: and Message-ID: values replaced; each
    must have the right form, or it stays and the comparison fails."""
    raw = DATE_RE.sub(b"Date: <DATE>\r", raw)
    return MSGID_RE.sub(b"Message-ID: <ID>\r", raw)


def unstuff(wire):
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln
                        for ln in wire.split(b"\r\n"))


def client_lines(sim):
    """The client's side of the transcript once every connection ended."""
    sim.wait_closed()
    return [ln.split(" C: ", 1)[1] for ln in sim.transcript()
            if " C: " in ln]


def verbs(lines):
    return [ln.split(" ")[0].upper() for ln in lines]


def summary_re(port, region_domain="email.amazonses.com", to=RCPT,
               host="localhost", addr=None, mid=None):
    """design.md 10, as a regex over one stderr line; groups size and id."""
    tos = ",".join("<%s>" % re.escape(a) for a in
                   ([to] if isinstance(to, str) else to))
    return re.compile(
        r"ses-sendmail: from=<{s}> to={to} size=(?P<size>\d+) "
        r"relay={h}\[{a}\]:{p} attempts=1 delay=\d+\.\d\d status=sent "
        r"\(250 Ok (?P<id>{i})\) id=<(?P=id)@{d}>$".format(
            s=re.escape(SENDER), to=tos, h=re.escape(host),
            a=re.escape(addr or first_address(host)), p=port,
            i=re.escape(mid) if mid else ID_RE,
            d=re.escape(region_domain)))


def check_summary(r, sim, port, desc, **kw):
    """The stderr of a success is the one summary line, naming the id the
    simulator stored and the size it received."""
    lines = r.err.splitlines()
    msgs = sim.messages()
    mid = msgs[-1]["id"] if msgs else None
    m = summary_re(port, mid=mid, **kw).match(lines[-1] if lines else "")
    t.ok(len(lines) == 1 and m is not None,
         "%s: stderr is the summary line of design.md 10" % desc, r.err)
    if m and msgs:
        t.eq(int(m.group("size")), msgs[-1]["size"],
             "%s: size= is the size on the wire" % desc)


def no_secret(r, desc):
    both = r.out + r.err
    t.ok(not any(s in both for s in NOT_SHOWN),
         "%s: no password or AUTH payload on stdout/stderr" % desc, both)


with Sim(t.tmp) as sim:
    # --- TLS wrapper, 7-bit, AUTH PLAIN --------------------------------
    with t.case("wrapper"):
        conf = write_conf(t.tmp / "wrapper.conf", sim)
        sim.scenario(name="wrapper")
        r = run(["-i", RCPT], stdin=MSG7, conf=conf)
        t.eq(r.rc, 0, "wrapper: exit 0", r)
        msgs = sim.messages()
        t.eq(len(msgs), 1, "wrapper: one message stored")
        m = msgs[0] if msgs else {"raw": b"", "eml": b""}
        t.eq(norm(m["raw"]), WIRE7, "wrapper: the wire bytes, exactly")
        t.eq(norm(m["eml"]), unstuff(WIRE7),
             "wrapper: dot-unstuffed, the message as given")
        t.eq((m.get("mail_from"), m.get("rcpt"), m.get("mail_params")),
             (SENDER, [RCPT], []),
             "wrapper: envelope; 7-bit body, so no BODY=, no SIZE=")
        t.ok(m.get("tls") in ("TLSv1.2", "TLSv1.3"),
             "wrapper: TLS 1.2 or 1.3 (%s)" % m.get("tls"))
        t.eq(m.get("auth"), "PLAIN", "wrapper: AUTH PLAIN")
        auth = sim.events("auth")
        t.ok(len(auth) == 1 and auth[0]["initial"] and auth[0]["ok"],
             "wrapper: PLAIN with an initial response (RFC 4954 4)", auth)
        c = client_lines(sim)
        t.eq(verbs(c), ["EHLO", "AUTH", "MAIL", "RCPT", "DATA",
                        "<%d" % len(m["raw"]), "QUIT"],
             "wrapper: EHLO AUTH MAIL RCPT DATA QUIT, no STARTTLS", c)
        t.ok("AUTH PLAIN ***" in c and not any(
            ln.startswith("S: 334") for ln in sim.transcript()),
            "wrapper: no 334 challenge: the response went with AUTH")
        check_summary(r, sim, sim.wrapper_port, "wrapper")
        t.eq(r.out, "", "wrapper: nothing on stdout")

    # --- 8BITMIME ------------------------------------------------------
    with t.case("8bit wrapper"):
        sim.scenario(name="8bit")
        r = run(["-i", RCPT], stdin=MSG8, conf=conf)
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1, "8-bit: sent", r)
        if msgs:
            t.eq(msgs[0]["mail_params"], ["BODY=8BITMIME"],
                 "8-bit body: MAIL FROM has BODY=8BITMIME")
            t.eq(norm(msgs[0]["raw"]), WIRE8, "8-bit: the wire bytes")

    with t.case("8bit without 8BITMIME"):
        ehlo = ["250-email-smtp.amazonaws.com", "250-AUTH PLAIN LOGIN",
                "250 Ok"]
        sim.scenario(conns=[[{"stage": "ehlo", "action": "reply",
                              "reply": ehlo}]], name="no8bitmime")
        r = run(["-i", RCPT], stdin=MSG8, conf=conf)
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1 and
             msgs[0]["mail_params"] == [],
             "8-bit, 8BITMIME not offered: no BODY= (design.md 6)",
             "%r %r" % (r, [m["mail_params"] for m in msgs]))

    # --- several recipients --------------------------------------------
    with t.case("several recipients"):
        rcpts = ["a@example.net", "b@example.org", "c@example.net"]
        sim.scenario(name="rcpts")
        r = run(["-i"] + rcpts, stdin=MSG7, conf=conf)
        msgs = sim.messages()
        t.eq(r.rc, 0, "3 recipients: exit 0", r)
        t.eq([m["rcpt"] for m in msgs], [rcpts],
             "3 recipients: one message, every recipient, in order")
        c = client_lines(sim)
        t.eq(verbs(c).count("MAIL"), 1, "3 recipients: one transaction")
        t.eq([x for x in c if x.startswith("RCPT")],
             ["RCPT TO:<%s>" % a for a in rcpts], "3 recipients: 3 RCPT")
        t.eq(sim.connections(), 1, "3 recipients: one connection")
        check_summary(r, sim, sim.wrapper_port, "3 recipients", to=rcpts)

    # --- QUIT without waiting for 221 ----------------------------------
    with t.case("quit"):
        sim.scenario(conns=[[{"stage": "quit", "action": "delay",
                              "ms": 3000}]], name="quit")
        r = run(["-i", RCPT], stdin=MSG7, conf=conf)
        t.eq(r.rc, 0, "QUIT answered after 3 s: exit 0", r)
        t.ok(r.elapsed < 2, "the client does not wait for 221 (%.2f s)"
             % r.elapsed)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
                ln.endswith("C: QUIT") for ln in sim.transcript()):
            time.sleep(0.05)
        tr = sim.transcript()
        dot = [i for i, ln in enumerate(tr) if " S: 250 Ok 0" in ln]
        quit_ = [i for i, ln in enumerate(tr) if ln.endswith("C: QUIT")]
        t.ok(dot and quit_ and quit_[0] > dot[0],
             "QUIT sent after the verdict", "\n".join(tr))

    # --- -v: the dialogue, AUTH masked ---------------------------------
    with t.case("-v"):
        sim.scenario(name="verbose")
        r = run(["-v", "-i", RCPT], stdin=MSG7, conf=conf)
        t.eq(r.rc, 0, "-v: exit 0", r)
        err = r.err.splitlines()
        want = ["< 220 ", "> EHLO ", "< 250-", "> AUTH PLAIN ***", "< 235 ",
                "> MAIL FROM:<%s>" % SENDER, "> RCPT TO:<%s>" % RCPT,
                "> DATA", "< 354 ", "> .", "< 250 Ok ", "> QUIT"]
        pos, found = 0, []
        for w in want:
            for i in range(pos, len(err)):
                if err[i].startswith(w):
                    found.append(w)
                    pos = i + 1
                    break
        t.eq(found, want, "-v: the dialogue on stderr, in order", r.err)
        t.eq([ln for ln in err if ln.startswith("> AUTH")],
             ["> AUTH PLAIN ***"], "-v: AUTH PLAIN shown masked")
        no_secret(r, "-v PLAIN")
        t.eq(r.out, "", "-v: nothing on stdout")

# --- STARTTLS ----------------------------------------------------------
with Sim(t.tmp) as sim:
    with t.case("starttls"):
        conf = write_conf(t.tmp / "starttls.conf", sim,
                          port=sim.starttls_port, tls="starttls")
        sim.scenario(name="starttls")
        r = run(["-i", RCPT], stdin=MSG8, conf=conf)
        t.eq(r.rc, 0, "starttls: exit 0", r)
        msgs = sim.messages()
        t.eq(len(msgs), 1, "starttls: one message stored")
        m = msgs[0] if msgs else {"raw": b""}
        t.eq(norm(m["raw"]), WIRE8, "starttls: the wire bytes, exactly")
        t.eq(m.get("mail_params"), ["BODY=8BITMIME"],
             "starttls: 8-bit body: BODY=8BITMIME")
        t.ok(m.get("tls") in ("TLSv1.2", "TLSv1.3"),
             "starttls: TLS 1.2 or 1.3 (%s)" % m.get("tls"))
        c = client_lines(sim)
        v = verbs(c)
        t.eq(v[:4], ["EHLO", "STARTTLS", "EHLO", "AUTH"],
             "starttls: EHLO, STARTTLS, EHLO, AUTH", c)
        t.eq(v.count("STARTTLS"), 1, "starttls: STARTTLS sent once")
        tr = sim.transcript()
        t.eq(sum(1 for ln in tr if ln.endswith("S: 250-STARTTLS")), 2,
             "starttls: (the simulator offered it again after TLS)")
        first = lambda verb: v.index(verb) if verb in v else 99  # noqa
        t.ok(first("STARTTLS") < first("AUTH") < first("MAIL"),
             "starttls: never AUTH or MAIL before STARTTLS", c)
        t.eq(v[4:], ["MAIL", "RCPT", "DATA", "<%d" % len(m["raw"]),
                     "QUIT"], "starttls: then MAIL RCPT DATA QUIT")
        t.ok(not any("530" in ln for ln in tr),
             "starttls: no 530 (nothing before TLS)")
        check_summary(r, sim, sim.starttls_port, "starttls")

# --- SIZE advertised (SES before 2022) ---------------------------------
with Sim(t.tmp, size=2000) as sim:
    conf = write_conf(t.tmp / "size.conf", sim)
    with t.case("SIZE"):
        sim.scenario(name="size")
        r = run(["-i", RCPT], stdin=MSG7, conf=conf)
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1, "SIZE 2000: small message sent",
             r)
        if msgs:
            t.eq(msgs[0]["mail_params"], ["SIZE=%d" % msgs[0]["size"]],
                 "SIZE advertised: SIZE= the wire size, no BODY= for 7-bit")
    with t.case("SIZE exceeded"):
        big = MSG7 + b"\n" + b"0123456789abcdef\n" * 150   # 2.8 kB
        sim.scenario(name="size-big")
        r = run(["-i", RCPT], stdin=big, conf=conf)
        t.eq(r.rc, 65, "above the advertised SIZE: exit 65", r)
        t.eq(sim.messages(), [], "above SIZE: nothing stored")
        c = client_lines(sim)
        t.ok("DATA" not in verbs(c), "above SIZE: refused before DATA", c)
        t.ok("QUIT" in verbs(c), "above SIZE: QUIT still sent", c)
        last = r.err.splitlines()[-1] if r.err else ""
        t.ok(last.startswith("ses-sendmail: ") and "SIZE" in last,
             "above SIZE: the error line says why", r.err)

# --- transactions of at most 50 recipients (SES's limit) ------------------
# On one connection, in order, each recipient in exactly one transaction,
# the same message in each: 50 -> 50; 51 -> 50 + 1; 100 -> 50 + 50;
# 101 -> 50 + 50 + 1; max_recipients 2 and 5 recipients -> 2 + 2 + 1.
def addrs(n, tag="r"):
    return ["%s%03d@example.net" % (tag, i) for i in range(n)]


def batches(sim, want, desc, per=50):
    """The stored transactions hold `want` in order, `per` at most each,
    none lost, none twice, on one connection with one MAIL each."""
    msgs = sim.messages()
    split = [want[i:i + per] for i in range(0, len(want), per)]
    shape = "+".join(str(len(b)) for b in split)
    t.eq([m["rcpt"] for m in msgs], split,
         "%s: transactions of %s, in order" % (desc, shape))
    flat = [a for m in msgs for a in m["rcpt"]]
    t.ok(len(flat) == len(set(flat)) == len(want) and set(flat) == set(want),
         "%s: every recipient once, none lost" % desc)
    c = client_lines(sim)
    t.eq((verbs(c).count("MAIL"), verbs(c).count("RCPT"),
          sim.connections()), (len(split), len(want), 1),
         "%s: %d MAIL, %d RCPT, one connection" % (desc, len(split),
                                                   len(want)))
    t.ok(msgs and all(m["eml"] == msgs[0]["eml"] and
                      m["mail_from"] == SENDER for m in msgs),
         "%s: the same message and sender in each" % desc)


def t_message(to, cc, bcc):
    return (b"From: Sender <sender@example.com>\nTo: %s\nCc: %s\nBcc: %s\n"
            b"Subject: many\n\nbody\n" % tuple(
                ", ".join(x).encode() for x in (to, cc, bcc)))


with Sim(t.tmp) as sim:
    conf = write_conf(t.tmp / "many.conf", sim)
    for n in (50, 51, 100, 101):
        with t.case("%d recipients" % n):
            sim.scenario(name="argv-%d" % n)
            r = run(["-i"] + addrs(n), stdin=MSG7, conf=conf)
            t.eq(r.rc, 0, "%d recipients in argv: exit 0" % n, r)
            batches(sim, addrs(n), "%d in argv" % n)
        with t.case("-t %d recipients" % n):
            # To:, Cc: and Bcc: a third each; one argv recipient (sent
            # first) also in To: and one To: address again in Bcc:, both
            # sent once: n distinct recipients in all.
            rs = addrs(n, "t")
            to, cc, bcc = rs[:n // 3], rs[n // 3:2 * n // 3], rs[2 * n // 3:]
            sim.scenario(name="t-%d" % n)
            r = run(["-t", "-i", to[1]], stdin=t_message(
                to, cc, bcc + [to[0]]), conf=conf)
            t.eq(r.rc, 0, "-t, %d recipients: exit 0" % n, r)
            batches(sim, [to[1]] + to[:1] + to[2:] + cc + bcc,
                    "-t, %d" % n)
            t.ok(all(b"Bcc" not in m["eml"] for m in sim.messages()),
                 "-t, %d: no Bcc: in any transaction" % n)
    with t.case("max_recipients 2"):
        sim.scenario(name="max2")
        r = run(["-i"] + addrs(5), stdin=MSG7, conf=write_conf(
            t.tmp / "max2.conf", sim, max_recipients=2))
        t.eq(r.rc, 0, "max_recipients 2, 5 recipients: exit 0", r)
        batches(sim, addrs(5), "max_recipients 2", per=2)

# --- SIZE to the octet (RFC 1870) ------------------------------------------
# The size compared with SIZE is the message as it goes on the wire: CRLF
# line ends, the dot-stuffing, and the Date: and Message-ID: added, as the
# simulator counts what it receives (the final dot apart).  A message of
# exactly SIZE octets is sent; one octet more is refused before MAIL, 65.
def sized(pad):
    return (b"From: Sender <sender@example.com>\nTo: rcpt@example.net\n"
            b"Subject: size\n\n.one dot\n..two dots\n" + b"p" * pad +
            b"\n")


def wire_size(msg, raw):
    """The wire size of msg, worked out from its lines alone, plus the two
    fields the client generated (taken from what it sent)."""
    lines = msg.split(b"\n")[:-1]
    added = re.findall(rb"^(?:Date|Message-ID): [^\r]*\r\n", raw, re.M)
    return (sum(len(ln) + ln.startswith(b".") + 2 for ln in lines) +
            sum(len(a) for a in added))


W = 0
with Sim(t.tmp) as sim:
    with t.case("SIZE probe"):
        sim.scenario(name="size-probe")
        r = run(["-i", RCPT], stdin=sized(100), conf=write_conf(
            t.tmp / "probe.conf", sim))
        msgs = sim.messages()
        t.ok(r.rc == 0 and len(msgs) == 1, "SIZE probe: sent", r)
        W = msgs[0]["size"] if msgs else 0
        t.eq(W, wire_size(sized(100), msgs[0]["raw"] if msgs else b""),
             "the wire size counts CRLF, dot-stuffing and the added fields")
with Sim(t.tmp, size=W) as sim:
    conf = write_conf(t.tmp / "sizew.conf", sim)
    for pad, want in ((99, W - 1), (100, W)):
        with t.case("SIZE %d of %d" % (want, W)):
            sim.scenario(name="size-%d" % want)
            r = run(["-i", RCPT], stdin=sized(pad), conf=conf)
            msgs = sim.messages()
            t.ok(r.rc == 0 and len(msgs) == 1, "SIZE %d, message of %d "
                 "octets: sent" % (W, want), r)
            t.eq([(m["size"], m["mail_params"]) for m in msgs],
                 [(want, ["SIZE=%d" % want])], "SIZE %d, message of %d "
                 "octets: SIZE= says what went" % (W, want))
    with t.case("SIZE %d of %d" % (W + 1, W)):
        sim.scenario(name="size-over")
        r = run(["-i", RCPT], stdin=sized(101), conf=conf)
        t.eq(r.rc, 65, "SIZE %d, message of %d octets: exit 65" %
             (W, W + 1), r)
        t.eq(sim.messages(), [], "one octet over SIZE: nothing stored")
        c = client_lines(sim)
        t.ok(not ({"MAIL", "RCPT", "DATA"} & set(verbs(c))) and
             "QUIT" in verbs(c), "one octet over SIZE: refused before MAIL,"
             " then QUIT", c)
        t.ok("%d octets" % (W + 1) in r.err and "at most %d" % W in r.err,
             "one octet over SIZE: stderr gives both sizes", r.err)
    t.eq(sim.errors(), "", "simulator: no errors (SIZE)")

# --- AUTH LOGIN; eu-west-1 ---------------------------------------------
with Sim(t.tmp, login_only=True, region="eu-west-1") as sim:
    with t.case("login"):
        conf = write_conf(t.tmp / "login.conf", sim, region="eu-west-1",
                          password=None, aws_secret_access_key=SECRET)
        sim.scenario(name="login")
        r = run(["-v", "-i", RCPT], stdin=MSG7, conf=conf)
        t.eq(r.rc, 0, "LOGIN only, eu-west-1 derived password: exit 0", r)
        msgs = sim.messages()
        t.eq([m["auth"] for m in msgs], ["LOGIN"],
             "AUTH LOGIN when PLAIN is not offered")
        c = client_lines(sim)
        t.ok("AUTH LOGIN" in c and not any("PLAIN" in x for x in c),
             "LOGIN: no AUTH PLAIN attempted", c)
        t.eq([ln for ln in r.err.splitlines() if ln.startswith(">")][1:4],
             ["> AUTH LOGIN", "> ***", "> ***"],
             "-v: user name and password lines masked", r.err)
        derived = sessim.smtp_password(SECRET, "eu-west-1")
        both = r.out + r.err
        t.ok(all(s not in both for s in NOT_SHOWN + (
            derived, base64.b64encode(derived.encode()).decode(),
            base64.b64encode(USER.encode()).decode())),
            "LOGIN -v: no secret, no base64 credential", both)
        summary = [ln for ln in r.err.splitlines() if "status=" in ln]
        m = summary_re(sim.wrapper_port, "eu-west-1.amazonses.com",
                       mid=msgs[0]["id"] if msgs else None).match(
            summary[0] if summary else "")
        t.ok(m is not None, "eu-west-1: id=<ID@eu-west-1.amazonses.com>",
             r.err)

# --- IPv6 --------------------------------------------------------------
with Sim(t.tmp, ipv6=True) as sim:
    for kind, port in (("wrapper", sim.wrapper6_port),
                       ("starttls", sim.starttls6_port)):
        with t.case("ipv6 " + kind):
            conf = write_conf(t.tmp / "v6.conf", sim, host="::1", port=port,
                              tls=kind)
            sim.scenario(name="v6-" + kind)
            r = run(["-i", RCPT], stdin=MSG7, conf=conf)
            t.eq(r.rc, 0, "IPv6 ::1 %s: exit 0" % kind, r)
            ev = sim.events("connect")
            t.eq([e["family"] for e in ev], ["ipv6"],
                 "IPv6 %s: connected over IPv6" % kind)
            msgs = sim.messages()
            t.eq(len(msgs), 1, "IPv6 %s: stored" % kind)
            if msgs:
                t.eq(norm(msgs[0]["raw"]), WIRE7,
                     "IPv6 %s: the wire bytes" % kind)
            check_summary(r, sim, port, "IPv6 " + kind, host="::1",
                          addr="::1")

t.done()
