/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The configuration file (design.md 9): one "key value" per line.  Every error
 * names the file, the line and the key, and never the value: a value may
 * be a secret, and an error line goes to stderr and syslog.
 *
 * Lines: '#' starts a comment only as the first non-blank character (a
 * password may contain '#', so "password a#b" keeps "a#b"); blank lines
 * are skipped; spaces and tabs around the key and value are trimmed; a
 * line ending in CR LF is accepted, a CR elsewhere, a NUL or a line over
 * CONF_LINE_MAX bytes is refused.  Keys are lowercase; keyword values
 * (yes, starttls, syslog, none...) are accepted in any case.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "extern.h"

#define CONF_FILE_MAX	(64 * 1024)	/* the whole file */
#define CONF_LINE_MAX	4096		/* one line, without CR LF */
#define CONF_KEY_SHOWN	27		/* of an unknown key, in errors */
#define CONF_DELAY_MAX	3600		/* seconds, one retry delay */
#define CONF_REGION_MAX	32
#define CONF_SECRET_MAX	128		/* username, aws_secret_access_key */
#define CONF_CONFSET_MAX 64		/* SES: configuration set name */
#define CONF_HOST_MAX	253		/* RFC 1035 2.3.4, without the dot */
#define CONF_TOKEN_MAX	4096		/* aws_session_token (STS: ~1 KiB) */

enum conf_id {
	KEY_REGION,
	KEY_HOST,
	KEY_PORT,
	KEY_TLS,
	KEY_USERNAME,
	KEY_PASSWORD,
	KEY_AWS_SECRET,
	KEY_AWS_KEY_ID,
	KEY_AWS_TOKEN,
	KEY_TRANSPORT,
	KEY_API_ENDPOINT,
	KEY_API_FALLBACK,
	KEY_PROXY,
	KEY_CA_FILE,
	KEY_FROM,
	KEY_VERIFIED,
	KEY_ADMIN,
	KEY_HELO,
	KEY_CONFSET,
	KEY_TIMEOUT,
	KEY_RETRY_DELAYS,
	KEY_RETRY_DEADLINE,
	KEY_RETRY_AFTER_DATA,
	KEY_MAX_SIZE,
	KEY_MAX_RCPTS,
	KEY_MAX_MSGS,
	KEY_MAX_AGE,
	KEY_MAX_SEND_RATE,
	KEY_RATE_FILE,
	KEY_LOG,
	KEY_CREDENTIALS,
	KEY_IMDS,
	KEY_CONTAINER_URI,
	KEY_CONTAINER_TOKEN,
	KEY_STS,
	KEY_N
};

/* Every key, and what it accepts: the second half of a "bad value" line. */
static const struct conf_key {
	const char	*name;
	enum conf_id	 id;
	const char	*want;
} conf_keys[] = {
	{ "region", KEY_REGION,
	    "a region name like us-east-1 (a-z, 0-9, '-', up to 32)" },
	{ "host", KEY_HOST, "a host name or an IP address" },
	{ "port", KEY_PORT, "a port number from 1 to 65535" },
	{ "tls", KEY_TLS, "wrapper or starttls" },
	{ "username", KEY_USERNAME,
	    "the SES SMTP user name (printable ASCII, no spaces, up to 128)" },
	{ "password", KEY_PASSWORD, "the SES SMTP password" },
	{ "aws_secret_access_key", KEY_AWS_SECRET,
	    "the IAM secret access key (printable ASCII, no spaces)" },
	{ "aws_access_key_id", KEY_AWS_KEY_ID,
	    "the IAM access key id (printable ASCII, no spaces, up to 128)" },
	{ "aws_session_token", KEY_AWS_TOKEN,
	    "the session token of temporary keys (printable ASCII)" },
	{ "transport", KEY_TRANSPORT, "smtp, api or auto" },
	{ "api_endpoint", KEY_API_ENDPOINT,
	    "https://HOST or https://HOST:PORT" },
	{ "api_fallback", KEY_API_FALLBACK, "yes or no" },
	{ "proxy", KEY_PROXY, "http://HOST:PORT" },
	{ "ca_file", KEY_CA_FILE, "an absolute path to a PEM file" },
	{ "from", KEY_FROM, "one address like sender@example.com" },
	{ "verified_domains", KEY_VERIFIED,
	    "domains or addresses separated by spaces or commas" },
	{ "admin_address", KEY_ADMIN, "one address like admin@example.com" },
	{ "helo", KEY_HELO,
	    "a host name or an address literal like [192.0.2.1]" },
	{ "configuration_set", KEY_CONFSET,
	    "a SES configuration set name (up to 64 of A-Z a-z 0-9 _ -)" },
	{ "timeout", KEY_TIMEOUT, "seconds from 1 to 3600" },
	{ "retry_delays", KEY_RETRY_DELAYS,
	    "none, or up to 16 seconds from 0 to 3600 like 1 5 10 or 0.5 2" },
	{ "retry_deadline", KEY_RETRY_DEADLINE, "seconds from 1 to 86400" },
	{ "retry_after_data", KEY_RETRY_AFTER_DATA, "yes or no" },
	{ "max_message_size", KEY_MAX_SIZE,
	    "bytes from 1 to 1099511627776" },
	{ "max_recipients", KEY_MAX_RCPTS,
	    "a number from 1 to 50 (the SES limit per message)" },
	{ "max_messages_per_connection", KEY_MAX_MSGS,
	    "a number from 1 to 100000" },
	{ "max_connection_age", KEY_MAX_AGE, "seconds from 1 to 3600" },
	{ "max_send_rate", KEY_MAX_SEND_RATE,
	    "recipients a second from 0 (off) to 3600, like 14 or 0.5" },
	{ "rate_file", KEY_RATE_FILE, "an absolute path" },
	{ "log", KEY_LOG, "syslog, stderr or none" },
	{ "credentials", KEY_CREDENTIALS, "sources among config env shared "
	    "web-identity container imds, each once, in the order to try" },
	{ "imds_endpoint", KEY_IMDS, "http://HOST or http://HOST:PORT" },
	{ "container_credentials_uri", KEY_CONTAINER_URI,
	    "http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH" },
	{ "container_authorization_token_file", KEY_CONTAINER_TOKEN,
	    "an absolute path to the file holding the token" },
	{ "sts_endpoint", KEY_STS, "https://HOST or https://HOST:PORT" },
};

