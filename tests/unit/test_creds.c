/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * creds.c: the SES SMTP password derivation (ses.md 4.2 vectors), the
 * AUTH PLAIN and LOGIN payloads, base64 (RFC 4648 10), and the wiping
 * of the IAM secret once the password is derived.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "tap.h"

#define EXAMPLE_SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EXAMPLE_ID	"AKIAIOSFODNN7EXAMPLE"
#define EXAMPLE_PASS	"BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"

static void
test_derive(void)
{
	static const struct {
		const char *region, *secret, *want;
	} v[] = {
		/* Published: Terraform's SigV4 test (ses.md 4.2) */
		{ "eu-central-1", "some+secret+key",
		    "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2" },
		{ "eu-central-1", "another+secret+key",
		    "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh" },
		{ "us-west-1", "some+secret+key",
		    "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj" },
		{ "us-west-1", "another+secret+key",
		    "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF" },
		/* AWS's documented example key (ses.md 4.2, computed) */
		{ "us-east-1", EXAMPLE_SECRET, EXAMPLE_PASS },
		{ "us-west-2", EXAMPLE_SECRET,
		    "BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd" },
		{ "eu-west-1", EXAMPLE_SECRET,
		    "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk" },
	};
	char out[45];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'x', sizeof(out));
		is_int(creds_derive(v[i].secret, v[i].region, out,
		    sizeof(out)), 0, "derive %s %s", v[i].region,
		    v[i].secret);
		is_str(out, v[i].want, "password %s %s", v[i].region,
		    v[i].secret);
	}
	is_int(strlen(out), 44, "44 characters");
	is_int(out[0], 'B', "a version 4 password starts with B");
	is_int(creds_derive("k", "us-east-1", out, 44), -1,
	    "an output of 44 bytes is refused (no room for the NUL)");
	is_int(creds_derive(NULL, "us-east-1", out, sizeof(out)), -1,
	    "no secret refused");
	is_int(creds_derive("k", NULL, out, sizeof(out)), -1,
	    "no region refused");
}

static void
test_base64(void)
{
	static const char *const v[][2] = {	/* RFC 4648 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char *s;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = creds_base64(v[i][0]);
		is_str(s, v[i][1], "base64 '%s'", v[i][0]);
		creds_free_secret(s);
	}
	s = creds_base64(EXAMPLE_ID);
	is_str(s, "QUtJQUlPU0ZPRE5ON0VYQU1QTEU=", "AUTH LOGIN user name");
	creds_free_secret(s);
	ok(creds_base64(NULL) == NULL, "base64 of NULL is NULL");
	creds_free_secret(NULL);
	ok(1, "creds_free_secret(NULL) is harmless");
}

static void
test_auth_plain(void)
{
	struct conf c;
	char *s;

	memset(&c, 0, sizeof(c));	/* creds.c alone: no conf_init() */
	c.username = strdup(EXAMPLE_ID);
	c.password = strdup(EXAMPLE_PASS);
	s = creds_auth_plain(&c);
	is_str(s, "AEFLSUFJT1NGT0ROTjdFWEFNUExFAEJMQk0vOWhTVUVMZnE4R3crclUxW"
	    "WNCamtPeEdiaFQyWEc3NjN4VkxHV0w5", "AUTH PLAIN blob (ses.md 4.2)");
	creds_free_secret(s);
	free(c.password);
	c.password = NULL;
	ok(creds_auth_plain(&c) == NULL, "AUTH PLAIN without password: NULL");
	free(c.username);
}

static void
test_prepare(void)
{
	struct conf c;
	char err[256];

	memset(&c, 0, sizeof(c));	/* creds.c alone: no conf_init() */
	c.region = strdup("us-east-1");
	c.aws_secret = strdup(EXAMPLE_SECRET);
	is_int(creds_prepare(&c, err, sizeof(err)), 0, "prepare derives");
	is_str(c.password, EXAMPLE_PASS, "derived password for us-east-1");
	ok(c.aws_secret == NULL, "aws_secret wiped and freed");
	is_int(creds_prepare(&c, err, sizeof(err)), 0,
	    "prepare with a password only keeps it");
	is_str(c.password, EXAMPLE_PASS, "password unchanged");
	creds_wipe(&c);
	ok(c.password == NULL && c.aws_secret == NULL, "creds_wipe clears");
	is_int(creds_prepare(&c, err, sizeof(err)), -1,
	    "prepare without any secret fails");

	c.aws_secret = strdup(EXAMPLE_SECRET);
	free(c.region);
	c.region = NULL;
	is_int(creds_prepare(&c, err, sizeof(err)), -1,
	    "aws_secret without region fails");
	ok(strstr(err, EXAMPLE_SECRET) == NULL, "error without the secret");
	c.password = strdup("x");
	c.region = strdup("us-east-1");
	is_int(creds_prepare(&c, err, sizeof(err)), -1,
	    "password and aws_secret both set fails");
	ok(strstr(err, EXAMPLE_SECRET) == NULL, "error without the secret");
	creds_wipe(&c);
	free(c.region);
}

int
main(void)
{
	test_derive();
	test_base64();
	test_auth_plain();
	test_prepare();
	return tap_done();
}
