/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the configuration parser (conf.c).  Invariant: an
 * error is one line that never holds the value of a password line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct conf c;
	char err[SES_FAIL_TEXT];

	conf_init(&c);
	if (conf_parse_buf((const char *)d, n, "fuzz.conf", &c, err,
	    sizeof(err)) != 0) {
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			abort();
		/* The fixed secret of the seed corpus must never show. */
		if (strstr(err, "S3cretSeedValue") != NULL)
			abort();
	}
	conf_free(&c);
	return 0;
}