/* The credentials key's words, by enum conf_source. */
static const char *const conf_source_words[] = { "none", "config", "env",
    "shared", "web-identity", "container", "imds", NULL };

static const char *const conf_tls_words[] = { "wrapper", "starttls", NULL };
static const char *const conf_log_words[] = { "syslog", "stderr", "none",
    NULL };
static const char *const conf_yesno_words[] = { "no", "yes", NULL };
static const char *const conf_transport_words[] = { "auto", "smtp", "api",
    NULL };

struct conf_parse {
	struct conf	*c;
	const char	*path;
	size_t		 lineno;
	size_t		 seen[KEY_N];	/* line of each key, 0 when absent */
	char		*err;
	size_t		 errlen;
	int		 oom;		/* memory ran out, not the file */
};

static int	conf_error(struct conf_parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
conf_error(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
conf_isblank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static int
conf_isdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
conf_isalnum(int ch)
{
	return conf_isdigit(ch) || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z');
}

/* ASCII only: the result must not depend on the locale. */
static void
conf_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* Printable ASCII without space, 1 to max octets. */
int
conf_is_token(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] <= ' ' || s[n] >= 0x7f)
			return 0;
	return n > 0 && n <= max;
}

/* Control octets other than tab (NUL and CR never reach here). */
static int
conf_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < ' ' && s[i] != '\t') ||
		    s[i] == 0x7f)
			return 1;
	return 0;
}

static int
conf_is_region(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!conf_isdigit(s[n]) && !(s[n] >= 'a' && s[n] <= 'z') &&
		    s[n] != '-')
			return 0;
	return n > 0 && n <= CONF_REGION_MAX && s[0] != '-';
}

/*
 * A domain of len octets, as addr.c judges one (RFC 1035 2.3.1: ASCII
 * only, so an international domain is written in its xn-- form), and no
 * longer than a host name may be.
 */
static int
conf_is_domain(const char *s, size_t len)
{
	return len <= CONF_HOST_MAX && addr_domain_bad(s, len) == NULL;
}

/* An IPv6 address as getaddrinfo() takes it: hex digits, ':' and '.'. */
static int
conf_is_ipv6(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || len > 45 || memchr(s, ':', len) == NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (!conf_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f') &&
		    !(s[i] >= 'A' && s[i] <= 'F') && s[i] != ':' &&
		    s[i] != '.')
			return 0;
	return 1;
}

static int
conf_is_host(const char *s)
{
	return conf_is_domain(s, strlen(s)) || conf_is_ipv6(s, strlen(s));
}

/* EHLO argument: a domain or an address literal (RFC 5321 4.1.3). */
static int
conf_is_helo(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		if (strncasecmp(s + 1, "IPv6:", 5) == 0)
			return conf_is_ipv6(s + 6, len - 7);
		return conf_is_domain(s + 1, len - 2) &&
		    strspn(s + 1, "0123456789.") == len - 2;
	}
	return conf_is_domain(s, len);
}

/*
 * A plain address: one '@', a non-empty local part of printable ASCII
 * without the RFC 5322 specials that would need quoting, a domain.  The
 * full parser is addr.c's; this is enough to refuse a typing mistake.
 */
static int
conf_is_addr(const char *s)
{
	const char *at;
	size_t i, len;

	len = strlen(s);
	if (len > SES_MAX_ADDR || (at = strchr(s, '@')) == NULL ||
	    at == s || strchr(at + 1, '@') != NULL)
		return 0;
	for (i = 0; s + i < at; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f ||
		    strchr("()<>[]:;,\\\"", s[i]) != NULL)
			return 0;
	return conf_is_domain(at + 1, len - (size_t)(at + 1 - s));
}

static int
conf_is_confset(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!conf_isalnum(s[n]) && s[n] != '_' && s[n] != '-')
			return 0;
	return n > 0 && n <= CONF_CONFSET_MAX;
}

