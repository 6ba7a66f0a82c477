#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the security model (design.md 11; issue #5 points 1 to 4), as an
unprivileged user against a private set-group-ID install.  Needs root (to
install setgid, create the user and group, and read the process from
outside); skipped as a whole otherwise.

  1. A private build (plain gcc, default flags: a sanitizer build cannot
     usefully run setgid) is configured with --with-group=sesmail and
     installed into this test's directory; the binary must be root:sesmail
     2755, the configurations root:sesmail 0640.
  2. The unprivileged user "sestest" (created when missing) sends through
     the simulator, cannot read the configuration, and then tries every way
     to the secret: -C with the real file, -v (AUTH PLAIN and AUTH LOGIN),
     -X, -d, unknown flags and modes, error paths (535, local recipient), a
     configuration whose bad line sits next to the secret or holds it,
     syslog (captured on a private /dev/log in a mount namespace), the
     process's environment and /proc files while it waits on the network,
     its memory (read as root: what a core file would hold), core dumps
     (SIGSEGV, SIGQUIT, SIGABRT with an unlimited core limit), ptrace
     (attach, seize, process_vm_readv, gdb -p, strace -p, strace of the
     exec; a plain build run in place is non-dumpable too),
     LD_PRELOAD / LD_LIBRARY_PATH / LD_AUDIT, GnuTLS's
     SSLKEYLOGFILE and GNUTLS_DEBUG_LEVEL, TZ (the environment is cleared),
     and symlinks, hardlinks and a symlink race on the configuration path.
     Each asserts that neither secret (the SMTP password, the IAM secret of
     the aws_secret_access_key configuration), their AUTH encodings, nor
     any 8-octet piece of them appears in what the user can see.
  3. The refusals of a configuration holding a secret: readable or
     writable by others, a directory, a FIFO, a device, a symlink: exit 78
     and a line saying what to fix.

SES_INSTALLED=PATH runs the same checks against a set-group-ID program
already installed at PATH with its configuration SES_INSTALLED_CONF
(default /etc/ses-sendmail.conf) and its rate folder SES_INSTALLED_STATE
(default /var/lib/ses-sendmail), as tests/package/test_package.py does
with the Debian package: no private build then, and neither the plain
binary's case nor the symbolic links and race on the configuration's
folder (that would open /etc to every user for a while).  The
configuration is overwritten.  What runs as root with -C (the controls,
the refusals) runs a copy of the installed program without the bit.

Privileges are checked from outside too: /proc/PID/status of a process
blocked on stdin shows real, effective, saved and file-system GIDs all the
caller's (dropped before stdin is read), and /proc/PID/limits shows a core
limit of 0 though it was started with an unlimited one."""

import atexit
import base64
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sestest import (PASSWORD, SECRET, USER, ApiSim, CredSim,  # noqa: E402
                     Result, Sim, Tap, run, tmp_root, write_conf)

GROUP = "sesmail"
LOGIN = "sestest"
SRCDIR = Path(os.environ.get("SES_SRCDIR", HERE.parent.parent))
INSTALLED = os.environ.get("SES_INSTALLED")
PY = "/usr/bin/python3"
RCPT = "rcpt@example.net"
MSG = b"Subject: security\n\nhello\n"
STEP = 30                               # bound on any one command
FIXTURES = set()                # the caller's own files, with a secret


def skip_all(reason):
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(0)


def traversable(path):
    """Every directory from / to path can be searched by others."""
    p = Path(path).resolve()
    for d in [p] + list(p.parents):
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
    return True


if os.geteuid() != 0:
    skip_all("needs root: installs set-group-ID, creates a user, reads "
             "/proc of another user's process")
for tool in ("gcc", "make", "setpriv", "useradd", "groupadd"):
    if shutil.which(tool) is None:
        skip_all("%s is not installed" % tool)
if not INSTALLED and (SRCDIR / "config.status").exists():
    skip_all("%s is configured in place: no out-of-tree build" % SRCDIR)
if not traversable(tmp_root()):
    # A clone under /root (0700): the unprivileged user must reach the
    # install, so this test's directories go to a 0755 folder of its own.
    _scratch = tempfile.mkdtemp(prefix="ses-security-", dir="/tmp")
    os.chmod(_scratch, 0o755)
    os.environ["SES_TEST_TMP"] = _scratch

    @atexit.register
    def _drop_scratch():
        """Gone with the test, unless Tap kept a failed test's folder."""
        left = [p.name for p in Path(_scratch).iterdir()]
        if not os.environ.get("SES_KEEP_TMP") and left in ([], ["pki"]):
            shutil.rmtree(_scratch, ignore_errors=True)
if not traversable(tmp_root()):
    skip_all("%s is not searchable by an unprivileged user" % tmp_root())


# --- the secrets and what betrays them -------------------------------------

def _b64(b):
    return base64.b64encode(b).decode()


PLAIN = _b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
# The temporary keys of the instance role (credential chain, design.md 12).
ROLE_ID = "ASIAROLEKEY000000001"
ROLE_SECRET = "roleSecret/K7MDENG+bPxRfiCYzEXAMPLEKEY01"
ROLE_TOKEN = "IQoJb3JpZ2luX2VjEroleSessionToken/abc+def==" * 5
# The first 28 characters of PLAIN encode only "\0" and the user name.
SECRET_FORMS = {"password": PASSWORD, "aws secret": SECRET,
                "AUTH PLAIN blob": PLAIN[28:],
                "AUTH LOGIN password": _b64(PASSWORD.encode()),
                "base64 aws secret": _b64(SECRET.encode()),
                "role's temporary secret": ROLE_SECRET,
                "role's session token": ROLE_TOKEN}
PIECES = {}
for _name, _form in SECRET_FORMS.items():
    for _i in range(len(_form) - 7):
        PIECES.setdefault(_form[_i:_i + 8].encode(), _name)


def leaks(data):
    """The secret forms of which an 8-octet piece is in data."""
    if isinstance(data, str):
        data = data.encode(errors="replace")
    found = set()
    for piece, name in PIECES.items():
        if name not in found and piece in data:
            found.add(name)
    return sorted(found)


# --- the user, the group, the build -----------------------------------------

def ensure_group():
    try:
        return grp.getgrnam(GROUP).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--system", GROUP], capture_output=True,
                       timeout=STEP)
        return grp.getgrnam(GROUP).gr_gid


def ensure_user():
    try:
        return pwd.getpwnam(LOGIN)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--user-group", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", LOGIN],
                       capture_output=True, timeout=STEP)
        return pwd.getpwnam(LOGIN)


def build_env():
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CC",
                "CFLAGS", "CPPFLAGS", "LDFLAGS", "LIBS", "CPP"):
        env.pop(var, None)
    env["LC_ALL"] = "C"
    return env


def build(t, bdir, prefix):
    """configure, make, make install; True when all went well."""
    bdir.mkdir()
    env = build_env()
    steps = [[str(SRCDIR / "configure"), "--prefix=%s" % prefix,
              "--sysconfdir=%s" % (prefix / "etc"),
              "--with-group=%s" % GROUP, "CC=gcc"],
             ["make", "-j2"], ["make", "install"]]
    for argv in steps:
        try:
            r = subprocess.run(argv, cwd=bdir, env=env, capture_output=True,
                               timeout=120)
            rc, log = r.returncode, r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            rc, log = None, b"timed out"
        if not t.ok(rc == 0, "private build: %s" % " ".join(
                Path(argv[0]).name if i == 0 else a
                for i, a in enumerate(argv[:2])),
                log.decode(errors="replace")[-3000:]):
            return False
    return True


# --- syslog on a private /dev/log -------------------------------------------

