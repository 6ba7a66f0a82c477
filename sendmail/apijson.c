/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The JSON of the SES API, both ways.  Out: the SendEmail request body
 * around the message (ses.md 9.1), addresses escaped by one small
 * function; the message itself is streamed by api.c, base64 on the fly.
 * In: the answers (SendEmail's, GetAccount's, GetEmailIdentity's,
 * GetConfigurationSet's), parsed with jansson (never by string search),
 * and an error's type read as botocore reads it: the x-amzn-ErrorType
 * header up to its first ':', else "__type" (after any '#') or "code" in
 * the body; the text from "message" or "Message".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "extern.h"

/*
 * s as a JSON string, quotes included (RFC 8259 7): '"', '\' and the
 * control characters escaped, everything else as it is.  Returns the
 * length written (a NUL follows), or -1 when out is too small.
 */
ssize_t
api_json_string(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t n = 0;

	if (outlen < 3)
		return -1;
	out[n++] = '"';
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (n + 8 > outlen)
			return -1;
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(out + n, "\\u00", 4);
			out[n + 4] = hex[*p >> 4];
			out[n + 5] = hex[*p & 15];
			n += 6;
		} else
			out[n++] = (char)*p;
	}
	out[n++] = '"';
	out[n] = '\0';
	return (ssize_t)n;
}

/* Append a JSON string to the growable buffer b; 0 or -1 (memory). */
static int
api_json_append(struct api_body *b, const char *s)
{
	size_t need = strlen(s) * 6 + 3;
	char *nb;
	ssize_t n;

	if (b->len + need + 1 > b->cap) {
		if ((nb = realloc(b->buf, b->len + need + 256)) == NULL)
			return -1;
		b->buf = nb;
		b->cap = b->len + need + 256;
	}
	if ((n = api_json_string(b->buf + b->len, b->cap - b->len, s)) < 0)
		return -1;
	b->len += (size_t)n;
	return 0;
}

static int
api_text_append(struct api_body *b, const char *s)
{
	size_t n = strlen(s);
	char *nb;

	if (b->len + n + 1 > b->cap) {
		if ((nb = realloc(b->buf, b->len + n + 256)) == NULL)
			return -1;
		b->buf = nb;
		b->cap = b->len + n + 256;
	}
	memcpy(b->buf + b->len, s, n + 1);
	b->len += n;
	return 0;
}

int
api_body_parts(struct api_body *prefix, struct api_body *suffix,
    const char *sender, const char *const *rcpts, size_t n,
    const char *confset)
{
	size_t i;

	memset(prefix, 0, sizeof(*prefix));
	memset(suffix, 0, sizeof(*suffix));
	if (api_text_append(prefix, "{\"FromEmailAddress\":") == -1 ||
	    api_json_append(prefix, sender) == -1 ||
	    api_text_append(prefix, ",\"Destination\":{\"ToAddresses\":[") ==
	    -1)
		goto fail;
	for (i = 0; i < n; i++)
		if ((i > 0 && api_text_append(prefix, ",") == -1) ||
		    api_json_append(prefix, rcpts[i]) == -1)
			goto fail;
	if (api_text_append(prefix, "]},\"Content\":{\"Raw\":{\"Data\":\"") ==
	    -1 || api_text_append(suffix, "\"}}") == -1)
		goto fail;
	if (confset != NULL &&
	    (api_text_append(suffix, ",\"ConfigurationSetName\":") == -1 ||
	    api_json_append(suffix, confset) == -1))
		goto fail;
	if (api_text_append(suffix, "}") == -1)
		goto fail;
	return 0;
fail:
	api_body_free(prefix);
	api_body_free(suffix);
	return -1;
}

