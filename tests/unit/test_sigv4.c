/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * sigv4.c: AWS Signature Version 4.
 * (1) The AWS Signature Version 4 Test Suite ("aws4_testsuite", published
 *     by AWS under the Apache License 2.0; the copy in botocore's
 *     tests/unit/auth/aws4_testsuite/): each vector below is one case's
 *     request (.req: method, target, headers, body) and its canonical
 *     request (.creq), string to sign (.sts) and Authorization value
 *     (.authz), transcribed as data.  Credentials AKIDEXAMPLE, region
 *     us-east-1, service "service", 20150830T123600Z.  Every case of the
 *     suite is here, the normalize-path ones included (they apply to every
 *     service but S3); post-sts-header-after signs without the token, as
 *     its readme says, so it is post-vanilla.
 * (2) doc/ses.md 9.3: IAM ListUsers, its hash, signing key and signature.
 * (3) An SES API v2 SendEmail POST with a JSON body and a session token,
 *     and a GetEmailIdentity path holding a '%', against botocore's
 *     SigV4Auth (ses.md 9.1: the signing name is "ses").
 * (4) Secrets wiped: the scratch sigv4.c owns is all zero after signing,
 *     and the result holds neither the secret nor any key of the chain.
 * And the helpers, the canonical forms' edge cases, and every refusal.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "extern.h"
#include "tap.h"

#define SUITE_ID	"AKIDEXAMPLE"
#define SUITE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_HOST	"example.amazonaws.com"
#define SUITE_TIME	((time_t)1440938160)	/* 20150830T123600Z */
/* The suite's session token (post-sts-token/readme.txt). */
#define STS_TOKEN	\
	"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4"	\
	"FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI"	\
	"/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"	\
	"DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT"	\
	"38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9K"	\
	"SYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

struct vec {
	const char		*name;
	const char		*method;
	const char		*path;
	const char		*query;
	const char		*ctype;
	const char		*body;
	struct sigv4_header	 h[4];
	size_t			 nh;
	const char		*token;
	const char		*creq;
	const char		*sts;
	const char		*authz;
};

