#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP: TLS 1.2 or newer, SNI, certificate verification, and never a word
of SMTP AUTH or mail without TLS (design.md 6, 7, 8; ses.md 2).  A certificate
or TLS version refused is permanent (69, never retried: these cases allow
a retry and check that none happens); ca_file unusable is 78."""

import socket
import ssl
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import Sim, Tap, make_pki, run, write_conf  # noqa: E402

RCPT = "rcpt@example.net"
MSG = b"From: sender@example.com\nTo: rcpt@example.net\nSubject: tls\n\nhi\n"
NO_STARTTLS_EHLO = ["250-email-smtp.amazonaws.com", "250-8BITMIME",
                    "250-AUTH PLAIN LOGIN", "250 Ok"]

t = Tap(deadline=120)
PKI = make_pki()


def client_verbs(sim):
    """The client's commands (first word) once its connections ended."""
    sim.wait_closed()
    return [ln.split(" C: ", 1)[1].split(" ")[0].upper()
            for ln in sim.transcript() if " C: " in ln]


def err_line(r):
    lines = r.err.splitlines()
    return lines[-1] if lines else ""


def refused(sim, conf, desc, rc, why, conns=1, verbs_ok=("EHLO",
                                                         "STARTTLS")):
    """Run once; the exit code, nothing stored, the connections (None: at
    most one), no AUTH or MAIL on the wire, and the reason on stderr."""
    r = run(["-i", RCPT], stdin=MSG, conf=conf)
    t.eq(r.rc, rc, "%s: exit %d" % (desc, rc), r)
    t.eq(sim.messages(), [], "%s: nothing stored" % desc)
    if conns is None:
        t.ok(sim.connections() <= 1, "%s: at most one connection, no retry"
             % desc)
    else:
        t.eq(sim.connections(), conns, "%s: %d connection(s), no retry"
             % (desc, conns))
    verbs = client_verbs(sim)
    t.ok(all(v in verbs_ok for v in verbs),
         "%s: no AUTH, MAIL or data on the wire" % desc, verbs)
    line = err_line(r)
    t.ok(line.startswith("ses-sendmail: ") and why.lower() in line.lower(),
         "%s: stderr says %r" % (desc, why), r.err)
    return r


def sent(sim, conf, desc):
    r = run(["-i", RCPT], stdin=MSG, conf=conf)
    msgs = sim.messages()
    t.ok(r.rc == 0 and len(msgs) == 1, "%s: sent" % desc, r)
    return msgs[0] if msgs else {}


# --- the simulator records SNI (a check of the harness itself) ----------
with Sim(t.tmp) as sim:
    with t.case("sim SNI"):
        ctx = ssl.create_default_context(cafile=str(PKI.ca))
        for name in ("localhost", None):
            sim.scenario(name="sni-probe")
            if name is None:
                ctx.check_hostname = False
            s = socket.create_connection(("127.0.0.1", sim.wrapper_port), 5)
            with ctx.wrap_socket(s, server_hostname=name) as ts:
                ts.recv(1024)               # the banner: handshake done
            sim.wait_closed()
            ev = sim.events("tls")
            t.eq([e.get("sni") for e in ev], [name],
                 "simulator records the SNI name sent (%r)" % name)