static int
conf_is_path(const char *s)
{
	return s[0] == '/' && strlen(s) < PATH_MAX;
}

/* Digits only (no sign, no space: strtonum alone would take them). */
static int
conf_num(const char *s, long long min, long long max, long long *out)
{
	const char *errstr;
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!conf_isdigit(s[n]))
			return -1;
	if (n == 0 || n > 18)
		return -1;
	*out = strtonum(s, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

static int
conf_int(const char *s, int min, int max, int *out)
{
	long long n;

	if (conf_num(s, min, max, &n) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

/* The index of s in the NULL-terminated words, any case, or -1. */
static int
conf_word(const char *s, const char *const *words)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return i;
	return -1;
}

/*
 * One delay of len octets: digits, then optionally '.' and 1 to 6 digits;
 * at most CONF_DELAY_MAX.  Written out rather than strtod(), which follows
 * the locale's decimal point and takes hex, exponents, "inf" and "nan".
 */
static int
conf_delay(const char *s, size_t len, double *out)
{
	long long whole, frac, scale;
	size_t i;

	whole = frac = 0;
	scale = 1;
	for (i = 0; i < len && conf_isdigit(s[i]); i++)
		if ((whole = whole * 10 + (s[i] - '0')) > CONF_DELAY_MAX)
			return -1;
	if (i == 0)
		return -1;
	if (i < len) {
		if (s[i] != '.' || i + 1 == len)
			return -1;
		for (i++; i < len; i++) {
			if (!conf_isdigit(s[i]) || scale == 1000000)
				return -1;
			frac = frac * 10 + (s[i] - '0');
			scale *= 10;
		}
	}
	if (whole == CONF_DELAY_MAX && frac > 0)
		return -1;
	*out = (double)whole + (double)frac / (double)scale;
	return 0;
}

/* Length of the list item at s: up to a space, tab or comma. */
static size_t
conf_item(const char *s)
{
	return strcspn(s, " \t,");
}

static const char *
conf_skip_sep(const char *s)
{
	return s + strspn(s, " \t,");
}

/* "none", or up to CONF_MAX_DELAYS delays separated by spaces/commas. */
static int
conf_delays(struct conf *c, const char *s)
{
	double d[CONF_MAX_DELAYS];
	size_t n, len;

	if (strcasecmp(s, "none") == 0) {
		c->nretry_delays = 0;
		return 0;
	}
	for (n = 0, s = conf_skip_sep(s); *s != '\0'; s = conf_skip_sep(s)) {
		len = conf_item(s);
		if (n == CONF_MAX_DELAYS || conf_delay(s, len, &d[n]) == -1)
			return -1;
		n++;
		s += len;
	}
	if (n == 0)
		return -1;
	memcpy(c->retry_delays, d, n * sizeof(d[0]));
	c->nretry_delays = n;
	return 0;
}

static void
conf_free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * verified_domains: items separated by spaces and/or commas, each a
 * domain or an address; domains (and the domain of an address) are
 * lowercased.  Returns 0, -1 for a bad item, -2 out of memory.
 */
static int
conf_verified(struct conf *c, const char *s)
{
	char **v, **nv, *item, *at;
	size_t n, len;

	v = NULL;
	n = 0;
	for (s = conf_skip_sep(s); *s != '\0'; s = conf_skip_sep(s + len)) {
		len = conf_item(s);
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			conf_free_list(v, n);
			return -2;
		}
		v = nv;
		if ((item = v[n] = strndup(s, len)) == NULL) {
			conf_free_list(v, n);
			return -2;
		}
		n++;
		if ((at = strchr(item, '@')) == NULL ?
		    !conf_is_domain(item, len) : !conf_is_addr(item)) {
			conf_free_list(v, n);
			return -1;
		}
		conf_lower(at != NULL ? at : item);
	}
	if (n == 0)
		return -1;
	c->verified = v;
	c->nverified = n;
	return 0;
}

/* credentials: each source once, in the order given. */
static int
conf_sources(struct conf *c, const char *s)
{
	enum conf_source v[CONF_SOURCES_MAX];
	char word[16];
	size_t n, i, len;
	int w;

	for (n = 0, s = conf_skip_sep(s); *s != '\0'; s = conf_skip_sep(s)) {
		len = conf_item(s);
		if (len >= sizeof(word) || n == CONF_SOURCES_MAX)
			return -1;
		memcpy(word, s, len);
		word[len] = '\0';
		if ((w = conf_word(word, conf_source_words)) <= 0)
			return -1;
		for (i = 0; i < n; i++)
			if (v[i] == (enum conf_source)w)
				return -1;
		v[n++] = (enum conf_source)w;
		s += len;
	}
	if (n == 0)
		return -1;
	memcpy(c->sources, v, n * sizeof(v[0]));
	c->nsources = n;
	c->sources_set = 1;
	return 0;
}

const char *
conf_source_name(enum conf_source s)
{
	if ((int)s < 0 || s >= CONF_SOURCE_N)
		return "none";
	return conf_source_words[s];
}

/* A URL key with a path: valid when conf_url_split() takes it. */
static int
conf_take_path_url(char **field, char **v, int https_only)
{
	struct url u;

	if (conf_url_split(*v, https_only, &u) == -1)
		return -1;
	*field = *v;
	*v = NULL;
	return 0;
}

/* Store *v into *field when valid: the value is then the field's. */
static int
conf_take(char **field, char **v, int valid)
{
	if (!valid)
		return -1;
	*field = *v;
	*v = NULL;
	return 0;
}

/*
 * SCHEME://HOST[:PORT][/] with HOST a name, an IPv4 address or [IPv6]:
 * the host (brackets gone) into *host, the port (dflt when none) into
 * *port.  Returns 0, -1 when s is no such URL, -2 out of memory.
 */
static int
conf_url(const char *s, const char *scheme, int dflt, char **host,
    int *port)
{
	const char *h, *end, *colon;
	size_t slen = strlen(scheme), hlen;
	char num[8];
	int rv;

	if (strncmp(s, scheme, slen) != 0 || strncmp(s + slen, "://", 3) != 0)
		return -1;
	h = s + slen + 3;
	end = h + strcspn(h, "/");
	if (*end == '/' && end[1] != '\0')
		return -1;			/* no path */
	if (*h == '[') {
		if ((colon = memchr(h, ']', (size_t)(end - h))) == NULL ||
		    !conf_is_ipv6(h + 1, (size_t)(colon - h - 1)))
			return -1;
		hlen = (size_t)(colon - h - 1);
		h++;
		colon++;
		if (colon != end && *colon != ':')
			return -1;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hlen = (size_t)((colon ? colon : end) - h);
		if (!conf_is_domain(h, hlen))
			return -1;
	}
	*port = dflt;
	if (colon != NULL && colon != end) {
		if ((size_t)(end - colon - 1) >= sizeof(num) ||
		    end == colon + 1)
			return -1;
		memcpy(num, colon + 1, (size_t)(end - colon - 1));
		num[end - colon - 1] = '\0';
		if ((rv = conf_int(num, 1, 65535, port)) != 0)
			return rv;
	}
	if ((*host = strndup(h, hlen)) == NULL)
		return -2;
	return 0;
}

/* A URL key: the whole value kept (for messages), its host and port. */
static int
conf_take_url(char **field, char **v, const char *scheme, int dflt,
    char **host, int *port)
{
	int rv;

	free(*host);
	*host = NULL;
	if ((rv = conf_url(*v, scheme, dflt, host, port)) != 0)
		return rv;
	return conf_take(field, v, 1);
}

/*
 * Set the key id from the value *v (heap, NUL-terminated).  String keys
 * take *v and set it to NULL.  Returns 0, -1 for a bad value, -2 out of
 * memory.
 */
static int
conf_set(struct conf *c, enum conf_id id, char **v)
{
	long long n;
	int w;

	switch (id) {
	case KEY_REGION:
		return conf_take(&c->region, v, conf_is_region(*v));
	case KEY_HOST:
		return conf_take(&c->host, v, conf_is_host(*v));
	case KEY_PORT:
		return conf_int(*v, 1, 65535, &c->port);
	case KEY_TLS:
		if ((w = conf_word(*v, conf_tls_words)) == -1)
			return -1;
		c->tls = w == 0 ? CONF_TLS_WRAPPER : CONF_TLS_STARTTLS;
		return 0;
	case KEY_USERNAME:
		return conf_take(&c->username, v,
		    conf_is_token(*v, CONF_SECRET_MAX));
	case KEY_PASSWORD:
		return conf_take(&c->password, v, 1);
	case KEY_AWS_SECRET:
		return conf_take(&c->aws_secret, v,
		    conf_is_token(*v, CONF_SECRET_MAX));
	case KEY_AWS_KEY_ID:
		return conf_take(&c->aws_key_id, v,
		    conf_is_token(*v, CONF_SECRET_MAX));
	case KEY_AWS_TOKEN:
		return conf_take(&c->aws_token, v,
		    conf_is_token(*v, CONF_TOKEN_MAX));
	case KEY_TRANSPORT:
		if ((w = conf_word(*v, conf_transport_words)) == -1)
			return -1;
		c->transport = (enum conf_transport)w;
		return 0;
	case KEY_API_ENDPOINT:
		return conf_take_url(&c->api_endpoint, v, "https", 443,
		    &c->api_host, &c->api_port);
	case KEY_API_FALLBACK:
		if ((w = conf_word(*v, conf_yesno_words)) == -1)
			return -1;
		c->api_fallback = w;
		return 0;
	case KEY_PROXY:
		return conf_take_url(&c->proxy, v, "http", 80, &c->proxy_host,
		    &c->proxy_port);
	case KEY_CA_FILE:
		return conf_take(&c->ca_file, v, conf_is_path(*v));
	case KEY_FROM:
		return conf_take(&c->from, v, conf_is_addr(*v));
	case KEY_VERIFIED:
		return conf_verified(c, *v);
	case KEY_ADMIN:
		return conf_take(&c->admin_address, v, conf_is_addr(*v));
	case KEY_HELO:
		return conf_take(&c->helo, v, conf_is_helo(*v));
	case KEY_CONFSET:
		return conf_take(&c->configuration_set, v,
		    conf_is_confset(*v));
	case KEY_TIMEOUT:
		return conf_int(*v, 1, 3600, &c->timeout);
	case KEY_RETRY_DELAYS:
		return conf_delays(c, *v);
	case KEY_RETRY_DEADLINE:
		return conf_int(*v, 1, 86400, &c->retry_deadline);
	case KEY_RETRY_AFTER_DATA:
		if ((w = conf_word(*v, conf_yesno_words)) == -1)
			return -1;
		c->retry_after_data = w;
		return 0;
	case KEY_MAX_SIZE:
		if (conf_num(*v, 1, 1LL << 40, &n) == -1)
			return -1;
		c->max_message_size = n;
		return 0;
	case KEY_MAX_RCPTS:
		return conf_int(*v, 1, 50, &c->max_recipients);
	case KEY_MAX_MSGS:
		return conf_int(*v, 1, 100000,
		    &c->max_messages_per_connection);
	case KEY_MAX_AGE:
		return conf_int(*v, 1, 3600, &c->max_connection_age);
	case KEY_MAX_SEND_RATE:
		return conf_delay(*v, strlen(*v), &c->max_send_rate);
	case KEY_RATE_FILE:
		return conf_take(&c->rate_file, v, conf_is_path(*v));
	case KEY_LOG:
		if ((w = conf_word(*v, conf_log_words)) == -1)
			return -1;
		c->log = w == 0 ? CONF_LOG_SYSLOG :
		    w == 1 ? CONF_LOG_STDERR : CONF_LOG_NONE;
		return 0;
	case KEY_CREDENTIALS:
		return conf_sources(c, *v);
	case KEY_IMDS:
		if (strncmp(*v, "http://", 7) != 0)
			return -1;
		return conf_take_url(&c->imds_endpoint, v, "http", 80,
		    &c->imds_host, &c->imds_port);
	case KEY_CONTAINER_URI:
		return conf_take_path_url(&c->container_uri, v, 0);
	case KEY_CONTAINER_TOKEN:
		return conf_take(&c->container_token_file, v,
		    conf_is_path(*v));
	case KEY_STS:
		return conf_take_url(&c->sts_endpoint, v, "https", 443,
		    &c->sts_host, &c->sts_port);
	case KEY_N:
		break;
	}
	return -1;
}

/*
 * SCHEME://HOST[:PORT][/PATH]: the path printable ASCII without blanks,
 * as a request target takes it (RFC 9112 3.2.1, origin-form).
 */
int
conf_url_split(const char *s, int https_only, struct url *u)
{
	const char *slash, *scheme;
	char *host, *base;
	size_t i;
	int port, rv;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "https://", 8) == 0)
		u->tls = 1;
	else if (https_only || strncmp(s, "http://", 7) != 0)
		return -1;
	scheme = u->tls ? "https" : "http";
	slash = strchr(s + strlen(scheme) + 3, '/');
	if (slash == NULL)
		slash = s + strlen(s);
	for (i = 0; slash[i] != '\0'; i++)
		if (slash[i] <= ' ' || slash[i] >= 0x7f || slash[i] == '#')
			return -1;
	if (strlcpy(u->path, *slash ? slash : "/", sizeof(u->path)) >=
	    sizeof(u->path))
		return -1;
	if ((base = strndup(s, (size_t)(slash - s))) == NULL)
		return -1;
	host = NULL;
	rv = conf_url(base, scheme, u->tls ? 443 : 80, &host, &port);
	free(base);
	if (rv != 0)
		return -1;
	rv = strlcpy(u->host, host, sizeof(u->host)) < sizeof(u->host) ?
	    0 : -1;
	free(host);
	u->port = port;
	return rv;
}

