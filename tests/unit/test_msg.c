/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * msg.c: the spool (CRLF in, lone dot, "..", mbox From line, NUL, size)
 * and the wire writer (CRLF out, dot-stuffing, folding).
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

struct membuf {
	char	*p;
	size_t	 len;
};

static int
mem_sink(void *arg, const void *buf, size_t len)
{
	struct membuf *mb = arg;

	mb->p = realloc(mb->p, mb->len + len + 1);
	memcpy(mb->p + mb->len, buf, len);
	mb->len += len;
	mb->p[mb->len] = '\0';
	return 0;
}

/* Spool input through a real file descriptor, as stdin would be. */
static int
spool(const char *in, size_t len, int ignore_dots, long long max,
    struct msg *m, struct fail *f)
{
	char path[] = "/tmp/test_msg.XXXXXX";
	int fd, rv;

	fd = mkstemp(path);
	(void)unlink(path);
	if (write(fd, in, len) != (ssize_t)len)
		return -2;
	(void)lseek(fd, 0, SEEK_SET);
	memset(f, 0, sizeof(*f));
	rv = msg_spool(fd, ignore_dots, max, m, f);
	(void)close(fd);
	return rv;
}

/* Spool, then write the wire form; returns it (caller frees) or NULL. */
static char *
wire_of(const char *in, int ignore_dots)
{
	struct membuf mb = { NULL, 0 };
	struct wire w;
	struct msg m;
	struct fail f;

	if (spool(in, strlen(in), ignore_dots, 1 << 20, &m, &f) != 0)
		return NULL;
	wire_init(&w, mem_sink, &mb);
	if (msg_write(&m, &w, &f) != 0) {
		msg_free(&m);
		free(mb.p);
		return NULL;
	}
	msg_free(&m);
	if (mb.p == NULL)
		mb.p = strdup("");
	return mb.p;
}

static void __attribute__((format(printf, 4, 5)))
check_wire(const char *in, int ignore_dots, const char *want,
    const char *fmt, ...)
{
	char *got, what[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	got = wire_of(in, ignore_dots);
	is_str(got, want, "%s", what);
	free(got);
}

static void
test_line_ends(void)
{
	check_wire("Subject: x\n\nbody\n", 0,
	    "Subject: x\r\n\r\nbody\r\n", "LF becomes CRLF");
	check_wire("Subject: x\r\n\r\nbody\r\n", 0,
	    "Subject: x\r\n\r\nbody\r\n", "CRLF stays CRLF");
	check_wire("Subject: x\r\r\n\r\nbody\r\r\n", 0,
	    "Subject: x\r\n\r\nbody\r\n", "CR CR LF becomes CRLF");
	check_wire("Subject: x\n\nno newline", 0,
	    "Subject: x\r\n\r\nno newline\r\n", "a final newline is added");
	check_wire("Subject: x\n\na\rb\n", 0,
	    "Subject: x\r\n\r\na\r\nb\r\n", "a bare CR ends a line");
	check_wire("Subject: x\n\na\r\rb\r", 0,
	    "Subject: x\r\n\r\na\r\nb\r\n", "a run of bare CRs is one end");
	check_wire("", 0, "\r\n", "empty input: an empty header and body");
}

/*
 * Every line end around a lone dot, as a caller may mix them: without
 * -i each ends the message; with -i each is a stuffed dot line, so the
 * text after it can never end SES's data.
 */
static void
test_dot_ends(void)
{
	static const char *const seps[] = {
		"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", "\r.\r\n",
		"\r\n.\r\r\n", "\n.\r"
	};
	char in[128];
	size_t i;

	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		(void)snprintf(in, sizeof(in), "S: x\n\na%sMAIL FROM:<e@x>\n",
		    seps[i]);
		check_wire(in, 0, "S: x\r\n\r\na\r\n",
		    "no -i: a lone dot ends the message (separator %zu)", i);
		check_wire(in, 1, "S: x\r\n\r\na\r\n..\r\nMAIL FROM:<e@x>\r\n",
		    "-i: a lone dot is stuffed content (separator %zu)", i);
	}
}

