# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""The chaos soak: 500 sends, 8 at a time, against a simulator that
injects faults at random from a fixed seed.  Nothing may be lost: every
exit 0 has its message stored; every stored message had exit 0 or a
logged possible duplicate; no message is stored twice without one."""

import collections
import concurrent.futures
import re

from sestest import Sim, Tap, run, write_conf

SENDS = 500
PARALLEL = 8
SEED = 20261128
DUP = "may have accepted the message"


def send(conf, n):
    msg = ("Subject: chaos %d\nX-Chaos-Id: %d\n\nmessage %d\n"
           % (n, n, n)).encode()
    r = run(["chaos%d@example.net" % n], stdin=msg, conf=conf, timeout=60)
    return n, r


def main():
    t = Tap(name="chaos", deadline=600)
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "chaos.conf", sim,
                          retry_delays="0.05 0.05 0.05", retry_deadline=30,
                          timeout=3)
        sim.scenario(random={"seed": SEED, "p": 0.3}, name="chaos")
        results = {}
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            for n, r in pool.map(lambda n: send(conf, n), range(SENDS)):
                results[n] = r
        sim.wait_closed(timeout=10)
        stored = collections.Counter()
        for m in sim.messages():
            found = re.search(rb"X-Chaos-Id: (\d+)", m["eml"])
            stored[int(found.group(1)) if found else -1] += 1
        faults = collections.Counter(
            "%s/%s" % (e.get("stage"), e.get("action"))
            for e in sim.events("fault"))
        exits = collections.Counter(r.rc for r in results.values())
        dups = [n for n, r in results.items() if DUP in r.err]

        t.diag("exit codes: %s" % dict(sorted(exits.items(),
                                              key=lambda kv: str(kv[0]))))
        t.diag("connections: %d, messages stored: %d, faults injected: %d"
               % (sim.connections(), sum(stored.values()),
                  sum(faults.values())))
        t.diag("faults: %s" % ", ".join("%s %d" % kv for kv in
                                       sorted(faults.items())))
        t.diag("sends that logged a possible duplicate: %d, stored twice: %d"
               % (len(dups), sum(1 for c in stored.values() if c > 1)))

        t.eq(len(results), SENDS, "every send ended")
        t.ok(sum(faults.values()) >= SENDS // 10,
             "faults were injected (%d)" % sum(faults.values()))
        t.ok(set(exits) <= {0, 75}, "every exit is 0 or 75 (transient)",
             repr(exits))
        lost = [n for n, r in results.items() if r.rc == 0 and not stored[n]]
        t.ok(not lost, "every exit 0 has its message stored",
             "lost: %r" % lost[:20])
        unexplained = [n for n, c in stored.items()
                       if n < 0 or (results[n].rc != 0 and n not in dups)]
        t.ok(not unexplained, "every stored message had exit 0 or a logged "
             "possible duplicate", repr(unexplained[:20]))
        twice = [n for n, c in stored.items() if c > 1 and n not in dups]
        t.ok(not twice, "no message stored twice without a logged possible "
             "duplicate", repr(twice[:20]))
        failed = [n for n, r in results.items() if r.rc == 75]
        t.ok(all(re.search(r"^ses-sendmail: message (perhaps )?not sent: ",
                           results[n].err, re.M) for n in failed),
             "every exit 75 says why on stderr")
        t.eq(sim.errors(), "", "the simulator logged no error")
    t.done()


if __name__ == "__main__":
    main()