static const struct conf_key *
conf_lookup(const char *key, size_t klen, int anycase)
{
	size_t i;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (strlen(conf_keys[i].name) == klen &&
		    (anycase ? strncasecmp(conf_keys[i].name, key, klen) :
		    strncmp(conf_keys[i].name, key, klen)) == 0)
			return &conf_keys[i];
	return NULL;
}

/*
 * An unknown key.  It is shown only when it looks like one (at most
 * CONF_KEY_SHOWN lowercase letters and '_', cut at a ':' or '=' so that
 * "password:s3cret value" never shows s3cret), or is a key in the wrong
 * case.  A lone word is not shown at all: it may be a secret pasted on a
 * line of its own.
 */
static int
conf_unknown(struct conf_parse *p, const char *key, size_t klen,
    int hasvalue)
{
	char shown[CONF_KEY_SHOWN + 1];
	const char *hint;
	size_t n;
	int sep;

	if (!hasvalue)
		return conf_error(p, "%s:%zu: not a 'key value' line (the "
		    "word is not shown: it may be a secret)", p->path,
		    p->lineno);
	/* Only a word that looks like a key (lowercase letters and '_',
	 * or a key in the wrong case) is shown: a pasted secret, with its
	 * digits, capitals and '+/=', never is. */
	for (n = 0; n < klen && ((key[n] >= 'a' && key[n] <= 'z') ||
	    key[n] == '_' || key[n] == '-'); n++)
		continue;
	if (n < klen && conf_lookup(key, klen, 1) != NULL)
		n = klen;
	sep = n < klen && (key[n] == ':' || key[n] == '=');
	if (n == 0 || n > CONF_KEY_SHOWN || (n < klen && !sep))
		return conf_error(p, "%s:%zu: unknown key (not shown: it does "
		    "not look like a key and may be a secret); "
		    "ses-sendmail.conf(5) lists the keys", p->path, p->lineno);
	memcpy(shown, key, n);
	shown[n] = '\0';
	if (sep)
		hint = "; write the key, a space, then the value";
	else if (conf_lookup(key, klen, 1) != NULL)
		hint = "; keys are lowercase";
	else
		hint = "; ses-sendmail.conf(5) lists the keys";
	return conf_error(p, "%s:%zu: unknown key '%s%s'%s", p->path,
	    p->lineno, shown, sep ? key[n] == ':' ? ":" : "=" : "", hint);
}