static void
test_dots(void)
{
	check_wire("S: x\n\n.hidden\n", 1, "S: x\r\n\r\n..hidden\r\n",
	    "-i: a leading dot is stuffed on the wire");
	check_wire("S: x\n\na\n.\nb\n", 0, "S: x\r\n\r\na\r\n",
	    "no -i: a lone dot ends the message");
	check_wire("S: x\r\n\r\na\r\n.\r\nb\r\n", 0, "S: x\r\n\r\na\r\n",
	    "no -i: a lone dot with CRLF ends the message");
	check_wire("S: x\n\na\n.\nb\n", 1, "S: x\r\n\r\na\r\n..\r\nb\r\n",
	    "-i: a lone dot is content, stuffed");
	check_wire("S: x\n\n..x\n", 0, "S: x\r\n\r\n..x\r\n",
	    "no -i: '..x' loses a dot, then is stuffed again");
	check_wire("S: x\n\n..x\n", 1, "S: x\r\n\r\n...x\r\n",
	    "-i: '..x' is kept and stuffed");
	check_wire("S: x\n\n.x\n", 0, "S: x\r\n\r\n..x\r\n",
	    "no -i: '.x' is kept and stuffed");
	check_wire("S: x\n\na\n.", 0, "S: x\r\n\r\na\r\n",
	    "no -i: a dot at EOF without newline ends it");
	check_wire("S: x\n\na\n.", 1, "S: x\r\n\r\na\r\n..\r\n",
	    "-i: a dot at EOF is content");
	check_wire("S: x\n\na\n.\rx\n", 0, "S: x\r\n\r\na\r\n",
	    "no -i: '.' then a bare CR is a lone dot line");
	check_wire("S: x\n\n.\rx\n", 1, "S: x\r\n\r\n..\r\nx\r\n",
	    "-i: '.' then a bare CR is a stuffed dot line");
	test_dot_ends();
}

/* wire_put() alone, on what the spool never holds: bare CRs. */
static void
check_put(const char *in, const char *want, const char *what)
{
	struct membuf mb = { NULL, 0 };
	struct wire w;

	wire_init(&w, mem_sink, &mb);
	if (wire_put(&w, in, strlen(in)) == 0 && wire_flush(&w) == 0)
		is_str(mb.p ? mb.p : "", want, "%s", what);
	else
		ok(0, "%s: wire_put failed", what);
	free(mb.p);
}

static void
test_wire_cr(void)
{
	check_put("a\r.\rb\n", "a\r\n..\r\nb\r\n",
	    "wire: a bare CR ends the line, the dot after it is stuffed");
	check_put("a\r.\r\nb\n", "a\r\n..\r\nb\r\n",
	    "wire: CR LF after a dot line is one line end");
	check_put("a\n.\r\r\nb\n", "a\r\n..\r\nb\r\n",
	    "wire: CR CR LF is one line end, never a bare CR on the wire");
	check_put("a\r\n\r\nb\n\n", "a\r\n\r\nb\r\n\r\n",
	    "wire: empty lines stay");
	check_put("x\r", "x\r\n", "wire: a final bare CR becomes CR LF");
}

static void
test_from_line(void)
{
	check_wire("From me@x Mon Jan  1 00:00:00 2024\nS: x\n\nb\n", 0,
	    "S: x\r\n\r\nb\r\n", "a leading mbox From line is dropped");
	check_wire("From: me@x\n\nb\n", 0, "From: me@x\r\n\r\nb\r\n",
	    "a From: header is not an mbox line");
	check_wire("Fro", 0, "\r\nFro\r\n", "a short message is kept");
	check_wire("From me@x\rS: x\r\r\n\rb\r", 0, "S: x\r\n\r\nb\r\n",
	    "a bare CR ends the mbox From line as any other line");
	check_wire("From me@x\r\nS: x\n\nb\n", 0, "S: x\r\n\r\nb\r\n",
	    "CR LF ends the mbox From line, no empty line after it");
}

