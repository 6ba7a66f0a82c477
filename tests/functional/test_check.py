# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""ses-sendmail --check and --derive-password (issue 6): every failure the
check can report, made real on loopback, each asserting the line and the
remedy printed and the exit code; the JSON form; the terminal form."""

import json
import os
import pty
import re
import select
import socket
import subprocess
import time
import types

from sestest import (PASSWORD, SECRET, USER, ApiSim, ConnectProxy, Sim, Tap,
                     binary, can_fake_hosts, closed_port, have_ipv6,
                     hosts_file, run, write_conf)

IAM_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STEPS = ["configuration", "DNS", "ports", "TLS", "SMTP", "AUTH",
         "large packets"]
API_STEPS = ["API DNS", "API port", "API TLS", "API keys", "API sender"]
POLICY = ('"Action": ["ses:GetAccount", "ses:GetEmailIdentity", '
          '"ses:GetConfigurationSet"]')
CLOCK_RE = r"the clock says \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)"



def silent_listener(port=0):
    """A listener whose queue is full: a connect to it times out."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(0)
    filler = socket.create_connection(s.getsockname(), timeout=2)
    return s, filler


def step_line(out, name):
    """The line of a step: its result word and the rest."""
    for line in out.splitlines():
        m = re.match(r"^(ok|warn|FAIL|skip)\s+(%s)\s+\d+ ms  (.*)$"
                     % re.escape(name), line)
        if m:
            return m.group(1), m.group(3)
    return None, None


def check(t, conf, *extra, timeout=60):
    return run(["--check"] + list(extra), conf=conf, timeout=timeout)


def every_address(t):
    """The ports step probes every address of the name, as a send tries
    them: one family refused while the other answers is a warning, never a
    firewall diagnosis, and the later steps still run.  "localhost" is
    given its addresses by a private /etc/hosts."""
    cases = [
        dict(desc="::1 refused, 127.0.0.1 answers",
             addrs=["::1", "127.0.0.1"], ipv6=False, want="warn",
             note="IPv6 refused, IPv4 works", via="via 127.0.0.1"),
        dict(desc="127.0.0.2 refused, ::1 answers",
             addrs=["127.0.0.2", "::1"], ipv6=True, want="warn",
             note="IPv4 refused, IPv6 works", via="via ::1"),
        dict(desc="127.0.0.2 refused, 127.0.0.1 answers",
             addrs=["127.0.0.2", "127.0.0.1"], ipv6=False, want="ok",
             note=None, via="via 127.0.0.1"),
        dict(desc="both answer", addrs=["::1", "127.0.0.1"], ipv6=True,
             want="ok", note=None, via=None),
    ]
    why = can_fake_hosts()
    if why is True and not have_ipv6():
        why = "no ::1 here"
    if why is not True:
        for case in cases:
            t.skip("every address: %s" % case["desc"], why)
        return
    for case in cases:
        desc, want, note, via = (case[k] for k in ("desc", "want", "note",
                                                   "via"))
        with Sim(t.tmp, ipv6=case["ipv6"]) as sim:
            hosts = hosts_file(t.tmp / "hosts",
                               {"localhost": case["addrs"]})
            conf = write_conf(t.tmp / "every.conf", sim, timeout=2)
            ports = "%d,%d" % (sim.wrapper_port, sim.starttls_port)
            r = run(["--check", "--ports", ports], conf=conf, hosts=hosts,
                    timeout=60)
            res, text = step_line(r.out, "ports")
            t.ok(r.rc == 0 and res == want and
                 "a firewall blocks" not in r.out and
                 all(step_line(r.out, s)[0] == "ok" for s in STEPS[3:]) and
                 (note is None) == (" works (port " not in r.out) and
                 (note is None or "%s (port %s)" % (note, ports.replace(
                     ",", ", ")) in r.out) and
                 (via is None) == (" via " not in text) and
                 (via is None or "%d open %s" % (sim.wrapper_port, via)
                  in text),
                 "every address: %s: ports %s, later steps run, exit 0"
                 % (desc, want), r.out + r.err)
            r = run(["-i", "rcpt@example.net"], stdin=b"Subject: x\n\nx\n",
                    conf=conf, hosts=hosts)
            t.eq(r.rc, 0, "every address: %s: a send works too" % desc,
                 r.err)
    # Every address refused: that is the firewall diagnosis.
    hosts = hosts_file(t.tmp / "hosts", {"localhost": ["::1", "127.0.0.1"]})
    with Sim(t.tmp) as sim:
        dead = closed_port()
        conf = write_conf(t.tmp / "dead.conf", sim, port=dead, timeout=2,
                          tls="wrapper")
    r = run(["--check", "--ports", str(dead)], conf=conf, hosts=hosts,
            timeout=60)
    t.ok(r.rc == 75 and step_line(r.out, "ports")[0] == "FAIL" and
         "a firewall blocks outgoing connections" in r.out,
         "every address refused: ports fail, exit 75", r.out)