/* One line (len octets, without its LF). */
static int
conf_line(struct conf_parse *p, const char *s, size_t len)
{
	const struct conf_key *k;
	const char *val;
	char *v;
	size_t klen, vlen;
	int rc;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len > CONF_LINE_MAX)
		return conf_error(p, "%s:%zu: line longer than %d bytes; "
		    "shorten it", p->path, p->lineno, CONF_LINE_MAX);
	if (memchr(s, '\0', len) != NULL)
		return conf_error(p, "%s:%zu: NUL byte in the line; save the "
		    "file as plain text", p->path, p->lineno);
	if (memchr(s, '\r', len) != NULL)
		return conf_error(p, "%s:%zu: carriage return inside the "
		    "line; save the file as plain text", p->path, p->lineno);
	while (len > 0 && conf_isblank(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && conf_isblank(s[len - 1]))
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	for (klen = 0; klen < len && !conf_isblank(s[klen]); klen++)
		continue;
	val = s + klen;
	vlen = len - klen;
	while (vlen > 0 && conf_isblank(*val)) {
		val++;
		vlen--;
	}
	if ((k = conf_lookup(s, klen, 0)) == NULL)
		return conf_unknown(p, s, klen, vlen > 0);
	if (p->seen[k->id] != 0)
		return conf_error(p, "%s:%zu: %s: repeated (first on line "
		    "%zu); keep one of the two lines", p->path, p->lineno,
		    k->name, p->seen[k->id]);
	p->seen[k->id] = p->lineno;
	if (vlen == 0)
		return conf_error(p, "%s:%zu: %s: missing value; write %s "
		    "and its value on one line", p->path, p->lineno, k->name,
		    k->name);
	if (conf_has_ctl(val, vlen))
		return conf_error(p, "%s:%zu: %s: control character in the "
		    "value; remove it", p->path, p->lineno, k->name);
	if ((v = strndup(val, vlen)) == NULL)
		rc = -2;
	else
		rc = conf_set(p->c, k->id, &v);
	creds_free_secret(v);
	if (rc == -2) {
		p->oom = 1;
		return conf_error(p, "%s:%zu: %s: out of memory", p->path,
		    p->lineno, k->name);
	}
	if (rc == -1)
		return conf_error(p, "%s:%zu: %s: bad value; expected %s",
		    p->path, p->lineno, k->name, k->want);
	return 0;
}

