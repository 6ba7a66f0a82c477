/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the header block (headers.c) as msg.c feeds it.
 * Invariants: what hdr_block_len() takes, hdr_parse() parses, and the
 * fields add up to the block; -t recipients parse or fail cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct addrlist l = { NULL, 0, 0 };
	struct hdrs h;
	char err[SES_FAIL_TEXT];
	size_t len, i, sum = 0;
	int sep;

	len = hdr_block_len((const char *)d, n, &sep);
	if (len > n)
		abort();
	memset(&h, 0, sizeof(h));
	if (memchr(d, '\0', len) != NULL ||
	    hdr_parse((const char *)d, len, &h, err, sizeof(err)) != 0)
		return 0;
	for (i = 0; i < h.nf; i++)
		sum += h.f[i].rawlen;
	if (sum != h.blocklen)
		abort();
	(void)hdr_check_unique(&h, err, sizeof(err));
	hdr_remove_always(&h);
	(void)hdr_recipients(&h, &l, err, sizeof(err));
	addr_free(&l);
	hdr_free(&h);
	return 0;
}
