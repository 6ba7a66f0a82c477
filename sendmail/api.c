/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The HTTPS transport (design.md 12): each transaction is one SES API v2
 * SendEmail call with raw content, SigV4-signed with the IAM keys, over
 * the same struct conn and TLS as SMTP (through a CONNECT proxy when one
 * is configured).  A new connection costs TCP, TLS and the request: three
 * round trips where SMTP needs eight.  --check's GetAccount is a signed
 * GET over the same.  The body of SendEmail is
 *	{"FromEmailAddress": ..., "Destination": {"ToAddresses": [...]},
 *	 "Content": {"Raw": {"Data": "BASE64"}}, "ConfigurationSetName": ...}
 * with BASE64 the exact bytes SMTP would carry, without dot-stuffing,
 * encoded on the fly from the spool: a first pass hashes it for the
 * signature and counts it for Content-Length, the second sends it.
 * Memory stays flat whatever the message's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "extern.h"

#define API_PATH	"/v2/email/outbound-emails"
#define API_B64_IN	12288		/* octets per base64 block: 3 * 4096 */
#define API_ANSWER_MAX	65536		/* an answer's body, kept */

struct api {
	struct conn		 c;
	const struct conf	*conf;
	int			 reusable;	/* may carry another call */
};

/* Where a base64 block goes: the hash, or the connection. */
struct api_out {
	struct sigv4_hash	*hash;		/* pass 1 */
	struct conn		*c;		/* pass 2 */
	struct fail		*f;
	long long		 total;		/* octets written */
};

/* Base64 on the fly (RFC 4648 4), in blocks of a multiple of 3 octets. */
struct api_b64 {
	struct api_out		*out;
	unsigned char		 in[API_B64_IN];
	size_t			 n;
};

static int
api_out_write(struct api_out *o, const void *buf, size_t len)
{
	o->total += (long long)len;
	if (o->hash != NULL)
		return sigv4_hash_update(o->hash, buf, len);
	return conn_write(o->c, buf, len, o->f);
}

static int
api_b64_block(struct api_b64 *b)
{
	gnutls_datum_t in, out;
	int rv;

	if (b->n == 0)
		return 0;
	in.data = b->in;
	in.size = (unsigned int)b->n;
	if (gnutls_base64_encode2(&in, &out) < 0) {
		fail_set(b->out->f, FAIL_OS, SMTP_STAGE_REQUEST,
		    "out of memory");
		return -1;
	}
	rv = api_out_write(b->out, out.data, out.size);
	gnutls_free(out.data);
	b->n = 0;
	return rv;
}

/* A wire_sink: the message's bytes into base64. */
static int
api_b64_write(void *arg, const void *buf, size_t len)
{
	struct api_b64 *b = arg;
	const unsigned char *p = buf;
	size_t k;

	while (len > 0) {
		k = sizeof(b->in) - b->n < len ? sizeof(b->in) - b->n : len;
		memcpy(b->in + b->n, p, k);
		b->n += k;
		p += k;
		len -= k;
		if (b->n == sizeof(b->in) && api_b64_block(b) == -1)
			return -1;
	}
	return 0;
}

/* The body: prefix, the message in base64, suffix, through o. */
static int
api_body(struct msg *m, const struct api_body *prefix,
    const struct api_body *suffix, struct api_out *o)
{
	struct api_b64 *b;
	struct wire *w;
	int rv = -1;

	b = malloc(sizeof(*b));
	w = malloc(sizeof(*w));
	if (b == NULL || w == NULL) {
		fail_set(o->f, FAIL_OS, SMTP_STAGE_REQUEST, "out of memory");
		goto out;
	}
	b->out = o;
	b->n = 0;
	wire_init(w, api_b64_write, b);
	w->nostuff = 1;
	if (api_out_write(o, prefix->buf, prefix->len) == 0 &&
	    msg_write(m, w, o->f) == 0 && api_b64_block(b) == 0 &&
	    api_out_write(o, suffix->buf, suffix->len) == 0)
		rv = 0;
out:
	free(b);
	free(w);
	return rv;
}

