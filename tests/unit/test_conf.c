/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * conf.c: every key, valid and invalid; defaults; comments; the required
 * keys; what follows from what (host, tls, port); verified_domains; and,
 * for every kind of error, that the line and key are named and that the
 * value (a secret, maybe) is not.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

#define PATH	"/etc/ses.conf"
#define REPEATED PATH ":4: password: repeated (first on line 2); keep one"
#define SECRET	"Sup3rS3cretValue"
#define BASE	"username AKIAIOSFODNN7EXAMPLE\n" \
		"password BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9\n" \
		"region us-east-1\n"

static char err[512];

/*
 * s for a one-line TAP description: a newline shown as '|', another
 * control character as '?'.
 */
static const char *
oneline(const char *s)
{
	static char buf[2][256];
	static int n;
	char *p;

	n = !n;
	strlcpy(buf[n], s, sizeof(buf[n]));
	for (p = buf[n]; *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';
		else if ((unsigned char)*p < ' ')
			*p = '?';
	return buf[n];
}

static int
parse(struct conf *c, const char *text)
{
	conf_init(c);
	err[0] = '\0';
	return conf_parse_buf(text, strlen(text), PATH, c, err, sizeof(err));
}

/*
 * BASE plus line as line 4, parsed; the conf is freed.  A line of BASE
 * with the same key becomes a comment, so line numbers stay.
 */
static int
parse1(const char *line)
{
	static const char *const base[] = {
		"username AKIAIOSFODNN7EXAMPLE\n",
		"password BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9\n",
		"region us-east-1\n",
	};
	struct conf c;
	char text[8192];
	size_t i, klen;
	int rc;

	text[0] = '\0';
	klen = strcspn(line, " ");
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		strlcat(text, strncmp(base[i], line, klen) == 0 &&
		    base[i][klen] == ' ' ? "#\n" : base[i], sizeof(text));
	strlcat(text, line, sizeof(text));
	strlcat(text, "\n", sizeof(text));
	rc = parse(&c, text);
	conf_free(&c);
	return rc;
}

/* Valid as line 4 of BASE. */
static void
good(const char *line)
{
	is_int(parse1(line), 0, "valid: %s", oneline(line));
	if (err[0] != '\0')
		printf("#   err: %s\n", err);
}

/*
 * Refused as line 4 of BASE, with an error holding want and not the
 * word secret.
 */
static void
bad_secret(const char *line, const char *want, const char *secret)
{
	is_int(parse1(line), -1, "refused: %s", oneline(line));
	ok(strstr(err, want) != NULL, "error has '%s': %s", want, err);
	ok(strstr(err, secret) == NULL, "error hides the value: %s", err);
}

/*
 * Refused as line 4 with "PATH:4: key: bad value; expected ...", the
 * same error as for another bad value: the value is not in it.
 */
static void
bad(const char *key, const char *value)
{
	char line[4200], want[128], ref[sizeof(err)];

	snprintf(line, sizeof(line), "%s ~ ~", key);
	parse1(line);
	strlcpy(ref, err, sizeof(ref));
	snprintf(line, sizeof(line), "%s %s", key, value);
	snprintf(want, sizeof(want), PATH ":4: %s: bad value; expected ",
	    key);
	is_int(parse1(line), -1, "refused: %s '%s'", key, value);
	ok(strncmp(err, want, strlen(want)) == 0 && strcmp(err, ref) == 0,
	    "error names line and key, not the value: %s", err);
}

static void
test_defaults(void)
{
	struct conf c;

	is_int(parse(&c, BASE), 0, "the minimal file parses");
	is_str(c.path, PATH, "path kept");
	is_str(c.username, "AKIAIOSFODNN7EXAMPLE", "username");
	is_str(c.password, "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9",
	    "password");
	is_str(c.region, "us-east-1", "region");
	is_str(c.host, "email-smtp.us-east-1.amazonaws.com",
	    "host from region");
	is_int(c.port, 465, "port 465");
	is_int(c.tls, CONF_TLS_WRAPPER, "465: wrapper");
	is_int(c.timeout, 30, "timeout 30");
	is_int(c.nretry_delays, 3, "three retry delays");
	ok(c.retry_delays[0] == 1 && c.retry_delays[1] == 5 &&
	    c.retry_delays[2] == 10, "retry_delays 1 5 10");
	is_int(c.retry_deadline, 60, "retry_deadline 60");
	is_int(c.retry_after_data, 1, "retry_after_data yes");
	is_int(c.max_message_size, 41943040, "max_message_size 40 MiB");
	is_int(c.max_recipients, 50, "max_recipients 50");
	is_int(c.max_messages_per_connection, 100,
	    "max_messages_per_connection 100");
	is_int(c.max_connection_age, 60, "max_connection_age 60");
	ok(c.max_send_rate == 0 && c.rate_file == NULL,
	    "max_send_rate 0 (off), rate_file its default");
	is_int(c.log, CONF_LOG_SYSLOG, "log syslog");
	ok(c.from == NULL && c.admin_address == NULL && c.helo == NULL &&
	    c.ca_file == NULL && c.configuration_set == NULL &&
	    c.aws_secret == NULL && c.nverified == 0, "optional keys unset");
	is_int(conf_has_secret(&c), 1, "has a secret");
	conf_free(&c);
	ok(c.password == NULL && c.username == NULL, "conf_free clears");
	conf_free(&c);
	ok(1, "conf_free twice is harmless");
	conf_init(&c);
	is_int(conf_has_secret(&c), 0, "a fresh conf has no secret");
}

static void
test_every_key(void)
{
	struct conf c;

	is_int(parse(&c,
	    "username user\n"
	    "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	    "region eu-west-1\n"
	    "host 127.0.0.1\n"
	    "port 2587\n"
	    "tls wrapper\n"
	    "ca_file /etc/ssl/certs/ca.pem\n"
	    "from sender@example.com\n"
	    "verified_domains example.com\n"
	    "admin_address admin@example.org\n"
	    "helo mail.example.com\n"
	    "configuration_set my-set_1\n"
	    "timeout 3600\n"
	    "retry_delays 0.5 2\n"
	    "retry_deadline 86400\n"
	    "retry_after_data no\n"
	    "max_message_size 1099511627776\n"
	    "max_recipients 1\n"
	    "max_messages_per_connection 100000\n"
	    "max_connection_age 1\n"
	    "log stderr\n"), 0, "every key at once");
	is_str(c.aws_secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	    "aws_secret_access_key");
	ok(c.password == NULL, "no password yet: creds_prepare derives it");
	is_str(c.region, "eu-west-1", "region");
	is_str(c.host, "127.0.0.1", "host kept over region");
	is_int(c.port, 2587, "port");
	is_int(c.tls, CONF_TLS_WRAPPER, "tls wrapper on any port");
	is_str(c.ca_file, "/etc/ssl/certs/ca.pem", "ca_file");
	is_str(c.from, "sender@example.com", "from");
	is_str(c.admin_address, "admin@example.org", "admin_address");
	is_str(c.helo, "mail.example.com", "helo");
	is_str(c.configuration_set, "my-set_1", "configuration_set");
	is_int(c.timeout, 3600, "timeout");
	ok(c.nretry_delays == 2 && c.retry_delays[0] == 0.5 &&
	    c.retry_delays[1] == 2, "retry_delays 0.5 2");
	is_int(c.retry_deadline, 86400, "retry_deadline");
	is_int(c.retry_after_data, 0, "retry_after_data no");
	is_int(c.max_message_size, 1LL << 40, "max_message_size 2^40");
	is_int(c.max_recipients, 1, "max_recipients");
	is_int(c.max_messages_per_connection, 100000,
	    "max_messages_per_connection");
	is_int(c.max_connection_age, 1, "max_connection_age");
	is_int(c.log, CONF_LOG_STDERR, "log stderr");
	is_int(conf_has_secret(&c), 1, "aws_secret is a secret");
	conf_free(&c);
	ok(c.aws_secret == NULL, "conf_free clears aws_secret");

	good("log none");
	good("log SysLog");
	good("retry_after_data YES");
	good("tls STARTTLS");
	good("host email-smtp-fips.us-east-1.amazonaws.com");
	good("host ::1");
	good("host localhost");
	good("helo [192.0.2.1]");
	good("helo [IPv6:2001:db8::1]");
	good("port 1");
	good("port 65535");
	good("port 0587");
	good("timeout 1");
	good("max_recipients 50");
	good("max_message_size 1");
	good("admin_address root@localhost");
	good("from o'brien+tag@sub.example.co.uk");
	good("configuration_set "
	    "a23456789012345678901234567890123456789"
	    "0123456789012345678901234");
}

static void
test_bad_values(void)
{
	bad("region", "US-EAST-1");
	bad("region", "us_east_1");
	bad("region", "-us-east-1");
	bad("region", "a23456789012345678901234567890123");
	bad("host", "bad_host.example.com");
	bad("host", "two words");
	bad("host", "example..com");
	bad("port", "0");
	bad("port", "65536");
	bad("port", "+25");
	bad("port", "-1");
	bad("port", "25x");
	bad("port", "0x19");
	bad("tls", "ssl");
	bad("aws_secret_access_key", "has " SECRET);
	bad("ca_file", "relative/ca.pem");
	bad("from", "nodomain");
	bad("from", "a@b@example.com");
	bad("from", "@example.com");
	bad("from", "user@");
	bad("from", "<user@example.com>");
	bad("from", "User <user@example.com>");
	bad("from", "user@exa_mple.com");
	bad("from", "us\xc3\xa9r@example.com");
	bad("admin_address", "root");
	bad("helo", "bad_helo");
	bad("helo", "[192.0.2.x]");
	bad("configuration_set", "my.set");
	bad("configuration_set",
	    "a23456789012345678901234567890123456789"
	    "01234567890123456789012345");
	bad("timeout", "0");
	bad("timeout", "3601");
	bad("timeout", "1.5");
	bad("retry_deadline", "0");
	bad("retry_deadline", "86401");
	bad("retry_after_data", "maybe");
	bad("max_message_size", "0");
	bad("max_message_size", "1099511627777");
	bad("max_message_size", "40M");
	bad("max_message_size", "99999999999999999999999");
	bad("max_recipients", "0");
	bad("max_recipients", "51");
	bad("max_messages_per_connection", "0");
	bad("max_messages_per_connection", "100001");
	bad("max_connection_age", "0");
	bad("max_connection_age", "3601");
	good("max_send_rate 0.5");
	good("max_send_rate 3600");
	good("rate_file /run/ses-sendmail/rate");
	bad("max_send_rate", "-1");
	bad("max_send_rate", "3600.5");
	bad("max_send_rate", "14/s");
	bad("max_send_rate", "1e3");
	bad("rate_file", "rate");
	bad("log", "file");
	bad("username", "two words");
	bad("username",
	    "a2345678901234567890123456789012345678901234567890123456789012345"
	    "6789012345678901234567890123456789012345678901234567890123456789");
}

static void
test_retry_delays(void)
{
	struct conf c;
	char text[512];
	static const struct {
		const char *value;
		size_t n;
		double first, last;
	} v[] = {
		{ "none", 0, 0, 0 },
		{ "NONE", 0, 0, 0 },
		{ "1 5 10", 3, 1, 10 },
		{ "0.25", 1, 0.25, 0.25 },
		{ "1,5,10", 3, 1, 10 },
		{ "1, 5,\t10", 3, 1, 10 },
		{ "0 3600", 2, 0, 3600 },
		{ "3600.0 0.000001", 2, 3600, 0.000001 },
		{ "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", 16, 1, 16 },
	};
	static const char *const badv[] = {
		"1 5 x", "3601", "3600.5", "-1", "1e3", "0x10", ".5", "5.",
		"1.2345678", "inf", "nan", "none 1", ",", "1;5",
		"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(text, sizeof(text), "%sretry_delays %s\n", BASE,
		    v[i].value);
		is_int(parse(&c, text), 0, "retry_delays %s", v[i].value);
		ok(c.nretry_delays == v[i].n && (v[i].n == 0 ||
		    (c.retry_delays[0] == v[i].first &&
		    c.retry_delays[v[i].n - 1] == v[i].last)),
		    "retry_delays %s: %zu values", v[i].value, v[i].n);
		conf_free(&c);
	}
	for (i = 0; i < sizeof(badv) / sizeof(badv[0]); i++)
		bad("retry_delays", badv[i]);
}

