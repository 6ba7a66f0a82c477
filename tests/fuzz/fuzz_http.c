/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the HTTP response reader (http.c: status line,
 * fields, Content-Length, chunked, until close; net.c framing), fed
 * through a socket as a server would send it.  The first octet picks the
 * request method (HEAD and CONNECT change the framing) and the body cap.
 * Invariants: no crash, no read past the input, every response either
 * read or refused, and a read one consistent with its bounds.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const keep[] = { "x-amzn-ErrorType", "x-amzn-RequestId",
    "Content-Type", "Date", NULL };

static void
check(const struct http_resp *r, int st, const char *body, size_t cap)
{
	if (st < 100 || st > 599 || st != r->status)
		abort();
	if (r->total > HTTP_BODY_LIMIT || r->bodylen > r->total ||
	    (cap > 0 && (r->bodylen > cap - 1 || body[r->bodylen] != '\0')) ||
	    r->truncated != (r->total > r->bodylen))
		abort();
	if (r->chunked && r->length != -1 && !(r->method != NULL &&
	    strcmp(r->method, "CONNECT") == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const methods[] = { NULL, "HEAD", "CONNECT", NULL };
	static const size_t caps[] = { 0, 1, 16, 4096 };
	struct http_resp r;
	struct conn c;
	struct fail f;
	char body[4096];
	int sv[2], st;

	/* Stay within what a socket buffer takes without a reader. */
	if (n < 1 || n > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0,
	    sv) == -1)
		return 0;
	if (write(sv[1], d + 1, n - 1) != (ssize_t)(n - 1)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	close(sv[1]);
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	c.timeout = 1;
	http_resp_init(&r, keep, caps[d[0] >> 2 & 3] ? body : NULL,
	    caps[d[0] >> 2 & 3]);
	r.method = methods[d[0] & 3];
	if ((st = http_response(&c, &r, &f)) != -1)
		check(&r, st, body, caps[d[0] >> 2 & 3]);
	close(sv[0]);
	return 0;
}
