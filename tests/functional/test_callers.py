#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of real callers, end to end (issue #4 point 4): each program
runs the built binary against the simulator, and the test checks what the
simulator stored: envelope, header, body.

  php-cli mail() with sendmail_path "<bin> -t -i", with and without the
      fifth argument -fbounce@example.com, with From: and Bcc: headers and
      a lone "." line in the body, and without any From: at all;
  PHPMailer's command line, "<bin> -oi -fsender@example.com -t", written
      as PHPMailer does (popen, header with To/Cc/Bcc, body, pclose);
  mutt in batch mode with an attachment;
  s-nail in send mode;
  git send-email --sendmail-cmd with a three-patch series;
  the command lines of Debian's cron (-FCronDaemon -i -B8BITMIME -oem
      root) and of cronie (-FCronDaemon -i -odi -oem -oi -t -f root).

A caller whose program is missing is skipped with the reason.  Every
caller gets HOME set to a fresh directory, so no user configuration
interferes, and every run has a timeout."""

import email
import email.policy
import email.utils
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import Sim, Tap, binary, run, write_conf  # noqa: E402

FROM = "daemon@example.com"             # `from` in the configuration
RCPT = "rcpt@example.net"
TIMEOUT = 60

t = Tap(deadline=240)
HOME = t.tmp / "home"
HOME.mkdir()
ENV = dict(os.environ, HOME=str(HOME), LC_ALL="C.UTF-8",
           GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dev One",
           GIT_AUTHOR_EMAIL="dev@example.com", GIT_COMMITTER_NAME="Dev One",
           GIT_COMMITTER_EMAIL="dev@example.com")
for var in ("MAILRC", "MUTT", "MUTT_HOME", "EMAIL", "REPLYTO", "NAME",
            "SENDMAIL", "GIT_DIR", "GIT_WORK_TREE"):
    ENV.pop(var, None)
BIN = binary()


def caller(argv, stdin=b"", cwd=None):
    """Run a caller program: (rc, stdout, stdout and stderr), as text; rc
    None on timeout.  (ses-sendmail logs to stderr with this conf.)"""
    # A session of its own: on timeout the whole group goes, the
    # ses-sendmail the caller started included.
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV, cwd=cwd,
                         start_new_session=True)
    try:
        out, err = p.communicate(stdin, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += b"\n[test: killed after %d s]" % TIMEOUT
        rc = None
    else:
        rc = p.returncode
    out = out.decode(errors="replace")
    return rc, out, out + err.decode(errors="replace")


def parse(m):
    """The stored message as an email.message.EmailMessage (LF line ends,
    so that contents compare with what the caller was given)."""
    return email.message_from_bytes(m["eml"].replace(b"\r\n", b"\n"),
                                    policy=email.policy.default)


def header_lines(m, name):
    """The raw lines of every `name:` field in the stored header."""
    head = m["eml"].split(b"\r\n\r\n", 1)[0]
    return [ln for ln in head.split(b"\r\n")
            if ln.lower().startswith(name.lower().encode() + b":")]


def missing(desc, *programs):
    """Skip (one TAP line) when a program is not installed."""
    for p in programs:
        if shutil.which(p) is None:
            t.skip(desc, "%s is not installed" % p)
            return True
    return False


def stored(desc, n, out=""):
    """The messages of the current scenario, checked to be n."""
    msgs = sim.messages()
    t.eq(len(msgs), n, "%s: %d message%s stored" % (desc, n,
                                                   "s" if n > 1 else ""),
         out)
    return msgs if len(msgs) == n else None


sim = Sim(t.tmp)
CONF = write_conf(t.tmp / "ses.conf", sim, **{"from": FROM})
CONF_NOFROM = write_conf(t.tmp / "nofrom.conf", sim, **{"from": None})
CONF_CRON = write_conf(t.tmp / "cron.conf", sim, **{"from": FROM},
                       admin_address="admin@example.com")
Q_BIN, Q_CONF = shlex.quote(BIN), shlex.quote(str(CONF))

# --- PHP mail() -------------------------------------------------------------
PHP_BODY = "line 1\n.\nline 3"          # a lone dot: kept thanks to -i


def php_mail(desc, conf, headers, fifth=None):
    """mail() through `php -n` (no php.ini) with sendmail_path set as on
    a default install, "sendmail -t -i", here the built binary.  PHP runs
    it with /bin/sh and appends the fifth argument."""
    sim.scenario(name="php")
    call = "var_export(mail(%s, 'php subject', %s, %s%s));" % (
        php_str(RCPT), php_str(PHP_BODY), php_str(headers),
        ", " + php_str(fifth) if fifth else "")
    rc, out, log = caller(["php", "-n", "-d", "sendmail_path=%s -C %s -t -i"
                           % (Q_BIN, shlex.quote(str(conf))), "-r", call])
    t.eq((rc, out), (0, "true"), "%s: mail() returns true" % desc, log)
    return stored(desc, 1, log)


def php_str(s):
    """A PHP double-quoted string literal for s."""
    return '"%s"' % "".join(
        c if c.isalnum() or c in " .,:;<>@-_/=" else "\\x%02x" % ord(c)
        for c in s)


def php_body_checks(desc, m):
    t.ok(m["eml"].endswith(b"\r\n\r\nline 1\r\n.\r\nline 3\r\n"),
         "%s: the lone-dot line survived (-i)" % desc, m["eml"])
    t.ok(m["raw"].endswith(b"\r\n\r\nline 1\r\n..\r\nline 3\r\n"),
         "%s: and was dot-stuffed on the wire" % desc, m["raw"])
    t.eq(header_lines(m, "Subject"), [b"Subject: php subject"],
         "%s: Subject: as given" % desc)


if not missing("php mail()", "php"):
    PHP_HEADERS = "From: Web <web@example.com>\r\nBcc: hidden@example.org"
    with t.case("php -f"):
        desc = "php mail() with -fbounce@example.com"
        msgs = php_mail(desc, CONF, PHP_HEADERS, "-fbounce@example.com")
        if msgs:
            m = msgs[0]
            t.eq(m["mail_from"], "bounce@example.com",
                 "%s: envelope sender from the 5th argument" % desc)
            t.eq(sorted(m["rcpt"]), ["hidden@example.org", RCPT],
                 "%s: recipients To + Bcc (-t)" % desc)
            t.eq(header_lines(m, "Bcc"), [], "%s: Bcc: removed" % desc)
            t.eq(header_lines(m, "From"), [b"From: Web <web@example.com>"],
                 "%s: From: kept as given" % desc)
            t.eq(header_lines(m, "To"), [b"To: " + RCPT.encode()],
                 "%s: To: as PHP wrote it" % desc)
            php_body_checks(desc, m)
    with t.case("php"):
        desc = "php mail() without a 5th argument"
        msgs = php_mail(desc, CONF, PHP_HEADERS)
        if msgs:
            m = msgs[0]
            t.eq(m["mail_from"], FROM,
                 "%s: envelope sender is `from`" % desc)
            t.eq(sorted(m["rcpt"]), ["hidden@example.org", RCPT],
                 "%s: recipients To + Bcc" % desc)
            t.eq(header_lines(m, "Bcc"), [], "%s: Bcc: removed" % desc)
            php_body_checks(desc, m)
    with t.case("php no from"):
        desc = "php mail(), no `from` configured"
        msgs = php_mail(desc, CONF_NOFROM, PHP_HEADERS)
        if msgs:
            t.eq(msgs[0]["mail_from"], "web@example.com",
                 "%s: envelope sender from From:" % desc)
    with t.case("php bare"):
        desc = "php mail() with no headers (a default install)"
        msgs = php_mail(desc, CONF, "")
        if msgs:
            m = msgs[0]
            t.eq((m["mail_from"], m["rcpt"]), (FROM, [RCPT]),
                 "%s: envelope" % desc)
            from_ = header_lines(m, "From")
            t.ok(len(from_) == 1 and from_[0].endswith(b"<%s>" %
                                                       FROM.encode())
                 or from_ == [b"From: " + FROM.encode()],
                 "%s: From: added, with `from`" % desc, from_)
            t.ok(len(header_lines(m, "Date")) == 1 and
                 len(header_lines(m, "Message-ID")) == 1,
                 "%s: Date: and Message-ID: added" % desc, m["eml"])

# --- PHPMailer's command line -----------------------------------------------
# PHPMailer::sendmailSend(): sprintf('%s -oi -f%s -t',
# escapeshellcmd($this->Sendmail), $this->Sender), popen(..., 'w'), the
# header (To, Cc, and Bcc: for the sendmail mailer) then the body, CRLF
# line ends (PHPMailer::$LE), pclose() as the result.
PHPMAILER = r"""
$cmd = sprintf('%s -oi -f%s -t', escapeshellcmd($argv[1]), $argv[2]);
$h = "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
   . "To: One <one@example.net>, two@example.net\r\n"
   . "From: Shop <shop@example.com>\r\n"
   . "Cc: cc@example.org\r\n"
   . "Bcc: secret@example.org\r\n"
   . "Message-ID: <pm1@example.com>\r\n"
   . "X-Mailer: PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)\r\n"
   . "MIME-Version: 1.0\r\n"
   . "Content-Type: text/plain; charset=iso-8859-1\r\n"
   . "Subject: Order\r\n\r\n";
