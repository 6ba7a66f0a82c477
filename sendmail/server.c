/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * -bs: the server side of SMTP on stdin and stdout (RFC 5321), as
 * Symfony Mailer and Laravel speak it to "sendmail -bs".  Each message
 * accepted with DATA is spooled, planned and submitted to SES before the
 * reply to its final dot, and that reply carries SES's verdict: 250 with
 * the SES id, 4xx when transient after the retries, 5xx when permanent.
 * One SES session serves consecutive messages (retry.c keeps it fresh).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "extern.h"

#define SRV_CMD_MAX	1000	/* a command line; RFC 5321 4.5.3.1.4: 512 */
#define SRV_BUF		65536	/* input buffer; longer data lines stream */
#define SRV_IDLE	300	/* seconds a client may say nothing */
/* Memory ran out (RFC 5321 4.2.3: 452, insufficient system storage). */
#define SRV_OOM		"452 4.3.1 Insufficient system storage: %s"

enum srv_state {
	SRV_STATE_GREETED = 0,	/* waiting for EHLO or HELO */
	SRV_STATE_READY,	/* between transactions */
	SRV_STATE_MAIL,		/* MAIL given */
	SRV_STATE_RCPT		/* one RCPT or more given */
};

struct server {
	const struct conf	*c;
	struct plan_opts	 po;		/* the command line's part */
	int			 verbose;
	enum srv_state		 state;
	char			 sender[SES_MAX_ADDR + 1];
	int			 body;		/* MAIL BODY=: 0, 7 or 8 */
	char		       **rcpts;
	size_t			 nrcpts;
	struct session		 ss;
	char			 buf[SRV_BUF];
	size_t			 pos, len;
	int			 eof;
	int			 crlf;		/* last line ended in CR LF */
};

