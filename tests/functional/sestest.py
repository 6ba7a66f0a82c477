# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""The harness every functional test uses: a throwaway PKI, the SES simulator
(sessim.py) as a subprocess, configuration files, running the built binary,
and TAP output.  Python 3 standard library only.  ApiSim runs the SES API v2
simulator (sesapi.py, which needs python3-botocore) and ConnectProxy the
CONNECT proxy (connectproxy.py) the same way.

    from sestest import Tap, Sim, write_conf, run

    t = Tap()                           # makes t.tmp, a fresh directory
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "ses.conf", sim)
        sim.scenario(conns=[[{"stage": "greeting", "action": "drop"}]])
        r = run(["-i", "rcpt@example.net"], stdin=b"Subject: x\\n\\nhi\\n",
                conf=conf)
        t.eq(r.rc, 0, "sent after one dropped connection", r.err)
        t.eq(sim.connections(), 2, "two connections")
    t.done()

Environment: SES_SENDMAIL (the binary; default <build>/sendmail/ses-sendmail),
SES_BUILDDIR, SES_TEST_TMP (where test directories go; default
<build>/tests/functional/tmp, else $TMPDIR), SES_KEEP_TMP=1 (keep them).
"""

import atexit
import contextlib
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIMULATOR = HERE / "sessim.py"
API_SIMULATOR = HERE / "sesapi.py"
PROXY = HERE / "connectproxy.py"
CRED_SIMULATOR = HERE / "credsim.py"
# The simulator runs on Debian's interpreter, whatever runs the test.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
BUILDDIR = Path(os.environ.get("SES_BUILDDIR", HERE.parent.parent))

USER = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"   # ses.md 4.2

_live_sims = set()                  # stopped at exit, whatever happens


def tmp_root():
    """Where test directories are made."""
    root = os.environ.get("SES_TEST_TMP")
    if not root:
        root = BUILDDIR / "tests" / "functional" / "tmp"
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:             # a read-only tree: use $TMPDIR
            root = Path(tempfile.gettempdir())
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return root


# --- PKI ---------------------------------------------------------------------

class Pki:
    """Paths of the throwaway certificates, all PEM:
    ca                  the CA to trust (ca_file)
    server, server_key  CN=localhost, SAN DNS:localhost, IP:127.0.0.1, ::1
    wrong, wrong_key    CN/SAN wrong.example, from the CA
    expired, expired_key  the server's names, from the CA, expired in 2021
    selfsigned, selfsigned_key  the server's names, signed by itself"""

    NAMES = ("server", "wrong", "expired", "selfsigned")

    def __init__(self, directory):
        d = Path(directory)
        self.dir = d
        self.ca = d / "ca.pem"
        for name in self.NAMES:
            setattr(self, name, d / (name + ".pem"))
            setattr(self, name + "_key", d / (name + ".key"))

    def pair(self, name):
        """(certificate, key) of one of NAMES."""
        return getattr(self, name), getattr(self, name + "_key")


SERVER_SAN = "DNS:localhost,IP:127.0.0.1,IP:::1"
LEAF_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""
# `openssl ca` (not `openssl x509 -req`) because OpenSSL 3.0 can only set a
# past validity period with -startdate/-enddate there.
CA_CONF = """[ca]
default_ca = testca
[testca]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
"""


def _openssl(*args, cwd):
    r = subprocess.run(("openssl",) + args, cwd=cwd, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (
            " ".join(args[:2]), r.stderr.decode(errors="replace")))


