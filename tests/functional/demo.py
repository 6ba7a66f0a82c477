# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""The main job on its embedded default: start the bundled SES simulator
on loopback with a throwaway CA, send tests/functional/sample.eml through
the built binary (ses-sendmail -C <demo conf> -t), print what the
simulator received and the exit code, stop the simulator."""

import sys

from sestest import HERE, Sim, Tap, run, write_conf


def main():
    t = Tap(name="demo")
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "demo.conf", sim, log="stderr")
        sample = (HERE / "sample.eml").read_bytes()
        print("$ ses-sendmail -C %s -t < tests/functional/sample.eml"
              % conf)
        r = run(["-t"], stdin=sample, conf=conf)
        sys.stdout.write(r.err)
        print("exit code: %s" % ("none (killed after a timeout)"
                                 if r.rc is None else r.rc))
        for m in sim.messages():
            print("\n--- the simulator received (connection %d, %s, AUTH %s)"
                  % (m["conn"], m["tls"], m["auth"]))
            print("MAIL FROM:<%s> %s" % (m["mail_from"],
                                         " ".join(m["mail_params"])))
            for rcpt in m["rcpt"]:
                print("RCPT TO:<%s>" % rcpt)
            print("SES id: %s" % m["id"])
            print("--- message as received (CRLF shown as line ends):")
            sys.stdout.write(m["raw"].decode("utf-8", "replace")
                             .replace("\r\n", "\n"))
    print("--- simulator stopped")
    t.ok(r.rc == 0, "the sample was accepted")
    t.done()


if __name__ == "__main__":
    main()
