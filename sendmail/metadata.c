/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The metadata endpoints that hand out temporary keys (design.md 12,
 * ses.md 13): the EC2 instance metadata service, IMDSv2 only (a session
 * token first, then every GET carries it: never a GET without one, so a
 * server-side request forgery through this host gets nothing), and the
 * ECS/EKS container credentials endpoint.  Both are plain HTTP on a
 * link-local (or loopback) address, spoken through http.c over one kept
 * connection.  Each step waits 1 s at most (2 s for the container
 * endpoint, as the SDKs do): a host that is not EC2 must not hang a send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "extern.h"

#define META_IMDS_TIMEOUT	1	/* seconds, each step */
#define META_CONTAINER_TIMEOUT	2
#define META_BODY_MAX		16384	/* an answer's body */
#define META_TOKEN_MAX		512	/* the IMDSv2 session token */
#define META_TTL		"60"	/* the token's life, seconds */
#define META_ID_MAX		128	/* an access key id */
#define META_TOKEN_LEN_MAX	4096	/* a session token */

#define META_TOKEN_PATH		"/latest/api/token"
#define META_ROLE_PATH		"/latest/meta-data/iam/security-credentials/"
#define META_DOC_PATH		"/latest/dynamic/instance-identity/document"

static const char META_SILENT[] = "the metadata service did not answer in "
    "1 s: not EC2, or the hop limit is 1 and this runs in a container?";

/* A copy of a JSON string member that is a token, or NULL. */
static char *
meta_member(json_t *o, const char *name, size_t max)
{
	json_t *v;
	const char *s;

	if ((v = json_object_get(o, name)) == NULL || !json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return conf_is_token(s, max) ? strdup(s) : NULL;
}

int
meta_parse_keys(const char *body, size_t len, struct awskeys *k, char *why,
    size_t whylen)
{
	json_error_t jerr;
	json_t *o, *code, *exp;

	memset(k, 0, sizeof(*k));
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(o)) {
		json_decref(o);
		return log_reason(why, whylen, "the answer is not a JSON "
		    "object");
	}
	code = json_object_get(o, "Code");
	if (code != NULL && (!json_is_string(code) ||
	    strcmp(json_string_value(code), "Success") != 0)) {
		json_decref(o);
		return log_reason(why, whylen, "the answer's Code is not "
		    "Success");
	}
	k->id = meta_member(o, "AccessKeyId", META_ID_MAX);
	k->secret = meta_member(o, "SecretAccessKey", SIGV4_SECRET_MAX);
	k->token = meta_member(o, "Token", META_TOKEN_LEN_MAX);
	exp = json_object_get(o, "Expiration");
	if (exp != NULL && json_is_string(exp))
		(void)awscreds_parse_time(json_string_value(exp), &k->expiry);
	json_decref(o);
	if (k->id == NULL || k->secret == NULL) {
		awskeys_free(k);
		return log_reason(why, whylen, "the answer lacks AccessKeyId "
		    "or SecretAccessKey");
	}
	return 0;
}

/*
 * A failed exchange: no answer (or a broken one) is transient, f says so
 * as FAIL_CREDS_TEMP; memory is the system's.  Returns -1.
 */
static int
meta_silent(const char *what, struct fail *f, char *why, size_t whylen)
{
	if (f->kind == FAIL_OS)
		return -1;
	if (f->kind == FAIL_PROTOCOL)
		(void)log_reason(why, whylen, "%s answered badly: %s", what,
		    f->text);
	else
		(void)log_reason(why, whylen, "%s", what);
	fail_set(f, FAIL_CREDS_TEMP, SMTP_STAGE_CONNECT, "%s", why);
	return -1;
}

/* A 5xx: transient.  Returns -1. */
static int
meta_5xx(const char *what, int status, struct fail *f, char *why,
    size_t whylen)
{
	(void)log_reason(why, whylen, "%s answered %d", what, status);
	fail_set(f, FAIL_CREDS_TEMP, SMTP_STAGE_RESPONSE, "%s", why);
	f->code = status;
	return -1;
}