static const struct vec suite[] = {
	{ "get-vanilla",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-vanilla-query",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-vanilla-empty-query-key",
	    "GET",
	    "/",
	    "Param1=value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "Param1=value1\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"
	},
	{ "get-vanilla-query-order-key",
	    "GET",
	    "/",
	    "Param1=value2&Param1=Value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "Param1=Value1&Param1=value2\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"
	},
	{ "get-vanilla-query-order-key-case",
	    "GET",
	    "/",
	    "Param2=value2&Param1=value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "Param1=value1&Param2=value2\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
	},
	{ "get-vanilla-query-order-value",
	    "GET",
	    "/",
	    "Param1=value2&Param1=value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "Param1=value1&Param1=value2\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"
	},
	{ "get-vanilla-query-order-encoded",
	    "GET",
	    "/",
	    "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"
	},
	{ "get-vanilla-query-unreserved",
	    "GET",
	    "/",
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz="
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz="
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"
	},
	{ "get-vanilla-utf8-query",
	    "GET",
	    "/",
	    "\xe1\x88\xb4=bar",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "%E1%88%B4=bar\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
	},
	{ "get-unreserved",
	    "GET",
	    "/"
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/"
	    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
	},
	{ "get-utf8",
	    "GET",
	    "/\xe1\x88\xb4",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/%E1%88%B4\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
	},
	{ "get-header-key-duplicate",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", "value2" },
		{ "My-Header1", "value2" },
		{ "My-Header1", "value1" },
	    }, 3,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:value2,value2,value1\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
	    "Signature="
	    "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
	},
	{ "get-header-value-order",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", "value4" },
		{ "My-Header1", "value1" },
		{ "My-Header1", "value3" },
		{ "My-Header1", "value2" },
	    }, 4,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:value4,value1,value3,value2\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
	    "Signature="
	    "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"
	},
	{ "get-header-value-trim",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", " value1" },
		{ "My-Header2", " \"a   b   c\"" },
	    }, 2,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:value1\n"
	    "my-header2:\"a b c\"\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;my-header2;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;my-header2;"
	    "x-amz-date, Signature="
	    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
	},
	{ "get-header-value-multiline",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", "value1\n  value2\n     value3" },
	    }, 1,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:value1 value2 value3\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "e99419459a677bc11de234014be3c4e72c1ea5b454ceb58b613061f5d7a162e8",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
	    "Signature="
	    "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd"
	},
	{ "get-vanilla-with-session-token",
	    "GET",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa"
	    "00fa31553b73ebf194267\n"
	    "\n"
	    "host;x-amz-date;x-amz-security-token\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date;"
	    "x-amz-security-token, Signature="
	    "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
	},
	{ "post-vanilla",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
	},
	{ "post-vanilla-query",
	    "POST",
	    "/",
	    "Param1=value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "Param1=value1\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
	},
	{ "post-vanilla-empty-query-value",
	    "POST",
	    "/",
	    "Param1=value1",
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "Param1=value1\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
	},
	{ "post-header-key-case",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
	},
	{ "post-header-key-sort",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", "value1" },
	    }, 1,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:value1\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
	    "Signature="
	    "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
	},
	{ "post-header-value-case",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    {
		{ "My-Header1", "VALUE1" },
	    }, 1,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "my-header1:VALUE1\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;my-header1;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
	    "Signature="
	    "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"
	},
	{ "post-x-www-form-urlencoded",
	    "POST",
	    "/",
	    NULL,
	    "application/x-www-form-urlencoded",
	    "Param1=value1",
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "content-type:application/x-www-form-urlencoded\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "content-type;host;x-amz-date\n"
	    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=content-type;host;"
	    "x-amz-date, Signature="
	    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
	},
	{ "post-x-www-form-urlencoded-parameters",
	    "POST",
	    "/",
	    NULL,
	    "application/x-www-form-urlencoded; charset=utf8",
	    "Param1=value1",
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "content-type:application/x-www-form-urlencoded; charset=utf8\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "content-type;host;x-amz-date\n"
	    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=content-type;host;"
	    "x-amz-date, Signature="
	    "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"
	},
	{ "post-sts-header-before",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    STS_TOKEN,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "x-amz-security-token:AQoDYXdzEPT//////////"
	    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicR"
	    "XmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
	    "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VS"
	    "XDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkU"
	    "L64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQ"
	    "wj2ICCR/oLxBA==\n"
	    "\n"
	    "host;x-amz-date;x-amz-security-token\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date;"
	    "x-amz-security-token, Signature="
	    "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
	},
	{ "post-sts-header-after",
	    "POST",
	    "/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "POST\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
	},
	{ "get-relative",
	    "GET",
	    "/example/..",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-relative-relative",
	    "GET",
	    "/example1/example2/../..",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-slash",
	    "GET",
	    "//",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-slash-dot-slash",
	    "GET",
	    "/./",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	},
	{ "get-slash-pointless-dot",
	    "GET",
	    "/./example",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/example\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"
	},
	{ "get-slashes",
	    "GET",
	    "//example//",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/example/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"
	},
	{ "get-space",
	    "GET",
	    "/example space/",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/example%20space/\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"
	},
	{ "get-special-character",
	    "GET",
	    "/example/$delete",
	    NULL,
	    NULL,
	    NULL,
	    { { NULL, NULL } }, 0,
	    NULL,
	    "GET\n"
	    "/example/%24delete\n"
	    "\n"
	    "host:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n"
	    "\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "4053e45b5cef7cec5e17f736b1c12b3faf0388fd4c0bd24326386f132039ce5c",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27"
	},
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct sigv4 out;	/* 18 KiB: not on the stack */

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The body's hash as api.c will make it: in parts, here of 3 octets. */
static void
hash_parts(const char *body, char hex[SIGV4_HEX_LEN + 1])
{
	struct sigv4_hash h;
	size_t i, n, len;

	len = body == NULL ? 0 : strlen(body);
	if (sigv4_hash_init(&h) == -1)
		abort();
	for (i = 0; i < len; i += n) {
		n = len - i < 3 ? len - i : 3;
		if (sigv4_hash_update(&h, body + i, n) == -1)
			abort();
	}
	if (sigv4_hash_final_hex(&h, hex) == -1)
		abort();
}

