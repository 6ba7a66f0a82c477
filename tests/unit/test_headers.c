/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Unit tests for headers.c: the header block, its fields, -t recipients,
 * SES's once-only headers, removal, added and replaced fields.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "tap.h"

/* File-local in the program, visible with UNITTEST. */
char	*hdr_unfold(const char *, size_t, size_t *);

static char err[SES_FAIL_TEXT];

static size_t
blen(const char *s, int *sep)
{
	*sep = -1;
	return hdr_block_len(s, strlen(s), sep);
}

static void
test_block_len(void)
{
	const char *m;
	int sep;

	m = "Subject: x\n\nbody\n";
	is_int(blen(m, &sep), 11, "one field then a blank line");
	is_int(sep, 1, "blank line seen");
	is_int(blen("no headers here\n", &sep), 0, "no headers");
	is_int(sep, 0, "no blank line");
	is_int(blen("\nbody\n", &sep), 0, "empty header block");
	is_int(sep, 1, "blank line first");
	m = "Subject: x\nbody without a blank line\n";
	is_int(blen(m, &sep), 11, "body without a blank line");
	is_int(sep, 0, "no separator");
	is_int(blen(" continued\nSubject: x\n\n", &sep), 0,
	    "continuation at start is not a header");
	is_int(sep, 0, "no separator after a leading continuation");
	m = "Subject: a\n b\n\tc\nTo: x@y\n\nbody";
	is_int(blen(m, &sep), 25, "continuation lines belong to the block");
	is_int(sep, 1, "separator after continuations");
	is_int(blen("Subject : x\n\n", &sep), 12,
	    "obsolete blank before the colon");
	is_int(blen("Subject: x", &sep), 10, "partial last line counts");
	is_int(sep, 0, "no separator at the end");
	is_int(blen("From: a\nX: y", &sep), 12, "partial line after a field");
	is_int(blen("From foo@bar Mon Jan  1\n", &sep), 0,
	    "mbox From line is not a field");
	is_int(blen(": no name\n", &sep), 0, "empty field name");
	is_int(blen("S\xc3\xbc" "bject: x\n", &sep), 0,
	    "non-ASCII field name");
	is_int(blen("X-Key:\nY: z\n\n", &sep), 12, "empty values");
	is_int(blen("", &sep), 0, "empty input");
	is_int(sep, 0, "empty input has no separator");
}