static void
test_lines(void)
{
	struct conf c;
	char text[8192];

	is_int(parse(&c, "# a comment\n\n   \t\n  # indented comment\n"
	    "\tusername\t\tuser  \n"
	    "password   pass#word with spaces \t\n"
	    "region us-east-1"), 0, "comments, blanks, tabs, no final LF");
	is_str(c.username, "user", "tabs around the key and value");
	is_str(c.password, "pass#word with spaces",
	    "'#' inside a value and inner spaces kept, ends trimmed");
	conf_free(&c);

	is_int(parse(&c, "username u\npassword #" SECRET "\nregion x\n"), 0,
	    "a value starting with '#'");
	is_str(c.password, "#" SECRET, "'#' after the key is not a comment");
	conf_free(&c);

	is_int(parse(&c, "username u\r\npassword p#\r\nregion us-east-1\r\n"),
	    0, "CR LF line ends");
	is_str(c.password, "p#", "CR before LF dropped");
	conf_free(&c);

	is_int(parse(&c, "\xef\xbb\xbf" BASE), 0, "a UTF-8 BOM is skipped");
	conf_free(&c);

	memset(text, 'x', sizeof(text));
	memcpy(text, BASE "helo ", strlen(BASE "helo "));
	text[strlen(BASE) + 4097] = '\n';
	text[strlen(BASE) + 4098] = '\0';
	is_int(parse(&c, text), -1, "a line over 4096 bytes refused");
	is_str(err, PATH ":4: line longer than 4096 bytes; shorten it",
	    "line too long: the message");
	conf_free(&c);

	memset(text, ' ', sizeof(text));
	memcpy(text, BASE "#", strlen(BASE "#"));
	text[strlen(BASE) + 4096] = '\r';
	text[strlen(BASE) + 4097] = '\n';
	text[strlen(BASE) + 4098] = '\0';
	is_int(parse(&c, text), 0, "a line of 4096 bytes with CR LF is fine");
	conf_free(&c);

	conf_init(&c);
	is_int(conf_parse_buf(BASE "password a\0" SECRET "\n",
	    strlen(BASE) + 11 + strlen(SECRET) + 1, PATH, &c, err,
	    sizeof(err)), -1, "NUL in a line refused");
	ok(strncmp(err, PATH ":4: NUL byte", strlen(PATH ":4: NUL byte"))
	    == 0 && strstr(err, SECRET) == NULL, "NUL: line named: %s", err);
	conf_free(&c);

	bad_secret("timeout 5\r" SECRET, ":4: carriage return", SECRET);
	bad_secret("password ab\001" SECRET, ":4: password: control "
	    "character", SECRET);
}

