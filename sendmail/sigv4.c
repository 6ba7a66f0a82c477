/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * AWS Signature Version 4, as the AWS documentation "Create a signed AWS
 * API request" and "Elements of an AWS API request signature" describe it
 * (ses.md 9.3): the canonical request, the string to sign, the signing
 * key (an HMAC-SHA256 chain from "AWS4" + secret) and the Authorization
 * value, with GnuTLS's SHA-256 and HMAC.  The body is hashed by the
 * caller in a first pass over the spool (sigv4_hash_*), so it is never
 * in memory.  Nothing is allocated: text goes into the caller's struct
 * sigv4 through bounded appends, key material into a struct
 * sigv4_scratch that is wiped before any function returns.  creds.c
 * derives the SES SMTP password with the same chain (ses.md 4.2).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "extern.h"

#define SIGV4_ALGORITHM	"AWS4-HMAC-SHA256"
#define SIGV4_TERM	"aws4_request"
#define SIGV4_NAME_MAX	63	/* a region or service name */
#define SIGV4_AKID_MAX	128	/* an access key id */
#define SIGV4_METHOD_MAX 16

/* A bounded append buffer: once something does not fit, it is full. */
struct sigv4_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;		/* counts the NUL */
	int		 full;
};

/* One query parameter, as on the request line (still %-encoded). */
struct sigv4_param {
	const char	*k;
	size_t		 klen;
	const char	*v;
	size_t		 vlen;
};

/* One header to sign. */
struct sigv4_hv {
	const char	*name;
	const char	*value;
};

/* An encoded string read octet by octet: decoded, then encoded again. */
struct sigv4_enc {
	const char	*p;
	const char	*end;
	char		 e[3];		/* "%XX" being returned */
	size_t		 i;
	size_t		 n;
};

static const char sigv4_hexlc[] = "0123456789abcdef";
static const char sigv4_hexuc[] = "0123456789ABCDEF";

static void
sigv4_buf_init(struct sigv4_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->full = 0;
	p[0] = '\0';
}

static void
sigv4_add(struct sigv4_buf *b, const char *s, size_t n)
{
	if (b->full || n >= b->cap - b->len) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sigv4_adds(struct sigv4_buf *b, const char *s)
{
	sigv4_add(b, s, strlen(s));
}

static void
sigv4_addc(struct sigv4_buf *b, int c)
{
	char ch = (char)c;

	sigv4_add(b, &ch, 1);
}

static int
sigv4_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void
sigv4_add_lower(struct sigv4_buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		sigv4_addc(b, sigv4_lower((unsigned char)*s));
}

static void
sigv4_hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = sigv4_hexlc[p[i] >> 4];
		out[2 * i + 1] = sigv4_hexlc[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* RFC 3986 2.3: the octets SigV4 never encodes. */
static int
sigv4_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* The encoding of octet c, "%XX" or itself, into e; its length. */
static size_t
sigv4_encode_octet(unsigned char c, char e[3])
{
	if (sigv4_unreserved(c)) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '%';
	e[1] = sigv4_hexuc[c >> 4];
	e[2] = sigv4_hexuc[c & 0x0f];
	return 3;
}

static void
sigv4_add_encoded(struct sigv4_buf *b, const char *s, size_t n)
{
	char e[3];
	size_t i;

	for (i = 0; i < n; i++)
		sigv4_add(b, e, sigv4_encode_octet((unsigned char)s[i], e));
}

int
sigv4_uri_encode(const char *s, size_t len, char *out, size_t outlen)
{
	struct sigv4_buf b;

	if (out == NULL || outlen == 0 || (s == NULL && len > 0))
		return -1;
	sigv4_buf_init(&b, out, outlen);
	sigv4_add_encoded(&b, s, len);
	if (b.full) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The canonical URI and query string.                                 */

/*
 * Drop the last segment written since start ("..", RFC 3986 5.2.4).  An
 * encoded segment holds no '/', so the last '/' begins it.
 */
static void
sigv4_uri_pop(struct sigv4_buf *b, size_t start)
{
	if (b->full)
		return;
	while (b->len > start && b->p[b->len - 1] != '/')
		b->len--;
	if (b->len > start)
		b->len--;
	b->p[b->len] = '\0';
}

/*
 * The canonical URI of path as sent: segments normalised (empty and "."
 * dropped, ".." applied; AWS's test suite "normalize-path" cases) and each
 * URI-encoded once more, the "twice" of the AWS documentation for every
 * service but S3; a '%' of the path as sent becomes "%25".  A trailing
 * '/' stays; nothing left is "/".
 */
static void
sigv4_canon_uri(struct sigv4_buf *b, const char *path)
{
	const char *s;
	size_t start, n;

	start = b->len;
	for (s = path; *s != '\0'; s += n) {
		while (*s == '/')
			s++;
		if ((n = strcspn(s, "/")) == 0)
			break;
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			sigv4_uri_pop(b, start);
			continue;
		}
		sigv4_addc(b, '/');
		sigv4_add_encoded(b, s, n);
	}
	if (b->len == start || path[strlen(path) - 1] == '/')
		sigv4_addc(b, '/');
}

static int
sigv4_xdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Is every '%' of the n octets at s followed by two hex digits? */
static int
sigv4_escapes_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '%' && (n - i < 3 || sigv4_xdigit(s[i + 1]) < 0 ||
		    sigv4_xdigit(s[i + 2]) < 0))
			return 0;
	return 1;
}