/* Pass 1: the payload's SHA-256 (hex) and its length. */
static int
api_hash(struct msg *m, const struct api_body *prefix,
    const struct api_body *suffix, char hex[65], long long *len,
    struct fail *f)
{
	struct sigv4_hash h;
	struct api_out o;

	memset(&o, 0, sizeof(o));
	o.hash = &h;
	o.f = f;
	if (sigv4_hash_init(&h) == -1) {
		fail_set(f, FAIL_OS, SMTP_STAGE_REQUEST, "out of memory");
		return -1;
	}
	if (api_body(m, prefix, suffix, &o) == -1) {
		sigv4_hash_abort(&h);
		if (f->kind == FAIL_NONE)
			fail_set(f, FAIL_OS, SMTP_STAGE_REQUEST, "hashing "
			    "the message failed");
		return -1;
	}
	*len = o.total;
	return sigv4_hash_final_hex(&h, hex) == -1 ? -1 : 0;
}

/* The Host field: the name, and the port when it is not 443. */
static void
api_host_field(const struct conf *c, char *buf, size_t len)
{
	if (c->api_port == 443)
		(void)snprintf(buf, len, "%s", c->api_host);
	else if (strchr(c->api_host, ':') != NULL)
		(void)snprintf(buf, len, "[%s]:%d", c->api_host, c->api_port);
	else
		(void)snprintf(buf, len, "%s:%d", c->api_host, c->api_port);
}

/*
 * Sign a request (a POST of JSON, or a GET: content_type NULL) whose
 * payload hashes to hex, at this moment.
 */
static int
api_sign(const struct conf *c, const char *method, const char *path,
    const char *content_type, const char *host, const char *hex,
    struct sigv4 *sig, struct fail *f)
{
	struct sigv4_creds cr;
	struct sigv4_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = path;
	rq.host = host;
	rq.content_type = content_type;
	rq.payload_hash = hex;
	rq.region = c->region;
	rq.service = "ses";
	rq.when = time(NULL);
	cr.access_key_id = c->aws_key_id;
	cr.secret = c->aws_secret;
	cr.token = c->aws_token;
	if (sigv4_sign(&rq, &cr, sig) == -1) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_REQUEST, "cannot sign the "
		    "request: %s", sig->err ? sig->err : "bad input");
		return -1;
	}
	return 0;
}

/*
 * A signed request's head: the signature's fields, and Content-Type when
 * there is a body (len >= 0; -1: none).
 */
static int
api_head(struct api *a, const char *method, const char *target,
    const char *host, long long len, const struct sigv4 *sig,
    struct fail *f)
{
	struct http_field fields[4];
	struct http_req q;
	size_t n = 0;

	if (len >= 0) {
		fields[n].name = "Content-Type";
		fields[n++].value = "application/json";
	}
	fields[n].name = "X-Amz-Date";
	fields[n++].value = sig->amz_date;
	if (a->conf->aws_token != NULL) {
		fields[n].name = "X-Amz-Security-Token";
		fields[n++].value = a->conf->aws_token;
	}
	fields[n].name = "Authorization";
	fields[n++].value = sig->authorization;
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.target = target;
	q.host = host;
	q.fields = fields;
	q.nfields = n;
	q.length = len;
	return http_request(&a->c, &q, f);
}

/* Write the head and the body (pass 2). */
static int
api_request(struct api *a, struct msg *m, const struct api_body *prefix,
    const struct api_body *suffix, long long len, const char *host,
    const struct sigv4 *sig, struct fail *f)
{
	struct api_out o;

	if (api_head(a, "POST", API_PATH, host, len, sig, f) == -1)
		return -1;
	memset(&o, 0, sizeof(o));
	o.c = &a->c;
	o.f = f;
	if (api_body(m, prefix, suffix, &o) == -1 ||
	    conn_flush(&a->c, f) == -1) {
		f->stage = SMTP_STAGE_REQUEST;
		return -1;
	}
	return 0;
}

