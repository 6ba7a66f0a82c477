#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""ses-sendmail against msmtp, side by side, on the same work (issue #7).

    /usr/bin/python3 bench/bench.py --binary build-bench/sendmail/ses-sendmail
        [--sends 200] [--delay-sends N] [--big-runs 5] [--big-mib 30]
        [--bs-runs 10] [--bs-messages 5] [--netem auto|yes|no]
        [--quick] [--json FILE] [--workdir DIR] [--keep] [--serve]
    /usr/bin/python3 bench/bench.py --binary ... --bursts [--before BINARY]
        [--burst-list 100@14,300@14,30@1]

bench/run.sh installs what is missing, builds, and runs this.  Python 3
standard library, tests/functional/sestest.py (the simulator harness) and,
for the API simulator, python3-botocore.

Five clients send the same message, each on its natural configuration:
  A  ses-sendmail, 'transport api': one SES API v2 SendEmail call over
     HTTPS, to the bundled API simulator (tests/functional/sesapi.py)
  W  ses-sendmail, implicit TLS on the wrapper port (its default)
  S  ses-sendmail, STARTTLS (like with like against msmtp)
  M  msmtp 'tls on, tls_starttls on' (STARTTLS 587, as it is usually set up)
  N  the same msmtp with TCP_NODELAY forced by an LD_PRELOAD shim
     (bench/nodelay.c): not a configuration msmtp has, but it shows how
     much of msmtp's time is two waits of Nagle's algorithm for an ACK
     the server delays (~40 ms each on Linux)
W, S, M and N talk to the bundled SMTP simulator (sessim.py).  The SMTP
targets of issue #7 are judged on W against M, the HTTPS transport's on A
against W.  Runs are interleaved, the order rotated every round (A W S M
N, W S M N A, ...), so that a burst of load from other processes lands on
every client alike; each figure is a median (or p90) over the runs.