class Syslog:
    """A datagram socket that collects what the program sends to /dev/log;
    the user's processes see it at /dev/log in a mount namespace of their
    own, so the system's logging is never touched."""

    def __init__(self, path):
        self.path = str(path)
        self.lines = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.settimeout(0.2)
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped:
            try:
                self.lines.append(self.sock.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def text(self):
        time.sleep(0.3)                 # the last datagrams
        return b"\n".join(self.lines)

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()


NS_SETUP = r'''
set -e
mount --bind /dev "$SES_OLDDEV"
mount -t tmpfs -o mode=755,size=1m sestest-dev /dev
for n in null zero full random urandom; do
    : >/dev/$n
    mount --bind "$SES_OLDDEV/$n" /dev/$n
done
: >/dev/log
mount --bind "$SES_LOGSOCK" /dev/log
'''
USER_EXEC = r'''
cd "$SES_CWD"
ulimit -c unlimited
exec setpriv --reuid=%s --regid=%s --clear-groups -- env -i "$@"
''' % (LOGIN, LOGIN)


class User:
    """Runs programs as the unprivileged user: each in its own mount
    namespace with the private /dev/log (when that works), with an
    unlimited core size, a clean environment (env) and a directory (cwd).
    The program's pid is the Popen pid: every step execs the next."""

    def __init__(self, tmp, pw, logsock, namespace):
        self.tmp, self.pw = tmp, pw
        self.logsock, self.namespace = logsock, namespace
        self.olddev = tmp / "olddev"
        self.olddev.mkdir(exist_ok=True)
        self.seq = 0

    def home(self, name="run"):
        """A fresh directory owned by the user."""
        self.seq += 1
        d = self.tmp / "u" / ("%s-%d" % (name, self.seq))
        d.mkdir(parents=True)
        os.chown(d, self.pw.pw_uid, self.pw.pw_gid)
        return d

    def argv(self, prog, args, env, cwd):
        envp = dict(PATH="/usr/bin:/bin", HOME=str(cwd), LANG="C",
                    LOGNAME=LOGIN, USER=LOGIN, SES_CANARY="canary-1234")
        envp.update(env or {})
        script = (NS_SETUP if self.namespace else "") + USER_EXEC
        head = ["unshare", "-m"] if self.namespace else []
        return head + ["sh", "-c", script, "sh"] + \
            ["%s=%s" % kv for kv in envp.items()] + \
            [str(prog)] + [str(a) for a in args]

    def root_env(self, cwd):
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                "SES_OLDDEV": str(self.olddev), "SES_LOGSOCK": self.logsock,
                "SES_CWD": str(cwd)}

    def run(self, prog, args, stdin=b"", env=None, cwd=None, timeout=STEP):
        cwd = cwd or self.home()
        start = time.monotonic()
        p = subprocess.Popen(self.argv(prog, args, env, cwd),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.root_env(cwd),
                             start_new_session=True)
        timed_out = False
        try:
            out, err = p.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        r = Result(None if timed_out else p.returncode, out, err,
                   time.monotonic() - start, timed_out)
        r.cwd = cwd
        return r

    def start(self, prog, args, stdin=None, env=None, cwd=None):
        """In the background; stdin is written and closed unless None
        (then it stays an open pipe).  Output goes to files in cwd's
        parent, so a full pipe never blocks it."""
        cwd = cwd or self.home()
        out = open(str(cwd) + ".out", "w+b")
        err = open(str(cwd) + ".err", "w+b")
        p = subprocess.Popen(self.argv(prog, args, env, cwd),
                             stdin=subprocess.PIPE, stdout=out, stderr=err,
                             env=self.root_env(cwd), start_new_session=True)
        if stdin is not None:
            p.stdin.write(stdin)
            p.stdin.close()
        p.cwd, p.outf, p.errf = cwd, out, err
        return p


def finish(p, timeout=10):
    """Wait for a background run; (rc, stdout + stderr bytes)."""
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    for f in (p.outf, p.errf):
        f.flush()
        f.seek(0)
    data = p.outf.read() + p.errf.read()
    p.outf.close()
    p.errf.close()
    return p.returncode, data


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


# --- from outside the process -----------------------------------------------

def proc_status(pid):
    try:
        return Path("/proc/%d/status" % pid).read_text()
    except OSError:
        return ""


def blocked_in(pid, name):
    """pid is the program name (every step before it has exec'd) and it
    sleeps, twice in a row 0.1 s apart."""
    for _ in range(2):
        status = proc_status(pid)
        if "Name:\t%s\n" % name not in status or \
                "State:\tS" not in status:
            return False
        time.sleep(0.1)
    return True


def status_ids(pid, key):
    for line in proc_status(pid).splitlines():
        if line.startswith(key + ":"):
            return line.split()[1:]
    return None


def scan_memory(pid, needles):
    """As root: how many times each needle is in the readable memory of
    pid (what a core file or a debugger would see)."""
    counts = {name: 0 for name in needles}
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or fields[-1] in ("[vvar]",
                                                      "[vvar_vclock]",
                                                      "[vsyscall]"):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, OverflowError, ValueError):
                continue
            for name, needle in needles.items():
                counts[name] += data.count(needle)
    return counts


PROC_READER = r'''
import json, os, sys
pid = sys.argv[1]
out = {}
for name in sys.argv[2:]:
    p = "/proc/%s/%s" % (pid, name)
    try:
        if name in ("cwd", "exe", "root"):
            data = os.readlink(p).encode()
        elif name in ("fd", "task", "map_files"):
            data = " ".join(os.listdir(p)).encode()
            if name == "fd":
                for fd in os.listdir(p):
                    data += (" " + os.readlink(p + "/" + fd)).encode()
        else:
            with open(p, "rb", 0) as f:
                data = f.read(1 << 20)
        out[name] = {"ok": True, "data": data.decode("latin-1")}
    except OSError as e:
        out[name] = {"ok": False, "err": e.strerror or str(e)}
print(json.dumps(out))
'''
PROC_FILES = ("environ", "cmdline", "maps", "smaps", "mem", "status", "stat",
              "statm", "stack", "auxv", "limits", "io", "syscall", "wchan",
              "fd", "fdinfo/0", "cwd", "exe", "root", "pagemap", "comm",
              "sched", "task", "map_files", "mountinfo", "personality",
              "numa_maps", "oom_score")

KILL = "import os, sys; os.kill(int(sys.argv[1]), int(sys.argv[2]))"

PTRACER = r'''
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
pid = int(sys.argv[1])
out = {}
for name, req in (("PTRACE_ATTACH", 16), ("PTRACE_SEIZE", 0x4206)):
    rv = libc.ptrace(req, pid, None, None)
    out[name] = [rv, os.strerror(ctypes.get_errno())]
    if rv == 0:
        libc.ptrace(17, pid, None, None)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(4096)
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 4096)
remote = iovec(0x400000, 4096)
libc.process_vm_readv.restype = ctypes.c_ssize_t
rv = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote),
                           1, 0)
out["process_vm_readv"] = [rv, os.strerror(ctypes.get_errno())]
print(json.dumps(out))
'''

EVIL_C = r'''
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void
evil(void)
{
	FILE *f = fopen(MARKER, "a");
	char exe[256] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	if (f != NULL) {
		fprintf(f, "loaded into %ld %s\n", (long)getpid(), exe);
		fclose(f);
	}
}
unsigned int la_version(unsigned int v) { return v; }
'''


# --- the test ---------------------------------------------------------------

