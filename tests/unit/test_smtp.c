/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The SMTP client's defences and the classification table: reply line
 * checks (smtp.c), line reading over a socket (net.c), the failure ->
 * exit code table (exitcode.c), and the retry jitter (retry.c).
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

static void
test_check_line(void)
{
	ok(smtp_check_line("250 Ok", 6, 0) == 0, "250 Ok is a reply");
	ok(smtp_check_line("250-8BITMIME", 12, 250) == 0,
	    "a continuation line with the same code");
	ok(smtp_check_line("250", 3, 0) == 0, "a bare code is a reply");
	ok(smtp_check_line("25", 2, 0) == -1, "too short");
	ok(smtp_check_line("abc ok", 6, 0) == -1, "not digits");
	ok(smtp_check_line("250x", 4, 0) == -1, "no separator after code");
	ok(smtp_check_line("251 Ok", 6, 250) == -1, "code changes mid-reply");
	ok(smtp_check_line("650 Ok", 6, 0) == -1, "class 6 is no reply");
	ok(smtp_check_line("150 Ok", 6, 0) == -1, "class 1 is no reply");
	ok(smtp_check_line("250 a\0b", 7, 0) == -1, "a NUL inside");
	ok(smtp_check_line("this is not smtp", 16, 0) == -1,
	    "garbage is refused");
}

