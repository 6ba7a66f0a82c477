/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * --check: AWS's troubleshooting page for the SES SMTP interface, done by
 * the program itself (ses.md 10): the configuration and the credential
 * mistakes people make, DNS, the ports (EC2's port 25), TLS, SMTP, AUTH,
 * large packets (MTU), and on request a real test message.  It walks the
 * road a send takes, step by step, and stops before the final dot.  When
 * a send may take the SES API (transport api, or api_fallback with the
 * IAM keys), the API's road too (design.md 12): its DNS, its port (or the
 * proxy's), TLS (through the proxy's tunnel), and the keys, proved by one
 * signed read-only call, GetAccount, whose answer tells the account's
 * state (sandbox, quota).  Then the causes of SES's most common refusals,
 * read before the first send meets them (design.md 12, ses.md 9.4): is
 * the sender, its domain or a parent verified for sending (and its DKIM),
 * does configuration_set exist, may the --send-test recipient receive in
 * the sandbox.  A read IAM refuses is a warning with the policy line.
 * One line per step (result, time, what was seen) and a remedy under each
 * failure; or the same as JSON, with the account's facts beside the steps.
 * And --derive-password.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <netdb.h>
#include <stdint.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "extern.h"

#define CHECK_LINES	20	/* the API keys step: the chain's lines too */
#define CHECK_LINE	320
#define CHECK_STEPS	16
#define CHECK_ANSWER	131072	/* a read's answer, kept (an identity's
				 * policies may be long) */
#define CHECK_ACCOUNT	"/v2/email/account"	/* GetAccount */
#define CHECK_IDENTITY	"/v2/email/identities/"	/* GetEmailIdentity */
#define CHECK_CONFSET	"/v2/email/configuration-sets/"
#define CHECK_SIM_DOMAIN "@simulator.amazonses.com"
#define CHECK_PROBE	(1024 * 1024)	/* the large-packet write */
#define CHECK_SIM_RCPT	"success@simulator.amazonses.com"

enum check_res {
	CHECK_OK = 0,
	CHECK_WARN,
	CHECK_FAIL,
	CHECK_SKIP
};

struct check_step {
	const char	*name;
	enum check_res	 res;
	long long	 ms;
	char		 lines[CHECK_LINES][CHECK_LINE];
	int		 remedy[CHECK_LINES];	/* line is a remedy */
	int		 nlines;
};

struct check {
	const struct conf	*c;
	const struct check_opts	*o;
	struct check_step	 steps[CHECK_STEPS];
	int			 nsteps;
	long long		 t0;
	int			 ex;		/* code of the first failure */
	int			 blocked;	/* later steps cannot run */
	int			 api;		/* a send may use the API */
	/* What the reads found, for --json (design.md 12). */
	int			 has_account;	/* GetAccount answered */
	struct api_account	 acct;
	char			 id_addr[SES_MAX_ADDR + 1];	/* or "" */
	const char		*id_domain;	/* in id_addr, or NULL */
	int			 id_verified;	/* 1, 0, -1: unknown */
	const char		*id_by;	/* "address", "domain", "none" */
	char			 id_dkim[24];	/* DkimAttributes.Status */
	int			 confset;	/* exists: 1, 0, -1 unknown */
	int			 creds;		/* the chain: 0 keys, -1 none */
	struct fail		 credf;		/* ... and why */
};

/* What one of --check's reads of the account gave. */
enum check_read {
	CHECK_READ_OK = 0,
	CHECK_READ_NONE,	/* NotFoundException: no such thing */
	CHECK_READ_DENIED,	/* AccessDeniedException: IAM says no */
	CHECK_READ_ERROR	/* anything else: f says what */
};

/* The policy line the reads need (design.md 12), quoted as IAM takes it. */
static const char CHECK_POLICY[] = "\"Action\": [\"ses:GetAccount\", "
    "\"ses:GetEmailIdentity\", \"ses:GetConfigurationSet\"]";

/* ses.md 1.3: Regions known to have an SMTP endpoint (not a limit). */
static const char *const check_regions[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
	"sa-east-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-south-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
	"ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "il-central-1",
	"us-gov-west-1", "us-gov-east-1",
};

static const char *const check_res_names[] = {
	"ok", "warn", "fail", "skip"
};

static struct check_step *
check_begin(struct check *ck, const char *name)
{
	struct check_step *st = &ck->steps[ck->nsteps++];

	memset(st, 0, sizeof(*st));
	st->name = name;
	ck->t0 = net_now_ms();
	return st;
}

static void __attribute__((format(printf, 3, 4)))
check_line(struct check_step *st, int remedy, const char *fmt, ...)
{
	char buf[CHECK_LINE];
	va_list ap;

	if (st->nlines == CHECK_LINES)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Server text and names may hold anything: printable only. */
	log_sanitize(st->lines[st->nlines], CHECK_LINE, buf, strlen(buf));
	st->remedy[st->nlines++] = remedy;
}

static void
check_print(const struct check *ck, const struct check_step *st)
{
	static const char *const utf8[] = { "\u2713", "!", "\u2717", "-" };
	static const char *const ascii[] = { "ok  ", "warn", "FAIL", "skip" };
	static const char *const colour[] = { "32", "33", "31", "90" };
	const struct check_opts *o = ck->o;
	int i;

	if (o->json)
		return;
	if (o->colour)
		printf("\033[%sm", colour[st->res]);
	printf("%s", o->utf8 ? utf8[st->res] : ascii[st->res]);
	if (o->colour)
		printf("\033[0m");
	printf(" %-16s %6lld ms  %s\n", st->name, st->ms,
	    st->nlines > 0 ? st->lines[0] : "");
	for (i = 1; i < st->nlines; i++)
		printf("%*s%s %s\n", o->utf8 ? 4 : 7, "", st->remedy[i] ?
		    (o->utf8 ? "\u2192" : "->") : " ", st->lines[i]);
	(void)fflush(stdout);
}

/* A step's end; f says why when it failed (its exit code is the run's). */
static void
check_end(struct check *ck, struct check_step *st, enum check_res res,
    const struct fail *f)
{
	st->res = res;
	st->ms = net_now_ms() - ck->t0;
	if (res == CHECK_FAIL && ck->ex == 0 && f != NULL)
		ck->ex = fail_exit(f);
	check_print(ck, st);
}

/* A failed step: the reason, and a remedy (the table's by default). */
static void
check_fail(struct check *ck, struct check_step *st, const struct fail *f,
    const char *remedy)
{
	check_line(st, 0, "%s", f->text);
	if (remedy != NULL || (remedy = fail_advice(f)) != NULL)
		check_line(st, 1, "%s", remedy);
	check_end(ck, st, CHECK_FAIL, f);
}

static void	check_skip(struct check *, const char *);

static int
check_is_b64(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/' &&
		    *s != '=')
			return 0;
	return 1;
}

/* The credential mistakes SES users make (ses.md 4). */
static void
check_credentials(struct check *ck, struct check_step *st)
{
	const struct conf *c = ck->c;
	const char *u = c->username, *pw = c->password;
	size_t i;

	if (!ck->o->derived && pw != NULL && strlen(pw) == 40 &&
	    check_is_b64(pw)) {
		check_line(st, 0, "password: 40 characters, the shape of an "
		    "IAM secret access key");
		check_line(st, 1, "this is the AWS secret key, not an SMTP "
		    "password: set aws_secret_access_key instead, or derive "
		    "one with --derive-password --region %s",
		    c->region ? c->region : "REGION");
		st->res = CHECK_FAIL;
	} else if (!ck->o->derived && pw != NULL && strlen(pw) == 44 &&
	    pw[0] == 'A' && check_is_b64(pw)) {
		check_line(st, 0, "password: an old SigV2 SMTP password "
		    "(made before 2019)");
		check_line(st, 1, "SES throttles SigV2 passwords since March "
		    "2021: create new SMTP credentials, or set "
		    "aws_secret_access_key to derive a SigV4 one");
		if (st->res == CHECK_OK)
			st->res = CHECK_WARN;
	}
	if (strncmp(u, "ASIA", 4) == 0) {
		check_line(st, 0, "username %.4s...: temporary credentials",
		    u);
		check_line(st, 1, "the SES SMTP interface does not accept "
		    "temporary (STS) credentials: use an IAM user's access "
		    "key");
		if (st->res == CHECK_OK)
			st->res = CHECK_WARN;
	} else if (strlen(u) != 20 || strncmp(u, "AKIA", 4) != 0) {
		check_line(st, 0, "username: not an access key id (AKIA and 16 "
		    "more)");
		check_line(st, 1, "the SES SMTP user name is the IAM access "
		    "key id shown with the SMTP credentials");
		if (st->res == CHECK_OK)
			st->res = CHECK_WARN;
	}
	if (c->region != NULL) {
		for (i = 0; i < sizeof(check_regions) /
		    sizeof(check_regions[0]); i++)
			if (strcmp(c->region, check_regions[i]) == 0)
				return;
		check_line(st, 0, "region %s: no SES SMTP endpoint is known "
		    "there", c->region);
		check_line(st, 1, "check the region name; SMTP endpoints are "
		    "email-smtp.REGION.amazonaws.com in the regions SES "
		    "lists");
		if (st->res == CHECK_OK)
			st->res = CHECK_WARN;
	}
}