/* An error answer as a failure: the status, SES's type and its text. */
static void
api_fail(const struct api_answer *ans, const char *reason, struct fail *f)
{
	fail_set(f, FAIL_API, SMTP_STAGE_RESPONSE, "%d %s: %s", ans->status,
	    ans->type[0] ? ans->type : "error", ans->message[0] ?
	    ans->message : reason);
	f->code = ans->status;
	(void)strlcpy(f->type, ans->type, sizeof(f->type));
}

/* The answer: the id, or the failure as SES typed it. */
static int
api_answer(struct api *a, struct txn *t, struct fail *f)
{
	static const char *const keep[] = { "x-amzn-ErrorType",
	    "x-amzn-RequestId", NULL };
	struct api_answer ans;
	struct http_resp r;
	char *body;
	int status;

	if ((body = malloc(API_ANSWER_MAX)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_RESPONSE, "out of memory");
		return -1;
	}
	http_resp_init(&r, keep, body, API_ANSWER_MAX);
	if ((status = http_response(&a->c, &r, f)) == -1) {
		/* The whole body went: SES may have taken the message. */
		if (f->kind != FAIL_PROTOCOL)
			f->after_data = 1;
		free(body);
		return -1;
	}
	a->reusable = r.keep_alive;
	if (api_parse_answer(status, http_resp_field(&r, "x-amzn-ErrorType"),
	    body, r.bodylen, &ans) == -1 || (status / 100 == 2 &&
	    ans.id[0] == '\0')) {
		fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_RESPONSE, "%s answered "
		    "%d without a MessageId", a->c.host, status);
		f->after_data = 1;
		free(body);
		return -1;
	}
	free(body);
	if (status / 100 == 2) {
		(void)strlcpy(t->id, ans.id, sizeof(t->id));
		return 0;
	}
	api_fail(&ans, r.reason, f);
	return -1;
}

int
api_send(struct api *a, struct plan *p, struct txn *t)
{
	struct api_body prefix, suffix;
	struct fail *f = &t->fail;
	struct sigv4 sig;
	const char **rcpts;
	char hex[65], host[300];
	long long len;
	size_t i;
	int rv = -1;

	if ((rcpts = reallocarray(NULL, t->n, sizeof(*rcpts))) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_REQUEST, "out of memory");
		return -1;
	}
	for (i = 0; i < t->n; i++)
		rcpts[i] = p->rcpts.v[t->idx[i]].addr;
	memset(&sig, 0, sizeof(sig));
	if (api_body_parts(&prefix, &suffix, p->sender, rcpts, t->n,
	    a->conf->configuration_set) == -1) {
		fail_set(f, FAIL_OS, SMTP_STAGE_REQUEST, "out of memory");
		free(rcpts);
		return -1;
	}
	api_host_field(a->conf, host, sizeof(host));
	a->reusable = 0;
	if (api_hash(p->msg, &prefix, &suffix, hex, &len, f) == 0 &&
	    api_sign(a->conf, "POST", API_PATH, "application/json", host, hex,
	    &sig, f) == 0 &&
	    api_request(a, p->msg, &prefix, &suffix, len, host, &sig, f) ==
	    0)
		rv = api_answer(a, t, f);
	sigv4_wipe(&sig);
	api_body_free(&prefix);
	api_body_free(&suffix);
	free(rcpts);
	return rv;
}

/*
 * A signed GET of path with an empty payload (--check's GetAccount): a
 * read-only call, so a connection lost before the answer is only that.
 */
int
api_get(struct api *a, const char *path, char *body, size_t bodymax,
    struct api_answer *ans, struct fail *f)
{
	static const char *const keep[] = { "x-amzn-ErrorType", NULL };
	struct http_resp r;
	struct sigv4 sig;
	char host[300];
	int status, rv;

