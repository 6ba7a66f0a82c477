# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""Checks on the tree itself: no banned function in sendmail/ (bounded
copies only), no TODO on main, the man page lints clean with mandoc and names
every configuration key and exit code, the README names its commands."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from sestest import Tap

SRC = Path(os.environ.get("SES_SRCDIR", Path(__file__).resolve().parents[2]))
BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "gets", "strtok",
          "atoi", "atol", "tmpnam", "mktemp", "alloca", "system", "popen")
KEYS = ("region", "host", "port", "tls", "username", "password",
        "aws_secret_access_key", "ca_file", "from", "verified_domains",
        "admin_address", "helo", "configuration_set", "timeout",
        "retry_delays", "retry_deadline", "retry_after_data",
        "max_message_size", "max_recipients", "max_messages_per_connection",
        "max_connection_age", "log")
EXITS = (0, 64, 65, 67, 68, 69, 70, 71, 74, 75, 76, 77, 78)


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


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

    man = SRC / "man8" / "ses-sendmail.8"
    text = man.read_text()
    if shutil.which("mandoc"):
        # -Wwarning: the STYLE notes about SEE ALSO pages not installed
        # here (sendmail(8), msmtp(1)) are not faults of the page.
        r = subprocess.run(["mandoc", "-Tlint", "-Wwarning", str(man)],
                           capture_output=True, text=True, timeout=30)
        t.ok(r.returncode == 0 and not r.stdout.strip(),
             "mandoc -Tlint is clean", r.stdout + r.stderr)
    else:
        t.skip("mandoc -Tlint", "mandoc is not installed")
    for key in KEYS:
        t.ok(re.search(r"\b%s\b" % re.escape(key), text) is not None,
             "the man page describes the key %s" % key)
    status = text.split(".Sh EXIT STATUS", 1)[-1].split(".Sh ", 1)[0]
    for code in EXITS:
        t.ok(re.search(r"\b%d\b" % code, status) is not None,
             "EXIT STATUS lists %d" % code)
    for sect in ("CAVEATS", "SECURITY CONSIDERATIONS", "FILES"):
        t.ok(".Sh " + sect in text, "the man page has %s" % sect)

    readme = (SRC / "README").read_text()
    for cmd in ("sh demo.sh", "sh tests/run-all"):
        t.ok(cmd in readme, "the README names %r" % cmd)
    t.done()


if __name__ == "__main__":
    main()