/* The next octet of a checked %-encoded string; advances *sp. */
static unsigned char
sigv4_decode(const char **sp)
{
	const char *s = *sp;

	if (s[0] != '%') {
		*sp = s + 1;
		return (unsigned char)s[0];
	}
	*sp = s + 3;
	return (unsigned char)(sigv4_xdigit(s[1]) << 4 | sigv4_xdigit(s[2]));
}

/* The next octet of the canonical form, or -1 at the end. */
static int
sigv4_enc_next(struct sigv4_enc *it)
{
	if (it->i < it->n)
		return (unsigned char)it->e[it->i++];
	if (it->p >= it->end)
		return -1;
	it->n = sigv4_encode_octet(sigv4_decode(&it->p), it->e);
	it->i = 1;
	return (unsigned char)it->e[0];
}

/* Compare two %-encoded strings by their canonical forms, bytewise. */
static int
sigv4_enc_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct sigv4_enc x, y;
	int c, d;

	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	x.p = a;
	x.end = a + alen;
	y.p = b;
	y.end = b + blen;
	do {
		c = sigv4_enc_next(&x);
		d = sigv4_enc_next(&y);
	} while (c == d && c != -1);
	return c - d;
}

static void
sigv4_add_canon(struct sigv4_buf *b, const char *s, size_t n)
{
	const char *end = s + n;
	char e[3];

	while (s < end)
		sigv4_add(b, e, sigv4_encode_octet(sigv4_decode(&s), e));
}

/* Split the query at '&' and the first '='; NULL or a reason. */
static const char *
sigv4_split_query(const char *q, struct sigv4_param *pv, size_t *np)
{
	const char *eq;
	size_t len;

	for (*np = 0; q != NULL && *q != '\0'; q += len + (q[len] == '&')) {
		if ((len = strcspn(q, "&")) == 0)
			continue;
		if (*np == SIGV4_MAX_PARAMS)
			return "too many query parameters";
		if (!sigv4_escapes_ok(q, len))
			return "a '%' in the query without two hex digits";
		pv[*np].k = q;
		if ((eq = memchr(q, '=', len)) == NULL)
			eq = q + len;
		pv[*np].klen = (size_t)(eq - q);
		pv[*np].v = eq + (eq < q + len);
		pv[*np].vlen = len - pv[*np].klen - (eq < q + len);
		(*np)++;
	}
	return NULL;
}

static int
sigv4_param_cmp(const struct sigv4_param *a, const struct sigv4_param *b)
{
	int c;

	if ((c = sigv4_enc_cmp(a->k, a->klen, b->k, b->klen)) != 0)
		return c;
	return sigv4_enc_cmp(a->v, a->vlen, b->v, b->vlen);
}