	memset(ans, 0, sizeof(*ans));
	memset(&sig, 0, sizeof(sig));
	api_host_field(a->conf, host, sizeof(host));
	a->reusable = 0;
	if (api_sign(a->conf, "GET", path, NULL, host, SIGV4_EMPTY_SHA256,
	    &sig, f) == -1)
		return -1;
	rv = api_head(a, "GET", path, host, -1, &sig, f);
	sigv4_wipe(&sig);
	if (rv == -1)
		return -1;
	http_resp_init(&r, keep, body, bodymax);
	if ((status = http_response(&a->c, &r, f)) == -1)
		return -1;
	a->reusable = r.keep_alive;
	ans->status = status;
	if (status / 100 == 2)
		return 0;
	(void)api_parse_answer(status, http_resp_field(&r, "x-amzn-ErrorType"),
	    body, r.bodylen, ans);
	api_fail(ans, r.reason, f);
	return -1;
}

/* Connect: straight, or through the proxy's tunnel; then TLS. */
static int
api_connect(struct api *a, struct fail *f)
{
	const struct conf *c = a->conf;

	if (c->proxy_host != NULL) {
		if (conn_open(&a->c, c->proxy_host, c->proxy_port, c->timeout,
		    f) == -1 || http_connect(&a->c, c->api_host, c->api_port,
		    NULL, f) == -1)
			return -1;
	} else if (conn_open(&a->c, c->api_host, c->api_port, c->timeout,
	    f) == -1)
		return -1;
	/* An address that takes the connection but not TLS: the next one. */
	while (conn_start_tls(&a->c, c->ca_file, f) == -1) {
		if (c->proxy_host != NULL || f->kind != FAIL_NET ||
		    !conn_has_next(&a->c))
			return -1;
		log_warn("%s[%s]:%d took the connection but did not answer "
		    "(%s): trying the next address", c->api_host, a->c.addr,
		    c->api_port, f->text);
		memset(f, 0, sizeof(*f));
		if (conn_next(&a->c, f) == -1)
			return -1;
	}
	return 0;
}

/* HOST[IP]:PORT once an address took the connection, else HOST:PORT. */
static void
api_relay(const struct api *a, char *relay, size_t relaylen)
{
	const struct conf *c = a->conf;

	if (a->c.addr[0] != '\0')
		(void)snprintf(relay, relaylen, "%s[%s]:%d", c->api_host,
		    a->c.addr, c->api_port);
	else
		(void)snprintf(relay, relaylen, "%s:%d", c->api_host,
		    c->api_port);
}

struct api *
api_begin(const struct conf *c)
{
	struct api *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->conf = c;
	a->c.fd = -1;
	return a;
}

int
api_start(struct api *a, char *relay, size_t relaylen, struct fail *f)
{
	int rv;

	/* The keys (and maybe the region) first: the chain, once. */
	if (awscreds_get(f) == -1) {
		(void)snprintf(relay, relaylen, "%s", a->conf->api_host ?
		    a->conf->api_host : "the SES API");
		a->reusable = 0;
		return -1;
	}
	rv = api_connect(a, f);
	/* Named in the warnings of a failed attempt too, as smtp_open does. */
	api_relay(a, relay, relaylen);
	a->reusable = rv == 0;
	return rv;
}

struct api *
api_open(const struct conf *c, char *relay, size_t relaylen,
    struct fail *f)
{
	struct api *a;

	if ((a = api_begin(c)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return NULL;
	}
	if (api_start(a, relay, relaylen, f) == -1) {
		api_close(a);
		return NULL;
	}
	return a;
}

struct tls *
api_tls(struct api *a)
{
	return a->c.tls;
}

/*
 * Kept alive, and not closed by SES meanwhile: a server that closed an
 * idle connection has left an EOF (or a close_notify) to read, found
 * here (a 1 ms look) before a request is spent on it (a request sent on
 * a connection the server is closing is lost after it went: a possible
 * duplicate).
 */
int
api_reusable(struct api *a)
{
	struct fail f;

	memset(&f, 0, sizeof(f));
	if (a == NULL || !a->reusable)
		return 0;
	if (conn_wait(&a->c, 1, &f) != 0) {
		log_warn("the kept connection to %s was closed by %s; "
		    "reconnecting", a->conf->api_host, a->c.host);
		a->reusable = 0;
	}
	return a->reusable;
}

void
api_close(struct api *a)
{
	if (a == NULL)
		return;
	conn_close(&a->c);
	free(a);
}
