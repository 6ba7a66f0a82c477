/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * A minimal HTTP/1.1 client (RFC 9110, RFC 9112) over a struct conn, for
 * the SES API transport (doc/ses.md 9): write a request head (the caller
 * streams the body, whose length it gives in advance: no chunked
 * requests), read one response (the status, the fields the caller keeps,
 * the body into a capped buffer), and open a CONNECT tunnel through a
 * proxy.  The server is as hostile as an SMTP one: every line, field,
 * length and chunk is checked and bounded, and framing that two parsers
 * could read two ways (Content-Length with chunked, lengths that differ:
 * the request smuggling class, RFC 9112 6.3 and 11.2) is refused, never
 * guessed at.
 *
 * Choices:
 * - A bare LF ends a line as CRLF does (2.2 allows it; curl, Go and
 *   Python do the same).  A CR anywhere else, or a NUL, is refused.
 * - Obsolete line folding is refused (5.2 has a user agent unfold it;
 *   neither SES nor a proxy folds, and a refusal is safer than a guess).
 * - The body is stored up to the caller's cap and the rest is read and
 *   dropped (r->truncated), so the connection stays usable and an error's
 *   type is still in the octets kept; a body, or a Content-Length, over
 *   HTTP_BODY_LIMIT is refused: an SES answer is a small JSON object.
 * - The whole response must come within HTTP_RESPONSE_STEPS timeouts:
 *   a server dripping an octet per timeout is as good as silent.
 * - A body until close cannot be told from one cut short (a TLS peer
 *   that closes without close_notify has closed too): SES always frames
 *   its answers, so this only serves HTTP/1.0 servers.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

/* The whole response within this many of the connection's timeouts. */
#define HTTP_RESPONSE_STEPS	3
/* log_smtp(): show the whole line. */
#define HTTP_SHOWN_ALL		((size_t)-1)

/* One response being read: where from, where to, and its bounds. */
struct http_io {
	struct conn		*c;
	struct http_resp	*r;
	struct fail		*f;
	long long		 deadline;	/* net_now_ms() */
	size_t			 octets;	/* lines read in this part */
	size_t			 limit;		/* ... at most */
	int			 close;		/* Connection: close */
	int			 keep;		/* Connection: keep-alive */
};

/* tchar (RFC 9110 5.6.2): field names and methods are tokens. */
static int
http_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int
http_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static int
http_hex(unsigned char ch)
{
	if (http_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
http_is(const char *method, const char *want)
{
	return method != NULL && strcmp(method, want) == 0;
}

/* ------------------------------------------------------------------ */
/* Writing a request.                                                  */

/* Shown at -v by name only: SigV4's signature, the session token. */
static int
http_secret(const char *name)
{
	return strcasecmp(name, "Authorization") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0 ||
	    strcasecmp(name, "X-Amz-Security-Token") == 0 ||
	    strcasecmp(name, "X-aws-ec2-metadata-token") == 0;
}

/* The fields this file writes itself: the caller may not frame. */
static int
http_own(const char *name)
{
	return strcasecmp(name, "Host") == 0 ||
	    strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Expect") == 0;
}

static int
http_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!http_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* Visible ASCII, and SP/HTAB inside when sp: nothing ends a line. */
static int
http_text(const char *s, int sp)
{
	unsigned char ch;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if ((ch == ' ' || ch == '\t') && sp)
			continue;
		if (ch < 0x21 || ch > 0x7e)
			return 0;
	}
	return 1;
}

/* What the caller asks to send can be sent, and says one thing. */
static int
http_check_req(const struct http_req *q, struct fail *f)
{
	const struct http_field *fl;
	size_t i;

	if (!http_token(q->method) || !http_text(q->target, 0) ||
	    q->target[0] == '\0' || !http_text(q->host, 0) ||
	    q->host[0] == '\0') {
		fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_REQUEST,
		    "HTTP request: bad method, target or host");
		return -1;
	}
	for (i = 0; i < q->nfields; i++) {
		fl = &q->fields[i];
		/* Never the value in the message: it may be a secret. */
		if (!http_token(fl->name) || http_own(fl->name) ||
		    !http_text(fl->value, 1)) {
			fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_REQUEST,
			    "HTTP request: field %zu (%s) refused", i,
			    fl->name ? fl->name : "no name");
			return -1;
		}
	}
	return 0;
}