def api_conf(path, api, smtp=None, **keys):
    """A configuration whose API endpoint is the ApiSim api: transport api
    with the IAM keys and no SMTP credentials; with smtp (a Sim), transport
    auto with the same keys, which derive the SMTP password and leave the
    API to api_fallback."""
    conf = dict(host=None, port=None, tls=None, username=None, password=None,
                transport="api", api_endpoint=api.url,
                aws_access_key_id=USER, aws_secret_access_key=SECRET,
                timeout=2)
    if smtp is not None:
        conf.update(host="localhost", port=smtp.wrapper_port, tls="wrapper",
                    username=USER, transport=None, aws_access_key_id=None)
    conf.update(keys)
    where = smtp or types.SimpleNamespace(wrapper_port=None,
                                          wrapper6_port=None, pki=api.pki)
    return write_conf(path, where, **conf)


def api_steps(t):
    """--check on the SES API's road: DNS, the port (or the proxy's), TLS,
    and the keys proved by one signed GetAccount, whose answer gives the
    account's state; each way the keys, the clock or the service can fail,
    with its exit code (fail.c's) and its remedy."""
    with Sim(t.tmp) as smtp, ApiSim(t.tmp, quota=1234, max_send_rate=7,
                                    verified=["example.com"]) as api:
        # Transport api: no SMTP step, and no SMTP connection at all.
        conf = api_conf(t.tmp / "api.conf", api, host="localhost",
                        port=smtp.wrapper_port)
        r = run(["-i", "rcpt@example.net"], stdin=b"Subject: x\n\nx\n",
                conf=conf)
        t.eq(r.rc, 0, "api: a message through the API first", r.err)
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 0 and
             all(step_line(r.out, s)[0] == "ok" for s in API_STEPS) and
             not any(step_line(r.out, s)[0] for s in STEPS[1:]) and
             smtp.connections() == 0,
             "api: the five API steps pass; transport api runs no SMTP "
             "step and opens no SMTP connection", r.out + r.err)
        t.ok(text == "GetAccount with key AKIA...: in production, sending "
             "enabled, enforcement HEALTHY (in good standing)" and
             "quota: 1 of 1234 messages used in the last 24 hours (1233 "
             "left); at most 7 messages a second" in r.out and
             "sandbox" not in r.out,
             "api: GetAccount's facts: production, sending, enforcement, "
             "the quota numbers", r.out)
        t.ok(re.search(r"TLS1\.[23] .*verified against .*ca\.pem", r.out)
             and "certificate: CN=localhost" in r.out and
             "connected to localhost[" in r.out and
             "%d open" % api.port in step_line(r.out, "API port")[1],
             "api: TLS version, certificate, the port probed", r.out)
        t.ok(len(api.events("auth")) == 0 and SECRET not in r.out + r.err,
             "api: GetAccount signed as botocore checks it; the secret is "
             "never printed", json.dumps(api.events()[-6:]))

        r = check(t, conf, "--json")
        try:
            doc = json.loads(r.out)
        except ValueError:
            doc = {}
        t.ok(r.rc == 0 and doc.get("transport") == "api" and
             doc.get("port") == api.port and
             [s["step"] for s in doc.get("steps", [])] ==
             ["configuration"] + API_STEPS and
             all(s["result"] == "ok" for s in doc["steps"]),
             "api --json: the API steps as JSON", r.out)

        r = check(t, conf, "--send-test")
        ids = [m["id"] for m in api.messages()]
        t.ok(r.rc == 0 and len(ids) == 2 and ids[-1] in r.out and
             step_line(r.out, "test message")[0] == "ok",
             "api --send-test: the test message goes through the API",
             r.out + r.err)

        # SMTP with the IAM keys: the API's steps follow the SMTP ones.
        conf = api_conf(t.tmp / "both.conf", api, smtp=smtp)
        r = check(t, conf, "--ports", str(smtp.wrapper_port), "--json")
        try:
            doc = json.loads(r.out)
        except ValueError:
            doc = {}
        t.ok(r.rc == 0 and doc.get("transport") == "smtp" and
             [s["step"] for s in doc.get("steps", [])] == STEPS +
             API_STEPS and all(s["result"] == "ok" for s in doc["steps"]),
             "smtp with api_fallback: the SMTP steps, then the API's",
             r.out + r.err)
        conf = api_conf(t.tmp / "nofallback.conf", api, smtp=smtp,
                        api_fallback=False)
        r = check(t, conf, "--ports", str(smtp.wrapper_port))
        t.ok(r.rc == 0 and step_line(r.out, "AUTH")[0] == "ok" and
             "API" not in r.out,
             "api_fallback no: a send never takes the API, no API step",
             r.out)

        # The keys refused: the key id, the secret, the clock.
        conf = api_conf(t.tmp / "keyid.conf", api,
                        aws_access_key_id="AKIAI44QH8DHBEXAMPLE")
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 77 and res == "FAIL" and
             text.startswith("unknown access key id AKIA...: 403 "
                             "UnrecognizedClientException") and
             "-> set aws_access_key_id (or username) to the access key id"
             in r.out, "unknown key id: API keys fail, exit 77, remedy",
             r.out)
        wrong = "x" * 40
        conf = api_conf(t.tmp / "secret.conf", api,
                        aws_secret_access_key=wrong)
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 77 and res == "FAIL" and
             text.startswith("bad signature: wrong secret, or this host's "
                             "clock is off by more than 5 minutes") and
             re.search(CLOCK_RE, text) and
             "-> check aws_secret_access_key" in r.out and
             wrong not in r.out + r.err,
             "wrong secret: API keys fail, exit 77, the clock named",
             r.out)
        conf = api_conf(t.tmp / "api.conf", api)
        api.scenario(name="skew", clock_offset=900)
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 77 and res == "FAIL" and re.search(CLOCK_RE, text) and
             "InvalidSignatureException: Signature expired" in r.out,
             "clock 15 minutes off: API keys fail, exit 77, SES's "
             "'Signature expired' and this host's clock shown", r.out)

        # IAM without ses:GetAccount: the keys are good all the same.
        api.scenario(name="denied", default=[{
            "action": "error", "status": 403, "op": "GetAccount",
            "type": "AccessDeniedException",
            "message": "User: arn:aws:iam::123456789012:user/mail is not "
            "authorized to perform: ses:GetAccount"}])
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 0 and res == "warn" and text == "the keys AKIA... may "
             "not call ses:GetAccount (--check reads it; sending does not "
             "need it)" and POLICY in r.out,
             "AccessDenied on GetAccount: a warning, exit 0", r.out)
        api.scenario(name="503", default=[{
            "action": "error", "status": 503, "type": "ServiceUnavailable",
            "message": "Service Unavailable"}])
        r = check(t, conf)
        res, text = step_line(r.out, "API keys")
        t.ok(r.rc == 75 and res == "FAIL" and text.startswith("503 ") and
             "again later" in r.out, "503: API keys fail, exit 75", r.out)
        api.scenario()

        # Through a CONNECT proxy: the proxy's port, TLS in its tunnel.
        with ConnectProxy(t.tmp) as proxy:
            conf = api_conf(t.tmp / "proxy.conf", api, proxy=proxy.url)
            r = check(t, conf)
            t.ok(r.rc == 0 and
                 all(step_line(r.out, s)[0] == "ok" for s in API_STEPS) and
                 "the proxy 127.0.0.1 [127.0.0.1]: %d open" % proxy.port
                 in r.out and "localhost port %d through the proxy's "
                 "tunnel" % api.port in r.out and
                 [c["target"] for c in proxy.connects()] ==
                 ["localhost:%d" % api.port],
                 "through a proxy: all API steps pass, one CONNECT",
                 r.out + r.err)
        conf = api_conf(t.tmp / "noproxy.conf", api,
                        proxy="http://127.0.0.1:%d" % closed_port())
        r = check(t, conf)
        t.ok(r.rc == 75 and step_line(r.out, "API port")[0] == "FAIL" and
             "the proxy does not answer" in r.out and "a firewall" not in
             r.out and step_line(r.out, "API TLS")[0] == "skip",
             "a proxy that does not answer: API port fails, exit 75",
             r.out)

        # The API's port closed on every address: the firewall remedy.
        dead = closed_port()
        conf = api_conf(t.tmp / "dead.conf", api,
                        api_endpoint="https://localhost:%d" % dead)
        r = check(t, conf)
        t.ok(r.rc == 75 and step_line(r.out, "API port")[0] == "FAIL" and
             "%d refused" % dead in r.out and
             "a firewall blocks outgoing connections" in r.out and
             step_line(r.out, "API TLS")[0] == "skip" and
             step_line(r.out, "API keys")[0] == "skip",
             "API port refused on every address: exit 75, a firewall",
             r.out)

    # One family refused, the other answering: a warning, no firewall.
    why = can_fake_hosts()
    if why is True and not have_ipv6():
        why = "no ::1 here"
    if why is not True:
        t.skip("API port: ::1 refused, 127.0.0.1 answers", why)
        return
    with ApiSim(t.tmp, ipv6=False, verified=["example.com"]) as api:
        hosts = hosts_file(t.tmp / "api.hosts",
                           {"localhost": ["::1", "127.0.0.1"]})
        conf = api_conf(t.tmp / "family.conf", api)
        r = run(["--check"], conf=conf, hosts=hosts, timeout=60)
        res, text = step_line(r.out, "API port")
        t.ok(r.rc == 0 and res == "warn" and
             "IPv6 refused, IPv4 works (port %d)" % api.port in r.out and
             "a firewall blocks" not in r.out and
             "%d open via 127.0.0.1" % api.port in text and
             step_line(r.out, "API keys")[0] == "ok",
             "API port: ::1 refused, 127.0.0.1 answers: a warning, the "
             "later steps pass", r.out)