def main():
    # A shell starts a background job with SIGINT and SIGQUIT ignored, and
    # an ignored signal stays ignored across exec: give the programs
    # started here the default action, so SIGQUIT does kill.
    for sig in (signal.SIGINT, signal.SIGQUIT):
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
    gid = ensure_group()
    pw = ensure_user()
    t = Tap(deadline=115)
    T = t.tmp
    os.chmod(T, 0o755)
    t.diag("user %s uid %d gid %d; group %s gid %d" % (
        LOGIN, pw.pw_uid, pw.pw_gid, GROUP, gid))
    started = time.time()
    if INSTALLED:
        prog = Path(INSTALLED)
        conf_path = Path(os.environ.get("SES_INSTALLED_CONF",
                                        "/etc/ses-sendmail.conf"))
        etc = conf_path.parent
        t.diag("the installed %s with %s" % (prog, conf_path))
        # What runs as root (the controls, the refusals): the same
        # program, without the set-group-ID bit that clears root's
        # environment.
        plain_copy = T / "ses-sendmail.plain"
        shutil.copy(prog, plain_copy)
        os.environ["SES_SENDMAIL"] = str(plain_copy)
    else:
        inst = T / "inst"
        if not build(t, T / "build", inst):
            t.done()
        prog = inst / "sbin" / "ses-sendmail"
        etc = inst / "etc"
        conf_path = etc / "ses-sendmail.conf"

    # 1. The install model.
    st = os.stat(prog)
    t.eq((st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode))),
         (0, gid, oct(0o2755)), "installed binary is root:%s 2755" % GROUP)
    for name in ("ses-sendmail.conf",) + (
            () if INSTALLED else ("ses-sendmail.conf.example",)):
        st = os.stat(etc / name)
        t.eq((st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode))),
             (0, gid, oct(0o640)), "installed %s is root:%s 0640" % (
                 name, GROUP))
    readme = (SRCDIR / "README").read_text(errors="replace")
    t.ok("groupadd" in readme and GROUP in readme,
         "README says how to create the group")

    (T / "u").mkdir()
    os.chmod(T / "u", 0o755)
    ca = T / "ca.pem"
    logsock = T / "syslog.sock"
    syslog = Syslog(logsock)
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", NS_SETUP + "test -S /dev/log"],
        env=User(T, pw, str(logsock), True).root_env(T),
        capture_output=True, timeout=STEP) \
        if shutil.which("unshare") else None
    namespace = probe is not None and probe.returncode == 0
    if not namespace:
        t.diag("no private mount namespace (%s): syslog is not captured" %
               (probe.stderr.decode(errors="replace").strip() if probe
                else "unshare missing"))
    user = User(T, pw, str(logsock), namespace)

    def clean(desc, data):
        found = leaks(data)
        return t.ok(not found, "%s: no secret in what the user sees" % desc,
                    "found pieces of: %s\n%s" % (", ".join(found),
                                                 data[-2000:]))

    def as_user(desc, args, want, stdin=MSG, env=None, cwd=None):
        r = user.run(prog, args, stdin=stdin, env=env, cwd=cwd)
        if want is not None:
            t.eq(r.rc, want, "%s: exit %s" % (desc, want), r.err[-1500:])
        clean(desc, r.stdout + r.stderr)
        return r

    with Sim(T) as sim:
        shutil.copy(sim.pki.ca, ca)
        os.chmod(ca, 0o644)
        # ca_file is loaded during the connection, after the drop: the
        # caller must be able to read it (see the case further down).
        base = dict(ca_file=ca, log="syslog", timeout=20)

        def install_conf(**keys):
            write_conf(conf_path, sim, **dict(base, **keys))
            os.chown(conf_path, 0, gid)
            os.chmod(conf_path, 0o640)

        def install_text(text, mode=0o640):
            conf_path.unlink(missing_ok=True)
            fd = os.open(conf_path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode())
            os.chown(conf_path, 0, gid)
            os.chmod(conf_path, mode)

        def conf_text(**keys):
            """The text write_conf gives for these keys."""
            p = T / "scratch.conf"
            write_conf(p, sim, **dict(base, **keys))
            text = p.read_text()
            p.unlink()
            return text

        # 2. A normal send; the configuration is out of reach.
        install_conf()
        good_text = conf_path.read_bytes()
        r = as_user("send as the user", ["-i", RCPT], 0)
        msgs = sim.messages()
        t.eq(len(msgs), 1, "the simulator stored the message")
        cat = user.run("/bin/cat", [conf_path])
        t.ok(cat.rc != 0 and "Permission denied" in cat.err,
             "the user cannot read the configuration", repr(cat))
        clean("cat of the configuration", cat.stdout + cat.stderr)

        # Privileges dropped before stdin is read: a process blocked on
        # stdin has every GID the caller's.
        p = user.start(prog, ["-i", RCPT], stdin=None)
        blocked = wait_for(lambda: blocked_in(p.pid, "ses-sendmail"), 5)
        gids = status_ids(p.pid, "Gid")
        groups = status_ids(p.pid, "Groups")
        t.ok(blocked and gids == [str(pw.pw_gid)] * 4,
             "blocked on stdin: real, effective, saved and fs GIDs are the "
             "caller's", "Gid: %r (caller %d, %s %d)" % (gids, pw.pw_gid,
                                                         GROUP, gid))
        t.eq(groups, [], "blocked on stdin: no supplementary groups")
        p.stdin.write(MSG)
        p.stdin.close()
        rc, data = finish(p, 30)
        t.eq(rc, 0, "then sent when stdin ends", data[-1000:])
        clean("send after a blocked stdin", data)

        # -C with the real file: opened as the caller.
        r = as_user("-C the real configuration", ["-C", conf_path, "-i",
                                                  RCPT], 77)
        t.ok("may not read" in r.err, "-C the real file: says the caller "
             "may not read it", r.err)

        # max_send_rate's rate file (design.md 7 and 11): made by make
        # install, opened before the drop, used only through that fd.
        rdir = Path(os.environ.get("SES_INSTALLED_STATE",
                                   "/var/lib/ses-sendmail")) if INSTALLED \
            else inst / "var" / "lib" / "ses-sendmail"
        rate = rdir / "rate"
        got = [(os.stat(x).st_uid, os.stat(x).st_gid,
                oct(stat.S_IMODE(os.stat(x).st_mode))) for x in (rdir, rate)]
        t.eq(got, [(0, gid, oct(0o750)), (0, gid, oct(0o660))],
             "installed rate folder root:%s 0750, rate file 0660" % GROUP)
        install_conf(max_send_rate=50, rate_file=rate)
        p = user.start(prog, ["-i", RCPT], stdin=None)
        blocked = wait_for(lambda: blocked_in(p.pid, "ses-sendmail"), 5)
        fds = []
        for fd in os.listdir("/proc/%d/fd" % p.pid) if blocked else ():
            try:
                fds.append(os.readlink("/proc/%d/fd/%s" % (p.pid, fd)))
            except OSError:
                pass
        gids = status_ids(p.pid, "Gid")
        t.ok(blocked and str(rate) in fds and
             gids == [str(pw.pw_gid)] * 4,
             "blocked on stdin: the rate file is open, every GID the "
             "caller's", "fds %r, Gid %r" % (fds, gids))
        p.stdin.write(MSG)
        p.stdin.close()
        rc, data = finish(p, 30)
        t.eq(rc, 0, "paced send as the user", data[-1000:])
        t.ok(rate.read_bytes().startswith(b"ses-sendmail-rate 1 "),
             "the rate file was written through the descriptor",
             repr(rate.read_bytes()[:100]))
        before = rate.read_bytes()
        for desc, cmd in (("open it for writing", ": > %s" % rate),
                          ("read it", "cat %s" % rate),
                          ("list its folder", "ls %s" % rdir)):
            r = user.run("/bin/sh", ["-c", cmd])
            t.ok(r.rc != 0 and "Permission denied" in r.err,
                 "the user cannot %s" % desc, repr(r))
        t.eq(rate.read_bytes(), before, "the rate file is unchanged")
        # A caller's -C: dropped first, so the system file is out of
        # reach: one warning, the message unpaced; its own file works.
        own = user.home("rate") / "own.conf"
        for rf, want in ((rate, "Permission denied"),
                         (own.parent / "bucket", None)):
            own.write_text(conf_text(max_send_rate=50, rate_file=rf,
                                     log="stderr"))
            os.chown(own, pw.pw_uid, pw.pw_gid)
            os.chmod(own, 0o600)
            FIXTURES.add(own)
            r = as_user("-C the caller's file, rate_file %s" % rf.name,
                        ["-C", own, "-i", RCPT], 0)
            if want:
                t.ok(r.err.count("sending without pacing") == 1 and
                     want in r.err, "-C: the system rate file is out of "
                     "reach: one warning, sent unpaced", r.err)
            else:
                t.ok("pacing" not in r.err and rf.read_bytes().startswith(
                    b"ses-sendmail-rate 1 ") and rf.stat().st_uid ==
                    pw.pw_uid, "-C: the caller's own rate file is made "
                    "and used as the caller", r.err)
        t.eq(rate.read_bytes(), before, "the system rate file is unchanged")
        install_conf()

        # Flags that print or log.
        r = as_user("-v", ["-v", "-i", RCPT], 0)
        t.ok("AUTH PLAIN ***" in r.err, "-v masks AUTH PLAIN", r.err[-2000:])
        xphp = Path("/tmp/ses-sec-%d-x.php" % os.getpid())
        r = as_user("-X /tmp/...x.php", ["-X", xphp, "-i", RCPT], 0)
        t.ok(not xphp.exists() and not any(r.cwd.iterdir()),
             "-X creates no file")
        xphp.unlink(missing_ok=True)
        as_user("-d0.1", ["-d0.1", "-i", RCPT], 0)
        as_user("-d", ["-d", "-i", RCPT], 0)
        as_user("-O LogLevel=99 -oL99", ["-O", "LogLevel=99", "-oL99",
                                         "-i", RCPT], 0)
        for args, want in ((["-Z"], 64), (["-bt"], 64), (["-bP"], 64),
                           (["-bD"], 64), (["--password"], 64),
                           (["--check"], None), (["--check", "--json"], None),
                           (["--check", "--send-test"], None),
                           (["--derive-password", "--region", "us-east-1"],
                            None),
                           (["--dump-config"], 64),
                           (["-bv", RCPT], 0), (["-bp"], 0), (["-bi"], 0),
                           (["-q"], 0), (["--help"], 0), (["--version"], 0),
                           (["-C"], 64), (["-f"], 64)):
            as_user(" ".join(args), args, want)
        r = as_user("-bs", ["-bs"], 0, stdin=b"EHLO x\r\nAUTH PLAIN\r\n"
                    b"QUIT\r\n")

        # Error paths.
        as_user("a local recipient refused", ["-i", "root"], 67)
        sim.scenario(conns=[[{"stage": "auth", "action": "reply",
                              "reply": "535 Authentication Credentials "
                              "Invalid"}]])
        as_user("535 from SES, with -v", ["-v", "-i", RCPT], 77)
        sim.scenario(conns=[[{"stage": "auth", "action": "garbage"}]])
        as_user("garbage at AUTH, with -v", ["-v", "-i", RCPT], 76)
        sim.scenario(conns=[[{"stage": "dot", "action": "reply",
                              "reply": "554 Transaction failed: x"}]])
        as_user("554 after the dot", ["-i", RCPT], 65)
        sim.scenario()

        # AUTH LOGIN: the user name and password lines are masked.
        with Sim(T, login_only=True) as sim2:
            install_conf(port=sim2.wrapper_port, tls="wrapper")
            r = as_user("-v with AUTH LOGIN", ["-v", "-i", RCPT], 0)
            t.ok("> AUTH LOGIN" in r.err and r.err.count("> ***") == 2,
                 "-v masks both AUTH LOGIN lines", r.err[-2000:])
        install_conf()

        # A caller's own file: its bad line sits next to a secret.
        own = user.home("own") / "own.conf"
        own.write_text(conf_text() + "this line is wrong\n" + PASSWORD +
                       "\n")
        os.chown(own, pw.pw_uid, pw.pw_gid)
        os.chmod(own, 0o600)
        FIXTURES.add(own)
        r = as_user("-C the caller's file with a bad line", ["-C", own,
                                                            "-i", RCPT], 78)
        t.ok(":%d:" % (conf_text().count("\n") + 1) in r.err,
             "-C bad line: the line number is named", r.err)

        # The administrator's mistakes in the real configuration: each is
        # shown to every caller, so none may show the secret.
        plain = conf_text(password=None)
        mistakes = [
            ("the password alone on a line", PASSWORD),
            ("a misspelt key", "pasword " + PASSWORD),
            ("key:value", "password:" + PASSWORD),
            ("key=value", "password=" + PASSWORD),
            ("the key in capitals", "Password " + PASSWORD),
            ("the secret as the key", PASSWORD + " password"),
            ("the password twice", "password %s\npassword %s" % (
                PASSWORD, PASSWORD)),
            ("a control character", "password %s\x01" % PASSWORD),
            ("a NUL byte", "password %s\0" % PASSWORD),
            ("a carriage return inside", "password %s\rx" % PASSWORD),
            ("the IAM secret with a space", "aws_secret_access_key %s x" %
             SECRET),
            ("both secrets", "password %s\naws_secret_access_key %s" % (
                PASSWORD, SECRET)),
            ("the IAM secret alone", SECRET),
            ("an over-long line", "password %s%s" % (PASSWORD,
                                                     "x" * 5000)),
            ("an over-large file", "password %s\n%s" % (
                PASSWORD, ("# " + "x" * 70 + "\n") * 2000)),
        ]
        for key in ("region", "host", "port", "tls", "from", "helo",
                    "timeout", "log", "verified_domains", "admin_address",
                    "configuration_set", "max_message_size",
                    "retry_delays", "retry_deadline", "ca_file",
                    "username"):
            for name, value in (("password", PASSWORD),
                                ("IAM secret", SECRET)):
                lines = [ln for ln in plain.splitlines()
                         if not ln.startswith(key + " ")]
                mistakes.append(("the %s as %s" % (name, key), "\n".join(
                    lines + ["password " + PASSWORD,
                             "%s %s" % (key, value)])))
        for desc, extra in mistakes:
            if desc.startswith("the password as ") or \
                    desc.startswith("the IAM secret as "):
                text = extra + "\n"
            else:
                text = plain + extra + "\n"
            install_text(text)
            r = user.run(prog, ["-i", RCPT], stdin=MSG)
            # A user name is not checked beyond its form: SES says 535.
            if desc.endswith("username"):
                ok_rc = r.rc == 77
            else:
                ok_rc = r.rc == 78 and str(conf_path) in r.err
            found = leaks(r.stdout + r.stderr)
            t.ok(ok_rc and not found, "configuration with %s: refused "
                 "(%r), no secret in what the user sees" % (desc, r.rc),
                 "%s\nfound pieces of: %s" % (r.err, found))
        install_text(good_text, 0o644)
        r = as_user("a world-readable configuration", ["-i", RCPT], 78)
        t.ok("chmod 0640" in r.err, "world-readable: says what to fix",
             r.err)
        install_text(good_text)

        # The trust file is read after the drop: one the caller cannot read
        # fails the TLS set-up, with a line that says so.
        hidden_ca = T / "hidden-ca.pem"
        shutil.copy(ca, hidden_ca)
        os.chmod(hidden_ca, 0o600)
        install_conf(ca_file=hidden_ca)
        r = as_user("ca_file unreadable by the caller", ["-i", RCPT], None)
        t.ok(r.rc not in (0, None) and "ca_file" in r.err,
             "ca_file unreadable by the caller: refused, naming ca_file "
             "(rc %r)" % r.rc, r.err)
        t.diag("FINDING: ca_file is loaded after the privilege drop, so it "
               "must be readable by every caller (rc %r: %s)" % (
                   r.rc, r.err.strip()[-300:]))
        install_conf()

        # 3 and 4: the process while it waits on the network.
        # With api_fallback (the default) the IAM secret is kept, once,
        # to sign an API call should SMTP be unreachable; without, it is
        # wiped as soon as the SMTP password is derived.
        for variant, keys in (("password", {}),
                              ("aws_secret_access_key",
                               {"password": None, "api_fallback": False,
                                "aws_secret_access_key": SECRET}),
                              ("aws_secret_access_key, api_fallback",
                               {"password": None,
                                "aws_secret_access_key": SECRET})):
            install_conf(**keys)
            r = as_user("%s config: send" % variant, ["-i", RCPT], 0)
            r = as_user("%s config: -v" % variant, ["-v", "-i", RCPT], 0)
            t.ok("AUTH PLAIN ***" in r.err, "%s config: -v masks AUTH" %
                 variant, r.err[-1500:])
            waiting_process(t, user, sim, prog, pw, variant, clean)
        install_conf()

        signals_and_cores(t, user, sim, prog, clean)
        if INSTALLED:
            t.skip("plain binary", "an installed program: no build")
        else:
            plain_binary(t, user, sim, T / "build" / "sendmail" /
                         "ses-sendmail", ca, clean)
        tracing(t, user, sim, prog, clean)
        dumpable_after_drop(t, user, sim, prog, clean)
        loader_and_env(t, user, sim, prog, conf_path, clean)
        if INSTALLED:
            t.skip("links and race on the configuration's folder",
                   "%s is the system's" % etc)
        else:
            links_and_race(t, user, sim, prog, etc, conf_path, gid, pw,
                           clean, install_conf)
        chain_setid(t, user, prog, conf_path, gid, ca, clean, T, pw)

        # Syslog: captured, and clean.
        log = syslog.text()
        if namespace:
            t.ok(b"ses-sendmail" in log and b"status=sent" in log,
                 "syslog was captured (%d lines)" % len(syslog.lines),
                 log[-500:])
            clean("syslog", log)
        else:
            t.skip("syslog was captured", "no private mount namespace")
        syslog.stop()

        # Files the user owns or can read, made during the test.
        files = [f for f in user_files(T, pw.pw_uid, started)
                 if f not in FIXTURES]
        bad = []
        for f in files:
            try:
                data = f.read_bytes()[:64 << 20]
            except OSError:
                continue
            if leaks(data):
                bad.append(str(f))
        t.ok(not bad, "no file the user owns holds a secret (%d files "
             "looked at)" % len(files), "\n".join(bad))
        cores = [str(f) for f in files if f.name.startswith("core")]
        t.ok(not cores, "no core file anywhere", "\n".join(cores))
        errors = sim.errors()
        t.eq(errors, "", "the simulator logged no error")

    # 3. Refusals of a configuration holding a secret (as root, -C).
    refusals(t, T)
    t.done()


