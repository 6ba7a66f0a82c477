/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The attempt loop (design.md 7): each attempt is a new connection (a new
 * name resolution, every address tried); the recipients go in
 * transactions of at most max_recipients on that connection, and a
 * transaction once accepted is never sent again.  Between attempts,
 * retry_delays jittered by up to 25%, all inside retry_deadline.  What
 * is worth retrying is decided in fail.c.  SES's sending rate is another
 * matter ("Sending rate"): a throttled attempt uses up no delay but waits
 * an exponential backoff with full jitter, and with max_send_rate each
 * message first takes its turn in the host's bucket (rate.c).
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

/* d seconds, give or take up to 25%, so callers do not retry in step. */
STATIC double
retry_jitter(double d)
{
	return d * (0.75 + 0.5 * ((double)arc4random_uniform(10001) / 10000));
}

/*
 * The wait after the n-th throttle in a row (from 0): anywhere between 0
 * and min(16 s, 1 s * 2^n), evenly ("full jitter"), so that processes
 * throttled together spread over the whole window.
 */
#define RETRY_BACKOFF_BASE	1.0
#define RETRY_BACKOFF_CAP	16.0

STATIC double
retry_backoff(int n)
{
	double w = RETRY_BACKOFF_BASE;

	while (n-- > 0 && w < RETRY_BACKOFF_CAP)
		w *= 2;
	if (w > RETRY_BACKOFF_CAP)
		w = RETRY_BACKOFF_CAP;
	return w * ((double)arc4random() / 4294967296.0);
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
STATIC size_t
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
 * it closes a session idle for ~10 s (ses.md 6.6), and a long-lived one
 * may sit on an instance being replaced (ses.md 10).
 */
#define RETRY_IDLE_MAX	8.0

/* Is l open, and not an API connection SES has closed meanwhile? */
static int
retry_link_open(struct link *l)
{
	return l->smtp != NULL || (l->api != NULL && api_reusable(l->api));
}

static void
retry_link_close(struct link *l)
{
	smtp_close(l->smtp);
	api_close(l->api);
	l->smtp = NULL;
	l->api = NULL;
}

static int
retry_session_fresh(const struct conf *c, struct session *ss,
    enum conf_transport via)
{
	double now = retry_elapsed();

	return ss != NULL && retry_link_open(&ss->l) &&
	    (via == CONF_TRANSPORT_API) == (ss->l.api != NULL) &&
	    ss->nmsgs < c->max_messages_per_connection &&
	    now - ss->opened < (double)c->max_connection_age &&
	    now - ss->used < RETRY_IDLE_MAX;
}

void
retry_session_close(struct session *ss)
{
	if (ss != NULL)
		retry_link_close(&ss->l);
}

/* One attempt's state and outcome. */
struct attempt {
	int		 verbose;
	enum conf_transport via;	/* this message's transport */
	int		 reused;	/* the kept session, not a new one */
	struct fail	 fail;		/* why the attempt failed */
	struct fail	 refused;	/* a recipient refused: no failure */
};

/* A new connection by a->via. */
static int
retry_link_new(const struct conf *c, struct link *l, struct result *r,
    struct attempt *a)
{
	memset(l, 0, sizeof(*l));
	if (a->via == CONF_TRANSPORT_API)
		l->api = api_open(c, r->relay, sizeof(r->relay), &a->fail);
	else
		l->smtp = smtp_open(c, a->verbose, r->relay,
		    sizeof(r->relay), &a->fail);
	return l->smtp != NULL || l->api != NULL ? 0 : -1;
}

/*
 * No SMTP connection on any address (refused, silent, closed before the
 * greeting) while the API's keys are there: this message goes by the API
 * (api_fallback, design.md 12), through firewalls that block SMTP.
 */
static int
retry_fallback(const struct conf *c, struct attempt *a)
{
	const struct fail *f = &a->fail;

	if (a->via != CONF_TRANSPORT_SMTP || !c->api_ok || !c->api_fallback ||
	    f->kind != FAIL_NET || (f->stage != SMTP_STAGE_CONNECT &&
	    f->stage != SMTP_STAGE_GREETING))
		return 0;
	log_warn("no SMTP connection to %s (%s): sending through the SES "
	    "API at %s instead (api_fallback)", c->host, f->text,
	    c->api_endpoint);
	a->via = CONF_TRANSPORT_API;
	memset(&a->fail, 0, sizeof(a->fail));
	return 1;
}

/* Connect, or take the kept session while SES would still keep it. */
static int
retry_connect(const struct conf *c, struct session *ss, struct result *r,
    struct attempt *a, struct link *l)
{
	if ((a->reused = retry_session_fresh(c, ss, a->via))) {
		(void)strlcpy(r->relay, ss->relay, sizeof(r->relay));
		*l = ss->l;
		return 0;
	}
	retry_session_close(ss);
	if (retry_link_new(c, l, r, a) == -1 && (!retry_fallback(c, a) ||
	    retry_link_new(c, l, r, a) == -1))
		return -1;
	if (ss != NULL) {
		ss->l = *l;
		ss->opened = retry_elapsed();
		ss->nmsgs = 0;
		(void)strlcpy(ss->relay, r->relay, sizeof(ss->relay));
	}
	return 0;
}

static int
retry_link_send(struct link *l, struct plan *p, struct txn *t)
{
	return l->api != NULL ? api_send(l->api, p, t) :
	    smtp_send(l->smtp, p, t);
}

/*
 * One attempt: connect (or reuse the open session), then transactions
 * until every recipient is done (accepted or refused).  Returns 0, or -1
 * with a->fail set; a->refused collects a recipient refusal, which does
 * not fail the attempt.
 */
static int
retry_attempt(const struct conf *c, struct plan *p, struct session *ss,
    struct result *r, struct attempt *a)
{
	struct link l;
	struct txn t;
	size_t *idx, i;
	int rv = 0;

	if (retry_connect(c, ss, r, a, &l) == -1)
		return -1;
	r->via_api = l.api != NULL;
	if ((idx = reallocarray(NULL, (size_t)c->max_recipients,
	    sizeof(*idx))) == NULL) {
		fail_set(&a->fail, FAIL_OS, SMTP_STAGE_MAIL, "out of memory");
		rv = -1;
	}
	memset(&t, 0, sizeof(t));
	t.idx = idx;
	t.refused = &a->refused;
	while (rv == 0 && (t.n = retry_next_batch(p,
	    (size_t)c->max_recipients, idx)) > 0) {
		if ((rv = retry_link_send(&l, p, &t)) == -1) {
			a->fail = t.fail;
			break;
		}
		for (i = 0; i < t.n; i++)
			if (p->done[idx[i]] == 0)
				p->done[idx[i]] = 1;
		if (rv == 0) {
			(void)strlcpy(r->id, t.id, sizeof(r->id));
			r->ntx_ok++;
		}
		rv = 0;
	}
	free(idx);
	if (ss == NULL || rv == -1) {
		retry_link_close(&l);
		if (ss != NULL)
			memset(&ss->l, 0, sizeof(ss->l));
	} else {
		ss->nmsgs++;
		ss->used = retry_elapsed();
	}
	return rv;
}

/*
 * The wait before the next attempt after f, or -1 when there is none:
 * not retryable, out of retry_delays, or past the deadline.  A throttle
 * uses up no delay; its backoff window is cut to the time left, so that
 * no wait ends past the deadline (design.md 7).
 */
static double
retry_wait(const struct conf *c, const struct fail *f, int *ndelays,
    int *nthrottles, double left)
{
	double w;

	if (fail_throttled(f)) {
		w = retry_backoff((*nthrottles)++);
		if (left <= 0.05)
			return -1;
		return w < left - 0.05 ? w : (left - 0.05) *
		    ((double)arc4random() / 4294967296.0);
	}
	if ((size_t)*ndelays >= c->nretry_delays)
		return -1;
	w = retry_jitter(c->retry_delays[(*ndelays)++]);
	return w < left ? w : -2;
}

static double
retry_left(const struct conf *c, const struct result *r)
{
	return (double)c->retry_deadline - (retry_elapsed() - r->start);
}

int
retry_submit(const struct conf *c, struct plan *p, int verbose,
    struct session *ss, struct result *r)
{
	struct attempt a;
	struct fail f;
	double wait;
	int ndelays = 0, nthrottles = 0;

	memset(&a, 0, sizeof(a));
	a.verbose = verbose;
	a.via = c->transport;
	/* The host's turn first: every recipient counts (rate.c). */
	if (rate_take(c, p->rcpts.n, retry_left(c, r), &r->fail) == -1) {
		r->delay = retry_elapsed() - r->start;
		return -1;
	}
	for (r->attempts = 1;; r->attempts++) {
		memset(&a.fail, 0, sizeof(a.fail));
		if (retry_attempt(c, p, ss, r, &a) == 0)
			break;
		f = a.fail;
		/* Expired temporary keys: new ones, once, and again at once. */
		if (r->via_api && awscreds_renew(&f) == 1) {
			r->attempts--;
			continue;
		}
		if (a.reused && fail_session_closed(&f)) {
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
		if (!fail_retryable(&f) ||
		    (f.after_data && !c->retry_after_data)) {
			r->fail = f;
			break;
		}
		wait = retry_wait(c, &f, &ndelays, &nthrottles,
		    retry_left(c, r));
		if (wait == -1) {
			if (fail_throttled(&f))
				log_warn("attempt %d via %s throttled at %s: "
				    "%s; no time left before retry_deadline "
				    "(%d s)", r->attempts, r->relay,
				    fail_stage_name(f.stage), f.text,
				    c->retry_deadline);
			r->fail = f;
			break;
		}
		/* No wait begins that would end past the deadline. */
		if (wait < 0) {
			log_warn("attempt %d via %s failed at %s: %s; no time "
			    "left before retry_deadline (%d s)", r->attempts,
			    r->relay, fail_stage_name(f.stage), f.text,
			    c->retry_deadline);
			r->fail = f;
			break;
		}
		log_warn("attempt %d via %s %s at %s: %s; next attempt in "
		    "%.1f s", r->attempts, r->relay, fail_throttled(&f) ?
		    "throttled" : "failed", fail_stage_name(f.stage), f.text,
		    wait);
		retry_sleep(wait);
	}
	/* A recipient refusal stands when the rest went through. */
	if (r->fail.kind == FAIL_NONE && a.refused.kind != FAIL_NONE)
		r->fail = a.refused;
	r->delay = retry_elapsed() - r->start;
	return r->fail.kind == FAIL_NONE ? 0 : -1;
}
