/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Unit tests for addr.c: address lists (RFC 5322 3.4), senders, local
 * detection, deduplication.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

static struct addrlist list;
static char addrs[8192], names[8192], err[SES_FAIL_TEXT];

/*
 * Parse s into a fresh list; addrs holds the addresses joined by ' ',
 * names the names joined by '|' ("-" for none).  Returns the result.
 */
static int
parse(const char *s)
{
	size_t i;
	int r;

	addr_free(&list);
	addrs[0] = names[0] = err[0] = '\0';
	r = addr_parse_list(s, strlen(s), &list, err, sizeof(err));
	for (i = 0; i < list.n; i++) {
		if (i > 0) {
			strlcat(addrs, " ", sizeof(addrs));
			strlcat(names, "|", sizeof(names));
		}
		strlcat(addrs, list.v[i].addr, sizeof(addrs));
		strlcat(names, list.v[i].name ? list.v[i].name : "-",
		    sizeof(names));
	}
	return r;
}

/* A printable excerpt of s for a test's description. */
static const char *
show(const char *s)
{
	static char buf[64];
	size_t i;

	for (i = 0; i < sizeof(buf) - 1 && s[i] != '\0'; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Refused, with a one-line error message that contains want. */
static void
refused(const char *s, const char *want)
{
	int r;

	r = parse(s);
	ok(r == -1 && list.n == 0 && strstr(err, want) != NULL &&
	    strchr(err, '\n') == NULL, "refused '%s': %s", show(s), err);
}

static void
test_basic(void)
{
	is_int(parse("a@b.example"), 0, "simple address");
	is_str(addrs, "a@b.example", "simple address parsed");
	is_str(names, "-", "no name");
	parse("  a@b.example \t ");
	is_str(addrs, "a@b.example", "blanks around");
	parse("a@x.example, b@y.example,c@z.example");
	is_str(addrs, "a@x.example b@y.example c@z.example", "three");
	parse("User@Example.COM");
	is_str(addrs, "User@Example.COM", "case kept");
	parse("root");
	is_str(addrs, "root", "no domain (cron's root) accepted");
	parse("root, www-data");
	is_str(addrs, "root www-data", "two local names");
	is_int(parse(""), 0, "empty list is not an error");
	is_int(list.n, 0, "empty list gives nothing");
}

static void
test_names(void)
{
	parse("Joe Doe <j@x.example>");
	is_str(addrs, "j@x.example", "name-addr address");
	is_str(names, "Joe Doe", "name-addr name");
	parse("\"Doe, John\" <j@x.example>, k@y.example");
	is_str(addrs, "j@x.example k@y.example", "comma inside quotes");
	is_str(names, "\"Doe, John\"|-", "quoted name kept as written");
	parse("\"a\\\"b, c\" <q@x.example>");
	is_str(addrs, "q@x.example", "escaped quote in a name");
	is_str(names, "\"a\\\"b, c\"", "escaped name kept as written");
	parse("<a@b.example>");
	is_str(names, "-", "angle without name");
	parse("\"\" <a@b.example>");
	is_str(names, "-", "empty quoted name is no name");
	parse("Joe <a@b.example> (the boss)");
	is_str(names, "Joe", "comment after '>' is not the name");
	parse("J. R. Doe <j@x.example>");
	is_str(names, "J. R. Doe", "obsolete phrase with dots");
	parse("J\xc3\xb6rg <j@x.example>");
	is_str(names, "J\xc3\xb6rg", "UTF-8 name kept");
}

static void
test_comments(void)
{
	parse("root@localhost (Cron Daemon)");
	is_str(addrs, "root@localhost", "comment after addr-spec");
	is_str(names, "Cron Daemon", "comment becomes the name");
	parse("a@b.example (x (y) z)");
	is_str(addrs, "a@b.example", "nested comment ignored");
	is_str(names, "\"x (y) z\"", "nested comment: quoted name");
	parse("a@b.example (Doe, J.)");
	is_str(names, "\"Doe, J.\"", "comment with specials is quoted");
	parse("a@b.example (say \\\"hi\\\")");
	is_str(names, "\"say \\\"hi\\\"\"", "quotes escaped in the name");
	parse("a(c)@b.example, (x) c@d.example");
	is_str(addrs, "a@b.example c@d.example", "comments inside");
	is_str(names, "-|-", "comments before or inside are not names");
	parse("a@b.example (), c@d.example (  )");
	is_str(names, "-|-", "empty comments give no name");
	parse("a@b.example (first) (second)");
	is_str(names, "first", "first comment names");
	parse("(only a comment), a@b.example");
	is_str(addrs, "a@b.example", "comment-only element skipped");
}

static void
test_groups(void)
{
	parse("list: a@b.example, c@d.example;");
	is_str(addrs, "a@b.example c@d.example", "group members");
	parse("list: a@b.example; , e@f.example");
	is_str(addrs, "a@b.example e@f.example", "address after a group");
	is_int(parse("undisclosed-recipients:;"), 0, "empty group");
	is_int(list.n, 0, "empty group gives nothing");
	parse("undisclosed-recipients: ;, x@y.example");
	is_str(addrs, "x@y.example", "empty group then an address");
	parse("g: Joe <j@x.example>, k@y.example (K);");
	is_str(names, "Joe|K", "names inside a group");
	parse("g: a@b.example");
	is_str(addrs, "a@b.example", "group left open at the end forgiven");
	refused("a: b: c@d.example;;", "nested group");
	refused("g: a@b.example; c@d.example", "after a group");
	refused("a@b.example; c@d.example", "unexpected ';' outside a group");
}

static void
test_folds(void)
{
	parse("Joe\n <j@x.example>,\n\tk@y.example");
	is_str(addrs, "j@x.example k@y.example", "folded list");
	is_str(names, "Joe|-", "folded name trimmed");
	parse("\"Doe,\r\n John\" <j@x.example>");
	is_str(names, "\"Doe, John\"", "fold inside a quoted name unfolded");
	refused("\"john\n doe\"@x.example", "in the quoted local part");
}

static void
test_forms(void)
{
	parse("\"john.doe\"@example.com");
	is_str(addrs, "\"john.doe\"@example.com", "quoted local part kept");
	parse("\"a\\\"b\"@x.example");
	is_str(addrs, "\"a\\\"b\"@x.example", "escape in quoted local kept");
	parse("\"a@b\"@c.example");
	is_str(addrs, "\"a@b\"@c.example", "'@' inside quoted local part");
	parse("user@[192.0.2.1]");
	is_str(addrs, "user@[192.0.2.1]", "domain literal");
	parse("<u@[IPv6:2001:db8::1]>");
	is_str(addrs, "u@[IPv6:2001:db8::1]", "IPv6 literal in angles");
	parse("<@route.example:a@b.example>");
	is_str(addrs, "a@b.example", "obsolete route dropped");
	parse("<@r1.example,@r2.example:a@b.example>");
	is_str(addrs, "a@b.example", "two-hop route dropped");
	parse("a@b.example,,c@d.example");
	is_str(addrs, "a@b.example c@d.example", "empty element skipped");
	parse(", ,a@b.example,");
	is_str(addrs, "a@b.example", "leading and trailing empty elements");
	parse("john . doe @ example . com");
	is_str(addrs, "john.doe@example.com", "obsolete blanks around dots");
}

/*
 * Nothing that reaches a MAIL or RCPT line may end its path early: an
 * address literal is an IPv4 or IPv6 address and nothing else, and a
 * quoted local part holds no blank, '<' or '>' (audit: ESMTP parameters
 * injected as "a@[1.2.3.4> NOTIFY=SUCCESS ORCPT=x]").
 */
static void
test_inject(void)
{
	static const char *const bad[] = {
		"a@[1.2.3.4> NOTIFY=SUCCESS ORCPT=x]",
		"<a@[1.2.3.4> NOTIFY=SUCCESS ORCPT=x]>",
		"Joe <a@[1.2.3.4> NOTIFY=SUCCESS]>",
		"a@[1.2.3.4 NOTIFY=SUCCESS]",
		"a@[IPv6:2001:db8::1> NOTIFY=SUCCESS]",
		"a@[ 192.0.2.1 ]",
		"a@[192.0.2.256]",
		"a@[192.0.2]",
		"a@[192.0.2.1.5]",
		"a@[\\1.2.3.4]",
		"a@[]",
		"a@[IPv6:]",
		"a@[IPv6:2001:db8::1%eth0]",
		"a@[x-tag:content]",
		"a@[example.com]",
	};
	static const char *const badq[] = {
		"\"a> NOTIFY=SUCCESS\"@example.com",
		"Joe <\"a> NOTIFY=SUCCESS\"@example.com>",
		"\"a>b\"@example.com",
		"\"a<b\"@example.com",
		"\"a b\"@example.com",
		"\"a\\ b\"@example.com",
		"\"a\\>b\"@example.com",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], "invalid address literal");
	for (i = 0; i < sizeof(badq) / sizeof(badq[0]); i++)
		refused(badq[i], "in the quoted local part");
	parse("a@[192.0.2.1], b@[IPv6:2001:db8::1], c@[IPv6:::ffff:192.0.2.1]");
	is_str(addrs, "a@[192.0.2.1] b@[IPv6:2001:db8::1] "
	    "c@[IPv6:::ffff:192.0.2.1]", "IPv4, IPv6 and IPv6v4 literals kept");
	parse("\"a(b)\\\"c\"@example.com");
	is_str(addrs, "\"a(b)\\\"c\"@example.com",
	    "a quoted local part without blanks or angles kept");
	is_int(addr_path_safe("a@b.example"), 1, "path safe: plain");
	is_int(addr_path_safe(""), 1, "path safe: the null sender");
	is_int(addr_path_safe("\"a@b\"@c.example"), 1, "path safe: quotes");
	is_int(addr_path_safe("a b@c"), 0, "path unsafe: blank");
	is_int(addr_path_safe("a>b@c"), 0, "path unsafe: '>'");
	is_int(addr_path_safe("a<b@c"), 0, "path unsafe: '<'");
	is_int(addr_path_safe("a@c\r\n"), 0, "path unsafe: CR LF");
	is_int(addr_path_safe("a\x7f@c"), 0, "path unsafe: DEL");
	is_int(addr_path_safe("\xc3\xa9@c"), 0, "path unsafe: 8-bit");
}

static void
test_idna(void)
{
	parse("user@b\xc3\xbc" "cher.example");
	is_str(addrs, "user@xn--bcher-kva.example", "IDNA domain in punycode");
	parse("J\xc3\xb6rg <j@B\xc3\x9c" "CHER.example>");
	is_str(addrs, "j@xn--bcher-kva.example", "IDNA upper case mapped");
	refused("j\xc3\xb6rg@example.com", "non-ASCII local part");
	is_str(err, "non-ASCII local part in <j??rg@example.com>: SES "
	    "accepts only ASCII local parts", "non-ASCII local error text");
	refused("j\xc3\xb6rg", "non-ASCII local part");
	refused("a@b\xff.example", "invalid international domain");
	refused("a@[192.0.2.\xc3\xbc]", "non-ASCII domain literal");
}

static void
test_refused(void)
{
	refused("\"abc@x.example", "unbalanced quote in address list");
	refused("<a@b", "missing '>' after <a@b");
	is_str(err, "missing '>' after <a@b", "missing '>' text exact");
	refused("a@b.example (x", "unbalanced '(' in address list");
	refused("a@b.example)", "unbalanced ')'");
	refused("a@[192.0.2.1", "unbalanced '['");
	refused("a@b.example>", "'>'");
	refused("a@b.example c@d.example", "missing ','");
	refused("John Doe", "words not joined");
	refused("<>", "empty address <>");
	refused("a@b@c.example", "unexpected '@'");
	refused("@b.example", "empty local part");
	refused("a@", "missing domain");
	refused("a\x01@b.example", "control character");
	refused("\"a\tb\"@c.example", "control character");
	refused("a@exa_mple.com", "letters, digits and '-'");
	refused("a@-x.example", "starts or ends with '-'");
	refused("a@x..example", "empty label");
	refused("a@x.example.", "empty label");
	refused("a@\"x\".example", "quoted domain");
	refused("a\\b@c.example", "outside quotes");
	refused("<a@b.example x>", "words not joined");
	refused("<a@b.example> x", "unexpected 'x' after '>'");
}

static void
test_lengths(void)
{
	char buf[2048];
	size_t i;

	memset(buf, 'l', 64);
	strlcpy(buf + 64, "@x.example", sizeof(buf) - 64);
	is_int(parse(buf), 0, "64-octet local part accepted");
	memset(buf, 'l', 65);
	strlcpy(buf + 65, "@x.example", sizeof(buf) - 65);
	refused(buf, "local part longer than 64");
	/* a@ then four 62-octet labels and "example": 2 + 252 + 7. */
	strlcpy(buf, "a@", sizeof(buf));
	for (i = 0; i < 4; i++) {
		memset(buf + 2 + 63 * i, 'x', 62);
		buf[2 + 63 * i + 62] = '.';
	}
	strlcpy(buf + 2 + 63 * 4, "example", sizeof(buf) - 2 - 63 * 4);
	refused(buf, "domain longer than 255");
	strlcpy(buf, "a@", sizeof(buf));
	memset(buf + 2, 'x', 64);
	strlcpy(buf + 66, ".example", sizeof(buf) - 66);
	refused(buf, "label longer than 63");
	/* 64 + '@' + 255: exactly SES_MAX_ADDR. */
	memset(buf, 'l', 64);
	buf[64] = '@';
	memset(buf + 65, 'd', 255);
	buf[65 + 255] = '\0';
	buf[65 + 63] = buf[65 + 127] = buf[65 + 191] = '.';
	is_int(strlen(buf), SES_MAX_ADDR, "test address is 320 octets");
	is_int(parse(buf), 0, "320-octet address accepted");
	is_int(strlen(addrs), SES_MAX_ADDR, "it is 320 octets");
}

static void
test_depth(void)
{
	char *big;
	size_t i, n = 200000;

	big = malloc(n + 16);
	strlcpy(big, "a@b.example ", n + 16);
	for (i = 0; i < 32; i++)
		strlcat(big, "(", n + 16);
	for (i = 0; i < 32; i++)
		strlcat(big, ")", n + 16);
	is_int(parse(big), 0, "comments nested 32 deep accepted");
	memset(big, '(', n);
	big[n] = '\0';
	refused(big, "nested more than");
	/* Many addresses: memory follows the output. */
	big[0] = '\0';
	for (i = 0; i < 1000; i++)
		strlcat(big, "a@b.example,", n + 16);
	is_int(parse(big), 0, "1000 addresses");
	is_int(list.n, 1000, "1000 addresses found");
	free(big);
}

static void
test_rollback(void)
{
	struct addrlist l = { NULL, 0, 0 };
	const char *s1 = "a@b.example", *s2 = "c@d.example, \"bad";

	is_int(addr_parse_list(s1, strlen(s1), &l, err, sizeof(err)), 0,
	    "first list");
	is_int(addr_parse_list(s2, strlen(s2), &l, err, sizeof(err)), -1,
	    "second list refused");
	is_int(l.n, 1, "a refused list leaves the list as it was");
	/* len is honoured: the NUL-free prefix only. */
	is_int(addr_parse_list("x@y.example, junk\"", 11, &l, err,
	    sizeof(err)), 0, "len bounds the input");
	is_int(l.n, 2, "appended to the list");
	is_str(l.v[1].addr, "x@y.example", "appended address");
	addr_free(&l);
	is_int(l.n, 0, "addr_free empties");
	ok(l.v == NULL && l.cap == 0, "addr_free releases");
}

static void
sender(const char *in, int want, const char *wantout)
{
	char out[SES_MAX_ADDR + 1];
	int r;

	err[0] = '\0';
	r = addr_parse_sender(in, out, sizeof(out), err, sizeof(err));
	if (want == 0)
		ok(r == 0 && strcmp(out, wantout) == 0, "sender '%s' -> '%s'",
		    show(in), r == 0 ? out : err);
	else
		ok(r == -1 && strstr(err, wantout) != NULL,
		    "sender '%s' refused: %s", show(in), err);
}

static void
test_sender(void)
{
	char small[4];

	sender("a@b.example", 0, "a@b.example");
	sender("<a@b.example>", 0, "a@b.example");
	sender("Name <a@b.example>", 0, "a@b.example");
	sender("\"Doe, J\" <a@b.example>", 0, "a@b.example");
	sender("a@b.example (comment)", 0, "a@b.example");
	sender("", 0, "");
	sender("<>", 0, "");
	sender("  < >  ", 0, "");
	sender("root", 0, "root");
	sender("u@b\xc3\xbc" "cher.example", 0, "u@xn--bcher-kva.example");
	sender("a@b.example, c@d.example", -1, "more than one address");
	sender("g: a@b.example;", -1, "group is not allowed in sender");
	sender("<a@b.example", -1, "missing '>'");
	sender("\"unbalanced", -1, "unbalanced quote in sender");
	sender("(just a comment)", -1, "no address in sender");
	sender("a@[1.2.3.4> NOTIFY=SUCCESS]", -1, "invalid address literal");
	sender("<\"a> NOTIFY=SUCCESS\"@example.com>", -1,
	    "in the quoted local part");
	sender("a@[192.0.2.1]", 0, "a@[192.0.2.1]");
	ok(addr_parse_sender("a@b.example", small, sizeof(small), err,
	    sizeof(err)) == -1 && small[0] == '\0', "sender longer than out");
}

static void
test_ctl(void)
{
	is_int(addr_has_ctl("abc", 3), 0, "no control");
	is_int(addr_has_ctl("a\r\nb", 4), 1, "CRLF");
	is_int(addr_has_ctl("a\0b", 3), 1, "NUL within len");
	is_int(addr_has_ctl("a\0b", 1), 0, "NUL beyond len");
	is_int(addr_has_ctl("a\tb", 3), 1, "TAB");
	is_int(addr_has_ctl("a\x7f", 2), 1, "DEL");
	is_int(addr_has_ctl("\xc3\xbc", 2), 0, "UTF-8 is not control");
}

static void
test_local(void)
{
	struct addrinfo hints, *res;
	char host[256], buf[600], upper[256];
	size_t i;

	is_int(addr_is_local("root"), 1, "root is local");
	is_int(addr_is_local("root@"), 1, "empty domain is local");
	is_int(addr_is_local("root@localhost"), 1, "@localhost");
	is_int(addr_is_local("root@LocalHost"), 1, "@LocalHost");
	is_int(addr_is_local("x@localhost.localdomain"), 1,
	    "@localhost.localdomain");
	is_int(addr_is_local("a@example.com"), 0, "a@example.com not local");
	is_int(addr_is_local("a@localhost.example.com"), 0,
	    "localhost.example.com not local");
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		snprintf(buf, sizeof(buf), "x@%s", host);
		is_int(addr_is_local(buf), 1, "x@hostname (%s)", host);
		for (i = 0; host[i] != '\0'; i++)
			upper[i] = host[i] >= 'a' && host[i] <= 'z' ?
			    host[i] - 32 : host[i];
		upper[i] = '\0';
		snprintf(buf, sizeof(buf), "x@%s", upper);
		is_int(addr_is_local(buf), 1, "x@HOSTNAME (%s)", upper);
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, NULL, &hints, &res) == 0) {
			snprintf(buf, sizeof(buf), "x@%s",
			    res->ai_canonname ? res->ai_canonname : host);
			is_int(addr_is_local(buf), 1, "x@FQDN (%s)", buf);
			freeaddrinfo(res);
		}
	}
	is_str(addr_domain("a@b.example"), "b.example", "addr_domain");
	is_str(addr_domain("\"a@b\"@c.example"), "c.example",
	    "addr_domain after the last '@'");
	ok(addr_domain("root") == NULL, "addr_domain without '@'");
}