static void
test_errors(void)
{
	struct conf c;

	bad_secret("xyz 1", PATH ":4: unknown key 'xyz'", "xyz 1");
	bad_secret("hunter2-password-typo " SECRET,
	    "unknown key (not shown", SECRET);
	bad_secret("passwd " SECRET, "unknown key 'passwd'", SECRET);
	bad_secret(SECRET, PATH ":4: not a 'key value' line", SECRET);
	bad_secret("password=" SECRET, ":4: not a 'key value'", SECRET);
	bad_secret("password:" SECRET " x", "unknown key 'password:'",
	    SECRET);
	bad_secret("password: " SECRET, "unknown key 'password:'", SECRET);
	bad_secret("Password " SECRET, "keys are lowercase", SECRET);
	bad_secret("a234567890123456789012345678901234567890" SECRET " x",
	    "unknown key (not shown: it does not look like a key",
	    SECRET);
	bad_secret("k\xc3\xa9y " SECRET, "unknown key (not shown", SECRET);
	is_int(parse(&c, BASE "password " SECRET "\n"), -1,
	    "password repeated");
	ok(strncmp(err, REPEATED, strlen(REPEATED)) == 0 &&
	    strstr(err, SECRET) == NULL &&
	    strstr(err, "BLBM") == NULL, "repeated: neither value: %s", err);
	ok(c.password == NULL, "a failed parse wipes the password at once");
	conf_free(&c);
	bad_secret("helo", ":4: helo: missing value; write helo", "BLBM");
	bad_secret("tls bogus-" SECRET, ":4: tls: bad value", SECRET);
	bad_secret("timeout " SECRET, ":4: timeout: bad value", SECRET);
	bad_secret("port " SECRET, ":4: port: bad value", SECRET);
	bad_secret("region " SECRET, ":4: region: bad value", SECRET);
	bad_secret("username " SECRET " " SECRET, ":4: username: bad value",
	    SECRET);
	bad_secret("aws_secret_access_key " SECRET,
	    ":4: aws_secret_access_key: set together with password (line 2)",
	    SECRET);

	is_int(parse(&c, "password " SECRET "\nregion us-east-1\n"), -1,
	    "no username");
	is_str(err, PATH ": username: missing; add 'username ID' with your "
	    "SES SMTP user name", "missing username: the message");
	conf_free(&c);
	is_int(parse(&c, "username u\nregion us-east-1\n"), -1, "no password");
	ok(strncmp(err, PATH ": password: missing",
	    strlen(PATH ": password: missing")) == 0, "%s", err);
	conf_free(&c);
	is_int(parse(&c, "username u\npassword " SECRET "\n"), -1,
	    "neither region nor host");
	ok(strncmp(err, PATH ": region: missing",
	    strlen(PATH ": region: missing")) == 0, "%s", err);
	conf_free(&c);
	is_int(parse(&c, "username u\naws_secret_access_key " SECRET
	    "\nhost h.example\n"), -1, "aws_secret_access_key without region");
	ok(strstr(err, ":2: aws_secret_access_key: needs region") != NULL &&
	    strstr(err, SECRET) == NULL, "%s", err);
	conf_free(&c);
	is_int(parse(&c, "username u\npassword p\nhost h.example\n"), 0,
	    "host without region is enough");
	is_str(c.host, "h.example", "host kept");
	conf_free(&c);

	conf_init(&c);
	is_int(conf_parse_buf(BASE "xyz\n", strlen(BASE) + 4, PATH, &c, err,
	    12), -1, "a short err buffer");
	is_int(strlen(err), 11, "err truncated and terminated");
	conf_free(&c);
}

