/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the credential chain's parsers (awscreds.c,
 * metadata.c, sts.c, conf.c's URLs).  The first octet picks one, the rest
 * is its input: the shared credentials file (profile "default" or "p"),
 * a metadata endpoint's JSON answer, STS's XML answer, an endpoint URL.
 * Invariants: no crash, no leak; keys given back are printable ASCII
 * without blanks, within their bounds; an error's reason is one
 * printable line; a URL's parts fit their fields, its port is 1 to 65535
 * and its path starts with '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_token(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 0x7f)
			abort();
	if (n == 0 || n > max)
		abort();
}

static void
check_line(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			abort();
}

static void
check_keys(const struct awskeys *k)
{
	if (k->id == NULL || k->secret == NULL)
		abort();
	check_token(k->id, 128);
	check_token(k->secret, SIGV4_SECRET_MAX);
	check_token(k->token, 4096);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awskeys k;
	struct url u;
	char *buf, *id, *secret, *token, why[256];
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((buf = malloc(len + 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	buf[len] = '\0';
	why[0] = '\0';
	switch (data[0] % 4) {
	case 0:
		if (awscreds_shared_parse(buf, len, data[0] & 4 ? "p" :
		    "default", &id, &secret, &token, why, sizeof(why)) == 1) {
			if (id == NULL || secret == NULL)
				abort();
			free(id);
			creds_free_secret(secret);
			creds_free_secret(token);
		} else if (id != NULL || secret != NULL || token != NULL)
			abort();
		break;
	case 1:
		if (meta_parse_keys(buf, len, &k, why, sizeof(why)) == 0) {
			check_keys(&k);
			awskeys_free(&k);
		}
		break;
	case 2:
		if (sts_parse_answer(buf, len, &k, why, sizeof(why)) == 0) {
			check_keys(&k);
			if (k.token == NULL)
				abort();
			awskeys_free(&k);
		}
		break;
	default:
		if (strlen(buf) == len && conf_url_split(buf, data[0] & 4,
		    &u) == 0) {
			if (u.port < 1 || u.port > 65535 || u.path[0] != '/' ||
			    u.host[0] == '\0')
				abort();
			check_line(u.path);
		}
		break;
	}
	check_line(why);
	free(buf);
	return 0;
}
