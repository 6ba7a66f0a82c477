/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: sigv4.c's encoders on arbitrary input.  The input is
 * a path, a query and a header value separated by NUL octets, signed as
 * one request; and the whole input goes through sigv4_uri_encode() into
 * a buffer whose size the first octet picks.  Invariants: a refusal says
 * why and leaves nothing else; a canonical URI is '/' and segments of
 * unreserved octets and %XX (upper-case hex), with no empty, "." or ".."
 * segment; a canonical query is name=value pairs of the same, sorted;
 * a header value has no control octet, no leading, trailing or double
 * blank; the Authorization value has its fixed shape; an encoding
 * either fits and decodes back to the input, or is refused and empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define AUTHZ	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"	\
	"us-east-1/service/aws4_request, "				\
	"SignedHeaders=host;x-amz-date;x-fuzz, Signature="

static struct sigv4 out;

static int
hexup(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int
unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* s[0..n) is unreserved octets and %XX of any other octet. */
static void
check_encoded(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			if (!unreserved((unsigned char)s[i]))
				abort();
			continue;
		}
		if (n - i < 3 || !hexup(s[i + 1]) || !hexup(s[i + 2]) ||
		    unreserved(hexval(s[i + 1]) << 4 | hexval(s[i + 2])))
			abort();
		i += 2;
	}
}

static void
check_uri(const char *s, size_t n)
{
	size_t i, seg;

	if (n == 0 || s[0] != '/')
		abort();
	for (i = 1; i < n; i += seg + 1) {
		seg = strcspn(s + i, "/\n");
		if (i + seg > n)
			seg = n - i;
		if (seg == 0 && i + seg < n)
			abort();			/* "//" */
		if ((seg == 1 && s[i] == '.') ||
		    (seg == 2 && s[i] == '.' && s[i + 1] == '.'))
			abort();
		check_encoded(s + i, seg);
	}
}

static int
cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	if ((c = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static void
check_query(const char *s, size_t n)
{
	const char *pk = NULL, *pv = NULL, *eq, *k;
	size_t pkl = 0, pvl = 0, len, kl, vl;
	int c;

	for (k = s; k < s + n; k += len + 1) {
		len = strcspn(k, "&\n");
		if ((eq = memchr(k, '=', len)) == NULL)
			abort();
		kl = (size_t)(eq - k);
		vl = len - kl - 1;
		check_encoded(k, kl);
		check_encoded(eq + 1, vl);
		if (pk != NULL && ((c = cmp(pk, pkl, k, kl)) > 0 ||
		    (c == 0 && cmp(pv, pvl, eq + 1, vl) > 0)))
			abort();
		pk = k;
		pkl = kl;
		pv = eq + 1;
		pvl = vl;
	}
}

static void
check_signed(void)
{
	const char *u, *q, *h, *e;
	size_t i;

	u = strchr(out.creq, '\n') + 1;
	q = strchr(u, '\n') + 1;
	h = strchr(q, '\n') + 1;
	check_uri(u, (size_t)(q - 1 - u));
	check_query(q, (size_t)(h - 1 - q));
	if ((e = strstr(h, "\nx-fuzz:")) == NULL)
		abort();
	for (e += 8, i = 0; e[i] != '\n'; i++)
		if ((unsigned char)e[i] < ' ' || e[i] == 0x7f ||
		    (e[i] == ' ' && (i == 0 || e[i - 1] == ' ' ||
		    e[i + 1] == '\n')))
			abort();
	if (strncmp(out.authorization, AUTHZ, strlen(AUTHZ)) != 0 ||
	    strlen(out.authorization) != strlen(AUTHZ) + SIGV4_HEX_LEN ||
	    strspn(out.authorization + strlen(AUTHZ), "0123456789abcdef") !=
	    SIGV4_HEX_LEN)
		abort();
}

static void
check_encode(const uint8_t *d, size_t n)
{
	char buf[512], *p;
	size_t cap, i;
	int c;

	cap = n > 0 ? 1 + (size_t)d[0] * 2 : 1;
	if (sigv4_uri_encode((const char *)d, n, buf, cap) == -1) {
		if (buf[0] != '\0')
			abort();
		return;
	}
	if (strlen(buf) >= cap)
		abort();
	check_encoded(buf, strlen(buf));
	for (p = buf, i = 0; *p != '\0'; i++) {
		if (*p == '%') {
			c = hexval(p[1]) << 4 | hexval(p[2]);
			p += 3;
		} else
			c = (unsigned char)*p++;
		if (i >= n || c != d[i])
			abort();
	}
	if (i != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sigv4_header h = { "X-Fuzz", NULL };
	struct sigv4_creds cr = { "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
	struct sigv4_req rq = {
		.method = "GET", .host = "example.amazonaws.com",
		.headers = &h, .nheaders = 1,
		.payload_hash = SIGV4_EMPTY_SHA256, .region = "us-east-1",
		.service = "service", .when = 1440938160
	};
	char *buf, *q, *v;

	check_encode(d, n);
	if (n > 65536 || (buf = malloc(n + 4)) == NULL)
		return 0;
	buf[0] = '/';
	memcpy(buf + 1, d, n);
	memset(buf + 1 + n, 0, 3);
	q = buf + strlen(buf) + 1;
	v = q + strlen(q) + 1;
	rq.path = buf;
	rq.query = q <= buf + n ? q : NULL;
	h.value = v <= buf + n ? v : "";
	if (sigv4_sign(&rq, &cr, &out) == 0)
		check_signed();
	else if (out.err == NULL || out.err[0] == '\0' ||
	    out.creq[0] != '\0' || out.authorization[0] != '\0')
		abort();
	sigv4_wipe(&out);
	free(buf);
	return 0;
}