static void
test_readline(void)
{
	struct conn c;
	struct fail f;
	char buf[64];
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	c.timeout = 2;
	(void)strlcpy(c.host, "test", sizeof(c.host));
	ok(write(sv[1], "220 hi\r\n250 two\nrest", 20) == 20, "fed");
	is_int(conn_readline(&c, buf, sizeof(buf), &f), 6, "CRLF stripped");
	is_str(buf, "220 hi", "  first line");
	is_int(conn_readline(&c, buf, sizeof(buf), &f), 7, "bare LF too");
	is_str(buf, "250 two", "  second line");
	ok(conn_pending(&c), "the rest is pending");
	close(sv[1]);
	is_int(conn_readline(&c, buf, sizeof(buf), &f), -1,
	    "EOF before a line end fails");
	is_int(f.kind, FAIL_NET, "  as a network failure");
	close(sv[0]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c.fd = sv[0];
	c.rpos = c.rlen = 0;
	memset(buf, 'x', sizeof(buf));
	ok(write(sv[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
	    write(sv[1], "\n", 1) == 1, "fed a long line");
	is_int(conn_readline(&c, buf, sizeof(buf), &f), -1,
	    "a line longer than the buffer fails");
	is_int(f.kind, FAIL_PROTOCOL, "  as a protocol failure");
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c.fd = sv[0];
	c.rpos = c.rlen = 0;
	c.timeout = 1;
	is_int(conn_readline(&c, buf, sizeof(buf), &f), -1,
	    "silence past the timeout fails");
	is_int(f.kind, FAIL_NET, "  as a network failure");
	ok(strstr(f.text, "within 1 s") != NULL, "  saying how long");
	close(sv[0]);
	close(sv[1]);
}

static void
exit_case(enum fail_kind kind, enum smtp_stage stage, int code,
    const char *text, int want_ex, int want_retry, const char *what)
{
	struct fail f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.stage = stage;
	f.code = code;
	(void)strlcpy(f.text, text, sizeof(f.text));
	is_int(fail_exit(&f), want_ex, "%s: exit %d", what, want_ex);
	is_int(fail_retryable(&f), want_retry, "%s: %s", what,
	    want_retry ? "retried" : "not retried");
}

static void
test_table(void)
{
	exit_case(FAIL_NET, SMTP_STAGE_CONNECT, 0, "refused", EX_TEMPFAIL, 1,
	    "connection refused");
	exit_case(FAIL_DNS, SMTP_STAGE_RESOLVE, 0, "", EX_TEMPFAIL, 1,
	    "DNS temporary failure");
	exit_case(FAIL_NOHOST, SMTP_STAGE_RESOLVE, 0, "", EX_NOHOST, 0,
	    "NXDOMAIN");
	exit_case(FAIL_TLS, SMTP_STAGE_TLS, 0, "", EX_TEMPFAIL, 1,
	    "TLS handshake I/O error");
	exit_case(FAIL_TLS_VERIFY, SMTP_STAGE_TLS, 0, "", EX_UNAVAILABLE, 0,
	    "certificate not trusted");
	exit_case(FAIL_NOTLS, SMTP_STAGE_STARTTLS, 0, "", EX_UNAVAILABLE, 0,
	    "STARTTLS not offered");
	exit_case(FAIL_PROTOCOL, SMTP_STAGE_EHLO, 0, "", EX_PROTOCOL, 0,
	    "garbage reply");
	exit_case(FAIL_REPLY, SMTP_STAGE_GREETING, 421,
	    "421 Too many concurrent SMTP connections", EX_TEMPFAIL, 1,
	    "421 at greeting");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 454,
	    "454 Throttling failure: Maximum sending rate exceeded",
	    EX_TEMPFAIL, 1, "454 rate");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 454,
	    "454 Throttling failure: Daily message quota exceeded",
	    EX_TEMPFAIL, 0, "454 daily quota");
	exit_case(FAIL_REPLY, SMTP_STAGE_AUTH, 535,
	    "535 Authentication Credentials Invalid", EX_NOPERM, 0, "535");
	exit_case(FAIL_REPLY, SMTP_STAGE_AUTH, 530,
	    "530 Must issue a STARTTLS command first", EX_PROTOCOL, 0,
	    "530 STARTTLS first");
	exit_case(FAIL_REPLY, SMTP_STAGE_MAIL, 530,
	    "530 Authentication required", EX_NOPERM, 0, "530 auth required");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 552, "552 Message is too long.",
	    EX_DATAERR, 0, "552");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 554,
	    "554 Transaction failed: Duplicate header 'Subject'.", EX_DATAERR,
	    0, "554 duplicate header");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 554,
	    "554 Message rejected: Email address is not verified.",
	    EX_UNAVAILABLE, 0, "554 not verified");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 554,
	    "554 Access denied: User is not authorized", EX_UNAVAILABLE, 0,
	    "554 access denied");
	exit_case(FAIL_REPLY, SMTP_STAGE_MAIL, 501,
	    "501 Invalid MAIL FROM address provided", EX_DATAERR, 0,
	    "501 at MAIL");
	exit_case(FAIL_REPLY, SMTP_STAGE_MAIL, 553,
	    "553 <x> Invalid email address", EX_DATAERR, 0, "553 at MAIL");
	exit_case(FAIL_REPLY, SMTP_STAGE_RCPT, 553,
	    "553 <x> address unknown", EX_NOUSER, 0, "553 at RCPT");
	exit_case(FAIL_REPLY, SMTP_STAGE_RCPT, 451, "451 Temporary service "
	    "failure", EX_TEMPFAIL, 1, "451 at RCPT");
	exit_case(FAIL_REPLY, SMTP_STAGE_BODY, 250, "250 odd", EX_PROTOCOL, 0,
	    "a success code where a failure was due");
	exit_case(FAIL_DATA, SMTP_STAGE_NONE, 0, "", EX_DATAERR, 0,
	    "refused message");
	exit_case(FAIL_NOUSER, SMTP_STAGE_NONE, 0, "", EX_NOUSER, 0,
	    "local recipient");
	exit_case(FAIL_CONFIG, SMTP_STAGE_NONE, 0, "", EX_CONFIG, 0,
	    "configuration");
	exit_case(FAIL_OS, SMTP_STAGE_NONE, 0, "", EX_OSERR, 0, "system");
	exit_case(FAIL_IO, SMTP_STAGE_NONE, 0, "", EX_IOERR, 0, "stdin");
	exit_case(FAIL_USAGE, SMTP_STAGE_NONE, 0, "", EX_USAGE, 0, "usage");
	exit_case(FAIL_NONE, SMTP_STAGE_NONE, 0, "", EX_OK, 0, "success");
}