static void
test_unique(void)
{
	struct addrlist l = { NULL, 0, 0 };

	is_int(addr_add_unique(&l, "a@Example.com", "A"), 1, "first added");
	is_int(addr_add_unique(&l, "a@example.COM", NULL), 0,
	    "domain case ignored");
	is_int(addr_add_unique(&l, "A@example.com", NULL), 1,
	    "local part case kept");
	is_int(addr_add_unique(&l, "root", NULL), 1, "root added");
	is_int(addr_add_unique(&l, "root", "x"), 0, "root duplicate");
	is_int(addr_add_unique(&l, "root@localhost", NULL), 1,
	    "root@localhost differs from root");
	is_int(l.n, 4, "four kept");
	is_str(l.v[0].name, "A", "name kept");
	ok(l.v[2].name == NULL, "NULL name kept");
	addr_free(&l);
}

/* addr_name_text(name) gives want (NULL: no text) and odd. */
static void
name_text_is(const char *name, const char *want, int wantodd,
    const char *what)
{
	char *text = NULL;
	int odd = -1;

	is_int(addr_name_text(name, &text, &odd), 0, "name text: %s", what);
	is_str(text, want, "name text: %s: the text", what);
	is_int(odd, wantodd, "name text: %s: odd", what);
	free(text);
}

