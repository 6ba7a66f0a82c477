#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the packages (README, "Packages"): builds both with
packaging/build, then installs the Debian package into this very system
as its MTA, sends through it, upgrades, removes and purges it.  Run by
tests/run-all as root only; it skips, saying why, when not root, not on
Debian, or when an MTA or ses-sendmail is already installed (it never
replaces the machine's own MTA).  Whatever happens, it purges what it
installed and leaves the machine as it found it (a finally clause, the
watchdog and SIGTERM/SIGINT all run the same clean-up).

  1. The .deb (built by packaging/build here, or before the test when
     SES_PKG_BUILT is set): lintian passed (packaging/build fails
     otherwise); the links, modes and conffile in its listing.  The
     RPM: rpm -qlvp shows the program -rwxr-sr-x root sesmail, the
     configuration -rw-r----- root sesmail and %config(noreplace); the
     scriptlets make the group and the mta alternative and remove it.
  2. apt-get install -s ./ses-sendmail_*.deb bsd-mailx plans no other
     MTA.  Then installed for real (noninteractive): the group, the
     dpkg-statoverride entries, root:sesmail 2755 and 0640, the links,
     --version, mailq and newaliases.
  3. /etc/ses-sendmail.conf pointed at the SES simulator: mail(1) of
     bsd-mailx, and Debian cron's command line through
     /usr/sbin/sendmail, each as the unprivileged user nobody, which
     cannot read the configuration: both delivered.
  4. tests/functional/test_security.py once against the installed
     program (SES_INSTALLED): its TAP is part of this test's.
  5. Upgrades: the same package again, then one with a higher version and
     a changed configuration (dpkg --force-confold, as unattended
     upgrades do): the edited configuration, its owner and mode are
     kept.
  6. Remove (the configuration and overrides stay), then purge: the
     overrides, the group (when the package made it), every file of the
     package and /var/lib/ses-sendmail are gone."""

import grp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRCDIR = Path(os.environ.get("SES_SRCDIR", HERE.parent.parent))
FUNCTIONAL = SRCDIR / "tests" / "functional"
sys.path.insert(0, str(FUNCTIONAL))
from sestest import Sim, Tap, write_conf  # noqa: E402

GROUP = "sesmail"
PROG = "/usr/sbin/ses-sendmail"
CONF = "/etc/ses-sendmail.conf"
STATE = "/var/lib/ses-sendmail"
LINKS = ("/usr/sbin/sendmail", "/usr/lib/sendmail", "/usr/bin/mailq",
         "/usr/bin/newaliases")
MTAS = re.compile(r"^(exim4|exim4-.*|postfix|sendmail|sendmail-bin|"
                  r"nullmailer|msmtp-mta|dma|opensmtpd|courier-mta|ssmtp|"
                  r"esmtp-run|citadel-mta|masqmail|lsb-invalid-mta)$")
FROM = "daemon@example.com"
ADMIN = "ops@example.com"
RCPT = "rcpt@example.net"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
CONFOLD = ["-o", "Dpkg::Options::=--force-confdef",
           "-o", "Dpkg::Options::=--force-confold"]


def skip_all(reason):
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(0)


def sh(argv, timeout=120, env=None, stdin=b"", **kw):
    """(rc, stdout + stderr as text); rc None on a timeout."""
    try:
        r = subprocess.run([str(a) for a in argv], input=stdin,
                           capture_output=True, timeout=timeout,
                           env=env or APT_ENV, **kw)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, "timed out after %d s: %s" % (timeout, e)


def installed():
    """The installed packages' names."""
    rc, out = sh(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} "
                  "${Package}\n"])
    return {ln.split()[1] for ln in out.splitlines()
            if ln.startswith("ii ") and len(ln.split()) == 2}


def mode_of(path):
    st = os.lstat(path)
    return "%s:%s %04o" % ("root" if st.st_uid == 0 else st.st_uid,
                           grp.getgrgid(st.st_gid).gr_name,
                           st.st_mode & 0o7777)