static void
test_parse(void)
{
	struct hdrs h;
	const char *m;
	char big[64];
	char *huge;
	size_t i, n;

	m = "From: a@b.example\nSubject: hi\n there\nTo: c@d.example\n";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), 0, "parse");
	is_int(h.nf, 3, "three fields");
	ok(h.f[1].namelen == 7 && memcmp(h.f[1].name, "Subject", 7) == 0,
	    "field name");
	ok(h.f[1].valuelen == 10 && memcmp(h.f[1].value, " hi\n there",
	    10) == 0, "value after the colon, folds kept");
	ok(h.f[1].rawlen == 19 && memcmp(h.f[1].raw, "Subject: hi\n there\n",
	    19) == 0, "raw field with continuation and LF");
	ok(h.block != m && h.blocklen == strlen(m), "block copied");
	ok(h.f[0].drop == 0 && h.f[0].replace == NULL, "fresh field");
	hdr_free(&h);
	ok(h.block == NULL && h.f == NULL && h.nf == 0, "hdr_free clears");

	m = "Subject: x";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), 0,
	    "parse without a final LF");
	ok(h.nf == 1 && h.f[0].rawlen == 11 &&
	    memcmp(h.f[0].raw, "Subject: x\n", 11) == 0,
	    "LF supplied to the last field");
	ok(h.f[0].valuelen == 2 && memcmp(h.f[0].value, " x", 2) == 0,
	    "value without LF");
	hdr_free(&h);

	m = "Subject : obsolete\n";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), 0,
	    "parse obsolete blank before colon");
	is_int(h.f[0].namelen, 7, "name without the blank");
	hdr_free(&h);

	m = " leading\nSubject: x\n";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), -1,
	    "leading continuation refused");
	ok(strstr(err, "continuation") != NULL, "error: %s", err);
	ok(h.block == NULL && h.nf == 0, "nothing kept after an error");

	m = "Subject: x\nnot a field\n";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), -1,
	    "non-field line refused");
	is_str(err, "header line 2 is not a field: 'not a field'",
	    "error names the line");

	m = "Subject: x\n\nTo: y\n";
	is_int(hdr_parse(m, strlen(m), &h, err, sizeof(err)), -1,
	    "empty line inside refused");

	n = HDR_FIELD_MAX + 100;
	huge = malloc(n + 1);
	memcpy(huge, "X-Big: ", 7);
	memset(huge + 7, 'a', n - 8);
	huge[n - 1] = '\n';
	huge[n] = '\0';
	is_int(hdr_parse(huge, n, &h, err, sizeof(err)), -1,
	    "field over HDR_FIELD_MAX refused");
	snprintf(big, sizeof(big), "%d", HDR_FIELD_MAX);
	ok(strstr(err, "'X-Big'") != NULL && strstr(err, big) != NULL,
	    "error: %s", err);
	/* The same size in continuation lines. */
	for (n = 80; n + 80 < HDR_FIELD_MAX + 100; n += 80)
		huge[n] = '\n', huge[n + 1] = ' ';
	is_int(hdr_parse(huge, HDR_FIELD_MAX + 100, &h, err, sizeof(err)),
	    -1, "folded field over HDR_FIELD_MAX refused");
	free(huge);

	/* HDR_FIELDS_MAX fields of "a:" are taken; one more is refused. */
	n = 3 * (HDR_FIELDS_MAX + 1);
	huge = malloc(n + 1);
	for (i = 0; i < n; i += 3)
		memcpy(huge + i, "a:\n", 3);
	huge[n] = '\0';
	is_int(hdr_parse(huge, n - 3, &h, err, sizeof(err)), 0,
	    "HDR_FIELDS_MAX fields taken");
	is_int(h.nf, HDR_FIELDS_MAX, "all of them");
	hdr_free(&h);
	is_int(hdr_parse(huge, n, &h, err, sizeof(err)), -1,
	    "one field more refused");
	snprintf(big, sizeof(big), "more than %d header fields",
	    HDR_FIELDS_MAX);
	ok(strstr(err, big) != NULL, "error: %s", err);
	free(huge);

	is_int(hdr_parse("", 0, &h, err, sizeof(err)), 0, "empty block");
	is_int(h.nf, 0, "no fields");
	hdr_free(&h);
}

static void
test_find(void)
{
	struct hdrs h;
	struct hdr_field *f;
	const char *m = "Received: a\nSubject: s\nreceived: b\nRECEIVED: c\n";
	size_t idx = 0;

	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	f = hdr_find(&h, "received", &idx);
	ok(f == &h.f[0] && idx == 0, "first found");
	idx++;
	f = hdr_find(&h, "Received", &idx);
	ok(f == &h.f[2] && idx == 2, "next found, case-insensitive");
	idx++;
	f = hdr_find(&h, "Received", &idx);
	ok(f == &h.f[3] && idx == 3, "third found");
	idx++;
	ok(hdr_find(&h, "Received", &idx) == NULL, "no more");
	idx = 0;
	ok(hdr_find(&h, "Subj", &idx) == NULL, "prefix does not match");
	is_int(hdr_count(&h, "RECEIVED"), 3, "count");
	h.f[2].drop = 1;
	is_int(hdr_count(&h, "Received"), 2, "dropped not counted");
	idx = 1;
	f = hdr_find(&h, "Received", &idx);
	ok(f == &h.f[3], "dropped skipped by find");
	is_int(hdr_count(&h, "Cc"), 0, "count of none");
	hdr_free(&h);
}