def check_json(r):
    try:
        return json.loads(r.out)
    except ValueError:
        return {}


def account_reads(t):
    """--check reads the account (design.md 12): GetAccount in plain words
    (sandbox or production, sending, enforcement, the quota used),
    GetEmailIdentity for the sender and its domain (verified for sending
    or why not, DKIM), GetConfigurationSet; AccessDenied on any read is a
    warning with the policy line and leaves the exit status alone."""
    with ApiSim(t.tmp, sandbox=True) as api:
        conf = api_conf(t.tmp / "reads.conf", api)
        # A new user: sandboxed, and nothing verified yet.
        r = check(t, conf, "--send-test", "friend@example.net")
        t.diag("--check, sandbox, unverified sender:\n" + r.out)
        res, text = step_line(r.out, "API keys")
        t.ok(res == "warn" and text.startswith(
             "GetAccount with key AKIA...: in the sandbox, sending enabled")
             and "quota: 0 of 200 messages used in the last 24 hours (200 "
             "left); at most 1 message a second" in r.out and
             "in the sandbox, recipients must be verified too" in r.out and
             "-> to send to anyone, request production access" in r.out,
             "sandbox: said in plain words, the quota used, production "
             "access as the remedy", r.out)
        res, text = step_line(r.out, "API recipient")
        t.ok(res == "warn" and text == "the test recipient "
             "friend@example.net is not verified: in the sandbox SES "
             "refuses it" and "-> verify friend@example.net in the SES "
             "console for us-east-1, or run --send-test alone" in r.out,
             "sandbox: the --send-test recipient is named, not verified, "
             "a warning", r.out)
        res, text = step_line(r.out, "API sender")
        t.ok(r.rc == 69 and res == "FAIL" and
             text == "sender sender@example.com (from)" and
             "sender@example.com: not an identity in SES in us-east-1" in
             r.out and "example.com: not an identity in SES in us-east-1"
             in r.out and "-> verify it in the SES console for us-east-1"
             in r.out and "(MessageRejected, exit 69)" in r.out and
             step_line(r.out, "test message")[0] is None and
             not api.messages(),
             "unverified sender: API sender fails, exit 69, neither the "
             "address nor the domain is an identity, the fix; no test "
             "message is sent", r.out)
        paths = [e.get("path", e.get("target")) for e in api.requests()]
        t.ok("/v2/email/identities/sender%40example.com" in paths and
             "/v2/email/identities/example.com" in paths and
             not api.events("auth"),
             "GetEmailIdentity for the address (%40) and the domain, both "
             "signed as botocore checks them", paths)

        api.scenario(name="prod", account={"sandbox": False, "sent": 12,
                                           "quota": 50000, "rate": 14},
                     identities={"sender@example.com": {"status":
                                                        "SUCCESS"}})
        r = check(t, conf)
        res, text = step_line(r.out, "API sender")
        t.ok(r.rc == 0 and step_line(r.out, "API keys")[0] == "ok" and
             "in production" in r.out and "sandbox" not in r.out and
             "quota: 12 of 50000 messages used" in r.out and res == "ok" and
             "sender@example.com is verified for sending (by the "
             "address)" in r.out and "DKIM: not set up for example.com" in
             r.out, "production, a verified address only: ok, DKIM not "
             "set up named", r.out)
        doc = check_json(check(t, conf, "--json"))
        t.eq((doc.get("account"), doc.get("identity"),
              doc.get("configuration_set")),
             ({"sandbox": False, "sending_enabled": True,
               "enforcement": "HEALTHY", "max_send_rate": 14,
               "max_24h": 50000, "sent_24h": 12},
              {"address": "sender@example.com", "domain": "example.com",
               "verified_for_sending": True, "verified_by": "address",
               "dkim": "NOT_STARTED"},
              {"name": None, "exists": None}),
             "--json: account, identity and configuration_set fields", doc)

        api.scenario(name="domain", identities={"example.com": {}})
        r = check(t, conf)
        doc = check_json(check(t, conf, "--json"))
        t.ok(r.rc == 0 and step_line(r.out, "API sender")[0] == "ok" and
             "sender@example.com is verified for sending (by its domain "
             "example.com)" in r.out and "DKIM: example.com signs with "
             "DKIM" in r.out and doc.get("identity", {}).get("verified_by")
             == "domain" and doc["identity"]["dkim"] == "SUCCESS" and
             doc["account"]["sandbox"] is True,
             "a verified domain only: the address can send, DKIM signs",
             r.out)
        r = check(t, conf, "--send-test", "friend@sub.example.com")
        t.ok(r.rc == 0 and step_line(r.out, "API recipient") == (
             "ok", "the test recipient friend@sub.example.com is verified: "
             "the sandbox lets mail reach it") and
             step_line(r.out, "test message")[0] == "ok",
             "sandbox: a recipient in a verified parent domain may "
             "receive; the test message goes", r.out)
        r = check(t, conf, "--send-test")
        t.ok(r.rc == 0 and step_line(r.out, "API recipient")[0] is None
             and step_line(r.out, "test message")[0] == "ok",
             "sandbox: the mailbox simulator needs no recipient check",
             r.out)
        r = check(t, conf, "-f", "ops@mail.example.com")
        t.ok(r.rc == 0 and "sender ops@mail.example.com (-f)" in r.out and
             "verified for sending (by its parent domain example.com)" in
             r.out and "DKIM: example.com signs with DKIM" in r.out,
             "-f on a subdomain: verified by the parent domain, its DKIM",
             r.out)
        r = check(t, conf, "-f", "root")
        t.ok(r.rc == 0 and step_line(r.out, "API sender") == (
             "warn", "sender root (-f): no domain, so no SES identity"),
             "-f without a domain: a warning, no read", r.out)
        quoted = '"a\\"b\\\\c"@example.com'
        r = check(t, conf, "--json", "-f", quoted)
        doc = check_json(r)
        t.ok(r.rc == 0 and doc.get("identity", {}).get("address") == quoted
             and doc["identity"]["verified_by"] == "domain" and
             not api.events("auth"),
             "a quoted local part: %-encoded in the path and signed as "
             "botocore checks it, escaped in --json", r.out)

        for status, want in (
                ("PENDING", "-> SES mailed a verification link to the "
                 "address: open it"),
                ("FAILED", "verification failed (the link expired"),
                ("TEMPORARY_FAILURE", "verification temporarily failed")):
            api.scenario(name=status.lower(), identities={
                "sender@example.com": {"status": status}})
            r = check(t, conf)
            t.ok(r.rc == 69 and step_line(r.out, "API sender")[0] ==
                 "FAIL" and want in r.out,
                 "address %s: API sender fails, exit 69, said in plain "
                 "words" % status, r.out)
        api.scenario(name="dkim", identities={"example.com": {
            "dkim": "PENDING", "signing": False}})
        r = check(t, conf)
        t.ok(r.rc == 0 and "DKIM: pending: SES has not found the DKIM "
             "records of example.com yet" in r.out,
             "DKIM pending: named, with the records to publish", r.out)

        # No from: what a send checks instead; -f checks an address.
        noconf = api_conf(t.tmp / "nofrom.conf", api, **{"from": None})
        r = check(t, noconf)
        res, text = step_line(r.out, "API sender")
        doc = check_json(check(t, noconf, "--json"))
        t.ok(r.rc == 0 and res == "skip" and text.startswith("no from in")
             and "-> run ses-sendmail --check -f ADDRESS" in r.out and
             doc.get("identity", {}).get("address") is None,
             "no from: the step says what a send checks instead", r.out)

        # The configuration set: exists, missing, sending disabled.
        csconf = api_conf(t.tmp / "cs.conf", api, configuration_set="cs1")
        api.scenario(name="cs", identities={"example.com": {}},
                     config_sets=["cs1"])
        r = check(t, csconf)
        doc = check_json(check(t, csconf, "--json"))
        t.ok(r.rc == 0 and step_line(r.out, "API config set")[0] == "ok" and
             "configuration set cs1 exists in us-east-1" in r.out and
             doc.get("configuration_set") == {"name": "cs1",
                                              "exists": True},
             "an existing configuration set: ok", r.out)
        api.scenario(name="nocs", identities={"example.com": {}},
                     config_sets=["other"])
        r = check(t, csconf)
        doc = check_json(check(t, csconf, "--json"))
        t.ok(r.rc == 78 and step_line(r.out, "API config set")[0] ==
             "FAIL" and "configuration set cs1: not in SES in us-east-1" in
             r.out and "-> create it in the SES console for us-east-1, or "
             "remove configuration_set" in r.out and
             doc.get("configuration_set") == {"name": "cs1",
                                              "exists": False} and
             doc.get("exit") == 78,
             "a missing configuration set: FAIL, exit 78, the fix", r.out)
        api.scenario(name="cspaused", identities={"example.com": {}},
                     config_sets={"cs1": {"sending": False}})
        r = check(t, csconf)
        t.ok(r.rc == 0 and step_line(r.out, "API config set")[0] == "warn"
             and "sending is disabled for cs1" in r.out,
             "a configuration set with sending disabled: warned", r.out)

        # AccessDenied on each read: a warning with the policy line; the
        # exit status is what it would be without the read.
        for op, step, rc in (("GetAccount", "API keys", 0),
                             ("GetEmailIdentity", "API sender", 0),
                             ("GetConfigurationSet", "API config set", 0)):
            api.scenario(name="deny-" + op, denied=[op],
                         identities={"example.com": {}},
                         config_sets=["cs1"])
            r = check(t, csconf)
            t.ok(r.rc == rc and step_line(r.out, step)[0] == "warn" and
                 "may not call ses:%s" % op in r.out and POLICY in r.out and
                 "AccessDeniedException" in r.out and
                 all(step_line(r.out, s)[0] in ("ok", "warn") for s in
                     API_STEPS + ["API config set"]),
                 "AccessDenied on %s: %s warns with the policy line, exit "
                 "%d" % (op, step, rc), r.out)
        api.scenario(name="deny-all", denied=["GetAccount",
                                              "GetEmailIdentity",
                                              "GetConfigurationSet"],
                     config_sets=[])
        r = check(t, csconf)
        doc = check_json(check(t, csconf, "--json"))
        t.ok(r.rc == 0 and doc.get("exit") == 0 and
             doc.get("account", {}).get("sandbox") is None and
             doc.get("identity", {}).get("verified_for_sending") is None and
             doc.get("configuration_set") == {"name": "cs1",
                                              "exists": None},
             "every read denied: exit 0 (not 69 or 78: nothing is known), "
             "nulls in --json", r.out)

        # Sending paused, enforcement: warned in plain words.
        api.scenario(name="paused", identities={"example.com": {}},
                     account={"sandbox": False, "sending_paused": True,
                              "enforcement": "PROBATION"})
        r = check(t, conf)
        t.ok(r.rc == 0 and step_line(r.out, "API keys")[0] == "warn" and
             "sending paused, enforcement PROBATION (under review" in r.out
             and "-> sending is paused for the account" in r.out,
             "sending paused and probation: warned in plain words", r.out)