static void
test_suite(void)
{
	const struct vec *v;
	struct sigv4_req rq;
	struct sigv4_creds cr;
	char hash[SIGV4_HEX_LEN + 1];
	size_t i;

	for (i = 0; i < NELEM(suite); i++) {
		v = &suite[i];
		hash_parts(v->body, hash);
		memset(&rq, 0, sizeof(rq));
		rq.method = v->method;
		rq.path = v->path;
		rq.query = v->query;
		rq.host = SUITE_HOST;
		rq.content_type = v->ctype;
		rq.headers = v->h;
		rq.nheaders = v->nh;
		rq.payload_hash = hash;
		rq.region = "us-east-1";
		rq.service = "service";
		rq.when = SUITE_TIME;
		cr.access_key_id = SUITE_ID;
		cr.secret = SUITE_SECRET;
		cr.token = v->token;
		is_int(sigv4_sign(&rq, &cr, &out), 0, "%s: signed (%s)",
		    v->name, out.err ? out.err : "no error");
		is_str(out.creq, v->creq, "%s: canonical request", v->name);
		is_str(out.sts, v->sts, "%s: string to sign", v->name);
		is_str(out.authorization, v->authz, "%s: Authorization",
		    v->name);
		is_str(out.amz_date, "20150830T123600Z", "%s: X-Amz-Date",
		    v->name);
	}
	ok(NELEM(suite) >= 34, "%zu vectors of the suite", NELEM(suite));
}