static void
test_unique(void)
{
	struct hdrs h;
	const char *m;

	m = "Subject: a\nReceived: x\nReceived: y\nTo: a@b\nTo: c@d\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_check_unique(&h, err, sizeof(err)), 0,
	    "Received and To may repeat");
	hdr_free(&h);

	m = "Subject: a\nFrom: x\nsubject: b\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_check_unique(&h, err, sizeof(err)), -1,
	    "two Subjects refused");
	is_str(err, "duplicate header 'Subject': SES accepts it only once",
	    "duplicate error text");
	hdr_free(&h);

	m = "DKIM-Signature: a\nDKIM-Signature: b\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_check_unique(&h, err, sizeof(err)), -1,
	    "two DKIM-Signature refused");
	hdr_free(&h);

	m = "acceptLanguage: a\nacceptlanguage: b\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_check_unique(&h, err, sizeof(err)), -1,
	    "SES's odd acceptLanguage is on the list");
	hdr_free(&h);

	m = "Return-Path: <a@b>\nReturn-Path: <c@d>\nContent-Length: 1\n"
	    "Content-Length: 2\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_check_unique(&h, err, sizeof(err)), -1,
	    "two Return-Path refused");
	hdr_remove_always(&h);
	is_int(hdr_check_unique(&h, err, sizeof(err)), 0,
	    "removed fields are not duplicates");
	hdr_free(&h);

	m = "From: a@b\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	hdr_add(&h, "From: c@d");
	is_int(hdr_check_unique(&h, err, sizeof(err)), -1,
	    "an added field counts");
	hdr_free(&h);
}

static int
rcpts(const char *m, char *out, size_t outlen)
{
	struct hdrs h;
	struct addrlist l = { NULL, 0, 0 };
	size_t i;
	int r;

	out[0] = err[0] = '\0';
	if (hdr_parse(m, strlen(m), &h, err, sizeof(err)) == -1)
		return -2;
	r = hdr_recipients(&h, &l, err, sizeof(err));
	for (i = 0; i < l.n; i++) {
		if (i > 0)
			strlcat(out, " ", outlen);
		strlcat(out, l.v[i].addr, outlen);
	}
	addr_free(&l);
	hdr_free(&h);
	return r;
}

static void
test_recipients(void)
{
	struct hdrs h;
	struct addrlist l = { NULL, 0, 0 };
	char out[1024];
	const char *m;

	m = "From: f@x\nTo: a@x, \"Doe, J\" <b@x>\nCc: c@x\nBcc: d@x\n"
	    "Subject: s\n";
	is_int(rcpts(m, out, sizeof(out)), 0, "To Cc Bcc");
	is_str(out, "a@x b@x c@x d@x", "To, Cc and Bcc recipients");
	m = "To: a@x,\n b@x,\n\t\"C,\n D\" <c@x>\nSubject: s\n";
	rcpts(m, out, sizeof(out));
	is_str(out, "a@x b@x c@x", "folded To");
	m = "To: a@x\nResent-To: r@x\nCc: c@x\nResent-Cc: s@x\n";
	rcpts(m, out, sizeof(out));
	is_str(out, "r@x s@x", "Resent- fields win over To/Cc");
	m = "To: a@x\nResent-Bcc: r@x\n";
	rcpts(m, out, sizeof(out));
	is_str(out, "r@x", "a lone Resent-Bcc is enough");
	m = "To: a@x\nResent-From: r@x\nResent-Date: now\n";
	rcpts(m, out, sizeof(out));
	is_str(out, "a@x", "other Resent- fields do not count");
	m = "to: a@x\nCC: b@x\nbcc: c@x\n";
	rcpts(m, out, sizeof(out));
	is_str(out, "a@x b@x c@x", "names without case");
	m = "To: undisclosed-recipients:;\nSubject: s\n";
	is_int(rcpts(m, out, sizeof(out)), 0, "empty group");
	is_str(out, "", "no recipients");
	m = "To: a@x\nCc: \"broken\n";
	is_int(rcpts(m, out, sizeof(out)), -1, "bad Cc refused");
	is_str(err, "Cc: unbalanced quote in address list",
	    "error names the field");
	is_str(out, "", "nothing appended on error");

	/* Bcc recipients survive hdr_remove_always() done first. */
	m = "To: a@x\nBcc: b@x\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	hdr_remove_always(&h);
	is_int(hdr_recipients(&h, &l, err, sizeof(err)), 0,
	    "recipients after removal");
	is_int(l.n, 2, "Bcc still counted after removal");
	addr_free(&l);
	hdr_free(&h);
}

