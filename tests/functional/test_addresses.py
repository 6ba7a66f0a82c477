"""Every address of the endpoint, resolved again on every attempt (SPEC 6
and 7, SES.md 10): a refused or silent address moves on to the next one
within the same attempt, and a changed address is seen by the next
attempt.  The endpoint name gets several addresses from a private
/etc/hosts, bind-mounted in a mount namespace of the binary's own (root
only; skipped elsewhere)."""

import os
import re
import socket
import subprocess
import threading
import time

from sestest import Sim, Tap, binary, write_conf

MSG = b"Subject: addresses\n\nbody\n"


def namespace_works(tmp):
    hosts = tmp / "probe.hosts"
    hosts.write_text("127.0.0.2 localhost\n")
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount --bind %s /etc/hosts && getent ahosts "
                            "localhost" % hosts], capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "127.0.0.2" in r.stdout


def run_with_hosts(hosts, conf, args, timeout=30):
    """ses-sendmail with `hosts` as its /etc/hosts."""
    start = time.monotonic()
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        'mount --bind "$0" /etc/hosts && exec "$@"',
                        str(hosts), binary(), "-C", str(conf)] + args,
                       input=MSG, capture_output=True, timeout=timeout)
    r.elapsed = time.monotonic() - start
    r.err = r.stderr.decode(errors="replace")
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


def main():
    t = Tap(name="addresses")
    if os.geteuid() != 0 or not namespace_works(t.tmp):
        t.skip("several addresses", "needs root and unshare -m")
        t.done()
    hosts = t.tmp / "hosts"
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "a.conf", sim, timeout=2,
                          retry_delays="1.5", retry_deadline=30)

        # ::1 sorts first (RFC 6724); the simulator listens on 127.0.0.1 only.
        hosts.write_text("::1 localhost\n127.0.0.1 localhost\n")
        sim.scenario(name="refused")
        r = run_with_hosts(hosts, conf, ["rcpt@example.net"])
        t.ok(r.returncode == 0 and sim.connections() == 1 and
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
            t.ok(r.returncode == 0 and sim.connections() == 1 and
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
        t.ok(r.returncode == 0 and attempts(r.err) == 2 and
             len(sim.messages()) == 1,
             "the second attempt resolves the name again and finds the new "
             "address", r.err)
        t.eq(sim.errors(), "", "the simulator logged no error")
    t.done()


if __name__ == "__main__":
    main()