/* The SMTP transport's keys: a user name, and a password or the IAM secret. */
static int
conf_check_smtp(struct conf_parse *p)
{
	struct conf *c = p->c;

	if (c->username == NULL)
		return conf_error(p, "%s: username: missing; add 'username "
		    "ID' with your SES SMTP user name", p->path);
	if (c->password == NULL && c->aws_secret == NULL)
		return conf_error(p, "%s: password: missing; add 'password' "
		    "with your SES SMTP password, or 'aws_secret_access_key' "
		    "and 'region'", p->path);
	if (c->aws_secret != NULL && c->region == NULL)
		return conf_error(p, "%s:%zu: aws_secret_access_key: needs "
		    "region (the SMTP password is derived per region); add "
		    "'region'", p->path, p->seen[KEY_AWS_SECRET]);
	return 0;
}

/* Is source s in the chain (the credentials key, or the default)? */
static int
conf_has_source(const struct conf *c, enum conf_source s)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i] == s)
			return 1;
	return 0;
}

/*
 * The chain without static keys: the region may come from the instance
 * identity document when imds is a source (design.md 12).
 */
static int
conf_check_chain(struct conf_parse *p)
{
	struct conf *c = p->c;

	if (c->region == NULL && !conf_has_source(c, CONF_SOURCE_IMDS))
		return conf_error(p, "%s: region: missing; the API transport "
		    "signs for a region: add 'region' (like us-east-1)",
		    p->path);
	return 0;
}