static void
test_remove(void)
{
	struct hdrs h;
	const char *m;
	size_t i, idx = 0;
	int ndrop = 0;

	m = "From: a@x\nBcc: b@x,\n c@x\nTo: d@x\nResent-Bcc: e@x\n"
	    "Return-Path: <f@x>\nContent-Length: 12\nX-Bcc: keep\n";
	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	hdr_remove_always(&h);
	for (i = 0; i < h.nf; i++)
		ndrop += h.f[i].drop;
	is_int(ndrop, 4, "four fields dropped");
	ok(h.f[1].drop && h.f[1].rawlen == strlen("Bcc: b@x,\n c@x\n"),
	    "Bcc dropped with its continuation line");
	ok(!h.f[0].drop && !h.f[2].drop && !h.f[6].drop,
	    "From, To, X-Bcc kept");
	ok(hdr_find(&h, "Bcc", &idx) == NULL, "Bcc no longer found");
	is_int(hdr_count(&h, "Return-Path"), 0, "Return-Path gone");
	is_int(hdr_count(&h, "Content-Length"), 0, "Content-Length gone");
	is_int(hdr_count(&h, "Resent-Bcc"), 0, "Resent-Bcc gone");
	hdr_free(&h);
}

static void
test_add_replace(void)
{
	struct hdrs h;
	const char *m = "From: root\nSubject: s\n";
	size_t idx = 0;
	struct hdr_field *f;

	hdr_parse(m, strlen(m), &h, err, sizeof(err));
	is_int(hdr_add(&h, "Date: %s", "Thu, 1 Jan 2026 00:00:00 +0000"), 0,
	    "hdr_add");
	is_int(hdr_add(&h, "Message-ID: <%d@x>\n", 42), 0,
	    "hdr_add with LF");
	is_int(h.nadded, 2, "two added");
	is_str(h.added[0], "Date: Thu, 1 Jan 2026 00:00:00 +0000\n",
	    "LF appended");
	is_str(h.added[1], "Message-ID: <42@x>\n", "LF not doubled");
	f = hdr_find(&h, "From", &idx);
	is_int(hdr_replace(f, "From: %s <%s>", "Cron", "a@b.example"), 0,
	    "hdr_replace");
	is_str(f->replace, "From: Cron <a@b.example>\n", "replacement text");
	is_int(hdr_replace(f, "From: %s", "b@c.example"), 0,
	    "hdr_replace twice");
	is_str(f->replace, "From: b@c.example\n", "second replacement wins");
	ok(memcmp(f->raw, "From: root\n", 11) == 0, "raw field untouched");
	is_int(hdr_count(&h, "From"), 1, "a replaced field still counts");
	hdr_free(&h);
	ok(h.added == NULL && h.nadded == 0, "hdr_free releases added");
}

static void
test_unfold(void)
{
	char *u;
	size_t n;

	u = hdr_unfold(" a,\n b,\r\n\tc", 11, &n);
	is_str(u, " a, b,\tc", "LF and CRLF before a blank removed");
	is_int(n, 8, "unfolded length");
	free(u);
	u = hdr_unfold("a\nb", 3, &n);
	is_str(u, "a\nb", "LF not before a blank kept");
	free(u);
	u = hdr_unfold("a\n", 2, &n);
	is_str(u, "a\n", "final LF kept");
	free(u);
	u = hdr_unfold("", 0, &n);
	ok(u != NULL && n == 0 && *u == '\0', "empty value");
	free(u);
}