static void
test_name_text(void)
{
	int odd;

	name_text_is("Joe Doe", "Joe Doe", 0, "atoms");
	name_text_is("\"Smith, Bob\"", "Smith, Bob", 0, "quoted: unquoted");
	name_text_is("\"a\\\"b\\\\\"", "a\"b\\", 0, "quoted-pairs resolved");
	name_text_is("Joe (the boss) Doe", "Joe Doe", 0, "comments dropped");
	name_text_is("Joe(x)Doe", "Joe Doe", 0, "a comment separates");
	name_text_is("Joe  \t Doe", "Joe Doe", 0, "one blank between words");
	name_text_is("\"  two  \"", "  two  ", 0, "blanks inside quotes kept");
	name_text_is("J. R. Doe", "J. R. Doe", 0, "obsolete dots");
	name_text_is("=?UTF-8?B?SsO8cmdlbg==?= Doe",
	    "=?UTF-8?B?SsO8cmdlbg==?= Doe", 0, "encoded words left");
	name_text_is("\"\"", NULL, 0, "empty quotes: no text");
	name_text_is("(only a comment)", NULL, 0, "a comment only: no text");
	name_text_is("helpdesk@attacker.test", "helpdesk@attacker.test", 1,
	    "an '@' outside quotes is odd");
	name_text_is("\"helpdesk@attacker.test\"", "helpdesk@attacker.test", 0,
	    "an '@' inside quotes is not");
	name_text_is("x [a@b]", "x [a@b]", 1, "a domain literal is odd");
	is_int(addr_name_text("a@b", NULL, &odd), 0, "only odd wanted");
	is_int(odd, 1, "only odd wanted: set");
}

int
main(void)
{
	test_basic();
	test_names();
	test_name_text();
	test_comments();
	test_groups();
	test_folds();
	test_forms();
	test_inject();
	test_idna();
	test_refused();
	test_lengths();
	test_depth();
	test_rollback();
	test_sender();
	test_ctl();
	test_local();
	test_unique();
	addr_free(&list);
	return tap_done();
}
