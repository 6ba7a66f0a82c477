/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Logging: syslog (facility mail, ident ses-sendmail) and stderr; the
 * -v transcript with AUTH redaction; the one summary line per message.
 * Nothing here ever receives a secret except log_smtp(), which masks it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "extern.h"

static enum conf_log log_mode = CONF_LOG_SYSLOG;
static int log_verbose;
static int log_opened;
/* After "AUTH LOGIN" the next two client lines are credentials. */

void
log_init(enum conf_log mode, int verbose)
{
	log_mode = mode;
	log_verbose = verbose;
	if (!log_opened && mode == CONF_LOG_SYSLOG) {
		openlog(SES_PROGNAME, LOG_PID, LOG_MAIL);
		log_opened = 1;
	}
}

/*
 * Every line for stderr and syslog is formatted here, then made printable:
 * a caller's argument, a configuration value, a header or an address may
 * hold a newline (a forged log line), an escape sequence (terminal
 * control) or invalid UTF-8, and whatever the call site forgot, this
 * catches.  Bounded; "..." marks a cut.
 */
static void __attribute__((format(printf, 3, 0)))
log_format(char *line, size_t len, const char *fmt, va_list ap)
{
	int n;

	if ((n = vsnprintf(line, len, fmt, ap)) < 0)
		n = 0;
	if ((size_t)n >= len)
		n = (int)len - 1;
	/* In place: each octet is replaced by one octet. */
	log_sanitize(line, len, line, (size_t)n);
	if ((size_t)n == len - 1 && len > 4)
		(void)memcpy(line + n - 3, "...", 3);
}

/* One formatted line to its sinks: stderr when asked, syslog by mode. */
static void
log_emit(int prio, int to_stderr, const char *line)
{
	if (to_stderr)
		fprintf(stderr, SES_PROGNAME ": %s\n", line);
	if (log_mode != CONF_LOG_SYSLOG)
		return;
	if (!log_opened) {
		openlog(SES_PROGNAME, LOG_PID, LOG_MAIL);
		log_opened = 1;
	}
	syslog(prio, "%s", line);
}

void
log_warn(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_emit(LOG_WARNING, log_mode == CONF_LOG_STDERR || log_verbose,
	    line);
}

void
log_info(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_emit(LOG_INFO, log_mode == CONF_LOG_STDERR, line);
}

void
log_error(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_emit(LOG_ERR, 1, line);
}

void
log_trace(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	log_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

void
log_sanitize(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t i, j;
	unsigned char ch;

	if (dstlen == 0)
		return;
	for (i = 0, j = 0; i < len && j + 1 < dstlen; i++) {
		ch = (unsigned char)src[i];
		dst[j++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[j] = '\0';
}

void
log_excerpt(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t n;

	if (dstlen == 0)
		return;
	n = len > LOG_EXCERPT ? LOG_EXCERPT : len;
	log_sanitize(dst, dstlen, src, n);
	if (n < len)
		(void)strlcat(dst, "...", dstlen);
}

int
log_reason(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	/* A cut message is still a message: truncation is harmless. */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The one place the dialogue is logged (-v).  The caller says how much of
 * a line may be shown: an AUTH command keeps its verb and mechanism, and
 * a credential line (the PLAIN initial response, the LOGIN user name and
 * password) shows nothing; the rest becomes "***".
 */
void
log_smtp(int dir, const char *line, size_t len, size_t shown)
{
	char buf[SES_FAIL_TEXT];

	if (!log_verbose)
		return;
	if (shown >= len) {
		log_sanitize(buf, sizeof(buf), line, len);
		fprintf(stderr, "%c %s\n", dir, buf);
		return;
	}
	log_sanitize(buf, sizeof(buf), line, shown);
	fprintf(stderr, "%c %s%s***\n", dir, buf, shown > 0 ? " " : "");
}

/* The SES message id as it appears in the delivered Message-ID. */
static void
log_sesid(char *buf, size_t len, const struct result *r,
    const struct conf *c)
{
	const char *region = c->region ? c->region : "us-east-1";

	if (r->id[0] == '\0')
		buf[0] = '\0';
	else if (strcmp(region, "us-east-1") == 0)
		(void)snprintf(buf, len, " id=<%s@email.amazonses.com>", r->id);
	else
		(void)snprintf(buf, len, " id=<%s@%s.amazonses.com>", r->id,
		    region);
}

/*
 * from=<s> to=<a>,<b> size=N relay=HOST[IP]:PORT attempts=N delay=S
 * status=sent (reply) id=<...>: Postfix's shape, so log tools know it.
 * Only the first recipients are listed when there are many.
 */
void
log_summary(const struct plan *p, const struct result *r,
    const struct conf *c)
{
	char to[1024], id[200], reply[SES_FAIL_TEXT + 40];
	size_t i;

	to[0] = '\0';
	for (i = 0; i < p->rcpts.n; i++) {
		/* Keep room for the "... (N in all)" tail. */
		if (strlen(to) + strlen(p->rcpts.v[i].addr) + 4 >
		    sizeof(to) - 32) {
			(void)snprintf(to + strlen(to), sizeof(to) - strlen(to),
			    ",... (%zu in all)", p->rcpts.n);
			break;
		}
		(void)snprintf(to + strlen(to), sizeof(to) - strlen(to),
		    "%s<%s>", i > 0 ? "," : "", p->rcpts.v[i].addr);
	}
	log_sesid(id, sizeof(id), r, c);
	if (r->fail.kind == FAIL_NONE)
		(void)snprintf(reply, sizeof(reply), r->via_api ?
		    "200 MessageId %s" : "250 Ok %s", r->id);
	else
		(void)snprintf(reply, sizeof(reply), "%s", r->fail.text);
	log_info("from=<%s> to=%s size=%lld relay=%s attempts=%d "
	    "delay=%.2f status=%s (%s)%s%s", p->sender, to, p->size,
	    r->relay[0] ? r->relay : "none", r->attempts, r->delay,
	    fail_status(&r->fail), reply, id,
	    r->possible_dup ? " possible-duplicate" : "");
}