static void
test_iam(void)
{
	struct sigv4_req rq = {
		.method = "GET", .path = "/",
		.query = "Action=ListUsers&Version=2010-05-08",
		.host = "iam.amazonaws.com",
		.content_type =
		    "application/x-www-form-urlencoded; charset=utf-8",
		.payload_hash = SIGV4_EMPTY_SHA256,
		.region = "us-east-1", .service = "iam", .when = SUITE_TIME
	};
	struct sigv4_creds cr = { SUITE_ID, SUITE_SECRET, NULL };
	unsigned char key[SIGV4_KEY_LEN];
	char hex[SIGV4_HEX_LEN + 1];
	size_t i;

	is_int(sigv4_signing_key(SUITE_SECRET, "20150830", "us-east-1",
	    "iam", key), 0, "ses.md 9.3: signing key derived");
	for (i = 0; i < SIGV4_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	explicit_bzero(key, sizeof(key));
	is_str(hex, "c4afb1cc5771d871763a393e44b70357"
	    "1b55cc28424d1a5e86da6ed3c154a4b9", "ses.md 9.3: signing key");
	is_int(sigv4_sign(&rq, &cr, &out), 0, "ses.md 9.3: signed");
	is_str(out.creq, "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	    "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	    "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	    "content-type;host;x-amz-date\n" SIGV4_EMPTY_SHA256,
	    "ses.md 9.3: canonical request");
	is_str(strrchr(out.sts, '\n') + 1, "f536975d06c0309214f805bb90ccff08"
	    "9219ecd68b2577efef23edd43b7e1a59",
	    "ses.md 9.3: canonical-request hash");
	is_str(out.signature, "5d672d79c15b13162d9279b0855cfba6"
	    "789a8edb4c82c400e06b5924a6f2b5d7", "ses.md 9.3: signature");
	is_str(out.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;"
	    "host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8e"
	    "db4c82c400e06b5924a6f2b5d7", "ses.md 9.3: Authorization");
	is_str(out.scope, "20150830/us-east-1/iam/aws4_request",
	    "ses.md 9.3: scope");
}

#define SES_ID		"AKIAIOSFODNN7EXAMPLE"
#define SES_SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SES_TOKEN	"IQoJb3JpZ2luX2VjEXAMPLETOKEN/ses+sendmail=="
#define SES_TIME	((time_t)1768469400)	/* 20260115T093000Z */
#define SES_BODY							\
	"{\"FromEmailAddress\":\"sender@example.com\","			\
	"\"Destination\":{\"ToAddresses\":[\"rcpt@example.com\"]},"	\
	"\"Content\":{\"Raw\":{\"Data\":"				\
	"\"RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tDQpT"			\
	"dWJqZWN0OiBoaQ0KDQpoZWxsbw0K\""				\
	"}}}"

/* Expected values from botocore 1.43's SigV4Auth on the same request. */
static void
test_ses(void)
{
	struct sigv4_req rq = {
		.method = "POST", .path = "/v2/email/outbound-emails",
		.host = "email.eu-west-1.amazonaws.com",
		.content_type = "application/json",
		.region = "eu-west-1", .service = "ses", .when = SES_TIME
	};
	struct sigv4_creds cr = { SES_ID, SES_SECRET, SES_TOKEN };
	char hash[SIGV4_HEX_LEN + 1], once[SIGV4_HEX_LEN + 1];

	hash_parts(SES_BODY, hash);
	is_int(sigv4_hash_hex(SES_BODY, strlen(SES_BODY), once), 0,
	    "SendEmail: body hashed at once");
	is_str(hash, once, "SendEmail: in parts, the same hash");
	is_str(hash, "6f4477966372c5c85a0059e20eec7378"
	    "a5ac8027fbf8eec50fd9fc7993a044fd", "SendEmail: body hash");
	rq.payload_hash = hash;
	is_int(sigv4_sign(&rq, &cr, &out), 0, "SendEmail: signed");
	is_str(out.amz_date, "20260115T093000Z", "SendEmail: X-Amz-Date");
	is_str(out.creq, "POST\n/v2/email/outbound-emails\n\n"
	    "content-type:application/json\n"
	    "host:email.eu-west-1.amazonaws.com\n"
	    "x-amz-date:20260115T093000Z\n"
	    "x-amz-security-token:" SES_TOKEN "\n\n"
	    "content-type;host;x-amz-date;x-amz-security-token\n"
	    "6f4477966372c5c85a0059e20eec7378a5ac8027fbf8eec50fd9fc7993a044fd",
	    "SendEmail: canonical request");
	is_str(out.sts, "AWS4-HMAC-SHA256\n20260115T093000Z\n"
	    "20260115/eu-west-1/ses/aws4_request\n"
	    "2c23fe97cf917a0434441d6bb86112c1bed92d8a554ab43df18eb8b836e21fee",
	    "SendEmail: string to sign");
	is_str(out.authorization, "AWS4-HMAC-SHA256 Credential="
	    "AKIAIOSFODNN7EXAMPLE/20260115/eu-west-1/ses/aws4_request, "
	    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
	    "Signature="
	    "1a908b06047bbd2b5a7a032a87c1180539ef1b5504f5c1b668ff61f671c5f1cb",
	    "SendEmail: Authorization");
	ok(strstr(out.authorization, SES_TOKEN) == NULL &&
	    strstr(out.authorization, SES_SECRET) == NULL,
	    "SendEmail: Authorization holds neither token nor secret");

	/* The path as sent holds "%40": it is encoded once more. */
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = "/v2/email/identities/user%40example.com";
	rq.host = "email.us-east-1.amazonaws.com";
	rq.payload_hash = SIGV4_EMPTY_SHA256;
	rq.region = "us-east-1";
	rq.service = "ses";
	rq.when = SES_TIME;
	cr.token = NULL;
	is_int(sigv4_sign(&rq, &cr, &out), 0, "GetEmailIdentity: signed");
	is_str(out.creq, "GET\n/v2/email/identities/user%2540example.com\n\n"
	    "host:email.us-east-1.amazonaws.com\nx-amz-date:20260115T093000Z\n"
	    "\nhost;x-amz-date\n" SIGV4_EMPTY_SHA256,
	    "GetEmailIdentity: '%%' of the path encoded again");
	is_str(out.signature,
	    "b88349290d7f481554e13c4fc574efe03ca56ffde9386e7103604467f8a4d3d4",
	    "GetEmailIdentity: signature as botocore's");
}

/* kDate, kRegion, kService, kSigning, with GnuTLS alone. */
static void
chain(const char *secret, const char *date, const char *region,
    const char *service, unsigned char k[4][SIGV4_KEY_LEN])
{
	char k0[4 + SIGV4_SECRET_MAX];
	size_t n = strlen(secret);

	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, n);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, k0, 4 + n, date,
	    strlen(date), k[0]) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, k[0], SIGV4_KEY_LEN, region,
	    strlen(region), k[1]) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, k[1], SIGV4_KEY_LEN, service,
	    strlen(service), k[2]) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, k[2], SIGV4_KEY_LEN,
	    "aws4_request", 12, k[3]) < 0)
		abort();
	explicit_bzero(k0, sizeof(k0));
}

