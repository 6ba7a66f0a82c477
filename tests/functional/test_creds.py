#!/usr/bin/python3
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
"""TAP test of the AWS credential chain (design.md 12): the built binary
finds the SES API's keys in the configuration, the environment, the shared
credentials file, STS web identity, the container endpoint or the EC2
instance role, against the simulators of credsim.py and the SES API
simulator (sesapi.py), which checks every signature with botocore.

  proof     botocore's own credential providers, pointed at each simulator
            by the SDK's environment variables, get keys from it and sign
            a GetAccount that sesapi.py accepts
  sources   every source alone sends a message, signed with its keys
  fromonly  a configuration of `from` alone (and the test's endpoints):
            the instance role and the region of the identity document;
            the metadata service's request sequence, never a GET without
            the session token
  order     the default order (earlier wins, later sources not asked);
            the credentials key choosing and ordering sources
  fail      each failure's line and exit code
  expiry    ExpiredToken once: new keys, sent; twice: 77
  output    no key, token or session token in -v, stderr or --check
  check     --check names the source, why each before it gave nothing,
            and where the region came from
  smtp      an SMTP send never touches the metadata service; SMTP
            unreachable, api_fallback signs with the chain's keys

Arguments: the names of the parts to run (all by default)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sestest import (PYTHON, ApiSim, CredSim, Sim, Tap,  # noqa: E402
                     closed_port, run, write_conf)

RCPT = "rcpt@example.net"
MSG = b"From: sender@example.com\nSubject: creds\n\nhello\n"
REGION = "eu-west-3"
EXPIRES = "2026-12-05T06:00:00Z"


def keys(n, **extra):
    """Temporary keys number n, as an AWS service hands them out."""
    k = {"id": "ASIATEMPKEY%09d" % n,
         "secret": "tmpSecret%02d/K7MDENG+bPxRfiCYzEXAMPLEKEY" % n,
         "token": ("IQoJb3JpZ2luX2VjEOr//////////wEaCXVzLWVhc3QtMSJHMEUC"
                   "IQD%02dsessiontoken" % n) * 6,
         "expiration": EXPIRES}
    k.update(extra)
    return k


K = [keys(i) for i in range(6)]
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_CONFIG_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
            "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS",
            "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_DEFAULT_REGION",
            "AWS_REGION", "AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED")
PARTS = ("proof", "sources", "fromonly", "order", "fail", "expiry",
         "output", "check", "smtp")

t = Tap(name="creds", deadline=600)
HOME = t.tmp / "home"
HOME.mkdir()
_n = iter(range(1, 1 << 30))


def env(**kw):
    """A clean environment: no AWS_* of the caller's, HOME empty; kw
    added."""
    e = {v: None for v in AWS_VARS}
    e["HOME"] = str(HOME)
    e.update(kw)
    return e


def conf(api, imds=None, **kw):
    """A configuration for the API simulator without keys: the chain
    finds them; imds: the metadata simulator (else a closed port)."""
    base = {"aws_access_key_id": None, "aws_secret_access_key": None,
            "region": REGION, "api_endpoint": "https://127.0.0.1:%d" %
            api.port, "imds_endpoint": imds.url if imds else
            "http://127.0.0.1:%d" % closed_port()}
    base.update(kw)
    return write_conf(t.tmp / ("c%d.conf" % next(_n)), api, **base)


def sent(api, r, desc, key):
    """r exited 0 and one message is stored, signed with key."""
    msgs = api.messages()
    t.eq(r.rc, 0, "%s: exit 0" % desc, r.err[-1500:])
    t.ok(len(msgs) == 1 and msgs[0]["key_id"] == key["id"] and
         msgs[0]["token"] == bool(key.get("token")),
         "%s: one message, signed with %s%s" % (
             desc, key["id"], " and its session token" if key.get("token")
             else ""), str([(m["key_id"], m["token"]) for m in msgs]))


def error_lines(err):
    return [ln for ln in err.splitlines()
            if ln.startswith("ses-sendmail: ") and "from=<" not in ln and
            "attempt " not in ln and "connecting to" not in ln and
            "expired: fetching" not in ln]


# --- proof: botocore against each simulator ----------------------------------

PROOF = r"""
import sys, botocore.session
s = botocore.session.get_session()
if len(sys.argv) > 4:
    # This botocore's web identity provider makes its STS client without
    # AWS_ENDPOINT_URL_STS: give it the simulator's URL the same way.
    p = s.get_component("credential_provider").get_provider(
        "assume-role-with-web-identity")
    make = p._client_creator
    p._client_creator = lambda name, **kw: make(
        name, endpoint_url=sys.argv[4], verify=sys.argv[3],
        region_name=sys.argv[1], **kw)