static void __attribute__((format(printf, 2, 3)))
srv_reply(struct server *sv, const char *fmt, ...)
{
	char line[512], clean[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line, printable: SES text and our own may hold anything. */
	log_sanitize(clean, sizeof(clean), line, strlen(line));
	if (sv->verbose)
		log_trace("-bs> %s", clean);
	printf("%s\r\n", clean);
	(void)fflush(stdout);
}

/*
 * How an input line ended.  Only CR LF counts for the end of DATA (RFC
 * 5321 4.1.1.4): a bare LF is taken for a line end elsewhere, but a
 * receiver that ended DATA on it could be made to read part of a
 * message as commands (SMTP smuggling).
 */
enum srv_eol {
	SRV_EOL_PART = 0,	/* longer than the buffer: the line goes on */
	SRV_EOL_EOF,		/* the input ended without a line end */
	SRV_EOL_LF,		/* a bare LF */
	SRV_EOL_CRLF
};

/*
 * The next line from what was read, without its line end (the CR only
 * when right before the LF); 0 when none is complete yet.  A full buffer
 * is handed out as a part, keeping a final CR back: it may be the CR of
 * a CR LF whose LF has not been read yet.
 */
static int
srv_take(struct server *sv, char **lp, size_t *lenp, enum srv_eol *eol)
{
	char *p = sv->buf + sv->pos, *nl;
	size_t avail = sv->len - sv->pos, n;

	if ((nl = memchr(p, '\n', avail)) != NULL) {
		n = (size_t)(nl - p);
		sv->pos += n + 1;
		*eol = n > 0 && p[n - 1] == '\r' ? SRV_EOL_CRLF : SRV_EOL_LF;
		if (*eol == SRV_EOL_CRLF)
			n--;
	} else if (sv->eof && avail > 0) {
		sv->pos += avail;
		n = avail - (p[avail - 1] == '\r' ? 1 : 0);
		*eol = SRV_EOL_EOF;
	} else if (sv->pos == 0 && sv->len == sizeof(sv->buf)) {
		n = avail - (p[avail - 1] == '\r' ? 1 : 0);
		sv->pos += n;
		*eol = SRV_EOL_PART;
	} else
		return 0;
	if (*eol != SRV_EOL_PART)
		sv->crlf = *eol == SRV_EOL_CRLF;
	*lp = p;
	*lenp = n;
	return 1;
}

/* Read more input: 0, or -1 on error or SRV_IDLE seconds of silence. */
static int
srv_fill(struct server *sv)
{
	struct pollfd pfd;
	ssize_t n;

	memmove(sv->buf, sv->buf + sv->pos, sv->len - sv->pos);
	sv->len -= sv->pos;
	sv->pos = 0;
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	if ((n = poll(&pfd, 1, SRV_IDLE * 1000)) == 0)
		return -1;
	if (n == -1 && errno != EINTR)
		return -1;
	n = read(STDIN_FILENO, sv->buf + sv->len, sizeof(sv->buf) - sv->len);
	if (n == 0)
		sv->eof = 1;
	else if (n > 0)
		sv->len += (size_t)n;
	else if (errno != EINTR && errno != EAGAIN)
		return -1;
	return 0;
}

/*
 * The next input line: 1 with *lp, *lenp and *eol set, 0 at EOF, -1 on
 * error or when the client is silent for SRV_IDLE.
 */
static int
srv_line(struct server *sv, char **lp, size_t *lenp, enum srv_eol *eol)
{
	while (!srv_take(sv, lp, lenp, eol)) {
		if (sv->eof)
			return 0;
		if (srv_fill(sv) == -1)
			return -1;
	}
	return 1;
}

static void
srv_reset(struct server *sv)
{
	size_t i;

	for (i = 0; i < sv->nrcpts; i++)
		free(sv->rcpts[i]);
	sv->nrcpts = 0;
	sv->sender[0] = '\0';
	sv->body = 0;
	if (sv->state != SRV_STATE_GREETED)
		sv->state = SRV_STATE_READY;
}

/* The path of "MAIL FROM:<...>" or "RCPT TO:<...>"; NULL if malformed. */
static char *
srv_path(char *arg, const char *prefix, char **params)
{
	size_t n = strlen(prefix);
	char *p, *end;

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	p = arg + n;
	p += strspn(p, " ");
	if (*p != '<' || (end = strchr(p, '>')) == NULL)
		return NULL;
	*end = '\0';
	*params = end + 1;
	return p + 1;
}

static void
srv_mail(struct server *sv, char *arg)
{
	char err[SES_FAIL_TEXT], *path, *params, *tok;
	const char *errstr;
	long long size;
	int rv;

	if (sv->state != SRV_STATE_READY) {
		srv_reply(sv, "503 5.5.1 %s", sv->state == SRV_STATE_GREETED ?
		    "Send EHLO or HELO first" : "Nested MAIL command");
		return;
	}
	if ((path = srv_path(arg, "FROM:", &params)) == NULL) {
		srv_reply(sv, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if ((rv = addr_parse_sender(path, sv->sender, sizeof(sv->sender),
	    err, sizeof(err))) != 0) {
		srv_reply(sv, rv == -2 ? SRV_OOM : "501 5.1.7 Bad sender "
		    "address: %s", err);
		return;
	}
	sv->body = sv->po.body;
	while ((tok = strsep(&params, " ")) != NULL) {
		if (strcasecmp(tok, "BODY=8BITMIME") == 0)
			sv->body = 8;
		else if (strcasecmp(tok, "BODY=7BIT") == 0)
			sv->body = 7;
		else if (strncasecmp(tok, "SIZE=", 5) == 0) {
			size = strtonum(tok + 5, 0, LLONG_MAX, &errstr);
			if (errstr == NULL && size > sv->c->max_message_size) {
				srv_reply(sv, "552 5.3.4 Message too big: at "
				    "most %lld octets",
				    sv->c->max_message_size);
				return;
			}
		}
		/* Other parameters (RET=, ENVID=) ask for DSN: ignored. */
	}
	sv->state = SRV_STATE_MAIL;
	srv_reply(sv, "250 2.1.0 Ok");
}

static void
srv_rcpt(struct server *sv, char *arg)
{
	struct addrlist l = { NULL, 0, 0 };
	char err[SES_FAIL_TEXT], *path, *params, **v;
	int rv;

	if (sv->state != SRV_STATE_MAIL && sv->state != SRV_STATE_RCPT) {
		srv_reply(sv, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if ((path = srv_path(arg, "TO:", &params)) == NULL) {
		srv_reply(sv, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if ((rv = addr_parse_list(path, strlen(path), &l, err,
	    sizeof(err))) == -2) {
		srv_reply(sv, SRV_OOM, err);
		return;
	}
	if (rv == -1 || l.n != 1) {
		srv_reply(sv, "501 5.1.3 Bad recipient address%s%s",
		    l.n > 1 ? "" : ": ", l.n > 1 ? "" : err);
		addr_free(&l);
		return;
	}
	if (addr_is_local(l.v[0].addr) && sv->c->admin_address == NULL) {
		srv_reply(sv, "550 5.1.1 <%s>: local recipient, and no "
		    "admin_address is set", l.v[0].addr);
		addr_free(&l);
		return;
	}
	if (sv->nrcpts >= SES_MAX_RCPTS || (v = reallocarray(sv->rcpts,
	    sv->nrcpts + 1, sizeof(*v))) == NULL) {
		srv_reply(sv, "452 4.5.3 Too many recipients");
		addr_free(&l);
		return;
	}
	sv->rcpts = v;
	if ((v[sv->nrcpts] = strdup(l.v[0].addr)) == NULL) {
		srv_reply(sv, "452 4.3.0 Out of memory");
		addr_free(&l);
		return;
	}
	sv->nrcpts++;
	sv->state = SRV_STATE_RCPT;
	addr_free(&l);
	srv_reply(sv, "250 2.1.5 Ok");
}

/* The reply to the final dot from the outcome (fail.c decides). */
static void
srv_verdict(struct server *sv, const struct result *r)
{
	const struct fail *f = &r->fail;
	int code;

	/*
	 * SES's own form, "250 Ok ID": Symfony Mailer reads the id from
	 * exactly that (SmtpTransport::parseMessageId), so no enhanced
	 * status code before "Ok", and none is offered in EHLO.
	 */
	if (f->kind == FAIL_NONE || fail_partial(r)) {
		srv_reply(sv, "250 Ok %s", r->id);
		return;
	}
	code = fail_reply_code(f);
	srv_reply(sv, "%d %d.0.0 ses-sendmail: %s", code, code / 100,
	    f->text);
}

/* Hand the spooled message to SES and answer the final dot. */
static void
srv_submit(struct server *sv, struct msg *m)
{
	struct plan_opts po = sv->po;
	struct result r;
	struct plan p;

	memset(&r, 0, sizeof(r));
	/*
	 * Each message is a submission of its own: retry_deadline and the
	 * logged delay count from its final dot, not from the start of the
	 * session (else a session older than retry_deadline would get no
	 * retry at all).
	 */
	r.start = retry_elapsed();
	po.sender = sv->sender;
	po.rcpts = sv->rcpts;
	po.nrcpts = sv->nrcpts;
	po.extract = 0;
	po.body = sv->body;
	if (plan_build(sv->c, &po, m, &p, &r.fail) == -1) {
		log_warn("message refused: %s", r.fail.text);
		srv_verdict(sv, &r);
		plan_free(&p);
		return;
	}
	(void)retry_submit(sv->c, &p, sv->verbose, &sv->ss, &r);
	log_summary(&p, &r, sv->c);
	if (fail_partial(&r))
		log_warn("SES accepted the message for some recipients only: "
		    "%s", r.fail.text);
	srv_verdict(sv, &r);
	plan_free(&p);
}

/*
 * The end of DATA is CR LF "." CR LF and nothing else (RFC 5321
 * 4.1.1.4), the CR LF before the dot being the previous line's (the
 * DATA command's for the first line).  A dot line ended otherwise, or
 * after a bare LF, is content: it reaches SES dot-stuffed, so it can end
 * neither this DATA nor SES's.
 */
static int
srv_data_end(int bol, int prev_crlf, const char *line, size_t len,
    enum srv_eol eol)
{
	return bol && prev_crlf && eol == SRV_EOL_CRLF && len == 1 &&
	    line[0] == '.';
}

/*
 * DATA: read to the end of data, undoing the dot-stuffing (RFC 5321
 * 4.5.2: a leading dot followed by text was doubled), into a spool; then
 * submit.  A lone dot that is not the end stays a dot, also when a bare
 * CR follows it.  Returns -1 when the input ended before the end of data
 * (nothing is sent).
 */
static int
srv_data(struct server *sv)
{
	struct spooler *sp;
	struct fail f;
	struct msg m;
	enum srv_eol eol;
	char *line;
	size_t len;
	int bol = 1, prev, rv, bad = 0;

	memset(&f, 0, sizeof(f));
	if ((sp = msg_spool_open(1, sv->c->max_message_size, &m, &f)) ==
	    NULL) {
		srv_reply(sv, "451 4.3.0 ses-sendmail: %s", f.text);
		return 0;
	}
	srv_reply(sv, "354 End data with <CR><LF>.<CR><LF>");
	for (;;) {
		prev = sv->crlf;
		if ((rv = srv_line(sv, &line, &len, &eol)) != 1 ||
		    srv_data_end(bol, prev, line, len, eol))
			break;
		if (bol && len > 1 && line[0] == '.' && line[1] != '\r') {
			line++;
			len--;
		}
		/* After a refusal, read on to the end and drop the rest. */
		if (!bad && (msg_spool_write(sp, line, len, &f) == -1 ||
		    (eol != SRV_EOL_PART && msg_spool_write(sp, "\n", 1,
		    &f) == -1)))
			bad = 1;
		bol = eol != SRV_EOL_PART;
	}
	if (rv != 1 || bad) {
		if (rv == 1)
			srv_reply(sv, "%s ses-sendmail: %s", f.kind ==
			    FAIL_DATA ? "554 5.6.0" : "451 4.3.0", f.text);
		(void)msg_spool_close(sp, &f);
		msg_free(&m);
		return rv == 1 ? 0 : -1;
	}
	if (msg_spool_close(sp, &f) == -1) {
		srv_reply(sv, "%s ses-sendmail: %s", f.kind == FAIL_DATA ?
		    "554 5.6.0" : "451 4.3.0", f.text);
		return 0;
	}
	srv_submit(sv, &m);
	msg_free(&m);
	return 0;
}

/* One command; returns 1 after QUIT, -1 when the input is gone. */
static int
srv_command(struct server *sv, char *line)
{
	char *arg;

	arg = line + strcspn(line, " ");
	if (*arg == ' ')
		*arg++ = '\0';
	if (strcasecmp(line, "EHLO") == 0 || strcasecmp(line, "HELO") == 0) {
		srv_reset(sv);
		sv->state = SRV_STATE_READY;
		if (strcasecmp(line, "HELO") == 0)
			srv_reply(sv, "250 %s", addr_fqdn());
		else {
			srv_reply(sv, "250-%s", addr_fqdn());
			srv_reply(sv, "250-8BITMIME");
			srv_reply(sv, "250-SIZE %lld", sv->c->max_message_size);
			srv_reply(sv, "250 HELP");
		}
	} else if (strcasecmp(line, "MAIL") == 0)
		srv_mail(sv, arg);
	else if (strcasecmp(line, "RCPT") == 0)
		srv_rcpt(sv, arg);
	else if (strcasecmp(line, "DATA") == 0) {
		if (sv->state != SRV_STATE_RCPT) {
			srv_reply(sv, "503 5.5.1 %s", sv->state ==
			    SRV_STATE_MAIL ? "No valid recipients" :
			    "Need MAIL and RCPT before DATA");
			return 0;
		}
		if (srv_data(sv) == -1)
			return -1;
		srv_reset(sv);
	} else if (strcasecmp(line, "RSET") == 0) {
		srv_reset(sv);
		srv_reply(sv, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		srv_reply(sv, "250 2.0.0 Ok");
	else if (strcasecmp(line, "VRFY") == 0)
		srv_reply(sv, "252 2.5.2 Cannot VRFY; send to the address and "
		    "SES will judge it");
	else if (strcasecmp(line, "HELP") == 0)
		srv_reply(sv, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA "
		    "RSET NOOP VRFY HELP QUIT");
	else if (strcasecmp(line, "QUIT") == 0) {
		srv_reply(sv, "221 2.0.0 Bye");
		return 1;
	} else if (strcasecmp(line, "EXPN") == 0 ||
	    strcasecmp(line, "STARTTLS") == 0 ||
	    strcasecmp(line, "AUTH") == 0 || strcasecmp(line, "BDAT") == 0 ||
	    strcasecmp(line, "ETRN") == 0)
		srv_reply(sv, "502 5.5.1 %s is not offered here", line);
	else
		srv_reply(sv, "500 5.5.2 Command not recognized");
	return 0;
}

int
server_run(const struct conf *c, const struct plan_opts *po, int verbose)
{
	struct server *sv;
	enum srv_eol eol;
	char *line;
	size_t len;
	int rv;

	if ((sv = calloc(1, sizeof(*sv))) == NULL) {
		log_error("-bs: out of memory");
		return fail_kind_exit(FAIL_OS);
	}
	sv->c = c;
	sv->po = *po;
	sv->verbose = verbose;
	srv_reply(sv, "220 %s ESMTP ses-sendmail: mail goes to Amazon SES",
	    addr_fqdn());
	while ((rv = srv_line(sv, &line, &len, &eol)) == 1) {
		if (eol == SRV_EOL_PART || len > SRV_CMD_MAX) {
			/* Drop the rest of an overlong line, then say so. */
			while (eol == SRV_EOL_PART && srv_line(sv, &line,
			    &len, &eol) == 1)
				;
			srv_reply(sv, "500 5.5.2 Line too long");
			continue;
		}
		line[len] = '\0';
		if (strlen(line) != len) {
			srv_reply(sv, "500 5.5.2 NUL in command");
			continue;
		}
		if (sv->verbose)
			log_trace("-bs< %s", line);
		if ((rv = srv_command(sv, line)) != 0)
			break;
	}
	if (rv == -1 && !sv->eof)
		srv_reply(sv, "421 4.4.2 ses-sendmail: no command for %d s, "
		    "closing", SRV_IDLE);
	retry_session_close(&sv->ss);
	srv_reset(sv);
	free(sv->rcpts);
	free(sv);
	return 0;
}
