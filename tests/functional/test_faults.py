# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""The fault table (design.md 7 and 8, ses.md 5.3): every failure the SES
simulator can inject, at every stage where it can happen, and sequences
of them.  Each row asserts the exit code, the number of connections, the
number of messages stored, an upper bound on the elapsed time, and the
stderr line.  Then transactions of at most 50 recipients under faults."""

import re

from sestest import Sim, Tap, closed_port, run, write_conf

# Fast retries: four attempts, 0.1 s apart (jittered), short timeouts.
# One address, so that each connection is one attempt's ("localhost" may
# name ::1 as well, and a failed address moves on to the next).
FAST = dict(retry_delays="0.1 0.1 0.1", retry_deadline=30, timeout=2,
            host="127.0.0.1")
STAGE = {"greeting": "greeting", "ehlo": "EHLO", "starttls": "STARTTLS",
         "tls": "TLS handshake", "auth": "AUTH", "mail": "MAIL FROM",
         "rcpt": "RCPT TO", "data": "DATA", "dot": "end of data"}
MSG = b"Subject: fault table\n\nbody\n"
# A hang outlasts every bound below by far, so a client that waited it out
# fails the row; the bounds leave room for a sanitizer build on a busy
# machine (a timeout of 2 s and three 0.1 s delays are all they must hold).
HANG = 30

R421 = "421 Too many concurrent SMTP connections"
R451 = "451 Temporary service failure"
R454 = "454 Throttling failure: Maximum sending rate exceeded"
R454Q = "454 Throttling failure: Daily message quota exceeded"
R454A = "454 Temporary authentication failure"
R535 = "535 Authentication Credentials Invalid"
R530T = "530 Must issue a STARTTLS command first"
R530A = "530 Authentication required"
R552 = "552 Message is too long."
R554V = ("554 Message rejected: Email address is not verified. The "
         "following identities failed the check in region US-EAST-1: "
         "sender@example.com")
R554D = ("554 Access denied: User `arn:aws:iam::123456789012:user/x' is "
         "not authorized to perform `ses:SendRawEmail' on resource "
         "`arn:aws:ses:us-east-1:123456789012:identity/sender@example.com'")
R554H = "554 Transaction failed: Duplicate header 'Subject'."
R554N = "554 Transaction failed: Recipient count exceeds 50."
R501 = "501 Invalid MAIL FROM address provided"
R553M = "553 <sender@example.com> Invalid email address"
R553R = "553 <rcpt@example.net> address unknown"


def fault(stage, action, reply=None, **kw):
    f = {"stage": stage, "action": action}
    if reply is not None:
        f["reply"] = reply
    if action == "hang":
        f.setdefault("seconds", HANG)
    f.update(kw)
    return f


def rows():
    out = []
    # Transient once, then SES accepts: two connections, one message.
    transient = [("drop", None), ("reset", None), ("hang", None),
                 ("reply", R421), ("reply", R451), ("reply", R454)]
    for stage in ("greeting", "ehlo", "auth", "mail", "rcpt", "data",
                  "dot"):
        for action, reply in transient:
            name = "%s at %s" % (reply.split(":")[0] if reply else action,
                                 stage)
            out.append(dict(name=name + ", then accepted",
                            conns=[[fault(stage, action, reply)]],
                            rc=0, n=2, stored=1, within=10,
                            err=r"attempt 1 via 127\.0\.0\.1\[127\.0\.0\.1\]:"
                                r"\d+ %s at %s" % (
                                    "throttled" if reply == R454 else
                                    "failed", re.escape(STAGE[stage]))))
    for action in ("drop", "reset", "hang"):
        out.append(dict(name="%s during the TLS handshake, then accepted"
                        % action, conns=[[fault("tls", action)]], rc=0, n=2,
                        stored=1, within=10, err=r"failed at TLS handshake"))
    for action, reply in (("drop", None), ("reply", R421),
                          ("reply", "454 Temporary service failure")):
        out.append(dict(name="%s at STARTTLS, then accepted"
                        % (reply or action), starttls=True,
                        conns=[[fault("starttls", action, reply)]], rc=0,
                        n=2, stored=1, within=10, err=r"failed at STARTTLS"))
    out.append(dict(name="454 temporary authentication failure, then ok",
                    conns=[[fault("auth", "reply", R454A)]], rc=0, n=2,
                    stored=1, within=10, err=r"454 Temporary authentication"))
    # Permanent: one connection, nothing stored, the right code.
    permanent = [
        ("auth", R535, 77, r"535 Authentication Credentials Invalid.*"
         r"not the IAM access keys"),
        ("auth", R530T, 76, r"530 Must issue a STARTTLS command first"),
        ("mail", R530A, 77, r"530 Authentication required"),
        ("dot", R552, 65, r"552 Message is too long"),
        ("dot", R554V, 69, r"not verified.*verify the identity"),
        ("dot", R554D, 69, r"Access denied.*ses:SendRawEmail"),
        ("dot", R554H, 65, r"Duplicate header 'Subject'"),
        ("dot", R554N, 65, r"Recipient count exceeds 50"),
        ("mail", R501, 65, r"501 Invalid MAIL FROM"),
        ("mail", R553M, 65, r"553 <sender@example.com> Invalid"),
        ("rcpt", R553R, 67, r"553 <rcpt@example.net> address unknown"),
        ("rcpt", "550 Mailbox unavailable", 67, r"550 Mailbox"),
        ("greeting", "554 No SMTP service here", 69, r"554 No SMTP"),
        ("ehlo", "554 Access denied", 69, r"554 Access denied"),
        ("data", "554 Transaction failed", 65, r"554 Transaction failed"),
        ("dot", R454Q, 75, r"Daily message quota exceeded.*quota"),
    ]
    for stage, reply, rc, err in permanent:
        out.append(dict(name="%s at %s" % (reply[:40], stage),
                        default=[fault(stage, "reply", reply)], rc=rc, n=1,
                        stored=0, within=4, err=err))
    for stage in ("greeting", "ehlo", "auth", "mail", "rcpt", "data", "dot"):
        out.append(dict(name="garbage at %s" % stage,
                        default=[fault(stage, "garbage")], rc=76, n=1,
                        stored=0, within=4, err=r"malformed reply at %s"
                        % re.escape(STAGE[stage])))
    # Transient every time: four connections, then 75 with the last reply.
    for stage, action, reply in (("greeting", "reply", R421),
                                 ("dot", "reply", R451),
                                 ("mail", "drop", None),
                                 ("rcpt", "reset", None)):
        out.append(dict(name="%s at %s every time" % (reply or action, stage),
                        default=[fault(stage, action, reply)], rc=75, n=4,
                        stored=0, within=10,
                        err=r"message not sent: .*%s"
                        % re.escape((reply or "")[:20])))
    # Throttling uses up no retry_delays: retried until retry_deadline,
    # as many times as full jitter's random waits allow (n None: two or
    # more; design.md 7, "Sending rate").
    out.append(dict(name="%s at dot every time" % R454,
                    default=[fault("dot", "reply", R454)],
                    conf=dict(retry_deadline=3), rc=75, n=None, stored=0,
                    within=3.5, err=r"no time left before retry_deadline"
                    r"(.|\n)*message not sent: .*%s.*set max_send_rate" %
                    re.escape(R454)))
    # Sequences.
    out.append(dict(name="drop, then 454, then accepted",
                    conns=[[fault("greeting", "drop")],
                           [fault("dot", "reply", R454)]],
                    rc=0, n=3, stored=1, within=10, err=r"attempt 2 via"))
    out.append(dict(name="421 three times, accepted on the last attempt",
                    conns=[[fault("greeting", "reply", R421)]] * 3,
                    rc=0, n=4, stored=1, within=10, err=r"attempt 3 via"))
    out.append(dict(name="reset at RCPT, hang at DATA, then accepted",
                    conns=[[fault("rcpt", "reset")], [fault("data", "hang")]],
                    rc=0, n=3, stored=1, within=12, err=r"attempt 2 via"))
    out.append(dict(name="lost after the final dot: sent again",
                    conns=[[fault("dot", "accept_drop")]], rc=0, n=2,
                    stored=2, within=10,
                    err=r"may have accepted the message; sending it again"))
    out.append(dict(name="lost after the final dot, retry_after_data no",
                    conns=[[fault("dot", "accept_drop")]],
                    conf=dict(retry_after_data=False), rc=75, n=1,
                    stored=1, within=4,
                    err=r"not sent again \(retry_after_data no\)"))
    out.append(dict(name="no wait begins that would end past the deadline",
                    default=[fault("dot", "reply", R451)],
                    conf=dict(retry_delays="3 3 3", retry_deadline=2),
                    rc=75, n=1, stored=0, within=2.5,
                    err=r"no time left before retry_deadline"))
    out.append(dict(name="retry_delays none: one attempt",
                    conns=[[fault("dot", "reply", R451)]],
                    conf=dict(retry_delays="none"), rc=75, n=1, stored=0,
                    within=3, err=r"451 Temporary service failure"))
    return out




def check_row(t, sim, row):
    keys = dict(FAST)
    if row.get("starttls"):
        keys.update(port=sim.starttls_port, tls="starttls")
    keys.update(row.get("conf", {}))
    conf = write_conf(t.tmp / "faults.conf", sim, **keys)
    sim.scenario(conns=row.get("conns"), default=row.get("default"))
    r = run(["rcpt@example.net"], stdin=MSG, conf=conf, timeout=30)
    sim.wait_closed()
    got = (r.rc, sim.connections(), len(sim.messages()))
    want = (row["rc"], row["n"], row["stored"])
    if row["n"] is None:
        want = (row["rc"], max(2, got[1]), row["stored"])
    lines = [ln for ln in r.err.splitlines() if ln]
    last = lines[-1] if lines else ""
    ok = (got == want and r.elapsed <= row["within"]
          and re.search(row["err"], r.err) is not None
          and last.startswith("ses-sendmail: "))
    t.ok(ok, "%s: exit %d, %s connection%s, %d stored, within %.1f s" % (
        row["name"], row["rc"], row["n"] or "2 or more",
        "" if row["n"] == 1 else "s",
        row["stored"], row["within"]),
        "got exit %s, %d connections, %d stored, %.2f s\n%s" % (
            got[0], got[1], got[2], r.elapsed, r.err[-1500:]))


def rcpts(n):
    return ["r%03d@example.net" % i for i in range(n)]


def test_batches(t, sim):
    """design.md 5: more than 50 recipients go in transactions of at most 50
    on one connection; an accepted one is never sent again."""
    conf = write_conf(t.tmp / "batch.conf", sim, **FAST)
    everyone = rcpts(120)
    sim.scenario()
    r = run(everyone, stdin=MSG, conf=conf)
    got = [len(m["rcpt"]) for m in sim.messages()]
    t.ok(r.rc == 0 and got == [50, 50, 20] and sim.connections() == 1,
         "120 recipients: three transactions of 50, 50, 20 on one "
         "connection", "%r %r" % (r, got))

    sim.scenario(conns=[[fault("dot", "reply", R451, count=2)]])
    r = run(everyone, stdin=MSG, conf=conf)
    msgs = sim.messages()
    sent = [a for m in msgs for a in m["rcpt"]]
    t.ok(r.rc == 0 and sim.connections() == 2 and sorted(sent) == everyone,
         "451 on the second transaction: only the unsent ones go again",
         "%r %d %d" % (r, sim.connections(), len(sent)))
    t.ok([m["conn"] for m in msgs] == [1, 2, 2],
         "the first transaction went on connection 1 only",
         repr([m["conn"] for m in msgs]))

    sim.scenario(conns=[[fault("dot", "reply", R554V, count=2)]])
    r = run(everyone, stdin=MSG, conf=conf)
    msgs = sim.messages()
    t.ok(r.rc == 69 and len(msgs) == 1 and len(msgs[0]["rcpt"]) == 50,
         "554 on the second transaction: exit 69, the first delivered",
         repr(r))
    t.ok("not delivered to r050@example.net" in r.err and
         "r119@example.net" in r.err and "r000@example.net" not in
         r.err.split("not delivered to")[-1],
         "stderr lists the recipients not delivered", r.err[-600:])


def test_stall(t, sim):
    """A path that drops large packets: writes stop making progress; the
    error names the likely MTU problem, within the timeout."""
    conf = write_conf(t.tmp / "stall.conf", sim, timeout=2,
                      retry_delays="none")
    big = b"Subject: big\n\n" + (b"x" * 76 + b"\n") * 130000  # 10 MB
    sim.scenario(default=[fault("data", "stall_read", bytes=65536,
                                seconds=15)])
    r = run(["rcpt@example.net"], stdin=big, conf=conf, timeout=30)
    last = r.err.strip().splitlines()[-1] if r.err.strip() else ""
    t.ok(r.rc == 75 and "made no progress for 2 s" in last and
         "MTU" in last and r.elapsed < 8,
         "a stalled large write: exit 75 naming the MTU, within the "
         "timeout (%.1f s)" % r.elapsed, r.err[-800:])


def main():
    t = Tap(name="faults", deadline=600)
    with Sim(t.tmp) as sim:
        table = rows()
        t.diag("%d rows" % len(table))
        for row in table:
            check_row(t, sim, row)
        conf = write_conf(t.tmp / "refused.conf", sim, port=closed_port(),
                          tls="wrapper", **FAST)
        r = run(["rcpt@example.net"], stdin=MSG, conf=conf)
        t.ok(r.rc == 75 and r.elapsed < 3 and
             "Connection refused" in r.err.splitlines()[-1],
             "connection refused every time: exit 75, with the reason",
             repr(r))
        t.ok(len(re.findall(r"attempt \d via", r.err)) == 3,
             "a warning line per failed attempt", r.err)
        test_batches(t, sim)
        test_stall(t, sim)
        t.eq(sim.errors(), "", "the simulator logged no error")
    t.done()


if __name__ == "__main__":
    main()