/*
 * The canonical query string: each name and value decoded and encoded
 * again, sorted by encoded name, then value, "name=value" joined by '&'.
 */
static const char *
sigv4_canon_query(struct sigv4_buf *b, const char *query)
{
	struct sigv4_param pv[SIGV4_MAX_PARAMS], t;
	const char *why;
	size_t i, j, n;

	if ((why = sigv4_split_query(query, pv, &n)) != NULL)
		return why;
	for (i = 1; i < n; i++) {
		t = pv[i];
		for (j = i; j > 0 && sigv4_param_cmp(&pv[j - 1], &t) > 0; j--)
			pv[j] = pv[j - 1];
		pv[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			sigv4_addc(b, '&');
		sigv4_add_canon(b, pv[i].k, pv[i].klen);
		sigv4_addc(b, '=');
		sigv4_add_canon(b, pv[i].v, pv[i].vlen);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The canonical headers.                                              */

/* RFC 7230 3.2.6: a token, as a header name must be. */
static int
sigv4_is_token(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!sigv4_unreserved((unsigned char)s[n]) &&
		    strchr("!#$%&'*+^`|", s[n]) == NULL)
			return 0;
	return n > 0 && n <= SIGV4_NAME_MAX;
}

static int
sigv4_namecmp(const char *a, const char *b)
{
	for (; *a != '\0' && sigv4_lower((unsigned char)*a) ==
	    sigv4_lower((unsigned char)*b); a++, b++)
		;
	return sigv4_lower((unsigned char)*a) - sigv4_lower((unsigned char)*b);
}

/*
 * Append value with its leading and trailing blanks dropped and each
 * inner run of blanks one space (the documentation's Trimall).  A line
 * break followed by a blank is an obs-fold (RFC 7230 3.2.4), so a blank;
 * any other control character is refused.  0 or -1.
 */
static int
sigv4_trimall(struct sigv4_buf *b, const char *v)
{
	int blank = 0, any = 0;
	unsigned char c;

	for (; (c = (unsigned char)*v) != '\0'; v++) {
		if (c == '\r' && v[1] == '\n')
			c = (unsigned char)*++v;
		if (c == '\r' || (c == '\n' && v[1] != ' ' && v[1] != '\t'))
			return -1;
		if (c == ' ' || c == '\t' || c == '\n') {
			blank = 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (blank && any)
			sigv4_addc(b, ' ');
		sigv4_addc(b, c);
		blank = 0;
		any = 1;
	}
	return 0;
}

/* Headers sigv4 adds itself, or that must never be signed. */
static int
sigv4_reserved(const char *name, const struct sigv4_req *rq)
{
	static const char *const v[] = { "host", "x-amz-date",
	    "x-amz-security-token", "authorization" };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (sigv4_namecmp(name, v[i]) == 0)
			return 1;
	return rq->content_type != NULL &&
	    sigv4_namecmp(name, "content-type") == 0;
}

/* Every header to sign, sorted by name (stable: repeats keep order). */
static const char *
sigv4_gather(const struct sigv4_req *rq, const struct sigv4_creds *cr,
    const char *amz_date, struct sigv4_hv *hv, size_t *np)
{
	struct sigv4_hv t;
	size_t i, j, n = 0;

	if (rq->nheaders > SIGV4_MAX_HEADERS)
		return "too many headers to sign";
	for (i = 0; i < rq->nheaders; i++) {
		t = (struct sigv4_hv){ rq->headers[i].name,
		    rq->headers[i].value };
		if (t.name == NULL || t.value == NULL ||
		    !sigv4_is_token(t.name))
			return "a header name that is not a token";
		if (sigv4_reserved(t.name, rq))
			return "a header that is signed already or never";
		hv[n++] = t;
	}
	hv[n++] = (struct sigv4_hv){ "host", rq->host };
	hv[n++] = (struct sigv4_hv){ "x-amz-date", amz_date };
	if (cr->token != NULL)
		hv[n++] = (struct sigv4_hv){ "x-amz-security-token",
		    cr->token };
	if (rq->content_type != NULL)
		hv[n++] = (struct sigv4_hv){ "content-type",
		    rq->content_type };
	for (i = 1; i < n; i++) {
		t = hv[i];
		for (j = i; j > 0 && sigv4_namecmp(hv[j - 1].name,
		    t.name) > 0; j--)
			hv[j] = hv[j - 1];
		hv[j] = t;
	}
	*np = n;
	return NULL;
}

/*
 * The canonical headers ("name:value\n", sorted, repeats joined by ',')
 * into b and the signed header list ("a;b") into sh.
 */
static const char *
sigv4_canon_headers(struct sigv4_buf *b, struct sigv4_buf *sh,
    const struct sigv4_req *rq, const struct sigv4_creds *cr,
    const char *amz_date)
{
	struct sigv4_hv hv[SIGV4_MAX_HEADERS + 4];
	const char *why;
	size_t i, n;

	if ((why = sigv4_gather(rq, cr, amz_date, hv, &n)) != NULL)
		return why;
	for (i = 0; i < n; i++) {
		if (i == 0 || sigv4_namecmp(hv[i - 1].name, hv[i].name) != 0) {
			if (i > 0) {
				sigv4_addc(b, '\n');
				sigv4_addc(sh, ';');
			}
			sigv4_add_lower(b, hv[i].name);
			sigv4_add_lower(sh, hv[i].name);
			sigv4_addc(b, ':');
		} else
			sigv4_addc(b, ',');
		if (sigv4_trimall(b, hv[i].value) == -1)
			return "a header value with a control character";
	}
	sigv4_addc(b, '\n');
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Checks of the inputs.                                               */

/* A region or service: lower-case letters, digits, '-'. */
static int
sigv4_is_name(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (!(s[n] >= 'a' && s[n] <= 'z') &&
		    !(s[n] >= '0' && s[n] <= '9') && s[n] != '-')
			return 0;
	return n > 0 && n <= SIGV4_NAME_MAX;
}

/* s is min to max characters, each of which is in set. */
static int
sigv4_is_all(const char *s, size_t min, size_t max, const char *set)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (strchr(set, s[n]) == NULL)
			return 0;
	return n >= min && n <= max;
}

#define SIGV4_DIGITS	"0123456789"
#define SIGV4_UPPER	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define SIGV4_ALNUM	SIGV4_DIGITS SIGV4_UPPER "abcdefghijklmnopqrstuvwxyz"

static const char *
sigv4_check(const struct sigv4_req *rq, const struct sigv4_creds *cr)
{
	if (!sigv4_is_all(rq->method, 1, SIGV4_METHOD_MAX, SIGV4_UPPER))
		return "the method is not an upper-case token";
	if (rq->path == NULL || rq->path[0] != '/')
		return "the path does not start with '/'";
	if (rq->host == NULL || rq->host[0] == '\0')
		return "no host";
	if (!sigv4_is_all(rq->payload_hash, SIGV4_HEX_LEN, SIGV4_HEX_LEN,
	    sigv4_hexlc))
		return "the payload hash is not 64 lower-case hex digits";
	if (!sigv4_is_name(rq->region))
		return "the region is not a-z, 0-9 and '-'";
	if (!sigv4_is_name(rq->service))
		return "the service is not a-z, 0-9 and '-'";
	if (!sigv4_is_all(cr->access_key_id, 1, SIGV4_AKID_MAX, SIGV4_ALNUM))
		return "the access key id is not 1 to 128 letters and digits";
	if (cr->secret == NULL || cr->secret[0] == '\0' ||
	    strlen(cr->secret) > SIGV4_SECRET_MAX)
		return "the secret access key is empty or too long";
	if (cr->token != NULL && cr->token[0] == '\0')
		return "the session token is empty";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The key, the string to sign, the signature.                         */

static int
sigv4_hmac(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[SIGV4_KEY_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, len,
	    out) < 0 ? -1 : 0;
}

int
sigv4_mac(const unsigned char key[SIGV4_KEY_LEN], const void *msg,
    size_t len, unsigned char out[SIGV4_KEY_LEN])
{
	return sigv4_hmac(key, SIGV4_KEY_LEN, msg, len, out);
}

/*
 * ses.md 9.3 step 3: s->k = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date),
 * region), service), "aws4_request").  s->k0 and s->t are wiped here,
 * s->k by the caller once used.  0 or -1.
 */
STATIC int
sigv4_derive(struct sigv4_scratch *s, const char *secret, const char *date,
    const char *region, const char *service)
{
	const char *const chain[] = { region, service, SIGV4_TERM };
	size_t i, n;
	int rc;

	if (secret == NULL || (n = strlen(secret)) == 0 ||
	    n > SIGV4_SECRET_MAX || !sigv4_is_all(date, 8, 8, SIGV4_DIGITS) ||
	    !sigv4_is_name(region) || !sigv4_is_name(service))
		return -1;
	memcpy(s->k0, "AWS4", 4);
	memcpy(s->k0 + 4, secret, n);
	rc = sigv4_hmac(s->k0, 4 + n, date, 8, s->k);
	explicit_bzero(s->k0, sizeof(s->k0));
	for (i = 0; rc == 0 && i < sizeof(chain) / sizeof(chain[0]); i++) {
		rc = sigv4_hmac(s->k, sizeof(s->k), chain[i],
		    strlen(chain[i]), s->t);
		memcpy(s->k, s->t, sizeof(s->k));
	}
	explicit_bzero(s->t, sizeof(s->t));
	return rc;
}

int
sigv4_signing_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char key[SIGV4_KEY_LEN])
{
	struct sigv4_scratch s;
	int rc;

	if ((rc = sigv4_derive(&s, secret, date, region, service)) == 0)
		memcpy(key, s.k, SIGV4_KEY_LEN);
	explicit_bzero(&s, sizeof(s));
	return rc;
}

int
sigv4_amz_date(time_t t, char out[SIGV4_DATE_LEN + 1])
{
	struct tm tm;

	/* Four-digit years only: the format has no room for others. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 1000 - 1900 ||
	    tm.tm_year > 9999 - 1900 ||
	    strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) !=
	    SIGV4_DATE_LEN) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * The canonical request (ses.md 9.3 step 1): method, URI, query, headers,
 * signed headers, payload hash, one per line.
 */
static const char *
sigv4_creq(const struct sigv4_req *rq, const struct sigv4_creds *cr,
    struct sigv4 *out)
{
	struct sigv4_buf b, sh;
	const char *why;

	sigv4_buf_init(&b, out->creq, sizeof(out->creq));
	sigv4_buf_init(&sh, out->signed_headers, sizeof(out->signed_headers));
	sigv4_adds(&b, rq->method);
	sigv4_addc(&b, '\n');
	sigv4_canon_uri(&b, rq->path);
	sigv4_addc(&b, '\n');
	if ((why = sigv4_canon_query(&b, rq->query)) != NULL)
		return why;
	sigv4_addc(&b, '\n');
	if ((why = sigv4_canon_headers(&b, &sh, rq, cr, out->amz_date)) !=
	    NULL)
		return why;
	sigv4_addc(&b, '\n');
	sigv4_adds(&b, out->signed_headers);
	sigv4_addc(&b, '\n');
	sigv4_adds(&b, rq->payload_hash);
	if (sh.full)
		return "the signed header list is too long";
	return b.full ? "the canonical request is too long" : NULL;
}

/* ses.md 9.3 step 2: algorithm, time, scope, hash of the request. */
static const char *
sigv4_sts(const struct sigv4_req *rq, struct sigv4 *out)
{
	char hex[SIGV4_HEX_LEN + 1];
	int n;

	n = snprintf(out->scope, sizeof(out->scope), "%.8s/%s/%s/%s",
	    out->amz_date, rq->region, rq->service, SIGV4_TERM);
	if (n < 0 || (size_t)n >= sizeof(out->scope))
		return "the scope is too long";
	if (sigv4_hash_hex(out->creq, strlen(out->creq), hex) == -1)
		return "SHA-256 failed";
	n = snprintf(out->sts, sizeof(out->sts), "%s\n%s\n%s\n%s",
	    SIGV4_ALGORITHM, out->amz_date, out->scope, hex);
	if (n < 0 || (size_t)n >= sizeof(out->sts))
		return "the string to sign is too long";
	return NULL;
}

/* Steps 3 and 4: the signing key, the signature, the Authorization. */
static const char *
sigv4_finish(const struct sigv4_req *rq, const struct sigv4_creds *cr,
    struct sigv4 *out, struct sigv4_scratch *s)
{
	char date[9];
	int n;

	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	if (sigv4_derive(s, cr->secret, date, rq->region, rq->service) == -1)
		return "cannot derive the signing key";
	if (sigv4_mac(s->k, out->sts, strlen(out->sts), s->t) == -1)
		return "HMAC-SHA256 failed";
	sigv4_hex(s->t, SIGV4_KEY_LEN, out->signature);
	n = snprintf(out->authorization, sizeof(out->authorization),
	    "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	    SIGV4_ALGORITHM, cr->access_key_id, out->scope,
	    out->signed_headers, out->signature);
	if (n < 0 || (size_t)n >= sizeof(out->authorization))
		return "the Authorization header is too long";
	return NULL;
}

/* sigv4_sign() with the scratch given, so that tests can look at it. */
STATIC int
sigv4_sign_in(const struct sigv4_req *rq, const struct sigv4_creds *cr,
    struct sigv4 *out, struct sigv4_scratch *s)
{
	const char *why;

	explicit_bzero(out, sizeof(*out));
	if ((why = sigv4_check(rq, cr)) == NULL &&
	    sigv4_amz_date(rq->when, out->amz_date) == -1)
		why = "the time is out of range";
	if (why == NULL)
		why = sigv4_creq(rq, cr, out);
	if (why == NULL)
		why = sigv4_sts(rq, out);
	if (why == NULL)
		why = sigv4_finish(rq, cr, out, s);
	explicit_bzero(s, sizeof(*s));
	if (why == NULL)
		return 0;
	explicit_bzero(out, sizeof(*out));
	out->err = why;
	return -1;
}

int
sigv4_sign(const struct sigv4_req *rq, const struct sigv4_creds *cr,
    struct sigv4 *out)
{
	struct sigv4_scratch s;

	return sigv4_sign_in(rq, cr, out, &s);
}

void
sigv4_wipe(struct sigv4 *out)
{
	explicit_bzero(out, sizeof(*out));
}

/* ------------------------------------------------------------------ */
/* SHA-256 of the payload.                                             */

int
sigv4_hash_init(struct sigv4_hash *h)
{
	gnutls_hash_hd_t hd;

	h->hd = NULL;
	if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
		return -1;
	h->hd = hd;
	return 0;
}

int
sigv4_hash_update(struct sigv4_hash *h, const void *p, size_t len)
{
	if (h->hd == NULL)
		return -1;
	if (len == 0)
		return 0;
	if (gnutls_hash(h->hd, p, len) < 0) {
		sigv4_hash_abort(h);
		return -1;
	}
	return 0;
}

int
sigv4_hash_final_hex(struct sigv4_hash *h, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char d[SIGV4_KEY_LEN];

	if (h->hd == NULL)
		return -1;
	gnutls_hash_deinit(h->hd, d);
	h->hd = NULL;
	sigv4_hex(d, sizeof(d), hex);
	return 0;
}

void
sigv4_hash_abort(struct sigv4_hash *h)
{
	if (h->hd != NULL)
		gnutls_hash_deinit(h->hd, NULL);
	h->hd = NULL;
}

int
sigv4_hash_hex(const void *p, size_t len, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char d[SIGV4_KEY_LEN];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, len > 0 ? p : "", len,
	    d) < 0)
		return -1;
	sigv4_hex(d, sizeof(d), hex);
	return 0;
}