# --- what goes right: versions, SNI, address literals -------------------
with Sim(t.tmp) as sim:
    with t.case("wrapper SNI"):
        conf = write_conf(t.tmp / "ok.conf", sim)
        sim.scenario(name="wrapper")
        m = sent(sim, conf, "wrapper to localhost")
        t.ok(m.get("tls") in ("TLSv1.2", "TLSv1.3"),
             "negotiated TLSv1.2 or TLSv1.3 (%s)" % m.get("tls"))
        t.eq(m.get("sni"), "localhost", "wrapper: SNI is the host name")
    with t.case("starttls SNI"):
        conf = write_conf(t.tmp / "st.conf", sim, port=sim.starttls_port,
                          tls="starttls")
        sim.scenario(name="starttls")
        m = sent(sim, conf, "starttls to localhost")
        t.ok(m.get("tls") in ("TLSv1.2", "TLSv1.3"),
             "starttls: TLSv1.2 or TLSv1.3 (%s)" % m.get("tls"))
        t.eq(m.get("sni"), "localhost", "starttls: SNI is the host name")
        v = client_verbs(sim)
        t.eq(v[:4], ["EHLO", "STARTTLS", "EHLO", "AUTH"],
             "starttls: AUTH only after STARTTLS and a new EHLO (so SES's "
             "530 Must issue a STARTTLS command first cannot happen)", v)
    with t.case("127.0.0.1"):
        conf = write_conf(t.tmp / "ip.conf", sim, host="127.0.0.1")
        sim.scenario(name="literal")
        m = sent(sim, conf, "host 127.0.0.1 (IP SAN)")
        t.eq(m.get("sni"), None, "127.0.0.1: no SNI (RFC 6066 3)")
    with t.case("no ca_file"):
        conf = write_conf(t.tmp / "sys.conf", sim, ca_file=None,
                          retry_delays="0.1")
        sim.scenario(name="system-store")
        refused(sim, conf, "no ca_file (system store, test CA not in it)",
                69, "not trusted", verbs_ok=())
    with t.case("ca_file missing"):
        conf = write_conf(t.tmp / "noca.conf", sim, ca_file="/nonexistent/"
                          "ses-sendmail-test-ca.pem", retry_delays="0.1")
        sim.scenario(name="ca-missing")
        refused(sim, conf, "ca_file missing", 78, "ca_file", conns=None,
                verbs_ok=())
    with t.case("ca_file empty"):
        empty = t.tmp / "empty.pem"
        empty.write_text("")
        conf = write_conf(t.tmp / "emptyca.conf", sim, ca_file=empty,
                          retry_delays="0.1")
        sim.scenario(name="ca-empty")
        refused(sim, conf, "ca_file without a certificate", 78, "ca_file",
                conns=None, verbs_ok=())
    with t.case("ca_file other CA"):
        conf = write_conf(t.tmp / "otherca.conf", sim,
                          ca_file=PKI.selfsigned, host="127.0.0.1")
        sim.scenario(name="ca-other")
        refused(sim, conf, "ca_file of another CA", 69, "not trusted",
                verbs_ok=())
    with t.case("wrapper to plaintext port"):
        conf = write_conf(t.tmp / "mix.conf", sim, port=sim.starttls_port,
                          tls="wrapper", retry_delays="0.1")
        sim.scenario(name="wrapper-on-plain")
        r = run(["-i", RCPT], stdin=MSG, conf=conf)
        t.eq(r.rc, 69, "tls wrapper against a plaintext (STARTTLS) port: "
             "69, TLS not offered", r)
        t.eq(sim.connections(), 1, "wrapper on plaintext: not retried")
        t.eq(sim.messages(), [], "wrapper on plaintext: nothing stored")
        sim.wait_closed()
        t.ok(not any(w in ln for ln in sim.transcript()
                     for w in (" C: AUTH", " C: MAIL", " C: EHLO")),
             "wrapper on plaintext: no SMTP command in clear")
        t.ok(err_line(r).startswith("ses-sendmail: ") and
             "TLS" in err_line(r), "wrapper on plaintext: stderr says TLS",
             r.err)
    with t.case("starttls not offered"):
        conf = write_conf(t.tmp / "st.conf", sim, port=sim.starttls_port,
                          tls="starttls", retry_delays="0.1")
        sim.scenario(default=[{"stage": "ehlo", "action": "reply",
                               "reply": NO_STARTTLS_EHLO}],
                     name="no-starttls")
        refused(sim, conf, "STARTTLS not offered", 69, "STARTTLS",
                verbs_ok=("EHLO",))
    with t.case("starttls 5xx"):
        sim.scenario(default=[{"stage": "starttls", "action": "reply",
                               "reply": "502 Command not implemented"}],
                     name="starttls-502")
        refused(sim, conf, "STARTTLS refused with 502", 69, "502")
    with t.case("starttls 454"):
        conf1 = write_conf(t.tmp / "st1.conf", sim, port=sim.starttls_port,
                           tls="starttls")
        sim.scenario(default=[{"stage": "starttls", "action": "reply",
                               "reply": "454 TLS not available due to "
                                        "temporary reason"}],
                     name="starttls-454")
        refused(sim, conf1, "STARTTLS refused with 454 (transient)", 75,
                "454")

