#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP: design.md 8, every exit code the simulator can produce in one attempt.
Each case runs twice.  With `log stderr`: the exit code, the connections,
the messages stored, the summary line of design.md 10 (status=deferred for what
is transient, bounced for the rest) and the error line last.  With
`log none`: stderr is exactly that one error line, `ses-sendmail: ...`,
carrying SES's reply when there was one."""

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (PASSWORD, SECRET, Result, Sim, Tap,  # noqa: E402
                     binary, closed_port, run, write_conf)

SENDER = "sender@example.com"
RCPT = "rcpt@example.net"
MSG = b"From: sender@example.com\nTo: rcpt@example.net\nSubject: exit\n\nhi\n"
SUMMARY_RE = re.compile(
    r"ses-sendmail: from=<%s> to=(?P<to>\S+) size=\d+ "
    r"relay=(?:none|[^\s\[]+(?:\[[0-9a-f.:]+\])?:\d+) "
    r"attempts=(?P<attempts>\d+) "
    r"delay=\d+\.\d\d status=(?P<status>sent|deferred|bounced) "
    r"\((?P<reply>.*)\)(?: id=<\S+@email\.amazonses\.com>)?"
    r"(?P<dup> possible-duplicate)?$" % re.escape(SENDER))
NOT_VERIFIED = ("554 Message rejected: Email address is not verified. The "
                "following identities failed the check in region US-EAST-1: "
                "sender@example.com")
ACCESS_DENIED = ("554 Access denied: User `arn:aws:iam::123456789012:user/"
                 "ses-smtp' is not authorized to perform `ses:SendRawEmail' "
                 "on resource `arn:aws:ses:us-east-1:123456789012:identity/"
                 "example.com'")

t = Tap(deadline=120)


def F(stage, action, **kw):
    kw.update(stage=stage, action=action)
    return kw




def client_lines(sim):
    sim.wait_closed()
    return [ln.split(" C: ", 1)[1] for ln in sim.transcript()
            if " C: " in ln]


def case(sim, desc, rc, conns, stored, text=None, status=None, faults=None,
         default=None, keys=None, args=None, attempts=1, dup=False,
         check=None, reply=None):
    """One exit code, checked under log stderr and then log none.  faults:
    those of the first connection; default: those of every connection.
    text: in the error line, and (or reply when given) in the summary's
    parentheses.  check(r, sim): more checks on the log stderr run."""
    reply = reply if reply is not None else text
    keys = dict(keys or {})
    # One address: a failure must not move on to another ("localhost" may
    # name ::1 as well).
    keys.setdefault("host", "127.0.0.1")
    args = args or ["-i", RCPT]
    spec = dict(conns=[faults] if faults else None, default=default,
                name=re.sub(r"\W+", "-", desc)[:30])
    with t.case(desc):
        conf = write_conf(t.tmp / "exit.conf", sim, **keys)
        sim.scenario(**spec)
        r = run(args, stdin=MSG, conf=conf)
        t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r)
        if conns is not None:       # None: as many as the deadline allows
            t.eq(sim.connections(), conns, "%s: %d connection(s)" % (
                desc, conns))
        msgs = sim.messages()
        t.eq(len(msgs), stored, "%s: %d message(s) stored" % (desc, stored))
        lines = r.err.splitlines()
        t.ok(lines and all(ln.startswith("ses-sendmail: ") for ln in lines),
             "%s: every stderr line starts with 'ses-sendmail: '" % desc,
             r.err)
        last = lines[-1] if lines else ""
        if text is not None:
            t.ok(text in last, "%s: the error line has %r" % (desc, text),
                 r.err)
        if status is not None:
            sums = [m for m in map(SUMMARY_RE.match, lines) if m]
            s = sums[0] if len(sums) == 1 else None
            t.ok(s is not None and s.group("status") == status and
                 s.group("attempts") == str(
                     attempts if attempts is not None else
                     sim.connections()) and
                 bool(s.group("dup")) == dup and
                 (reply is None or reply in s.group("reply")),
                 "%s: summary line, status=%s attempts=%s%s" % (
                     desc, status, "each" if attempts is None else attempts,
                     " possible-duplicate" if dup else ""), r.err)
        if check:
            check(r, sim)
        keys["log"] = "none"
        conf = write_conf(t.tmp / "exit.conf", sim, **keys)
        sim.scenario(**spec)
        r2 = run(args, stdin=MSG, conf=conf)
        t.ok(r2.rc == rc and r2.err == last + "\n",
             "%s: log none: stderr is that one line" % desc,
             "%r\nwant: %r" % (r2, last))
        return r


