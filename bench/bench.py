#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""ses-sendmail against msmtp, side by side, on the same work (issue #7).

    /usr/bin/python3 bench/bench.py --binary build-bench/sendmail/ses-sendmail
        [--sends 200] [--delay-sends N] [--big-runs 5] [--big-mib 30]
        [--quick] [--json FILE] [--workdir DIR] [--keep] [--serve]

bench/run.sh installs what is missing, builds, and runs this.  Python 3
standard library and tests/functional/sestest.py (the simulator harness)
only.

Four clients send the same message to the bundled SES simulator on
loopback, each on its natural configuration:
  W  ses-sendmail, implicit TLS on the wrapper port (its default)
  S  ses-sendmail, STARTTLS (like with like against msmtp)
  M  msmtp 'tls on, tls_starttls on' (STARTTLS 587, as it is usually set up)
  N  the same msmtp with TCP_NODELAY forced by an LD_PRELOAD shim
     (bench/nodelay.c): not a configuration msmtp has, but it shows how
     much of msmtp's time is two waits of Nagle's algorithm for an ACK
     the server delays (~40 ms each on Linux)
The targets of issue #7 are judged on W against M, as configured.
Runs are interleaved, the order rotated every round (W S M N, S M N W,
...), so that a burst of load from other processes lands on every client
alike; each figure is a median (or p90) over the runs.