/*
 * One line of the head into the write buffer, CRLF added; traced at -v
 * with its first `shown` octets.
 */
static int __attribute__((format(printf, 6, 7)))
http_put(struct conn *c, char *line, size_t len, size_t shown,
    struct fail *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, len - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - 2) {
		fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_REQUEST,
		    "HTTP request: a line over %zu octets", len - 3);
		return -1;
	}
	log_smtp('>', line, (size_t)n, shown);
	line[n++] = '\r';
	line[n++] = '\n';
	return conn_write(c, line, (size_t)n, f);
}

static int
http_head_out(struct conn *c, const struct http_req *q, char *line,
    size_t len, struct fail *f)
{
	const struct http_field *fl;
	size_t i;

	if (http_put(c, line, len, HTTP_SHOWN_ALL, f, "%s %s HTTP/1.1",
	    q->method, q->target) == -1 ||
	    http_put(c, line, len, HTTP_SHOWN_ALL, f, "Host: %s",
	    q->host) == -1)
		return -1;
	for (i = 0; i < q->nfields; i++) {
		fl = &q->fields[i];
		if (http_put(c, line, len, http_secret(fl->name) ?
		    strlen(fl->name) + 1 : HTTP_SHOWN_ALL, f, "%s: %s",
		    fl->name, fl->value) == -1)
			return -1;
	}
	if (q->length >= 0 && http_put(c, line, len, HTTP_SHOWN_ALL, f,
	    "Content-Length: %lld", q->length) == -1)
		return -1;
	if (q->expect_continue && http_put(c, line, len, HTTP_SHOWN_ALL, f,
	    "%s", "Expect: 100-continue") == -1)
		return -1;
	return http_put(c, line, len, HTTP_SHOWN_ALL, f, "%s", "");
}

/* -v: the body the caller sends now, elided. */
static void
http_trace_body(long long length)
{
	char line[64];
	int n;

	if (length <= 0)
		return;
	n = snprintf(line, sizeof(line), "[body: %lld octets]", length);
	log_smtp('>', line, (size_t)n, HTTP_SHOWN_ALL);
}