def chain_setid(t, user, prog, conf_path, gid, ca, clean, T, pw):
    """The credential chain in a set-group-ID run (design.md 12): a
    configuration without keys sends with the instance role's, whatever
    the caller's environment and files point at; no key, secret or token
    in what the caller sees."""
    role = {"id": ROLE_ID, "secret": ROLE_SECRET, "token": ROLE_TOKEN,
            "expiration": "2026-12-05T06:00:00Z"}
    evil = {"id": "ASIAEVILKEY000000001", "secret": "evilSecret/xyz+abc01",
            "token": "evil-token", "expiration": "2026-12-05T06:00:00Z"}
    with ApiSim(T, region="eu-west-3", verified="example.com") as api, \
            CredSim(T, "imds", keys=[role], role="r", region="eu-west-3") \
            as imds, CredSim(T, "container", keys=[evil], path="/c",
                             authorization=None) as cont:
        shutil.copy(api.pki.ca, T / "api-ca.pem")
        os.chmod(T / "api-ca.pem", 0o644)
        api.scenario(keys=[role, evil])
        write_conf(conf_path, api, aws_access_key_id=None,
                   aws_secret_access_key=None, region=None,
                   api_endpoint="https://127.0.0.1:%d" % api.port,
                   imds_endpoint=imds.url, ca_file=T / "api-ca.pem",
                   log="syslog", timeout=20)
        os.chown(conf_path, 0, gid)
        os.chmod(conf_path, 0o640)
        home = user.home("evil")
        (home / ".aws").mkdir()
        shared = home / ".aws" / "credentials"
        shared.write_text("[default]\naws_access_key_id = %s\n"
                          "aws_secret_access_key = %s\n" % (
                              evil["id"], evil["secret"]))
        tok = home / "token"
        tok.write_text("evil-web-token")
        for f in (home / ".aws", shared, tok):
            os.chown(f, pw.pw_uid, pw.pw_gid)
            FIXTURES.add(f)
        hostile = dict(
            HOME=str(home), AWS_ACCESS_KEY_ID=evil["id"],
            AWS_SECRET_ACCESS_KEY=evil["secret"],
            AWS_SESSION_TOKEN=evil["token"],
            AWS_SHARED_CREDENTIALS_FILE=str(shared), AWS_PROFILE="default",
            AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url + "/c",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="x",
            AWS_WEB_IDENTITY_TOKEN_FILE=str(tok),
            AWS_ROLE_ARN="arn:aws:iam::1:role/evil",
            AWS_ENDPOINT_URL_STS=cont.url,
            AWS_EC2_METADATA_SERVICE_ENDPOINT=cont.url)
        for desc, args in (("send", ["-i", RCPT]),
                           ("-v", ["-v", "-i", RCPT]),
                           ("--check", ["--check"])):
            imds.set(keys=[role], role="r", region="eu-west-3")
            r = user.run(prog, args, stdin=MSG, env=hostile, cwd=home)
            t.eq(r.rc, 0, "set-id chain, hostile AWS_* environment, %s: "
                 "exit 0" % desc, r.err[-1500:] + r.out[-1500:])
            clean("set-id chain, %s" % desc, r.stdout + r.stderr)
            t.ok([q["path"] for q in imds.requests()][:1] ==
                 ["/latest/api/token"], "set-id chain, %s: the keys came "
                 "from the configuration's metadata service" % desc)
        msgs = api.messages()
        t.ok(len(msgs) == 2 and all(m["key_id"] == ROLE_ID and m["token"]
                                    for m in msgs),
             "set-id chain: both messages signed with the instance role's "
             "keys, none with the caller's", str([m["key_id"] for m in
                                                 msgs]))
        t.eq(cont.requests(), [], "set-id chain: the caller's container "
             "endpoint (and STS, IMDS override) never asked")
        r = user.run(prog, ["--check"], env=hostile, cwd=home)
        t.ok("env: nothing: not trusted in a set-id run" in r.out and
             "shared: nothing: not trusted in a set-id run" in r.out,
             "set-id chain: --check says env and shared are not trusted",
             r.out)