Per run, as wait4() reports it to bench/spawn.c, a small helper that
forks the client (forked from Python, a client would inherit Python's
20 MB peak RSS, which the kernel keeps across execve): wall time from
fork to wait4, CPU of the client (user + sys) and its peak RSS
(ru_maxrss, KiB: what /usr/bin/time -v prints as "Maximum resident set
size"; the 30 MB rows also show /usr/bin/time -v's own figure).
Replies waited per message come from the simulator's transcript: replies
per connection (a multi-line reply counts once), less the 221 to QUIT for
ses-sendmail, which sends QUIT and closes without reading the answer
(design.md 6); msmtp reads it.

No figure here is an assertion: the benchmark reports, the tests check.
The exit status is non-zero only when a send failed or a message did not
arrive whole, since the figures would then mean nothing.
"""

import argparse
import base64
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parent
sys.path.insert(0, str(TOP / "tests" / "functional"))
import sestest  # noqa: E402

RCPT = "rcpt@example.net"
SENDER = "sender@example.com"
RUN_TIMEOUT = 120               # seconds: a hung client is killed, not waited
MIB = 1024 * 1024


# --- the work ----------------------------------------------------------------

def make_message(path, size, seed):
    """A text message of `size` octets with LF line ends, as a caller (PHP,
    cron) hands it to sendmail: a header block and 76-column base64 lines,
    like an attachment.  The same bytes for every client."""
    rnd = random.Random(seed)
    head = ("From: Bench Sender <%s>\n"
            "To: Bench Recipient <%s>\n"
            "Subject: ses-sendmail benchmark, %d octets\n"
            "Date: Thu, 27 Nov 2025 10:00:00 +0000\n"
            "Message-ID: <bench-%d-%d@example.com>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: 7bit\n"
            "\n" % (SENDER, RCPT, size, size, seed)).encode()
    body = bytearray()
    chunk = 57 * 1024                       # 1024 lines of 76 + LF
    while len(head) + len(body) < size:
        raw = rnd.randbytes(chunk)
        enc = base64.b64encode(raw)
        body += b"\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))
        body += b"\n"
    body = body[:size - len(head)]
    if not body.endswith(b"\n"):
        body[-1:] = b"\n"
    Path(path).write_bytes(head + bytes(body))
    return Path(path)


# --- the clients -------------------------------------------------------------

class Client:
    """One client on one configuration: how to run it and what it waits
    for."""

    def __init__(self, key, label, argv, waits_for_quit, env=None):
        self.key, self.label, self.argv = key, label, argv
        self.waits_for_quit = waits_for_quit
        self.env = env              # variables added to the environment

    def __repr__(self):
        return self.key


def msmtp_conf(path, sim):
    text = ("defaults\n"
            "account default\n"
            "host localhost\n"
            "port %d\n"
            "tls on\n"
            "tls_starttls on\n"
            "tls_trust_file %s\n"
            "auth on\n"
            "user %s\n"
            "password %s\n"
            "from %s\n" % (sim.starttls_port, sim.pki.ca, sestest.USER,
                           sestest.PASSWORD, SENDER))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return Path(path)


def clients_for(sim, workdir, binary, msmtp, nodelay, tag):
    """The four clients pointed at `sim`."""
    wconf = sestest.write_conf(workdir / ("ses-wrapper-%s.conf" % tag), sim,
                               timeout=60)
    sconf = sestest.write_conf(workdir / ("ses-starttls-%s.conf" % tag), sim,
                               port=sim.starttls_port, timeout=60)
    mconf = msmtp_conf(workdir / ("msmtprc-%s" % tag), sim)
    # -t -i: what PHP's mail() runs.  msmtp takes -i and ignores it.
    return [
        Client("W", "ses-sendmail (wrapper)",
               [binary, "-C", str(wconf), "-t", "-i"], False),
        Client("S", "ses-sendmail (STARTTLS)",
               [binary, "-C", str(sconf), "-t", "-i"], False),
        Client("M", "msmtp (STARTTLS)",
               [msmtp, "-C", str(mconf), "-t", "-i"], True),
        Client("N", "msmtp + TCP_NODELAY shim",
               [msmtp, "-C", str(mconf), "-t", "-i"], True,
               {"LD_PRELOAD": str(nodelay)}),
    ]


# --- one run -----------------------------------------------------------------

class RunFailed(Exception):
    pass


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def build_helpers(workdir):
    """Compile bench/spawn.c (the fork-and-wait4 helper) and
    bench/nodelay.c (the TCP_NODELAY shim) into workdir."""
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    spawn, nodelay = workdir / "bench-spawn", workdir / "nodelay.so"
    subprocess.run([cc, "-O2", "-o", str(spawn), str(HERE / "spawn.c")],
                   check=True)
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(nodelay),
                    str(HERE / "nodelay.c"), "-ldl"], check=True)
    return spawn, nodelay


def child_env(extra):
    if not extra:
        return None
    env = dict(os.environ)
    env.update(extra)
    return env


def run_once(spawn, argv, message, errfile, env=None):
    """Run argv through the spawn helper with the message on stdin (a
    file, not a pipe: no Python in the data path).  Returns (wall s, cpu
    s, maxrss KiB), all as wait4() saw them in the helper."""
    with open(message, "rb") as fin, open(errfile, "wb") as ferr:
        proc = subprocess.Popen([str(spawn)] + argv, stdin=fin,
                                stdout=subprocess.PIPE, stderr=ferr,
                                env=child_env(env), start_new_session=True)
        timer = threading.Timer(RUN_TIMEOUT, _kill_group, (proc.pid,))
        timer.start()
        try:
            out, _ = proc.communicate()
        finally:
            timer.cancel()
    fields = out.split()
    if proc.returncode != 0 or len(fields) != 5:
        raise RunFailed("bench-spawn failed (%s): %s" % (
            proc.returncode, Path(errfile).read_text(errors="replace")
            [-400:].strip()))
    rc, wall_ns, utime, stime, maxrss = (int(x) for x in fields)
    if rc != 0:
        raise RunFailed("%s exited %d: %s" % (
            os.path.basename(argv[0]), rc,
            Path(errfile).read_text(errors="replace")[-400:].strip()))
    return wall_ns / 1e9, (utime + stime) / 1e6, maxrss


def time_v(argv, message, errfile, env=None):
    """The same run under /usr/bin/time -v: its wall and maximum RSS."""
    out = {}
    with open(message, "rb") as fin, open(errfile, "wb") as ferr:
        proc = subprocess.run(["/usr/bin/time", "-v"] + argv, stdin=fin,
                              stdout=subprocess.DEVNULL, stderr=ferr,
                              env=child_env(env), timeout=RUN_TIMEOUT)
    text = Path(errfile).read_text(errors="replace")
    if proc.returncode != 0:
        raise RunFailed("/usr/bin/time -v %s exited %d: %s" % (
            os.path.basename(argv[0]), proc.returncode, text[-400:]))
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["maxrss"] = int(value)
        elif key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            out["wall"] = sum(p * 60 ** i for i, p in
                              enumerate(reversed(parts)))
    return out


# --- a series of interleaved runs ----------------------------------------------

class Series:
    """The samples of each client for one piece of work on one simulator;
    each client sends in a scenario of its own so that the transcript
    tells its connections apart."""

    def __init__(self, name, sim, clients, message, spawn):
        self.name, self.sim, self.clients = name, sim, clients
        self.spawn = spawn
        self.message = message
        self.samples = {c.key: [] for c in clients}     # (wall, cpu, rss)
        self.sids = {c.key: set() for c in clients}
        self.failures = []

    def run(self, rounds, errdir, warmup=0, progress=None):
        order = list(self.clients)
        for i in range(-warmup, rounds):
            for c in order:
                sid = self.sim.scenario(name="%s-%s" % (self.name, c.key))
                try:
                    sample = run_once(self.spawn, c.argv, self.message,
                                      errdir / ("%s.err" % c.key), c.env)
                except RunFailed as e:
                    self.failures.append("%s %s: %s" % (self.name, c.key, e))
                    continue
                if i >= 0:
                    self.samples[c.key].append(sample)
                    self.sids[c.key].add(sid)
            order = order[1:] + order[:1]       # W S M N, S M N W, ...
            if progress and i >= 0:
                progress(i + 1, rounds)


# --- the simulator's record ------------------------------------------------------

def read_record(sim, timeout=30):
    """Per scenario: replies per connection, stored messages (seq, id),
    once every connection has closed (the simulator's bookkeeping may lag
    the client's exit)."""
    deadline = time.monotonic() + timeout
    while True:
        conns, closes, stored = {}, {}, {}
        path = sim.dir / "events.jsonl"
        for line in path.read_text().splitlines(keepends=True):
            if not line.endswith("\n"):
                break
            ev = json.loads(line)
            sid = ev["scenario"]
            if ev["event"] == "connect":
                conns[sid] = conns.get(sid, 0) + 1
            elif ev["event"] == "close":
                closes[sid] = closes.get(sid, 0) + 1
            elif ev["event"] == "stored":
                stored.setdefault(sid, []).append(ev["seq"])
        if all(closes.get(s, 0) >= n for s, n in conns.items()) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    replies = {}            # sid -> {conn: [final reply codes]}
    with open(sim.dir / "transcript.log", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) < 4 or parts[2] != "S:":
                continue
            text = parts[3]
            # The last line of a reply: "NNN text" or "NNN" (RFC 5321 4.2).
            if len(text) >= 3 and (len(text) == 3 or text[3] == " "):
                replies.setdefault(parts[0], {}).setdefault(
                    int(parts[1]), []).append(text[:3])
    return replies, stored


def replies_waited(series, replies, client):
    """Replies per message the client waited for: for each of its
    connections, the replies the simulator sent, less the 221 to QUIT
    when the client does not read it."""
    counts = []
    for sid in series.sids[client.key]:
        for codes in replies.get(sid, {}).values():
            n = len(codes)
            if codes and codes[-1] == "221" and not client.waits_for_quit:
                n -= 1
            counts.append(n)
    return counts


def check_stored(series, stored, sim, size=None):
    """Every counted run stored exactly one message (of the right size)."""
    bad = []
    for key, sids in series.sids.items():
        for sid in sids:
            seqs = stored.get(sid, [])
            if len(seqs) != 1:
                bad.append("%s %s: %d messages stored in scenario %s" % (
                    series.name, key, len(seqs), sid))
                continue
            if size is not None:
                base = sim.dir / "messages" / ("%06d" % seqs[0])
                info = json.loads(base.with_suffix(".json").read_text())
                if info["size"] != size:
                    bad.append("%s %s: %d octets arrived, %d expected" % (
                        series.name, key, info["size"], size))
    return bad


def wire_size(message):
    """The message as it must arrive: CRLF line ends (no line starts
    with a dot in our messages, none is over 998 octets)."""
    data = Path(message).read_bytes()
    return len(data) + data.count(b"\n")


def drop_stored(sim):
    """The 30 MB copies the simulator keeps are not needed once checked."""
    for p in (sim.dir / "messages").glob("*.raw"):
        p.unlink()
    for p in (sim.dir / "messages").glob("*.eml"):
        p.unlink()


# --- statistics and the table ---------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def mean(xs):
    return statistics.fmean(xs) if xs else float("nan")


def p90(xs):
    """Nearest rank."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


class Row:
    def __init__(self, figure, values, unit, fmt="%.1f", target=None,
                 ratio=True, note=None):
        """values: {"W": x, "S": x, "M": x}; target: (kind, bound) with
        kind "ratio<=", "ratio>=", "abs<=" (on W), or None."""
        self.figure, self.values, self.unit = figure, values, unit
        self.fmt, self.target, self.ratio = fmt, target, ratio
        self.note = note

    def r(self, key, base="M"):
        m = self.values.get(base)
        v = self.values.get(key)
        if not self.ratio or v is None or not m:
            return None
        return v / m

    def met(self, key="W"):
        if self.target is None:
            return None
        kind, bound = self.target
        if kind == "abs<=":
            return self.values[key] <= bound
        r = self.r(key)
        if r is None:
            return None
        return r <= bound if kind == "ratio<=" else r >= bound

    def target_text(self):
        if self.target is None:
            return "-"
        kind, bound = self.target
        if kind == "abs<=":
            return "W <= %s %s" % (self.fmt % bound, self.unit)
        return "%s %.1fx" % ("<=" if kind == "ratio<=" else ">=", bound)

    def cells(self):
        def val(k):
            v = self.values.get(k)
            return "-" if v is None else self.fmt % v

        def rat(k, base="M"):
            r = self.r(k, base)
            return "-" if r is None else "%.2f" % r

        met = self.met()
        mets = "-" if met is None else ("yes" if met else "NO")
        if self.target is not None and self.target[0] != "abs<=":
            s = self.met("S")
            mets += " (S: %s)" % ("-" if s is None else
                                  "yes" if s else "no")
        return [self.figure + (" (%s)" % self.unit if self.unit else ""),
                val("W"), val("S"), val("M"), val("N"), rat("W"), rat("S"),
                rat("W", "N"), self.target_text(), mets]


HEADER = ["figure", "W", "S", "M", "N", "W/M", "S/M", "W/N",
          "target (W/M)", "met?"]
LEGEND = """W ses-sendmail, implicit TLS (its default)  S ses-sendmail, STARTTLS
M msmtp, STARTTLS  N msmtp with TCP_NODELAY forced (a shim, not a real
configuration; see bench/nodelay.c)"""


def table(rows):
    cells = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("| " + " | ".join(
            (c[i].ljust(widths[i]) if i == 0 else c[i].rjust(widths[i]))
            for i in range(len(c))) + " |")
        if n == 0:
            lines.append("|" + "|".join(
                "-" * (widths[i] + 1) + (":" if i else "-")
                for i in range(len(c))) + "|")
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=os.environ.get("SES_SENDMAIL"),
                   help="the ses-sendmail to measure")
    p.add_argument("--msmtp", default=shutil.which("msmtp") or "msmtp",
                   help="the msmtp to compare with")
    p.add_argument("--sends", type=int, default=200,
                   help="2 KB sends per client on loopback (default 200)")
    p.add_argument("--delay-sends", type=int, default=None,
                   help="2 KB sends per client at --delay-ms "
                   "(default: --sends)")
    p.add_argument("--delay-ms", type=int, default=20,
                   help="the simulator's delay before every reply in the "
                   "latency rows (default 20)")
    p.add_argument("--big-mib", type=int, default=30,
                   help="size of the large message in MiB (default 30)")
    p.add_argument("--big-runs", type=int, default=5,
                   help="30 MB sends per client (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 30 sends, 1 big send")
    p.add_argument("--workdir", default=None,
                   help="where the simulator and files go (default: a "
                   "fresh directory under $TMPDIR)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory")
    p.add_argument("--json", default=None, help="also write every sample")
    p.add_argument("--serve", action="store_true",
                   help="start the simulator (with --delay-ms when given "
                   "explicitly), write the configurations and messages, "
                   "print each client's command line and wait: for "
                   "strace, perf and valgrind by hand (bench/NOTES.md)")
    a = p.parse_args(argv)
    a.delay_given = any(x.startswith("--delay-ms") for x in argv)
    if a.quick:
        a.sends = min(a.sends, 30)
        a.big_runs = 1
    if a.delay_sends is None:
        a.delay_sends = a.sends
    if not a.binary:
        p.error("--binary (or SES_SENDMAIL) is needed")
    a.binary = str(Path(a.binary).resolve())
    a.msmtp = shutil.which(a.msmtp) or a.msmtp
    return a


def progress_printer(what):
    def show(i, n):
        if i == n or i % max(1, n // 10) == 0:
            print("  %s: %d/%d rounds" % (what, i, n), file=sys.stderr,
                  flush=True)
    return show


def serve(a, work, pki, nodelay, small, big):
    """--serve: one simulator and the clients' command lines, until
    interrupted."""
    delay = a.delay_ms if a.delay_given else None
    with sestest.Sim(work, pki=pki, idle=60, delay_ms=delay) as sim:
        for c in clients_for(sim, work, a.binary, a.msmtp, nodelay, "serve"):
            env = " ".join("%s=%s" % kv for kv in (c.env or {}).items())
            print("%s  %s%s%s < %s" % (c.key, env, " " if env else "",
                                       " ".join(c.argv), small))
        print("messages: %s, %s\nsimulator: %s (transcript.log, "
              "events.jsonl)\n%s ms per reply; Ctrl-C stops it" % (
                  small, big, sim.dir, delay or 0), flush=True)
        try:
            while sim.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


def main(argv):
    a = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so that the simulators are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for prog in (a.binary, a.msmtp):
        if not shutil.which(prog):
            sys.exit("bench: %s not found (bench/run.sh installs msmtp and "
                     "builds ses-sendmail)" % prog)
    work = Path(a.workdir) if a.workdir else Path(
        tempfile.mkdtemp(prefix="ses-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    errdir = work / "stderr"
    errdir.mkdir(exist_ok=True)
    started = time.monotonic()
    small = make_message(work / "msg-2k.eml", 2048, 1)
    big = make_message(work / "msg-big.eml", a.big_mib * MIB, 2)
    pki = sestest.make_pki(work / "pki")
    spawn, nodelay = build_helpers(work)
    if a.serve:
        return serve(a, work, pki, nodelay, small, big)
    failures, results = [], {}

    print("ses-sendmail %s\nmsmtp %s\n%d x 2 KB per client on loopback, "
          "%d at %d ms per reply, %d x %d MiB; runs interleaved, order "
          "rotated each round" % (a.binary, a.msmtp, a.sends, a.delay_sends,
                                  a.delay_ms, a.big_runs, a.big_mib),
          flush=True)

    with sestest.Sim(work, pki=pki, idle=60) as sim:
        clients = clients_for(sim, work, a.binary, a.msmtp, nodelay, "lo")
        loop = Series("lo", sim, clients, small, spawn)
        loop.run(a.sends, errdir, warmup=2,
                 progress=progress_printer("2 KB, loopback"))
        bigs = Series("big", sim, clients, big, spawn)
        bigs.run(a.big_runs, errdir, warmup=0,
                 progress=progress_printer("%d MiB" % a.big_mib))
        timev = {}
        for c in clients:
            sim.scenario(name="timev-" + c.key)
            try:
                timev[c.key] = time_v(c.argv, big, errdir / "timev.err",
                                      c.env)
            except (RunFailed, subprocess.TimeoutExpired) as e:
                failures.append("time -v %s: %s" % (c.key, e))
        replies, stored = read_record(sim)
        failures += loop.failures + bigs.failures
        failures += check_stored(loop, stored, sim)
        failures += check_stored(bigs, stored, sim, size=wire_size(big))
        lo_replies = {c.key: replies_waited(loop, replies, c)
                      for c in clients}
        drop_stored(sim)
        if sim.errors():
            failures.append("simulator errors: " + sim.errors()[-400:])

    with sestest.Sim(work, pki=pki, idle=60, delay_ms=a.delay_ms) as dsim:
        dclients = clients_for(dsim, work, a.binary, a.msmtp, nodelay,
                               "delay")
        delay = Series("delay", dsim, dclients, small, spawn)
        delay.run(a.delay_sends, errdir, warmup=1,
                  progress=progress_printer("2 KB, %d ms per reply" %
                                            a.delay_ms))
        dreplies, dstored = read_record(dsim)
        failures += delay.failures + check_stored(delay, dstored, dsim)
        d_replies = {c.key: replies_waited(delay, dreplies, c)
                     for c in dclients}
        if dsim.errors():
            failures.append("simulator errors: " + dsim.errors()[-400:])

    def col(series, idx, stat, scale=1.0):
        return {k: stat([s[idx] for s in v]) * scale
                for k, v in series.samples.items()}

    big_bytes = a.big_mib * MIB
    rss_small = col(loop, 2, median)
    rss_big = col(bigs, 2, median)
    rows = [
        Row("2 KB, loopback: wall per send, median", col(loop, 0, median,
            1e3), "ms", "%.2f", ("ratio<=", 0.5)),
        Row("2 KB, loopback: wall per send, p90", col(loop, 0, p90, 1e3),
            "ms", "%.2f"),
        Row("2 KB, %d ms per reply: wall per send, median" % a.delay_ms,
            col(delay, 0, median, 1e3), "ms", "%.1f", ("ratio<=", 0.8)),
        Row("2 KB, %d ms per reply: wall per send, p90" % a.delay_ms,
            col(delay, 0, p90, 1e3), "ms", "%.1f"),
        Row("replies waited per message", {k: median(v) for k, v in
            d_replies.items()}, "", "%.0f", ("abs<=", 8)),
        Row("2 KB: client CPU (user+sys) per send, median",
            col(loop, 1, median, 1e3), "ms", "%.2f", ("ratio<=", 1.0)),
        Row("2 KB: client CPU (user+sys) per send, mean",
            col(loop, 1, mean, 1e3), "ms", "%.2f"),
        Row("2 KB: peak RSS, median", rss_small, "KiB", "%.0f",
            ("ratio<=", 1.0)),
        Row("%d MiB: wall, median" % a.big_mib, col(bigs, 0, median), "s",
            "%.2f"),
        Row("%d MiB: throughput" % a.big_mib,
            {k: big_bytes / MIB / median([s[0] for s in v])
             for k, v in bigs.samples.items()}, "MiB/s", "%.1f",
            ("ratio>=", 1.0)),
        Row("%d MiB: client CPU (user+sys), median" % a.big_mib,
            col(bigs, 1, median), "s", "%.3f"),
        Row("%d MiB: peak RSS, median" % a.big_mib, rss_big, "KiB",
            "%.0f", ("ratio<=", 1.0)),
        Row("%d MiB: peak RSS, /usr/bin/time -v" % a.big_mib,
            {k: v.get("maxrss") for k, v in timev.items()}, "KiB", "%.0f"),
        Row("peak RSS, %d MiB minus 2 KB" % a.big_mib,
            {k: rss_big[k] - rss_small[k] for k in rss_big}, "KiB", "%.0f",
            ("abs<=", 1024), ratio=False),
    ]
    elapsed = time.monotonic() - started
    print()
    print(table(rows))
    print(LEGEND)
    print()
    n = {k: len(v) for k, v in loop.samples.items()}
    print("Samples per client: %s on loopback, %s at %d ms, %s x %d MiB; "
          "%.0f s in all." % (
              "/".join(str(n[k]) for k in "WSMN"),
              "/".join(str(len(delay.samples[k])) for k in "WSMN"),
              a.delay_ms, "/".join(str(len(bigs.samples[k])) for k in "WSMN"),
              a.big_mib, elapsed))
    print("Replies waited: SMTP replies per connection from the simulator's "
          "transcript (a multi-line reply counts once); ses-sendmail's 221 "
          "to QUIT is not counted, as it closes without reading it; msmtp "
          "reads it.  Loopback run: %s.  TLS handshake round trips are not "
          "replies (the delay applies to SMTP replies only)." % ", ".join(
              "%s %s" % (k, "/".join(sorted({str(x) for x in v})))
              for k, v in lo_replies.items()))
    print("Throughput: %d MiB of message (%d octets on the wire) divided by "
          "the wall time of the whole run: spool, connect, TLS, DATA, and "
          "the simulator storing it before its 250." % (
              a.big_mib, wire_size(big)))
    if failures:
        print("\nFAILURES (the figures above are not to be trusted):")
        for f in failures[:20]:
            print("  " + f)
    if a.json:
        Path(a.json).write_text(json.dumps({
            "args": vars(a), "elapsed": elapsed, "failures": failures,
            "loopback": loop.samples, "delay": delay.samples,
            "big": bigs.samples, "time_v": timev,
            "replies_loopback": lo_replies, "replies_delay": d_replies,
            "rows": [{"figure": r.figure, "unit": r.unit,
                      "values": r.values, "met": r.met()} for r in rows],
        }, indent=1))
    if not a.keep and not failures:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: %s" % work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
