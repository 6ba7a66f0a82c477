/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * STS AssumeRoleWithWebIdentity (design.md 12, ses.md 13): the keys of
 * an EKS service account (IRSA).  The call is not signed (the web
 * identity token is the proof); it is a query-API POST of a form, over
 * HTTPS, and STS answers in XML.  Only the four fields of Credentials
 * are read, each bounded, or the Code and Message of an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define STS_BODY_MAX	16384		/* the answer */
#define STS_FORM_MAX	(16384 * 3 + 1024)	/* the request, encoded */
#define STS_ID_MAX	128
#define STS_TOKEN_MAX	4096

/*
 * The text of the first <name>...</name> in body: printable, without
 * '<' or '&' (no entity: keys and tokens never need one), at most
 * outlen - 1 octets.  0, or -1.
 */
static int
sts_tag(const char *body, const char *name, char *out, size_t outlen)
{
	char open[64], close[64];
	const char *s, *e, *p;

	(void)snprintf(open, sizeof(open), "<%s>", name);
	(void)snprintf(close, sizeof(close), "</%s>", name);
	if ((s = strstr(body, open)) == NULL)
		return -1;
	s += strlen(open);
	if ((e = strstr(s, close)) == NULL || (size_t)(e - s) >= outlen)
		return -1;
	for (p = s; p < e; p++)
		if (*p < ' ' || *p >= 0x7f || *p == '<' || *p == '&')
			return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

/* The same into a new string (a secret: creds_free_secret()). */
static char *
sts_tag_dup(const char *body, const char *name, size_t max)
{
	char *buf, *s;

	if ((buf = malloc(max + 1)) == NULL)
		return NULL;
	s = sts_tag(body, name, buf, max + 1) == 0 && buf[0] != '\0' &&
	    strchr(buf, ' ') == NULL ? strdup(buf) : NULL;
	explicit_bzero(buf, max + 1);
	free(buf);
	return s;
}

int
sts_parse_answer(const char *body, size_t len, struct awskeys *k,
    char *why, size_t whylen)
{
	char code[64], msg[200], exp[64];

	memset(k, 0, sizeof(*k));
	if (memchr(body, '\0', len) != NULL)
		return log_reason(why, whylen, "STS answered with a NUL");
	if (strstr(body, "<ErrorResponse") != NULL) {
		if (sts_tag(body, "Code", code, sizeof(code)) == -1)
			(void)strlcpy(code, "error", sizeof(code));
		if (sts_tag(body, "Message", msg, sizeof(msg)) == -1)
			msg[0] = '\0';
		return log_reason(why, whylen, "STS refused: %s%s%s", code,
		    msg[0] ? ": " : "", msg);
	}
	k->id = sts_tag_dup(body, "AccessKeyId", STS_ID_MAX);
	k->secret = sts_tag_dup(body, "SecretAccessKey", SIGV4_SECRET_MAX);
	k->token = sts_tag_dup(body, "SessionToken", STS_TOKEN_MAX);
	if (sts_tag(body, "Expiration", exp, sizeof(exp)) == 0)
		(void)awscreds_parse_time(exp, &k->expiry);
	if (k->id == NULL || k->secret == NULL || k->token == NULL) {
		awskeys_free(k);
		return log_reason(why, whylen, "STS answered without "
		    "AccessKeyId, SecretAccessKey and SessionToken");
	}
	return 0;
}

/* name=VALUE, URI-encoded, appended to the form.  0 or -1. */
static int
sts_param(char *form, size_t len, const char *name, const char *value)
{
	size_t n = strlen(form);

	if (n > 0 && strlcat(form, "&", len) >= len)
		return -1;
	if (strlcat(form, name, len) >= len || strlcat(form, "=", len) >= len)
		return -1;
	n = strlen(form);
	return sigv4_uri_encode(value, strlen(value), form + n, len - n);
}

int
sts_web_identity(const struct url *u, const char *ca_file,
    const char *role_arn, const char *session, const char *token,
    struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	static const struct http_field fl[] = {
		{ "Content-Type",
		    "application/x-www-form-urlencoded; charset=utf-8" } };
	struct http_client hc;
	char *form, *body;
	int st, rv;

	form = malloc(STS_FORM_MAX);
	body = malloc(STS_BODY_MAX);
	if (form == NULL || body == NULL) {
		free(form);
		free(body);
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return -1;
	}
	form[0] = '\0';
	if (sts_param(form, STS_FORM_MAX, "Action",
	    "AssumeRoleWithWebIdentity") == -1 ||
	    sts_param(form, STS_FORM_MAX, "RoleArn", role_arn) == -1 ||
	    sts_param(form, STS_FORM_MAX, "RoleSessionName", session) == -1 ||
	    sts_param(form, STS_FORM_MAX, "Version", "2011-06-15") == -1 ||
	    sts_param(form, STS_FORM_MAX, "WebIdentityToken", token) == -1) {
		rv = log_reason(why, whylen, "the web identity token or the "
		    "role is too long") + 1;
		goto out;
	}
	http_client_init(&hc, u, ca_file, 5);
	st = http_exchange(&hc, "POST", fl, 1, u->path, form, strlen(form),
	    body, STS_BODY_MAX, f);
	http_client_close(&hc);
	if (st == -1) {
		if (f->kind != FAIL_OS) {
			(void)log_reason(why, whylen, "STS at %s did not "
			    "answer: %s", u->host, f->text);
			fail_set(f, FAIL_CREDS_TEMP, SMTP_STAGE_CONNECT, "%s",
			    why);
		}
		rv = -1;
	} else if (st >= 500) {
		(void)log_reason(why, whylen, "STS at %s answered %d",
		    u->host, st);
		fail_set(f, FAIL_CREDS_TEMP, SMTP_STAGE_RESPONSE, "%s", why);
		rv = -1;
	} else if (sts_parse_answer(body, strlen(body), k, why, whylen) ==
	    -1)
		rv = 0;
	else
		rv = st == 200 ? 1 : (awskeys_free(k), log_reason(why, whylen,
		    "STS answered %d", st) + 1);
out:
	explicit_bzero(form, STS_FORM_MAX);
	explicit_bzero(body, STS_BODY_MAX);
	free(form);
	free(body);
	return rv;
}