static void
test_jitter(void)
{
	double d, lo = 100, hi = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		d = retry_jitter(10);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo >= 7.5 && hi <= 12.5, "jitter stays within 25%% (%.2f..%.2f)",
	    lo, hi);
	ok(lo < 8.5 && hi > 11.5, "jitter spreads (%.2f..%.2f)", lo, hi);
	is_int((int)(retry_jitter(0) * 1000), 0, "no delay stays none");
}

/*
 * Whatever reaches smtp_send(), an address that would break its MAIL or
 * RCPT line (ESMTP parameters injected after a '>' or a blank) is
 * refused as a data error before anything is written.
 */
static void
send_refused(const char *sender, const char *rcpt, const char *what)
{
	struct plan p;
	struct fail f;
	struct txn t;
	size_t idx[2] = { 0, 1 };
	char buf[256];
	int sv[2];

	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	(void)strlcpy(p.sender, sender, sizeof(p.sender));
	(void)addr_add_unique(&p.rcpts, "ok@example.com", NULL);
	(void)addr_add_unique(&p.rcpts, rcpt, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		ok(0, "%s: socketpair", what);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.idx = idx;
	t.n = 2;
	is_int(smtp_test_send(sv[0], &p, &t), -1, "%s: refused", what);
	f = t.fail;
	ok(f.kind == FAIL_DATA && fail_exit(&f) == EX_DATAERR,
	    "  as a data error (65): %s", f.text);
	close(sv[0]);
	is_int(read(sv[1], buf, sizeof(buf)), 0, "  nothing was written");
	close(sv[1]);
	addr_free(&p.rcpts);
}

static void
test_paths(void)
{
	send_refused("a@[1.2.3.4> NOTIFY=SUCCESS ORCPT=x]", "b@example.com",
	    "a sender with '>' and a blank");
	send_refused("a@example.com", "b@[1.2.3.4> NOTIFY=SUCCESS]",
	    "a recipient with '>' and a blank");
	send_refused("a@example.com", "\"b c\"@example.com",
	    "a recipient with a blank");
	send_refused("a@example.com", "<b@example.com",
	    "a recipient with '<'");
	send_refused("a\r\nRSET@example.com", "b@example.com",
	    "a sender with CR LF");
}

/*
 * A command may hold the AUTH secret: whether it is sent, cannot be
 * written or is too long to send, no copy stays in the command buffer or
 * the connection's write buffer.
 */
static void
test_cmd_wiped(void)
{
	char secret[2048], got[64];
	int sv[2], wiped;

	memset(secret, 'S', sizeof(secret));
	secret[40] = '\0';
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	is_int(smtp_test_cmd(sv[0], secret, &wiped), 0, "a command is sent");
	ok(read(sv[1], got, sizeof(got)) == 53 &&
	    memcmp(got, "AUTH PLAIN SSS", 14) == 0, "  as one line");
	ok(wiped, "  and no copy of it stays behind");
	close(sv[1]);
	is_int(smtp_test_cmd(sv[0], secret, &wiped), -1,
	    "a command that cannot be written fails");
	ok(wiped, "  and no copy of it stays behind");
	close(sv[0]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	secret[sizeof(secret) - 1] = '\0';
	memset(secret, 'S', sizeof(secret) - 1);
	is_int(smtp_test_cmd(sv[0], secret, &wiped), -1,
	    "a command too long to send fails");
	ok(wiped, "  and no copy of it stays behind");
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_check_line();
	test_readline();
	test_table();
	test_jitter();
	test_paths();
	test_cmd_wiped();
	return tap_done();
}