/* What a 4xx of IMDS means at a step.  Returns 0 (nothing there). */
static int
meta_imds_refused(int status, const char *step, char *why, size_t whylen)
{
	if (status == 403)
		(void)log_reason(why, whylen, "the metadata service is turned "
		    "off for this instance (403 to %s): enable it "
		    "(http-endpoint enabled)", step);
	else if (status == 401)
		(void)log_reason(why, whylen, "the metadata service refused "
		    "the session token (401 to %s)", step);
	else
		(void)log_reason(why, whylen, "the metadata service answered "
		    "%d to %s (IMDSv2 only)", status, step);
	return 0;
}

/* One IMDS GET of path with the session token. */
static int
meta_imds_get(struct http_client *hc, const char *tok, const char *path,
    char *body, struct fail *f)
{
	struct http_field fl = { "X-aws-ec2-metadata-token", tok };

	return http_exchange(hc, "GET", &fl, 1, path, NULL, 0, body,
	    META_BODY_MAX, f);
}

/* The first line of the role list: the role's name. */
static int
meta_role_name(const char *body, char *role, size_t rolelen, char *why,
    size_t whylen)
{
	size_t n, i;

	n = strcspn(body, "\r\n");
	for (i = 0; i < n; i++)
		if (!((body[i] >= 'a' && body[i] <= 'z') ||
		    (body[i] >= 'A' && body[i] <= 'Z') ||
		    (body[i] >= '0' && body[i] <= '9') ||
		    strchr("+=,.@_-", body[i]) != NULL))
			break;
	if (n == 0 || i < n || n >= rolelen || n > 64)
		return log_reason(why, whylen, "the metadata service named no "
		    "usable role");
	memcpy(role, body, n);
	role[n] = '\0';
	return 0;
}

/* The region of the instance identity document. */
static int
meta_region(const char *body, char *region, size_t regionlen, char *why,
    size_t whylen)
{
	json_error_t jerr;
	json_t *o, *v;
	int rv = -1;

	if ((o = json_loadb(body, strlen(body), 0, &jerr)) != NULL &&
	    (v = json_object_get(o, "region")) != NULL && json_is_string(v) &&
	    strlen(json_string_value(v)) > 0 &&
	    strlen(json_string_value(v)) <= 32 &&
	    strspn(json_string_value(v), "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-") == strlen(json_string_value(v)) &&
	    strlcpy(region, json_string_value(v), regionlen) < regionlen)
		rv = 0;
	json_decref(o);
	if (rv == -1)
		(void)log_reason(why, whylen, "the instance identity document "
		    "holds no region");
	return rv;
}

/* The session token: PUT with its time to live. */
static int
meta_imds_token(struct http_client *hc, char *body, char *tok,
    char *why, size_t whylen, struct fail *f)
{
	struct http_field fl = { "X-aws-ec2-metadata-token-ttl-seconds",
	    META_TTL };
	int st;

	if ((st = http_exchange(hc, "PUT", &fl, 1, META_TOKEN_PATH, "", 0,
	    body, META_BODY_MAX, f)) == -1)
		return meta_silent(META_SILENT, f, why, whylen);
	if (st >= 500)
		return meta_5xx("the metadata service", st, f, why, whylen);
	if (st != 200)
		return meta_imds_refused(st, "the token request", why, whylen);
	if (!conf_is_token(body, META_TOKEN_MAX - 1))
		return log_reason(why, whylen, "the metadata service gave no "
		    "usable session token") + 1;
	(void)strlcpy(tok, body, META_TOKEN_MAX);
	return 1;
}

