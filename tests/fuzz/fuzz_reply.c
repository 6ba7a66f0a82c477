/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the SMTP reply reader (net.c line framing, smtp.c
 * reply checks and EHLO parsing), fed through a socket as a server would
 * send it.  Invariants: no crash, no read past the input, every reply
 * either parsed or refused, and the input always consumed to its end.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	unsigned int ext;
	long long size;
	int sv[2];

	/* Stay within what a socket buffer takes without a reader. */
	if (n > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	if (write(sv[1], d, n) != (ssize_t)n) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	close(sv[1]);
	if (smtp_test_replies(sv[0], &ext, &size) < 0)
		abort();
	close(sv[0]);
	return 0;
}