/* The API transport's keys: a key id and its secret, and the region. */
static int
conf_check_api(struct conf_parse *p)
{
	struct conf *c = p->c;

	/* No secret: the credential chain finds the keys (awscreds.c). */
	if (c->aws_secret == NULL && c->aws_key_id != NULL &&
	    p->seen[KEY_AWS_KEY_ID] != 0)
		return conf_error(p, "%s:%zu: aws_access_key_id: set without "
		    "aws_secret_access_key; add it, or remove both to use the "
		    "credential chain", p->path, p->seen[KEY_AWS_KEY_ID]);
	if (c->aws_secret == NULL)
		return conf_check_chain(p);
	if (c->aws_key_id == NULL)
		return conf_error(p, "%s: aws_access_key_id: missing; add it "
		    "(or 'username') with the IAM access key id", p->path);
	if (c->region == NULL)
		return conf_error(p, "%s: region: missing; the API transport "
		    "signs for a region: add 'region' (like us-east-1)",
		    p->path);
	return 0;
}

/*
 * The required keys and the keys that go together (design.md 9 and 12):
 * the transport is chosen here, once, from what is configured.
 */
static int
conf_check(struct conf_parse *p)
{
	struct conf *c = p->c;

	if (c->password != NULL && c->aws_secret != NULL)
		return conf_error(p, "%s:%zu: aws_secret_access_key: set "
		    "together with password (line %zu); keep only one",
		    p->path, p->seen[KEY_AWS_SECRET], p->seen[KEY_PASSWORD]);
	if (c->aws_key_id == NULL && c->username != NULL &&
	    (c->aws_key_id = strdup(c->username)) == NULL) {
		p->oom = 1;
		return conf_error(p, "%s: out of memory", p->path);
	}
	if (!c->sources_set) {
		for (c->nsources = 0; c->nsources < CONF_SOURCES_MAX;
		    c->nsources++)
			c->sources[c->nsources] =
			    (enum conf_source)(c->nsources + 1);
	}
	/* The chain serves api_fallback only when asked for by name. */
	c->api_ok = (c->aws_secret != NULL && c->aws_key_id != NULL &&
	    c->region != NULL) || (c->sources_set && c->region != NULL &&
	    c->aws_secret == NULL);
	/* SMTP with a password (or what derives one), or a user name
	 * whose password is missing; else the API, with the chain's keys
	 * when none are configured. */
	if (c->transport == CONF_TRANSPORT_AUTO)
		c->transport = c->password != NULL || (c->username != NULL &&
		    (c->aws_secret != NULL || p->seen[KEY_AWS_KEY_ID] == 0)) ?
		    CONF_TRANSPORT_SMTP : CONF_TRANSPORT_API;
	if ((c->transport == CONF_TRANSPORT_SMTP ? conf_check_smtp(p) :
	    conf_check_api(p)) == -1)
		return -1;
	if (c->region == NULL && c->host == NULL &&
	    c->transport == CONF_TRANSPORT_SMTP)
		return conf_error(p, "%s: region: missing; add 'region' "
		    "(like us-east-1) or 'host'", p->path);
	if (c->from != NULL && c->nverified > 0 &&
	    !conf_is_verified(c, c->from))
		return conf_error(p, "%s:%zu: from: not inside "
		    "verified_domains; add its domain or address there",
		    p->path, p->seen[KEY_FROM]);
	return 0;
}

/*
 * What follows from what was set: the SES endpoint of the region, TLS
 * from the port (ses.md 2.1: 465 and 2465 are TLS wrapper ports), and,
 * for "tls starttls" without a port, SES's submission port 587 rather
 * than 465, where STARTTLS can never work.
 */
static int
conf_derive(struct conf_parse *p)
{
	struct conf *c = p->c;

	if (c->host == NULL && c->region != NULL && asprintf(&c->host,
	    "email-smtp.%s.amazonaws.com", c->region) == -1) {
		c->host = NULL;
		p->oom = 1;
		return conf_error(p, "%s: host: out of memory", p->path);
	}
	/* The API's endpoint: SES's own for the region (ses.md 9.1). */
	if (c->api_endpoint == NULL && c->region != NULL && (asprintf(
	    &c->api_endpoint, "https://email.%s.amazonaws.com", c->region) ==
	    -1 || asprintf(&c->api_host, "email.%s.amazonaws.com",
	    c->region) == -1)) {
		p->oom = 1;
		return conf_error(p, "%s: api_endpoint: out of memory",
		    p->path);
	}
	if (c->api_port == 0)
		c->api_port = 443;
	if (c->tls == CONF_TLS_STARTTLS && p->seen[KEY_PORT] == 0)
		c->port = 587;
	if (c->tls == CONF_TLS_DEFAULT)
		c->tls = (c->port == 465 || c->port == 2465) ?
		    CONF_TLS_WRAPPER : CONF_TLS_STARTTLS;
	return 0;
}

void
conf_init(struct conf *c)
{
	static const double delays[] = { 1, 5, 10 };

	memset(c, 0, sizeof(*c));
	c->port = 465;
	c->tls = CONF_TLS_DEFAULT;
	c->timeout = 30;
	memcpy(c->retry_delays, delays, sizeof(delays));
	c->nretry_delays = sizeof(delays) / sizeof(delays[0]);
	c->retry_deadline = 60;
	c->retry_after_data = 1;
	c->max_message_size = 41943040;
	c->max_recipients = 50;
	c->max_messages_per_connection = 100;
	c->max_connection_age = 60;
	c->log = CONF_LOG_SYSLOG;
	c->api_fallback = 1;
}