/* The role's keys over the session (tok). */
static int
meta_imds_keys(struct http_client *hc, char *body, const char *tok,
    struct awskeys *k, char *role, size_t rolelen, char *why,
    size_t whylen, struct fail *f)
{
	char path[sizeof(META_ROLE_PATH) + 80];
	int st;

	if ((st = meta_imds_get(hc, tok, META_ROLE_PATH, body, f)) == -1)
		return meta_silent(META_SILENT, f, why, whylen);
	if (st >= 500)
		return meta_5xx("the metadata service", st, f, why, whylen);
	if (st == 404) {
		(void)log_reason(why, whylen, "no IAM role attached to this "
		    "instance");
		return 0;
	}
	if (st != 200)
		return meta_imds_refused(st, "the role list", why, whylen);
	if (meta_role_name(body, role, rolelen, why, whylen) == -1)
		return 0;
	(void)snprintf(path, sizeof(path), "%s%s", META_ROLE_PATH, role);
	if ((st = meta_imds_get(hc, tok, path, body, f)) == -1)
		return meta_silent(META_SILENT, f, why, whylen);
	if (st >= 500)
		return meta_5xx("the metadata service", st, f, why, whylen);
	if (st != 200)
		return meta_imds_refused(st, "the role's credentials", why,
		    whylen);
	if (meta_parse_keys(body, strlen(body), k, why, whylen) == -1)
		return 0;
	return 1;
}

int
meta_imds(const char *endpoint, struct awskeys *k, char *role,
    size_t rolelen, char *region, size_t regionlen, char *why,
    size_t whylen, struct fail *f)
{
	struct http_client hc;
	struct url u;
	char *body, tok[META_TOKEN_MAX];
	int rv, st;

	if (conf_url_split(endpoint, 0, &u) == -1)
		return log_reason(why, whylen, "imds_endpoint is no URL") + 1;
	if ((body = malloc(META_BODY_MAX)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return -1;
	}
	http_client_init(&hc, &u, NULL, META_IMDS_TIMEOUT);
	rv = meta_imds_token(&hc, body, tok, why, whylen, f);
	if (rv == 1 && k != NULL)
		rv = meta_imds_keys(&hc, body, tok, k, role, rolelen, why,
		    whylen, f);
	if (rv == 1 && regionlen > 0) {
		if ((st = meta_imds_get(&hc, tok, META_DOC_PATH, body, f)) ==
		    -1)
			rv = meta_silent(META_SILENT, f, why, whylen);
		else if (st >= 500)
			rv = meta_5xx("the metadata service", st, f, why,
			    whylen);
		else if (st != 200 || meta_region(body, region, regionlen,
		    why, whylen) == -1)
			rv = st != 200 ? meta_imds_refused(st, "the identity "
			    "document", why, whylen) : 0;
		if (rv != 1 && k != NULL)
			awskeys_free(k);
	}
	http_client_close(&hc);
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(body, META_BODY_MAX);
	free(body);
	return rv;
}

int
meta_container(const struct url *u, const char *token, const char *ca_file,
    struct awskeys *k, char *why, size_t whylen, struct fail *f)
{
	struct http_field fl = { "Authorization", token };
	struct http_client hc;
	char *body, what[320];
	int rv, st;

	if ((body = malloc(META_BODY_MAX)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return -1;
	}
	(void)snprintf(what, sizeof(what), "the container endpoint %s:%d",
	    u->host, u->port);
	http_client_init(&hc, u, ca_file, META_CONTAINER_TIMEOUT);
	st = http_exchange(&hc, "GET", token != NULL ? &fl : NULL,
	    token != NULL, u->path, NULL, 0, body, META_BODY_MAX, f);
	if (st == -1) {
		(void)strlcat(what, " did not answer", sizeof(what));
		rv = meta_silent(what, f, why, whylen);
	} else if (st >= 500)
		rv = meta_5xx(what, st, f, why, whylen);
	else if (st == 401 || st == 403)
		rv = log_reason(why, whylen, "%s refused the authorization "
		    "token (%d)", what, st) + 1;
	else if (st != 200)
		rv = log_reason(why, whylen, "%s answered %d", what, st) + 1;
	else
		rv = meta_parse_keys(body, strlen(body), k, why, whylen) == 0;
	http_client_close(&hc);
	explicit_bzero(body, META_BODY_MAX);
	free(body);
	return rv;
}