$b = "Thanks.\r\n.\r\nbye\r\n";
$p = popen($cmd, 'w');
fwrite($p, $h);
fwrite($p, $b);
echo pclose($p);
"""
if not missing("PHPMailer command line", "php"):
    with t.case("phpmailer"):
        desc = "PHPMailer -oi -f -t"
        sim.scenario(name="phpmailer")
        rc, out, log = caller(["php", "-n", "-r", PHPMAILER, "--",
                               "%s -C %s" % (BIN, CONF),
                               "sender@example.com"])
        t.eq((rc, out), (0, "0"), "%s: pclose() gives 0" % desc, log)
        msgs = stored(desc, 1, log)
        if msgs:
            m = msgs[0]
            t.eq(m["mail_from"], "sender@example.com",
                 "%s: envelope sender from -f" % desc)
            t.eq(sorted(m["rcpt"]), ["cc@example.org", "one@example.net",
                                     "secret@example.org",
                                     "two@example.net"],
                 "%s: recipients from To, Cc and Bcc" % desc)
            t.eq(header_lines(m, "Bcc"), [], "%s: Bcc: removed" % desc)
            t.eq((header_lines(m, "Cc"), header_lines(m, "Message-ID")),
                 ([b"Cc: cc@example.org"], [b"Message-ID: <pm1@example.com>"]),
                 "%s: Cc: and Message-ID: kept" % desc)
            t.ok(m["eml"].endswith(b"\r\n\r\nThanks.\r\n.\r\nbye\r\n"),
                 "%s: body with its lone dot (-oi)" % desc, m["eml"])

# --- mutt -------------------------------------------------------------------
if not missing("mutt", "mutt"):
    with t.case("mutt"):
        desc = "mutt -a"
        sim.scenario(name="mutt")
        # mutt splits $sendmail on spaces (no quoting) and appends its
        # arguments ("-f addr" with use_envelope_from, "--", recipients):
        # the binary and -C go there directly; its default is
        # "/usr/sbin/sendmail -oem -oi", and the -oi matters (a lone dot).
        sendmail = "%s -C %s -oem -oi" % (BIN, CONF)
        attach = t.tmp / "report.txt"
        attach.write_text("attached content\nsecond line\n")
        rc, out, log = caller(
            ["mutt", "-n", "-F", "/dev/null",
             "-e", "set sendmail=\"%s\"" % sendmail,
             "-e", "set from=\"Mutt User <mutt@example.com>\"",
             "-e", "set use_envelope_from=yes", "-e", "set copy=no",
             "-s", "mutt subject", "-a", str(attach), "--", RCPT],
            stdin=b"mutt body\n.\nend\n")
        t.eq(rc, 0, "%s: exit 0" % desc, log)
        msgs = stored(desc, 1, log)
        if msgs:
            m = msgs[0]
            t.eq((m["mail_from"], m["rcpt"]), ("mutt@example.com", [RCPT]),
                 "%s: envelope (use_envelope_from: -f)" % desc)
            e = parse(m)
            t.eq((e["Subject"], e["From"]),
                 ("mutt subject", "Mutt User <mutt@example.com>"),
                 "%s: Subject: and From:" % desc)
            t.eq(e.get_content_type(), "multipart/mixed",
                 "%s: multipart/mixed" % desc)
            parts = list(e.iter_parts()) if e.is_multipart() else []
            t.ok(len(parts) == 2 and parts[0].get_content() ==
                 "mutt body\n.\nend\n", "%s: the body part, lone dot kept"
                 % desc, m["eml"])
            t.ok(len(parts) == 2 and parts[1].get_filename() ==
                 "report.txt" and parts[1].get_content() ==
                 "attached content\nsecond line\n",
                 "%s: the attachment as a MIME part" % desc, m["eml"])

# --- s-nail -----------------------------------------------------------------
if not missing("s-nail", "s-nail"):
    with t.case("s-nail"):
        desc = "s-nail -s"
        sim.scenario(name="s-nail")
        # -:/ loads no resource file (s-nail refuses -n with it); mta is a
        # file-based MTA, mta-arguments are parsed shell-style.
        rc, out, log = caller(
            ["s-nail", "-:/", "-S", "mta=" + BIN,
             "-S", "mta-arguments=-C " + Q_CONF,
             "-S", "from=Nail User <nail@example.com>",
             "-s", "nail subject", RCPT],
            stdin="s-nail body\nsecond line, caf\u00e9\n".encode())
        t.eq(rc, 0, "%s: exit 0" % desc, log)
        msgs = stored(desc, 1, log)
        if msgs:
            m = msgs[0]
            t.eq((m["mail_from"], m["rcpt"]), (FROM, [RCPT]),
                 "%s: envelope (no -r: `from`)" % desc)
            e = parse(m)
            t.eq((e["Subject"], e["From"], e["To"]),
                 ("nail subject", "Nail User <nail@example.com>", RCPT),
                 "%s: Subject:, From:, To:" % desc)
            t.eq(e.get_content(), "s-nail body\nsecond line, caf\u00e9\n",
                 "%s: the body, its non-ASCII text intact" % desc, m["eml"])
            # s-nail picks the encoding (quoted-printable here): BODY= only
            # when the body it wrote is 8-bit.
            eight = any(b >= 0x80 for b in m["eml"])
            t.eq(m["mail_params"], ["BODY=8BITMIME"] if eight else [],
                 "%s: BODY=8BITMIME exactly when 8-bit (%s)" % (
                     desc, e["Content-Transfer-Encoding"]))

# --- git send-email ---------------------------------------------------------


def git_send_email_works():
    """git send-email needs Perl's Mail::Address (libmailtools-perl, a
    Recommends of git-email on Debian): a reason when it cannot run."""
    if shutil.which("git") is None:
        return "git is not installed"
    rc, _, out = caller(["git", "send-email", "--dump-aliases"], cwd=HOME)
    if rc != 0:
        if "Mail::Address" in out or "LoadCPAN" in out:
            return "git send-email lacks Perl's Mail::Address " \
                "(install libmailtools-perl)"
        if "not a git command" in out:
            return "git send-email is not installed (git-email)"
        return "git send-email does not run: " + out.strip()[-200:]
    return None


reason = git_send_email_works()
if reason:
    t.skip("git send-email", reason)
else:
    with t.case("git send-email"):
        desc = "git send-email"
        sim.scenario(name="git")
        repo = t.tmp / "repo"
        repo.mkdir()
        for argv in (["git", "init", "-q", "."],
                     ["git", "config", "user.name", "Dev One"],
                     ["git", "config", "user.email", "dev@example.com"]):
            caller(argv, cwd=repo)
        for i in (1, 2, 3):
            with open(repo / "file.txt", "a") as f:
                f.write("line %d\n.\n" % i)
            caller(["git", "add", "file.txt"], cwd=repo)
            caller(["git", "commit", "-q", "-m", "change %d" % i], cwd=repo)
        rc, out, log = caller(["git", "format-patch", "-q", "-3", "-o",
                          "patches"], cwd=repo)
        patches = sorted(str(p) for p in (repo / "patches").glob("*.patch"))
        t.eq(len(patches), 3, "%s: three patches made" % desc, log)
        rc, out, log = caller(
            ["git", "send-email", "--sendmail-cmd=%s -C %s" % (Q_BIN, Q_CONF),
             "--to=list@example.net", "--from=Dev One <dev@example.com>",
             "--envelope-sender=dev@example.com", "--confirm=never",
             "--no-chain-reply-to", "--suppress-cc=all", "--quiet"] +
            patches, cwd=repo)
        t.eq(rc, 0, "%s: exit 0" % desc, log)
        msgs = stored(desc, 3, log)
        if msgs:
            es = [parse(m) for m in msgs]
            t.eq([e["Subject"] for e in es],
                 ["[PATCH %d/3] change %d" % (i, i) for i in (1, 2, 3)],
                 "%s: the series, in order" % desc)
            t.eq([(m["mail_from"], m["rcpt"]) for m in msgs],
                 [("dev@example.com", ["list@example.net"])] * 3,
                 "%s: envelopes (--envelope-sender: -f)" % desc)
            first = es[0]["Message-Id"]
            t.ok(first and re.fullmatch(r"<[^<>]+@example\.com>", first),
                 "%s: git's own Message-Id kept" % desc, first)
            t.eq([(e["In-Reply-To"], e["References"]) for e in es[1:]],
                 [(first, first)] * 2,
                 "%s: patches 2 and 3 reply to the first (threading)" %
                 desc)
            t.eq(es[0]["In-Reply-To"], None,
                 "%s: the first starts the thread" % desc)
            t.ok(all(b"\r\n+line %d\r\n+.\r\n" % i in m["eml"] and
                     b"\r\n+line %d\r\n+.\r\n" % i in m["raw"]
                     for i, m in zip((1, 2, 3), msgs)),
                 "%s: each diff intact, a '+.' line too" % desc,
                 [m["eml"][-300:] for m in msgs])
            t.eq([len(header_lines(m, "Message-ID")) for m in msgs],
                 [1, 1, 1], "%s: one Message-ID each (none added)" % desc)

# --- cron -------------------------------------------------------------------
# Debian's cron: MAILARGS "%s -FCronDaemon -i -B8BITMIME -oem %s" (the
# recipient is MAILTO, root here), header "From: root (Cron Daemon)".
# cronie: "%s -FCronDaemon -i -odi -oem -oi -t -f %s" (-f MAILFROM, root
# by default), header "From: "(Cron Daemon)" <root>".
CRON_BODY = "/etc/cron.daily/report:\nR\u00e9sultat: 3 fichiers\n".encode()
CRONIE_MSG = (b'From: "(Cron Daemon)" <root>\n'
              b"To: root\n"
              b"Subject: Cron <root@web1> /etc/cron.daily/report\n"
              b"MIME-Version: 1.0\n"
              b"Content-Type: text/plain; charset=UTF-8\n"
              b"Auto-Submitted: auto-generated\n"
              b"Precedence: bulk\n"
              b"X-Cron-Env: <SHELL=/bin/sh>\n\n")
DEBIAN_MSG = (b"From: root (Cron Daemon)\n"
              b"To: root\n"
              b"Subject: Cron <root@web1> test -x /usr/sbin/anacron\n"
              b"MIME-Version: 1.0\n"
              b"Content-Type: text/plain; charset=UTF-8\n"
              b"Content-Transfer-Encoding: 8bit\n"
              b"X-Cron-Env: <SHELL=/bin/sh>\n"
              b"X-Cron-Env: <HOME=/root>\n\n")


def cron(desc, args, msg, body, params, from_line):
    """One cron mail: to admin_address, from `from`, the From: rewritten
    to from_line (cron's display name kept), the body intact."""
    with t.case(desc):
        sim.scenario(name="cron")
        r = run(args, stdin=msg + body, conf=CONF_CRON, timeout=TIMEOUT)
        t.eq(r.rc, 0, "%s: exit 0" % desc, r.err)
        msgs = stored(desc, 1, r.err)
        if not msgs:
            return
        m = msgs[0]
        t.eq((m["mail_from"], m["rcpt"], m["mail_params"]),
             (FROM, ["admin@example.com"], params),
             "%s: envelope: from, admin_address, %s" % (
                 desc, " ".join(params) or "no BODY="))
        t.eq(header_lines(m, "From"), [from_line],
             "%s: From: is `from`, cron's display name kept" % desc)
        t.eq(header_lines(m, "Reply-To"), [],
             "%s: no Reply-To: for a local From:" % desc)
        t.eq(header_lines(m, "To"), [b"To: root"],
             "%s: To: left as cron wrote it" % desc)
        t.ok(m["eml"].endswith(b"\r\n\r\n" + body.replace(b"\n",
                                                          b"\r\n")),
             "%s: the body intact" % desc, m["eml"])


DEBIAN = ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"]
CRONIE = ["-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root"]
cron("Debian cron", DEBIAN, DEBIAN_MSG, CRON_BODY, ["BODY=8BITMIME"],
     b"From: Cron Daemon <" + FROM.encode() + b">")
cron("cronie", CRONIE, CRONIE_MSG, CRON_BODY, ["BODY=8BITMIME"],
     b'From: "(Cron Daemon)" <' + FROM.encode() + b">")
cron("cronie, 7-bit output", CRONIE, CRONIE_MSG, b"all fine\n", [],
     b'From: "(Cron Daemon)" <' + FROM.encode() + b">")

t.eq(sim.errors(), "", "simulator: no errors")
sim.stop()
t.done()
