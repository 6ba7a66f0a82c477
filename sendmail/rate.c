/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * max_send_rate (design.md 7, "Sending rate"): one token bucket for every
 * ses-sendmail on the host, N recipients a second with one second's
 * burst, kept in rate_file.  The file is opened before the privilege drop
 * and used only through that descriptor, under flock(LOCK_EX).  A message
 * reserves its turn: under the lock it computes when its recipients'
 * tokens will be there, books them by moving the bucket's clock on,
 * releases the lock and sleeps until its own time.  Waiters are served in
 * the order they booked, nobody polls, and nobody wakes for nothing.
 *
 * The bucket is one number, "vtime": the moment the bucket was (or will
 * be) empty, on CLOCK_MONOTONIC, which every process of a boot shares.
 * At time t it holds min(burst, (t - vtime) * rate) tokens.  The boot id
 * says which boot's clock a file speaks of.
 *
 * The record, 78 octets at offset 0, written whole with pwrite:
 *	"ses-sendmail-rate 1 " BOOT-ID(36) " " VTIME(20 digits, ns) "\n"
 * Anything else (missing, short, another version, another boot, a vtime
 * beyond any booking) is garbage and starts a full bucket.  A file that
 * cannot be used costs one warning and the pacing, never the message.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "extern.h"
#include "pathnames.h"

#define RATE_MAGIC	"ses-sendmail-rate 1 "
#define RATE_MAGIC_LEN	(sizeof(RATE_MAGIC) - 1)
#define RATE_BOOT_LEN	36
#define RATE_NUM_LEN	20
#define RATE_RECLEN	(RATE_MAGIC_LEN + RATE_BOOT_LEN + 1 + RATE_NUM_LEN + 1)
#define RATE_BOOT_ID	"/proc/sys/kernel/random/boot_id"
#define NS		1000000000LL

static int	 rate_fd = -1;
static int	 rate_warned;
static char	 rate_why[256];	/* why the file cannot be used */
static char	 rate_boot[RATE_BOOT_LEN + 1];