/* The API's key id: a temporary one needs its session token. */
static void
check_api_credentials(struct check *ck, struct check_step *st)
{
	const struct conf *c = ck->c;
	const char *k = c->aws_key_id;

	/* Keys from the chain are judged by the API keys step. */
	if (k == NULL || c->cred_source != CONF_SOURCE_CONFIG)
		return;
	if (strncmp(k, "ASIA", 4) == 0 && c->aws_token == NULL) {
		check_line(st, 0, "aws_access_key_id %.4s...: temporary "
		    "credentials without aws_session_token", k);
		check_line(st, 1, "temporary (STS) keys sign only with their "
		    "session token: set aws_session_token, or use an IAM "
		    "user's access key (AKIA...)");
	} else if (strlen(k) != 20 || (strncmp(k, "AKIA", 4) != 0 &&
	    strncmp(k, "ASIA", 4) != 0)) {
		check_line(st, 0, "aws_access_key_id: not an access key id "
		    "(AKIA or ASIA and 16 more)");
		check_line(st, 1, "set aws_access_key_id (or username) to the "
		    "IAM access key id that goes with aws_secret_access_key");
	} else
		return;
	if (st->res == CHECK_OK)
		st->res = CHECK_WARN;
}

/* max_send_rate and its file (design.md 7, "Sending rate"). */
static void
check_rate(struct check_step *st, const struct conf *c)
{
	const char *why;

	if (c->max_send_rate <= 0) {
		check_line(st, 0, "max_send_rate: off (SES's throttling is "
		    "retried until retry_deadline, %d s)", c->retry_deadline);
		return;
	}
	if ((why = rate_problem(c)) == NULL) {
		check_line(st, 0, "max_send_rate %g recipients a second, "
		    "rate_file %s: usable", c->max_send_rate, rate_path(c));
		return;
	}
	check_line(st, 1, "max_send_rate %g, but rate_file %s cannot be "
	    "used (%s): mail goes unpaced; make install creates it "
	    "root:%s 0660 in a 0750 folder", c->max_send_rate, rate_path(c),
	    why, INSTALL_GROUP);
	if (st->res == CHECK_OK)
		st->res = CHECK_WARN;
}

/* max_send_rate against the account's rate, when GetAccount gave it. */
static int
check_rate_account(struct check_step *st, const struct conf *c,
    const struct api_account *ac)
{
	double r = c->max_send_rate;

	if (!ac->has_quota || ac->rate <= 0 || r == ac->rate)
		return 0;
	if (r <= 0)
		check_line(st, 0, "max_send_rate is off: bursts above %g a "
		    "second are throttled and retried; set max_send_rate %g "
		    "to pace them", ac->rate, ac->rate);
	else if (r > ac->rate)
		check_line(st, 1, "max_send_rate %g is above the account's %g "
		    "a second: SES will throttle bursts; set max_send_rate %g "
		    "(or this host's share)", r, ac->rate, ac->rate);
	else
		check_line(st, 0, "max_send_rate %g is below the account's %g "
		    "a second: bursts go slower than SES allows (right when "
		    "hosts share the account)", r, ac->rate);
	return r > ac->rate;
}

static void
check_config(struct check *ck)
{
	static const struct fail config_fail = { .kind = FAIL_CONFIG };
	struct check_step *st = check_begin(ck, "configuration");
	const struct conf *c = ck->c;

	st->res = CHECK_OK;
	if (c->transport == CONF_TRANSPORT_API) {
		check_line(st, 0, "%s (%s): transport api, endpoint %s, key "
		    "%.4s..., region %s", c->path, ck->o->perms,
		    c->api_endpoint ? c->api_endpoint : "unknown",
		    c->aws_key_id ? c->aws_key_id : "none",
		    c->region ? c->region : "unknown");
		check_api_credentials(ck, st);
	} else {
		check_line(st, 0, "%s (%s): host %s port %d tls %s, user "
		    "%.4s...", c->path, ck->o->perms, c->host, c->port,
		    c->tls == CONF_TLS_WRAPPER ? "wrapper" : "starttls",
		    c->username);
		check_credentials(ck, st);
		if (ck->api)
			check_line(st, 0, "api_fallback to the SES API: "
			    "endpoint %s, key %.4s...", c->api_endpoint,
			    c->aws_key_id ? c->aws_key_id : "none");
	}
	if (ck->api && c->proxy_host != NULL)
		check_line(st, 0, "the API through the proxy %s port %d "
		    "(CONNECT)", c->proxy_host, c->proxy_port);
	check_rate(st, c);
	check_end(ck, st, st->res, &config_fail);
}

/*
 * Resolve host for step st: every address, on one line; nxremedy says
 * which key to check when the name does not exist.  0, or -1 when the
 * step failed (and ended).
 */
static int
check_resolve(struct check *ck, struct check_step *st, const char *host,
    const char *nxremedy)
{
	struct addrinfo hints, *res, *ai;
	struct fail f;
	char list[CHECK_LINE] = "", addr[64];
	int rv, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		(void)net_resolve_fail(rv, host, &f);
		check_fail(ck, st, &f, f.kind == FAIL_NOHOST ? nxremedy : "the "
		    "resolver did not answer: check /etc/resolv.conf and the "
		    "network");
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next, n++) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		if (list[0] != '\0')
			(void)strlcat(list, ", ", sizeof(list));
		(void)strlcat(list, addr, sizeof(list));
	}
	freeaddrinfo(res);
	check_line(st, 0, "%s: %d address%s: %s", host, n, n == 1 ? "" : "es",
	    list);
	return 0;
}

static void
check_dns(struct check *ck)
{
	struct check_step *st = check_begin(ck, "DNS");

	if (check_resolve(ck, st, ck->c->host, "no such name: check region "
	    "(or host) in the configuration") == -1) {
		ck->blocked = 1;
		return;
	}
	check_line(st, 0, "these addresses change: allow-list the name in "
	    "firewalls, never the addresses");
	check_end(ck, st, CHECK_OK, NULL);
}

/* The tls setting a port needs: SES's own ports, else ask the server. */
static const char *
check_tls_for(const struct check *ck, int port)
{
	if (port == 465 || port == 2465)
		return "wrapper";
	if (port == 25 || port == 587 || port == 2587)
		return "starttls";
	return net_speaks_first(ck->c->host, port, 2) ? "starttls" :
	    "wrapper";
}

static const char *const probe_states[] = { "open", "refused", "silent",
    "error" };

/*
 * The state of a port over some addresses (family 0: all): open when any
 * answers, as a send moves on to the next address; else silent before
 * refused before error.  -1 when no address is of the family.
 */
static int
check_port_state(const struct net_probe *pr, int n, int family)
{
	static const int rank[] = { 0, 2, 1, 3 };
	int i, best = -1;

	for (i = 0; i < n; i++)
		if ((family == 0 || pr[i].family == family) &&
		    (best == -1 || rank[pr[i].state] < rank[best]))
			best = pr[i].state;
	return best;
}

/* "465 open (2 ms)", with the addresses that answered when not all did. */
static void
check_port_item(char *buf, size_t len, int port, const struct net_probe *pr,
    int n, int state)
{
	char via[CHECK_LINE] = "";
	long long ms = -1;
	int i, mixed = 0;

	for (i = 0; i < n; i++) {
		mixed |= pr[i].state != state;
		if (pr[i].state == state && (ms == -1 || (state ==
		    NET_PROBE_OPEN ? pr[i].ms < ms : pr[i].ms > ms)))
			ms = pr[i].ms;
		if (pr[i].state == NET_PROBE_OPEN) {
			(void)strlcat(via, via[0] ? ", " : " via ",
			    sizeof(via));
			(void)strlcat(via, pr[i].addr, sizeof(via));
		}
	}
	(void)snprintf(buf, len, "%d %s%s (%lld ms)", port,
	    probe_states[state], mixed && state == NET_PROBE_OPEN ? via : "",
	    ms < 0 ? 0 : ms);
}