def quit_after(code):
    """A check: QUIT still went out after the reply `code` (design.md 6)."""
    def check(r, sim):
        sim.wait_closed()
        tr = sim.transcript()
        at = [i for i, ln in enumerate(tr) if " S: %s" % code in ln]
        q = [i for i, ln in enumerate(tr) if ln.endswith(" C: QUIT")]
        t.ok(at and q and q[-1] > at[-1],
             "QUIT sent after the %s verdict (design.md 6)" % code, "\n".join(tr))
    return check


def no_quit(r, sim):
    t.ok("QUIT" not in client_lines(sim),
         "no QUIT on a connection the server closed")


# --- the caller's resource limits -------------------------------------------
# Each ends in a sysexits code and one line that names the limit to raise,
# never a signal or a silent exit.  Below some value of each limit the
# dynamic loader itself fails, before the program runs: a sweep accepts
# that (its own line, or its crash) only below the first value where the
# program answered.

SANITIZED = b"__asan_init" in Path(binary()).read_bytes()
LOADER = b"error while loading shared libraries"
# GnuTLS initialises itself in a constructor, before main(): short of
# memory there it prints this line of its own, and ses-sendmail cannot
# help it.  Where the limit first bites depends on the binary's layout.
GNUTLS_INIT = b"Error in GnuTLS initialization"
BIG = b"Subject: big\n\n" + (b"x" * 70 + b"\n") * 3300       # 230 KB
FIELDS = b"Subject: fields\n" + b"".join(
    b"X-F%d: %s\n" % (i, b"y" * 80) for i in range(2000)) + b"\nbody\n"


def limited(args, stdin=MSG, conf=None, limits=(), pre=None, stdout=None,
            timeout=60, env=None):
    """Run the binary with setrlimit() done in the child before exec."""
    def preexec():
        for res, value in limits:
            resource.setrlimit(res, value)
        if pre:
            pre()
    argv = [binary()] + (["-C", str(conf)] if conf else []) + args
    p = subprocess.run(argv, input=stdin, stdout=stdout or subprocess.PIPE,
                       stderr=subprocess.PIPE, preexec_fn=preexec,
                       timeout=timeout, env=env)
    return Result(p.returncode, p.stdout or b"", p.stderr, 0, False)


def one_line(r, rc, words):
    """rc, and one error line naming `words` (the limit)."""
    lines = r.err.splitlines()
    return r.rc == rc and len(lines) == 1 and \
        lines[0].startswith("ses-sendmail: ") and words in lines[0]


def sweep(desc, res, values, words, args, stdin, conf, sim):
    """Every value: sent (0), or 71 and one line naming `words`; the
    loader's own failures only below the first answer."""
    bad, answered, seen = [], False, []
    for v in values:
        sim.scenario(name="limit")
        r = limited(args, stdin, conf, [(res, (v, v))])
        loader = (r.rc == 127 and LOADER in r.stderr or r.rc < 0 or
                  GNUTLS_INIT in r.stderr)
        seen.append("%s:%s" % (v if v < 1024 else "%dK" % (v >> 10), r.rc))
        if loader and not answered:
            continue
        answered = True
        if not (r.rc == 0 or one_line(r, 71, words)):
            bad.append("%d: %r" % (v, r))
    t.ok(answered and not bad, "%s: each run sent, or exit 71 and one line "
         "naming %s (%s)" % (desc, words, " ".join(seen)), "\n".join(bad))