# --- plaintext injected before TLS (RFC 3207 6, CVE-2011-0411) ------------
# Bytes the server did not owe, before TLS is up, are refused: after the
# 220 to STARTTLS in the same write or in one of their own (then they land
# in the handshake), and after the greeting or the EHLO reply.  Were they
# read after the handshake, a man in the middle would speak for the server
# inside TLS.  76, no retry, nothing sent, and no command after STARTTLS.
INJECTED = "250-email-smtp.amazonaws.com\r\n250 AUTH PLAIN\r\n"
with Sim(t.tmp) as sim:
    conf = write_conf(t.tmp / "inj.conf", sim, port=sim.starttls_port,
                      tls="starttls", retry_delays="0.1")
    for stage, extra, why, verbs in (
            ("starttls", {}, "after its reply to STARTTLS",
             ["EHLO", "STARTTLS"]),
            ("starttls", {"ms": 300}, "after its reply to STARTTLS",
             ["EHLO", "STARTTLS"]),
            ("ehlo", {}, "after its reply to EHLO", ["EHLO"]),
            ("greeting", {}, "after its greeting", [])):
        desc = "plaintext after the %s reply%s" % (
            stage, ", %d ms later" % extra["ms"] if extra else
            ", same write")
        with t.case(desc):
            sim.scenario(default=[dict(stage=stage, action="trail",
                                       data=INJECTED, **extra)],
                         name="inject-" + stage)
            refused(sim, conf, desc, 76, why, verbs_ok=verbs)
            t.eq(client_verbs(sim), verbs, "%s: no command after it" % desc)
    with t.case("starttls 250"):
        sim.scenario(default=[{"stage": "starttls", "action": "reply",
                               "reply": "250 Ok"}], name="starttls-250")
        refused(sim, conf, "250 to STARTTLS", 76, "not 220")
        t.eq(sim.events("tls"), [], "250 to STARTTLS: no TLS handshake")
        t.eq(client_verbs(sim), ["EHLO", "STARTTLS"],
             "250 to STARTTLS: no command after it")
    t.eq(sim.errors(), "", "simulator: no errors (injection)")

# --- certificates refused ---------------------------------------------
for cert, why in (("wrong", "does not match"), ("expired", "expired"),
                  ("selfsigned", "issuer is unknown")):
    with Sim(t.tmp, cert=cert) as sim:
        with t.case(cert):
            conf = write_conf(t.tmp / "c.conf", sim, retry_delays="0.1")
            sim.scenario(name=cert)
            r = refused(sim, conf, "%s certificate (wrapper)" % cert, 69,
                        "not trusted", verbs_ok=())
            t.ok(why in r.err, "%s: stderr gives GnuTLS's reason (%s)"
                 % (cert, why), r.err)
            conf = write_conf(t.tmp / "c.conf", sim, retry_delays="0.1",
                              port=sim.starttls_port, tls="starttls")
            sim.scenario(name=cert + "-starttls")
            refused(sim, conf, "%s certificate (starttls)" % cert, 69,
                    "not trusted")

# --- TLS versions -----------------------------------------------------
with Sim(t.tmp, tls_min="1.0", tls_max="1.1") as sim:
    for kind, port in (("wrapper", sim.wrapper_port),
                       ("starttls", sim.starttls_port)):
        with t.case("tls 1.1 " + kind):
            conf = write_conf(t.tmp / "old.conf", sim, port=port, tls=kind,
                              retry_delays="0.1")
            sim.scenario(name="tls11-" + kind)
            refused(sim, conf, "server with TLS 1.1 at most (%s)" % kind,
                    69, "version")
            t.eq([e.get("version") for e in sim.events("tls")], [None],
                 "TLS 1.1 %s: no TLS session was set up" % kind)
with Sim(t.tmp, tls_max="1.2") as sim:
    with t.case("tls 1.2"):
        conf = write_conf(t.tmp / "v12.conf", sim)
        sim.scenario(name="tls12")
        m = sent(sim, conf, "server with TLS 1.2 at most")
        t.eq(m.get("tls"), "TLSv1.2", "TLS 1.2 is enough")
with Sim(t.tmp, tls_min="1.3") as sim:
    with t.case("tls 1.3"):
        conf = write_conf(t.tmp / "v13.conf", sim)
        sim.scenario(name="tls13")
        m = sent(sim, conf, "server with TLS 1.3 only")
        t.eq(m.get("tls"), "TLSv1.3", "TLS 1.3 is used")

# --- IPv6 literal: no SNI -----------------------------------------------
with Sim(t.tmp, ipv6=True) as sim:
    with t.case("::1"):
        conf = write_conf(t.tmp / "v6.conf", sim, host="::1",
                          port=sim.wrapper6_port, tls="wrapper")
        sim.scenario(name="v6")
        m = sent(sim, conf, "host ::1 (IP SAN)")
        t.eq(m.get("sni"), None, "::1: no SNI")

t.done()