/* hdr_phrase(text, flags) is want. */
static void
phrase_is(const char *text, int flags, const char *want, const char *what)
{
	char *got = hdr_phrase(text, flags);

	is_str(got, want, "phrase: %s", what);
	free(got);
}

/*
 * What any phrase must be: printable ASCII folded with LF SP, lines of
 * at most 998 octets, and, before "<a@b.example>", exactly that one
 * mailbox to our own parser, its name giving back want (when not NULL).
 */
static void
phrase_safe(const char *text, int flags, const char *want, const char *what)
{
	struct addrlist l = { NULL, 0, 0 };
	char *ph, *field = NULL, *name = NULL, e[SES_FAIL_TEXT];
	size_t i, col = 0;
	int good = 1, odd = 0;

	if ((ph = hdr_phrase(text, flags)) == NULL) {
		ok(0, "safe: %s: encoded", what);
		return;
	}
	for (i = 0; ph[i] != '\0'; i++) {
		if (ph[i] == '\n' && ph[i + 1] == ' ')
			col = 0;
		else if ((unsigned char)ph[i] < ' ' ||
		    (unsigned char)ph[i] > '~' || ++col > 998)
			good = 0;
	}
	ok(good, "safe: %s: printable ASCII, folded, lines <= 998", what);
	if (asprintf(&field, "%s <a@b.example>", ph) == -1)
		field = NULL;
	ok(field != NULL && addr_parse_list(field, strlen(field), &l, e,
	    sizeof(e)) == 0 && l.n == 1 &&
	    strcmp(l.v[0].addr, "a@b.example") == 0,
	    "safe: %s: one mailbox, the one given", what);
	if (want != NULL && l.n == 1 && (l.v[0].name == NULL ||
	    addr_name_text(l.v[0].name, &name, &odd) == 0))
		is_str(name ? name : "", want, "safe: %s: the name read back",
		    what);
	ok(!odd, "safe: %s: no '@' outside quotes", what);
	free(name);
	free(field);
	free(ph);
	addr_free(&l);
}