def main():
    t = Tap(name="check", deadline=300)
    with Sim(t.tmp) as sim:
        ports = "%d,%d" % (sim.wrapper_port, sim.starttls_port)
        good = write_conf(t.tmp / "good.conf", sim, timeout=2)

        r = check(t, good, "--ports", ports)
        t.eq(r.rc, 0, "all steps pass: exit 0", r.out + r.err)
        for name in STEPS:
            res, _ = step_line(r.out, name)
            t.eq(res, "ok", "step %s: ok (ASCII when not a terminal)" % name,
                 r.out)
        t.ok("allow-list the name in firewalls, never the addresses" in
             r.out, "DNS: the note that addresses change")
        t.ok(re.search(r"TLS1\.[23] .*verified against .*ca\.pem", r.out)
             and "certificate: CN=localhost" in r.out and
             re.search(r"issuer: CN=ses-sendmail test CA; expires \d{4}-",
                       r.out), "TLS: version, cipher, subject, issuer, "
             "expiry, verification", r.out)
        t.ok("EHLO: 8BITMIME, AUTH PLAIN LOGIN" in r.out and
             "220 email-smtp.amazonaws.com ESMTP" in r.out,
             "SMTP: greeting and EHLO capabilities", r.out)
        t.ok("1 MiB of DATA sent and acknowledged" in r.out and
             sim.messages() == [], "large packets: nothing was sent")
        t.ok(PASSWORD not in r.out + r.err, "the password is never printed")

        r = check(t, good, "--ports", ports, "--json")
        try:
            doc = json.loads(r.out)
        except ValueError:
            doc = {}
        t.ok(r.rc == 0 and doc.get("exit") == 0 and
             [s["step"] for s in doc.get("steps", [])] == STEPS and
             all(s["result"] == "ok" for s in doc["steps"]),
             "--json: the same steps as JSON", r.out)

        sim.scenario(name="send-test")
        r = check(t, good, "--ports", ports, "--send-test")
        ids = [m["id"] for m in sim.messages()]
        t.ok(r.rc == 0 and len(ids) == 1 and ids[0] in r.out and
             sim.messages()[0]["rcpt"] == ["success@simulator.amazonses.com"],
             "--send-test: sends one message and prints SES's id", r.out)
        sim.scenario()

        # The configured port closed while another works.
        dead = closed_port()
        conf = write_conf(t.tmp / "closed.conf", sim, port=dead,
                          tls="wrapper", timeout=2)
        r = check(t, conf, "--ports", "%d,%d" % (dead, sim.starttls_port))
        res, text = step_line(r.out, "ports")
        t.ok(r.rc == 75 and res == "FAIL" and
             "the configured port %d is refused" % dead in r.out,
             "closed port: ports fail, exit 75", r.out)
        t.ok("port %d answers: in %s set" % (sim.starttls_port, conf) in
             r.out and "    port %d" % sim.starttls_port in r.out and
             "    tls starttls" in r.out,
             "closed port: the exact configuration lines to switch", r.out)
        t.ok(step_line(r.out, "TLS")[0] == "skip",
             "closed port: later steps are skipped")

        # A port that never answers.
        lsock, filler = silent_listener()
        try:
            sport = lsock.getsockname()[1]
            conf = write_conf(t.tmp / "silent.conf", sim, port=sport,
                              tls="wrapper", timeout=2)
            start = time.monotonic()
            r = check(t, conf, "--ports", "%d,%d" % (sport, sim.wrapper_port))
            took = time.monotonic() - start
            t.ok(r.rc == 75 and "the configured port %d is silent" % sport
                 in r.out and re.search(r"%d silent \(\d+ ms\)" % sport,
                                        r.out) and took < 8,
                 "silent port: reported silent within the timeout", r.out)
            t.ok("    tls wrapper" in r.out,
                 "silent port: the working port's tls setting is found")
        finally:
            lsock.close()
            filler.close()

        # Port 25 silent while others are open: EC2's throttled port 25.
        try:
            lsock, filler = silent_listener(25)
        except OSError:
            t.skip("port 25 advice", "cannot listen on port 25 here")
        else:
            try:
                r = check(t, good, "--ports", "25,%d" % sim.wrapper_port)
                t.ok(r.rc == 0 and "port 25 is silent while others answer"
                     in r.out and "EC2" in r.out,
                     "port 25 silent: the EC2 advice", r.out)
            finally:
                lsock.close()
                filler.close()

        # 535, and an IAM secret key where the SMTP password goes.
        conf = write_conf(t.tmp / "bad535.conf", sim, timeout=2,
                          password="B" + "x" * 43)
        r = check(t, conf, "--ports", ports)
        res, text = step_line(r.out, "AUTH")
        t.ok(r.rc == 77 and res == "FAIL" and "535" in text and
             "not the IAM access keys" in r.out,
             "535: AUTH fails with the credentials advice", r.out)
        conf = write_conf(t.tmp / "iam.conf", sim, timeout=2,
                          password=IAM_SECRET)
        r = check(t, conf, "--ports", ports)
        t.ok(r.rc == 78 and step_line(r.out, "configuration")[0] == "FAIL"
             and "this is the AWS secret key, not an SMTP password: set "
             "aws_secret_access_key instead, or derive one with "
             "--derive-password" in r.out and IAM_SECRET not in r.out,
             "an IAM secret as the password: named, with the remedy",
             r.out)
        conf = write_conf(t.tmp / "v2.conf", sim, timeout=2,
                          password="A" + "y" * 43, username="someone")
        r = check(t, conf, "--ports", ports)
        t.ok(step_line(r.out, "configuration")[0] == "warn" and
             "old SigV2 SMTP password" in r.out and "not an access key id"
             in r.out and r.rc == 77,
             "a SigV2 password and a user name that is no key id: warned",
             r.out)

    every_address(t)
    api_steps(t)
    account_reads(t)

    # Certificates: wrong name, expired.
    for cert, want in (("wrong", "CN=wrong.example"),
                       ("expired", "(EXPIRED)")):
        with Sim(t.tmp, cert=cert) as sim:
            conf = write_conf(t.tmp / (cert + ".conf"), sim, timeout=2)
            r = check(t, conf, "--ports", str(sim.wrapper_port))
            res, text = step_line(r.out, "TLS")
            t.ok(r.rc == 69 and res == "FAIL" and
                 "certificate not trusted" in r.out and want in r.out and
                 "check host (the name must match the certificate) and "
                 "ca_file" in r.out,
                 "%s certificate: TLS fails, the certificate is shown, "
                 "exit 69" % cert, r.out)

    # A server that stops reading after 64 KB: the MTU stall.
    with Sim(t.tmp) as sim:
        conf = write_conf(t.tmp / "mtu.conf", sim, timeout=2)
        sim.scenario(default=[{"stage": "data", "action": "stall_read",
                               "bytes": 65536, "seconds": 10}])
        r = check(t, conf, "--ports", str(sim.wrapper_port))
        res, text = step_line(r.out, "large packets")
        t.ok(r.rc == 75 and res == "FAIL" and "made no progress" in text
             and "set the MTU of the interface that reaches SES to 1500"
             in r.out and sim.messages() == [],
             "MTU stall: large packets fail with the MTU advice", r.out)

        # The same on a terminal: check marks and colour.
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(LANG="C.UTF-8")
            os.environ.pop("NO_COLOR", None)
            os.execv(binary(), [binary(), "-C", str(conf), "--check",
                                "--ports", str(sim.wrapper_port)])
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.waitpid(pid, 0)
        text = out.decode(errors="replace")
        t.ok("\u2713" in text and "\u2717" in text and "\033[32m" in text,
             "on a UTF-8 terminal: check marks and colour", text[:600])

    # DNS: a name that does not exist, and a resolver that does not
    # answer, from a private /etc/hosts and name service configuration.
    with Sim(t.tmp) as sim:
        why = can_fake_hosts()
        hosts = hosts_file(t.tmp / "dns.hosts", {"localhost": ["127.0.0.1"]})
        conf = write_conf(t.tmp / "nx.conf", sim, host="nonexistent.invalid")
        for dns, rc, remedy, desc in (
                (False, 68, "no such name: check region",
                 "NXDOMAIN: DNS fails, exit 68"),
                (True, 75, "the resolver did not answer",
                 "no answer from the resolver: DNS fails, exit 75")):
            if why is not True:
                t.skip(desc, why)
                continue
            r = run(["--check"], conf=conf, hosts=hosts, dns=dns,
                    timeout=60)
            res, text = step_line(r.out, "DNS")
            t.ok(r.rc == rc and res == "FAIL" and remedy in r.out and
                 step_line(r.out, "TLS")[0] == "skip", desc, r.out)
        conf = write_conf(t.tmp / "bad.conf", sim, bogus_key="x")
        r = check(t, conf)
        t.ok(r.rc == 78 and step_line(r.out, "configuration")[0] == "FAIL",
             "an unusable configuration: the configuration step fails, 78",
             r.out)

    # --derive-password: the published vectors (ses.md 4.2), stdin only.
    vectors = [("eu-central-1", "some+secret+key",
                "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"),
               ("eu-central-1", "another+secret+key",
                "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"),
               ("us-west-1", "some+secret+key",
                "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"),
               ("us-west-1", "another+secret+key",
                "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF")]
    for region, secret, want in vectors:
        r = run(["--derive-password", "--region", region],
                stdin=(secret + "\n").encode())
        t.ok(r.rc == 0 and r.out == want + "\n",
             "--derive-password %s %s" % (region, secret), r.out + r.err)
    r = run(["--derive-password"], stdin=b"some+secret+key\n")
    t.ok(r.rc == 64 and "--region" in r.err,
         "--derive-password without --region: 64", r.err)
    r = run(["--derive-password", "--region", "us-east-1"], stdin=b"")
    t.ok(r.rc == 65 and r.out == "", "--derive-password with no secret: 65",
         r.err)
    t.done()


if __name__ == "__main__":
    main()
