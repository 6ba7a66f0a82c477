/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The AWS credential chain (design.md 12): the keys the SES API is
 * signed with, from the first source that has them, in the AWS SDKs'
 * order: the configuration, the environment, the shared credentials
 * file, STS web identity (sts.c), the container endpoint and the EC2
 * instance role (metadata.c).  They go into the configuration's
 * aws_key_id, aws_secret and aws_token, where the static keys are, so
 * api.c signs the same way whatever gave them.  The chain runs once per
 * process, and only when the API is about to sign: an SMTP send never
 * touches it.  A set-id run trusts neither the environment nor the
 * caller's files: only config, container (from the configuration) and
 * imds.  Keys are held in memory only and wiped with the configuration's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "extern.h"

#define AW_LINE		256		/* one --check line */
#define AW_WHY		224		/* why a source gave nothing */
#define AW_FILE_MAX	(64 * 1024)	/* a credentials or token file */
#define AW_ID_MAX	128
#define AW_TOKEN_MAX	4096
#define AW_IMDS		"http://169.254.169.254"
#define AW_ECS_HOST	"http://169.254.170.2"

static struct conf *aw_conf;
static int aw_setid;
static int aw_done;		/* the keys are in aw_conf */
static int aw_renewed;		/* the one renewal was spent */
static char aw_lines[CONF_SOURCES_MAX + 2][AW_LINE];
static size_t aw_nlines;

/* ------------------------------------------------------------------ */
/* jansson's memory: wiped when freed, since answers hold keys.        */

static void *
aw_json_malloc(size_t n)
{
	size_t *p;

	if (n > SIZE_MAX - sizeof(size_t) ||
	    (p = malloc(n + sizeof(size_t))) == NULL)
		return NULL;
	*p = n;
	return p + 1;
}

static void
aw_json_free(void *ptr)
{
	size_t *p = ptr;

	if (p == NULL)
		return;
	p--;
	explicit_bzero(p, *p + sizeof(size_t));
	free(p);
}

void
awscreds_init(struct conf *c, int setid)
{
	aw_conf = c;
	aw_setid = setid;
	aw_done = aw_renewed = 0;
	aw_nlines = 0;
	json_set_alloc_funcs(aw_json_malloc, aw_json_free);
}

void
awskeys_free(struct awskeys *k)
{
	free(k->id);
	creds_free_secret(k->secret);
	creds_free_secret(k->token);
	memset(k, 0, sizeof(*k));
}

int
awscreds_parse_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*e == '.')
		for (e++; *e >= '0' && *e <= '9'; e++)
			continue;
	if (strcmp(e, "Z") != 0 && strcmp(e, "+00:00") != 0)
		return -1;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

/* A line for --check (and -v). */
static void __attribute__((format(printf, 1, 2)))
aw_line(const char *fmt, ...)
{
	va_list ap;
	char buf[AW_LINE];

	if (aw_nlines == sizeof(aw_lines) / sizeof(aw_lines[0]))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_sanitize(aw_lines[aw_nlines++], AW_LINE, buf, strlen(buf));
}

void
awscreds_report(void (*fn)(void *, const char *), void *arg)
{
	size_t i;

	for (i = 0; i < aw_nlines; i++)
		fn(arg, aw_lines[i]);
}

/* The environment, except in a set-id run (main.c has cleared it). */
static const char *
aw_env(const char *name)
{
	const char *v;

	if (aw_setid || (v = getenv(name)) == NULL || *v == '\0')
		return NULL;
	return v;
}

/*
 * A small file into a new string (a secret), its trailing newlines cut.
 * NULL with why set.
 */