/* Does the n octets at p hold the secret or a key of the chain? */
static int
holds_key(const void *p, size_t n, unsigned char k[4][SIGV4_KEY_LEN])
{
	char hex[SIGV4_HEX_LEN + 1];
	size_t i, j;

	if (memmem(p, n, SUITE_SECRET, strlen(SUITE_SECRET)) != NULL ||
	    memmem(p, n, SUITE_SECRET, 16) != NULL)
		return 1;
	for (i = 0; i < 4; i++) {
		for (j = 0; j < SIGV4_KEY_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", k[i][j]);
		if (memmem(p, n, k[i], SIGV4_KEY_LEN) != NULL ||
		    memmem(p, n, k[i], 8) != NULL ||
		    memmem(p, n, hex, 16) != NULL)
			return 1;
	}
	return 0;
}

static void
test_wipe(void)
{
	struct sigv4_req rq = {
		.method = "POST", .path = "/", .host = SUITE_HOST,
		.payload_hash = SIGV4_EMPTY_SHA256, .region = "us-east-1",
		.service = "service", .when = SUITE_TIME
	};
	struct sigv4_creds cr = { SUITE_ID, SUITE_SECRET, STS_TOKEN };
	unsigned char k[4][SIGV4_KEY_LEN];
	struct sigv4_scratch s;

	chain(SUITE_SECRET, "20150830", "us-east-1", "service", k);
	memset(&s, 0xa5, sizeof(s));
	is_int(sigv4_sign_in(&rq, &cr, &out, &s), 0, "wipe: signed");
	ok(all_zero(&s, sizeof(s)), "wipe: the scratch is all zero after "
	    "signing");
	ok(!holds_key(&out, sizeof(out), k), "wipe: the result holds no "
	    "part of the secret, kDate, kRegion, kService or kSigning");
	ok(holds_key(&k, sizeof(k), k), "wipe: (the search finds a key)");
	ok(strstr(out.creq, STS_TOKEN) != NULL, "wipe: the token is signed");
	sigv4_wipe(&out);
	ok(all_zero(&out, sizeof(out)), "wipe: sigv4_wipe() leaves zeros");

	memset(&s, 0xa5, sizeof(s));
	is_int(sigv4_derive(&s, SUITE_SECRET, "20150830", "us-east-1",
	    "service"), 0, "wipe: derived");
	ok(memcmp(s.k, k[3], SIGV4_KEY_LEN) == 0, "wipe: kSigning as "
	    "GnuTLS alone makes it");
	ok(all_zero(s.k0, sizeof(s.k0)) && all_zero(s.t, sizeof(s.t)),
	    "wipe: \"AWS4\" secret and the last link wiped by the chain");

	memset(&s, 0xa5, sizeof(s));
	rq.region = "US-EAST-1";
	is_int(sigv4_sign_in(&rq, &cr, &out, &s), -1, "wipe: refused");
	ok(all_zero(&s, sizeof(s)), "wipe: the scratch is zero after a "
	    "refusal");
	ok(out.err != NULL && all_zero(out.creq, sizeof(out.creq)) &&
	    out.authorization[0] == '\0', "wipe: a refusal leaves nothing "
	    "but err");
	explicit_bzero(k, sizeof(k));
}

static void
test_helpers(void)
{
	static const char abc[] = "abc";
	struct sigv4_hash h;
	char hex[SIGV4_HEX_LEN + 1], once[SIGV4_HEX_LEN + 1], enc[32], *big;
	size_t i;

	is_int(sigv4_amz_date(SUITE_TIME, hex), 0, "amz_date 2015");
	is_str(hex, "20150830T123600Z", "amz_date is UTC, basic format");
	sigv4_amz_date(0, hex);
	is_str(hex, "19700101T000000Z", "amz_date of 0");
	is_int(sigv4_amz_date((time_t)253402300799LL, hex), 0,
	    "amz_date of 9999-12-31T23:59:59");
	is_int(sigv4_amz_date((time_t)253402300800LL, hex), -1,
	    "amz_date of year 10000 refused");
	is_int(sigv4_amz_date((time_t)-30610224001LL, hex), -1,
	    "amz_date of year 999 refused");

	is_int(sigv4_uri_encode("a b/\xc3\xbc~-._Z9%", 13, enc, sizeof(enc)),
	    0, "uri_encode");
	is_str(enc, "a%20b%2F%C3%BC~-._Z9%25", "uri_encode: RFC 3986 2.3, "
	    "upper-case hex");
	is_int(sigv4_uri_encode("a b", 3, enc, 6), 0, "uri_encode: exact fit");
	is_int(sigv4_uri_encode("a b", 3, enc, 5), -1, "uri_encode: too "
	    "small refused");
	is_str(enc, "", "uri_encode: nothing half-written");

	is_int(sigv4_hash_hex("", 0, hex), 0, "hash of nothing");
	is_str(hex, SIGV4_EMPTY_SHA256, "hash of nothing is the constant");
	is_int(sigv4_hash_init(&h), 0, "hash_init");
	is_int(sigv4_hash_final_hex(&h, hex), 0, "hash_final with no update");
	is_str(hex, SIGV4_EMPTY_SHA256, "empty stream, the same");
	is_int(sigv4_hash_update(&h, abc, 3), -1, "update after final refused");
	is_int(sigv4_hash_final_hex(&h, hex), -1, "final twice refused");
	sigv4_hash_init(&h);
	sigv4_hash_update(&h, abc, 3);
	sigv4_hash_abort(&h);
	is_int(sigv4_hash_final_hex(&h, hex), -1, "final after abort refused");
	sigv4_hash_abort(&h);
	sigv4_hash_hex(abc, 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "FIPS 180-2 \"abc\"");

	if ((big = malloc(1 << 20)) == NULL)
		abort();
	for (i = 0; i < 1 << 20; i++)
		big[i] = (char)(i * 7);
	sigv4_hash_init(&h);
	for (i = 0; i < 1 << 20; i += 4096)
		sigv4_hash_update(&h, big + i, 4096);
	sigv4_hash_final_hex(&h, hex);
	sigv4_hash_hex(big, 1 << 20, once);
	is_str(hex, once, "1 MiB in 4 KiB parts: the one-shot hash");
	free(big);
}

/* Sign a minimal request; 0 with its URI and query in uri and q. */
static int
canon(const char *path, const char *query, char *uri, char *q)
{
	struct sigv4_req rq = {
		.method = "GET", .path = path, .query = query,
		.host = SUITE_HOST, .payload_hash = SIGV4_EMPTY_SHA256,
		.region = "us-east-1", .service = "service",
		.when = SUITE_TIME
	};
	struct sigv4_creds cr = { SUITE_ID, SUITE_SECRET, NULL };
	char *a, *b;

	uri[0] = q[0] = '\0';
	if (sigv4_sign(&rq, &cr, &out) == -1)
		return -1;
	a = strchr(out.creq, '\n') + 1;
	b = strchr(a, '\n');
	memcpy(uri, a, (size_t)(b - a));
	uri[b - a] = '\0';
	a = strchr(b + 1, '\n');
	memcpy(q, b + 1, (size_t)(a - b - 1));
	q[a - b - 1] = '\0';
	return 0;
}

static void
test_canon(void)
{
	static const struct {
		const char *path, *query, *uri, *q;
	} v[] = {
		{ "/v2/email/outbound-emails", NULL,
		    "/v2/email/outbound-emails", "" },
		{ "/a%2Fb", "", "/a%252Fb", "" },
		{ "/a/./b/../c//d/", NULL, "/a/c/d/", "" },
		{ "/../../x", NULL, "/x", "" },
		{ "/a/b/..", NULL, "/a", "" },
		{ "/a/b/../", NULL, "/a/", "" },
		{ "/...", NULL, "/...", "" },
		{ "/%", NULL, "/%25", "" },
		{ "/", "b=2&a=1&a=0", "/", "a=0&a=1&b=2" },
		{ "/", "k=%7e%41%2f%2F", "/", "k=~A%2F%2F" },
		{ "/", "a+b=c d", "/", "a%2Bb=c%20d" },
		{ "/", "flag", "/", "flag=" },
		{ "/", "a=b=c", "/", "a=b%3Dc" },
		{ "/", "&&a=1&", "/", "a=1" },
		{ "/", "=v&a", "/", "=v&a=" },
		{ "/", "b&a&%61=1", "/", "a=&a=1&b=" },
		{ "/", "Action=AssumeRole&Version=2011-06-15", "/",
		    "Action=AssumeRole&Version=2011-06-15" },
	};
	char uri[256], q[256];
	size_t i;

	for (i = 0; i < NELEM(v); i++) {
		is_int(canon(v[i].path, v[i].query, uri, q), 0,
		    "canon '%s' '%s'", v[i].path, v[i].query ? v[i].query :
		    "(null)");
		is_str(uri, v[i].uri, "canonical URI of '%s'", v[i].path);
		is_str(q, v[i].q, "canonical query of '%s'", v[i].query ?
		    v[i].query : "(null)");
	}
	is_int(canon("/", "a=%zz", uri, q), -1, "query: bad escape refused");
	is_int(canon("/", "a=%4", uri, q), -1, "query: short escape refused");
	is_int(canon("/", "a=%", uri, q), -1, "query: lone '%%' refused");
}

/* One header to sign besides the usual ones: taken (0) or refused. */
static const struct {
	const char	*name, *value, *ctype;
	int		 want;
	const char	*what;
} hv[] = {
	{ "My Header", "v", NULL, -1, "header name with a blank" },
	{ "", "v", NULL, -1, "empty header name" },
	{ "X:Y", "v", NULL, -1, "':' in a header name" },
	{ "Host", "v", NULL, -1, "Host (sigv4 adds it)" },
	{ "X-AMZ-DATE", "v", NULL, -1, "X-Amz-Date (sigv4 adds it)" },
	{ "x-amz-security-token", "v", NULL, -1, "the token header" },
	{ "Authorization", "v", NULL, -1, "Authorization" },
	{ "Content-Type", "v", "text/plain", -1,
	    "Content-Type with content_type set" },
	{ "Content-Type", "v", NULL, 0,
	    "Content-Type as an ordinary header" },
	{ "X-A", "a\r\nX-Evil: 1", NULL, -1, "CR LF then a field" },
	{ "X-A", "a\nb", NULL, -1, "bare LF" },
	{ "X-A", "a\rb", NULL, -1, "bare CR" },
	{ "X-A", "a\x01", NULL, -1, "a control character" },
	{ "X-A", "a\x7f", NULL, -1, "DEL" },
	{ "X-A", NULL, NULL, -1, "no value" },
	{ NULL, "v", NULL, -1, "no name" },
	{ "X-A", "", NULL, 0, "an empty value" },
	{ "X-A", "\t caf\xc3\xa9 \t", NULL, 0, "obs-text, trimmed" },
};

/* Sign rq (fields set by the caller) with the suite's keys. */
static int
try(struct sigv4_req *rq, const char *id, const char *secret,
    const char *token)
{
	struct sigv4_creds cr = { id, secret, token };
	int rc;

	rc = sigv4_sign(rq, &cr, &out);
	if (rc == -1 && (out.err == NULL || out.creq[0] != '\0' ||
	    strstr(out.err, SUITE_SECRET) != NULL))
		return -2;
	return rc;
}

static void
test_refusals(void)
{
	struct sigv4_header h[SIGV4_MAX_HEADERS + 1];
	struct sigv4_req rq, base = {
		.method = "POST", .path = "/", .host = SUITE_HOST,
		.payload_hash = SIGV4_EMPTY_SHA256, .region = "us-east-1",
		.service = "service", .when = SUITE_TIME
	};
	char secret[SIGV4_SECRET_MAX + 2], *p;
	size_t i;

#define T(field, val, want, what) do {					\
	rq = base; rq.field = val;					\
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), want, what);	\
} while (0)
	T(method, "get", -1, "lower-case method refused");
	T(method, "", -1, "empty method refused");
	T(method, "PO ST", -1, "method with a blank refused");
	T(method, NULL, -1, "no method refused");
	T(path, "v2/x", -1, "relative path refused");
	T(path, NULL, -1, "no path refused");
	T(host, NULL, -1, "no host refused");
	T(host, "", -1, "empty host refused");
	T(host, "a\r\nX-Evil: 1", -1, "CR LF in host refused");
	T(region, "us-east-1/x", -1, "'/' in region refused");
	T(region, "", -1, "empty region refused");
	T(service, "SES", -1, "upper-case service refused");
	T(payload_hash, "E3B0", -1, "short hash refused");
	T(payload_hash, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934C"
	    "A495991B7852B855", -1, "upper-case hash refused");
	T(when, (time_t)253402300800LL, -1, "year 10000 refused");
	T(content_type, "application/json\nX: y", -1,
	    "LF in content-type refused");
	T(content_type, "a\r\n\tb", 0, "obs-fold in content-type taken");
	is_int(strstr(out.creq, "content-type:a b\n") != NULL, 1,
	    "obs-fold made one blank");