static void
test_tls_port(void)
{
	struct conf c;
	static const struct {
		const char *lines;
		int port;
		enum conf_tls tls;
	} v[] = {
		{ "", 465, CONF_TLS_WRAPPER },
		{ "port 2465\n", 2465, CONF_TLS_WRAPPER },
		{ "port 587\n", 587, CONF_TLS_STARTTLS },
		{ "port 25\n", 25, CONF_TLS_STARTTLS },
		{ "port 2587\n", 2587, CONF_TLS_STARTTLS },
		{ "tls starttls\n", 587, CONF_TLS_STARTTLS },
		{ "tls starttls\nport 2587\n", 2587, CONF_TLS_STARTTLS },
		{ "tls starttls\nport 465\n", 465, CONF_TLS_STARTTLS },
		{ "tls wrapper\nport 587\n", 587, CONF_TLS_WRAPPER },
		{ "tls wrapper\n", 465, CONF_TLS_WRAPPER },
	};
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", BASE, v[i].lines);
		is_int(parse(&c, text), 0, "parse '%s'", oneline(v[i].lines));
		ok(c.port == v[i].port && c.tls == v[i].tls,
		    "'%s': port %d tls %d", oneline(v[i].lines), c.port,
		    c.tls);
		conf_free(&c);
	}
}

