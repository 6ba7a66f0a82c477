/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: apijson.c both ways.  Out: the input, up to its first
 * NUL, through api_json_string() into heap buffers of every size up to
 * the documented 6 * strlen + 3 octets, so that AddressSanitizer sees any
 * write past the end.  Invariants: at the documented size it fits; any
 * size either fits or is refused with -1; what fits is a quoted string
 * with no control octet, every quote and backslash escaped, and, when the
 * input is valid UTF-8, jansson reads it back (JSON_DECODE_ANY) as
 * exactly the input.  In: the input as an SES answer to
 * api_parse_answer(): the first two octets pick the status (100-599),
 * the third whether an x-amzn-ErrorType header comes (up to the next
 * NUL), the rest is the body.  Invariants: no crash, every field
 * NUL-terminated and printable, and -1 only for a 2xx whose non-empty
 * body holds no MessageId.  The same body, as --check's reads take it, to
 * api_parse_account(), api_parse_identity() and api_parse_confset():
 * no crash, strings NUL-terminated and printable, booleans -1, 0 or 1,
 * and -1 exactly when jansson does not read a JSON object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* s (len octets) is printable ASCII and NUL-terminated within size. */
static void
check_printable(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
	if (i == size)
		abort();
}

/* out (len octets) is a JSON string as api_json_string() writes it. */
static void
check_quoted(const char *out, size_t len)
{
	size_t i;

	if (len < 2 || out[0] != '"' || out[len - 1] != '"' ||
	    out[len] != '\0')
		abort();
	for (i = 1; i < len - 1; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '"')
			abort();
		if (out[i] == '\\') {
			if (i + 1 >= len - 1 || strchr("\"\\u", out[i + 1]) ==
			    NULL)
				abort();
			i++;
		}
	}
}

/* Encoded, then read back by jansson: the same string. */
static void
check_roundtrip(const char *s, size_t slen, const char *out)
{
	json_error_t err;
	json_t *v, *probe;

	/* jansson refuses a string that is not valid UTF-8. */
	if ((probe = json_stringn(s, slen)) == NULL)
		return;
	json_decref(probe);
	if ((v = json_loads(out, JSON_DECODE_ANY, &err)) == NULL)
		abort();
	if (!json_is_string(v) || json_string_length(v) != slen ||
	    memcmp(json_string_value(v), s, slen) != 0)
		abort();
	json_decref(v);
}

static void
fuzz_string(const uint8_t *d, size_t n)
{
	char *s, *out;
	size_t slen, need, size, step;
	ssize_t len;

	if ((s = malloc(n + 1)) == NULL)
		return;
	memcpy(s, d, n);
	s[n] = '\0';
	slen = strlen(s);
	need = 6 * slen + 3;		/* extern.h: the most it writes */
	/* Every small size, then sizes spread up to the documented one. */
	step = need / 64 + 1;
	for (size = 0; size <= need; size += size < 16 ? 1 : step) {
		if ((out = malloc(size > 0 ? size : 1)) == NULL)
			break;
		len = api_json_string(out, size, s);
		if (len != -1) {
			if (len < 2 || (size_t)len >= size)
				abort();
			check_quoted(out, (size_t)len);
		}
		free(out);
	}
	if ((out = malloc(need)) == NULL) {
		free(s);
		return;
	}
	if ((len = api_json_string(out, need, s)) == -1)
		abort();
	check_quoted(out, (size_t)len);
	check_roundtrip(s, slen, out);
	free(out);
	free(s);
}

static void
fuzz_answer(const uint8_t *d, size_t n)
{
	struct api_answer a;
	char *hdr = NULL, *body;
	const uint8_t *p;
	size_t blen;
	int status, rv;

	if (n < 3)
		return;
	status = 100 + ((d[0] << 8) | d[1]) % 500;
	p = d + 3;
	blen = n - 3;
	if (d[2] & 1) {
		const uint8_t *nul = memchr(p, '\0', blen);
		size_t hlen = nul != NULL ? (size_t)(nul - p) : blen;

		if ((hdr = malloc(hlen + 1)) == NULL)
			return;
		memcpy(hdr, p, hlen);
		hdr[hlen] = '\0';
		p += nul != NULL ? hlen + 1 : hlen;
		blen -= nul != NULL ? hlen + 1 : hlen;
	}
	/* The body exactly as long as it is: a read past it is seen. */
	if ((body = malloc(blen > 0 ? blen : 1)) == NULL) {
		free(hdr);
		return;
	}
	memcpy(body, p, blen);
	rv = api_parse_answer(status, hdr, body, blen, &a);
	if (a.status != status)
		abort();
	check_printable(a.id, sizeof(a.id));
	check_printable(a.type, sizeof(a.type));
	check_printable(a.message, sizeof(a.message));
	if (status / 100 == 2) {
		if (rv != (a.id[0] == '\0' && blen > 0 ? -1 : 0) ||
		    a.type[0] != '\0' || a.message[0] != '\0')
			abort();
	} else if (rv != 0 || a.id[0] != '\0' || strchr(a.type, ':') != NULL)
		abort();
	free(body);
	free(hdr);
}

static void
check_bool(int b)
{
	if (b < -1 || b > 1)
		abort();
}

/* The body as GetAccount's, GetEmailIdentity's, GetConfigurationSet's. */
static void
fuzz_reads(const uint8_t *d, size_t n)
{
	struct api_account ac;
	struct api_identity id;
	struct api_confset cs;
	json_error_t err;
	json_t *v;
	char *body;
	int obj;

	if (n < 3)
		return;
	d += 3;
	n -= 3;
	if ((body = malloc(n > 0 ? n : 1)) == NULL)
		return;
	memcpy(body, d, n);
	v = json_loadb(body, n, JSON_REJECT_DUPLICATES, &err);
	obj = json_is_object(v) ? 0 : -1;
	json_decref(v);
	if (api_parse_account(body, n, &ac) != obj)
		abort();
	check_bool(ac.production);
	check_bool(ac.sending);
	check_printable(ac.enforcement, sizeof(ac.enforcement));
	if (api_parse_identity(body, n, &id) != obj)
		abort();
	check_bool(id.verified);
	check_bool(id.signing);
	check_printable(id.type, sizeof(id.type));
	check_printable(id.status, sizeof(id.status));
	check_printable(id.dkim, sizeof(id.dkim));
	if (api_parse_confset(body, n, &cs) != obj)
		abort();
	check_bool(cs.sending);
	check_printable(cs.name, sizeof(cs.name));
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > 65536)
		return 0;
	fuzz_string(d, n);
	fuzz_answer(d, n);
	fuzz_reads(d, n);
	return 0;
}