static void
test_refusals(void)
{
	struct msg m;
	struct fail f;
	size_t bigsz = HDR_BLOCK_MAX + 1001;
	char *big;

	is_int(spool("S: x\n\na\0b\n", 10, 1, 1000, &m, &f), -1,
	    "a NUL byte refuses the message");
	is_int(f.kind, FAIL_DATA, "  as a data error");
	ok(strstr(f.text, "NUL") != NULL, "  and says NUL");
	if ((big = malloc(bigsz)) == NULL)
		return;
	memset(big, 'a', bigsz);
	big[bigsz - 1] = '\n';
	is_int(spool(big, bigsz, 1, 1000, &m, &f), -1,
	    "over max_size and a header block refuses the message");
	is_int(f.kind, FAIL_DATA, "  as a data error");
	/* Removed fields (Bcc:) may shrink it: plan.c judges the wire. */
	is_int(spool(big, 3000, 1, 1000, &m, &f), 0,
	    "over max_size by less than a header block is taken");
	msg_free(&m);
	is_int(spool(big, bigsz, 1, 100000, &m, &f), 0,
	    "under max_size is taken");
	msg_free(&m);
	free(big);
}

static void
test_body_and_8bit(void)
{
	struct msg m;
	struct fail f;

	is_int(spool("Subject: x\nbody line\n", 21, 1, 1000, &m, &f), 0,
	    "no blank line after the header");
	is_int(m.hdrs.nf, 1, "  one field");
	is_int(m.body_sep, 0, "  no separator in the input");
	is_int(m.has8bit, 0, "  7-bit");
	msg_free(&m);
	check_wire("Subject: x\nbody line\n", 1,
	    "Subject: x\r\n\r\nbody line\r\n",
	    "the separator is added before a body with none");
	is_int(spool("S: x\n\ncaf\xc3\xa9\n", 12, 1, 1000, &m, &f), 0,
	    "8-bit body spooled");
	is_int(m.has8bit, 1, "  8-bit detected");
	msg_free(&m);
}

static void
test_folding(void)
{
	char in[2100], *got, *p, *nl;
	size_t maxline = 0, lines = 0, nfolded;
	long long size;
	struct msg m;
	struct fail f;

	memcpy(in, "S: x\n\n", 6);
	memset(in + 6, 'a', 2000);
	in[2006] = '\n';
	in[2007] = '\0';
	got = wire_of(in, 1);
	for (p = got; p != NULL && *p != '\0'; p = nl + 2) {
		if ((nl = strstr(p, "\r\n")) == NULL)
			break;
		if ((size_t)(nl - p) > maxline)
			maxline = (size_t)(nl - p);
		lines++;
	}
	ok(maxline <= 998, "folded lines are at most 998 octets (%zu)",
	    maxline);
	is_int(lines, 5, "a 2000-octet line becomes three wire lines");
	ok(got && strstr(got, "\r\n a") != NULL,
	    "continuations start with a space");
	free(got);
	spool(in, strlen(in), 1, 1 << 20, &m, &f);
	msg_wire_size(&m, &size, &nfolded, &f);
	is_int(nfolded, 2, "two folds counted");
	is_int(size, 6 + 2 + 2000 + 2 * 3 + 2, "wire size counts the folds");
	msg_free(&m);
	memset(in + 6, 'a', 998);
	in[6 + 998] = '\n';
	in[6 + 999] = '\0';
	got = wire_of(in, 1);
	ok(got && strstr(got, "\r\n a") == NULL,
	    "a 998-octet line is not folded");
	free(got);
}

static void
test_edits(void)
{
	struct membuf mb = { NULL, 0 };
	struct wire w;
	struct msg m;
	struct fail f;

	spool("To: a@b\nBcc: c@d\n e@f\nSubject: s\n\nbody\n", 39, 1,
	    1000, &m, &f);
	hdr_remove_always(&m.hdrs);
	hdr_add(&m.hdrs, "Date: now");
	wire_init(&w, mem_sink, &mb);
	msg_write(&m, &w, &f);
	is_str(mb.p, "To: a@b\r\nSubject: s\r\nDate: now\r\n\r\nbody\r\n",
	    "Bcc dropped with its continuation, Date added at the end");
	free(mb.p);
	msg_free(&m);
}

int
main(void)
{
	test_line_ends();
	test_dots();
	test_wire_cr();
	test_from_line();
	test_refusals();
	test_body_and_8bit();
	test_folding();
	test_edits();
	return tap_done();
}
