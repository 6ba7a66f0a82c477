# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""Checks on the tree itself: no banned function in sendmail/ (habit 5 of
the project's style: bounded copies only), no TODO on main; both man pages
lint clean with mandoc; ses-sendmail.conf(5) describes every key conf.c
accepts, and the EXIT STATUS of ses-sendmail(8) lists every exit code; the
README names its two commands, and every file it sends the reader to
exists; the documentation refers to nothing outside the tree; every file
git tracks is in the release tarball (make distdir) or deliberately left
out, and the packages' versions are configure.ac's."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sestest import Tap

SRC = Path(os.environ.get("SES_SRCDIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("SES_BUILDDIR", SRC))
# Tracked files the tarball leaves out on purpose: git's own, and the
# placeholder that keeps the empty m4/ in git (autoreconf makes it).
NOT_DISTRIBUTED = {".gitignore", "m4/.keep"}
BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "gets", "strtok",
          "atoi", "atol", "tmpnam", "mktemp", "alloca", "system", "popen")
KEYS = ("region", "host", "port", "tls", "username", "password",
        "aws_secret_access_key", "ca_file", "from", "verified_domains",
        "admin_address", "helo", "configuration_set", "timeout",
        "retry_delays", "retry_deadline", "retry_after_data",
        "max_message_size", "max_recipients", "max_messages_per_connection",
        "max_connection_age", "log")
EXITS = (0, 64, 65, 67, 68, 69, 70, 71, 74, 75, 76, 77, 78)
SYSEXITS = {"EX_OK": 0, "EX_USAGE": 64, "EX_DATAERR": 65, "EX_NOINPUT": 66,
            "EX_NOUSER": 67, "EX_NOHOST": 68, "EX_UNAVAILABLE": 69,
            "EX_SOFTWARE": 70, "EX_OSERR": 71, "EX_OSFILE": 72,
            "EX_CANTCREAT": 73, "EX_IOERR": 74, "EX_TEMPFAIL": 75,
            "EX_PROTOCOL": 76, "EX_NOPERM": 77, "EX_CONFIG": 78}


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def lint(t, page):
    """mandoc -Tlint on one page, at -Wwarning: the STYLE notes about SEE
    ALSO pages not installed here (sendmail(8), msmtp(1)) are not faults
    of the page."""
    name = page.relative_to(SRC)
    if not shutil.which("mandoc"):
        t.skip("mandoc -Tlint %s" % name, "mandoc is not installed")
        return
    r = subprocess.run(["mandoc", "-Tlint", "-Wwarning", str(page)],
                       capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 0 and not r.stdout.strip(),
         "mandoc -Tlint is clean for %s" % name, r.stdout + r.stderr)


def main():
    t = Tap(name="static")
    sources = sorted((SRC / "sendmail").glob("*.[ch]"))
    t.ok(len(sources) >= 10, "sendmail/ has its sources (%d)" % len(sources))
    pattern = re.compile(r"\b(%s)\s*\(" % "|".join(BANNED))
    for path in sources:
        code = strip_c_comments(path.read_text(errors="replace"))
        hits = sorted(set(pattern.findall(code)))
        t.ok(not hits, "%s calls no banned function" % path.name,
             "found: %s" % ", ".join(hits))
    todo = [p.name for p in sources if "TODO" in p.read_text(errors="replace")
            or "FIXME" in p.read_text(errors="replace")]
    t.ok(not todo, "no TODO or FIXME in sendmail/", " ".join(todo))

    man8 = SRC / "man8" / "ses-sendmail.8"
    man5 = SRC / "man5" / "ses-sendmail.conf.5"
    for page in (man8, man5):
        lint(t, page)
    text8 = man8.read_text()
    text5 = man5.read_text()

    # Every key: the fixed list, and whatever conf.c's table accepts, each
    # with an entry of its own in ses-sendmail.conf(5).
    table = re.findall(r'\{\s*"([a-z_]+)",\s*KEY_',
                       (SRC / "sendmail" / "conf.c").read_text())
    t.ok(len(table) >= len(KEYS), "conf.c's key table read (%d keys)"
         % len(table))
    for key in sorted(set(KEYS) | set(table)):
        t.ok(re.search(r"^\.It Ic %s\b" % re.escape(key), text5, re.M)
             is not None, "ses-sendmail.conf(5) describes the key %s" % key)

    # Every exit code: the fixed list, and every EX_ the sources use, each
    # with an entry of its own in the EXIT STATUS of ses-sendmail(8).
    status = text8.split(".Sh EXIT STATUS", 1)[-1].split(".Sh ", 1)[0]
    names = set()
    for path in sources:
        names |= set(re.findall(r"\b(EX_[A-Z]+)\b", path.read_text()))
    unknown = sorted(names - set(SYSEXITS))
    t.ok(not unknown, "every EX_ code in sendmail/ is known here",
         " ".join(unknown))
    used = {SYSEXITS[n] for n in names if n in SYSEXITS}
    for code in sorted(set(EXITS) | used):
        t.ok(re.search(r"^\.It %d\b" % code, status, re.M) is not None,
             "EXIT STATUS of ses-sendmail(8) lists %d" % code)
    for sect in ("CAVEATS", "SECURITY CONSIDERATIONS", "FILES"):
        t.ok(".Sh " + sect in text8, "ses-sendmail(8) has %s" % sect)

    readme = (SRC / "README").read_text()
    for cmd in ("sh demo.sh", "sh tests/run-all"):
        t.ok(cmd in readme, "the README names %r" % cmd)
    # Where the README sends the reader: every such file exists, and the
    # front door names the pages and the longer reading.
    named = set(re.findall(r"\b((?:doc/[\w.-]+\.md)|tests/README|"
                           r"bench/NOTES\.md|man[58]/[\w.-]+\.[58])\b",
                           readme))
    for want in ("doc/troubleshooting.md", "doc/callers.md",
                 "doc/design.md", "tests/README", "bench/NOTES.md"):
        t.ok(want in named, "the README names %s" % want)
    for path in sorted(named):
        t.ok((SRC / path).is_file(), "%s, named in the README, exists" % path)

    # The repository stands alone: its documentation cites nothing outside.
    docs = [SRC / "README", man8, man5, SRC / "tests" / "README",
            SRC / "bench" / "NOTES.md", SRC / "ses-sendmail.conf.example"]
    docs += sorted((SRC / "doc").glob("*.md"))
    outside = re.compile(r"\.\./shared|\b(?:SPEC|SES|STYLE)\.md\b|"
                         r"\bSPEC \d|\bSES\.md \d")
    for path in docs:
        hits = sorted(set(outside.findall(path.read_text())))
        t.ok(not hits, "%s refers to nothing outside the tree" %
             path.relative_to(SRC), " ".join(hits))
    tarball(t)
    versions(t)
    t.done()


def tarball(t):
    """Every file git tracks is in make dist's tarball (EXTRA_DIST, the
    sources, the tests...), unless NOT_DISTRIBUTED says otherwise: a file
    forgotten in Makefile.am fails here, not in a user's build."""
    if not (SRC / ".git").exists() or shutil.which("git") is None:
        t.skip("every tracked file is in the tarball",
               "not a git checkout (a release tarball)")
        return
    r = subprocess.run(["git", "-C", str(SRC), "ls-files", "-z"],
                       capture_output=True, timeout=30)
    tracked = {f for f in r.stdout.decode().split("\0") if f}
    with tempfile.TemporaryDirectory(dir=t.tmp) as d:
        dist = Path(d) / "dist"
        r = subprocess.run(["make", "-s", "distdir", "distdir=%s" % dist],
                           cwd=BUILD, capture_output=True, timeout=120,
                           env=dict(os.environ, MAKEFLAGS=""))
        if not t.eq(r.returncode, 0, "make distdir", r.stderr[-2000:]):
            return
        shipped = {str(p.relative_to(dist)) for p in dist.rglob("*")
                   if p.is_file()}
    missing = sorted(tracked - shipped - NOT_DISTRIBUTED)
    t.ok(r.returncode == 0 and len(tracked) > 100 and not missing,
         "every tracked file is in the tarball (%d tracked, %d shipped)" %
         (len(tracked), len(shipped)), "missing from EXTRA_DIST or a "
         "_SOURCES list: " + " ".join(missing))
    stale = sorted(NOT_DISTRIBUTED - tracked)
    t.ok(not stale, "NOT_DISTRIBUTED names only tracked files",
         " ".join(stale))


def versions(t):
    """debian/changelog's top entry and the spec's Version: are
    configure.ac's AC_INIT version."""
    m = re.search(r"AC_INIT\(\[ses-sendmail\], \[([^]]+)\]",
                  (SRC / "configure.ac").read_text())
    version = m.group(1) if m else None
    deb = re.match(r"ses-sendmail \(([^)]+)\)",
                   (SRC / "debian" / "changelog").read_text())
    spec = re.search(r"^Version:\s+(\S+)$",
                     (SRC / "packaging" / "ses-sendmail.spec").read_text(),
                     re.M)
    t.ok(version and deb and spec and deb.group(1) == version ==
         spec.group(1), "debian/changelog and the spec carry version %s" %
         version, "changelog %s, spec %s" % (deb and deb.group(1),
                                            spec and spec.group(1)))


if __name__ == "__main__":
    main()
