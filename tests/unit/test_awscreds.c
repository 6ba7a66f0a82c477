/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The credential chain's parsers: the shared credentials file (INI,
 * profiles), the metadata endpoints' JSON, STS's XML answer and error,
 * the expiry time, and the endpoint URLs (conf.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "tap.h"

static void
test_shared(void)
{
	static const char ini[] =
	    "# comment\n[default]\naws_access_key_id = AKIADEFAULT\n"
	    "aws_secret_access_key=sdefault\n\n[ mail ]\n"
	    "  aws_access_key_id =  ASIAMAIL  \r\n"
	    "aws_secret_access_key = s/mail+=\naws_session_token = tok\n"
	    "[half]\naws_access_key_id = AKIAHALF\n";
	char *id, *secret, *token, err[128];

	is_int(awscreds_shared_parse(ini, strlen(ini), "default", &id,
	    &secret, &token, err, sizeof(err)), 1, "default profile");
	is_str(id, "AKIADEFAULT", "default: the key id");
	is_str(secret, "sdefault", "default: the secret");
	ok(token == NULL, "default: no token");
	free(id);
	creds_free_secret(secret);
	is_int(awscreds_shared_parse(ini, strlen(ini), "mail", &id, &secret,
	    &token, err, sizeof(err)), 1, "a named profile, blanks around");
	is_str(id, "ASIAMAIL", "mail: the key id, trimmed");
	is_str(secret, "s/mail+=", "mail: the secret");
	is_str(token, "tok", "mail: the token");
	free(id);
	creds_free_secret(secret);
	creds_free_secret(token);
	is_int(awscreds_shared_parse(ini, strlen(ini), "half", &id, &secret,
	    &token, err, sizeof(err)), 0, "a profile without its secret");
	ok(strstr(err, "lacks") != NULL && id == NULL, "half: %s", err);
	is_int(awscreds_shared_parse(ini, strlen(ini), "nope", &id, &secret,
	    &token, err, sizeof(err)), 0, "no such profile");
	is_str(err, "no profile nope", "no such profile: said");
	is_int(awscreds_shared_parse("[default\n", 9, "default", &id,
	    &secret, &token, err, sizeof(err)), 0, "an unclosed section");
}

static void
test_json(void)
{
	static const char good[] = "{\"Code\": \"Success\", \"Type\": "
	    "\"AWS-HMAC\", \"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": "
	    "\"sec/ret\", \"Token\": \"tok==\", \"Expiration\": "
	    "\"2026-12-05T06:00:00Z\"}";
	struct awskeys k;
	char why[128];

	is_int(meta_parse_keys(good, strlen(good), &k, why, sizeof(why)), 0,
	    "credentials JSON");
	ok(strcmp(k.id, "ASIAX") == 0 && strcmp(k.secret, "sec/ret") == 0 &&
	    strcmp(k.token, "tok==") == 0 && k.expiry == 1796450400,
	    "the four fields");
	awskeys_free(&k);
	ok(k.id == NULL && k.secret == NULL, "freed");
	is_int(meta_parse_keys("{\"Code\": \"Failure\"}", 19, &k, why,
	    sizeof(why)), -1, "Code not Success");
	is_int(meta_parse_keys("[1]", 3, &k, why, sizeof(why)), -1,
	    "not an object");
	is_int(meta_parse_keys("{\"AccessKeyId\": \"a b\", "
	    "\"SecretAccessKey\": \"s\"}", 44, &k, why, sizeof(why)), -1,
	    "a key id with a blank");
	is_int(meta_parse_keys("{\"AccessKeyId\": \"A\"}", 20, &k, why,
	    sizeof(why)), -1, "no secret");
}

static void
test_sts(void)
{
	static const char good[] = "<AssumeRoleWithWebIdentityResponse>"
	    "<AssumeRoleWithWebIdentityResult><Credentials>"
	    "<AccessKeyId>ASIASTS</AccessKeyId>"
	    "<SecretAccessKey>s3cr3t</SecretAccessKey>"
	    "<SessionToken>tok/en=</SessionToken>"
	    "<Expiration>2026-12-05T06:00:00.123Z</Expiration>"
	    "</Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>";
	static const char err[] = "<ErrorResponse><Error><Type>Sender</Type>"
	    "<Code>InvalidIdentityToken</Code><Message>bad JWT</Message>"
	    "</Error></ErrorResponse>";
	static const char amp[] = "<AccessKeyId>A&amp;</AccessKeyId>"
	    "<SecretAccessKey>s</SecretAccessKey>"
	    "<SessionToken>t</SessionToken>";
	struct awskeys k;
	char why[128];

	is_int(sts_parse_answer(good, strlen(good), &k, why, sizeof(why)), 0,
	    "an AssumeRoleWithWebIdentity answer");
	ok(strcmp(k.id, "ASIASTS") == 0 && strcmp(k.secret, "s3cr3t") == 0 &&
	    strcmp(k.token, "tok/en=") == 0 && k.expiry == 1796450400,
	    "the four fields, a fraction of a second in the expiry");
	awskeys_free(&k);
	is_int(sts_parse_answer(err, strlen(err), &k, why, sizeof(why)), -1,
	    "an ErrorResponse");
	is_str(why, "STS refused: InvalidIdentityToken: bad JWT",
	    "its code and message");
	is_int(sts_parse_answer(amp, strlen(amp), &k, why, sizeof(why)), -1,
	    "an entity in a key: refused");
	is_int(sts_parse_answer("<x>", 3, &k, why, sizeof(why)), -1,
	    "no credentials");
}

static void
test_url(void)
{
	struct url u;
	time_t t;

	is_int(conf_url_split("http://169.254.170.2/v2/credentials/abc", 0,
	    &u), 0, "container URI");
	ok(!u.tls && strcmp(u.host, "169.254.170.2") == 0 && u.port == 80 &&
	    strcmp(u.path, "/v2/credentials/abc") == 0, "its parts");
	is_int(conf_url_split("https://[fd00:ec2::23]:8443", 0, &u), 0,
	    "IPv6 and a port");
	ok(u.tls && strcmp(u.host, "fd00:ec2::23") == 0 && u.port == 8443 &&
	    strcmp(u.path, "/") == 0, "its parts, path /");
	is_int(conf_url_split("http://h.example/a b", 0, &u), -1,
	    "a blank in the path");
	is_int(conf_url_split("http://h.example/", 1, &u), -1,
	    "http where https is wanted");
	is_int(conf_url_split("ftp://h.example/", 0, &u), -1, "ftp");
	is_int(awscreds_parse_time("2026-12-05T06:00:00Z", &t), 0, "a time");
	is_int(t, 1796450400, "its value");
	is_int(awscreds_parse_time("2026-12-05 06:00:00", &t), -1,
	    "not ISO 8601 UTC");
}

int
main(void)
{
	test_shared();
	test_json();
	test_sts();
	test_url();
	return tap_done();
}