void
api_body_free(struct api_body *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* A string member of o, or NULL. */
static const char *
api_json_member(json_t *o, const char *name)
{
	json_t *v;

	if (!json_is_object(o) || (v = json_object_get(o, name)) == NULL)
		return NULL;
	return json_string_value(v);
}

/* The type: up to the first ':' (header), after the last '#' (body). */
static void
api_type(char *type, size_t typelen, const char *hdr, const char *body)
{
	const char *s = hdr != NULL && *hdr != '\0' ? hdr : body;
	const char *hash;
	size_t n;

	type[0] = '\0';
	if (s == NULL)
		return;
	if (s == body && (hash = strrchr(s, '#')) != NULL)
		s = hash + 1;
	n = strcspn(s, ":");
	log_sanitize(type, typelen, s, n);
}

int
api_parse_answer(int status, const char *errtype, const char *body,
    size_t len, struct api_answer *a)
{
	json_error_t jerr;
	const char *v;
	json_t *root;

	memset(a, 0, sizeof(*a));
	a->status = status;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (status / 100 == 2) {
		if ((v = api_json_member(root, "MessageId")) != NULL)
			log_sanitize(a->id, sizeof(a->id), v, strlen(v));
		json_decref(root);
		return a->id[0] != '\0' || len == 0 ? 0 : -1;
	}
	if ((v = api_json_member(root, "__type")) == NULL)
		v = api_json_member(root, "code");
	api_type(a->type, sizeof(a->type), errtype, v);
	if ((v = api_json_member(root, "message")) == NULL)
		v = api_json_member(root, "Message");
	if (v != NULL)
		log_sanitize(a->message, sizeof(a->message), v, strlen(v));
	json_decref(root);
	return 0;
}

/* A boolean member of o: 1, 0, or -1 when absent or not a boolean. */
static int
api_json_bool(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* A number member of o into *d; 0, or -1 when absent or not a number. */
static int
api_json_number(json_t *o, const char *name, double *d)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_number(v))
		return -1;
	*d = json_number_value(v);
	return 0;
}

/*
 * GetAccount (API v2): ProductionAccessEnabled (false in the sandbox),
 * SendingEnabled, EnforcementStatus and SendQuota's three numbers, the
 * 24-hour quota -1 when it has no limit.
 */
int
api_parse_account(const char *body, size_t len, struct api_account *acct)
{
	json_error_t jerr;
	json_t *root, *q;
	const char *v;

	memset(acct, 0, sizeof(*acct));
	acct->production = acct->sending = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	acct->production = api_json_bool(root, "ProductionAccessEnabled");
	acct->sending = api_json_bool(root, "SendingEnabled");
	if ((v = api_json_member(root, "EnforcementStatus")) != NULL)
		log_sanitize(acct->enforcement, sizeof(acct->enforcement), v,
		    strlen(v));
	q = json_object_get(root, "SendQuota");
	acct->has_quota = json_is_object(q) &&
	    api_json_number(q, "Max24HourSend", &acct->max24) == 0 &&
	    api_json_number(q, "MaxSendRate", &acct->rate) == 0 &&
	    api_json_number(q, "SentLast24Hours", &acct->sent) == 0;
	json_decref(root);
	return 0;
}

/* A string member of o, printable, into out (cut to fit); "" if absent. */
static void
api_json_copy(json_t *o, const char *name, char *out, size_t outlen)
{
	const char *v;

	out[0] = '\0';
	if ((v = api_json_member(o, name)) != NULL)
		log_sanitize(out, outlen, v, strlen(v));
}

/*
 * GetEmailIdentity (API v2, ses.md 9.4): VerifiedForSendingStatus,
 * IdentityType, VerificationStatus, and DkimAttributes' Status and
 * SigningEnabled.
 */
int
api_parse_identity(const char *body, size_t len, struct api_identity *id)
{
	json_error_t jerr;
	json_t *root, *dkim;

	memset(id, 0, sizeof(*id));
	id->verified = id->signing = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	id->verified = api_json_bool(root, "VerifiedForSendingStatus");
	api_json_copy(root, "IdentityType", id->type, sizeof(id->type));
	api_json_copy(root, "VerificationStatus", id->status,
	    sizeof(id->status));
	if (json_is_object(dkim = json_object_get(root, "DkimAttributes"))) {
		api_json_copy(dkim, "Status", id->dkim, sizeof(id->dkim));
		id->signing = api_json_bool(dkim, "SigningEnabled");
	}
	json_decref(root);
	return 0;
}

/*
 * GetConfigurationSet (API v2, ses.md 9.4): its name, and whether
 * SendingOptions.SendingEnabled lets messages that use it go.
 */
int
api_parse_confset(const char *body, size_t len, struct api_confset *cs)
{
	json_error_t jerr;
	json_t *root, *so;

	memset(cs, 0, sizeof(*cs));
	cs->sending = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	api_json_copy(root, "ConfigurationSetName", cs->name,
	    sizeof(cs->name));
	if (json_is_object(so = json_object_get(root, "SendingOptions")))
		cs->sending = api_json_bool(so, "SendingEnabled");
	json_decref(root);
	return 0;
}