def waiting_process(t, user, sim, prog, pw, variant, clean):
    """A process hanging at AUTH's reply: /proc as the user, its memory as
    root, its limits and IDs."""
    sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                          "seconds": 40}]], name="hang-auth")
    p = user.start(prog, ["-i", RCPT], stdin=MSG)
    try:
        if not t.ok(wait_for(lambda: sim.events("fault"), 10),
                    "%s: the process waits for AUTH's reply" % variant):
            return
        pid = p.pid
        r = user.run(PY, ["-c", PROC_READER, pid] + list(PROC_FILES))
        try:
            got = json.loads(r.out)
        except ValueError:
            got = {}
            t.diag(r.err)
        readable = sorted(k for k, v in got.items() if v["ok"])
        t.diag("%s: /proc/PID readable by the user: %s" % (
            variant, " ".join(readable)))
        for name in ("environ", "mem", "maps", "auxv", "stack", "fd",
                     "cwd", "exe", "pagemap", "map_files", "smaps"):
            t.ok(name in got and not got[name]["ok"],
                 "%s: /proc/PID/%s is closed to the user" % (variant, name),
                 repr(got.get(name))[:300])
        clean("%s: /proc/PID files" % variant,
              "\n".join(v.get("data", "") for v in got.values()).encode(
                  "latin-1"))
        t.eq(status_ids(pid, "Gid"), [str(pw.pw_gid)] * 4,
             "%s: while connected, every GID is the caller's" % variant)
        limits = Path("/proc/%d/limits" % pid).read_text()
        core = [ln for ln in limits.splitlines()
                if ln.startswith("Max core file size")]
        t.ok(core and core[0].split()[4:6] == ["0", "0"],
             "%s: core size limit 0 (started unlimited)" % variant,
             repr(core))
        environ = Path("/proc/%d/environ" % pid).read_bytes()
        t.ok(b"SES_CANARY=canary-1234" in environ and not leaks(environ),
             "%s: its environment (read as root) holds no secret" % variant)
        counts = scan_memory(pid, {
            "password": PASSWORD.encode(), "aws secret": SECRET.encode(),
            "AUTH PLAIN blob": PLAIN.encode(),
            "password line": ("password " + PASSWORD).encode(),
            "secret line": ("aws_secret_access_key " + SECRET).encode()})
        t.diag("%s: copies in memory after AUTH was sent: %r" % (variant,
                                                                 counts))
        t.eq(counts["AUTH PLAIN blob"], 0,
             "%s: the AUTH PLAIN payload is wiped once sent" % variant)
        if "api_fallback" in variant:
            t.ok(counts["aws secret"] <= 1, "%s: at most one copy of the "
                 "IAM secret (kept to sign a fallback)" % variant,
                 repr(counts))
        else:
            t.eq(counts["aws secret"], 0,
                 "%s: no IAM secret in memory (wiped once derived)" %
                 variant)
        t.eq(counts["password line"] + counts["secret line"], 0,
             "%s: the configuration text is wiped once parsed" % variant)
        t.ok(counts["password"] <= 1,
             "%s: at most one copy of the password (kept for a retry's "
             "AUTH)" % variant, repr(counts))
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        rc, data = finish(p)
        clean("%s: the waiting process's output" % variant, data)
        sim.scenario()