/*
 * A family that fails where the other answers: a warning, never a
 * firewall diagnosis (hosts with broken IPv6 are common, and a send goes
 * on to the next address).  bad[f][state] lists the ports.
 */
static int
check_family_notes(struct check_step *st,
    char bad[2][4][CHECK_LINE])
{
	static const char *const fam[] = { "IPv4", "IPv6" };
	int f, s, warned = 0;

	for (f = 0; f < 2; f++)
		for (s = NET_PROBE_REFUSED; s <= NET_PROBE_ERROR; s++) {
			if (bad[f][s][0] == '\0')
				continue;
			warned = 1;
			check_line(st, 0, "%s %s, %s works (port %s)", fam[f],
			    probe_states[s], fam[!f], bad[f][s]);
			check_line(st, 1, "a send tries the next address, so "
			    "mail flows%s; fix %s routing or the firewall on "
			    "this host", s == NET_PROBE_SILENT ?
			    ", but each attempt first waits out the timeout" :
			    "", fam[f]);
		}
	return warned;
}

/* Note the families of a port that fail while the port is open. */
static void
check_family_mark(char bad[2][4][CHECK_LINE], int port,
    const struct net_probe *pr, int n)
{
	static const int family[] = { AF_INET, AF_INET6 };
	char num[16];
	int f, s;

	for (f = 0; f < 2; f++) {
		s = check_port_state(pr, n, family[f]);
		if (s == -1 || s == NET_PROBE_OPEN)
			continue;
		(void)snprintf(num, sizeof(num), "%s%d", bad[f][s][0] ? ", " :
		    "", port);
		(void)strlcat(bad[f][s], num, CHECK_LINE);
	}
}

static void
check_ports(struct check *ck)
{
	static const struct fail net_fail = { .kind = FAIL_NET };
	struct check_step *st = check_begin(ck, "ports");
	const struct check_opts *o = ck->o;
	struct net_probe pr[NET_PROBE_MAX];
	char addrs[CHECK_LINE] = "", list[CHECK_LINE] = "", item[CHECK_LINE];
	char bad[2][4][CHECK_LINE];
	int r[CHECK_MAX_PORTS], i, j, n, open_other = -1, mine = -1;
	int any_open = 0, warned;
	int tmo = ck->c->timeout < 5 ? ck->c->timeout : 5;

	memset(bad, 0, sizeof(bad));
	for (i = 0; i < o->nports; i++) {
		n = net_probe(ck->c->host, o->ports[i], tmo, pr, NET_PROBE_MAX);
		r[i] = n > 0 ? check_port_state(pr, n, 0) : NET_PROBE_ERROR;
		if (n > 0)
			check_port_item(item, sizeof(item), o->ports[i], pr, n,
			    r[i]);
		else
			(void)snprintf(item, sizeof(item), "%d error",
			    o->ports[i]);
		(void)strlcat(list, i ? ", " : "", sizeof(list));
		(void)strlcat(list, item, sizeof(list));
		for (j = 0; i == 0 && j < n; j++) {
			(void)strlcat(addrs, j ? ", " : "", sizeof(addrs));
			(void)strlcat(addrs, pr[j].addr, sizeof(addrs));
		}
		if (r[i] == NET_PROBE_OPEN)
			check_family_mark(bad, o->ports[i], pr, n);
		any_open |= r[i] == NET_PROBE_OPEN && o->ports[i] != 25;
		if (o->ports[i] == ck->c->port)
			mine = i;
		else if (r[i] == NET_PROBE_OPEN && open_other == -1)
			open_other = i;
	}
	check_line(st, 0, "%s [%s]: %s", ck->c->host, addrs, list);
	warned = check_family_notes(st, bad);
	for (i = 0; i < o->nports; i++)
		if (o->ports[i] == 25 && r[i] == NET_PROBE_SILENT &&
		    any_open)
			check_line(st, 1, "port 25 is silent while others "
			    "answer: EC2 and Lambda throttle port 25; use 465 "
			    "or 587 (or ask AWS to lift the limit)");
	if (mine == -1 || r[mine] == NET_PROBE_OPEN) {
		check_end(ck, st, warned ? CHECK_WARN : CHECK_OK, NULL);
		return;
	}
	check_line(st, 0, "the configured port %d is %s", ck->c->port,
	    probe_states[r[mine]]);
	if (open_other != -1) {
		check_line(st, 1, "port %d answers: in %s set",
		    o->ports[open_other], ck->c->path);
		check_line(st, 1, "    port %d", o->ports[open_other]);
		check_line(st, 1, "    tls %s",
		    check_tls_for(ck, o->ports[open_other]));
	} else
		check_line(st, 1, "no SES port answers: a firewall blocks "
		    "outgoing connections; open 465 or 587 to the name above");
	check_end(ck, st, CHECK_FAIL, &net_fail);
	ck->blocked = 1;
}