int
http_request(struct conn *c, const struct http_req *q, struct fail *f)
{
	char line[HTTP_LINE_MAX];
	int rv;

	if (http_check_req(q, f) == -1)
		return -1;
	rv = http_head_out(c, q, line, sizeof(line), f);
	if (rv == 0)
		rv = conn_flush(c, f);
	/* Sent or failed, no credential stays in our buffers. */
	explicit_bzero(line, sizeof(line));
	explicit_bzero(c->wbuf, sizeof(c->wbuf));
	c->wlen = 0;
	if (rv == -1) {
		f->stage = SMTP_STAGE_REQUEST;
		return -1;
	}
	/* With Expect, the body goes when http_continue() says so. */
	if (!q->expect_continue)
		http_trace_body(q->length);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading a response.                                                 */

/* A malformed response: FAIL_PROTOCOL, with what was wrong. */
static int __attribute__((format(printf, 2, 3)))
http_bad(struct http_io *h, const char *fmt, ...)
{
	char what[SES_FAIL_TEXT];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fail_set(h->f, FAIL_PROTOCOL, SMTP_STAGE_RESPONSE,
	    "%s[%s] sent a malformed HTTP response: %s", h->c->host,
	    h->c->addr, what);
	h->r->keep_alive = 0;
	return -1;
}

static int
http_late(struct http_io *h)
{
	if (net_now_ms() <= h->deadline)
		return 0;
	fail_set(h->f, FAIL_NET, SMTP_STAGE_RESPONSE,
	    "%s[%s] took more than %d s to send its response", h->c->host,
	    h->c->addr, HTTP_RESPONSE_STEPS * h->c->timeout);
	return -1;
}

/*
 * One line of a head, a chunk size or a trailer, within the timeout and
 * the response's deadline; counted against h->limit; no NUL and no bare
 * CR (RFC 9112 2.2); traced at -v when trace.  Its length, or -1.
 */
static ssize_t
http_readline(struct http_io *h, char *line, size_t len, int trace)
{
	char clean[LOG_EXCERPT + 4];
	ssize_t n;

	if (http_late(h) == -1)
		return -1;
	if ((n = conn_readline(h->c, line, len, h->f)) == -1)
		return -1;
	if (trace)
		log_smtp('<', line, (size_t)n, HTTP_SHOWN_ALL);
	h->octets += (size_t)n + 2;
	if (h->octets > h->limit)
		return http_bad(h, "more than %zu octets of head or framing",
		    h->limit);
	if (memchr(line, '\0', (size_t)n) != NULL ||
	    memchr(line, '\r', (size_t)n) != NULL) {
		log_excerpt(clean, sizeof(clean), line, (size_t)n);
		return http_bad(h, "a NUL or a bare CR in \"%s\"", clean);
	}
	return n;
}

/* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason-phrase]. */
static int
http_status(struct http_io *h, const char *line, size_t n)
{
	struct http_resp *r = h->r;
	char clean[LOG_EXCERPT + 4];

	if (n < 12 || strncmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' ||
	    !http_digit((unsigned char)line[10]) ||
	    !http_digit((unsigned char)line[11]) ||
	    (n > 12 && line[12] != ' ')) {
		log_excerpt(clean, sizeof(clean), line, n);
		return http_bad(h, "status line \"%s\"", clean);
	}
	r->version = line[7] == '1' ? 11 : 10;
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	if (n > 13)
		log_sanitize(r->reason, sizeof(r->reason), line + 13, n - 13);
	return 0;
}

/* RFC 9110 8.6: 1*DIGIT, or a list of one value repeated. */
static int
http_length(struct http_io *h, const char *v)
{
	struct http_resp *r = h->r;
	long long len;

	for (;;) {
		if (!http_digit((unsigned char)*v))
			return http_bad(h, "Content-Length is no number");
		for (len = 0; http_digit((unsigned char)*v); v++) {
			if (len > (LLONG_MAX - (*v - '0')) / 10)
				return http_bad(h, "Content-Length overflows");
			len = len * 10 + (*v - '0');
		}
		if (r->length != -1 && r->length != len)
			return http_bad(h, "Content-Length %lld and %lld "
			    "(refused: RFC 9112 6.3)", r->length, len);
		r->length = len;
		v += strspn(v, " \t");
		if (*v == '\0')
			return 0;
		if (*v++ != ',')
			return http_bad(h, "Content-Length is no number");
		v += strspn(v, " \t");
	}
}

/*
 * We send no TE field, so chunked is the only transfer coding a server
 * may apply (RFC 9110 10.1.4), and only once (RFC 9112 6.1).
 */
static int
http_te(struct http_io *h, const char *v)
{
	char clean[LOG_EXCERPT + 4];

	if (h->r->chunked)
		return http_bad(h, "Transfer-Encoding twice");
	if (strcasecmp(v, "chunked") != 0) {
		log_excerpt(clean, sizeof(clean), v, strlen(v));
		return http_bad(h, "Transfer-Encoding \"%s\" (only chunked "
		    "is accepted)", clean);
	}
	h->r->chunked = 1;
	return 0;
}

/* RFC 9112 9.3: the Connection options that decide persistence. */
static void
http_connection(struct http_io *h, const char *v)
{
	size_t n;

	while (*v != '\0') {
		v += strspn(v, ", \t");
		n = strcspn(v, ", \t");
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			h->close = 1;
		else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			h->keep = 1;
		v += n;
	}
}

/* The first of each field the caller keeps, made printable. */
static void
http_keep(struct http_resp *r, const char *name, const char *v, size_t len)
{
	size_t i;

	if (r->keep == NULL)
		return;
	for (i = 0; i < HTTP_KEEP_MAX && r->keep[i] != NULL; i++)
		if (strcasecmp(r->keep[i], name) == 0) {
			if ((r->have & (1u << i)) == 0)
				log_sanitize(r->kept[i], sizeof(r->kept[i]),
				    v, len);
			r->have |= 1u << i;
			return;
		}
}

/* A field value: visible octets, obs-text, SP and HTAB (RFC 9110 5.5). */
static int
http_value_ok(const char *v, size_t len)
{
	unsigned char ch;
	size_t i;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)v[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * RFC 9112 5: field-name ":" OWS field-value OWS, the name a token with
 * nothing before the colon.  line is cut in place.  Trailer fields are
 * checked and dropped (RFC 9110 6.5: never framing).
 */
static int
http_field(struct http_io *h, char *line, size_t n, int trailer)
{
	char clean[LOG_EXCERPT + 4];
	size_t nl, i, end;

	if (line[0] == ' ' || line[0] == '\t')
		return http_bad(h, "obsolete line folding (refused)");
	for (nl = 0; nl < n && http_tchar((unsigned char)line[nl]); nl++)
		;
	if (nl == 0 || nl == n || line[nl] != ':') {
		log_excerpt(clean, sizeof(clean), line, n);
		return http_bad(h, "field line \"%s\"", clean);
	}
	for (i = nl + 1; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (end = n; end > i && (line[end - 1] == ' ' ||
	    line[end - 1] == '\t'); end--)
		;
	if (!http_value_ok(line + i, end - i)) {
		log_excerpt(clean, sizeof(clean), line, nl);
		return http_bad(h, "a control octet in %s", clean);
	}
	line[nl] = '\0';
	line[end] = '\0';
	if (trailer)
		return 0;
	if (strcasecmp(line, "Content-Length") == 0)
		return http_length(h, line + i);
	if (strcasecmp(line, "Transfer-Encoding") == 0)
		return http_te(h, line + i);
	if (strcasecmp(line, "Connection") == 0)
		http_connection(h, line + i);
	http_keep(h->r, line, line + i, end - i);
	return 0;
}

/* Field lines up to the empty line: a head's, or the trailer section. */
static int
http_fields(struct http_io *h, int trailer)
{
	char line[HTTP_LINE_MAX];
	ssize_t n;
	int nf;

	for (nf = 0;; nf++) {
		if ((n = http_readline(h, line, sizeof(line), !trailer)) == -1)
			return -1;
		if (n == 0)
			return 0;
		if (nf == HTTP_FIELDS_MAX)
			return http_bad(h, "more than %d %s fields",
			    HTTP_FIELDS_MAX, trailer ? "trailer" : "header");
		if (http_field(h, line, (size_t)n, trailer) == -1)
			return -1;
	}
}

/*
 * The framing the head declares, and whether the connection persists
 * (RFC 9112 6.1, 6.3, 9.3).  A 2xx to CONNECT has no framing to check:
 * its Content-Length and Transfer-Encoding are ignored (RFC 9110 9.3.6).
 */
static int
http_framing(struct http_io *h)
{
	struct http_resp *r = h->r;

	if (http_is(r->method, "CONNECT") && r->status / 100 == 2)
		return r->status;
	if (r->chunked && r->length != -1)
		return http_bad(h, "both Content-Length and Transfer-Encoding "
		    "(refused: RFC 9112 6.1)");
	if (r->chunked && r->version == 10)
		return http_bad(h, "Transfer-Encoding in HTTP/1.0 (refused: "
		    "RFC 9112 6.1)");
	r->keep_alive = r->version == 11 ? !h->close : h->keep && !h->close;
	return r->status;
}

/* One head, interim or final: its status, or -1. */
static int
http_head(struct http_io *h)
{
	struct http_resp *r = h->r;
	char line[HTTP_LINE_MAX];
	ssize_t n;

	r->status = r->version = r->chunked = 0;
	r->reason[0] = '\0';
	r->length = -1;
	r->have = 0;
	h->close = h->keep = 0;
	h->octets = 0;
	h->limit = HTTP_HEAD_MAX;
	if ((n = http_readline(h, line, sizeof(line), 1)) == -1 ||
	    http_status(h, line, (size_t)n) == -1 || http_fields(h, 0) == -1)
		return -1;
	return http_framing(h);
}

/* An interim response (RFC 9110 15.2) is skipped, but never a 101. */
static int
http_interim(struct http_io *h, int *n)
{
	if (h->r->status == 101)
		return http_bad(h, "101 Switching Protocols, never asked for");
	if (++*n > HTTP_INTERIM_MAX)
		return http_bad(h, "more than %d interim responses",
		    HTTP_INTERIM_MAX);
	return 0;
}

/* Heads until a final one: its status, or -1. */
static int
http_final(struct http_io *h)
{
	int st, n = 0;

	while ((st = http_head(h)) != -1 && st < 200)
		if (http_interim(h, &n) == -1)
			return -1;
	return st;
}

/* Body octets: kept up to the cap, counted to the limit. */
static int
http_store(struct http_io *h, const char *buf, size_t n)
{
	struct http_resp *r = h->r;
	size_t room;

	if (n > HTTP_BODY_LIMIT - r->total)
		return http_bad(h, "a body over %d octets", HTTP_BODY_LIMIT);
	r->total += n;
	if (r->body != NULL && r->bodymax > 0) {
		room = r->bodymax - 1 - r->bodylen;
		if (n > room)
			n = room;
		memcpy(r->body + r->bodylen, buf, n);
		r->bodylen += n;
		r->body[r->bodylen] = '\0';
	}
	r->truncated = r->total > r->bodylen;
	return 0;
}

/* Exactly len octets of body (Content-Length, or one chunk's data). */
static int
http_fixed(struct http_io *h, long long len)
{
	char buf[4096];
	ssize_t n;

	while (len > 0) {
		if (http_late(h) == -1)
			return -1;
		n = conn_read(h->c, buf, len < (long long)sizeof(buf) ?
		    (size_t)len : sizeof(buf), h->f);
		if (n == -1)
			return -1;
		if (n == 0) {
			fail_set(h->f, FAIL_NET, SMTP_STAGE_RESPONSE,
			    "%s[%s] closed the connection %lld octets before "
			    "the end of the body", h->c->host, h->c->addr,
			    len);
			return -1;
		}
		if (http_store(h, buf, (size_t)n) == -1)
			return -1;
		len -= n;
	}
	return 0;
}

/* Neither Content-Length nor chunked: the body ends with the connection. */
static int
http_until_close(struct http_io *h)
{
	char buf[4096];
	ssize_t n;

	h->r->keep_alive = 0;
	for (;;) {
		if (http_late(h) == -1)
			return -1;
		if ((n = conn_read(h->c, buf, sizeof(buf), h->f)) <= 0)
			return (int)n;
		if (http_store(h, buf, (size_t)n) == -1)
			return -1;
	}
}

/*
 * RFC 9112 7.1: chunk-size (hex) [BWS ";" chunk-ext], CRLF.  The size is
 * bounded by HTTP_BODY_LIMIT as it is read, so it cannot overflow; the
 * extensions are ignored (7.1.1).  The size, or -1.
 */
static long long
http_chunk_size(struct http_io *h, const char *line, size_t n)
{
	char clean[LOG_EXCERPT + 4];
	long long size = 0;
	size_t i;
	int d;

	for (i = 0; i < n && (d = http_hex((unsigned char)line[i])) != -1;
	    i++) {
		if (size > (HTTP_BODY_LIMIT - d) / 16)
			return http_bad(h, "a chunk over %d octets",
			    HTTP_BODY_LIMIT);
		size = size * 16 + d;
	}
	if (i > 0) {
		i += strspn(line + i, " \t");
		if (line[i] == '\0' || line[i] == ';')
			return size;
	}
	log_excerpt(clean, sizeof(clean), line, n);
	return http_bad(h, "chunk size \"%s\"", clean);
}

/* Chunks, the last chunk, the trailer section (read and dropped). */
static int
http_chunked(struct http_io *h)
{
	char line[HTTP_LINE_MAX];
	long long size;
	ssize_t n;

	h->octets = 0;
	h->limit = HTTP_BODY_LIMIT;
	for (;;) {
		if ((n = http_readline(h, line, sizeof(line), 0)) == -1 ||
		    (size = http_chunk_size(h, line, (size_t)n)) == -1)
			return -1;
		if (size == 0)
			return http_fields(h, 1);
		if (http_fixed(h, size) == -1 ||
		    (n = http_readline(h, line, sizeof(line), 0)) == -1)
			return -1;
		if (n != 0)
			return http_bad(h, "no CRLF after a chunk's data");
	}
}

/* Does the final response have a body? RFC 9112 6.3, rules 1 and 2. */
static int
http_has_body(const struct http_resp *r)
{
	if (r->status < 200 || r->status == 204 || r->status == 304 ||
	    http_is(r->method, "HEAD"))
		return 0;
	return !http_is(r->method, "CONNECT") || r->status / 100 != 2;
}

static int
http_body(struct http_io *h)
{
	struct http_resp *r = h->r;
	char line[64];
	int rv, n;

	if (!http_has_body(r))
		return 0;
	if (r->chunked)
		rv = http_chunked(h);
	else if (r->length > HTTP_BODY_LIMIT)
		return http_bad(h, "Content-Length %lld, over %d", r->length,
		    HTTP_BODY_LIMIT);
	else if (r->length >= 0)
		rv = http_fixed(h, r->length);
	else
		rv = http_until_close(h);
	if (rv == 0) {
		n = snprintf(line, sizeof(line), "[body: %zu octets]",
		    r->total);
		log_smtp('<', line, (size_t)n, HTTP_SHOWN_ALL);
	}
	return rv;
}

static void
http_io_init(struct http_io *h, struct conn *c, struct http_resp *r,
    struct fail *f)
{
	memset(h, 0, sizeof(*h));
	h->c = c;
	h->r = r;
	h->f = f;
	h->deadline = net_now_ms() + HTTP_RESPONSE_STEPS * c->timeout * 1000LL;
	r->keep_alive = 0;
	r->bodylen = r->total = 0;
	r->truncated = 0;
	if (r->body != NULL && r->bodymax > 0)
		r->body[0] = '\0';
}

/* A failure's stage is the step's; the connection is not reused. */
static int
http_failed(struct http_io *h, enum smtp_stage stage)
{
	h->r->keep_alive = 0;
	h->f->stage = stage;
	return -1;
}

void
http_resp_init(struct http_resp *r, const char *const *keep, char *body,
    size_t bodymax)
{
	memset(r, 0, sizeof(*r));
	r->keep = keep;
	r->body = body;
	r->bodymax = body != NULL ? bodymax : 0;
	r->length = -1;
	if (r->bodymax > 0)
		r->body[0] = '\0';
}

const char *
http_resp_field(const struct http_resp *r, const char *name)
{
	size_t i;

	if (r->keep == NULL)
		return NULL;
	for (i = 0; i < HTTP_KEEP_MAX && r->keep[i] != NULL; i++)
		if (strcasecmp(r->keep[i], name) == 0)
			return r->have & (1u << i) ? r->kept[i] : NULL;
	return NULL;
}

int
http_response(struct conn *c, struct http_resp *r, struct fail *f)
{
	struct http_io h;

	http_io_init(&h, c, r, f);
	if (http_final(&h) == -1 || http_body(&h) == -1)
		return http_failed(&h, SMTP_STAGE_RESPONSE);
	/* More than the response came: its framing cannot be trusted. */
	if (conn_pending(c))
		r->keep_alive = 0;
	return r->status;
}

/*
 * RFC 9110 10.1.1: the client "ought not wait for an indefinite period"
 * for 100 Continue; a server that does not know the expectation says
 * nothing, and the body goes after the bound.
 */
static int
http_expect(struct conn *c, struct http_resp *r, struct fail *f)
{
	struct http_io h;
	long long end, left;
	int st, n = 0;

	http_io_init(&h, c, r, f);
	end = net_now_ms() + (c->timeout * 1000LL < HTTP_CONTINUE_MS ?
	    c->timeout * 1000LL : HTTP_CONTINUE_MS);
	for (;;) {
		if ((left = end - net_now_ms()) <= 0)
			return 0;
		switch (conn_wait(c, (int)left, f)) {
		case -1:
			return http_failed(&h, SMTP_STAGE_REQUEST);
		case 0:
			return 0;
		}
		if ((st = http_head(&h)) == -1)
			return http_failed(&h, SMTP_STAGE_REQUEST);
		if (st == 100)
			return 0;
		if (st >= 200)
			break;
		if (http_interim(&h, &n) == -1)
			return http_failed(&h, SMTP_STAGE_REQUEST);
	}
	/* The server answered without the body it may still expect. */
	if (http_body(&h) == -1)
		return http_failed(&h, SMTP_STAGE_REQUEST);
	r->keep_alive = 0;
	return 1;
}

int
http_continue(struct conn *c, const struct http_req *q, struct http_resp *r,
    struct fail *f)
{
	int rv;

	if ((rv = http_expect(c, r, f)) == 0)
		http_trace_body(q->length);
	return rv;
}

/* ------------------------------------------------------------------ */
/* A tunnel through a proxy.                                           */

/* The proxy's refusal, classified: its credentials, the target, it. */
static int
http_refused(const struct conn *c, const char *target,
    const struct http_resp *r, int auth, struct fail *f)
{
	if (r->status == 407)
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_CONNECT,
		    "proxy %s[%s] %s for CONNECT %s: %d %s", c->host, c->addr,
		    auth ? "refused the credentials" : "wants credentials",
		    target, r->status, r->reason);
	else if (r->status >= 500)
		fail_set(f, FAIL_NET, SMTP_STAGE_CONNECT,
		    "proxy %s[%s] could not reach %s: %d %s", c->host, c->addr,
		    target, r->status, r->reason);
	else
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_CONNECT,
		    "proxy %s[%s] refused CONNECT %s: %d %s", c->host, c->addr,
		    target, r->status, r->reason);
	f->code = r->status;
	return -1;
}

int
http_connect(struct conn *c, const char *host, int port, const char *auth,
    struct fail *f)
{
	struct http_field pa = { "Proxy-Authorization", auth };
	struct http_req q;
	struct http_resp r;
	struct http_io h;
	char target[sizeof(c->host) + 16];

	/* RFC 9110 9.3.6: authority-form; an IPv6 literal in brackets. */
	if (strlen(host) >= sizeof(c->host) || port <= 0 || port > 65535) {
		fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_CONNECT,
		    "CONNECT: bad target");
		return -1;
	}
	(void)snprintf(target, sizeof(target), strchr(host, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", host, port);
	memset(&q, 0, sizeof(q));
	q.method = "CONNECT";
	q.target = q.host = target;
	q.fields = auth != NULL ? &pa : NULL;
	q.nfields = auth != NULL;
	q.length = -1;
	if (http_request(c, &q, f) == -1) {
		f->stage = SMTP_STAGE_CONNECT;
		return -1;
	}
	/* Only the head: a refusal's body is not worth a wait. */
	http_resp_init(&r, NULL, NULL, 0);
	r.method = "CONNECT";
	http_io_init(&h, c, &r, f);
	if (http_final(&h) == -1)
		return http_failed(&h, SMTP_STAGE_CONNECT);
	if (r.status / 100 != 2)
		return http_refused(c, target, &r, auth != NULL, f);
	/* As after STARTTLS: nothing may come before the TLS handshake. */
	if (conn_pending(c)) {
		fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_CONNECT,
		    "proxy %s[%s] sent data after its %d, before TLS: refused "
		    "as injected", c->host, c->addr, r.status);
		return -1;
	}
	(void)strlcpy(c->host, host, sizeof(c->host));
	c->port = port;
	return 0;
}

/* ------------------------------------------------------------------ */
/* One-off exchanges: the credential endpoints (awscreds.c's sources). */

void
http_client_init(struct http_client *hc, const struct url *u,
    const char *ca_file, int timeout)
{
	memset(hc, 0, sizeof(*hc));
	hc->c.fd = -1;
	hc->u = u;
	hc->ca_file = ca_file;
	hc->timeout = timeout;
}

/* Open the connection to hc->u (TLS for https). */
static int
http_client_open(struct http_client *hc, struct fail *f)
{
	if (conn_open(&hc->c, hc->u->host, hc->u->port, hc->timeout,
	    f) == -1)
		return -1;
	if (hc->u->tls && conn_start_tls(&hc->c, hc->ca_file, f) == -1) {
		conn_close(&hc->c);
		return -1;
	}
	hc->open = 1;
	return 0;
}

int
http_exchange(struct http_client *hc, const char *method,
    const struct http_field *fields, size_t nfields, const char *path,
    const char *reqbody, size_t reqlen, char *body, size_t bodymax,
    struct fail *f)
{
	struct http_resp r;
	struct http_req q;
	char host[sizeof(hc->u->host) + 16];
	int status;

	if (!hc->open && http_client_open(hc, f) == -1)
		return -1;
	(void)snprintf(host, sizeof(host), strchr(hc->u->host, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", hc->u->host, hc->u->port);
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.target = path;
	q.host = host;
	q.fields = fields;
	q.nfields = nfields;
	q.length = reqbody != NULL ? (long long)reqlen : -1;
	http_resp_init(&r, NULL, body, bodymax);
	if (http_request(&hc->c, &q, f) == -1 || (reqbody != NULL &&
	    (conn_write(&hc->c, reqbody, reqlen, f) == -1 ||
	    conn_flush(&hc->c, f) == -1)) ||
	    (status = http_response(&hc->c, &r, f)) == -1) {
		http_client_close(hc);
		return -1;
	}
	if (!r.keep_alive)
		http_client_close(hc);
	if (r.truncated) {
		fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_RESPONSE, "%s answered "
		    "%d with a body over %zu octets", hc->u->host, status,
		    bodymax - 1);
		explicit_bzero(body, bodymax);
		return -1;
	}
	return status;
}

/* Close, and wipe what was read: an answer may have held keys. */
void
http_client_close(struct http_client *hc)
{
	/* Also after a failed conn_open(): it keeps the addresses. */
	conn_close(&hc->c);
	explicit_bzero(hc->c.rbuf, sizeof(hc->c.rbuf));
	explicit_bzero(hc->c.wbuf, sizeof(hc->c.wbuf));
	hc->c.rpos = hc->c.rlen = hc->c.wlen = 0;
	hc->open = 0;
}