def signals_and_cores(t, user, sim, prog, clean):
    """Core dumps: none, whatever signal the caller sends while the
    secret is in memory."""
    # The control: this kernel does write cores for a plain process.
    d = user.home("core-control")
    p = user.start("/bin/sleep", ["30"], cwd=d)
    wait_for(lambda: blocked_in(p.pid, "sleep"), 5)
    user.run(PY, ["-c", KILL, p.pid, int(signal.SIGSEGV)])
    rc, _ = finish(p)
    control = [f for f in d.iterdir() if f.name.startswith("core")]
    t.diag("control: sleep killed by SIGSEGV (rc %r) left %s" % (
        rc, [f.name for f in control] or "no core"))
    for f in control:
        f.unlink()
    for sig in (signal.SIGSEGV, signal.SIGQUIT, signal.SIGABRT):
        name = signal.Signals(sig).name
        sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                              "seconds": 40}]])
        d = user.home("core-%s" % name)
        p = user.start(prog, ["-i", RCPT], stdin=MSG, cwd=d)
        waited = wait_for(lambda: sim.events("fault"), 10)
        k = user.run(PY, ["-c", KILL, p.pid, int(sig)])
        try:
            p.wait(5)
            alive = ""
        except subprocess.TimeoutExpired:
            alive = " | ".join(ln for ln in proc_status(p.pid).splitlines()
                               if ln.startswith(("State", "Sig", "Shd")))
        rc, data = finish(p)
        files = sorted(f.name for f in d.iterdir())
        t.ok(waited and k.rc == 0 and rc == -sig,
             "%s sent by the caller while AUTH waits: the process dies "
             "(rc %r)" % (name, rc), "%r\n%s" % (k, alive))
        t.eq(files, [], "%s: no core file, no file at all in its cwd%s" % (
            name, "" if control else " (this kernel wrote no core for "
            "the control either)"))
        clean("%s: output" % name, data)
    sim.scenario()


def plain_binary(t, user, sim, plain, ca, clean):
    """Not set-group-ID (a build run in place, or an install by a user):
    the kernel does not make it non-dumpable, PR_SET_DUMPABLE must.  The
    caller's own process, with the caller's own configuration, is still
    closed to the caller's debugger and /proc reads."""
    d = user.home("plain")
    own = d / "own.conf"
    write_conf(own, sim, ca_file=ca, log="stderr", timeout=20)
    os.chown(own, user.pw.pw_uid, user.pw.pw_gid)
    FIXTURES.add(own)
    sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                          "seconds": 40}]])
    p = user.start(plain, ["-C", own, "-i", RCPT], stdin=MSG, cwd=d)
    try:
        if not t.ok(wait_for(lambda: sim.events("fault"), 10),
                    "plain binary: waits for AUTH's reply"):
            return
        t.eq(status_ids(p.pid, "Uid")[:2] + status_ids(p.pid, "Gid")[:2],
             [str(user.pw.pw_uid)] * 2 + [str(user.pw.pw_gid)] * 2,
             "plain binary: runs as the caller, without privilege")
        r = user.run(PY, ["-c", PROC_READER, p.pid, "mem", "environ"])
        got = json.loads(r.out) if r.out.startswith("{") else {}
        t.ok(got and not got["mem"]["ok"] and not got["environ"]["ok"],
             "plain binary: PR_SET_DUMPABLE 0 closes /proc/PID/mem and "
             "environ even to its own user", repr(got)[:300])
        r = user.run(PY, ["-c", PTRACER, p.pid])
        got = json.loads(r.out) if r.out.startswith("{") else {}
        t.ok(got and got["PTRACE_ATTACH"][0] == -1,
             "plain binary: its own user cannot ptrace it", repr(got))
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        clean("plain binary: output", finish(p)[1])
    sim.scenario()


def tracing(t, user, sim, prog, clean):
    sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                          "seconds": 40}]])
    p = user.start(prog, ["-i", RCPT], stdin=MSG)
    try:
        t.ok(wait_for(lambda: sim.events("fault"), 10),
             "ptrace: the process waits for AUTH's reply")
        r = user.run(PY, ["-c", PTRACER, p.pid])
        try:
            got = json.loads(r.out)
        except ValueError:
            got = {}
        for name in ("PTRACE_ATTACH", "PTRACE_SEIZE", "process_vm_readv"):
            t.ok(name in got and got[name][0] == -1,
                 "the caller's %s is refused (%s)" % (
                     name, got.get(name, ["", r.err[-200:]])[1]))
        clean("ptrace attempts", r.stdout + r.stderr)
        if shutil.which("gdb"):
            r = user.run("/usr/bin/gdb", ["-nx", "-batch", "-p", p.pid,
                                          "-ex", "info registers",
                                          "-ex", "x/s $rsp"])
            t.ok(re.search(r"not permitted|Could not attach", r.out + r.err,
                           re.I) is not None,
                 "gdb -p by the caller cannot attach",
                 (r.out + r.err)[-800:])
            clean("gdb -p", r.stdout + r.stderr)
        else:
            t.skip("gdb -p by the caller cannot attach", "no gdb")
        if shutil.which("strace"):
            r = user.run("/usr/bin/strace", ["-p", p.pid], timeout=5)
            t.ok("not permitted" in r.err,
                 "strace -p by the caller cannot attach", r.err[-500:])
            clean("strace -p", r.stdout + r.stderr)
        t.eq(status_ids(p.pid, "TracerPid"), ["0"], "nobody traces it")
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        clean("the traced process's output", finish(p)[1])
    sim.scenario()
    if shutil.which("strace"):
        # Traced from exec by the caller: the kernel drops set-group-ID,
        # so the configuration cannot even be opened.
        d = user.home("strace")
        r = user.run("/usr/bin/strace", ["-f", "-s", "4096", "-o",
                                         d / "trace", prog, "-i", RCPT],
                     stdin=MSG, cwd=d)
        trace = (d / "trace").read_bytes() if (d / "trace").exists() \
            else b""
        t.ok(r.rc == 78 and "Permission denied" in r.err,
             "under the caller's strace it runs without %s and cannot "
             "open the configuration (rc %r)" % (GROUP, r.rc), r.err)
        clean("the caller's strace of the exec", trace + r.stdout +
              r.stderr)
    else:
        t.skip("strace of the exec", "no strace")


# --- fs.suid_dumpable: dumpable again after the drop? ------------------------