def group_exists():
    try:
        grp.getgrnam(GROUP)
        return True
    except KeyError:
        return False


# --- preconditions -----------------------------------------------------------

if os.geteuid() != 0:
    skip_all("needs root: installs the package into this system")
for tool in ("dpkg", "apt-get", "dpkg-statoverride", "setpriv"):
    if shutil.which(tool) is None:
        skip_all("%s is missing: not a Debian system" % tool)
BEFORE = installed()
if "ses-sendmail" in BEFORE:
    skip_all("ses-sendmail is already installed: left alone")
others = sorted(p for p in BEFORE if MTAS.match(p))
if others or os.path.lexists("/usr/sbin/sendmail"):
    skip_all("this system has an MTA (%s): never replaced by a test" %
             (", ".join(others) or "/usr/sbin/sendmail"))
GROUP_BEFORE = group_exists()

# Every caller, nobody included, must reach the CA file: the test's
# directories go to a 0755 folder under /tmp, whatever the clone's.
SCRATCH = tempfile.mkdtemp(prefix="ses-package-", dir="/tmp")
os.chmod(SCRATCH, 0o755)
os.environ["SES_TEST_TMP"] = SCRATCH
t = Tap(deadline=600)
T = t.tmp
os.chmod(T, 0o755)
cleaned = []


def cleanup():
    """Purge ses-sendmail and whatever came with it; idempotent."""
    if cleaned:
        return
    cleaned.append(1)
    new = sorted(installed() - BEFORE)
    if new:
        # Those that need an MTA first, then the MTA itself.
        rest = [p for p in new if p != "ses-sendmail"]
        if rest:
            sh(["dpkg", "--purge"] + rest, timeout=120)
        sh(["dpkg", "--purge", "ses-sendmail"], timeout=120)
    left = sorted(installed() - BEFORE)
    if left:
        print("# clean-up: still installed: %s" % " ".join(left),
              flush=True)


_bail = t._bail


def bail(why):
    cleanup()
    _bail(why)


t._bail = bail