static int64_t
rate_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* This boot's id, or 36 '-' when the kernel does not say. */
static void
rate_read_boot(void)
{
	ssize_t n = -1;
	int fd, i;

	memset(rate_boot, '-', RATE_BOOT_LEN);
	rate_boot[RATE_BOOT_LEN] = '\0';
	if ((fd = open(RATE_BOOT_ID, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, rate_boot, RATE_BOOT_LEN);
		(void)close(fd);
	}
	for (i = 0; i < RATE_BOOT_LEN; i++)
		if (n != RATE_BOOT_LEN || !((rate_boot[i] >= '0' &&
		    rate_boot[i] <= '9') || (rate_boot[i] >= 'a' &&
		    rate_boot[i] <= 'f') || rate_boot[i] == '-'))
			rate_boot[i] = '-';
}

static void
rate_unusable(const char *what, int e)
{
	(void)snprintf(rate_why, sizeof(rate_why), "%s%s%s", what,
	    e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
	if (rate_fd != -1)
		(void)close(rate_fd);
	rate_fd = -1;
}

void
rate_open(const struct conf *c)
{
	const char *path = rate_path(c);
	struct stat st;
	int flags;

	if (c->max_send_rate <= 0 || rate_fd != -1)
		return;
	rate_read_boot();
	flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	/* Created only by whoever may: never with the group privilege,
	 * whose folder make install makes for root alone to write. */
	if (getegid() == getgid() && geteuid() == getuid())
		flags |= O_CREAT;
	if ((rate_fd = open(path, flags, 0660)) == -1) {
		rate_unusable("open", errno);
		return;
	}
	if (fstat(rate_fd, &st) == -1)
		rate_unusable("fstat", errno);
	else if (!S_ISREG(st.st_mode))
		rate_unusable("not a regular file", 0);
	else if (st.st_mode & S_IWOTH)
		rate_unusable("writable by others (chmod 0660 it)", 0);
}

const char *
rate_path(const struct conf *c)
{
	return c->rate_file != NULL ? c->rate_file : _PATH_SES_RATE;
}

const char *
rate_problem(const struct conf *c)
{
	if (c->max_send_rate <= 0)
		return NULL;
	if (rate_fd == -1 && rate_why[0] == '\0')
		(void)snprintf(rate_why, sizeof(rate_why), "not opened");
	return rate_fd == -1 ? rate_why : NULL;
}

/* Once per process: this message (and the rest) go unpaced. */
static void
rate_warn(const struct conf *c)
{
	if (rate_warned++)
		return;
	log_warn("rate_file %s: %s: sending without pacing (max_send_rate "
	    "%g); make install creates it root:%s 0660 in a 0750 folder",
	    rate_path(c), rate_why, c->max_send_rate, INSTALL_GROUP);
}

/*
 * The record's vtime, or -1 when the record is not one of ours, of this
 * boot, and within horizon of now (a clock gone back, a forged or torn
 * record).
 */
STATIC int64_t
rate_parse(const char *buf, size_t len, const char *boot, int64_t now,
    int64_t horizon)
{
	int64_t v = 0;
	size_t i;
	const char *p;

	if (len != RATE_RECLEN || memcmp(buf, RATE_MAGIC, RATE_MAGIC_LEN) ||
	    memcmp(buf + RATE_MAGIC_LEN, boot, RATE_BOOT_LEN) ||
	    buf[RATE_MAGIC_LEN + RATE_BOOT_LEN] != ' ' ||
	    buf[RATE_RECLEN - 1] != '\n')
		return -1;
	p = buf + RATE_MAGIC_LEN + RATE_BOOT_LEN + 1;
	for (i = 0; i < RATE_NUM_LEN; i++) {
		if (p[i] < '0' || p[i] > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v > now + horizon ? -1 : v;
}

/*
 * Book n recipients at rate r: the bucket's vtime v (-1: full) becomes
 * *nv, and the turn's time is returned.  The bucket holds at most one
 * second's tokens (at least one); a message with more recipients waits
 * for a full bucket and leaves a debt.  The debt stops at maxdebt past
 * the turn, so that any booking stays within the horizon.
 */
STATIC int64_t
rate_book(int64_t v, int64_t now, double r, size_t n, int64_t maxdebt,
    int64_t *nv)
{
	double burst = r < 1 ? 1 : r;
	int64_t tok = (int64_t)((double)NS / r), start, need;

	if (v < now - (int64_t)(burst * (double)tok))
		v = now - (int64_t)(burst * (double)tok);
	need = (int64_t)((double)n < burst ? (double)n : burst);
	start = v + need * tok;
	if (start < now)
		start = now;
	*nv = v + (int64_t)n * tok;
	if (*nv > start + maxdebt)
		*nv = start + maxdebt;
	return start;
}

static int
rate_lock(int op)
{
	int rv;

	while ((rv = flock(rate_fd, op)) == -1 && errno == EINTR)
		;
	return rv;
}

static void
rate_sleep_until(int64_t t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(t / NS);
	ts.tv_nsec = (long)(t % NS);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/* Write vtime v; -1 with rate_why set on failure. */
static int
rate_write(int64_t v)
{
	char rec[RATE_RECLEN + 1];

	(void)snprintf(rec, sizeof(rec), "%s%s %020lld\n", RATE_MAGIC,
	    rate_boot, (long long)v);
	if (pwrite(rate_fd, rec, RATE_RECLEN, 0) != (ssize_t)RATE_RECLEN) {
		rate_unusable("write", errno == 0 ? EIO : errno);
		return -1;
	}
	return 0;
}

int
rate_take(const struct conf *c, size_t n, double left, struct fail *f)
{
	char buf[RATE_RECLEN + 1];
	int64_t now, v, nv, start, dl, span;
	ssize_t got;

	if (c->max_send_rate <= 0 || n == 0)
		return 0;
	if (rate_fd == -1 || rate_lock(LOCK_EX) == -1) {
		if (rate_fd != -1)
			rate_unusable("flock", errno);
		rate_warn(c);
		return 0;
	}
	now = rate_now();
	span = (int64_t)c->retry_deadline * NS;
	dl = now + (int64_t)(left * (double)NS);
	got = pread(rate_fd, buf, sizeof(buf), 0);
	v = rate_parse(buf, got < 0 ? 0 : (size_t)got, rate_boot, now,
	    2 * span + NS);
	/* A bad record goes; the one written below replaces it. */
	if (v == -1 && got != 0 && ftruncate(rate_fd, 0) == -1) {
		rate_unusable("ftruncate", errno);
		rate_warn(c);
		return 0;
	}
	start = rate_book(v, now, c->max_send_rate, n, span, &nv);
	if (start > dl) {
		(void)rate_lock(LOCK_UN);
		fail_set(f, FAIL_RATE, SMTP_STAGE_NONE, "the host's send rate "
		    "(max_send_rate %g) is booked for the next %.1f s: this "
		    "message's turn would come after retry_deadline (%d s); "
		    "raise max_send_rate to the account's rate, or "
		    "retry_deadline", c->max_send_rate,
		    (double)(start - now) / NS, c->retry_deadline);
		return -1;
	}
	if (rate_write(nv) == -1) {
		rate_warn(c);
		return 0;
	}
	(void)rate_lock(LOCK_UN);
	rate_sleep_until(start);
	return 0;
}