SUID_DUMPABLE = Path("/proc/sys/fs/suid_dumpable")
# Every mode, and how a run of it is caught holding the configuration:
# waiting for AUTH's reply (the simulator hangs), blocked reading stdin,
# or blocked writing to a stdout pipe that is already full.
DUMP_MODES = (("a send", ["-i", RCPT], "auth"),
              ("-bs", ["-bs"], "stdin"),
              ("--check", ["--check"], "auth"),
              ("-bv", ["-bv", RCPT], "stdout"),
              ("-bp", ["-bp"], "stdout"),
              ("called as mailq", [], "stdout"),
              ("--derive-password", ["--derive-password", "--region",
                                     "us-east-1"], "stdin"),
              ("--version", ["--version"], "stdout"))


def full_pipe():
    """A pipe whose buffer is full: a write to it blocks."""
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    for size in (65536, 1):
        try:
            while True:
                os.write(wfd, b"x" * size)
        except BlockingIOError:
            pass
    os.set_blocking(wfd, True)
    return rfd, wfd


def start_caught(user, sim, prog, args, how):
    """Start prog as the user so that it stays blocked where `how` says;
    (Popen, fds to close).  stdin stays an open pipe."""
    fds = []
    if how == "auth":
        sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                              "seconds": 40}]], name="dumpable")
    cwd = user.home("dumpable")
    if not args:                            # called as mailq
        os.symlink(prog, cwd / "mailq")
        prog = cwd / "mailq"
    out = subprocess.DEVNULL
    if how == "stdout":
        fds = list(full_pipe())
        out = fds[1]
    p = subprocess.Popen(user.argv(prog, args, None, cwd),
                         stdin=subprocess.PIPE, stdout=out,
                         stderr=subprocess.DEVNULL,
                         env=user.root_env(cwd), start_new_session=True)
    if fds:
        os.close(fds.pop())                 # the read end stays open
    if how == "auth":                       # the message, then EOF
        p.stdin.write(MSG)
        p.stdin.close()
    caught = wait_for(lambda: (how != "auth" or sim.events("fault")) and
                      blocked_in(p.pid, Path(prog).name), 10)
    return p, fds, caught


def dumpable_checks(t, user, p, desc, clean):
    """From outside, as the user: the process is not dumpable."""
    try:
        owner = os.stat("/proc/%d/status" % p.pid)
        owner = (owner.st_uid, owner.st_gid)
    except OSError as e:
        owner = str(e)
    t.eq(owner, (0, 0), "%s: /proc/PID/status is root's (the process "
         "is not dumpable)" % desc)
    r = user.run(PY, ["-c", PROC_READER, p.pid, "mem", "environ"])
    got = json.loads(r.out) if r.out.startswith("{") else {}
    denied = ("Permission denied", "Operation not permitted")
    t.ok(got and all(not got[k]["ok"] and got[k]["err"] in denied
                     for k in ("mem", "environ")),
         "%s: the caller cannot read /proc/PID/mem or environ" % desc,
         repr(got)[:300] + r.err[-300:])
    clean("%s: /proc files" % desc, r.stdout + r.stderr)
    r = user.run(PY, ["-c", PTRACER, p.pid])
    got = json.loads(r.out) if r.out.startswith("{") else {}
    t.ok(got and got["PTRACE_ATTACH"][0] == -1 and
         got["process_vm_readv"][0] == -1,
         "%s: the caller cannot ptrace it or read its memory" % desc,
         repr(got) + r.err[-300:])


def dumpable_after_drop(t, user, sim, prog, clean):
    """A change of credentials makes a process dumpable again, as
    fs.suid_dumpable says (1: by its owner, 2: by root): after the
    privilege drop of every mode, the caller must still be kept out.  The
    setting is the machine's: restored whatever happens, even when the
    watchdog bails out."""
    try:
        old = SUID_DUMPABLE.read_text().strip()
        SUID_DUMPABLE.write_text(old + "\n")
    except OSError as e:
        t.skip("fs.suid_dumpable 1 and 2", "cannot set it: %s" % e)
        return
    bail = t.watchdog.function

    def restore(*_):
        SUID_DUMPABLE.write_text(old + "\n")

    def restore_and_bail(*args):
        restore()
        bail(*args)
    t.watchdog.function = restore_and_bail
    term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        for value in ("1", "2"):
            SUID_DUMPABLE.write_text(value + "\n")
            for name, args, how in DUMP_MODES:
                desc = "suid_dumpable %s, %s" % (value, name)
                p, fds, caught = start_caught(user, sim, prog, args, how)
                try:
                    if t.ok(caught, "%s: caught blocked (%s)" % (desc, how)):
                        dumpable_checks(t, user, p, desc, clean)
                finally:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                    p.stdin.close()
                    for fd in fds:
                        os.close(fd)
    finally:
        restore()
        t.watchdog.function = bail
        signal.signal(signal.SIGTERM, term)
        sim.scenario()
    t.eq(SUID_DUMPABLE.read_text().strip(), old,
         "fs.suid_dumpable is back to %s" % old)


def loader_and_env(t, user, sim, prog, conf_path, clean):
    """The dynamic loader's and GnuTLS's environment variables, and TZ:
    all ignored by a set-group-ID process."""
    evil = user.home("evil")
    marker = evil / "marker"
    so = evil / "libevil.so"
    r = subprocess.run(["gcc", "-shared", "-fPIC", "-o", so,
                        "-DMARKER=\"%s\"" % marker, "-x", "c", "-"],
                       input=EVIL_C.encode(), capture_output=True,
                       timeout=STEP)
    if not t.ok(r.returncode == 0, "compiled a preload library", r.stderr):
        return
    for soname in ("libgnutls.so.30", "libbsd.so.0"):
        shutil.copy(so, evil / soname)
    for f in evil.iterdir():
        os.chmod(f, 0o755)
    os.chown(evil, user.pw.pw_uid, user.pw.pw_gid)
    env = {"LD_PRELOAD": str(so), "LD_LIBRARY_PATH": str(evil),
           "LD_AUDIT": str(so), "LD_DEBUG": "all",
           "LD_DEBUG_OUTPUT": str(evil / "lddebug"),
           "SSLKEYLOGFILE": str(evil / "keylog"),
           "GNUTLS_DEBUG_LEVEL": "99", "TZ": "ABC-05:30",
           "MALLOC_CHECK_": "3", "MALLOC_PERTURB_": "0",
           "LOCALDOMAIN": "example.org", "HOSTALIASES": str(evil / "h"),
           "TMPDIR": str(evil)}
    # The control: a program that is not set-group-ID loads it.
    user.run("/bin/true", [], env={"LD_PRELOAD": str(so)})
    t.ok(marker.exists(), "control: the preload library runs in a plain "
         "program")
    marker.unlink(missing_ok=True)
    sim.scenario()
    r = user.run(prog, ["-v", "-i", RCPT], stdin=MSG, env=env)
    t.eq(r.rc, 0, "LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, SSLKEYLOGFILE, "
         "GNUTLS_DEBUG_LEVEL set: sent with the real libraries", r.err[-1500:])
    made = sorted(f.name for f in evil.iterdir()
                  if f.name not in ("libevil.so", "libgnutls.so.30",
                                    "libbsd.so.0"))
    t.eq(made, [], "no marker, key log or loader debug file was written")
    t.ok("|<" not in r.err and "binding file" not in r.err,
         "no GnuTLS or loader debug output", r.err[-1000:])
    clean("the hostile environment", r.stdout + r.stderr)
    msgs = sim.messages()
    date = msgs[-1]["eml"].split(b"\r\nDate: ", 1)[-1].split(b"\r\n")[0] \
        if msgs else b""
    t.ok(msgs and b"+0530" not in date,
         "TZ from the caller is ignored (environment cleared): Date: %s" %
         date.decode(errors="replace"))
    # The control: the same TZ moves the Date: of a plain run.
    ctl = write_conf(user.tmp / "tz-control.conf", sim)
    r = run(["-i", RCPT], stdin=MSG, conf=ctl, env={"TZ": "ABC-05:30"})
    msgs = sim.messages()
    t.ok(r.rc == 0 and msgs and b"\r\nDate: " in msgs[-1]["eml"] and
         b"+0530" in msgs[-1]["eml"].split(b"\r\nDate: ", 1)[1].split(
             b"\r\n")[0], "control: TZ does move a plain run's Date:",
         repr(r))
    # Its memory map, read as root, holds none of the user's libraries.
    sim.scenario(conns=[[{"stage": "auth", "action": "hang",
                          "seconds": 40}]])
    p = user.start(prog, ["-i", RCPT], stdin=MSG, env=env)
    try:
        waited = wait_for(lambda: sim.events("fault"), 10)
        maps = Path("/proc/%d/maps" % p.pid).read_text() if waited else ""
        t.ok(waited and "libgnutls" in maps and str(evil) not in maps,
             "its memory map holds only the system's libraries",
             "\n".join(ln for ln in maps.splitlines() if ".so" in ln))
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        clean("the preloaded process's output", finish(p)[1])
    sim.scenario()