/*
 * The caller has run conf_init(c).  On failure c is freed (its secrets
 * wiped at once) and back to its defaults, path kept; conf_free() on it
 * stays safe.
 */
int
conf_parse_buf(const char *buf, size_t len, const char *path,
    struct conf *c, char *err, size_t errlen)
{
	struct conf_parse p;
	const char *nl;
	size_t off, llen;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.path = path;
	p.err = err;
	p.errlen = errlen;
	if (strlcpy(c->path, path, sizeof(c->path)) >= sizeof(c->path))
		return conf_error(&p, "%s: path too long", path);
	off = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;	/* a UTF-8 byte order mark */
	while (off < len) {
		p.lineno++;
		nl = memchr(buf + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		if (conf_line(&p, buf + off, llen) == -1)
			goto fail;
		off += llen + (nl != NULL);
	}
	if (conf_check(&p) == -1 || conf_derive(&p) == -1)
		goto fail;
	return 0;
fail:
	conf_free(c);
	conf_init(c);
	strlcpy(c->path, path, sizeof(c->path));
	return p.oom ? -2 : -1;
}

int
conf_parse_fd(int fd, const char *path, struct conf *c, char *err,
    size_t errlen)
{
	char *buf;
	size_t len;
	ssize_t n;
	int rc;

	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory to read it", path);
		return -2;
	}
	len = 0;
	rc = 0;
	while (len <= CONF_FILE_MAX) {
		n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (rc == 0 && len > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: file too large (over %d KiB); "
		    "it holds only a few settings", path, CONF_FILE_MAX / 1024);
		rc = -1;
	}
	if (rc == 0)
		rc = conf_parse_buf(buf, len, path, c, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int
conf_has_secret(const struct conf *c)
{
	return (c->password != NULL && c->password[0] != '\0') ||
	    (c->aws_secret != NULL && c->aws_secret[0] != '\0') ||
	    (c->aws_token != NULL && c->aws_token[0] != '\0');
}

/*
 * An entry with '@' matches that address (any case); an entry without
 * matches an address whose domain is that domain.  A subdomain does not
 * match: list it too.  The From rewrite relies on this list, so it says
 * exactly what the administrator wrote, no more.
 */
int
conf_is_verified(const struct conf *c, const char *addr)
{
	const char *dom;
	size_t i;

	if (addr == NULL)
		return 0;
	dom = strrchr(addr, '@');
	for (i = 0; i < c->nverified; i++) {
		if (strchr(c->verified[i], '@') != NULL) {
			if (strcasecmp(c->verified[i], addr) == 0)
				return 1;
		} else if (dom != NULL &&
		    strcasecmp(c->verified[i], dom + 1) == 0)
			return 1;
	}
	return 0;
}

void
conf_free(struct conf *c)
{
	creds_free_secret(c->password);
	creds_free_secret(c->aws_secret);
	creds_free_secret(c->aws_token);
	c->password = c->aws_secret = c->aws_token = NULL;
	free(c->aws_key_id);
	free(c->api_endpoint);
	free(c->api_host);
	free(c->proxy);
	free(c->proxy_host);
	free(c->imds_endpoint);
	free(c->imds_host);
	free(c->container_uri);
	free(c->container_token_file);
	free(c->sts_endpoint);
	free(c->sts_host);
	c->imds_endpoint = c->imds_host = c->container_uri = NULL;
	c->container_token_file = c->sts_endpoint = c->sts_host = NULL;
	c->aws_key_id = c->api_endpoint = c->api_host = NULL;
	c->proxy = c->proxy_host = NULL;
	free(c->region);
	free(c->host);
	free(c->username);
	free(c->ca_file);
	free(c->from);
	free(c->admin_address);
	free(c->helo);
	free(c->configuration_set);
	free(c->rate_file);
	c->rate_file = NULL;
	conf_free_list(c->verified, c->nverified);
	c->region = c->host = c->username = c->ca_file = c->from = NULL;
	c->admin_address = c->helo = c->configuration_set = NULL;
	c->verified = NULL;
	c->nverified = 0;
}

int
conf_set_region(struct conf *c, const char *region)
{
	if (!conf_is_region(region))
		return -1;
	free(c->region);
	if ((c->region = strdup(region)) == NULL)
		return -1;
	if (c->host == NULL && asprintf(&c->host,
	    "email-smtp.%s.amazonaws.com", region) == -1) {
		c->host = NULL;
		return -1;
	}
	if (c->api_endpoint == NULL && (asprintf(&c->api_endpoint,
	    "https://email.%s.amazonaws.com", region) == -1 ||
	    asprintf(&c->api_host, "email.%s.amazonaws.com", region) == -1)) {
		c->api_endpoint = c->api_host = NULL;
		return -1;
	}
	return 0;
}
