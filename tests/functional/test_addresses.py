# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""Addresses, of both kinds.

Mail addresses first: nothing a caller gives (argv recipients, -f, -t
headers, From:, -bs MAIL FROM and RCPT TO) may reach a MAIL or RCPT line
with a blank, '<', '>' or a control character, which would end the path
early and pass the rest for ESMTP parameters (a@[1.2.3.4> NOTIFY=SUCCESS
ORCPT=x]).  Address literals are [IPv4] or [IPv6:...] only (RFC 5321
4.1.3); a quoted local part holds no blank, '<' or '>'.

Then every address of the endpoint, resolved again on every attempt:
a refused or silent address moves on to the next one within the same
attempt, and a changed address is seen by the next attempt.  The
endpoint name gets several addresses from a private /etc/hosts,
bind-mounted in a mount namespace of the binary's own (root only;
skipped elsewhere).  Last, this host's own names, short and qualified,
are local recipients."""

import re
import socket
import threading
import time

from sestest import Sim, Tap, can_fake_hosts, run, write_conf

MSG = b"Subject: addresses\n\nbody\n"


def run_with_hosts(hosts, conf, args, timeout=30, hostname=None):
    """ses-sendmail with `hosts` as its /etc/hosts."""
    r = run(args, stdin=MSG, conf=conf, timeout=timeout, hosts=hosts,
            hostname=hostname)
    return r


class Silent:
    """A listener that takes connections and never says a word."""

    def __init__(self, addr, port):
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr else
                                  socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(8)
        self.held = []
        self.accepted = 0
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def attempts(err):
    found = re.search(r"attempts=(\d+)", err)
    return int(found.group(1)) if found else None


def own_names(t):
    """user@ this host's short name and its FQDN are local recipients,
    whether the host name is short (the FQDN from /etc/hosts, as Debian
    writes it) or already qualified."""
    hosts = t.tmp / "own.hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n"
                     "127.0.1.1\tsestest.example.org\tsestest\n")
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "own.conf", sim)
        for hostname in ("sestest", "sestest.example.org"):
            for rcpt in ("www-data@sestest.example.org", "www-data@sestest",
                         "www-data@SESTEST.Example.ORG"):
                r = run_with_hosts(hosts, conf, ["-i", rcpt],
                                   hostname=hostname)
                t.ok(r.rc == 67 and "local recipient %s refused" % rcpt
                     in r.err and sim.connections() == 0,
                     "host name %s: %s is local (67 without admin_address)"
                     % (hostname, rcpt), r.err)
            r = run_with_hosts(hosts, conf, ["-i", "www-data@example.org"],
                               hostname=hostname)
            t.ok(r.rc == 0 and len(sim.messages()) == 1,
                 "host name %s: the parent domain is not local" % hostname,
                 r.err)
            sim.scenario()


INJECTED = ("a@[1.2.3.4> NOTIFY=SUCCESS ORCPT=rfc822;x@example.org]",
            '"a> NOTIFY=SUCCESS"@example.com',
            "a@[1.2.3.4 NOTIFY=SUCCESS]",
            "a@[x-tag:NOTIFY=SUCCESS]",
            '"a NOTIFY=SUCCESS"@example.com')


def refused(t, sim, r, want, what):
    """r exited `want` with one ses-sendmail line, and SES saw nothing."""
    lines = r.err.strip().splitlines()
    t.ok(r.rc == want and lines and lines[-1].startswith("ses-sendmail: ")
         and sim.connections() == 0, "%s: exit %d, nothing sent" %
         (what, want), r)
    t.ok(not any("NOTIFY" in ln for ln in sim.transcript()),
         "%s: no NOTIFY= on the wire" % what, sim.transcript())


def injection(t, sim):
    conf = write_conf(t.tmp / "inj.conf", sim)
    msg = b"Subject: injection\n\nbody\n"
    for addr in INJECTED:
        sim.scenario(name="argv")
        refused(t, sim, run([addr], stdin=msg, conf=conf), 65,
                "argv recipient %s" % addr)
        sim.scenario(name="-t")
        head = b"To: ok@example.net\nCc: Joe <%s>\n" % addr.encode()
        refused(t, sim, run(["-t"], stdin=head + msg, conf=conf), 65,
                "-t Cc: %s" % addr)
        sim.scenario(name="-t bcc")
        head = b"To: ok@example.net\nBcc: %s\n" % addr.encode()
        refused(t, sim, run(["-t"], stdin=head + msg, conf=conf), 65,
                "-t Bcc: %s" % addr)
        sim.scenario(name="-f")
        refused(t, sim, run(["-f", addr, "ok@example.net"], stdin=msg,
                            conf=conf), 64, "-f %s" % addr)

    # Without -f and `from`, the From: address is the envelope sender: a
    # bad one goes as any other From: with no usable address does.
    nofrom = write_conf(t.tmp / "nofrom.conf", sim, **{"from": None})
    sim.scenario(name="from-bad")
    base = run(["ok@example.net"], stdin=b"From: a@@example.com\n" + msg,
               conf=nofrom)
    for addr in INJECTED:
        sim.scenario(name="from")
        refused(t, sim, run(["ok@example.net"], stdin=b"From: %s\n" %
                            addr.encode() + msg, conf=nofrom), base.rc,
                "From: %s" % addr)

    # The literals RFC 5321 4.1.3 defines still go.
    sim.scenario(name="literals")
    r = run(["a@[192.0.2.1]", "b@[IPv6:2001:db8::1]"], stdin=msg, conf=conf)
    msgs = sim.messages()
    t.ok(r.rc == 0 and len(msgs) == 1 and msgs[0]["rcpt"] ==
         ["a@[192.0.2.1]", "b@[IPv6:2001:db8::1]"],
         "[IPv4] and [IPv6:...] literals are sent", r)

    # -bs: the server parses MAIL FROM and RCPT TO the same way.
    sim.scenario(name="-bs")
    session = ("EHLO client.example\r\n"
               'MAIL FROM:<"a NOTIFY=SUCCESS"@example.com>\r\n'
               "MAIL FROM:<a@[1.2.3.4 NOTIFY=SUCCESS]>\r\n"
               "MAIL FROM:<sender@example.com>\r\n"
               "RCPT TO:<b@[1.2.3.4 NOTIFY=SUCCESS]>\r\n"
               'RCPT TO:<"b NOTIFY=SUCCESS"@example.com>\r\n'
               "RCPT TO:<ok@example.net>\r\n"
               "DATA\r\nSubject: bs\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    r = run(["-bs"], stdin=session.encode(), conf=conf)
    codes = [int(ln[:3]) for ln in r.out.splitlines()
             if len(ln) > 3 and ln[3] == " "]
    t.eq(codes, [220, 250, 501, 501, 250, 501, 501, 250, 354, 250, 221],
         "-bs: MAIL and RCPT with a blank in the path get 501", r.out)
    msgs = sim.messages()
    t.eq([(m["mail_from"], m["rcpt"]) for m in msgs],
         [("sender@example.com", ["ok@example.net"])],
         "-bs: only the clean envelope reaches SES", r.err)
    t.ok(not any("NOTIFY" in ln for ln in sim.transcript()),
         "-bs: no NOTIFY= on the wire", sim.transcript())

    # The configuration's addresses were already held to this.
    for key, value in (("from", "a>b@example.com"),
                       ("admin_address", "a@[1.2.3.4>NOTIFY=SUCCESS]")):
        sim.scenario(name="conf")
        bad = write_conf(t.tmp / "bad.conf", sim, **{key: value})
        refused(t, sim, run(["ok@example.net"], stdin=msg, conf=bad), 78,
                "%s %s in the configuration" % (key, value))


def main():
    t = Tap(name="addresses")
    with Sim(t.tmp) as sim:
        injection(t, sim)
        t.eq(sim.errors(), "", "the simulator logged no error")
    why = can_fake_hosts()
    if why is not True:
        t.skip("several addresses", why)
        t.skip("this host's names", why)
        t.done()
    own_names(t)
    hosts = t.tmp / "hosts"
    with Sim(t.tmp, ipv6=False) as sim:
        conf = write_conf(t.tmp / "a.conf", sim, timeout=2,
                          retry_delays="1.5", retry_deadline=30)

        # ::1 sorts first (RFC 6724); the simulator listens on 127.0.0.1 only.
        hosts.write_text("::1 localhost\n127.0.0.1 localhost\n")
        sim.scenario(name="refused")
        r = run_with_hosts(hosts, conf, ["rcpt@example.net"])
        t.ok(r.rc == 0 and sim.connections() == 1 and
             len(sim.messages()) == 1 and attempts(r.err) == 1,
             "a refused address moves on to the next in the same attempt",
             r.err)
        t.ok(re.search(r"connecting to localhost\[::1\]:\d+: "
                       r"Connection refused, trying the next address", r.err)
             is not None, "the refused address is logged", r.err)

        silent = Silent("::1", sim.wrapper_port)
        try:
            sim.scenario(name="silent")
            r = run_with_hosts(hosts, conf, ["rcpt@example.net"])
            t.ok(r.rc == 0 and sim.connections() == 1 and
                 len(sim.messages()) == 1 and attempts(r.err) == 1,
                 "a silent address moves on to the next in the same attempt",
                 r.err)
            t.ok(silent.accepted == 1 and 1.5 < r.elapsed < 5,
                 "the silent one cost one timeout (%.1f s)" % r.elapsed)
            t.ok("took the connection but did not answer" in r.err,
                 "the silent address is logged", r.err)
        finally:
            silent.close()

        # A new address between two attempts: resolved again each time.
        hosts.write_text("::1 localhost\n")
        sim.scenario(name="moved")

        def move():
            time.sleep(0.7)
            with open(hosts, "r+") as f:     # the same inode: still mounted
                f.truncate(0)
                f.write("127.0.0.1 localhost\n")

        mover = threading.Thread(target=move)
        mover.start()
        r = run_with_hosts(hosts, conf, ["rcpt@example.net"])
        mover.join()
        t.ok(r.rc == 0 and attempts(r.err) == 2 and
             len(sim.messages()) == 1,
             "the second attempt resolves the name again and finds the new "
             "address", r.err)
        t.eq(sim.errors(), "", "the simulator logged no error")
    t.done()


if __name__ == "__main__":
    main()