static void
test_verified(void)
{
	struct conf c;

	is_int(parse(&c, BASE "verified_domains  Example.COM, other.org\t"
	    "Admin@Third.NET,,  \n"), 0, "verified_domains list");
	is_int(c.nverified, 3, "three entries");
	is_str(c.verified[0], "example.com", "domain lowercased");
	is_str(c.verified[1], "other.org", "comma then tab");
	is_str(c.verified[2], "Admin@third.net",
	    "address: domain lowercased, local part kept");
	is_int(conf_is_verified(&c, "x@example.com"), 1, "domain match");
	is_int(conf_is_verified(&c, "x@EXAMPLE.com"), 1, "any case");
	is_int(conf_is_verified(&c, "x@sub.example.com"), 0,
	    "a subdomain does not match");
	is_int(conf_is_verified(&c, "x@notexample.com"), 0,
	    "a suffix does not match");
	is_int(conf_is_verified(&c, "admin@third.net"), 1, "address match");
	is_int(conf_is_verified(&c, "ADMIN@THIRD.net"), 1,
	    "address match, any case");
	is_int(conf_is_verified(&c, "other@third.net"), 0,
	    "another address of an address entry's domain");
	is_int(conf_is_verified(&c, "example.com"), 0, "no '@'");
	is_int(conf_is_verified(&c, NULL), 0, "NULL");
	conf_free(&c);

	is_int(parse(&c, BASE), 0, "no verified_domains");
	is_int(conf_is_verified(&c, "x@example.com"), 0,
	    "nothing is verified without the list");
	conf_free(&c);

	good("verified_domains a.example,b.example");
	good("from me@a.example\nverified_domains b.example A.example");
	good("from me@a.example\nverified_domains me@a.example");
	bad_secret("from me@c.example\nverified_domains a.example b.example",
	    PATH ":4: from: not inside verified_domains", "me@c.example");
	bad_secret("from me@sub.a.example\nverified_domains a.example",
	    "from: not inside verified_domains", "me@sub");
	bad_secret("from you@a.example\nverified_domains me@a.example",
	    "from: not inside verified_domains", "you@");
	bad("verified_domains", "example..com");
	bad("verified_domains", "a.example, user@");
	bad("verified_domains", ", ,");
	bad("verified_domains", "exa_mple.com");
}

