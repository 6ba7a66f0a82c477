/*
 * The attempt loop (SPEC 7): each attempt is a new connection (a new
 * name resolution, every address tried); the recipients go in
 * transactions of at most max_recipients on that connection, and a
 * transaction once accepted is never sent again.  Between attempts,
 * retry_delays jittered by up to 25%, all inside retry_deadline.  What
 * is worth retrying is decided by the table in exitcode.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

static struct timespec retry_t0;

void
retry_start_clock(void)
{
	(void)clock_gettime(CLOCK_MONOTONIC, &retry_t0);
}

double
retry_elapsed(void)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - retry_t0.tv_sec) +
	    (double)(now.tv_nsec - retry_t0.tv_nsec) / 1e9;
}

int
retry_is_transient(const struct fail *f)
{
	return exitcode_transient(f);
}

/* d seconds, give or take up to 25%, so callers do not retry in step. */
STATIC double
retry_jitter(double d)
{
	return d * (0.75 + 0.5 * ((double)arc4random_uniform(10001) / 10000));
}

static void
retry_sleep(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * The recipients not yet done, up to max: their indices into idx.
 * Returns how many.
 */
static size_t
retry_next_batch(const struct plan *p, size_t max, size_t *idx)
{
	size_t i, n = 0;

	for (i = 0; i < p->rcpts.n && n < max; i++)
		if (p->done[i] == 0)
			idx[n++] = i;
	return n;
}

/*
 * Keep an open session for the next message (-bs) only while SES would:
 * it closes a session idle for ~10 s (SES.md 6.6), and a long-lived one
 * may sit on an instance being replaced (SES.md 10).
 */
#define RETRY_IDLE_MAX	8.0

static int
retry_session_fresh(const struct conf *c, const struct session *ss)
{
	double now = retry_elapsed();

	return ss != NULL && ss->s != NULL &&
	    ss->nmsgs < c->max_messages_per_connection &&
	    now - ss->opened < (double)c->max_connection_age &&
	    now - ss->used < RETRY_IDLE_MAX;
}

void
retry_session_close(struct session *ss)
{
	if (ss == NULL)
		return;
	smtp_close(ss->s);
	ss->s = NULL;
}

/*
 * One attempt: connect (or reuse the open session), then transactions
 * until every recipient is done (accepted or refused).  Returns 0, or -1
 * with f set.  rf collects a recipient refusal, which does not fail the
 * attempt.  *reused tells whether the session was an old one.
 */
static int
retry_attempt(const struct conf *c, struct plan *p, int verbose,
    struct session *ss, struct result *r, struct fail *f, struct fail *rf,
    int *reused)
{
	struct smtp *s;
	size_t *idx, n, i;
	int rv = 0;

	*reused = retry_session_fresh(c, ss);
	if (*reused) {
		s = ss->s;
		(void)strlcpy(r->relay, ss->relay, sizeof(r->relay));
	} else {
		retry_session_close(ss);
		if ((s = smtp_open(c, verbose, r->relay, sizeof(r->relay),
		    f)) == NULL)
			return -1;
		if (ss != NULL) {
			ss->s = s;
			ss->opened = retry_elapsed();
			ss->nmsgs = 0;
			(void)strlcpy(ss->relay, r->relay, sizeof(ss->relay));
		}
	}
	if ((idx = reallocarray(NULL, (size_t)c->max_recipients,
	    sizeof(*idx))) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_MAIL, "out of memory");
		rv = -1;
	}
	while (rv == 0 &&
	    (n = retry_next_batch(p, (size_t)c->max_recipients, idx)) > 0) {
		rv = smtp_send(s, p, idx, n, r->id, sizeof(r->id), f, rf);
		if (rv == -1)
			break;
		for (i = 0; i < n; i++)
			if (p->done[idx[i]] == 0)
				p->done[idx[i]] = 1;
		if (rv == 0)
			r->ntx_ok++;
		rv = 0;
	}
	free(idx);
	if (ss == NULL || rv == -1) {
		smtp_close(s);
		if (ss != NULL)
			ss->s = NULL;
	} else {
		ss->nmsgs++;
		ss->used = retry_elapsed();
	}
	return rv;
}

int
retry_submit(const struct conf *c, struct plan *p, int verbose,
    struct session *ss, struct result *r)
{
	struct fail f, rf;
	double wait;
	size_t max_attempts;
	int reused;

	memset(&rf, 0, sizeof(rf));
	max_attempts = c->nretry_delays + 1;
	for (r->attempts = 1;; r->attempts++) {
		memset(&f, 0, sizeof(f));
		if (retry_attempt(c, p, verbose, ss, r, &f, &rf, &reused) == 0)
			break;
		/* A kept session SES closed meanwhile (421, or its idle
		 * "451 4.4.2 Timeout") costs no attempt. */
		if (reused && f.stage == SMTP_STAGE_MAIL &&
		    (f.kind == FAIL_NET || f.kind == FAIL_PROTOCOL ||
		    (f.kind == FAIL_REPLY && (f.code == 421 ||
		    strstr(f.text, "451 4.4.2") != NULL)))) {
			log_warn("the kept session to %s was closed: %s; "
			    "reconnecting", r->relay, f.text);
			r->attempts--;
			continue;
		}
		if (f.after_data) {
			r->possible_dup = 1;
			log_warn("connection to %s lost after the final dot: "
			    "SES may have accepted the message; %s", r->relay,
			    c->retry_after_data ? "sending it again may "
			    "duplicate it" : "not sent again "
			    "(retry_after_data no)");
		}
		if (!exitcode_retryable(&f) ||
		    (f.after_data && !c->retry_after_data) ||
		    (size_t)r->attempts >= max_attempts) {
			r->fail = f;
			break;
		}
		wait = retry_jitter(c->retry_delays[r->attempts - 1]);
		/* No wait begins that would end past the deadline. */
		if (retry_elapsed() - r->start + wait >=
		    (double)c->retry_deadline) {
			log_warn("attempt %d via %s failed at %s: %s; no time "
			    "left before retry_deadline (%d s)", r->attempts,
			    r->relay, exitcode_stage_name(f.stage), f.text,
			    c->retry_deadline);
			r->fail = f;
			break;
		}
		log_warn("attempt %d via %s failed at %s: %s; next attempt in "
		    "%.1f s", r->attempts, r->relay,
		    exitcode_stage_name(f.stage), f.text, wait);
		retry_sleep(wait);
	}
	/* A recipient refusal stands when the rest went through. */
	if (r->fail.kind == FAIL_NONE && rf.kind != FAIL_NONE)
		r->fail = rf;
	r->delay = retry_elapsed() - r->start;
	return r->fail.kind == FAIL_NONE ? 0 : -1;
}
