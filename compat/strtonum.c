/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * strtonum(3) for systems whose libbsd lacks it: a number in
 * [minval, maxval] from a decimal string, or 0 with *errstr set.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

long long strtonum(const char *, long long, long long, const char **);

long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstr)
{
	long long v;
	char *end;

	*errstr = NULL;
	if (minval > maxval) {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (s == end || *end != '\0')
		*errstr = "invalid";
	else if ((v == LLONG_MIN && errno == ERANGE) || v < minval)
		*errstr = "too small";
	else if ((v == LLONG_MAX && errno == ERANGE) || v > maxval)
		*errstr = "too large";
	return *errstr ? 0 : v;
}