static void
test_phrase(void)
{
	static const char *const hostile[] = {
		"\"IT Support\" <helpdesk@attacker.test>",
		"ok@example.com, evil@attacker.test", "g: a@x.example, b@y;",
		"(comment) x", "x (comment", "back\\slash", "esc\\\"aped\\",
		"\"", "<", ">", "@", ",", ";", ":", "(", ")", "[]", ".",
		"a\"b\"c", "\\\"<evil@attacker.test>", "Mr. X", " lead",
		"trail ", "a  b", "x <", "=?", "?=", "=?x?=",
		"=?UTF-8?Q?evil=40attacker.test?=",
		"=?UTF-8?B?ImEiIDxldmlsQGF0dGFja2VyLnRlc3Q+?=",
	};
	static const char *const eightbit[] = {
		"J\xc3\xbcrgen <evil@attacker.test>", "\xff\xfe<a@b>",
		"\xe6\x97\xa5\xe6\x9c\xac", "a\r\nBcc: x@y",
		"a\x01\x7f\xc2\x9b",
		"=?UTF-8?B?SsO8cmdlbg==?= <x@y>", "x \xc3\xa9 =?utf-8?q?a?= y",
	};
	char big[5000];
	size_t i;

	phrase_is("Cron Daemon", 0, "Cron Daemon", "atoms as they are");
	phrase_is("Doe, \"J\" \\x", 0, "\"Doe, \\\"J\\\" \\\\x\"",
	    "specials quoted, quotes and backslashes escaped");
	phrase_is("\"IT Support\" <helpdesk@attacker.test>", 0,
	    "\"\\\"IT Support\\\" <helpdesk@attacker.test>\"",
	    "a name-addr given as a name stays a name");
	phrase_is("J\xc3\xbcrgen", 0, "=?UTF-8?B?SsO8cmdlbg==?=",
	    "UTF-8 as a B encoded word");
	phrase_is("=?UTF-8?B?SsO8cmdlbg==?=", 0,
	    "=?UTF-8?B?PT9VVEYtOD9CP1NzTzhjbWRsYmc9PT89?=",
	    "an encoded word in -F is shown literally");
	phrase_is("=?UTF-8?B?SsO8cmdlbg==?=", HDR_PHRASE_EW,
	    "=?UTF-8?B?SsO8cmdlbg==?=", "an encoded word from a header kept");
	phrase_is("=?UTF-8?B?SsO8cmdlbg==?= Smith", HDR_PHRASE_EW,
	    "=?UTF-8?B?SsO8cmdlbg==?= Smith", "kept, then atoms");
	phrase_is("=?UTF-8?B?SsO8cmdlbg==?= M\xc3\xbcller", HDR_PHRASE_EW,
	    "=?UTF-8?B?SsO8cmdlbg==?= =?UTF-8?B?IE3DvGxsZXI=?=",
	    "the blank between encoded words goes inside the encoding");
	phrase_is("=?x?q?a.b?=", HDR_PHRASE_EW, "=?UTF-8?B?PT94P3E/YS5iPz0=?=",
	    "a Q word with a '.' is no phrase word: shown literally");
	phrase_is("Jo\xc3\xabl van Dijk, \"IT\"", 0,
	    "=?UTF-8?B?Sm/Dq2w=?= \"van Dijk, \\\"IT\\\"\"",
	    "encoded words only for the words that need them");
	phrase_is("", 0, "", "empty: no name");
	phrase_is("   ", 0, "", "blanks only: no name");
	phrase_is(" Joe ", 0, "\" Joe \"", "outer blanks kept, quoted");
	phrase_is("a  b", 0, "\"a  b\"", "two blanks kept, quoted");
	phrase_is("a\tb", 0, "a b", "a tab shown as a space");
	phrase_is("\xff ok", 0, "=?UTF-8?B?77+9?= ok",
	    "an invalid octet becomes U+FFFD");
	phrase_is("a\x01" "b", 0, "=?UTF-8?B?Ye+/vWI=?=",
	    "a control becomes U+FFFD");
	phrase_is("\xc2\x9b", 0, "=?UTF-8?B?77+9?=",
	    "a C1 control: one U+FFFD");
	phrase_is("\xed\xa0\x80", 0, "=?UTF-8?B?77+977+977+9?=",
	    "a surrogate is not UTF-8");
	phrase_is("\xc0\xaf", 0, "=?UTF-8?B?77+977+9?=", "an overlong form");
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		phrase_safe(hostile[i], 0, strstr(hostile[i], "=?") ? NULL :
		    hostile[i], hostile[i]);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		phrase_safe(hostile[i], HDR_PHRASE_EW, NULL, hostile[i]);
	for (i = 0; i < sizeof(eightbit) / sizeof(eightbit[0]); i++) {
		phrase_safe(eightbit[i], 0, NULL, "8-bit or control");
		phrase_safe(eightbit[i], HDR_PHRASE_EW, NULL,
		    "8-bit or control, encoded words kept");
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	phrase_safe(big, 0, NULL, "4999 octets in one word");
	for (i = 0; i + 10 < sizeof(big); i += 10)
		memcpy(big + i, "Long Name ", 10);
	big[i - 1] = '\0';
	phrase_safe(big, 0, big, "long, with blanks: folded between words");
	for (i = 0; i + 7 < sizeof(big); i += 7)
		memcpy(big + i, "J\xc3\xbcrgen ", 7);
	big[i] = '\0';
	phrase_safe(big, 0, NULL, "long UTF-8: encoded words");
}

int
main(void)
{
	test_block_len();
	test_parse();
	test_find();
	test_unique();
	test_recipients();
	test_remove();
	test_add_replace();
	test_unfold();
	test_phrase();
	return tap_done();
}