c = s.get_credentials()
if c is None:
    print("no credentials"); sys.exit(1)
f = c.get_frozen_credentials()
print("method=%s key=%s token=%s" % (c.method, f.access_key, bool(f.token)))
ses = s.create_client("sesv2", region_name=sys.argv[1],
                      endpoint_url=sys.argv[2], verify=sys.argv[3])
a = ses.get_account()
print("account production=%s" % a.get("ProductionAccessEnabled"))
"""


def botocore(api, desc, sts=None, **kw):
    e = dict(os.environ)
    for v in AWS_VARS:
        e.pop(v, None)
    e.update(HOME=str(HOME), AWS_CONFIG_FILE=str(HOME / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(HOME / "none"), **kw)
    try:
        p = subprocess.run([PYTHON, "-c", PROOF, REGION,
                            "https://localhost:%d" % api.port, api.pki.ca] +
                           ([sts] if sts else []),
                           env=e, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        t.ok(False, "%s: botocore finished" % desc)
        return ""
    t.eq(p.returncode, 0, "%s: botocore got keys and GetAccount "
         "succeeded" % desc, p.stdout + p.stderr[-2000:])
    return p.stdout


def part_proof(api, tmp):
    api.scenario(keys=[K[1], K[2], K[3]])
    with CredSim(tmp, "imds", keys=[K[1]], role="ses-sender",
                 region=REGION) as imds:
        out = botocore(api, "botocore IMDSv2",
                       AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url + "/",
                       AWS_EC2_METADATA_V1_DISABLED="true")
        t.ok("method=iam-role key=%s token=True" % K[1]["id"] in out,
             "botocore IMDSv2: the instance role's keys", out)
        reqs = [(q["method"], q["path"]) for q in imds.requests()]
        t.eq(reqs[:3], [("PUT", "/latest/api/token"),
                        ("GET", "/latest/meta-data/iam/security-credentials/"),
                        ("GET", "/latest/meta-data/iam/security-credentials/"
                         "ses-sender")],
             "botocore IMDSv2: token PUT, role list, role's keys", reqs)
        t.ok(all(q.get("token") for q in imds.requests()
                 if q["method"] == "GET"),
             "botocore IMDSv2: every GET carried the session token")
        # A GET without the token (IMDSv1) is refused.
        import urllib.request
        import urllib.error
        try:
            urllib.request.urlopen(imds.url + "/latest/meta-data/iam/"
                                   "security-credentials/", timeout=5)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        t.eq(code, 401, "the IMDS simulator refuses IMDSv1 (401)")
    with CredSim(tmp, "container", keys=[K[2]], path="/v2/credentials/x",
                 authorization="Bearer-tok-42") as cont:
        out = botocore(api, "botocore container",
                       AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url +
                       "/v2/credentials/x",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer-tok-42")
        t.ok("method=container-role key=%s token=True" % K[2]["id"] in out,
             "botocore container: the task role's keys", out)
        t.ok([q.get("authorization") for q in cont.requests()] == [True],
             "botocore container: one GET, with the token",
             str(cont.requests()))
    tokfile = tmp / "proof-web-token"
    tokfile.write_text("eyJhbGciOiJSUzI1NiJ9.proof.sig")
    with CredSim(tmp, "sts", pki=api.pki, keys=[K[3]],
                 role_arn="arn:aws:iam::123456789012:role/ses-sender",
                 web_token="eyJhbGciOiJSUzI1NiJ9.proof.sig") as sts:
        out = botocore(api, "botocore web identity",
                       AWS_WEB_IDENTITY_TOKEN_FILE=str(tokfile),
                       AWS_ROLE_ARN="arn:aws:iam::123456789012:role/"
                       "ses-sender", AWS_ENDPOINT_URL_STS=sts.url,
                       AWS_CA_BUNDLE=str(api.pki.ca), sts=sts.url)
        t.ok("method=assume-role-with-web-identity key=%s token=True" %
             K[3]["id"] in out, "botocore web identity: STS's keys", out)
        t.ok([(q["action"], q["signed"]) for q in sts.requests()] ==
             [("AssumeRoleWithWebIdentity", False)],
             "botocore web identity: one unsigned AssumeRoleWithWebIdentity",
             str(sts.requests()))


# --- sources: each alone -----------------------------------------------------

def part_sources(api, tmp):
    api.scenario(keys=K[1:])
    c = conf(api)
    r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
        AWS_ACCESS_KEY_ID=K[1]["id"], AWS_SECRET_ACCESS_KEY=K[1]["secret"],
        AWS_SESSION_TOKEN=K[1]["token"]))
    sent(api, r, "env", K[1])

    api.scenario(keys=K[1:])
    shared = tmp / "aws-credentials"
    shared.write_text(
        "# shared credentials\n[default]\naws_access_key_id = AKIAWRONG\n"
        "aws_secret_access_key = wrong\n\n[mail]\n"
        "aws_access_key_id=%s\n  aws_secret_access_key =  %s  \n"
        "aws_session_token = %s\n" % (K[2]["id"], K[2]["secret"],
                                      K[2]["token"]))
    r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
        AWS_SHARED_CREDENTIALS_FILE=str(shared), AWS_PROFILE="mail"))
    sent(api, r, "shared, profile from AWS_PROFILE", K[2])

    api.scenario(keys=K[1:])
    (HOME / ".aws").mkdir(exist_ok=True)
    (HOME / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
        "aws_session_token = %s\n" % (K[5]["id"], K[5]["secret"],
                                      K[5]["token"]))
    r = run(["-i", RCPT], stdin=MSG, conf=c, env=env())
    sent(api, r, "shared, ~/.aws/credentials, profile default", K[5])
    (HOME / ".aws" / "credentials").unlink()

    api.scenario(keys=K[1:])
    tokfile = tmp / "web-token"
    tokfile.write_text("eyJhbGciOiJSUzI1NiJ9.irsa.sig\n")
    arn = "arn:aws:iam::123456789012:role/ses-sender"
    with CredSim(tmp, "sts", pki=api.pki, keys=[K[3]], role_arn=arn,
                 web_token="eyJhbGciOiJSUzI1NiJ9.irsa.sig") as sts:
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(tokfile), AWS_ROLE_ARN=arn,
            AWS_ENDPOINT_URL_STS=sts.url))
        sent(api, r, "web-identity (AWS_ENDPOINT_URL_STS)", K[3])
        q = sts.requests()
        t.ok(len(q) == 1 and q[0]["action"] == "AssumeRoleWithWebIdentity"
             and not q[0]["signed"] and
             (q[0]["session"] or "").startswith("ses-sendmail-"),
             "web-identity: one unsigned AssumeRoleWithWebIdentity, "
             "session ses-sendmail-TIME", str(q))
        api.scenario(keys=K[1:])
        sts.set(keys=[K[3]], role_arn=arn,
                web_token="eyJhbGciOiJSUzI1NiJ9.irsa.sig")
        r = run(["-i", RCPT], stdin=MSG,
                conf=conf(api, sts_endpoint=sts.url.replace(
                    "localhost", "127.0.0.1")),
                env=env(AWS_WEB_IDENTITY_TOKEN_FILE=str(tokfile),
                        AWS_ROLE_ARN=arn, AWS_ROLE_SESSION_NAME="mailer"))
        sent(api, r, "web-identity (sts_endpoint)", K[3])
        t.eq([x["session"] for x in sts.requests()], ["mailer"],
             "web-identity: AWS_ROLE_SESSION_NAME is the session name")
        sts.set(keys=[K[3]], role_arn=arn, web_token="another")
        api.scenario(keys=K[1:])
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(tokfile), AWS_ROLE_ARN=arn,
            AWS_ENDPOINT_URL_STS=sts.url))
        t.ok(r.rc == 78 and "web-identity: STS refused: "
             "InvalidIdentityToken" in r.err and not api.messages(),
             "web-identity: a token STS refuses: 78, its code named",
             r.err)

    api.scenario(keys=K[1:])
    with CredSim(tmp, "container", keys=[K[4]], path="/v2/credentials/t1",
                 authorization="ecs-token-1") as cont:
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url +
            "/v2/credentials/t1",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-token-1"))
        sent(api, r, "container (FULL_URI, AUTHORIZATION_TOKEN)", K[4])
        tf = tmp / "eks-pod-identity-token"
        tf.write_text("ecs-token-1\n")
        api.scenario(keys=K[1:])
        r = run(["-i", RCPT], stdin=MSG, conf=conf(
            api, container_credentials_uri=cont.url + "/v2/credentials/t1",
            container_authorization_token_file=str(tf)), env=env())
        sent(api, r, "container (the configuration's URI and token file)",
             K[4])
        api.scenario(keys=K[1:])
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url +
            "/v2/credentials/t1",
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tf)))
        sent(api, r, "container (AUTHORIZATION_TOKEN_FILE)", K[4])
        api.scenario(keys=K[1:])
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url +
            "/v2/credentials/t1",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong"))
        t.ok(r.rc == 78 and "refused the authorization token (401)" in
             r.err, "container: a wrong token: 78, the 401 named", r.err)

    api.scenario(keys=K[1:])
    with CredSim(tmp, "imds", keys=[K[5]], role="web") as imds:
        r = run(["-i", RCPT], stdin=MSG, conf=conf(api, imds), env=env())
        sent(api, r, "imds (region configured)", K[5])
        t.ok("/latest/dynamic/instance-identity/document" not in
             [q["path"] for q in imds.requests()],
             "imds: no identity document when region is configured")

    api.scenario()
    r = run(["-i", RCPT], stdin=MSG,
            conf=write_conf(t.tmp / "static.conf", api, region=REGION,
                            imds_endpoint="http://127.0.0.1:%d" %
                            closed_port()), env=env(
                AWS_ACCESS_KEY_ID=K[1]["id"],
                AWS_SECRET_ACCESS_KEY=K[1]["secret"]))
    t.ok(r.rc == 0 and api.messages() and
         api.messages()[0]["key_id"] == "AKIAIOSFODNN7EXAMPLE",
         "config: the configuration's static keys first", r.err)


# --- fromonly: the instance role and the identity document -------------------

FROMONLY_SEQ = [("PUT", "/latest/api/token"),
                ("GET", "/latest/meta-data/iam/security-credentials/"),
                ("GET", "/latest/meta-data/iam/security-credentials/"
                 "ses-sender"),
                ("GET", "/latest/dynamic/instance-identity/document")]


def part_fromonly(api, tmp):
    api.scenario(keys=K[1:])
    with CredSim(tmp, "imds", keys=[K[1]], role="ses-sender",
                 region=REGION) as imds:
        # `from` alone, with the test's endpoints and CA.
        c = t.tmp / "fromonly.conf"
        c.write_text("from sender@example.com\n"
                     "api_endpoint https://127.0.0.1:%d\n"
                     "imds_endpoint %s\nca_file %s\nlog stderr\n" % (
                         api.port, imds.url, api.pki.ca))
        os.chmod(c, 0o600)
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env())
        sent(api, r, "from only", K[1])
        seq = [(q["method"], q["path"]) for q in imds.requests()]
        t.eq(seq, FROMONLY_SEQ, "from only: IMDS saw PUT token, GET role, "
             "GET its keys, GET the identity document, in that order", seq)
        t.ok(all(q["token"] for q in imds.requests()
                 if q["method"] == "GET"),
             "from only: no GET without the session token (no IMDSv1)")
        puts = [q for q in imds.requests() if q["method"] == "PUT"]
        t.ok(puts and puts[0].get("ttl") == 60,
             "from only: the session token asked for 60 s", str(puts))
        t.diag("IMDS request sequence: %s" % seq)


# --- order -------------------------------------------------------------------

def part_order(api, tmp):
    shared = tmp / "order-credentials"
    shared.write_text("[default]\naws_access_key_id = %s\n"
                      "aws_secret_access_key = %s\naws_session_token = %s\n"
                      % (K[2]["id"], K[2]["secret"], K[2]["token"]))
    envkeys = dict(AWS_ACCESS_KEY_ID=K[1]["id"],
                   AWS_SECRET_ACCESS_KEY=K[1]["secret"],
                   AWS_SESSION_TOKEN=K[1]["token"])
    with CredSim(tmp, "imds", keys=[K[5]], role="r") as imds, \
            CredSim(tmp, "container", keys=[K[4]], path="/c",
                    authorization=None) as cont:
        full = dict(AWS_CONTAINER_CREDENTIALS_FULL_URI=cont.url + "/c")
        cases = [
            ("default: env before shared, container, imds", None,
             dict(envkeys, AWS_SHARED_CREDENTIALS_FILE=str(shared), **full),
             K[1]),
            ("default: shared before container and imds", None,
             dict(AWS_SHARED_CREDENTIALS_FILE=str(shared), **full), K[2]),
            ("default: container before imds", None, dict(full), K[4]),
            ("credentials imds env: imds first", "imds env",
             dict(envkeys), K[5]),
            ("credentials container: env and shared not used", "container",
             dict(envkeys, AWS_SHARED_CREDENTIALS_FILE=str(shared), **full),
             K[4]),
            ("credentials shared imds", "shared imds",
             dict(envkeys, AWS_SHARED_CREDENTIALS_FILE=str(shared)), K[2]),
        ]
        for desc, cred, e, want in cases:
            api.scenario(keys=K[1:])
            imds.set(keys=[K[5]], role="r")
            cont.set(keys=[K[4]], path="/c", authorization=None)
            r = run(["-i", RCPT], stdin=MSG,
                    conf=conf(api, imds, credentials=cred), env=env(**e))
            sent(api, r, desc, want)
            if want["id"] != K[5]["id"] and cred is None:
                t.eq(len(imds.requests()), 0, "%s: imds not asked" % desc)
            if want["id"] in (K[1]["id"], K[2]["id"]) and cred is None:
                t.eq(len(cont.requests()), 0, "%s: the container "
                     "endpoint not asked" % desc)
        r = run(["-i", RCPT], stdin=MSG,
                conf=conf(api, imds, credentials="imds imds"), env=env())
        t.ok(r.rc == 78 and "credentials: bad value" in r.err,
             "credentials with a source twice: 78", r.err)
        r = run(["-i", RCPT], stdin=MSG,
                conf=conf(api, imds, credentials="env ec2"), env=env())
        t.ok(r.rc == 78 and "credentials: bad value" in r.err,
             "credentials with an unknown source: 78", r.err)


# --- fail --------------------------------------------------------------------

def one_error(r, desc, code, *texts):
    lines = error_lines(r.err)
    t.ok(r.rc == code and len(lines) == 1 and
         all(x in lines[0] for x in texts),
         "%s: exit %d, one error line naming %s" % (desc, code,
                                                     ", ".join(texts)),
         "rc=%r\n%s" % (r.rc, r.err))


def part_fail(api, tmp):
    api.scenario(keys=K[1:])
    r = run(["-i", RCPT], stdin=MSG, conf=conf(api), env=env())
    one_error(r, "nothing found", 78, "config: ", "env: ", "shared: ",
              "web-identity: ", "container: ",
              "imds: the metadata service did not answer in 1 s")
    t.eq(len(api.requests()), 0, "nothing found: no request to SES")

    r = run(["-i", RCPT], stdin=MSG,
            conf=conf(api, credentials="imds", retry_delays="0.2 0.2"),
            env=env())
    one_error(r, "credentials imds, nothing listening", 75,
              "did not answer in 1 s")
    t.eq(len(re.findall(r"attempt \d via", r.err)), 2,
         "credentials imds down: retried "
         "twice (retry_delays 0.2 0.2)", r.err)

    with CredSim(tmp, "imds", keys=[K[5]], role="r") as imds:
        for fault, state, code, text in (
                ("no role", dict(role=None), 78,
                 "no IAM role attached to this instance"),
                ("403 disabled", dict(fault="disabled"), 78,
                 "turned off for this instance (403"),
                ("401 to the token PUT", dict(fault="put401"), 78,
                 "refused the session token (401"),
                ("503", dict(fault="5xx"), 75, "answered 503")):
            imds.set(**dict(dict(keys=[K[5]], role="r"), **state))
            r = run(["-i", RCPT], stdin=MSG,
                    conf=conf(api, imds, credentials="imds",
                              retry_delays="0.1"), env=env())
            one_error(r, "imds %s" % fault, code, text)
        imds.set(keys=[K[5]], role="r", fault="slow", slow_ms=1500)
        r = run(["-i", RCPT], stdin=MSG, conf=conf(api, imds), env=env())
        one_error(r, "imds slower than 1 s, default chain", 78,
                  "did not answer in 1 s")
        t.ok(r.elapsed < 6, "imds slow: gave up within its bound "
             "(%.1f s)" % r.elapsed)


# --- expiry ------------------------------------------------------------------

def part_expiry(api, tmp):
    with CredSim(tmp, "imds", keys=[K[1], K[2]], role="r") as imds:
        api.scenario(keys=[dict(K[1], expired=True), K[2]])
        r = run(["-i", RCPT], stdin=MSG, conf=conf(api, imds), env=env())
        sent(api, r, "ExpiredToken once: new keys fetched, sent", K[2])
        creds = [q for q in imds.requests()
                 if q["path"].endswith("/security-credentials/r")]
        t.eq(len(creds), 2, "ExpiredToken once: the role's keys fetched "
             "twice", str(imds.requests()))
        t.ok("expired: fetching new ones" in r.err,
             "ExpiredToken once: a warning says so", r.err)
        imds.set(keys=[K[1], K[3]], role="r")
        api.scenario(keys=[dict(K[1], expired=True),
                           dict(K[3], expired=True)])
        r = run(["-i", RCPT], stdin=MSG, conf=conf(api, imds), env=env())
        one_error(r, "ExpiredToken twice", 77, "ExpiredTokenException")
        t.eq(len(api.messages()), 0, "ExpiredToken twice: nothing stored")
    api.scenario(keys=[dict(K[1], expired=True)])
    r = run(["-i", RCPT], stdin=MSG, conf=conf(api), env=env(
        AWS_ACCESS_KEY_ID=K[1]["id"], AWS_SECRET_ACCESS_KEY=K[1]["secret"],
        AWS_SESSION_TOKEN=K[1]["token"]))
    one_error(r, "ExpiredToken from env keys (nothing renews them)", 77,
              "ExpiredTokenException")
    t.eq(len(api.requests()), 1, "env keys expired: one request, no renewal")


# --- output ------------------------------------------------------------------

def secrets_in(text, *ks):
    """The pieces of the keys' secrets and tokens found in text."""
    found = []
    for k in ks:
        for s in (k["secret"], k["token"]):
            for i in range(0, len(s) - 12, 6):
                if s[i:i + 12] in text:
                    found.append(s[i:i + 12])
    return found