/* The session t (up: the handshake ended well) and the certificate. */
static void
check_tls_info(struct check_step *st, struct tls *t, int up,
    const struct conf *c)
{
	char subject[256], issuer[256], when[32], desc[128];
	time_t exp;
	struct tm tm;

	if (t == NULL)
		return;
	if (up)
		check_line(st, 0, "%s, verified against %s",
		    tls_describe(t, desc, sizeof(desc)), c->ca_file ?
		    c->ca_file : "the system trust store");
	if (tls_peer(t, subject, sizeof(subject), issuer, sizeof(issuer),
	    &exp) == -1)
		return;
	when[0] = '\0';
	if (gmtime_r(&exp, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	check_line(st, 0, "certificate: %s", subject);
	check_line(st, 0, "issuer: %s; expires %s%s", issuer, when,
	    exp < time(NULL) ? " (EXPIRED)" : "");
}

/* TLS, SMTP, AUTH: the session a send would open, one stage at a time. */
static struct smtp *
check_session(struct check *ck)
{
	struct check_step *st;
	struct smtp *s;
	struct fail f;

	memset(&f, 0, sizeof(f));
	st = check_begin(ck, "TLS");
	if ((s = smtp_begin(ck->c, ck->o->verbose)) == NULL) {
		fail_set(&f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		check_fail(ck, st, &f, NULL);
		return NULL;
	}
	while (!smtp_tls_up(s) && smtp_step(s, &f) == 0)
		;
	check_tls_info(st, smtp_tls(s), smtp_tls_up(s), ck->c);
	if (!smtp_tls_up(s)) {
		check_fail(ck, st, &f, NULL);
		smtp_close(s);
		check_skip(ck, "SMTP");
		check_skip(ck, "AUTH");
		return NULL;
	}
	check_end(ck, st, CHECK_OK, NULL);

	st = check_begin(ck, "SMTP");
	while (smtp_pending(s) != SMTP_STAGE_AUTH && smtp_step(s, &f) == 0)
		;
	if (smtp_pending(s) != SMTP_STAGE_AUTH) {
		check_fail(ck, st, &f, NULL);
		smtp_close(s);
		check_skip(ck, "AUTH");
		return NULL;
	}
	check_line(st, 0, "%s", smtp_info(s, SMTP_INFO_GREETING));
	check_line(st, 0, "EHLO: %s", smtp_info(s, SMTP_INFO_EHLO));
	check_end(ck, st, CHECK_OK, NULL);

	st = check_begin(ck, "AUTH");
	if (smtp_step(s, &f) == -1) {
		check_fail(ck, st, &f, NULL);
		smtp_close(s);
		return NULL;
	}
	check_line(st, 0, "%s (user %.4s...)", smtp_info(s, SMTP_INFO_REPLY),
	    ck->c->username);
	check_end(ck, st, CHECK_OK, NULL);
	return s;
}

static void
check_packets(struct check *ck, struct smtp *s)
{
	struct check_step *st = check_begin(ck, "large packets");
	char from[SES_MAX_ADDR + 1];
	struct fail f;

	memset(&f, 0, sizeof(f));
	if (ck->c->from != NULL)
		(void)strlcpy(from, ck->c->from, sizeof(from));
	else
		(void)snprintf(from, sizeof(from), "postmaster@%s",
		    addr_fqdn());
	if (smtp_probe_data(s, from, CHECK_SIM_RCPT, CHECK_PROBE, &f) ==
	    -1) {
		check_fail(ck, st, &f, f.kind == FAIL_NET &&
		    f.stage == SMTP_STAGE_BODY ? "set the MTU of the "
		    "interface that reaches SES to 1500 (ip link set dev "
		    "IFACE mtu 1500), or fix the path that drops large "
		    "packets" : NULL);
		return;
	}
	check_line(st, 0, "1 MiB of DATA sent and acknowledged in %lld ms; "
	    "abandoned before the final dot: nothing was sent",
	    net_now_ms() - ck->t0);
	check_end(ck, st, CHECK_OK, NULL);
}

/* --send-test: a real message through the whole pipeline. */
static void
check_send(struct check *ck)
{
	struct check_step *st = check_begin(ck, "test message");
	char *rcpts[1], body[1024];	/* an address of 254 + a host name */
	struct plan_opts po;
	struct result r;
	struct plan p;
	struct msg m;
	int n;

	memset(&r, 0, sizeof(r));
	memset(&po, 0, sizeof(po));
	rcpts[0] = (char *)(uintptr_t)ck->o->send_to;
	po.rcpts = rcpts;
	po.nrcpts = 1;
	po.caller = "ses-sendmail";
	po.fullname = "ses-sendmail --check";
	n = snprintf(body, sizeof(body), "Subject: ses-sendmail --check test "
	    "message\nTo: %s\n\nThis message was sent by ses-sendmail --check "
	    "--send-test from %s.\n", ck->o->send_to, addr_fqdn());
	/* A longer --send-to would be cut: never send half an address. */
	if (n < 0 || (size_t)n >= sizeof(body))
		fail_set(&r.fail, FAIL_USAGE, SMTP_STAGE_NONE, "--send-test: "
		    "the address is too long for the test message");
	if (r.fail.kind != FAIL_NONE || msg_spool_buf(body, (size_t)n,
	    ck->c->max_message_size, &m, &r.fail) == -1) {
		check_fail(ck, st, &r.fail, NULL);
		return;
	}
	if (plan_build(ck->c, &po, &m, &p, &r.fail) == 0) {
		(void)retry_submit(ck->c, &p, ck->o->verbose, NULL, &r);
		log_summary(&p, &r, ck->c);
	}
	plan_free(&p);
	msg_free(&m);
	if (r.fail.kind != FAIL_NONE) {
		check_fail(ck, st, &r.fail, NULL);
		return;
	}
	check_line(st, 0, "SES accepted it for %s: message id %s",
	    ck->o->send_to, r.id);
	check_end(ck, st, CHECK_OK, NULL);
}

/*
 * The SES API's road (design.md 12).  With a proxy, the proxy's name is
 * the one this host resolves and connects to; the API's name is resolved
 * by the proxy, at the other end of the tunnel.
 */
static const char ADV_ENDPOINT[] =
    "check api_endpoint: it must be the SES API endpoint of the region "
    "(https://email.REGION.amazonaws.com)";

static int
check_api_dns(struct check *ck)
{
	const struct conf *c = ck->c;
	struct check_step *st = check_begin(ck, "API DNS");

	if (c->proxy_host != NULL) {
		if (check_resolve(ck, st, c->proxy_host, "no such name: check "
		    "proxy in the configuration") == -1)
			return -1;
		check_line(st, 0, "%s: resolved by the proxy", c->api_host);
	} else {
		if (check_resolve(ck, st, c->api_host, "no such name: check "
		    "region (or api_endpoint) in the configuration") == -1)
			return -1;
		check_line(st, 0, "these addresses change: allow-list the "
		    "name in firewalls, never the addresses");
	}
	check_end(ck, st, CHECK_OK, NULL);
	return 0;
}

/*
 * The API's port (or the proxy's) on every address, as the SMTP ports
 * step probes them: open when any answers (a send moves on to the next
 * address), a family that fails while the other works a warning.
 */
static int
check_api_port(struct check *ck)
{
	static const struct fail net_fail = { .kind = FAIL_NET };
	const struct conf *c = ck->c;
	struct check_step *st = check_begin(ck, "API port");
	struct net_probe pr[NET_PROBE_MAX];
	char addrs[CHECK_LINE] = "", item[CHECK_LINE];
	char bad[2][4][CHECK_LINE];
	const char *host = c->proxy_host ? c->proxy_host : c->api_host;
	int port = c->proxy_host ? c->proxy_port : c->api_port;
	int i, n, state, warned;
	int tmo = c->timeout < 5 ? c->timeout : 5;

	memset(bad, 0, sizeof(bad));
	n = net_probe(host, port, tmo, pr, NET_PROBE_MAX);
	state = n > 0 ? check_port_state(pr, n, 0) : NET_PROBE_ERROR;
	if (n > 0)
		check_port_item(item, sizeof(item), port, pr, n, state);
	else
		(void)snprintf(item, sizeof(item), "%d error", port);
	for (i = 0; i < n; i++) {
		(void)strlcat(addrs, i ? ", " : "", sizeof(addrs));
		(void)strlcat(addrs, pr[i].addr, sizeof(addrs));
	}
	check_line(st, 0, "%s%s [%s]: %s", c->proxy_host ? "the proxy " : "",
	    host, addrs, item);
	if (state == NET_PROBE_OPEN) {
		check_family_mark(bad, port, pr, n);
		warned = check_family_notes(st, bad);
		check_end(ck, st, warned ? CHECK_WARN : CHECK_OK, NULL);
		return 0;
	}
	if (c->proxy_host != NULL)
		check_line(st, 1, "the proxy does not answer: check proxy in "
		    "the configuration, and that the proxy runs");
	else
		check_line(st, 1, "no address answers on port %d: a firewall "
		    "blocks outgoing connections; open port %d to the name "
		    "above, or set proxy", port, port);
	check_end(ck, st, CHECK_FAIL, &net_fail);
	return -1;
}

/* TLS with the API endpoint, through the proxy's tunnel when one is set. */
static struct api *
check_api_tls(struct check *ck)
{
	const struct conf *c = ck->c;
	struct check_step *st = check_begin(ck, "API TLS");
	char relay[352];
	struct fail f;
	struct api *a;

	memset(&f, 0, sizeof(f));
	if ((a = api_begin(c)) == NULL) {
		fail_set(&f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		check_fail(ck, st, &f, NULL);
		return NULL;
	}
	if (api_start(a, relay, sizeof(relay), &f) == -1) {
		check_tls_info(st, api_tls(a), 0, c);
		if (f.kind == FAIL_TLS_VERIFY)
			check_fail(ck, st, &f, "check api_endpoint (the name "
			    "must match the certificate) and ca_file");
		else if (c->proxy_host != NULL && f.stage ==
		    SMTP_STAGE_CONNECT)
			check_fail(ck, st, &f, "the proxy opened no tunnel "
			    "to the API: check proxy, and that the proxy lets "
			    "CONNECT reach the endpoint");
		else
			check_fail(ck, st, &f, NULL);
		api_close(a);
		return NULL;
	}
	check_tls_info(st, api_tls(a), 1, c);
	if (c->proxy_host != NULL)
		check_line(st, 0, "%s port %d through the proxy's tunnel",
		    c->api_host, c->api_port);
	else
		check_line(st, 0, "connected to %s", relay);
	check_end(ck, st, CHECK_OK, NULL);
	return a;
}

/* The region, for the remedies: the one configured, else the endpoint's. */
static const char *
check_region(const struct check *ck)
{
	return ck->c->region != NULL ? ck->c->region : "this region";
}

/* EnforcementStatus in plain words (ses.md 9.4). */
static const char *
check_enforcement(const char *e)
{
	if (strcmp(e, "HEALTHY") == 0)
		return "in good standing";
	if (strcmp(e, "PROBATION") == 0)
		return "under review for bounces or complaints: SES may pause "
		    "sending";
	if (strcmp(e, "SHUTDOWN") == 0)
		return "sending shut down by SES for bounces or complaints";
	return "unknown status";
}

/* The quota line: "12 of 200 messages in the last 24 hours used...". */
static void
check_quota(struct check_step *st, const struct api_account *ac)
{
	if (!ac->has_quota)
		return;
	if (ac->max24 < 0)
		check_line(st, 0, "quota: no 24-hour limit (%.0f sent in the "
		    "last 24 hours); at most %g messages a second", ac->sent,
		    ac->rate);
	else
		check_line(st, 0, "quota: %.0f of %.0f messages used in the "
		    "last 24 hours (%.0f left); at most %g message%s a second",
		    ac->sent, ac->max24, ac->sent < ac->max24 ? ac->max24 -
		    ac->sent : 0, ac->rate, ac->rate == 1 ? "" : "s");
}

/*
 * The sandbox (ses.md 6.4): mail goes only to verified identities and the
 * mailbox simulator (the --send-test recipient: check_api_rcpt()).
 */
static void
check_sandbox(struct check *ck, struct check_step *st)
{
	check_line(st, 0, "sandbox: SES takes mail only for verified "
	    "addresses and domains and the mailbox simulator: in the "
	    "sandbox, recipients must be verified too");
	check_line(st, 1, "to send to anyone, request production access: SES "
	    "console, Account dashboard, region %s", check_region(ck));
}

/* What GetAccount said: the account's state, and what would stop mail. */
static void
check_account(struct check *ck, struct check_step *st,
    const struct api_account *ac)
{
	enum check_res res = CHECK_OK;
	int first = st->nlines;

	ck->has_account = 1;
	ck->acct = *ac;
	check_line(st, 0, "GetAccount with key %.4s...: %s, sending %s%s%s%s%s",
	    ck->c->aws_key_id, ac->production == 0 ? "in the sandbox" :
	    ac->production == 1 ? "in production" : "production access "
	    "unknown", ac->sending == 0 ? "paused" : ac->sending == 1 ?
	    "enabled" : "unknown", ac->enforcement[0] ? ", enforcement " : "",
	    ac->enforcement, ac->enforcement[0] ? " (" : "",
	    ac->enforcement[0] ? check_enforcement(ac->enforcement) : "");
	if (ac->enforcement[0] != '\0')
		(void)strlcat(st->lines[first], ")", CHECK_LINE);
	check_quota(st, ac);
	if (check_rate_account(st, ck->c, ac))
		res = CHECK_WARN;
	if (ac->production == 0) {
		check_sandbox(ck, st);
		res = CHECK_WARN;
	}
	if (ac->sending == 0) {
		check_line(st, 1, "sending is paused for the account: SES "
		    "refuses every message; resume sending in the SES "
		    "console");
		res = CHECK_WARN;
	}
	if (ac->has_quota && ac->max24 > 0 && ac->sent >= ac->max24) {
		check_line(st, 1, "the 24-hour quota is used up: SES refuses "
		    "mail until it frees up; ask AWS for a higher quota");
		res = CHECK_WARN;
	}
	if (ac->enforcement[0] != '\0' &&
	    strcmp(ac->enforcement, "HEALTHY") != 0) {
		check_line(st, 1, "enforcement status %s: see the account's "
		    "reputation in the SES console", ac->enforcement);
		res = CHECK_WARN;
	}
	check_end(ck, st, res, NULL);
}

/* A read IAM refused: a warning, with the policy line to add. */
static void
check_denied(struct check_step *st, const char *action, const char *key,
    const struct fail *f)
{
	check_line(st, 0, "the keys %.4s... may not call ses:%s (--check "
	    "reads it; sending does not need it)", key != NULL ? key : "?",
	    action);
	check_line(st, 0, "%s", f->text);
	check_line(st, 1, "to let --check read the account, add to the IAM "
	    "policy of these keys: %s", CHECK_POLICY);
}

static int
check_type_is(const struct fail *f, const char *a, const char *b)
{
	return strcmp(f->type, a) == 0 || (b != NULL &&
	    strcmp(f->type, b) == 0);
}

/* GetAccount refused: which of the keys, the clock or IAM is at fault. */
static int
check_keys_refused(struct check *ck, struct check_step *st,
    const struct fail *f)
{
	const struct conf *c = ck->c;
	char now[40] = "?";
	time_t t = time(NULL);
	struct tm tm;

	if (check_type_is(f, "AccessDeniedException", NULL)) {
		check_denied(st, "GetAccount", c->aws_key_id, f);
		check_end(ck, st, CHECK_WARN, NULL);
		return 0;
	}
	if (check_type_is(f, "UnrecognizedClientException",
	    "InvalidClientTokenId")) {
		check_line(st, 0, "unknown access key id %.4s...: %s",
		    c->aws_key_id, f->text);
		check_line(st, 1, "%s", c->aws_token != NULL ? "the key id "
		    "and aws_session_token must be the same temporary "
		    "credentials, and current: set both again" : "set "
		    "aws_access_key_id (or username) to the access key id of "
		    "an IAM user, active, of the account and partition of "
		    "region");
	} else if (check_type_is(f, "InvalidSignatureException",
	    "SignatureDoesNotMatch")) {
		if (gmtime_r(&t, &tm) != NULL)
			(void)strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S "
			    "UTC", &tm);
		check_line(st, 0, "bad signature: wrong secret, or this "
		    "host's clock is off by more than 5 minutes (the clock "
		    "says %s)", now);
		check_line(st, 0, "%s", f->text);
		check_line(st, 1, "check aws_secret_access_key (the IAM secret "
		    "of this key id, not an SMTP password), and set this "
		    "host's clock (NTP)");
	} else if (fail_transient(f)) {
		check_line(st, 0, "%s", f->text);
		check_line(st, 1, "the SES API is busy or failing: run --check "
		    "again later");
	} else {
		check_fail(ck, st, f, f->code == 404 ? ADV_ENDPOINT : NULL);
		return -1;
	}
	check_end(ck, st, CHECK_FAIL, f);
	return -1;
}

/*
 * The keys, proved by one signed read-only call: GetAccount.  0 when
 * they are good (ok or warn), -1 when the step failed.
 */
/* A line of the credential chain's report (awscreds.c). */
static void
check_creds_line(void *arg, const char *line)
{
	check_line(arg, 0, "%s", line);
}

static int
check_api_keys(struct check *ck, struct api *a)
{
	struct check_step *st = check_begin(ck, "API keys");
	struct api_answer ans;
	struct api_account ac;
	struct fail f;
	char *body;
	int rv = -1;

	awscreds_report(check_creds_line, st);
	if (ck->creds == -1 && ck->credf.kind == FAIL_CREDS) {
		/* The sources' lines above say why, one each. */
		check_line(st, 1, "no source gave AWS credentials: configure "
		    "keys, or attach a role (ses-sendmail.conf(5), "
		    "credentials)");
		check_end(ck, st, CHECK_FAIL, &ck->credf);
		return -1;
	}
	if (ck->creds == -1) {
		check_fail(ck, st, &ck->credf, NULL);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	if ((body = malloc(CHECK_ANSWER)) == NULL) {
		fail_set(&f, FAIL_OS, SMTP_STAGE_REQUEST, "out of memory");
		check_fail(ck, st, &f, NULL);
		return -1;
	}
	if (api_get(a, CHECK_ACCOUNT, body, CHECK_ANSWER, &ans, &f) == 0) {
		if (api_parse_account(body, strlen(body), &ac) == 0) {
			check_account(ck, st, &ac);
			rv = 0;
		} else {
			fail_set(&f, FAIL_PROTOCOL, SMTP_STAGE_RESPONSE,
			    "GetAccount: %d with a body that is not a JSON "
			    "object", ans.status);
			check_fail(ck, st, &f, ADV_ENDPOINT);
		}
	} else if (f.kind == FAIL_API)
		rv = check_keys_refused(ck, st, &f);
	else
		check_fail(ck, st, &f, f.kind == FAIL_PROTOCOL ? ADV_ENDPOINT :
		    NULL);
	free(body);
	return rv;
}

/*
 * One signed read of path (prefix and the name, %-encoded) into body, on
 * *ap, or on a new connection when SES closed that one (*ap replaced;
 * NULL when it cannot be opened).
 */
static enum check_read
check_read(struct check *ck, struct api **ap, const char *prefix,
    const char *name, char *body, struct fail *f)
{
	struct api_answer ans;
	char enc[3 * SES_MAX_ADDR + 1], path[3 * SES_MAX_ADDR + 64];
	char relay[352];

	memset(f, 0, sizeof(*f));
	if (sigv4_uri_encode(name, strlen(name), enc, sizeof(enc)) == -1 ||
	    (size_t)snprintf(path, sizeof(path), "%s%s", prefix, enc) >=
	    sizeof(path)) {
		fail_set(f, FAIL_USAGE, SMTP_STAGE_NONE, "the name is too "
		    "long");
		return CHECK_READ_ERROR;
	}
	if (*ap != NULL && !api_reusable(*ap)) {
		api_close(*ap);
		*ap = NULL;
	}
	if (*ap == NULL && (*ap = api_open(ck->c, relay, sizeof(relay),
	    f)) == NULL)
		return CHECK_READ_ERROR;
	if (api_get(*ap, path, body, CHECK_ANSWER, &ans, f) == 0)
		return CHECK_READ_OK;
	if (f->kind != FAIL_API)
		return CHECK_READ_ERROR;
	if (check_type_is(f, "AccessDeniedException", NULL))
		return CHECK_READ_DENIED;
	if (check_type_is(f, "NotFoundException", NULL))
		return CHECK_READ_NONE;
	return CHECK_READ_ERROR;
}

/* GetEmailIdentity of name (ses.md 9.4) into id. */
static enum check_read
check_identity_read(struct check *ck, struct api **ap, const char *name,
    char *body, struct api_identity *id, struct fail *f)
{
	enum check_read rv;

	memset(id, 0, sizeof(*id));
	id->verified = id->signing = -1;
	rv = check_read(ck, ap, CHECK_IDENTITY, name, body, f);
	if (rv == CHECK_READ_OK && api_parse_identity(body, strlen(body),
	    id) == -1) {
		fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_RESPONSE,
		    "GetEmailIdentity: an answer that is not a JSON object");
		return CHECK_READ_ERROR;
	}
	return rv;
}

/* VerificationStatus in plain words, and what to do (ses.md 9.4). */
static void
check_verification(struct check *ck, struct check_step *st,
    const char *name, int domain, const struct api_identity *id)
{
	const char *v = id->status;

	if (strcmp(v, "PENDING") == 0) {
		check_line(st, 0, "%s: verification pending", name);
		check_line(st, 1, "%s", domain ? "SES is looking for the "
		    "domain's DNS records (for up to 72 hours): publish the "
		    "records the SES console shows for it" : "SES mailed a "
		    "verification link to the address: open it (it expires "
		    "after 24 hours)");
	} else if (strcmp(v, "FAILED") == 0) {
		check_line(st, 0, "%s: verification failed (the link expired, "
		    "or the DNS records were not found in 72 hours)", name);
		check_line(st, 1, "start the verification again in the SES "
		    "console for %s", check_region(ck));
	} else if (strcmp(v, "TEMPORARY_FAILURE") == 0) {
		check_line(st, 0, "%s: verification temporarily failed: a DNS "
		    "problem keeps SES from checking it; SES tries again",
		    name);
		check_line(st, 1, "check that the domain's verification "
		    "records resolve from the Internet");
	} else
		check_line(st, 0, "%s: not verified for sending (verification "
		    "%s)", name, v[0] ? v : "status unknown");
}

/* DkimAttributes in plain words: what receivers will see. */
static void
check_dkim(struct check *ck, struct check_step *st, const char *name,
    const struct api_identity *id)
{
	const char *d = id->dkim;

	(void)strlcpy(ck->id_dkim, d, sizeof(ck->id_dkim));
	if (strcmp(d, "SUCCESS") == 0 && id->signing != 0)
		check_line(st, 0, "DKIM: %s signs with DKIM (records found)",
		    name);
	else if (strcmp(d, "SUCCESS") == 0) {
		check_line(st, 0, "DKIM: records found for %s, but signing is "
		    "disabled", name);
		check_line(st, 1, "enable DKIM signing for %s in the SES "
		    "console: unsigned mail is more often taken for spam",
		    name);
	} else if (strcmp(d, "PENDING") == 0) {
		check_line(st, 0, "DKIM: pending: SES has not found the DKIM "
		    "records of %s yet", name);
		check_line(st, 1, "publish the three CNAME records the SES "
		    "console shows for %s", name);
	} else if (strcmp(d, "FAILED") == 0 ||
	    strcmp(d, "TEMPORARY_FAILURE") == 0) {
		check_line(st, 0, "DKIM: %s: SES %s the DKIM records of %s",
		    d, d[0] == 'F' ? "did not find" : "cannot check (DNS) "
		    "now", name);
		check_line(st, 1, "check the CNAME records the SES console "
		    "shows for %s", name);
	} else {
		check_line(st, 0, "DKIM: not set up for %s (%s): mail goes "
		    "unsigned", name, d[0] ? d : "no DKIM attributes");
		check_line(st, 1, "set up Easy DKIM for the domain in the SES "
		    "console: unsigned mail is more often taken for spam");
	}
}

/*
 * The sender a send would use: -f, else from; 0, or -1 when there is
 * none (the step ended, saying what a send checks instead).
 */
static int
check_sender(struct check *ck, struct check_step *st)
{
	const struct conf *c = ck->c;
	char err[SES_FAIL_TEXT];
	const char *from = ck->o->sender;

	if (from == NULL && c->from != NULL)
		from = c->from;
	if (from != NULL && addr_parse_sender(from, ck->id_addr,
	    sizeof(ck->id_addr), err, sizeof(err)) != 0) {
		check_line(st, 0, "the sender to check does not parse: %s",
		    err);
		ck->id_addr[0] = '\0';
		check_end(ck, st, CHECK_WARN, NULL);
		return -1;
	}
	if (from == NULL || ck->id_addr[0] == '\0') {
		check_line(st, 0, "no from in %s, and no -f: a send's sender "
		    "is -f, else the message's From:, else USER@HOST; SES "
		    "checks at send time that it (or its domain) is verified",
		    c->path);
		check_line(st, 1, "run ses-sendmail --check -f ADDRESS to "
		    "check an address now, or set from");
		check_end(ck, st, CHECK_SKIP, NULL);
		return -1;
	}
	if ((ck->id_domain = addr_domain(ck->id_addr)) == NULL ||
	    *ck->id_domain == '\0') {
		check_line(st, 0, "sender %s (%s): no domain, so no SES "
		    "identity", ck->id_addr, ck->o->sender ? "-f" : "from");
		check_line(st, 1, "give -f a whole address (user@domain)");
		ck->id_domain = NULL;
		check_end(ck, st, CHECK_WARN, NULL);
		return -1;
	}
	check_line(st, 0, "sender %s (%s)", ck->id_addr, ck->o->sender ?
	    "-f" : "from");
	return 0;
}

/* Neither the address nor its domain can send: why, and the fix. */
static void
check_unverified(struct check *ck, struct check_step *st,
    const enum check_read rv[2], const struct api_identity id[2])
{
	static const struct fail unverified = { .kind = FAIL_API,
	    .type = "MessageRejected", .text = "not verified" };
	const char *name[2] = { ck->id_addr, ck->id_domain };
	int i;

	for (i = 0; i < 2; i++)
		if (rv[i] == CHECK_READ_NONE)
			check_line(st, 0, "%s: not an identity in SES in %s",
			    name[i], check_region(ck));
		else
			check_verification(ck, st, name[i], i, &id[i]);
	if (rv[0] == CHECK_READ_NONE && rv[1] == CHECK_READ_NONE)
		check_line(st, 1, "verify it in the SES console for %s: the "
		    "address (SES mails it a link) or the domain %s (DNS "
		    "records)", check_region(ck), ck->id_domain);
	check_line(st, 1, "until then SES refuses every message from %s "
	    "(MessageRejected, exit %d)", ck->id_addr, fail_exit(&unverified));
	ck->id_verified = 0;
	ck->id_by = "none";
	check_end(ck, st, CHECK_FAIL, &unverified);
}

/*
 * A verified domain lets its subdomains send too (ses.md 9.4): the first
 * parent of the sender's domain (two labels at least) that is verified,
 * its identity in id; or NULL.  A parent that cannot be read counts as
 * not verified.
 */
static const char *
check_parent(struct check *ck, struct api **ap, char *body,
    struct api_identity *id)
{
	struct fail f;
	const char *p, *next;

	for (p = strchr(ck->id_domain, '.'); p != NULL; p = next) {
		p++;
		if ((next = strchr(p, '.')) == NULL)
			break;
		if (check_identity_read(ck, ap, p, body, id, &f) ==
		    CHECK_READ_OK && id->verified == 1)
			return p;
	}
	return NULL;
}

/*
 * GetEmailIdentity for the sender and for its domain: SES lets an address
 * send when either is verified (ses.md 9.4).  Unverified is a failure:
 * every send would be refused.  A read IAM refuses is a warning.
 */
static void
check_api_sender(struct check *ck, struct api **ap, char *body)
{
	struct check_step *st = check_begin(ck, "API sender");
	struct api_identity id[2], pid;
	enum check_read rv[2];
	struct fail f[2];
	const char *name[2], *parent = NULL;
	int i, ok = -1, unknown = 0;

	if (check_sender(ck, st) == -1)
		return;
	name[0] = ck->id_addr;
	name[1] = ck->id_domain;
	for (i = 0; i < 2; i++) {
		rv[i] = check_identity_read(ck, ap, name[i], body, &id[i],
		    &f[i]);
		if (rv[i] == CHECK_READ_OK && id[i].verified == 1 && ok == -1)
			ok = i;
		unknown |= rv[i] == CHECK_READ_DENIED ||
		    rv[i] == CHECK_READ_ERROR;
	}
	if (ok == -1 && !unknown && (parent = check_parent(ck, ap, body,
	    &pid)) == NULL) {
		check_unverified(ck, st, rv, id);
		return;
	}
	if (ok != -1 || parent != NULL) {
		ck->id_verified = 1;
		ck->id_by = ok == 0 ? "address" : "domain";
		check_line(st, 0, "%s is verified for sending (by %s%s)",
		    ck->id_addr, ok == 0 ? "the address" : parent != NULL ?
		    "its parent domain " : "its domain ", ok == 0 ? "" :
		    parent != NULL ? parent : ck->id_domain);
	}
	if (rv[0] == CHECK_READ_DENIED || rv[1] == CHECK_READ_DENIED)
		check_denied(st, "GetEmailIdentity", ck->c->aws_key_id,
		    &f[rv[0] == CHECK_READ_DENIED ? 0 : 1]);
	for (i = 0; i < 2; i++)
		if (rv[i] == CHECK_READ_ERROR) {
			check_line(st, 0, "GetEmailIdentity %s: %s", name[i],
			    f[i].text);
			check_line(st, 1, "run --check again later");
		}
	/* DKIM is the domain's; an address alone shows its own state. */
	if (parent != NULL)
		check_dkim(ck, st, parent, &pid);
	else if (rv[1] == CHECK_READ_OK)
		check_dkim(ck, st, ck->id_domain, &id[1]);
	else if (rv[0] == CHECK_READ_OK)
		check_dkim(ck, st, ck->id_domain, &id[0]);
	check_end(ck, st, unknown ? CHECK_WARN : CHECK_OK, NULL);
}

/*
 * GetConfigurationSet: a configuration_set SES does not have makes every
 * send fail (NotFoundException, 78), so its absence is a failure.
 */
static void
check_api_confset(struct check *ck, struct api **ap, char *body)
{
	const struct conf *c = ck->c;
	const char *name = c->configuration_set;
	struct check_step *st;
	struct api_confset cs;
	struct fail f;

	if (name == NULL)
		return;
	st = check_begin(ck, "API config set");
	switch (check_read(ck, ap, CHECK_CONFSET, name, body, &f)) {
	case CHECK_READ_OK:
		ck->confset = 1;
		check_line(st, 0, "configuration set %s exists in %s", name,
		    check_region(ck));
		if (api_parse_confset(body, strlen(body), &cs) == 0 &&
		    cs.sending == 0) {
			check_line(st, 1, "sending is disabled for %s: SES "
			    "refuses every message that uses it; enable it in "
			    "the SES console, or remove configuration_set",
			    name);
			check_end(ck, st, CHECK_WARN, NULL);
			return;
		}
		check_end(ck, st, CHECK_OK, NULL);
		return;
	case CHECK_READ_NONE:
		ck->confset = 0;
		check_line(st, 0, "configuration set %s: not in SES in %s (%s)",
		    name, check_region(ck), f.text);
		check_line(st, 1, "create it in the SES console for %s, or "
		    "remove configuration_set from %s: SES refuses every send "
		    "that names it (exit %d)", check_region(ck), c->path,
		    fail_exit(&f));
		check_end(ck, st, CHECK_FAIL, &f);
		return;
	case CHECK_READ_DENIED:
		check_denied(st, "GetConfigurationSet", c->aws_key_id, &f);
		break;
	case CHECK_READ_ERROR:
		check_line(st, 0, "GetConfigurationSet %s: %s", name, f.text);
		check_line(st, 1, "run --check again later");
		break;
	}
	check_end(ck, st, CHECK_WARN, NULL);
}

/* Is name a verified identity?  1, 0, or -1 when the read failed. */
static int
check_one(struct check *ck, struct api **ap, const char *name, char *body)
{
	struct api_identity id;
	struct fail f;

	switch (check_identity_read(ck, ap, name, body, &id, &f)) {
	case CHECK_READ_OK:
		return id.verified == 1;
	case CHECK_READ_NONE:
		return 0;
	default:
		return -1;
	}
}

/*
 * May addr receive in the sandbox: is it, its domain or a parent domain
 * verified (ses.md 6.4, 9.4)?  1, 0, or -1 when a read failed.
 */
static int
check_verified(struct check *ck, struct api **ap, const char *addr,
    char *body)
{
	const char *p;
	int r, unknown;

	if ((r = check_one(ck, ap, addr, body)) == 1)
		return 1;
	unknown = r == -1;
	if ((p = strrchr(addr, '@')) == NULL)
		return unknown ? -1 : 0;
	for (p++; strchr(p, '.') != NULL; p = strchr(p, '.') + 1) {
		if ((r = check_one(ck, ap, p, body)) == 1)
			return 1;
		unknown |= r == -1;
	}
	return unknown ? -1 : 0;
}

/*
 * In the sandbox, the --send-test recipient must be verified too (the
 * mailbox simulator excepted): a step of its own says whether it is.  A
 * recipient SES would refuse is a warning, not a failure: the mail a
 * host sends goes to other recipients.
 */
static void
check_api_rcpt(struct check *ck, struct api **ap, char *body)
{
	const char *to = ck->o->send_to;
	struct check_step *st;
	size_t n, m = strlen(CHECK_SIM_DOMAIN);
	enum check_res res = CHECK_OK;

	if (!ck->has_account || ck->acct.production != 0 || to == NULL ||
	    ((n = strlen(to)) >= m && strcasecmp(to + n - m,
	    CHECK_SIM_DOMAIN) == 0))
		return;
	st = check_begin(ck, "API recipient");
	switch (check_verified(ck, ap, to, body)) {
	case 1:
		check_line(st, 0, "the test recipient %s is verified: the "
		    "sandbox lets mail reach it", to);
		break;
	case 0:
		check_line(st, 0, "the test recipient %s is not verified: in "
		    "the sandbox SES refuses it", to);
		check_line(st, 1, "verify %s in the SES console for %s, or "
		    "run --send-test alone (the mailbox simulator)", to,
		    check_region(ck));
		res = CHECK_WARN;
		break;
	default:
		check_line(st, 0, "the test recipient %s: GetEmailIdentity "
		    "gave no answer (see API sender)", to);
		res = CHECK_WARN;
		break;
	}
	check_end(ck, st, res, NULL);
}

/* The reads after GetAccount: the sender, the configuration set. */
static void
check_api_reads(struct check *ck, struct api **ap)
{
	static const struct fail oom = { .kind = FAIL_OS,
	    .text = "out of memory" };
	char *body;

	if ((body = malloc(CHECK_ANSWER)) == NULL) {
		check_fail(ck, check_begin(ck, "API sender"), &oom, NULL);
		return;
	}
	check_api_sender(ck, ap, body);
	check_api_confset(ck, ap, body);
	check_api_rcpt(ck, ap, body);
	free(body);
}

/* The reads' steps, when the keys could not be proved. */
static void
check_api_skip_reads(struct check *ck)
{
	check_skip(ck, "API sender");
	if (ck->c->configuration_set != NULL)
		check_skip(ck, "API config set");
}

/*
 * The API's steps, each skipped once one before it failed.  0, or -1 when
 * one failed or the reads found that SES would refuse every send.
 */
static int
check_api(struct check *ck)
{
	static const char *const names[] = { "API port", "API TLS",
	    "API keys" };
	struct api *a;
	int done;

	if (ck->creds == -1) {
		/* No keys (nor perhaps a region): the keys step says why. */
		check_skip(ck, "API DNS");
		for (done = 0; done < 2; done++)
			check_skip(ck, names[done]);
		return check_api_keys(ck, NULL);
	}
	if (check_api_dns(ck) == -1)
		done = 0;
	else if (check_api_port(ck) == -1)
		done = 1;
	else if ((a = check_api_tls(ck)) == NULL)
		done = 2;
	else {
		if ((done = check_api_keys(ck, a)) == 0)
			check_api_reads(ck, &a);
		else
			check_api_skip_reads(ck);
		if (a != NULL)
			api_close(a);
		/* SES would refuse the test message: not worth sending. */
		return ck->id_verified == 0 || ck->confset == 0 ? -1 : done;
	}
	for (; done < 3; done++)
		check_skip(ck, names[done]);
	check_api_skip_reads(ck);
	return -1;
}

static void
check_skip(struct check *ck, const char *name)
{
	struct check_step *st = check_begin(ck, name);

	check_line(st, 0, "not run: an earlier step failed");
	check_end(ck, st, CHECK_SKIP, NULL);
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A JSON string, or null. */
static void
json_string_or_null(const char *s)
{
	if (s == NULL || *s == '\0')
		printf("null");
	else
		json_string(s);
}

/* A JSON boolean from 1 or 0; null for -1 (not known). */
static void
json_bool(int b)
{
	printf("%s", b == 1 ? "true" : b == 0 ? "false" : "null");
}

/*
 * What the account reads found (design.md 12): the same keys every time,
 * null for what was not read (no API keys, IAM refused, no from).
 */
static void
check_json_facts(const struct check *ck)
{
	const struct api_account *ac = &ck->acct;
	int q = ck->has_account && ac->has_quota;

	printf("\"account\": {\"sandbox\": ");
	json_bool(ck->has_account && ac->production != -1 ?
	    !ac->production : -1);
	printf(", \"sending_enabled\": ");
	json_bool(ck->has_account ? ac->sending : -1);
	printf(", \"enforcement\": ");
	json_string_or_null(ck->has_account ? ac->enforcement : NULL);
	if (q)
		printf(", \"max_send_rate\": %.15g, \"max_24h\": %.15g, "
		    "\"sent_24h\": %.15g}", ac->rate, ac->max24, ac->sent);
	else
		printf(", \"max_send_rate\": null, \"max_24h\": null, "
		    "\"sent_24h\": null}");
	printf(",\n \"identity\": {\"address\": ");
	json_string_or_null(ck->id_addr);
	printf(", \"domain\": ");
	json_string_or_null(ck->id_domain);
	printf(", \"verified_for_sending\": ");
	json_bool(ck->id_verified);
	printf(", \"verified_by\": ");
	json_string_or_null(ck->id_by);
	printf(", \"dkim\": ");
	json_string_or_null(ck->id_dkim);
	printf("},\n \"configuration_set\": {\"name\": ");
	json_string_or_null(ck->c->configuration_set);
	printf(", \"exists\": ");
	json_bool(ck->confset);
	printf("},\n ");
}

static void
check_json(const struct check *ck)
{
	const struct check_step *st;
	int i, j, k, first;

	const struct conf *c = ck->c;
	int api = c->transport == CONF_TRANSPORT_API;

	printf("{\"config\": ");
	json_string(c->path);
	printf(", \"transport\": \"%s\", \"host\": ", api ? "api" : "smtp");
	json_string(api ? c->api_host : c->host);
	printf(", \"port\": %d, \"exit\": %d,\n ",
	    api ? c->api_port : c->port, ck->ex);
	check_json_facts(ck);
	printf("\"steps\": [");
	for (i = 0; i < ck->nsteps; i++) {
		st = &ck->steps[i];
		printf("%s\n  {\"step\": ", i ? "," : "");
		json_string(st->name);
		printf(", \"result\": \"%s\", \"ms\": %lld",
		    check_res_names[st->res], st->ms);
		for (k = 0; k < 2; k++) {
			printf(", \"%s\": [", k ? "remedy" : "lines");
			for (j = 0, first = 1; j < st->nlines; j++) {
				if (st->remedy[j] != k)
					continue;
				printf("%s", first ? "" : ", ");
				json_string(st->lines[j]);
				first = 0;
			}
			printf("]");
		}
		printf("}");
	}
	printf("\n]}\n");
}

int
check_config_failed(const char *path, const struct fail *f,
    const struct check_opts *o)
{
	struct check ck;
	struct check_step *st;
	struct conf none;
	char text[SES_FAIL_TEXT * 2];

	memset(&ck, 0, sizeof(ck));
	ck.id_verified = ck.confset = -1;
	conf_init(&none);
	ck.c = &none;
	ck.o = o;
	st = check_begin(&ck, "configuration");
	check_line(st, 0, "%s", fail_line(f, text, sizeof(text)));
	check_line(st, 1, "fix the configuration as the line above says; "
	    "ses-sendmail.conf(5) lists the keys");
	check_end(&ck, st, CHECK_FAIL, f);
	(void)strlcpy(none.path, path, sizeof(none.path));
	none.host = none.path + strlen(none.path);	/* "": unknown */
	if (o->json)
		check_json(&ck);
	return ck.ex;
}

/* The SMTP road; 0 when a session got as far as a send needs. */
static int
check_smtp(struct check *ck)
{
	struct smtp *s;

	check_dns(ck);
	if (!ck->blocked)
		check_ports(ck);
	if (ck->blocked) {
		check_skip(ck, "TLS");
		check_skip(ck, "SMTP");
		check_skip(ck, "AUTH");
	}
	if (!ck->blocked && (s = check_session(ck)) != NULL) {
		check_packets(ck, s);
		smtp_close(s);
		return 0;
	}
	check_skip(ck, "large packets");
	return -1;
}

int
check_run(const struct conf *c, const struct check_opts *o)
{
	struct check *ck;
	char host[256];
	int ex, smtp = -1, api = -1;

	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return fail_kind_exit(FAIL_OS);
	ck->c = c;
	ck->o = o;
	ck->id_verified = ck->confset = -1;
	/* The secret is kept (creds.c) where a send may use the API. */
	ck->api = c->transport == CONF_TRANSPORT_API || (c->api_ok &&
	    (c->aws_secret != NULL || c->sources_set));
	/* The credential chain (and the region it may find) first. */
	if (ck->api)
		ck->creds = awscreds_get(&ck->credf);
	if (!o->json) {
		/* The host is a value of a file the caller may have written. */
		if (c->transport == CONF_TRANSPORT_API && c->api_host == NULL)
			printf("ses-sendmail --check: the SES API (region "
			    "unknown)\n");
		else if (c->transport == CONF_TRANSPORT_API) {
			log_sanitize(host, sizeof(host), c->api_host,
			    strlen(c->api_host));
			printf("ses-sendmail --check: %s port %d (SES API)\n",
			    host, c->api_port);
		} else {
			log_sanitize(host, sizeof(host), c->host,
			    strlen(c->host));
			printf("ses-sendmail --check: %s port %d\n", host,
			    c->port);
		}
	}
	check_config(ck);
	/* With transport api there are no SMTP credentials to try. */
	if (c->transport == CONF_TRANSPORT_SMTP)
		smtp = check_smtp(ck);
	if (ck->api)
		api = check_api(ck);
	if (o->send_to != NULL && (c->transport == CONF_TRANSPORT_API ?
	    api : smtp) == 0)
		check_send(ck);
	if (o->json)
		check_json(ck);
	ex = ck->ex;
	free(ck);
	return ex;
}

/*
 * --derive-password: the SMTP password for a region from an IAM secret
 * access key read on stdin (never argv, where ps would show it).
 */
int
check_derive(const char *region)
{
	char secret[256], out[64];
	size_t n;
	int rv = 0;

	if (isatty(STDIN_FILENO)) {
		if (readpassphrase("IAM secret access key: ", secret,
		    sizeof(secret), RPP_REQUIRE_TTY) == NULL)
			return fail_kind_exit(FAIL_IO);
	} else if (fgets(secret, sizeof(secret), stdin) == NULL) {
		log_error("--derive-password: no secret on standard input: "
		    "echo it in, or type it at the prompt");
		return fail_kind_exit(FAIL_DATA);
	}
	n = strcspn(secret, "\r\n");
	secret[n] = '\0';
	if (n == 0 || creds_derive(secret, region, out, sizeof(out)) == -1) {
		log_error("--derive-password: %s", n == 0 ? "the secret is "
		    "empty" : "cannot derive the password");
		rv = fail_kind_exit(FAIL_DATA);
	} else
		printf("%s\n", out);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(out, sizeof(out));
	return rv;
}