def child_cpu(fn):
    """The CPU time (user + system) of the children fn() ran."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime -
            before.ru_utime - before.ru_stime)


def burn_cpu(until):
    """In the child before exec: use CPU time up to `until` seconds."""
    while time.process_time() < until:
        pass


def limits(sim):
    conf = write_conf(t.tmp / "limits.conf", sim, log="none", timeout=20)
    out = t.tmp / "limits.out"
    # RLIMIT_FSIZE: the spool, and standard output.
    sim.scenario(name="fsize")
    r = limited(["-i", RCPT], BIG, conf,
                [(resource.RLIMIT_FSIZE, (16384, 16384))])
    t.ok(one_line(r, 71, "ulimit -f") and not sim.messages(),
         "ulimit -f 16, a 230 KB message: exit 71, one line, nothing sent",
         repr(r))
    for args in (["--version"], ["-bv", RCPT], ["-bp"]):
        with open(out, "wb") as f:
            r = limited(args, b"", conf, [(resource.RLIMIT_FSIZE, (0, 0))],
                        stdout=f)
        t.ok(one_line(r, 74, "ulimit -f"), "ulimit -f 0, %s to a file: "
             "exit 74, one line" % " ".join(args), repr(r))
    # RLIMIT_NOFILE: the resolver, the trust store, the socket, the spool.
    for args, desc in ((["-i", RCPT], "a send"),
                       (["-bv", RCPT], "-bv"),
                       (["-t", "-i"], "-t")):
        sweep("ulimit -n 3 to 8, %s" % desc, resource.RLIMIT_NOFILE,
              range(3, 9), "ulimit -n", args,
              b"To: " + RCPT.encode() + b"\n" + MSG, conf, sim)
    desc = "stdin closed and ulimit -n 3: exit 71, one line"
    if SANITIZED:
        # Its runtime moves a file it opens on 0 above 2, in a loop.
        t.skip(desc, "AddressSanitizer build")
    else:
        sim.scenario(name="nofile-stdin")
        r = limited(["-i", RCPT], b"", conf,
                    [(resource.RLIMIT_NOFILE, (3, 3))],
                    pre=lambda: os.close(0), timeout=20)
        t.ok(one_line(r, 71, "ulimit -n"), desc, repr(r))
    # RLIMIT_DATA and RLIMIT_AS: the configuration, the spool, the header
    # block, GnuTLS.  AddressSanitizer's shadow memory cannot live there.
    if SANITIZED:
        t.skip("ulimit -d and -v sweeps", "AddressSanitizer build")
    else:
        sweep("ulimit -d 256 KiB to 1.5 MiB", resource.RLIMIT_DATA,
              range(256 << 10, 1536 << 10, 16 << 10), "ulimit -d",
              ["-i", RCPT], FIELDS, conf, sim)
        sweep("ulimit -v 8 to 16 MiB", resource.RLIMIT_AS,
              range(8 << 20, 16 << 20, 1 << 18), "ulimit -v",
              ["-i", RCPT], FIELDS, conf, sim)
    # RLIMIT_STACK: raised when the hard limit allows, else refused.  The
    # environment and arguments sit on that stack too: a small one here.
    sim.scenario(name="stack")
    small = {"PATH": "/usr/bin:/bin"}
    r = limited(["-i", RCPT], MSG, conf, env=small,
                limits=[(resource.RLIMIT_STACK,
                         (20480, resource.RLIM_INFINITY))])
    t.ok(r.rc == 0 and len(sim.messages()) == 1, "ulimit -S -s 20: the "
         "soft limit is raised, sent", repr(r))
    r = limited(["-i", RCPT], MSG, conf, env=small,
                limits=[(resource.RLIMIT_STACK, (20480, 20480))])
    t.ok(one_line(r, 71, "ulimit -s"), "ulimit -s 20: exit 71, one line",
         repr(r))
    # RLIMIT_CPU: SIGXCPU at the soft limit, in the middle of a 20 MB send;
    # then one the caller had blocked, already pending at exec.
    # The CPU time left at exec lies between what start-up costs (loader,
    # libraries' constructors: measured with --version) and what the whole
    # send costs, measured here: a fixed margin was too small for the
    # libraries' start-up on a loaded machine.
    sim.scenario(name="cpu")
    big = b"Subject: cpu\n\n" + (b"x" * 76 + b"\n") * 270000
    start = child_cpu(lambda: limited(["--version"], b"", conf))
    whole = child_cpu(lambda: limited(["-i", RCPT], big, conf))
    # A kill by SIGXCPU before main() is the start-up's (tick-based CPU
    # accounting under load): tried again with more room, at most twice.
    for room in ((start + whole) / 2, whole * 0.7, whole * 0.85):
        sim.scenario(name="cpu")
        r = limited(["-i", RCPT], big, conf,
                    [(resource.RLIMIT_CPU, (1, 30))],
                    pre=lambda: burn_cpu(1 - room))
        if r.rc != -signal.SIGXCPU:
            break
    t.ok(one_line(r, 71, "ulimit -t"), "the soft CPU limit reached during a "
         "send: exit 71, one line (start-up %.3f s, the send %.3f s of CPU)"
         % (start, whole), repr(r))

    def blocked():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGXCPU})
        burn_cpu(1.05)
    r = limited(["-i", RCPT], MSG, conf, [(resource.RLIMIT_CPU, (1, 30))],
                pre=blocked)
    t.ok(one_line(r, 71, "ulimit -t"), "SIGXCPU blocked by the caller and "
         "pending: exit 71, one line", repr(r))
    sim.scenario()


with Sim(t.tmp) as sim:
    # --- 75: transient ------------------------------------------------
    case(sim, "421 at greeting", 75, 1, 0,
         "421 Too many concurrent SMTP connections", "deferred",
         [F("greeting", "reply",
            reply="421 Too many concurrent SMTP connections")], check=no_quit)
    case(sim, "451 at dot", 75, 1, 0, "451 Temporary service failure",
         "deferred", [F("dot", "reply",
                        reply="451 Temporary service failure")],
         check=quit_after(451))
    # Throttling is retried until retry_deadline whatever retry_delays
    # says (design.md 7, "Sending rate"; test_rate.py has the rest): the
    # attempts are as many as full jitter's random waits allow.
    case(sim, "454 rate until retry_deadline", 75, None, 0,
         "454 Throttling failure: Maximum sending rate exceeded", "deferred",
         default=[F("dot", "reply", reply="454 Throttling failure: Maximum "
                    "sending rate exceeded")],
         keys={"retry_delays": "0.1 0.1", "retry_deadline": 2},
         attempts=None)
    case(sim, "454 daily quota, not retried", 75, 1, 0,
         "454 Throttling failure: Daily message quota exceeded", "deferred",
         default=[F("dot", "reply", reply="454 Throttling failure: Daily "
                    "message quota exceeded")],
         keys={"retry_delays": "0.1 0.1"})
    case(sim, "drop at greeting", 75, 1, 0, "closed the connection",
         "deferred", [F("greeting", "drop")])
    case(sim, "drop at dot", 75, 1, 0, "may have accepted", "deferred",
         [F("dot", "drop")], dup=True,
         reply="closed the connection")
    case(sim, "accept_drop, retry_after_data no", 75, 1, 1,
         "may have accepted", "deferred", [F("dot", "accept_drop")],
         keys={"retry_after_data": False, "retry_delays": "0.1"}, dup=True,
         reply="closed the connection")
    port = closed_port()
    case(sim, "nothing listens", 75, 0, 0,
         "port %d: Connection refused" % port, "deferred",
         keys={"port": port})

    def quick(r, sim):
        t.ok(1.9 < r.elapsed < 3.5, "hang: gave up after timeout 2 "
             "(%.2f s)" % r.elapsed)
    case(sim, "hang at MAIL, timeout 2", 75, 1, 0, "within 2 s", "deferred",
         [F("mail", "hang", seconds=6)], keys={"timeout": 2}, check=quick)

    # --- 77: credentials ------------------------------------------------
    def creds_advice(r, sim):
        last = r.err.splitlines()[-1]
        t.ok("SMTP credentials are not the IAM" in last,
             "535: says SMTP credentials are not the IAM keys", last)
    case(sim, "535 at AUTH", 77, 1, 0,
         "535 Authentication Credentials Invalid", "bounced",
         [F("auth", "reply",
            reply="535 Authentication Credentials Invalid")],
         check=creds_advice)

    def auth_failed(r, sim):
        ev = sim.events("auth")
        t.ok(len(ev) == 1 and not ev[0]["ok"],
             "wrong password: the simulator refused it", ev)
        creds_advice(r, sim)
    case(sim, "wrong password", 77, 1, 0,
         "535 Authentication Credentials Invalid", "bounced",
         keys={"password": "X" + PASSWORD[1:]}, check=auth_failed)
    case(sim, "530 at MAIL", 77, 1, 0, "530 Authentication required",
         "bounced", [F("mail", "reply",
                       reply="530 Authentication required")])

    # --- 65: the message ------------------------------------------------
    case(sim, "552 at dot", 65, 1, 0, "552 Message is too long.", "bounced",
         [F("dot", "reply", reply="552 Message is too long.")],
         check=quit_after(552))
    case(sim, "554 duplicate header", 65, 1, 0,
         "554 Transaction failed: Duplicate header 'X'.", "bounced",
         [F("dot", "reply",
            reply="554 Transaction failed: Duplicate header 'X'.")])
    case(sim, "501 at MAIL", 65, 1, 0, "501 Invalid MAIL FROM address "
         "provided", "bounced",
         [F("mail", "reply", reply="501 Invalid MAIL FROM address provided")])

    # --- 69: refused for good -------------------------------------------
    case(sim, "554 not verified", 69, 1, 0, NOT_VERIFIED, "bounced",
         [F("dot", "reply", reply=NOT_VERIFIED)], check=quit_after(554))
    case(sim, "554 access denied", 69, 1, 0, ACCESS_DENIED, "bounced",
         [F("dot", "reply", reply=ACCESS_DENIED)])

    # --- 67: a recipient refused, the other delivered ---------------------
    def other_delivered(r, sim):
        msgs = sim.messages()
        t.eq([m["rcpt"] for m in msgs], [["a@example.net"]],
             "553 at RCPT: the other recipient delivered, alone")
        last = r.err.splitlines()[-1]
        t.ok("b@example.net" in last and "a@example.net" not in last,
             "553 at RCPT: stderr names the refused one only", last)
    case(sim, "553 at second RCPT", 67, 1, 1,
         "553 <b@example.net> address unknown", "bounced",
         [F("rcpt", "reply", reply="553 <b@example.net> address unknown",
            count=2)],
         args=["-i", "a@example.net", "b@example.net"],
         check=other_delivered)

    # --- 76: protocol ---------------------------------------------------
    for stage in ("greeting", "ehlo", "dot"):
        case(sim, "garbage at " + stage, 76, 1, 0, "this is not smtp",
             "bounced", [F(stage, "garbage")],
             keys={"retry_delays": "0.1"})

    # --- 68: no such host ----------------------------------------------
    try:
        socket.getaddrinfo("nonexistent.invalid", 465)
        nx = "nonexistent.invalid resolves here"
    except socket.gaierror as e:
        nx = None if e.errno == socket.EAI_NONAME else \
            "the resolver answers %s, not NXDOMAIN" % e
    if nx:
        t.skip("NXDOMAIN host: exit 68", nx)
    else:
        case(sim, "NXDOMAIN", 68, 0, 0, "nonexistent.invalid", "bounced",
             keys={"host": "nonexistent.invalid"})

    # --- 78: configuration ----------------------------------------------
    def conf_case(desc, line, want):
        """A bad line appended to a good file: 78, one line naming the
        file and line, never the value; nothing connects."""
        with t.case(desc):
            path = write_conf(t.tmp / "bad.conf", sim, log="none")
            with open(path, "a") as f:
                f.write(line + "\n")
            n = len(path.read_text().splitlines())
            sim.scenario(name="conf")
            r = run(["-i", RCPT], stdin=MSG, conf=path)
            t.eq(r.rc, 78, "%s: exit 78" % desc, r)
            t.eq(sim.connections(), 0, "%s: no connection" % desc)
            err = r.err
            t.ok(err.startswith("ses-sendmail: %s:%d: " % (path, n)) and
                 err.count("\n") == 1 and want in err,
                 "%s: one line, file:line, %r" % (desc, want), err)
            pieces = {s[i:i + 8] for s in (PASSWORD, SECRET)
                      for i in range(len(s) - 7)}
            leaked = [p for p in pieces if p in r.out + err]
            desc2 = "%s: no part of the secret printed" % desc
            t.ok(not leaked, desc2, err)

    conf_case("unknown key", "secret_key " + SECRET, "'secret_key'")
    conf_case("unknown key, a typo of password", "passwd " + PASSWORD,
              "'passwd'")
    conf_case("key=value", "password=" + PASSWORD, "not a 'key value' line")
    conf_case("key:value", "password:" + PASSWORD + " x", "'password:'")
    conf_case("a secret alone on a line", PASSWORD, "not a 'key value'")
    conf_case("bad value", "retry_deadline " + SECRET,
              "retry_deadline: bad value")
    conf_case("repeated password", "password " + PASSWORD, "repeated")
    conf_case("control character", "aws_secret_access_key " + SECRET +
              "\x01", "control character")
    # A secret pasted with anything after it is the "key" of its line:
    # a word that does not look like a key is never shown.
    conf_case("a secret then a comment on one line",
              PASSWORD + " # the SMTP password", "not shown")

    limits(sim)

t.done()