def on_signal(signum, frame):
    bail("signal %d" % signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


# --- 1. the packages ---------------------------------------------------------

def build():
    """packaging/build, unless SES_PKG_BUILT says it has just run (as
    tests/run-all does, with make distcheck)."""
    pkg = SRCDIR / "build-pkg"
    if os.environ.get("SES_PKG_BUILT") and (pkg / "lintian.out").exists():
        t.ok(True, "packaging/build ran before this test")
    else:
        rc, out = sh(["sh", SRCDIR / "packaging" / "build"], timeout=480)
        if not t.eq(rc, 0, "packaging/build: both packages built, "
                    "lintian clean", out[-3000:]):
            return None, None
    debs = sorted((pkg / "deb").glob("ses-sendmail_*.deb"))
    rpms = sorted((pkg / "rpm" / "RPMS").glob("*/ses-sendmail-*.rpm"))
    lint = (pkg / "lintian.out").read_text(errors="replace")
    t.diag("lintian: %s" % (lint.strip() or "(nothing)"))
    t.ok(not re.search(r"^[EW]: ", lint, re.M),
         "lintian: no error, no warning", lint)
    return (debs[0] if debs else None), (rpms[0] if rpms else None)


def check_deb(deb):
    rc, out = sh(["dpkg-deb", "-c", deb])
    t.diag("dpkg -c:\n" + out)
    want = [r"^-rwxr-xr-x root/root .* \./usr/sbin/ses-sendmail$",
            r"^-rw-r----- root/root .* \./etc/ses-sendmail\.conf$",
            r"^drwxr-x--- root/root .* \./var/lib/ses-sendmail/$",
            r"^lrwxrwxrwx .* \./usr/sbin/sendmail -> ses-sendmail$",
            r"^lrwxrwxrwx .* \./usr/lib/sendmail -> \.\./sbin/ses-sendmail$",
            r"^lrwxrwxrwx .* \./usr/bin/mailq -> \.\./sbin/ses-sendmail$",
            r"^lrwxrwxrwx .* \./usr/bin/newaliases -> "
            r"\.\./sbin/ses-sendmail$"]
    for w in want:
        t.ok(re.search(w, out, re.M), "dpkg -c: %s" % w)
    t.ok("/var/lib/ses-sendmail/rate" not in out, "dpkg -c: no rate file "
         "(postinst makes it: an upgrade must not replace the bucket)")
    rc, out = sh(["dpkg-deb", "-f", deb, "Provides", "Conflicts",
                  "Replaces"])
    t.eq(out.split("\n")[:3], ["Provides: mail-transport-agent",
                               "Conflicts: mail-transport-agent",
                               "Replaces: mail-transport-agent"],
         "control: Provides, Conflicts, Replaces mail-transport-agent")
    rc, conffiles = sh(["dpkg-deb", "-I", deb, "conffiles"])
    t.eq(conffiles.split(), [CONF], "conffiles: %s alone" % CONF)


def check_rpm(rpm):
    if shutil.which("rpm") is None:
        t.skip("the RPM's contents", "rpm is not installed")
        return
    rc, out = sh(["rpm", "-qlvp", rpm])
    t.diag("rpm -qlvp:\n" + out)
    for w in (r"^-rwxr-sr-x .* root +sesmail .* /usr/sbin/ses-sendmail$",
              r"^-rw-r----- .* root +sesmail .* /etc/ses-sendmail\.conf$",
              r"^drwxr-x--- .* root +sesmail .* /var/lib/ses-sendmail$",
              r"^-rw-rw---- .* root +sesmail .* "
              r"/var/lib/ses-sendmail/rate$",
              r"^l.* /usr/sbin/sendmail\.ses-sendmail -> ses-sendmail$",
              r" /usr/share/man/man8/ses-sendmail\.8\.gz$"):
        t.ok(re.search(w, out, re.M), "rpm -qlvp: %s" % w)
    rc, out = sh(["rpm", "-qp", "--qf",
                  "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", rpm])
    t.ok(re.search(r"^cn /etc/ses-sendmail\.conf$", out, re.M),
         "rpm: the configuration is %config(noreplace)", out)
    rc, out = sh(["rpm", "-qp", "--scripts", rpm])
    t.ok("groupadd -r sesmail" in out, "rpm %pre: groupadd", out)
    t.ok(re.search(r"alternatives --install /usr/sbin/sendmail mta\s*\\?\s*"
                   r"/usr/sbin/sendmail\.ses-sendmail 30", out),
         "rpm %post: the mta alternative", out)
    for slave in ("mta-mailq", "mta-newaliases", "mta-sendmail ",
                  "mta-sendmailman"):
        t.ok(slave in out, "rpm %%post: slave %s" % slave.strip())
    t.ok("alternatives --remove mta /usr/sbin/sendmail.ses-sendmail" in
         out, "rpm %preun: the alternative removed", out)


# --- 2. install --------------------------------------------------------------

def apt(*args, timeout=300):
    return sh(["apt-get", "-q", "-y", "--no-install-recommends"] +
              list(args), timeout=timeout)


def install(deb):
    rc, out = sh(["apt-cache", "show", "bsd-mailx"])
    if rc != 0:
        sh(["apt-get", "update", "-qq"], timeout=300)
    rc, out = apt("install", "-s", deb, "bsd-mailx")
    planned = re.findall(r"^Inst (\S+)", out, re.M)
    t.ok(rc == 0 and "ses-sendmail" in planned and "bsd-mailx" in planned,
         "apt-get install -s ./deb bsd-mailx: plans both (%s)" %
         " ".join(planned), out[-2000:])
    t.eq([p for p in planned if MTAS.match(p)], [],
         "apt-get install -s: no other MTA planned")
    rc, out = apt("install", deb, "bsd-mailx")
    if not t.eq(rc, 0, "apt-get install ./deb bsd-mailx", out[-3000:]):
        return False
    t.ok(group_exists(), "the group %s exists" % GROUP)
    rc, out = sh(["dpkg-statoverride", "--list"])
    for line in ("root sesmail 2755 /usr/sbin/ses-sendmail",
                 "root sesmail 640 /etc/ses-sendmail.conf",
                 "root sesmail 750 /var/lib/ses-sendmail"):
        t.ok(line in out.splitlines(), "dpkg-statoverride: %s" % line, out)
    t.eq(mode_of(PROG), "root:sesmail 2755", "%s root:sesmail 2755" % PROG)
    t.eq(mode_of(CONF), "root:sesmail 0640", "%s root:sesmail 0640" % CONF)
    t.eq(mode_of(STATE), "root:sesmail 0750",
         "%s root:sesmail 0750" % STATE)
    t.eq(mode_of(STATE + "/rate"), "root:sesmail 0660",
         "%s/rate root:sesmail 0660" % STATE)
    for link in LINKS:
        t.eq(os.path.realpath(link), PROG, "%s leads to %s" % (link, PROG))
    rc, out = sh(["dpkg", "-S", "/usr/sbin/sendmail"])
    t.ok(rc == 0 and out.startswith("ses-sendmail:"),
         "dpkg -S /usr/sbin/sendmail: ses-sendmail", out)
    rc, out = sh(["/usr/sbin/sendmail", "--version"])
    t.ok(rc == 0 and "ses-sendmail" in out and CONF in out,
         "sendmail --version names the program and %s" % CONF, out)
    rc, out = sh(["mailq"])
    t.ok(rc == 0 and "Mail queue is empty" in out, "mailq: the queue is "
         "empty", out)
    rc, out = sh(["newaliases"])
    t.ok(rc == 0 and out == "", "newaliases: nothing to do", out)
    return True


# --- 3. mail and cron --------------------------------------------------------

def as_nobody(argv, stdin):
    env = {"PATH": "/usr/bin:/bin:/usr/sbin", "HOME": "/nonexistent",
           "LANG": "C", "USER": "nobody", "LOGNAME": "nobody"}
    return sh(["setpriv", "--reuid=nobody", "--regid=nogroup",
               "--clear-groups", "--"] + argv, stdin=stdin, env=env,
              timeout=60, cwd="/")


def configure(sim, ca):
    # max_send_rate: the senders pace through the package's rate file.
    write_conf(CONF, sim, ca_file=ca, admin_address=ADMIN, timeout=20,
               max_send_rate=50, **{"from": FROM, "log": "stderr"})
    os.chmod(CONF, 0o640)


def send(sim):
    rc, out = as_nobody(["cat", CONF], b"")
    t.ok(rc != 0 and "Permission denied" in out,
         "nobody cannot read %s" % CONF, out)
    sim.scenario(name="mail")
    rc, out = as_nobody(["mail", "-s", "package test", RCPT],
                        b"sent with bsd-mailx\n")
    t.eq(rc, 0, "mail -s ... %s as nobody: exit 0" % RCPT, out)
    # mail(1) does not wait for sendmail.
    deadline = time.monotonic() + 30
    while not sim.messages() and time.monotonic() < deadline:
        time.sleep(0.1)
    msgs = sim.messages()
    t.ok(len(msgs) == 1 and msgs[0]["rcpt"] == [RCPT] and
         msgs[0]["mail_from"] == FROM and
         b"\r\nSubject: package test\r\n" in msgs[0]["eml"] and
         b"sent with bsd-mailx" in msgs[0]["eml"],
         "mail(1): delivered to the simulator, from `from`",
         repr(msgs)[-1500:])

    # Debian's cron, as the job's user: MAILARGS "%s -FCronDaemon -i
    # -B8BITMIME -oem %s", the recipient a local user (MAILTO).
    sim.scenario(name="cron")
    msg = (b"From: nobody (Cron Daemon)\nTo: nobody\n"
           b"Subject: Cron <nobody@host> date\nMIME-Version: 1.0\n"
           b"Content-Type: text/plain; charset=UTF-8\n"
           b"Content-Transfer-Encoding: 8bit\n"
           b"X-Cron-Env: <SHELL=/bin/sh>\n\n"
           b"R\xc3\xa9sultat: fini\n")
    rc, out = as_nobody(["/usr/sbin/sendmail", "-FCronDaemon", "-i",
                         "-B8BITMIME", "-oem", "nobody"], msg)
    t.eq(rc, 0, "cron's command line as nobody: exit 0", out)
    msgs = sim.messages()
    t.ok(len(msgs) == 1 and msgs[0]["rcpt"] == [ADMIN] and
         msgs[0]["mail_params"] == ["BODY=8BITMIME"] and
         b"R\xc3\xa9sultat: fini" in msgs[0]["eml"],
         "cron: delivered to admin_address with BODY=8BITMIME",
         repr(msgs)[-1500:])
    with open(STATE + "/rate", "rb") as f:
        booked = f.read()
    t.ok(booked.startswith(b"ses-sendmail-rate "), "the senders, as "
         "nobody, booked their turns in %s/rate" % STATE, repr(booked))
    t.ok("rate_file" not in out and "warning" not in out, "cron: no "
         "warning about the rate file", out)


def security():
    """test_security.py against the installed program; its TAP lines
    become this test's (renumbered)."""
    env = dict(os.environ, SES_INSTALLED=PROG, SES_INSTALLED_CONF=CONF,
               SES_TEST_TMP=str(T / "security"),
               SES_SRCDIR=str(SRCDIR), PYTHONDONTWRITEBYTECODE="1")
    (T / "security").mkdir()
    os.chmod(T / "security", 0o755)
    rc, out = sh(["/usr/bin/python3", FUNCTIONAL / "test_security.py"],
                 env=env, timeout=300)
    n = 0
    for line in out.splitlines():
        m = re.match(r"^(not )?ok \d+ (- )?(.*)$", line)
        if m:
            n += 1
            desc = "security, installed: " + m.group(3)
            if "# SKIP" in m.group(3):
                t.skip(desc.split(" # SKIP")[0],
                       m.group(3).split("# SKIP", 1)[1].strip())
            else:
                t.ok(not m.group(1), desc)
        elif line.startswith(("#", "Bail out")):
            print("# " + line, flush=True)
    t.ok(rc == 0 and n > 50, "test_security.py against the installed "
         "program: exit %r, %d checks" % (rc, n), out[-2000:])


# --- 5 and 6. upgrade, remove, purge -----------------------------------------

def bumped(deb):
    """The same package with a higher version and a changed configuration
    (dpkg-deb -R, edit, dpkg-deb -b): an upgrade that ships a new
    conffile."""
    root = T / "bump"
    rc, out = sh(["dpkg-deb", "-R", deb, root])
    control = root / "DEBIAN" / "control"
    text = control.read_text()
    version = re.search(r"^Version: (\S+)$", text, re.M).group(1)
    control.write_text(text.replace("Version: " + version,
                                    "Version: " + version + ".1"))
    with open(root / "etc" / "ses-sendmail.conf", "a") as f:
        f.write("# a later release's first configuration\n")
    out_deb = T / ("ses-sendmail_%s.1_test.deb" % version)
    rc, out = sh(["dpkg-deb", "--root-owner-group", "-b", root, out_deb])
    t.eq(rc, 0, "a bumped package built (%s.1)" % version, out)
    return out_deb, version + ".1"


def upgrade(deb):
    edited = Path(CONF).read_bytes()
    rc, out = apt("install", "--reinstall", *CONFOLD, deb)
    t.eq(rc, 0, "the same package again", out[-2000:])
    t.eq(Path(CONF).read_bytes(), edited, "reinstall: the edited "
         "configuration kept")
    new, version = bumped(deb)
    rc, out = apt("install", *CONFOLD, new)
    t.eq(rc, 0, "upgrade to %s, --force-confold" % version, out[-2000:])
    rc, out = sh(["dpkg-query", "-W", "-f", "${Version}", "ses-sendmail"])
    t.eq(out, version, "version %s installed" % version)
    t.eq(Path(CONF).read_bytes(), edited,
         "upgrade: the edited configuration kept")
    t.ok(os.path.exists(CONF + ".dpkg-dist"),
         "upgrade: the new one beside it as .dpkg-dist")
    t.eq(mode_of(CONF), "root:sesmail 0640", "upgrade: %s still "
         "root:sesmail 0640" % CONF)
    t.eq(mode_of(PROG), "root:sesmail 2755", "upgrade: %s still "
         "root:sesmail 2755" % PROG)


def remove_and_purge():
    rc, out = sh(["dpkg-query", "-L", "ses-sendmail"])
    files = [f for f in out.splitlines() if f.startswith("/")]
    new = sorted(installed() - BEFORE - {"ses-sendmail"})
    if new:
        rc, out = sh(["dpkg", "--purge"] + new)
        t.eq(rc, 0, "purge what came with it (%s)" % " ".join(new), out)
    rc, out = sh(["dpkg", "--remove", "ses-sendmail"])
    t.eq(rc, 0, "dpkg --remove ses-sendmail", out)
    t.ok(not os.path.lexists(PROG) and not os.path.lexists(LINKS[0]),
         "removed: the program and /usr/sbin/sendmail are gone")
    t.ok(os.path.exists(CONF), "removed: the configuration stays")
    rc, out = sh(["dpkg", "--purge", "ses-sendmail"])
    t.eq(rc, 0, "dpkg --purge ses-sendmail", out)
    rc, out = sh(["dpkg-statoverride", "--list"])
    t.ok(not re.search(r"ses-sendmail", out), "purged: no override left",
         out)
    if GROUP_BEFORE:
        t.ok(group_exists(), "purged: the group %s, there before, is left"
             % GROUP)
    else:
        t.ok(not group_exists(), "purged: the group %s is gone" % GROUP)
    own = (STATE, "/usr/share/doc/ses-sendmail")
    left = [f for f in files + [CONF, CONF + ".dpkg-dist"]
            if os.path.lexists(f) and (not os.path.isdir(f) or
                                       f.startswith(own))]
    t.eq(left, [], "purged: no file of the package left (%d looked at)" %
         len(files))
    rc, out = sh(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}",
                  "ses-sendmail"])
    t.ok(not out.startswith("ii") and not out.startswith("rc"),
         "purged: dpkg forgets it (%r)" % out.strip())


def main():
    deb, rpm = build()
    if deb is None:
        return
    check_deb(deb)
    if rpm is not None:
        check_rpm(rpm)
    else:
        t.ok(False, "the RPM was built")
    if not install(deb):
        return
    ca = T / "ca.pem"
    with Sim(T) as sim:
        shutil.copy(sim.pki.ca, ca)
        os.chmod(ca, 0o644)
        configure(sim, ca)
        send(sim)
        security()
        configure(sim, ca)
        upgrade(deb)
        t.eq(sim.errors(), "", "the simulator logged no error")
    remove_and_purge()


try:
    main()
finally:
    cleanup()
    t.ok(sorted(installed() - BEFORE) == [] and
         not os.path.lexists("/usr/sbin/sendmail"),
         "the machine is left as found: nothing installed, no "
         "/usr/sbin/sendmail")
if not t.failed:
    shutil.rmtree(SCRATCH, ignore_errors=True)
t.done()