#undef T

	rq = base;
	is_int(try(&rq, "AKID EXAMPLE", SUITE_SECRET, NULL), -1,
	    "access key id with a blank refused");
	is_int(try(&rq, NULL, SUITE_SECRET, NULL), -1, "no key id refused");
	is_int(try(&rq, SUITE_ID, "", NULL), -1, "empty secret refused");
	is_int(try(&rq, SUITE_ID, NULL, NULL), -1, "no secret refused");
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, ""), -1,
	    "empty token refused");
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, "a\nb"), -1,
	    "LF in token refused");
	memset(secret, 'k', sizeof(secret));
	secret[SIGV4_SECRET_MAX] = '\0';
	is_int(try(&rq, SUITE_ID, secret, NULL), 0, "secret of 256 taken");
	secret[SIGV4_SECRET_MAX] = 'k';
	secret[SIGV4_SECRET_MAX + 1] = '\0';
	is_int(try(&rq, SUITE_ID, secret, NULL), -1, "secret of 257 refused");

	for (i = 0; i < NELEM(hv); i++) {
		rq = base;
		h[0].name = hv[i].name;
		h[0].value = hv[i].value;
		rq.headers = h;
		rq.nheaders = 1;
		rq.content_type = hv[i].ctype;
		is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), hv[i].want,
		    "header: %s %s", hv[i].what, hv[i].want ? "refused" :
		    "taken");
	}
	ok(strstr(out.creq, "\nx-a:caf\xc3\xa9\n") != NULL,
	    "header: obs-text kept, blanks trimmed");

	rq = base;
	for (i = 0; i < SIGV4_MAX_HEADERS + 1; i++) {
		h[i].name = "X-Many";
		h[i].value = "v";
	}
	rq.headers = h;
	rq.nheaders = SIGV4_MAX_HEADERS;
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), 0,
	    "%d headers taken", SIGV4_MAX_HEADERS);
	rq.nheaders = SIGV4_MAX_HEADERS + 1;
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), -1,
	    "%d headers refused", SIGV4_MAX_HEADERS + 1);

	/* Too long: each '%' becomes "%25", so 6000 make 18000 octets. */
	if ((p = malloc(6002)) == NULL)
		abort();
	p[0] = '/';
	memset(p + 1, '%', 6000);
	p[6001] = '\0';
	rq = base;
	rq.path = p;
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), -1,
	    "a canonical URI past SIGV4_CREQ_MAX refused");
	ok(out.err != NULL && strstr(out.err, "too long") != NULL,
	    "... saying it is too long (%s)", out.err);
	p[1] = '\0';
	rq.path = "/";
	rq.query = p + 1;
	memset(p, 0, 6002);
	for (i = 0; i < 65; i++)
		strlcat(p, "a=1&", 6002);
	rq.query = p;
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), -1,
	    "65 query parameters refused");
	p[64 * 4] = '\0';
	is_int(try(&rq, SUITE_ID, SUITE_SECRET, NULL), 0,
	    "64 query parameters taken");
	free(p);
	is_int(sigv4_signing_key(SUITE_SECRET, "2015083", "us-east-1",
	    "service", (unsigned char *)secret), -1,
	    "signing key: 7-digit date refused");
	is_int(sigv4_signing_key(SUITE_SECRET, "2015083x", "us-east-1",
	    "service", (unsigned char *)secret), -1,
	    "signing key: non-digit date refused");
}

int
main(void)
{
	test_suite();
	test_iam();
	test_ses();
	test_wipe();
	test_helpers();
	test_canon();
	test_refusals();
	return tap_done();
}
