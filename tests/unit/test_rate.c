/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * rate.c and retry.c's backoff (design.md 7, "Sending rate"): the rate
 * file's record (exact length, magic, boot id, digits, the horizon), the
 * bucket's bookings (one second's burst, recipients counted, the debt
 * bound), and full jitter's window.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "tap.h"

#define NS	1000000000LL
#define BOOT	"24fd1950-0d26-41e5-9246-b2100c253616"
#define OTHER	"00000000-0000-0000-0000-000000000000"

static size_t
rec(char *buf, size_t len, const char *boot, long long v)
{
	return (size_t)snprintf(buf, len, "ses-sendmail-rate 1 %s %020lld\n",
	    boot, v);
}

static void
test_parse(void)
{
	char buf[128];
	size_t n;
	int64_t now = 1000 * NS, h = 121 * NS;

	n = rec(buf, sizeof(buf), BOOT, 1005 * NS);
	is_int(n, 78, "a record is 78 octets");
	is_str(buf + 57, "00000001005000000000\n",
	    "the time in nanoseconds, 20 digits, then a newline");
	is_int(rate_parse(buf, n, BOOT, now, h), 1005 * NS,
	    "a record of this boot within the horizon is read");
	is_int(rate_parse(buf, n, OTHER, now, h), -1,
	    "another boot's record is garbage");
	is_int(rate_parse(buf, n - 1, BOOT, now, h), -1, "truncated: garbage");
	is_int(rate_parse(buf, 0, BOOT, now, h), -1, "empty: garbage");
	n = rec(buf, sizeof(buf), BOOT, 1122 * NS);
	is_int(rate_parse(buf, n, BOOT, now, h), -1,
	    "beyond the horizon (a clock jump, a forgery): garbage");
	n = rec(buf, sizeof(buf), BOOT, 3 * NS);
	is_int(rate_parse(buf, n, BOOT, now, h), 3 * NS,
	    "a time long past is read (a full bucket)");
	n = rec(buf, sizeof(buf), BOOT, 5);
	buf[60] = 'x';
	is_int(rate_parse(buf, n, BOOT, now, h), -1, "a non-digit: garbage");
	n = rec(buf, sizeof(buf), BOOT, 5);
	buf[18] = '2';
	is_int(rate_parse(buf, n, BOOT, now, h), -1,
	    "another version: garbage");
	(void)snprintf(buf, sizeof(buf), "ses-sendmail-rate 1 %s "
	    "99999999999999999999\n", BOOT);
	is_int(rate_parse(buf, 78, BOOT, now, INT64_MAX / 2), -1,
	    "20 nines overflow: garbage");
}

static void
test_book(void)
{
	int64_t now = 1000 * NS, nv, t;
	int i;

	/* A full bucket (garbage, -1) at 10/s: ten go at once. */
	nv = -1;
	for (i = 0; i < 10; i++)
		t = rate_book(nv, now, 10, 1, 60 * NS, &nv);
	is_int(t, now, "10/s: the tenth of a burst goes at once");
	t = rate_book(nv, now, 10, 1, 60 * NS, &nv);
	is_int(t, now + NS / 10, "the eleventh waits a tenth of a second");
	t = rate_book(nv, now, 10, 3, 60 * NS, &nv);
	is_int(t, now + 4 * NS / 10, "three recipients take three tokens");
	/* A message bigger than the burst waits for a full bucket only. */
	t = rate_book(-1, now, 10, 25, 60 * NS, &nv);
	is_int(t, now, "25 recipients at 10/s: go on a full bucket");
	is_int(nv, now + 15 * NS / 10, "and leave 1.5 s of debt");
	t = rate_book(nv, now, 10, 1, 60 * NS, &nv);
	is_int(t, now + 16 * NS / 10, "the next one waits it out");
	/* Below one a second: a bucket of one. */
	t = rate_book(-1, now, 0.5, 1, 60 * NS, &nv);
	is_int(t, now, "0.5/s: the first goes at once");
	t = rate_book(nv, now, 0.5, 1, 60 * NS, &nv);
	is_int(t, now + 2 * NS, "the second two seconds later");
	/* The debt stops at maxdebt past the turn. */
	t = rate_book(-1, now, 1, 1000, 3 * NS, &nv);
	is_int(nv - t, 3 * NS, "the debt is bounded");
	/* An idle bucket refills to one second's worth, no more. */
	t = rate_book(now - 3600 * NS, now, 10, 11, 60 * NS, &nv);
	is_int(t, now, "an idle bucket holds ten: eleven go on it");
	t = rate_book(nv, now, 10, 1, 60 * NS, &nv);
	is_int(t, now + 2 * NS / 10, "then the bucket owes the difference");
}

static void
test_backoff(void)
{
	double w, max[6] = { 0 };
	int i, n;

	for (n = 0; n < 6; n++)
		for (i = 0; i < 2000; i++)
			if ((w = retry_backoff(n)) > max[n])
				max[n] = w;
	ok(max[0] <= 1 && max[0] > 0.9, "1st throttle: up to 1 s (%.2f)",
	    max[0]);
	ok(max[2] <= 4 && max[2] > 3.6, "3rd: up to 4 s (%.2f)", max[2]);
	ok(max[4] <= 16 && max[4] > 14.4, "5th: up to 16 s (%.2f)", max[4]);
	ok(max[5] <= 16 && max[5] > 14.4, "6th: the cap, 16 s (%.2f)",
	    max[5]);
	for (i = 0, w = 0; i < 2000; i++)
		w += retry_backoff(3);
	ok(w / 2000 > 3.5 && w / 2000 < 4.5,
	    "full jitter: the mean is half the window (%.2f of 8)", w / 2000);
}

int
main(void)
{
	test_parse();
	test_book();
	test_backoff();
	return tap_done();
}