def part_output(api, tmp):
    with CredSim(tmp, "imds", keys=[K[1], K[2]], role="r",
                 region=REGION) as imds:
        api.scenario(keys=[dict(K[1], expired=True), K[2]])
        c = conf(api, imds, region=None, log="stderr")
        r = run(["-v", "-i", RCPT], stdin=MSG, conf=c, env=env())
        t.eq(r.rc, 0, "-v: sent", r.err[-1500:])
        t.eq(secrets_in(r.out + r.err, K[1], K[2]), [],
             "-v: no secret or session token of the keys in the output")
        t.ok("X-aws-ec2-metadata-token: ***" in r.err or
             "X-aws-ec2-metadata-token ***" in r.err,
             "-v: the metadata session token masked", r.err[:3000])
        t.ok("X-Amz-Security-Token ***" in r.err or
             "X-Amz-Security-Token: ***" in r.err,
             "-v: X-Amz-Security-Token masked")
        api.scenario(keys=K[1:])
        r = run(["--check"], conf=c, env=env())
        t.eq(secrets_in(r.out + r.err, K[1], K[2]), [],
             "--check: no secret or session token in the output")


# --- check -------------------------------------------------------------------

def part_check(api, tmp):
    with CredSim(tmp, "imds", keys=[K[1]], role="ses-sender",
                 region=REGION) as imds:
        # The sender's domain verified, so that --check's only subject
        # here is where the keys came from (test_check reads identities).
        api.scenario(keys=K[1:],
                     identities={"example.com": {"status": "SUCCESS"}})
        r = run(["--check"], conf=conf(api, imds, region=None), env=env())
        t.eq(r.rc, 0, "--check with the instance role: exit 0", r.out)
        for line in ("config: nothing: no aws_secret_access_key",
                     "env: nothing: AWS_ACCESS_KEY_ID not set",
                     "web-identity: nothing: AWS_WEB_IDENTITY_TOKEN_FILE "
                     "not set",
                     "credentials from the instance role ses-sender "
                     "(IMDSv2), temporary, expire 2026-12-05 06:00 UTC",
                     "region eu-west-3 from the instance identity document"):
            t.ok(line in r.out, "--check: says '%s'" % line, r.out)
    api.scenario(keys=K[1:])
    r = run(["--check"], conf=conf(api), env=env())
    t.ok(r.rc == 78 and "imds: nothing: the metadata service did not "
         "answer in 1 s" in r.out and "no source gave AWS credentials" in
         r.out, "--check without keys: 78, every source's reason", r.out)