static void
test_fd(void)
{
	struct conf c;
	char path[] = "/tmp/test_conf.XXXXXX", big[64 * 1024];
	size_t i;
	int fd;

	if ((fd = mkstemp(path)) == -1) {
		ok(0, "mkstemp");
		return;
	}
	unlink(path);
	if (write(fd, BASE, strlen(BASE)) != (ssize_t)strlen(BASE))
		ok(0, "write");
	lseek(fd, 0, SEEK_SET);
	conf_init(&c);
	is_int(conf_parse_fd(fd, "/x.conf", &c, err, sizeof(err)), 0,
	    "conf_parse_fd");
	is_str(c.path, "/x.conf", "path set");
	is_str(c.username, "AKIAIOSFODNN7EXAMPLE", "read from the fd");
	conf_free(&c);

	/* 64 KiB exactly is fine; one byte more is not. */
	memset(big, '#', sizeof(big));
	for (i = 63; i < sizeof(big); i += 64)
		big[i] = '\n';
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1 ||
	    write(fd, BASE, strlen(BASE)) != (ssize_t)strlen(BASE) ||
	    write(fd, big, sizeof(big) - strlen(BASE)) !=
	    (ssize_t)(sizeof(big) - strlen(BASE)))
		ok(0, "write");
	lseek(fd, 0, SEEK_SET);
	conf_init(&c);
	is_int(conf_parse_fd(fd, "/x.conf", &c, err, sizeof(err)), 0,
	    "a file of 64 KiB");
	conf_free(&c);
	if (write(fd, "\n", 1) != 1)
		ok(0, "write");
	lseek(fd, 0, SEEK_SET);
	conf_init(&c);
	is_int(conf_parse_fd(fd, "/x.conf", &c, err, sizeof(err)), -1,
	    "a file over 64 KiB");
	is_str(err, "/x.conf: file too large (over 64 KiB); it holds only a "
	    "few settings", "file too large: the message");
	conf_free(&c);
	close(fd);

	conf_init(&c);
	is_int(conf_parse_fd(-1, "/x.conf", &c, err, sizeof(err)), -1,
	    "read error");
	ok(strncmp(err, "/x.conf: read: ", 15) == 0, "%s", err);
	memset(big, 'p', 2000);
	big[0] = '/';
	big[2000] = '\0';
	is_int(conf_parse_buf(BASE, strlen(BASE), big, &c, err, sizeof(err)),
	    -1, "a path too long for c->path");
	conf_free(&c);
}

int
main(void)
{
	test_defaults();
	test_every_key();
	test_bad_values();
	test_retry_delays();
	test_lines();
	test_errors();
	test_tls_port();
	test_verified();
	test_fd();
	return tap_done();
}
