/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The secret: the SMTP password, as written in the configuration or
 * derived from the IAM secret access key (ses.md 4.2, with sigv4.c's
 * signing key), and the AUTH payloads made from it.  Every intermediate
 * copy of a secret is wiped with explicit_bzero() before its memory is
 * released.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "extern.h"

#define CREDS_PASS_LEN	44		/* base64 of 33 octets */
#define CREDS_VERSION	0x04		/* the SigV4-based algorithm */

/*
 * base64 (RFC 4648 4, with padding) of len octets into a new string.
 * GnuTLS allocates the result with gnutls_malloc(): it is copied, then
 * wiped and given back, since it may encode a password.
 */
static char *
creds_b64(const void *p, size_t len)
{
	gnutls_datum_t in, out;
	char *s;

	if (len > UINT32_MAX / 2)
		return NULL;
	in.data = (unsigned char *)(uintptr_t)p;	/* GnuTLS: not const */
	in.size = (unsigned int)len;
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	if ((s = malloc((size_t)out.size + 1)) != NULL) {
		if (out.size > 0)
			memcpy(s, out.data, out.size);
		s[out.size] = '\0';
	}
	if (out.data != NULL) {
		explicit_bzero(out.data, out.size);
		gnutls_free(out.data);
	}
	return s;
}

/*
 * ses.md 4.2: the SigV4 signing key for date "11111111", the region and
 * "ses" (sigv4.c's chain, the one in the tree), then kMessage =
 * HMAC(key, "SendRawEmail"); password = base64(0x04 kMessage).
 */
int
creds_derive(const char *secret, const char *region, char *out,
    size_t outlen)
{
	static const char msg[] = "SendRawEmail";
	unsigned char k[SIGV4_KEY_LEN], sig[1 + SIGV4_KEY_LEN];
	char *b64;
	int rc;

	if (secret == NULL || region == NULL || outlen < CREDS_PASS_LEN + 1)
		return -1;
	rc = sigv4_signing_key(secret, "11111111", region, "ses", k);
	if (rc == 0)
		rc = sigv4_mac(k, msg, sizeof(msg) - 1, sig + 1);
	explicit_bzero(k, sizeof(k));
	b64 = NULL;
	if (rc == 0) {
		sig[0] = CREDS_VERSION;
		b64 = creds_b64(sig, sizeof(sig));
	}
	explicit_bzero(sig, sizeof(sig));
	if (b64 == NULL)
		return -1;
	rc = strlcpy(out, b64, outlen) == CREDS_PASS_LEN ? 0 : -1;
	creds_free_secret(b64);
	if (rc == -1)
		explicit_bzero(out, outlen);
	return rc;
}

int
creds_prepare(struct conf *c, char *err, size_t errlen)
{
	char *pass;

	if (c->transport == CONF_TRANSPORT_API)
		return 0;
	if (c->aws_secret == NULL) {
		if (c->password != NULL)
			return 0;
		snprintf(err, errlen, "%s: password: missing", c->path);
		return -1;
	}
	if (c->password != NULL) {
		snprintf(err, errlen, "%s: aws_secret_access_key: set "
		    "together with password; keep only one", c->path);
		return -1;
	}
	if (c->region == NULL) {
		snprintf(err, errlen, "%s: aws_secret_access_key: needs "
		    "region; add 'region'", c->path);
		return -1;
	}
	if ((pass = malloc(CREDS_PASS_LEN + 1)) == NULL) {
		snprintf(err, errlen, "%s: aws_secret_access_key: out of "
		    "memory to derive the SMTP password", c->path);
		return -2;
	}
	if (creds_derive(c->aws_secret, c->region, pass,
	    CREDS_PASS_LEN + 1) == -1) {
		free(pass);
		snprintf(err, errlen, "%s: aws_secret_access_key: cannot "
		    "derive the SMTP password", c->path);
		return -1;
	}
	c->password = pass;
	/* Kept only where the API may sign with it (fallback). */
	if (!c->api_ok || !c->api_fallback) {
		creds_free_secret(c->aws_secret);
		c->aws_secret = NULL;
	}
	return 0;
}

/* RFC 4616 2: message = [authzid] NUL authcid NUL passwd. */
char *
creds_auth_plain(const struct conf *c)
{
	char *raw, *b64;
	size_t ulen, plen, len;

	if (c->username == NULL || c->password == NULL)
		return NULL;
	ulen = strlen(c->username);
	plen = strlen(c->password);
	if (ulen > SES_MAX_ARG || plen > SES_MAX_ARG)
		return NULL;
	len = 1 + ulen + 1 + plen;
	if ((raw = malloc(len)) == NULL)
		return NULL;
	raw[0] = '\0';
	memcpy(raw + 1, c->username, ulen);
	raw[1 + ulen] = '\0';
	memcpy(raw + 2 + ulen, c->password, plen);
	b64 = creds_b64(raw, len);
	explicit_bzero(raw, len);
	free(raw);
	return b64;
}

char *
creds_base64(const char *s)
{
	if (s == NULL)
		return NULL;
	return creds_b64(s, strlen(s));
}

void
creds_free_secret(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

void
creds_wipe(struct conf *c)
{
	creds_free_secret(c->password);
	creds_free_secret(c->aws_secret);
	creds_free_secret(c->aws_token);
	c->password = NULL;
	c->aws_secret = NULL;
	c->aws_token = NULL;
}