# --- smtp --------------------------------------------------------------------

def part_smtp(api, tmp):
    with Sim(tmp) as sim, CredSim(tmp, "imds", keys=[K[1]], role="r") as imds:
        c = write_conf(t.tmp / "smtp.conf", sim, imds_endpoint=imds.url,
                       credentials="imds", api_endpoint="https://127.0.0.1:"
                       "%d" % api.port)
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env())
        t.ok(r.rc == 0 and len(sim.messages()) == 1,
             "SMTP send with credentials imds: sent by SMTP", r.err)
        t.eq(imds.requests(), [], "SMTP send: the metadata service was "
             "never asked")
        # SMTP unreachable: api_fallback signs with the chain's keys.
        api.scenario(keys=K[1:])
        c = write_conf(t.tmp / "fallback.conf", sim, imds_endpoint=imds.url,
                       credentials="imds", port=closed_port(), tls="wrapper",
                       region=REGION, api_endpoint="https://127.0.0.1:"
                       "%d" % api.port)
        r = run(["-i", RCPT], stdin=MSG, conf=c, env=env())
        sent(api, r, "api_fallback with credentials imds", K[1])
        t.ok("api_fallback" in r.err and len(imds.requests()) == 3,
             "api_fallback: said so, and the role's keys fetched then",
             r.err)


def main():
    parts = sys.argv[1:] or PARTS
    api = ApiSim(t.tmp, region=REGION)
    start = time.monotonic()
    for name in parts:
        with t.case(name):
            globals()["part_" + name](api, t.tmp)
        t.diag("%s: %.1f s" % (name, time.monotonic() - start))
    api.stop()
    t.done()


main()
