# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""SES's sending rate (design.md 7, "Sending rate"), against simulators
that enforce one (--max-send-rate): throttling backs off with full jitter
until retry_deadline without using up retry_delays; bursts of separate
processes lose nothing within deadline x rate; max_send_rate paces every
process through rate_file with no throttled reply, a wall time close to
burst / rate, and an early 75 with the reason for a message whose turn
would come after the deadline; the rate file survives a killed lock
holder, a missing, unusable, truncated, garbage, other-boot or
far-future file; -bs takes a turn per message; recipients are counted.

Bursts are a few dozen to a hundred processes at rates of 20 to 50 a
second and deadlines of a few seconds; the sanitizer build runs smaller
ones (its processes start slower).  The big figures are in bench/."""

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sestest import (ApiSim, BsSession, Sim, Tap, binary,  # noqa: E402
                     run, write_conf)

SANITIZED = b"__asan_init" in Path(binary()).read_bytes()
SCALE = 0.5 if SANITIZED else 1.0
THROTTLE = "454 Throttling failure: Maximum sending rate exceeded."
MSG = b"Subject: burst\n\nhello\n"
RCPT = "rcpt@example.net"
BOOKED = "this message's turn would come after retry_deadline"


class Burst:
    """n processes started at once, each with its own start and end."""

    def __init__(self, tmp, conf, n, timeout=40, rcpts=(RCPT,)):
        self.procs = []
        t0 = time.monotonic()
        for i in range(n):
            err = open(tmp / ("burst-%d.err" % i), "w+b")
            p = subprocess.Popen([binary(), "-C", str(conf), "-i"] +
                                 list(rcpts), stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 start_new_session=True)
            p.errf, p.start, p.end = err, time.monotonic(), None
            self.procs.append(p)
        for p in self.procs:
            p.stdin.write(MSG)
            p.stdin.close()
        deadline = t0 + timeout
        while time.monotonic() < deadline and \
                any(p.end is None for p in self.procs):
            for p in self.procs:
                if p.end is None and p.poll() is not None:
                    p.end = time.monotonic()
            time.sleep(0.005)
        for p in self.procs:
            if p.end is None:
                os.killpg(p.pid, 9)
                p.wait()
                p.end = time.monotonic()
            p.errf.seek(0)
            p.err = p.errf.read().decode(errors="replace")
            p.errf.close()
        self.t0 = t0
        self.wall = max(p.end for p in self.procs) - t0
        self.rcs = [p.returncode for p in self.procs]

    def count(self, rc):
        return self.rcs.count(rc)


def rate_conf(t, sim, name, **keys):
    return write_conf(t.tmp / (name + ".conf"), sim,
                      **dict(dict(retry_delays="1 5 10", log="stderr"),
                             **keys))


def throttling(t):
    """Backoff: throttles use up no retry_delays, other 4xx do."""
    with Sim(t.tmp) as sim:
        conf = rate_conf(t, sim, "backoff", retry_delays="0.1",
                         retry_deadline=30)
        throttle = {"stage": "dot", "action": "reply", "reply": THROTTLE}
        sim.scenario(conns=[[throttle]] * 3, name="throttled")
        r = run([RCPT], stdin=MSG, conf=conf, timeout=40)
        t.eq((r.rc, sim.connections(), len(sim.messages())), (0, 4, 1),
             "SMTP: three 454 throttles then sent, though retry_delays "
             "allows two attempts", r.err)
        t.ok(r.err.count("throttled at end of data") == 3 and
             r.elapsed < 7.5, "each throttle logged, waits within "
             "1 + 2 + 4 s (%.1f s)" % r.elapsed, r.err)
        other = {"stage": "dot", "action": "reply",
                 "reply": "451 4.3.0 Temporary failure"}
        sim.scenario(conns=[[other]] * 3, name="other")
        r = run([RCPT], stdin=MSG, conf=conf, timeout=40)
        t.eq((r.rc, sim.connections()), (75, 2),
             "another 4xx still uses retry_delays: two attempts, 75", r.err)
        sim.scenario(default=[throttle], name="always")
        conf = rate_conf(t, sim, "short", retry_delays="0.1",
                         retry_deadline=3)
        r = run([RCPT], stdin=MSG, conf=conf, timeout=40)
        t.ok(r.rc == 75 and r.elapsed < 3.5 and sim.connections() >= 2 and
             "no time left before retry_deadline" in r.err and
             "set max_send_rate to the account's rate" in r.err,
             "always throttled: retried until the deadline (3 s), no wait "
             "past it (%.1f s, %d attempts), 75 with the advice" %
             (r.elapsed, sim.connections()), r.err)
    with ApiSim(t.tmp) as api:
        conf = rate_conf(t, api, "api-backoff", retry_delays="0.1",
                         retry_deadline=30)
        api.scenario(requests=[[{"action": "error", "status": 429,
                                 "type": "TooManyRequestsException",
                                 "message":
                                 "Maximum sending rate exceeded."}]] * 3,
                     name="api-throttled")
        r = run([RCPT], stdin=MSG, conf=conf, timeout=40)
        t.eq((r.rc, len(api.requests()), len(api.messages())), (0, 4, 1),
             "API: three 429 TooManyRequestsException then sent", r.err)


def bursts(t):
    n = int(60 * SCALE)
    with Sim(t.tmp, max_send_rate=20) as sim:
        conf = rate_conf(t, sim, "unpaced", retry_deadline=15)
        b = Burst(t.tmp, conf, n)
        thr = len(sim.events("throttled"))
        t.ok(b.count(0) == n and len(sim.messages()) == n and thr > 0,
             "unpaced: %d at once at 20/s within deadline x rate: all "
             "sent (%d throttled replies, %.1f s)" % (n, thr, b.wall),
             repr(b.rcs))
    # Slow enough that the processes' own start does not pace them.
    for kind, n in (("SMTP", int(60 * SCALE)), ("API", int(40 * SCALE))):
        with (Sim if kind == "SMTP" else ApiSim)(t.tmp,
                                                 max_send_rate=20) as sim:
            conf = rate_conf(t, sim, "paced-" + kind, retry_deadline=10,
                             max_send_rate=20,
                             rate_file=t.tmp / ("rate-" + kind))
            b = Burst(t.tmp, conf, n)
            thr = len(sim.events("throttled"))
            ideal = (n - 20) / 20.0
            t.ok(b.count(0) == n and len(sim.messages()) == n and
                 thr == 0 and ideal * 0.8 <= b.wall <= ideal + 1.5,
                 "%s paced: %d at once at 20/s: all sent, no throttled "
                 "reply (%d), wall %.1f s against %.1f s past the first "
                 "second's burst" % (kind, n, thr, b.wall, ideal),
                 repr(b.rcs))
    # Full size in both builds: half would fit within deadline x rate.
    n, rate, dl = 100, 20, 2
    early = 1.5 if SANITIZED else 1.0
    with Sim(t.tmp, max_send_rate=rate) as sim:
        conf = rate_conf(t, sim, "beyond", retry_deadline=dl,
                         max_send_rate=rate, rate_file=t.tmp / "rate-b")
        b = Burst(t.tmp, conf, n)
        late = [p.end - p.start for p in b.procs if p.returncode == 75 and
                p.end - p.start > early]
        said = all(BOOKED in p.err for p in b.procs if p.returncode == 75)
        # Each process's deadline counts from its own start: the ones
        # that started later (a loaded machine, a sanitizer build) have
        # that much more room.
        spread = max(p.start for p in b.procs) - min(p.start for p in b.procs)
        fit = rate + rate * dl
        t.ok(set(b.rcs) <= {0, 75} and b.count(75) > 0 and not late and
             said and len(sim.events("throttled")) == 0 and
             fit - 5 <= b.count(0) <= fit + 2 + rate * spread,
             "beyond deadline x rate (%d at %d/s, deadline %d s): %d sent, "
             "%d exit 75 early with the reason, none late (starts spread "
             "over %.2f s)" % (n, rate, dl, b.count(0), b.count(75), spread),
             "late %r, rcs %r" % (late[:5], b.rcs))


def record(boot, vtime):
    return b"ses-sendmail-rate 1 %s %020d\n" % (boot, vtime)


def lock_cases(t):
    boot = Path("/proc/sys/kernel/random/boot_id").read_bytes().strip()
    now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    with Sim(t.tmp, max_send_rate=20) as sim:
        rf = t.tmp / "rate-lock"

        def conf(path=rf, **keys):
            return rate_conf(t, sim, "lock", max_send_rate=20,
                             rate_file=path, retry_deadline=3, **keys)

        # A holder killed while it holds the lock: the waiter proceeds.
        rf.write_bytes(b"")
        holder = subprocess.Popen(
            [sys.executable, "-c", "import fcntl, sys, time\n"
             "f = open(sys.argv[1], 'r+')\n"
             "fcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\n"
             "time.sleep(60)\n", str(rf)], stdout=subprocess.PIPE)
        t.eq(holder.stdout.readline().strip(), b"locked", "holder locks")
        p = subprocess.Popen([binary(), "-C", str(conf()), "-i", RCPT],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(MSG)
        p.stdin.close()
        time.sleep(0.7)
        waiting = p.poll() is None
        holder.kill()
        holder.wait()
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        t.ok(waiting and rc == 0, "a lock holder killed with SIGKILL: the "
             "waiter waited, then sent (exit %r)" % rc, p.stderr.read())

        def case(desc, content, want_warn, path=rf, mode=0o600):
            if content is not None:
                path.unlink(missing_ok=True)
                path.write_bytes(content)
                os.chmod(path, mode)
            r = run([RCPT], stdin=MSG, conf=conf(path), timeout=20)
            warned = r.err.count("sending without pacing")
            ok = r.rc == 0 and warned == (1 if want_warn else 0)
            if not want_warn and path.is_file():
                data = path.read_bytes()
                ok = ok and len(data) == 78 and data.startswith(
                    b"ses-sendmail-rate 1 " + boot)
            t.ok(ok and r.elapsed < 2.5, "%s: sent at once%s (%.1f s)" % (
                desc, ", one warning" if want_warn else
                ", the record reset", r.elapsed), r.err)

        case("rate file missing, folder missing", None, True,
             path=t.tmp / "nowhere" / "rate")
        (t.tmp / "fresh").unlink(missing_ok=True)
        case("rate file missing, folder writable: made", None, False,
             path=t.tmp / "fresh")
        case("rate file not writable (/proc/version)", None, True,
             path=Path("/proc/version"))
        case("rate file a folder", None, True, path=t.tmp)
        case("rate file writable by others", b"", True, mode=0o666)
        case("rate file empty", b"", False)
        case("rate file truncated", record(boot, now)[:30], False)
        case("rate file garbage", os.urandom(300), False)
        case("rate file from another boot",
             record(b"00000000-0000-0000-0000-000000000000",
                    now + 30 * 10**9), False)
        case("a vtime far in the future (a clock jump)",
             record(boot, time.clock_gettime_ns(time.CLOCK_MONOTONIC) +
                    10**6 * 10**9), False)
        # The control: a booking within reach is honoured.
        rf.write_bytes(record(boot, time.clock_gettime_ns(
            time.CLOCK_MONOTONIC) + 5 * 10**9))
        r = run([RCPT], stdin=MSG, conf=conf(), timeout=20)
        t.ok(r.rc == 75 and BOOKED in r.err and r.elapsed < 1.5 and
             rf.read_bytes().startswith(b"ses-sendmail-rate 1 " + boot),
             "booked 5 s ahead, deadline 3 s: 75 at once with the reason "
             "(%.1f s), nothing booked" % r.elapsed, r.err)
        t.eq(sim.errors(), "", "the simulator logged no error")


def per_message(t):
    with Sim(t.tmp, max_send_rate=2) as sim:
        conf = rate_conf(t, sim, "rcpts", max_send_rate=2,
                         rate_file=t.tmp / "rate-rcpts", retry_deadline=10)
        three = ["a@example.net", "b@example.net", "c@example.net"]
        r1 = run(three, stdin=MSG, conf=conf, timeout=20)
        r2 = run([RCPT], stdin=MSG, conf=conf, timeout=20)
        t.ok(r1.rc == 0 and r2.rc == 0 and r2.elapsed >= 0.8 and
             len(sim.events("throttled")) == 0,
             "recipients counted: after 3 recipients at 2/s, the next "
             "message waits (%.1f s)" % r2.elapsed, r1.err + r2.err)
    with Sim(t.tmp, max_send_rate=1) as sim:
        conf = rate_conf(t, sim, "bs", max_send_rate=1,
                         rate_file=t.tmp / "rate-bs", retry_deadline=10)
        bs = BsSession(t.tmp, conf)
        code, _ = bs.reply()
        bs.cmd("EHLO client.example")
        finals, times = [], []
        for i in range(3):
            start = time.monotonic()
            _, final, _ = bs.message([b"Subject: bs %d" % i, b"", b"hi"])
            finals.append(final)
            times.append(time.monotonic() - start)
        rc = bs.finish(quit=True)
        t.ok(finals == [250] * 3 and rc == 0 and times[1] >= 0.8 and
             times[2] >= 0.8 and len(sim.events("throttled")) == 0,
             "-bs: a turn per message at 1/s (%s s)" %
             ", ".join("%.1f" % x for x in times), bs.errlog())


def check_report(t):
    """--check: the configured rate, the file, the account's rate."""
    with ApiSim(t.tmp, max_send_rate=7, verified="example.com") as api:
        cases = (
            (0, None, ["max_send_rate: off", "max_send_rate is off: bursts "
                       "above 7 a second are throttled"], 0),
            (10, t.tmp / "rate-check", ["max_send_rate 10 recipients a "
                                        "second, rate_file", ": usable",
                                        "max_send_rate 10 is above the "
                                        "account's 7"], 0),
            (5, t.tmp / "rate-check", ["max_send_rate 5 is below the "
                                       "account's 7"], 0),
            (7, t.tmp, ["rate_file %s cannot be used (" % t.tmp,
                        "mail goes unpaced"], 0))
        for rate, rf, wants, rc in cases:
            conf = rate_conf(t, api, "check", max_send_rate=rate,
                             rate_file=rf, timeout=3)
            r = run(["--check"], conf=conf, timeout=60)
            t.ok(r.rc == rc and all(w in r.out for w in wants),
                 "--check, max_send_rate %s%s: %s" % (
                     rate, " rate_file %s" % rf if rf else "",
                     "; ".join(wants)), r.out + r.err)


def main():
    t = Tap(name="rate", deadline=240)
    t.diag("sanitizer build: bursts at half size" if SANITIZED else
           "plain build: full-size bursts")
    throttling(t)
    bursts(t)
    lock_cases(t)
    per_message(t)
    check_report(t)
    t.done()


if __name__ == "__main__":
    main()