Per run, as wait4() reports it to bench/spawn.c, a small helper that
forks the client (forked from Python, a client would inherit Python's
20 MB peak RSS, which the kernel keeps across execve): wall time from
fork to wait4, CPU of the client (user + sys) and its peak RSS
(ru_maxrss, KiB: what /usr/bin/time -v prints as "Maximum resident set
size"; the 30 MB rows also show /usr/bin/time -v's own figure).

Answers waited per message come from the simulators' records: SMTP
replies per connection (a multi-line reply counts once), less the 221 to
QUIT for ses-sendmail, which sends QUIT and closes without reading the
answer (design.md 6); msmtp reads it.  HTTP responses per connection for
A (an interim 100 Continue would count too).  Round trips on a new
connection add 1 for the TCP handshake and 1 for a TLS 1.3 handshake (2
for TLS 1.2), from the simulators' "tls" events.  In -bs, ses-sendmail
keeps its connection for the next message: --bs-messages messages in one
session give the round trips each further message costs.

The latency rows want a real round trip: with --netem (the default where
it works: root, unshare(1), ip(8), tc(8) and the kernel's netem qdisc)
they run in a private network namespace whose loopback delays every
packet by half of --delay-ms, so that TCP and TLS handshakes pay the
round trip too.  Without netem, the simulators delay each answer by
--delay-ms instead (sessim.py --delay-ms, sesapi.py's "delay" fault): the
handshakes are then free, and the row "modelled" (loopback time plus the
counted round trips at --delay-ms) gives the figure a real path would.

--bursts measures SES's sending rate instead (issue 14; design.md 7,
"Sending rate"): for each BURST@RATE, BURST separate processes started at
once against a simulator that enforces RATE recipients a second (sessim.py
--max-send-rate, a fresh one per run, its bucket full), with the default
retry settings (retry_delays 1 5 10, retry_deadline 60): delivered, exit
75, other exits, SES's throttled replies, the wall time from the first
start to the last exit, and the ideal: (burst - one second's worth) /
rate, the time SES needs past the first second's burst.  Rows: --before (the
binary of an earlier commit, when given), the binary, and the binary with
max_send_rate set to the simulator's rate.

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


def make_session(path, message, count):
    """An SMTP session for -bs, as a caller that keeps one open would send
    it: EHLO, then `count` times MAIL, RCPT, DATA and the message (CRLF,
    dot-stuffed), then QUIT."""
    data = Path(message).read_bytes().replace(b"\n", b"\r\n")
    body = b"".join(b"." + line if line.startswith(b".") else line
                    for line in data.splitlines(keepends=True))
    one = b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n%s.\r\n" % (
        SENDER.encode(), RCPT.encode(), body)
    Path(path).write_bytes(b"EHLO bench.example\r\n" + one * count +
                           b"QUIT\r\n")
    return Path(path)


# --- the clients -------------------------------------------------------------

class Client:
    """One client on one configuration: how to run it, which simulator it
    talks to, and what it waits for."""

    def __init__(self, key, label, argv, waits_for_quit, sim, env=None,
                 scen=None):
        self.key, self.label, self.argv = key, label, argv
        self.waits_for_quit = waits_for_quit
        self.sim = sim
        self.env = env              # variables added to the environment
        self.scen = scen or {}      # scenario() arguments for each run

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


def api_conf(path, sim, api):
    """A's configuration: W's without the SMTP keys, 'transport api' to the
    API simulator, signed with the IAM keys it knows (the key id is
    'username')."""
    return sestest.write_conf(path, sim, host=None, port=None, tls=None,
                              password=None, transport="api",
                              api_endpoint=api.url,
                              aws_secret_access_key=sestest.SECRET,
                              timeout=60)


def clients_for(sim, api, workdir, binary, msmtp, nodelay, tag,
                api_delay=None):
    """The five clients pointed at `sim` (SMTP) and `api` (HTTPS);
    api_delay: the API simulator waits that many ms before each answer."""
    wconf = sestest.write_conf(workdir / ("ses-wrapper-%s.conf" % tag), sim,
                               timeout=60)
    sconf = sestest.write_conf(workdir / ("ses-starttls-%s.conf" % tag), sim,
                               port=sim.starttls_port, timeout=60)
    aconf = api_conf(workdir / ("ses-api-%s.conf" % tag), sim, api)
    mconf = msmtp_conf(workdir / ("msmtprc-%s" % tag), sim)
    scen = ({"default": [{"action": "delay", "ms": api_delay}]}
            if api_delay else None)
    # -t -i: what PHP's mail() runs.  msmtp takes -i and ignores it.
    return [
        Client("A", "ses-sendmail (API, HTTPS)",
               [binary, "-C", str(aconf), "-t", "-i"], False, api,
               scen=scen),
        Client("W", "ses-sendmail (wrapper)",
               [binary, "-C", str(wconf), "-t", "-i"], False, sim),
        Client("S", "ses-sendmail (STARTTLS)",
               [binary, "-C", str(sconf), "-t", "-i"], False, sim),
        Client("M", "msmtp (STARTTLS)",
               [msmtp, "-C", str(mconf), "-t", "-i"], True, sim),
        Client("N", "msmtp + TCP_NODELAY shim",
               [msmtp, "-C", str(mconf), "-t", "-i"], True, sim,
               {"LD_PRELOAD": str(nodelay)}),
    ]


def bs_clients(clients):
    """ses-sendmail's clients in -bs (msmtp has no SMTP server mode)."""
    return [Client(c.key, c.label + " -bs", c.argv[:3] + ["-bs"],
                   c.waits_for_quit, c.sim, c.env, c.scen)
            for c in clients if c.key in "AWS"]


# --- one run -----------------------------------------------------------------

class RunFailed(Exception):
    pass


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def helper_paths(workdir):
    return workdir / "bench-spawn", workdir / "nodelay.so"


def build_helpers(workdir):
    """Compile bench/spawn.c (the fork-and-wait4 helper) and
    bench/nodelay.c (the TCP_NODELAY shim) into workdir."""
    cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
    spawn, nodelay = helper_paths(workdir)
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


# --- a series of interleaved runs --------------------------------------------

class Series:
    """The samples of each client for one piece of work; each client sends
    in a scenario of its own on its simulator, so that the records tell
    its connections apart."""

    def __init__(self, name, clients, message, spawn):
        self.name, self.clients = name, clients
        self.spawn = spawn
        self.message = message
        self.samples = {c.key: [] for c in clients}     # (wall, cpu, rss)
        self.sids = {c.key: set() for c in clients}
        self.failures = []

    def run(self, rounds, errdir, warmup=0, progress=None):
        order = list(self.clients)
        for i in range(-warmup, rounds):
            for c in order:
                sid = c.sim.scenario(name="%s-%s" % (self.name, c.key),
                                     **c.scen)
                try:
                    sample = run_once(self.spawn, c.argv, self.message,
                                      errdir / ("%s.err" % c.key), c.env)
                except RunFailed as e:
                    self.failures.append("%s %s: %s" % (self.name, c.key, e))
                    continue
                if i >= 0:
                    self.samples[c.key].append(sample)
                    self.sids[c.key].add(sid)
            order = order[1:] + order[:1]       # A W S M N, W S M N A, ...
            if progress and i >= 0:
                progress(i + 1, rounds)


# --- the simulators' records -------------------------------------------------

def _events(sim):
    out = []
    for line in (sim.dir / "events.jsonl").read_text().splitlines(
            keepends=True):
        if not line.endswith("\n"):
            break
        out.append(json.loads(line))
    return out


def _all_closed(events):
    opened, closed = {}, {}
    for ev in events:
        if ev["event"] == "connect":
            opened[ev["scenario"]] = opened.get(ev["scenario"], 0) + 1
        elif ev["event"] == "close":
            closed[ev["scenario"]] = closed.get(ev["scenario"], 0) + 1
    return all(closed.get(s, 0) >= n for s, n in opened.items())


def read_record(sim, api, timeout=30):
    """One simulator's record, once every connection has closed (its
    bookkeeping may lag the client's exit): per scenario, its connections
    {n: {"new": a TCP connection of its own (not one kept from another
    scenario), "tls": the TLS version, "waits": answers sent, "last": the
    last SMTP reply code}}; and the stored messages (seq) per scenario.
    The answers are the SMTP replies (a multi-line reply counts once), or
    for the API simulator (api) the HTTP responses and any interim 1xx."""
    deadline = time.monotonic() + timeout
    while True:
        events = _events(sim)
        if _all_closed(events) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    conns, stored = {}, {}
    for ev in events:
        sid, n, kind = ev["scenario"], ev["conn"], ev["event"]
        if kind == "connect":
            conns.setdefault(sid, {})[n] = {
                "new": not ev.get("reused"), "tls": None, "waits": 0,
                "last": None}
        elif kind == "stored":
            stored.setdefault(sid, []).append(ev["seq"])
        info = conns.get(sid, {}).get(n)
        if info is None:
            continue
        if kind == "tls":
            info["tls"] = ev.get("version")
        elif kind == "response" and api:
            info["waits"] += 1
    with open(sim.dir / "transcript.log", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) < 4 or parts[2] != "S:":
                continue
            info = conns.get(parts[0], {}).get(int(parts[1]))
            text = parts[3]
            if info is None:
                continue
            if api:
                if text.startswith("HTTP/1.1 1"):   # 100 Continue waited
                    info["waits"] += 1
            # The last line of a reply: "NNN text" or "NNN" (RFC 5321 4.2).
            elif len(text) >= 3 and (len(text) == 3 or text[3] == " "):
                info["waits"] += 1
                info["last"] = text[:3]
    return conns, stored


def read_records(sims):
    """read_record() of several simulators (scenario ids are unique
    across them)."""
    conns, stored = {}, {}
    for sim in sims:
        c, s = read_record(sim, isinstance(sim, sestest.ApiSim))
        conns.update(c)
        stored.update(s)
    return conns, stored


def tls_round_trips(version):
    """Round trips of a full handshake before the client may send: 1 in
    TLS 1.3 (RFC 8446 2), 2 before."""
    if version is None:
        return 0
    return 1 if version == "TLSv1.3" else 2


def counts(series, conns, client):
    """Per run of the client, per connection: [answers waited, round
    trips].  Answers waited are those sent, less the 221 to QUIT when the
    client does not read it; round trips add the TCP and TLS handshakes
    to a new connection."""
    out = []
    for sid in sorted(series.sids[client.key]):
        run = []
        for info in conns.get(sid, {}).values():
            waits = info["waits"]
            if info["last"] == "221" and not client.waits_for_quit:
                waits -= 1
            rtt = waits
            if info["new"]:
                rtt += 1 + tls_round_trips(info["tls"])
            run.append([waits, rtt])
        out.append(run)
    return out


def check_stored(series, stored, size=None, per_run=1):
    """Every counted run stored per_run messages (of the right size)."""
    bad = []
    for c in series.clients:
        for sid in series.sids[c.key]:
            seqs = stored.get(sid, [])
            if len(seqs) != per_run:
                bad.append("%s %s: %d messages stored in scenario %s" % (
                    series.name, c.key, len(seqs), sid))
                continue
            if size is not None:
                base = c.sim.dir / "messages" / ("%06d" % seqs[0])
                info = json.loads(base.with_suffix(".json").read_text())
                if info["size"] != size:
                    bad.append("%s %s: %d octets arrived, %d expected" % (
                        series.name, c.key, info["size"], size))
    return bad


def wire_size(message):
    """The message as it must arrive: CRLF line ends (no line starts
    with a dot in our messages, none is over 998 octets)."""
    data = Path(message).read_bytes()
    return len(data) + data.count(b"\n")


def drop_stored(sim):
    """The 30 MB copies the simulators keep are not needed once checked."""
    for p in (sim.dir / "messages").glob("*.raw"):
        p.unlink()
    for p in (sim.dir / "messages").glob("*.eml"):
        p.unlink()


# --- the latency runs --------------------------------------------------------

# In a fresh network namespace: loopback up, every packet on it delayed by
# $1 microseconds (each way, so a round trip costs twice that), then the
# command.
NETNS = ('ip link set lo up && '
         'tc qdisc add dev lo root netem delay "$1"us && shift && exec "$@"')


def netem_problem(delay_ms):
    """None when a network namespace with netem on its loopback can be made
    here; else why not."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("unshare", "ip", "tc"):
        if shutil.which(tool) is None:
            return "no %s (util-linux, iproute2)" % tool
    try:
        r = subprocess.run(["unshare", "-n", "sh", "-c", NETNS, "sh",
                            str(delay_ms * 500), "true"],
                           capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "unshare -n took over 30 s"
    if r.returncode != 0:
        return (r.stderr.decode(errors="replace").strip() or
                "exit %d" % r.returncode).splitlines()[-1]
    return None


def latency_phase(a, work, pki, spawn, nodelay, small, session, netem):
    """The 2 KB sends and the -bs sessions at --delay-ms: run under netem
    (in the namespace) or with the simulators' own delays.  A plain dict,
    so that it can come back from the namespace as JSON."""
    delay = None if netem else a.delay_ms
    failures = []
    errdir = work / "stderr"
    what = "%d ms %s" % (a.delay_ms, "RTT" if netem else "per reply")
    with sestest.Sim(work, pki=pki, idle=60, delay_ms=delay) as sim, \
            sestest.ApiSim(work, pki=pki, idle=60) as api:
        clients = clients_for(sim, api, work, a.binary, a.msmtp, nodelay,
                              "delay", api_delay=delay)
        one = Series("delay", clients, small, spawn)
        one.run(a.delay_sends, errdir, warmup=1,
                progress=progress_printer("2 KB, " + what))
        bs = Series("bs", bs_clients(clients), session, spawn)
        bs.run(a.bs_runs, errdir, warmup=0,
               progress=progress_printer("-bs, %d x 2 KB, %s" %
                                         (a.bs_messages, what)))
        conns, stored = read_records((sim, api))
        failures += one.failures + bs.failures + check_stored(one, stored)
        failures += check_stored(bs, stored, per_run=a.bs_messages)
        for s in (sim, api):
            if s.errors():
                failures.append("simulator errors: " + s.errors()[-400:])
    return {"netem": netem, "delay": one.samples, "bs": bs.samples,
            "delay_counts": {c.key: counts(one, conns, c) for c in clients},
            "bs_counts": {c.key: counts(bs, conns, c) for c in bs.clients},
            "failures": failures}


def latency_in_netns(a, work):
    """latency_phase() in a private network namespace with netem: this
    program again, under unshare -n, with --latency-out."""
    out = work / "latency.json"
    cmd = ["unshare", "-n", "sh", "-c", NETNS, "sh", str(a.delay_ms * 500),
           sys.executable, str(Path(__file__).resolve())] + a.argv + [
        "--binary", a.binary, "--msmtp", a.msmtp, "--workdir", str(work),
        "--latency-out", str(out)]
    # Bounded: every send is bounded by RUN_TIMEOUT, but not the sum.
    limit = 120 + (a.delay_sends + 1 + a.bs_runs) * (5 + a.delay_ms // 5)
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        rc = proc.wait(limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)     # stops its simulators
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
        return {"failures": ["latency runs in the namespace: over %d s" %
                             limit]}
    if rc != 0 or not out.exists():
        return {"failures": ["latency runs in the namespace: exit %d" % rc]}
    return json.loads(out.read_text())


# --- the credential chain ----------------------------------------------------

CHAIN_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN",
              "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI",
              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def creds_phase(a, work, pki):
    """The time the credential chain adds to one API send (design.md 12):
    the same 2 KB message through the API simulator, signed with the same
    temporary keys, given three ways, runs interleaved: 'static' (in the
    configuration), 'imds' (the default chain down to the instance role,
    region configured: token PUT, role GET, keys GET) and 'imds+region'
    (no region either: the identity document too).  Loopback, so a round
    trip is a fraction of a millisecond; the IMDS simulator's records give
    the requests and connections per send."""
    keys = {"id": "ASIABENCHKEY00000001",
            "secret": "benchSecret/K7MDENG+bPxRfiCYEXAMPLEKEY1",
            "token": "IQoJb3JpZ2luX2VjEBenchSessionToken/+=" * 8,
            "expiration": "2030-01-01T00:00:00Z"}
    region = "eu-west-3"
    spawn, _ = build_helpers(work)
    small = make_message(work / "msg-2k.eml", 2048, 1)
    errfile = work / "creds-stderr"
    env = {v: "" for v in CHAIN_VARS}
    env["HOME"] = str(work)
    api = sestest.ApiSim(work, pki=pki, region=region)
    imds = sestest.CredSim(work, "imds", keys=[keys], role="ses-sender",
                           region=region)
    try:
        api.scenario(keys=[keys])
        base = dict(aws_access_key_id=None, aws_secret_access_key=None,
                    api_endpoint="https://127.0.0.1:%d" % api.port,
                    log="none", region=region, timeout=10)
        confs = {
            "static": sestest.write_conf(
                work / "creds-static.conf", api, **dict(
                    base, aws_access_key_id=keys["id"],
                    aws_secret_access_key=keys["secret"],
                    aws_session_token=keys["token"])),
            "imds": sestest.write_conf(work / "creds-imds.conf", api,
                                       imds_endpoint=imds.url, **base),
            "imds+region": sestest.write_conf(
                work / "creds-region.conf", api, imds_endpoint=imds.url,
                **dict(base, region=None)),
        }
        names = list(confs)
        wall = {n: [] for n in names}
        reqs = {n: [] for n in names}
        conns = {n: [] for n in names}
        for i in range(a.creds):
            for n in names[i % 3:] + names[:i % 3]:
                imds.set(keys=[keys], role="ses-sender", region=region,
                         delay_ms=a.creds_delay_ms)
                w, _, _ = run_once(spawn, [a.binary, "-C", str(confs[n]),
                                           "-i", RCPT], small, errfile, env)
                wall[n].append(w)
                q = imds.requests()
                reqs[n].append(len(q))
                conns[n].append(len(set(x["peer"] for x in q)))
        stored = len(api.messages())
    finally:
        imds.stop()
        api.stop()
    print("credential chain: %d x 2 KB API sends per row, loopback, runs "
          "interleaved, %g ms per metadata answer; %d messages stored" % (
              a.creds, a.creds_delay_ms, stored))
    print("%-12s %10s %10s %12s %12s" % ("keys", "median ms", "p90 ms",
                                          "IMDS req", "IMDS conns"))
    for n in names:
        print("%-12s %10.2f %10.2f %12s %12s" % (
            n, median(wall[n]) * 1e3, p90(wall[n]) * 1e3,
            "/".join(sorted(set(str(x) for x in reqs[n]))),
            "/".join(sorted(set(str(x) for x in conns[n])))))
    for n in names[1:]:
        print("%s adds %.2f ms (median) to a send" % (
            n, (median(wall[n]) - median(wall["static"])) * 1e3))
    return 0 if stored == a.creds * 3 else 1


# --- statistics and the table ------------------------------------------------

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


KEYS = "AWSMN"
RATIOS = (("A", "W"), ("A", "M"), ("W", "M"), ("S", "M"), ("W", "N"))


class Row:
    def __init__(self, figure, values, unit, fmt="%.1f", targets=(),
                 ratio=True):
        """values: {"A": x, "W": x, ...} (a client left out shows "-");
        targets: (kind, bound, key, base) with kind "<=" or ">=" on the
        ratio key/base, or "abs<=" on key's own value (base None)."""
        self.figure, self.values, self.unit = figure, values, unit
        self.fmt, self.targets, self.ratio = fmt, targets, ratio

    def r(self, key, base):
        b = self.values.get(base)
        v = self.values.get(key)
        if not self.ratio or v is None or not b or b != b or v != v:
            return None
        return v / b

    def met(self, kind, bound, key, base):
        if kind == "abs<=":
            v = self.values.get(key)
            return None if v is None else v <= bound
        r = self.r(key, base)
        if r is None:
            return None
        return r <= bound if kind == "<=" else r >= bound

    def target_text(self):
        out = []
        for kind, bound, key, base in self.targets:
            if kind == "abs<=":
                out.append("%s <= %s%s" % (key, self.fmt % bound,
                                           " " + self.unit if self.unit
                                           else ""))
            else:
                out.append("%s/%s %s %.1fx" % (key, base, kind, bound))
        return "; ".join(out) or "-"

    def met_text(self):
        out = []
        for kind, bound, key, base in self.targets:
            m = self.met(kind, bound, key, base)
            t = "-" if m is None else ("yes" if m else "NO")
            if (key, base) == ("W", "M"):
                s = self.met(kind, bound, "S", "M")
                t += " (S: %s)" % ("-" if s is None else
                                   "yes" if s else "no")
            out.append(t)
        return "; ".join(out) or "-"

    def cells(self):
        def val(k):
            v = self.values.get(k)
            return "-" if v is None else self.fmt % v

        def rat(k, base):
            r = self.r(k, base)
            return "-" if r is None else "%.2f" % r

        return ([self.figure + (" (%s)" % self.unit if self.unit else "")] +
                [val(k) for k in KEYS] + [rat(k, b) for k, b in RATIOS] +
                [self.target_text(), self.met_text()])

    def json(self):
        return {"figure": self.figure, "unit": self.unit,
                "values": self.values,
                "met": [[t[2], t[3], self.met(*t)] for t in self.targets]}


HEADER = (["figure"] + list(KEYS) + ["%s/%s" % r for r in RATIOS] +
          ["target", "met?"])
LEGEND = """A ses-sendmail, transport api (HTTPS, SES API v2 SendEmail)
W ses-sendmail, implicit TLS (its default)  S ses-sendmail, STARTTLS
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


# --- main --------------------------------------------------------------------

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
                   help="the round trip of the latency rows under netem, "
                   "else the simulators' delay before every answer "
                   "(default 20)")
    p.add_argument("--netem", choices=("auto", "yes", "no"), default="auto",
                   help="run the latency rows in a network namespace "
                   "whose loopback has netem's delay (needs root and the "
                   "kernel's sch_netem); auto: when it works (default)")
    p.add_argument("--bs-runs", type=int, default=None,
                   help="-bs sessions per ses-sendmail client at --delay-ms "
                   "(default: --delay-sends / 10, at least 3)")
    p.add_argument("--bs-messages", type=int, default=5,
                   help="2 KB messages per -bs session (default 5)")
    p.add_argument("--big-mib", type=int, default=30,
                   help="size of the large message in MiB (default 30)")
    p.add_argument("--big-runs", type=int, default=5,
                   help="30 MB sends per client (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 30 sends, 3 sessions, 1 big send")
    p.add_argument("--workdir", default=None,
                   help="where the simulator and files go (default: a "
                   "fresh directory under $TMPDIR)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory")
    p.add_argument("--json", default=None, help="also write every sample")
    p.add_argument("--serve", action="store_true",
                   help="start the simulators (with --delay-ms when given "
                   "explicitly), write the configurations and messages, "
                   "print each client's command line and wait: for "
                   "strace, perf and valgrind by hand (bench/NOTES.md)")
    p.add_argument("--bursts", action="store_true",
                   help="measure bursts against SES's sending rate "
                   "instead (see above)")
    p.add_argument("--before", default=None,
                   help="with --bursts: an earlier binary, side by side")
    p.add_argument("--burst-list", default="100@14,300@14,30@1",
                   help="with --bursts: BURST@RATE,... (default "
                   "100@14,300@14,30@1)")
    # Internal: the latency runs inside the namespace, results to FILE.
    p.add_argument("--latency-out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--creds", type=int, default=0, metavar="N",
                   help="only the credential chain's cost: N interleaved "
                   "API sends each with static keys, the instance role, "
                   "and the instance role with the region from IMDS")
    p.add_argument("--creds-delay-ms", type=float, default=0, metavar="MS",
                   help="with --creds: each metadata answer waits MS, a "
                   "round trip to a metadata service that far away")
    a = p.parse_args(argv)
    a.argv = list(argv)
    a.delay_given = any(x.startswith("--delay-ms") for x in argv)
    if a.quick:
        a.sends = min(a.sends, 30)
        a.big_runs = 1
    if a.delay_sends is None:
        a.delay_sends = a.sends
    if a.bs_runs is None:
        a.bs_runs = max(3, a.delay_sends // 10)
    a.bs_messages = max(2, a.bs_messages)
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


def serve(a, work, pki, nodelay, small, big, session):
    """--serve: the simulators and the clients' command lines, until
    interrupted."""
    delay = a.delay_ms if a.delay_given else None
    with sestest.Sim(work, pki=pki, idle=60, delay_ms=delay) as sim, \
            sestest.ApiSim(work, pki=pki, idle=60) as api:
        clients = clients_for(sim, api, work, a.binary, a.msmtp, nodelay,
                              "serve", api_delay=delay)
        if delay:
            api.scenario(**clients[0].scen)
        for c in clients:
            env = " ".join("%s=%s" % kv for kv in (c.env or {}).items())
            print("%s  %s%s%s < %s" % (c.key, env, " " if env else "",
                                       " ".join(c.argv), small))
        print("messages: %s, %s; a -bs session: %s\nsimulators: %s, %s "
              "(transcript.log, events.jsonl)\n%s ms per reply; Ctrl-C "
              "stops them" % (small, big, session, sim.dir, api.dir,
                              delay or 0), flush=True)
        try:
            while sim.proc.poll() is None and api.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


def loopback_phase(a, work, pki, spawn, nodelay, small, big):
    """2 KB and big sends on loopback, and /usr/bin/time -v on the big
    one."""
    failures = []
    errdir = work / "stderr"
    with sestest.Sim(work, pki=pki, idle=60) as sim, \
            sestest.ApiSim(work, pki=pki, idle=60) as api:
        clients = clients_for(sim, api, work, a.binary, a.msmtp, nodelay,
                              "lo")
        loop = Series("lo", clients, small, spawn)
        loop.run(a.sends, errdir, warmup=2,
                 progress=progress_printer("2 KB, loopback"))
        bigs = Series("big", clients, big, spawn)
        bigs.run(a.big_runs, errdir, warmup=0,
                 progress=progress_printer("%d MiB" % a.big_mib))
        timev = {}
        for c in clients:
            c.sim.scenario(name="timev-" + c.key, **c.scen)
            try:
                timev[c.key] = time_v(c.argv, big, errdir / "timev.err",
                                      c.env)
            except (RunFailed, subprocess.TimeoutExpired) as e:
                failures.append("time -v %s: %s" % (c.key, e))
        conns, stored = read_records((sim, api))
        failures += loop.failures + bigs.failures
        failures += check_stored(loop, stored)
        failures += check_stored(bigs, stored, size=wire_size(big))
        lo_counts = {c.key: counts(loop, conns, c) for c in clients}
        for s in (sim, api):
            drop_stored(s)
            if s.errors():
                failures.append("simulator errors: " + s.errors()[-400:])
    return loop, bigs, timev, lo_counts, failures


def per_conn(runs, idx):
    """[answers waited, round trips][idx] of every connection."""
    return [conn[idx] for run in runs for conn in run]


def burst_run(binary, work, pki, n, rate, tag, **keys):
    """n processes of binary at once against a fresh simulator at rate:
    a dict of the figures."""
    msg = work / "burst.eml"
    msg.write_bytes(b"From: sender@example.com\nSubject: burst\n\n"
                    b"one of a burst\n")
    with sestest.Sim(work, pki=pki, max_send_rate=rate) as sim:
        conf = sestest.write_conf(work / ("burst-%s.conf" % tag), sim,
                                  retry_delays="1 5 10", retry_deadline=60,
                                  log="none", timeout=30, **keys)
        procs = []
        t0 = time.monotonic()
        for _ in range(n):
            with open(msg, "rb") as f:
                p = subprocess.Popen([binary, "-C", str(conf), "-i",
                                      "rcpt@example.net"], stdin=f,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            p.end = None
            procs.append(p)
        limit = t0 + 120
        while time.monotonic() < limit and any(p.end is None
                                               for p in procs):
            for p in procs:
                if p.end is None and p.poll() is not None:
                    p.end = time.monotonic() - t0
            time.sleep(0.01)
        for p in procs:
            if p.end is None:
                p.kill()
                p.wait()
                p.end = time.monotonic() - t0
        sim.wait_closed(timeout=10)
        rcs = [p.returncode for p in procs]
        late = [p.end for p in procs if p.returncode == 75]
        return {"burst": n, "rate": rate, "client": tag,
                "delivered": len(sim.messages()), "ok": rcs.count(0),
                "ex75": rcs.count(75),
                "other": len(rcs) - rcs.count(0) - rcs.count(75),
                "throttled": len(sim.events("throttled")),
                "wall": max(p.end for p in procs),
                "last75": max(late) if late else None,
                "ideal": max(n - max(rate, 1), 0) / rate}


def bursts(a, work, pki):
    """--bursts: the table of issue 14, before and after."""
    rows = []
    for item in a.burst_list.split(","):
        n, rate = item.split("@")
        n, rate = int(n), float(rate)
        runs = []
        if a.before:
            runs.append(("before", a.before, {}))
        runs += [("after", a.binary, {}),
                 ("paced", a.binary, {"max_send_rate": "%g" % rate,
                                      "rate_file": work / ("rate-%s" %
                                      item.replace("@", "-"))})]
        for tag, binary, keys in runs:
            print("  %d at once at %g/s: %s ..." % (n, rate, tag),
                  file=sys.stderr, flush=True)
            rows.append(burst_run(binary, work, pki, n, rate, tag, **keys))
    print("| burst | rate | client | delivered | exit 75 | other | "
          "throttled replies | wall | ideal | wall / ideal | "
          "last exit 75 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
          "--- |")
    for r in rows:
        print("| %d at once | %g/s | %s | %d | %d | %d | %d | %.1f s | "
              "%.1f s | %.2f | %s |" % (
                  r["burst"], r["rate"], r["client"], r["delivered"],
                  r["ex75"], r["other"], r["throttled"], r["wall"],
                  r["ideal"], r["wall"] / max(r["ideal"], 0.1),
                  "-" if r["last75"] is None else "%.1f s" % r["last75"]))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["other"] == 0 for r in rows) else 1


def main(argv):
    a = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so that the simulators are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for prog in (a.binary,) + (() if a.bursts else (a.msmtp,)):
        if not shutil.which(prog):
            sys.exit("bench: %s not found (bench/run.sh installs msmtp and "
                     "builds ses-sendmail)" % prog)
    work = Path(a.workdir) if a.workdir else Path(
        tempfile.mkdtemp(prefix="ses-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pki = sestest.make_pki(work / "pki")
    if a.bursts:
        return bursts(a, work, pki)
    if a.latency_out:
        spawn, nodelay = helper_paths(work)
        lat = latency_phase(a, work, pki, spawn, nodelay,
                            work / "msg-2k.eml", work / "bs-2k.smtp", True)
        Path(a.latency_out).write_text(json.dumps(lat))
        return 0
    if a.creds:
        return creds_phase(a, work, pki)
    errdir = work / "stderr"
    errdir.mkdir(exist_ok=True)
    started = time.monotonic()
    small = make_message(work / "msg-2k.eml", 2048, 1)
    big = make_message(work / "msg-big.eml", a.big_mib * MIB, 2)
    session = make_session(work / "bs-2k.smtp", small, a.bs_messages)
    spawn, nodelay = build_helpers(work)
    if a.serve:
        return serve(a, work, pki, nodelay, small, big, session)

    netem, why = False, "--netem no"
    if a.netem != "no":
        why = netem_problem(a.delay_ms)
        if why is None:
            netem = True
        elif a.netem == "yes":
            sys.exit("bench: --netem yes: netem cannot be used here: " + why)
    print("ses-sendmail %s\nmsmtp %s\n%d x 2 KB per client on loopback, "
          "%d at %d ms %s, %d -bs sessions of %d, %d x %d MiB; runs "
          "interleaved, order rotated each round" % (
              a.binary, a.msmtp, a.sends, a.delay_sends, a.delay_ms,
              "round trip (netem)" if netem else "per reply", a.bs_runs,
              a.bs_messages, a.big_runs, a.big_mib), flush=True)
    if not netem:
        print("netem: not used (%s); the latency rows use the "
              "simulators' delay before each answer, which leaves the TCP "
              "and TLS handshakes free: see the modelled row" % why,
              flush=True)

    loop, bigs, timev, lo_counts, failures = loopback_phase(
        a, work, pki, spawn, nodelay, small, big)
    if netem:
        lat = latency_in_netns(a, work)
    else:
        lat = latency_phase(a, work, pki, spawn, nodelay, small, session,
                            False)
    failures += lat["failures"]
    lat.setdefault("delay", {})
    lat.setdefault("bs", {})

    def col(samples, idx, stat, scale=1.0):
        return {k: stat([s[idx] for s in v]) * scale
                for k, v in samples.items() if v}

    big_bytes = a.big_mib * MIB
    rss_small = col(loop.samples, 2, median)
    rss_big = col(bigs.samples, 2, median)
    lo_wall = col(loop.samples, 0, median, 1e3)
    rtt_new = {k: median(per_conn(v, 1)) for k, v in lo_counts.items()}
    waits = {k: median(per_conn(v, 0))
             for k, v in lat.get("delay_counts", {}).items()}
    # -bs: the session's round trips, less a single send's, spread over
    # the further messages.
    bs_counts = lat.get("bs_counts", {})
    bs_conns = {k: median([len(run) for run in v])
                for k, v in bs_counts.items()}
    bs_extra = {k: (median([sum(c[1] for c in run) for run in v]) -
                    rtt_new.get(k, math.nan)) / (a.bs_messages - 1)
                for k, v in bs_counts.items()}
    bs_wall = {k: (median([s[0] for s in v]) -
                   median([s[0] for s in lat["delay"].get(k, [])])) * 1e3 /
               (a.bs_messages - 1) for k, v in lat["bs"].items() if v}
    what = ("%d ms round trip (netem)" % a.delay_ms if netem else
            "%d ms per reply" % a.delay_ms)
    rows = [
        Row("2 KB, loopback: wall per send, median", lo_wall, "ms", "%.2f",
            [("<=", 0.5, "W", "M")]),
        Row("2 KB, loopback: wall per send, p90",
            col(loop.samples, 0, p90, 1e3), "ms", "%.2f"),
        Row("2 KB, %s: wall per send, median" % what,
            col(lat["delay"], 0, median, 1e3), "ms", "%.1f",
            [("<=", 0.8, "W", "M"), ("<=", 0.5, "A", "W")]),
        Row("2 KB, %s: wall per send, p90" % what,
            col(lat["delay"], 0, p90, 1e3), "ms", "%.1f"),
        Row("2 KB, modelled at %d ms RTT: loopback + round trips" %
            a.delay_ms, {k: lo_wall[k] + rtt_new[k] * a.delay_ms
                         for k in lo_wall if k in rtt_new}, "ms", "%.1f",
            [("<=", 0.5, "A", "W")]),
        Row("answers waited per message", waits, "", "%.0f",
            [("abs<=", 8, "W", None)]),
        Row("round trips, one send on a new connection", rtt_new, "",
            "%.0f"),
        Row("-bs, %d messages: connections per session" % a.bs_messages,
            bs_conns, "", "%.0f", ratio=False),
        Row("-bs: round trips per further message", bs_extra, "", "%.1f"),
        Row("-bs, %s: wall per further message" % what, bs_wall, "ms",
            "%.1f"),
        Row("2 KB: client CPU (user+sys) per send, median",
            col(loop.samples, 1, median, 1e3), "ms", "%.2f",
            [("<=", 1.0, "W", "M")]),
        Row("2 KB: client CPU (user+sys) per send, mean",
            col(loop.samples, 1, mean, 1e3), "ms", "%.2f"),
        Row("2 KB: peak RSS, median", rss_small, "KiB", "%.0f",
            [("<=", 1.0, "W", "M")]),
        Row("%d MiB: wall, median" % a.big_mib, col(bigs.samples, 0, median),
            "s", "%.2f"),
        Row("%d MiB: throughput" % a.big_mib,
            {k: big_bytes / MIB / median([s[0] for s in v])
             for k, v in bigs.samples.items() if v}, "MiB/s", "%.1f",
            [(">=", 1.0, "W", "M")]),
        Row("%d MiB: client CPU (user+sys), median" % a.big_mib,
            col(bigs.samples, 1, median), "s", "%.3f"),
        Row("%d MiB: peak RSS, median" % a.big_mib, rss_big, "KiB",
            "%.0f", [("<=", 1.0, "W", "M")]),
        Row("%d MiB: peak RSS, /usr/bin/time -v" % a.big_mib,
            {k: v.get("maxrss") for k, v in timev.items()}, "KiB", "%.0f"),
        Row("peak RSS, %d MiB minus 2 KB" % a.big_mib,
            {k: rss_big[k] - rss_small[k] for k in rss_big if k in
             rss_small}, "KiB", "%.0f",
            [("abs<=", 1024, "W", None), ("abs<=", 1024, "A", None)],
            ratio=False),
    ]
    elapsed = time.monotonic() - started
    print()
    print(table(rows))
    print(LEGEND)
    print()

    def n(samples):
        return "/".join(str(len(samples.get(k, []))) for k in KEYS)
    print("Samples per client (%s): %s on loopback, %s at %s, %s -bs "
          "sessions (A/W/S), %s x %d MiB; %.0f s in all." % (
              "/".join(KEYS), n(loop.samples), n(lat["delay"]), what,
              "/".join(str(len(lat["bs"].get(k, []))) for k in "AWS"),
              n(bigs.samples), a.big_mib, elapsed))
    print("Answers waited: SMTP replies per connection from the simulator's "
          "transcript (a multi-line reply counts once; ses-sendmail's 221 "
          "to QUIT is not counted, as it closes without reading it; msmtp "
          "reads it), HTTP responses for A.  Round trips add the TCP "
          "handshake and the TLS one (1 round trip in TLS 1.3) to them.  "
          "Loopback run: %s." % ", ".join(
              "%s %s/%s" % (k, "/".join(sorted({str(x) for x in
                                               per_conn(v, 0)})),
                            "/".join(sorted({str(x) for x in
                                             per_conn(v, 1)})))
              for k, v in lo_counts.items()))
    print("-bs: sessions of %d messages on one connection; per further "
          "message is the session less a single send (round trips from "
          "the records, wall from the medians at %s), over %d." % (
              a.bs_messages, what, a.bs_messages - 1))
    if not netem:
        print("The %d ms rows delay each SMTP reply and each HTTP response, "
              "not the TCP and TLS handshakes (no netem here); the "
              "modelled row adds %d ms per counted round trip to the "
              "loopback median instead." % (a.delay_ms, a.delay_ms))
    print("Throughput: %d MiB of message (%d octets on the wire; for A, "
          "base64 in JSON) divided by the wall time of the whole run: "
          "spool, connect, TLS, the transfer, and the simulator storing it "
          "before it answers." % (a.big_mib, wire_size(big)))
    if failures:
        print("\nFAILURES (the figures above are not to be trusted):")
        for f in failures[:20]:
            print("  " + f)
    if a.json:
        Path(a.json).write_text(json.dumps({
            "args": vars(a), "elapsed": elapsed, "failures": failures,
            "netem": netem, "loopback": loop.samples,
            "delay": lat["delay"], "bs": lat["bs"], "big": bigs.samples,
            "time_v": timev, "counts_loopback": lo_counts,
            "counts_delay": lat.get("delay_counts"),
            "counts_bs": bs_counts, "rows": [r.json() for r in rows],
        }, indent=1))
    if not a.keep and not failures:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept: %s" % work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
