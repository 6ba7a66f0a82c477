/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the spool (CRLF in, lone dot, "..", NUL) and the
 * wire writer (CRLF out, dot-stuffing, folding) of msg.c.  The first
 * octet picks -i.  Invariants on what would go to SES: only CRLF line
 * ends, no line over 998 octets, no line that is a lone dot or starts
 * with a single dot, and the size msg_wire_size() predicts.  The same
 * input is also given to the wire writer directly, bare CRs and all:
 * whatever it is handed, nothing can end SES's DATA early.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct check {
	long long	 total;
	size_t		 col;
	int		 cr;
	char		 first, second;
};

static int
check_sink(void *arg, const void *buf, size_t len)
{
	struct check *ck = arg;
	const char *p = buf;
	size_t i;

	for (i = 0; i < len; i++, ck->total++) {
		if (p[i] == '\n') {
			if (!ck->cr)
				abort();	/* a bare LF */
			if (ck->col == 2 && ck->first == '.' &&
			    ck->second == '\r')
				abort();	/* a lone dot */
			ck->col = 0;
			ck->cr = 0;
			continue;
		}
		if (ck->cr)
			abort();		/* CR not before LF */
		if (p[i] == '\r') {
			ck->cr = 1;
			ck->col++;
			continue;
		}
		if (ck->col == 0)
			ck->first = p[i];
		if (ck->col == 1)
			ck->second = p[i];
		if (ck->col == 1 && ck->first == '.' && p[i] != '.')
			abort();		/* an unstuffed dot */
		if (++ck->col > WIRE_LINE_MAX)
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct check ck;
	struct spooler *sp;
	struct wire w;
	struct msg m;
	struct fail f;
	long long size;
	size_t folded;

	if (n == 0)
		return 0;
	memset(&ck, 0, sizeof(ck));
	wire_init(&w, check_sink, &ck);
	if (wire_put(&w, (const char *)d + 1, n - 1) == 0 &&
	    wire_put(&w, "\n", 1) == 0 && wire_flush(&w) == 0 &&
	    (ck.col != 0 || ck.total != w.total))
		abort();
	memset(&f, 0, sizeof(f));
	if ((sp = msg_spool_open(d[0] & 1, 1 << 20, &m, &f)) == NULL)
		return 0;
	if (msg_spool_write(sp, (const char *)d + 1, n - 1, &f) == -1) {
		(void)msg_spool_close(sp, &f);
		msg_free(&m);
		return 0;
	}
	if (msg_spool_close(sp, &f) == -1)
		return 0;
	memset(&ck, 0, sizeof(ck));
	wire_init(&w, check_sink, &ck);
	if (msg_write(&m, &w, &f) == 0 && msg_wire_size(&m, &size,
	    &folded, &f) == 0 && (size != ck.total || ck.col != 0))
		abort();
	msg_free(&m);
	return 0;
}