def links_and_race(t, user, sim, prog, etc, conf_path, gid, pw, clean,
                   install_conf):
    """Symbolic and hard links to the configuration, and a race on its
    path in a directory the caller may write (a misconfiguration)."""
    own = user.home("links")
    link = own / "link.conf"
    os.symlink(conf_path, link)
    os.lchown(link, pw.pw_uid, pw.pw_gid)
    r = user.run(prog, ["-C", link, "-i", RCPT], stdin=MSG)
    t.eq(r.rc, 78, "-C a symlink to the real configuration: exit 78",
         r.err)
    t.ok("symbolic link" in r.err, "-C symlink: says it is a symbolic "
         "link", r.err)
    clean("-C symlink", r.stdout + r.stderr)
    r = user.run(PY, ["-c", "import os, sys; os.link(sys.argv[1], "
                      "sys.argv[2])", conf_path, own / "hard.conf"])
    if (own / "hard.conf").exists():
        t.diag("the caller could hard-link the configuration "
               "(protected_hardlinks off)")
        r = user.run(prog, ["-C", own / "hard.conf", "-i", RCPT],
                     stdin=MSG)
        t.eq(r.rc, 77, "-C a hard link to it: opened as the caller, 77",
             r.err)
        clean("-C hard link", r.stdout + r.stderr)
        (own / "hard.conf").unlink()
    else:
        t.ok("Operation not permitted" in r.err,
             "the caller cannot hard-link the configuration", r.err)

    # The built-in path itself a symlink (planted by whoever could).
    real = etc / "real.conf"
    os.rename(conf_path, real)
    os.symlink(real, conf_path)
    r = user.run(prog, ["-i", RCPT], stdin=MSG)
    t.eq(r.rc, 78, "the configuration path is a symlink: exit 78", r.err)
    t.ok("symbolic link" in r.err, "symlink at the built-in path: named",
         r.err)
    clean("symlink at the built-in path", r.stdout + r.stderr)
    conf_path.unlink()

    # A race: the caller may write the directory (a misconfiguration) and
    # swaps the path between a symlink to a file only the group may read
    # and a file of their own, while the program runs again and again.
    (etc / "group-only").write_text("canaryleakkey value\n")
    os.chown(etc / "group-only", 0, gid)
    os.chmod(etc / "group-only", 0o640)
    os.chmod(etc, 0o1777)
    flipper = user.start(PY, ["-c", r'''
import os, sys, time
path, target = sys.argv[1], sys.argv[2]
tmp_link, tmp_file = path + ".l", path + ".f"
end = time.monotonic() + float(sys.argv[3])
n = 0
while time.monotonic() < end:
    try:
        os.unlink(tmp_link)
    except OSError:
        pass
    os.symlink(target, tmp_link)
    os.rename(tmp_link, path)
    with open(tmp_file, "w") as f:
        f.write("mine value\n")
    os.rename(tmp_file, path)
    n += 1
print(n)
''', conf_path, etc / "group-only", 4])
    outcomes = {}
    bad = []
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        r = user.run(prog, ["-i", RCPT], stdin=MSG)
        kind = ("symlink" if "symbolic link" in r.err else
                "own file" if "'mine'" in r.err else
                "missing" if "No such file" in r.err else "other")
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if r.rc != 78 or "canaryleakkey" in r.err or leaks(r.stdout +
                                                            r.stderr):
            bad.append(repr(r))
    rc, data = finish(flipper, 10)
    t.ok(not bad and sum(outcomes.values()) > 5,
         "symlink race on the built-in path: %d runs, never followed "
         "(%s; %s swaps)" % (sum(outcomes.values()), ", ".join(
             "%s %d" % kv for kv in sorted(outcomes.items())),
             data.decode(errors="replace").strip()), "\n".join(bad[:5]))
    os.chmod(etc, 0o755)
    for name in ("ses-sendmail.conf", "ses-sendmail.conf.l",
                 "ses-sendmail.conf.f", "group-only"):
        try:
            os.unlink(etc / name)
        except OSError:
            pass
    os.rename(real, conf_path)
    install_conf()
    r = user.run(prog, ["-i", RCPT], stdin=MSG)
    t.eq(r.rc, 0, "after the race: the real configuration works again",
         r.err)


def user_files(tmp, uid, since):
    """Regular files owned by uid under the test's directory, /tmp,
    /var/tmp and /dev/shm, changed since `since`; not those of another
    run of this test going on at the same time."""
    out = {}
    mine = tmp.name.rsplit("-", 1)[0] + "-"        # Tap's "test_security-"
    for top in (tmp, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):
        for dirpath, dirs, files in os.walk(top):
            if Path(dirpath) == tmp:
                dirs[:] = [d for d in dirs if d not in ("build", "inst")]
            # Another run of this test keeps its own fixtures there.
            dirs[:] = [d for d in dirs if not d.startswith(mine)
                       or Path(dirpath, d) == tmp]
            for name in files:
                p = Path(dirpath) / name
                try:
                    st = p.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_uid == uid and \
                        st.st_mtime >= since - 1:
                    out[(st.st_dev, st.st_ino)] = p
    return list(out.values())


def refusals(t, tmp):
    """design.md 11: a configuration with a secret readable or writable by
    others, not a regular file, or a symlink: 78 and what to fix."""
    d = tmp / "refusals"
    d.mkdir()
    with Sim(tmp) as sim:
        good = write_conf(d / "good.conf", sim)
        r = run(["-i", RCPT], stdin=MSG, conf=good)
        t.eq(r.rc, 0, "root, 0600: accepted", r.err)
        aws = write_conf(d / "aws.conf", sim, password=None,
                         aws_secret_access_key=SECRET)
        for path, mode, want in ((good, 0o644, "readable"),
                                 (good, 0o604, "readable"),
                                 (good, 0o601, "readable"),
                                 (good, 0o660, "writable"),
                                 (good, 0o620, "writable"),
                                 (good, 0o666, "writable"),
                                 (aws, 0o644, "readable"),
                                 (aws, 0o660, "writable")):
            os.chmod(path, mode)
            r = run(["-i", RCPT], stdin=MSG, conf=path)
            t.eq(r.rc, 78, "%s with a secret, mode %o: exit 78" % (
                path.name, mode), r.err)
            t.ok(want in r.err and "chmod 0640" in r.err and
                 not leaks(r.stdout + r.stderr),
                 "mode %o: says %s and what to fix" % (mode, want), r.err)
            os.chmod(path, 0o600)
        os.chmod(good, 0o640)
        r = run(["-i", RCPT], stdin=MSG, conf=good)
        t.eq(r.rc, 0, "0640: accepted", r.err)
        os.chmod(good, 0o600)
        (d / "dir.conf").mkdir()
        os.mkfifo(d / "fifo.conf")
        os.symlink(good, d / "link.conf")
        for name, want in (("dir.conf", "not a regular file"),
                           ("fifo.conf", "not a regular file"),
                           ("/dev/null", "not a regular file"),
                           ("link.conf", "symbolic link")):
            path = d / name
            r = run(["-i", RCPT], stdin=MSG, conf=path, timeout=10)
            t.eq(r.rc, 78, "%s: exit 78" % name, r.err)
            t.ok(want in r.err, "%s: says %s" % (name, want), r.err)


if __name__ == "__main__":
    main()