def _build_pki(d):
    run_ssl = lambda *a: _openssl(*a, cwd=d)    # noqa: E731
    (d / "newcerts").mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")
    (d / "ca.cnf").write_text(CA_CONF.format(dir=d))
    run_ssl("req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/CN=ses-sendmail test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, cn, san, dates):
        (d / (name + ".ext")).write_text(LEAF_EXT.format(san=san))
        run_ssl("req", "-new", "-newkey", "rsa:2048", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn)
        run_ssl("ca", "-batch", "-config", "ca.cnf", "-notext",
                "-in", name + ".csr", "-out", name + ".pem",
                "-extfile", name + ".ext", *dates)

    leaf("server", "localhost", SERVER_SAN, ("-days", "3650"))
    leaf("wrong", "wrong.example", "DNS:wrong.example", ("-days", "3650"))
    leaf("expired", "localhost", SERVER_SAN,
         ("-startdate", "20200101000000Z", "-enddate", "20210101000000Z"))
    run_ssl("req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes",
            "-keyout", "selfsigned.key", "-out", "selfsigned.pem",
            "-days", "3650", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=" + SERVER_SAN)


def make_pki(directory=None):
    """The throwaway PKI in `directory` (default: <tmp root>/pki), made once
    and reused: built aside and renamed into place, so concurrent test files
    never see half of it."""
    d = Path(directory) if directory else tmp_root() / "pki"
    if not (d / "ready").exists():
        build = Path(tempfile.mkdtemp(prefix="pki-", dir=d.parent))
        _build_pki(build)
        (build / "ready").write_text("")
        try:
            build.rename(d)
        except OSError:             # another test file won the race
            shutil.rmtree(build, ignore_errors=True)
    if not (d / "ready").exists():
        raise RuntimeError("no PKI in %s" % d)
    return Pki(d)


# --- the simulator ---------------------------------------------------------

_ipv6 = []


def have_ipv6():
    """Whether ::1 can be listened on here."""
    if not _ipv6:
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
            _ipv6.append(True)
        except OSError:
            _ipv6.append(False)
    return _ipv6[0]


class _Helper:
    """A helper process of the tests (self.proc, its output in self.log,
    registered in _live_sims): stop() and a context manager that stops
    it."""

    def stop(self, timeout=5):
        """SIGTERM, a bounded wait, then SIGKILL; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        _live_sims.discard(self)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Sim(_Helper):
    """sessim.py as a subprocess.  Options become its flags:
    region, user, secret, idle, size, delay_ms, verified (str or list),
    tls_min, tls_max, login_only=True, ipv6; cert="server" picks the
    certificate among Pki.NAMES.  ipv6 defaults to True where ::1 exists,
    so that "localhost" reaches the simulator whether /etc/hosts maps it
    to 127.0.0.1 alone or to ::1 as well (Debian's default).  Every Sim
    starts with a fresh scenario, so messages(), connections() and
    transcript() see only what follows."""

    _seq = itertools.count(1)

    SCRIPT = SIMULATOR
    PREFIX = "sim-"

    def __init__(self, tmpdir, cert="server", pki=None, timeout=10, **opts):
        self._start(tmpdir, cert, pki, timeout, opts)
        self.starttls_port = self.ports["starttls"]
        self.wrapper_port = self.ports["wrapper"]
        self.starttls6_port = self.ports.get("starttls6")
        self.wrapper6_port = self.ports.get("wrapper6")
        self.current = None
        self.scenario()

    def _start(self, tmpdir, cert, pki, timeout, opts):
        """Start the class's simulator script with opts as its flags and
        wait for its ports."""
        self.pki = pki or make_pki()
        opts.setdefault("ipv6", have_ipv6())
        self.dir = Path(tempfile.mkdtemp(prefix=self.PREFIX, dir=tmpdir))
        certfile, keyfile = self.pki.pair(cert)
        cmd = [PYTHON, str(self.SCRIPT), "--dir", str(self.dir),
               "--cert", str(certfile), "--key", str(keyfile)] + \
            _flags(opts)
        self.log = open(self.dir / "sim-output.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        _live_sims.add(self)
        self.ports = self._wait_ports(timeout)

    def _wait_ports(self, timeout):
        path = self.dir / "ports.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                return json.loads(path.read_text())
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("simulator did not start: %s" %
                           (self.dir / "sim-output.log").read_text())

    def scenario(self, conns=None, default=None, random=None, name=None):
        """Install a new scenario (see sessim.py) and make it current; its
        id, e.g. "s3-retry".  Without arguments: plain SES behaviour."""
        sid = "s%d" % next(self._seq) + ("-" + name if name else "")
        spec = {"id": sid}
        if conns is not None:
            spec["conns"] = conns
        if default is not None:
            spec["default"] = default
        if random is not None:
            spec["random"] = random
        return self._install(sid, spec)

    def _install(self, sid, spec):
        """Write the scenario file whole (the simulator reads it at every
        connection) and make sid current."""
        path = self.dir / "scenario.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(spec))
        tmp.replace(path)
        self.current = sid
        return sid

    BODIES = ("raw", "eml")     # what the simulator stores beside .json

    def messages(self, scenario=None):
        """Accepted messages of the scenario (default: current), in order:
        the .json fields plus its BODIES as bytes (the SMTP simulator's
        "raw" wire form and "eml"; the API simulator's decoded "raw")."""
        sid = scenario or self.current
        out = []
        for j in sorted((self.dir / "messages").glob("*.json")):
            info = json.loads(j.read_text())
            if info["scenario"] == sid:
                for body in self.BODIES:
                    info[body] = j.with_suffix("." + body).read_bytes()
                out.append(info)
        return out

    def events(self, kind=None, scenario=None):
        """Events of the scenario (default: current), optionally one kind."""
        sid = scenario or self.current
        path = self.dir / "events.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines(keepends=True):
            if not line.endswith("\n"):     # being written right now
                break
            ev = json.loads(line)
            if ev["scenario"] == sid and (kind is None or ev["event"] == kind):
                out.append(ev)
        return out

    def connections(self, scenario=None):
        """How many connections the scenario has had."""
        return len(self.events("connect", scenario))

    def wait_closed(self, timeout=5):
        """Wait until every connection of the current scenario has ended
        (a client that exits does not wait for the simulator's bookkeeping);
        True when they have."""
        deadline = time.monotonic() + timeout
        while True:
            opened = self.connections()
            if len(self.events("close")) >= opened:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def transcript(self, scenario=None):
        """Transcript lines of the scenario, without the scenario id:
        "<conn> C: <line>" and "<conn> S: <line>"."""
        sid = scenario or self.current
        path = self.dir / "transcript.log"
        if not path.exists():
            return []
        prefix = sid + " "
        return [ln[len(prefix):] for ln in
                path.read_text(errors="replace").splitlines()
                if ln.startswith(prefix)]

    def errors(self):
        """sim-errors.log: empty when the simulator had no bug and every
        scenario was well formed."""
        path = self.dir / "sim-errors.log"
        return path.read_text() if path.exists() else ""



def _flags(opts):
    """Keyword options as command-line flags: key_id="x" gives --key-id x,
    True a bare flag, None or False nothing; a list is joined with
    commas."""
    out = []
    for key, value in opts.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value not in (None, False):
            if isinstance(value, (list, tuple)):
                value = ",".join(value)
            out += [flag, str(value)]
    return out


def _wait_file(path, proc, timeout):
    """Wait until path exists (True), or proc has died or timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


class ApiSim(Sim):
    """sesapi.py, the SES API v2 simulator, as a subprocess.  Options
    become its flags: region, key_id, secret, session_token, skew, idle,
    max_size, verified, pending, config_sets (a str or a list), sandbox,
    sending_paused, quota, max_send_rate, tls_max, ipv6; cert picks the
    certificate among Pki.NAMES.  .port is the port on 127.0.0.1 and, with
    ipv6 (the default where ::1 exists), on ::1 too; .url is
    "https://localhost:PORT".  scenario() also takes "requests" (per-request
    fault lists) and scenario-wide keys (token_expired=True,
    clock_offset=SECONDS); messages() gives each message's .json fields
    plus "raw"; requests() the request events; events(), connections(),
    transcript(), errors(), wait_closed() and stop() are Sim's."""

    SCRIPT = API_SIMULATOR
    PREFIX = "apisim-"
    BODIES = ("raw",)

    def __init__(self, tmpdir, cert="server", pki=None, timeout=10, **opts):
        self._start(tmpdir, cert, pki, timeout, opts)
        self.port = self.ports["https"]
        self.port6 = self.ports.get("https6")
        self.url = "https://localhost:%d" % self.port
        self.current = None
        self.scenario()

    def scenario(self, conns=None, default=None, requests=None, name=None,
                 **extra):
        """Install a new scenario (see sesapi.py) and make it current; its
        id.  Without arguments: plain SES behaviour."""
        sid = "s%d" % next(self._seq) + ("-" + name if name else "")
        spec = {"id": sid}
        for key, value in (("conns", conns), ("default", default),
                           ("requests", requests)):
            if value is not None:
                spec[key] = value
        spec.update(extra)
        return self._install(sid, spec)

    def requests(self, scenario=None):
        """The scenario's request events, in order."""
        return self.events("request", scenario)


class ConnectProxy(_Helper):
    """connectproxy.py as a subprocess, on 127.0.0.1: .port, .url
    ("http://127.0.0.1:PORT"), .auth_url (with the credentials when auth
    "USER:PASSWORD" is required), answer(407 or 502, or None for normal
    service), connects() (the logged CONNECTs: target, status, auth),
    errors(), stop(); a context manager."""

    def __init__(self, tmpdir, auth=None, idle=None, timeout=10):
        self.dir = Path(tempfile.mkdtemp(prefix="proxy-", dir=tmpdir))
        self.log = open(self.dir / "proxy-output.log", "wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(PROXY), "--dir", str(self.dir)] +
            _flags({"auth": auth, "idle": idle}),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        _live_sims.add(self)
        if not _wait_file(self.dir / "port", self.proc, timeout):
            self.stop()
            raise RuntimeError("proxy did not start: %s" % (
                self.dir / "proxy-output.log").read_text())
        self.port = int((self.dir / "port").read_text())
        self.url = "http://127.0.0.1:%d" % self.port
        self.auth_url = ("http://%s@127.0.0.1:%d" % (auth, self.port)
                         if auth else self.url)

    def answer(self, status=None):
        path = self.dir / "mode.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"answer": status} if status else {}))
        tmp.replace(path)

    def connects(self):
        path = self.dir / "connects.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in
                path.read_text().splitlines(keepends=True)
                if line.endswith("\n")]

    def errors(self):
        path = self.dir / "errors.log"
        return path.read_text() if path.exists() else ""



class CredSim(_Helper):
    """credsim.py as a subprocess: kind "imds", "container" or "sts" (the
    last over HTTPS with the throwaway CA's server certificate).  .port,
    .url ("http://127.0.0.1:PORT", https for sts); set(**state) rewrites
    its state file whole (see credsim.py), requests() the logged
    requests; a context manager."""

    def __init__(self, tmpdir, kind, pki=None, timeout=10, **state):
        self.dir = Path(tempfile.mkdtemp(prefix=kind + "-", dir=tmpdir))
        self.kind = kind
        self.set(**state)
        cmd = [PYTHON, str(CRED_SIMULATOR), "--dir", str(self.dir),
               "--role", kind]
        if kind == "sts":
            self.pki = pki or make_pki()
            cert, key = self.pki.pair("server")
            cmd += ["--cert", str(cert), "--key", str(key)]
        self.log = open(self.dir / "credsim-output.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        _live_sims.add(self)
        if not _wait_file(self.dir / "port", self.proc, timeout):
            self.stop()
            raise RuntimeError("credsim did not start: %s" % (
                self.dir / "credsim-output.log").read_text())
        self.port = int((self.dir / "port").read_text())
        self.url = "%s://%s:%d" % ("https" if kind == "sts" else "http",
                                   "localhost" if kind == "sts" else
                                   "127.0.0.1", self.port)

    def set(self, **state):
        path = self.dir / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(path)
        (self.dir / "requests.jsonl").write_text("")

    def requests(self):
        path = self.dir / "requests.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()
                if line.strip()]


@atexit.register
def _stop_all():
    for sim in list(_live_sims):
        sim.stop(timeout=2)


# --- configuration and the binary ------------------------------------------

def write_conf(path, sim, **keys):
    """A ses-sendmail configuration file (design.md 9) pointing at `sim`:
    for a Sim, its SMTP wrapper port with the SMTP password; for an ApiSim,
    transport api, its api_endpoint and the IAM keys.  keys override the
    defaults; a key given as None is left out; lists are
    joined with spaces, booleans become yes/no.  `tls` follows the port:
    wrapper for the simulator's wrapper ports, else starttls.  Mode 0600."""
    if isinstance(sim, ApiSim):
        conf = {"transport": "api", "api_endpoint": sim.url,
                "aws_access_key_id": USER, "aws_secret_access_key": SECRET,
                "ca_file": sim.pki.ca, "from": "sender@example.com",
                "log": "stderr", "retry_delays": "none", "timeout": 5,
                "region": "us-east-1"}
    else:
        conf = {"host": "localhost", "port": sim.wrapper_port, "tls": None,
                "username": USER, "password": PASSWORD,
                "ca_file": sim.pki.ca, "from": "sender@example.com",
                "log": "stderr", "retry_delays": "none", "timeout": 5,
                "region": "us-east-1"}
    conf.update(keys)
    if "tls" not in keys and not isinstance(sim, ApiSim):
        conf["tls"] = ("wrapper" if conf["port"] in
                       (sim.wrapper_port, sim.wrapper6_port) else "starttls")
    lines = []
    for key, value in conf.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value)
        lines.append("%s %s\n" % (key, value))
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(lines))
    os.chmod(path, 0o600)           # also when the file already existed
    return path


class Result:
    """What run() saw: rc (None when killed on timeout), out and err (str),
    stdout and stderr (bytes), elapsed (seconds), timed_out."""

    def __init__(self, rc, stdout, stderr, elapsed, timed_out):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.out = stdout.decode(errors="replace")
        self.err = stderr.decode(errors="replace")
        self.elapsed, self.timed_out = elapsed, timed_out

    def __repr__(self):
        return "rc=%r elapsed=%.2fs err=%r" % (self.rc, self.elapsed,
                                                self.err[-500:])


# The fields plan.c generates, in the forms it writes them.
DATE_RE = re.compile(rb"^Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} "
                     rb"\d{2}:\d{2}:\d{2} [+-]\d{4}\r$", re.M)
MSGID_RE = re.compile(rb"^Message-ID: <\d+\.[0-9a-f]{16}@([^<>\s]+)>\r$",
                      re.M)


def norm(raw):
    """raw wire bytes with the generated Date: and Message-ID: values
    replaced by "Date: DATE" and "Message-ID: <ID@domain>"."""
    raw = DATE_RE.sub(b"Date: DATE\r", raw)
    return MSGID_RE.sub(rb"Message-ID: <ID@\1>\r", raw)


def wire(*lines):
    """The expected wire form: each line with its CRLF."""
    return b"".join(line + b"\r\n" for line in lines)


def closed_port():
    """A loopback port where nothing listens (bound, then let go)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_address(host="localhost"):
    """The address a connect to host tries first: the resolver's first
    answer, as the binary sees it (127.0.0.1, or ::1 where /etc/hosts names
    it for localhost, as Debian's does)."""
    ai = socket.getaddrinfo(host, 25, type=socket.SOCK_STREAM)
    return ai[0][4][0]


def binary():
    return os.environ.get("SES_SENDMAIL") or str(
        BUILDDIR / "sendmail" / "ses-sendmail")


def can_fake_hosts():
    """Whether run() can give the binary a private /etc/hosts and host
    name (root, and unshare(1) works here); else the reason why not."""
    if os.geteuid() != 0:
        return "needs root for a private /etc/hosts"
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    r = subprocess.run(["unshare", "-m", "-u", "true"], capture_output=True,
                       timeout=10)
    return True if r.returncode == 0 else "unshare -m -u fails here"


# In a new mount and UTS namespace: the private hosts file over
# /etc/hosts, nsswitch.conf and resolv.conf beside it over theirs, the
# host name set, then the command.
_FAKE_HOSTS = ('mount --bind "$1" /etc/hosts && '
               'mount --bind "$1.nsswitch" /etc/nsswitch.conf && '
               'mount --bind "$1.resolv" /etc/resolv.conf && '
               '{ [ -z "$2" ] || hostname "$2"; } && shift 2 && exec "$@"')


def _resolver_files(hosts, dns):
    """nsswitch.conf and resolv.conf beside a private hosts file: names
    come from the file alone (another is NXDOMAIN), or with dns=True from
    a name server on loopback where nothing listens (the resolver does
    not answer)."""
    Path(str(hosts) + ".nsswitch").write_text(
        "passwd: files\ngroup: files\nshadow: files\n"
        "hosts: files%s\n" % (" dns" if dns else ""))
    Path(str(hosts) + ".resolv").write_text(
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    for suffix in (".nsswitch", ".resolv"):
        os.chmod(str(hosts) + suffix, 0o644)


def hosts_file(path, names):
    """Write an /etc/hosts mapping each name to its addresses, in order:
    names = {"ses.test": ["::1", "127.0.0.1"]}."""
    lines = ["%s\t%s\n" % (a, n) for n, addrs in names.items()
             for a in addrs]
    Path(path).write_text("".join(lines))
    os.chmod(path, 0o644)
    return path


def run(args, stdin=b"", conf=None, timeout=30, env=None, argv0=None,
        hosts=None, hostname=None, dns=False):
    """Run ses-sendmail with `args` (-C conf first when conf is given).
    env: variables to add (a None value removes one).  argv0: the name it
    is called by (mailq, newaliases...).  hosts: a file to see as
    /etc/hosts, the only source of names (dns=True: then a name server
    that does not answer), and hostname: the host name to have (all need
    can_fake_hosts()).  Killed after `timeout` seconds."""
    prog = binary()
    argv = [argv0 or prog] + (["-C", str(conf)] if conf else []) + \
        [str(a) for a in args]
    if hosts is not None:
        _resolver_files(hosts, dns)
        argv = ["unshare", "-m", "-u", "sh", "-c", _FAKE_HOSTS, "sh",
                str(hosts), hostname or "", prog] + argv[1:]
        prog = shutil.which("unshare")
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    start = time.monotonic()
    proc = subprocess.Popen(argv, executable=prog, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=environ, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += b"\n[harness: killed after %d s]" % timeout
    return Result(None if timed_out else proc.returncode, out, err,
                  time.monotonic() - start, timed_out)


class BsSession:
    """One `ses-sendmail -C conf -bs` process driven over raw pipes.
    Every read has a deadline; stderr goes to a file in tmpdir
    (self.errlog())."""

    _n = itertools.count(1)

    def __init__(self, tmpdir, conf, args=("-bs",), timeout=20):
        self.timeout = timeout
        self.errpath = Path(tmpdir) / ("bs-%d.err" % next(BsSession._n))
        self.errf = open(self.errpath, "wb")
        self.proc = subprocess.Popen(
            [binary(), "-C", str(conf)] + list(args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errf,
            start_new_session=True)
        self.buf = b""

    def line(self):
        """The next reply line without its CRLF; None at EOF or timeout."""
        deadline = time.monotonic() + self.timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """(code, [lines]) of one reply, multi-line ones whole; code 0 when
        the process said nothing in time or went away."""
        lines = []
        while True:
            ln = self.line()
            if ln is None:
                return 0, lines
            lines.append(ln)
            if not re.match(r"\d{3}-", ln):
                return (int(ln[:3]) if re.match(r"\d{3}", ln) else 0), lines

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def cmd(self, line, eol=b"\r\n"):
        """Send one command line; its reply's code (the lines in .last)."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + eol)
        code, self.last = self.reply()
        return code

    def message(self, body, rcpts=("rcpt@example.net",),
                sender="sender@example.com", params="", eol=b"\r\n"):
        """One transaction: ([codes of MAIL, RCPT..., DATA], final code,
        final reply text).  body: lines (bytes) without line ends, as
        the client puts them on the wire (already dot-stuffed)."""
        codes = [self.cmd("MAIL FROM:<%s>%s" % (sender, params), eol)]
        codes += [self.cmd("RCPT TO:<%s>" % r, eol) for r in rcpts]
        codes.append(self.cmd("DATA", eol))
        if codes[-1] != 354:
            return codes, 0, ""
        self.send(b"".join(ln + eol for ln in body) + b"." + eol)
        code, lines = self.reply()
        return codes, code, lines[-1] if lines else ""

    def finish(self, quit=False):
        """Close stdin (after a QUIT and its reply, with quit) and wait
        (bounded) for the exit; the exit code, None when it had to be
        killed."""
        try:
            if quit:
                self.cmd("QUIT")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
            rc = None
        self.proc.stdout.close()
        self.errf.close()
        return rc

    def errlog(self):
        return self.errpath.read_text(errors="replace")


TIME = "/usr/bin/time"


def run_measured(args, stdin=b"", conf=None, timeout=30):
    """run() for one plain invocation that also reports the peak resident
    memory of the binary: Result.maxrss in KiB, None when /usr/bin/time
    (Debian's "time") is missing.  The kernel keeps a process's peak
    across execve(), so a binary forked from this interpreter would report
    the interpreter's size: /usr/bin/time, a small process, forks it and
    reports what wait4() says of it alone."""
    argv = [binary()] + (["-C", str(conf)] if conf else []) + \
        [str(a) for a in args]
    have_time = os.access(TIME, os.X_OK)
    with tempfile.TemporaryDirectory(prefix="measured-",
                                     dir=tmp_root()) as d:
        rssf = Path(d) / "rss"
        if have_time:
            argv = [TIME, "-f", "ses-maxrss %M", "-o", str(rssf)] + argv
        paths = [Path(d) / name for name in ("in", "out", "err")]
        paths[0].write_bytes(stdin)
        with open(paths[0], "rb") as fin, open(paths[1], "wb") as fout, \
                open(paths[2], "wb") as ferr:
            start = time.monotonic()
            proc = subprocess.Popen(argv, stdin=fin, stdout=fout,
                                    stderr=ferr, start_new_session=True)
            try:
                proc.wait(timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        elapsed = time.monotonic() - start
        rc = None if timed_out else proc.returncode
        text = rssf.read_text() if rssf.exists() else ""
        m = re.search(r"ses-maxrss (\d+)", text)
        sig = re.search(r"terminated by signal (\d+)", text)
        if sig and rc is not None:      # time exits 128+N: say -N
            rc = -int(sig.group(1))
        err = paths[2].read_bytes()
        if timed_out:
            err += b"\n[harness: killed after %d s]" % timeout
        r = Result(rc, paths[1].read_bytes(), err, elapsed, timed_out)
    r.maxrss = int(m.group(1)) if m else None
    return r


# --- TAP -------------------------------------------------------------------

class Tap:
    """TAP producer.  Tap() makes self.tmp, a fresh directory for the test
    file, removed by done() when everything passed.  A watchdog bails out
    (and stops the simulators) after `deadline` seconds."""

    def __init__(self, name=None, deadline=300):
        name = name or Path(sys.argv[0]).stem
        self.n = 0
        self.failed = 0
        self.tmp = Path(tempfile.mkdtemp(prefix=name + "-", dir=tmp_root()))
        self.watchdog = threading.Timer(deadline, self._bail,
                                        ("timeout after %d s" % deadline,))
        self.watchdog.daemon = True
        self.watchdog.start()

    def _bail(self, why):
        print("Bail out! %s (kept %s)" % (why, self.tmp), flush=True)
        _stop_all()
        os._exit(1)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def ok(self, cond, desc, diag=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, desc),
              flush=True)
        if not cond and diag:
            self.diag(diag)
        return bool(cond)

    def eq(self, got, want, desc, diag=""):
        return self.ok(got == want, desc,
                       "got:  %r\nwant: %r%s" % (got, want,
                                                 "\n" + str(diag) if diag
                                                 else ""))

    def skip(self, desc, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, reason), flush=True)

    @contextlib.contextmanager
    def case(self, desc):
        """Group checks; an exception inside fails the case with its
        traceback instead of ending the test file."""
        try:
            yield
        except Exception:
            self.ok(False, "%s: raised" % desc, traceback.format_exc())

    def done(self):
        self.watchdog.cancel()
        _stop_all()
        print("1..%d" % self.n, flush=True)
        if self.failed:
            self.diag("%d of %d failed; kept %s" % (self.failed, self.n,
                                                     self.tmp))
            sys.exit(1)
        if not os.environ.get("SES_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        sys.exit(0)