static char *
aw_read_file(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		(void)log_reason(why, whylen, "%.80s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > AW_FILE_MAX || (buf = malloc(AW_FILE_MAX + 1)) ==
	    NULL) {
		(void)close(fd);
		(void)log_reason(why, whylen, "%.120s: not a regular file of "
		    "at most %d KiB", path, AW_FILE_MAX / 1024);
		return NULL;
	}
	while (len < AW_FILE_MAX && (n = read(fd, buf + len,
	    AW_FILE_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* The sources.  Each returns 1 with k filled, 0 with why set (nothing */
/* there), or -1 with f set (an endpoint that should answer did not).  */

static int
aw_src_config(struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	(void)k;
	(void)f;
	if (aw_conf->aws_secret != NULL && aw_conf->aws_key_id != NULL)
		return 1;		/* already where the keys go */
	return log_reason(why, whylen, "no aws_secret_access_key in the "
	    "configuration") + 1;
}

/* Three strings into k, checked; 1, or 0 with why. */
static int
aw_take(struct awskeys *k, const char *id, const char *secret,
    const char *token, const char *what, char *why, size_t whylen)
{
	if (!conf_is_token(id, AW_ID_MAX) ||
	    !conf_is_token(secret, SIGV4_SECRET_MAX) ||
	    (token != NULL && !conf_is_token(token, AW_TOKEN_MAX)))
		return log_reason(why, whylen, "%s: a key that is not "
		    "printable ASCII without blanks, or too long", what) + 1;
	k->id = strdup(id);
	k->secret = strdup(secret);
	k->token = token != NULL ? strdup(token) : NULL;
	if (k->id == NULL || k->secret == NULL ||
	    (token != NULL && k->token == NULL)) {
		awskeys_free(k);
		return log_reason(why, whylen, "out of memory") + 1;
	}
	return 1;
}

static int
aw_src_env(struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	const char *id, *secret;

	(void)f;
	if (aw_setid)
		return log_reason(why, whylen, "not trusted in a set-id "
		    "run") + 1;
	id = aw_env("AWS_ACCESS_KEY_ID");
	secret = aw_env("AWS_SECRET_ACCESS_KEY");
	if (id == NULL && secret == NULL)
		return log_reason(why, whylen, "AWS_ACCESS_KEY_ID not set") +
		    1;
	if (id == NULL || secret == NULL)
		return log_reason(why, whylen, "%s set without %s",
		    id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + 1;
	return aw_take(k, id, secret, aw_env("AWS_SESSION_TOKEN"),
	    "the environment", why, whylen);
}

/* One "key = value" line of the profile's section into the keys. */
static int
aw_ini_line(char *line, char **id, char **secret, char **token)
{
	char *eq, *key, *val, **dst;
	size_t n;

	if ((eq = strchr(line, '=')) == NULL)
		return 0;
	*eq = '\0';
	key = line + strspn(line, " \t");
	for (n = strlen(key); n > 0 && (key[n - 1] == ' ' ||
	    key[n - 1] == '\t'); n--)
		key[n - 1] = '\0';
	val = eq + 1 + strspn(eq + 1, " \t");
	for (n = strlen(val); n > 0 && (val[n - 1] == ' ' ||
	    val[n - 1] == '\t' || val[n - 1] == '\r'); n--)
		val[n - 1] = '\0';
	if (strcmp(key, "aws_access_key_id") == 0)
		dst = id;
	else if (strcmp(key, "aws_secret_access_key") == 0)
		dst = secret;
	else if (strcmp(key, "aws_session_token") == 0)
		dst = token;
	else
		return 0;
	creds_free_secret(*dst);
	return (*dst = strdup(val)) == NULL ? -1 : 0;
}

int
awscreds_shared_parse(const char *buf, size_t len, const char *profile,
    char **id, char **secret, char **token, char *err, size_t errlen)
{
	char *copy, *line, *next, *name;
	int in = 0, seen = 0, rv = 0;
	size_t n;

	*id = *secret = *token = NULL;
	/* A copy of all len octets: strndup() would stop at a NUL, and the
	 * wipe below would then run past the copy. */
	if (len == SIZE_MAX || (copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && rv == 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '#' || *line == ';' || *line == '\0')
			continue;
		if (*line == '[') {
			name = line + 1 + strspn(line + 1, " \t");
			n = strcspn(name, " \t]");
			in = n == strlen(profile) &&
			    strncmp(name, profile, n) == 0;
			seen |= in;
			continue;
		}
		if (in)
			rv = aw_ini_line(line, id, secret, token);
	}
	explicit_bzero(copy, len + 1);
	free(copy);
	if (rv == 0 && *id != NULL && *secret != NULL)
		return 1;
	free(*id);
	creds_free_secret(*secret);
	creds_free_secret(*token);
	*id = *secret = *token = NULL;
	if (rv == -1)
		return -1;
	(void)log_reason(err, errlen, seen ? "profile %.64s lacks "
	    "aws_access_key_id or aws_secret_access_key" :
	    "no profile %.64s", profile);
	return 0;
}

static int
aw_src_shared(struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	char path[1024], *buf, *id, *secret, *token;
	const char *file, *home, *profile;
	int rv;

	(void)f;
	if (aw_setid)
		return log_reason(why, whylen, "not trusted in a set-id "
		    "run") + 1;
	if ((file = aw_env("AWS_SHARED_CREDENTIALS_FILE")) == NULL) {
		if ((home = aw_env("HOME")) == NULL)
			return log_reason(why, whylen, "HOME not set") + 1;
		if ((size_t)snprintf(path, sizeof(path), "%s/.aws/credentials",
		    home) >= sizeof(path))
			return log_reason(why, whylen, "HOME too long") + 1;
		file = path;
	}
	if ((profile = aw_env("AWS_PROFILE")) == NULL)
		profile = "default";
	if ((buf = aw_read_file(file, why, whylen)) == NULL)
		return 0;
	rv = awscreds_shared_parse(buf, strlen(buf), profile, &id, &secret,
	    &token, why, whylen);
	creds_free_secret(buf);
	if (rv == 1) {
		rv = aw_take(k, id, secret, token, "the shared credentials "
		    "file", why, whylen);
		free(id);
		creds_free_secret(secret);
		creds_free_secret(token);
	} else if (rv == 0) {
		(void)snprintf(path, sizeof(path), "%s", why);
		(void)log_reason(why, whylen, "%.100s: %s", file, path);
	}
	return rv == -1 ? log_reason(why, whylen, "out of memory") + 1 : rv;
}

/* The STS endpoint: the environment's, the configuration's, the region's. */
static int
aw_sts_url(struct url *u, char *why, size_t whylen)
{
	const char *e;
	char buf[128];

	if ((e = aw_env("AWS_ENDPOINT_URL_STS")) == NULL)
		e = aw_conf->sts_endpoint;
	if (e == NULL) {
		if (aw_conf->region == NULL)
			return log_reason(why, whylen, "the STS endpoint "
			    "needs region (or sts_endpoint)");
		(void)snprintf(buf, sizeof(buf),
		    "https://sts.%s.amazonaws.com", aw_conf->region);
		e = buf;
	}
	if (conf_url_split(e, 0, u) == -1)
		return log_reason(why, whylen, "the STS endpoint is no "
		    "http(s) URL");
	return 0;
}

static int
aw_src_web(struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	const char *file, *arn, *session;
	char name[64], *tok;
	struct url u;
	int rv;

	if (aw_setid)
		return log_reason(why, whylen, "not trusted in a set-id "
		    "run") + 1;
	if ((file = aw_env("AWS_WEB_IDENTITY_TOKEN_FILE")) == NULL)
		return log_reason(why, whylen, "AWS_WEB_IDENTITY_TOKEN_FILE "
		    "not set") + 1;
	if ((arn = aw_env("AWS_ROLE_ARN")) == NULL || !conf_is_token(arn, 2048))
		return log_reason(why, whylen, "AWS_ROLE_ARN not set") + 1;
	if ((session = aw_env("AWS_ROLE_SESSION_NAME")) == NULL ||
	    !conf_is_token(session, 64)) {
		(void)snprintf(name, sizeof(name), "ses-sendmail-%lld",
		    (long long)time(NULL));
		session = name;
	}
	if (aw_sts_url(&u, why, whylen) == -1)
		return 0;
	if ((tok = aw_read_file(file, why, whylen)) == NULL)
		return 0;
	rv = sts_web_identity(&u, aw_conf->ca_file, arn, session, tok, k,
	    why, whylen, f);
	creds_free_secret(tok);
	return rv;
}

/*
 * Plain http sends the token in the clear: only to the ECS and EKS
 * link-local addresses and loopback, as the SDKs allow.
 */
static int
aw_container_host_ok(const struct url *u)
{
	return u->tls || strcmp(u->host, "169.254.170.2") == 0 ||
	    strcmp(u->host, "169.254.170.23") == 0 ||
	    strcmp(u->host, "fd00:ec2::23") == 0 ||
	    strncmp(u->host, "127.", 4) == 0 || strcmp(u->host, "::1") == 0 ||
	    strcmp(u->host, "localhost") == 0;
}

/* The container endpoint's token: a file (the configuration's first). */
static char *
aw_container_token(char *why, size_t whylen, int *failed)
{
	const char *file, *tok;
	char *s;

	*failed = 0;
	if ((file = aw_conf->container_token_file) == NULL)
		file = aw_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file != NULL) {
		if ((s = aw_read_file(file, why, whylen)) == NULL)
			*failed = 1;
		else if (!conf_is_token(s, AW_TOKEN_MAX)) {
			creds_free_secret(s);
			(void)log_reason(why, whylen, "the authorization token "
			    "file holds no token");
			*failed = 1;
			s = NULL;
		}
		return s;
	}
	if ((tok = aw_env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) == NULL)
		return NULL;
	if ((s = strdup(tok)) == NULL || !conf_is_token(s, AW_TOKEN_MAX)) {
		creds_free_secret(s);
		(void)log_reason(why, whylen, "AWS_CONTAINER_AUTHORIZATION_"
		    "TOKEN is no token");
		*failed = 1;
		return NULL;
	}
	return s;
}

static int
aw_src_container(struct awskeys *k, char *why, size_t whylen,
    struct fail *f)
{
	const char *full, *rel;
	char buf[1200], *tok;
	struct url u;
	int failed, rv;

	if ((full = aw_conf->container_uri) == NULL &&
	    (full = aw_env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) == NULL &&
	    (rel = aw_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) !=
	    NULL) {
		(void)snprintf(buf, sizeof(buf), "%s%s%s", AW_ECS_HOST,
		    rel[0] == '/' ? "" : "/", rel);
		full = buf;
	}
	if (full == NULL)
		return log_reason(why, whylen, aw_setid ? "no "
		    "container_credentials_uri (the environment is not "
		    "trusted in a set-id run)" : "no container_credentials_uri "
		    "nor AWS_CONTAINER_CREDENTIALS_*_URI") + 1;
	if (conf_url_split(full, 0, &u) == -1)
		return log_reason(why, whylen, "the container credentials URI "
		    "is no http(s) URL") + 1;
	if (!aw_container_host_ok(&u))
		return log_reason(why, whylen, "the container credentials URI "
		    "is plain http to %.64s: only the ECS/EKS addresses and "
		    "loopback may be", u.host) + 1;
	tok = aw_container_token(why, whylen, &failed);
	if (failed)
		return 0;
	rv = meta_container(&u, tok, aw_conf->ca_file, k, why, whylen, f);
	creds_free_secret(tok);
	return rv;
}

/* The region, once, when the configuration has none. */
static char aw_region[40];
static char aw_role[80];

static int
aw_src_imds(struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	const char *ep = aw_conf->imds_endpoint ? aw_conf->imds_endpoint :
	    AW_IMDS;

	return meta_imds(ep, k, aw_role, sizeof(aw_role), aw_region,
	    aw_conf->region == NULL ? sizeof(aw_region) : 0, why, whylen, f);
}

typedef int (*aw_source_fn)(struct awskeys *, char *, size_t, struct fail *);

static const aw_source_fn aw_sources[CONF_SOURCE_N] = {
	NULL, aw_src_config, aw_src_env, aw_src_shared, aw_src_web,
	aw_src_container, aw_src_imds
};

/* ------------------------------------------------------------------ */
/* The chain.                                                          */

/* Where the keys came from, for --check. */
static void
aw_line_used(enum conf_source s, const struct awskeys *k)
{
	char when[64] = "";
	struct tm tm;

	if (k->expiry != 0 && gmtime_r(&k->expiry, &tm) != NULL)
		(void)strftime(when, sizeof(when), ", expire %Y-%m-%d %H:%M "
		    "UTC", &tm);
	switch (s) {
	case CONF_SOURCE_CONFIG:
		/* The configuration step names these keys already. */
		if (aw_nlines == 0)
			break;
		aw_line("credentials from the configuration (key %.4s...)%s",
		    aw_conf->aws_key_id, aw_conf->aws_token ? ", temporary" :
		    "");
		break;
	case CONF_SOURCE_ENV:
		aw_line("credentials from the environment (AWS_ACCESS_KEY_ID "
		    "%.4s...)%s", k->id, k->token ? ", temporary" : "");
		break;
	case CONF_SOURCE_SHARED:
		aw_line("credentials from the shared credentials file, "
		    "profile %.64s (key %.4s...)", aw_env("AWS_PROFILE") ?
		    aw_env("AWS_PROFILE") : "default", k->id);
		break;
	case CONF_SOURCE_WEB_IDENTITY:
		aw_line("credentials from STS AssumeRoleWithWebIdentity "
		    "(web identity token), temporary%s", when);
		break;
	case CONF_SOURCE_CONTAINER:
		aw_line("credentials from the container credentials endpoint, "
		    "temporary%s", when);
		break;
	case CONF_SOURCE_IMDS:
		aw_line("credentials from the instance role %s (IMDSv2), "
		    "temporary%s", aw_role, when);
		break;
	default:
		break;
	}
}

/* The keys into the configuration, where api.c signs with them. */
static void
aw_install(enum conf_source s, struct awskeys *k)
{
	struct conf *c = aw_conf;

	c->cred_source = s;
	c->cred_expiry = k->expiry;
	if (s == CONF_SOURCE_CONFIG)
		return;
	free(c->aws_key_id);
	creds_free_secret(c->aws_secret);
	creds_free_secret(c->aws_token);
	c->aws_key_id = k->id;
	c->aws_secret = k->secret;
	c->aws_token = k->token;
	memset(k, 0, sizeof(*k));
}

/* One source; 1 installed, 0 nothing (why), -1 with f set. */
static int
aw_try(enum conf_source s, char *why, size_t whylen, struct fail *f)
{
	struct awskeys k;
	int rv;

	memset(&k, 0, sizeof(k));
	why[0] = '\0';
	if ((rv = aw_sources[s](&k, why, whylen, f)) != 1)
		return rv;
	aw_line_used(s, &k);
	aw_install(s, &k);
	awskeys_free(&k);
	return 1;
}

/*
 * A source that should answer and did not: transient.  imds only when
 * named in the credentials key (elsewhere it may just not be EC2); the
 * container endpoint and STS whenever they are configured.
 */
static int
aw_transient(enum conf_source s)
{
	return s != CONF_SOURCE_IMDS || aw_conf->sources_set;
}

/* The region from the identity document, when the keys came elsewhere. */
static int
aw_region_fill(struct fail *f)
{
	char why[AW_WHY];
	const char *ep;
	int rv;

	if (aw_conf->region != NULL)
		return 0;
	if (aw_region[0] == '\0') {
		ep = aw_conf->imds_endpoint ? aw_conf->imds_endpoint : AW_IMDS;
		rv = meta_imds(ep, NULL, NULL, 0, aw_region, sizeof(aw_region),
		    why, sizeof(why), f);
		if (rv != 1) {
			if (rv == 0 || f->kind != FAIL_OS)
				fail_set(f, rv == 0 ? FAIL_CREDS :
				    FAIL_CREDS_TEMP, SMTP_STAGE_CONNECT, "no "
				    "region configured, and the instance "
				    "identity document gave none: %s; add "
				    "'region'", why);
			return -1;
		}
	}
	if (conf_set_region(aw_conf, aw_region) == -1) {
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return -1;
	}
	aw_conf->region_imds = 1;
	aw_line("region %s from the instance identity document", aw_region);
	return 0;
}

int
awscreds_get(struct fail *f)
{
	char why[AW_WHY], all[SES_FAIL_TEXT];
	enum conf_source s;
	size_t i;
	int rv = 0;

	if (aw_done)
		return 0;
	if (aw_conf == NULL) {
		fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_CONNECT, "the credential "
		    "chain was not set up");
		return -1;
	}
	aw_nlines = 0;
	all[0] = '\0';
	for (i = 0; i < aw_conf->nsources; i++) {
		s = aw_conf->sources[i];
		memset(f, 0, sizeof(*f));
		if ((rv = aw_try(s, why, sizeof(why), f)) == 1)
			break;
		if (rv == -1 && (f->kind == FAIL_OS || aw_transient(s))) {
			if (why[0] == '\0')
				(void)strlcpy(why, f->text, sizeof(why));
			fail_set(f, f->kind, f->stage, "AWS credentials: %s: "
			    "%s", conf_source_name(s), why);
			return -1;
		}
		aw_line("%s: nothing: %s", conf_source_name(s), why);
		(void)snprintf(all + strlen(all), sizeof(all) - strlen(all),
		    "%s%s: %s", all[0] ? "; " : "", conf_source_name(s), why);
	}
	memset(f, 0, sizeof(*f));
	if (rv != 1) {
		/* fail.c's advice follows: what to configure. */
		fail_set(f, FAIL_CREDS, SMTP_STAGE_CONNECT, "no AWS "
		    "credentials for the SES API: %s", all);
		return -1;
	}
	if (aw_region_fill(f) == -1)
		return -1;
	aw_done = 1;
	return 0;
}

int
awscreds_renew(struct fail *f)
{
	enum conf_source s;
	char why[AW_WHY];
	int rv;

	if (aw_conf == NULL || !aw_done || aw_renewed ||
	    f->kind != FAIL_API || (strcmp(f->type, "ExpiredToken") != 0 &&
	    strcmp(f->type, "ExpiredTokenException") != 0))
		return 0;
	s = aw_conf->cred_source;
	if (s != CONF_SOURCE_WEB_IDENTITY && s != CONF_SOURCE_CONTAINER &&
	    s != CONF_SOURCE_IMDS)
		return 0;
	aw_renewed = 1;
	log_warn("the temporary keys from %s expired: fetching new ones",
	    conf_source_name(s));
	memset(f, 0, sizeof(*f));
	if ((rv = aw_try(s, why, sizeof(why), f)) == 1)
		return 1;
	if (rv == 0)
		fail_set(f, FAIL_CREDS, SMTP_STAGE_CONNECT, "AWS credentials: "
		    "%s gave no new keys: %s", conf_source_name(s), why);
	return -1;
}
