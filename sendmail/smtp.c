/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The SMTP client: an explicit state machine over a struct conn, one
 * command at a time (SES offers no PIPELINING).  Every transition goes
 * through smtp_goto(), which traces it under -v.  Replies are checked
 * line by line (code, framing, characters, length): the server is
 * untrusted input too.  Failures are classified here, as struct fail;
 * nothing here exits.  RFC 5321, RFC 3207, RFC 4954, design.md 6.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

/* The trace's names of the states (-v). */
static const char *const smtp_state_names[] = {
	[SMTP_STAGE_NONE] = "NONE",
	[SMTP_STAGE_RESOLVE] = "RESOLVE",
	[SMTP_STAGE_CONNECT] = "CONNECT",
	[SMTP_STAGE_TLS] = "TLS",
	[SMTP_STAGE_GREETING] = "GREETING",
	[SMTP_STAGE_EHLO] = "EHLO",
	[SMTP_STAGE_STARTTLS] = "STARTTLS",
	[SMTP_STAGE_AUTH] = "AUTH",
	[SMTP_STAGE_READY] = "READY",
	[SMTP_STAGE_MAIL] = "MAIL",
	[SMTP_STAGE_RCPT] = "RCPT",
	[SMTP_STAGE_DATA] = "DATA",
	[SMTP_STAGE_BODY] = "BODY",
	[SMTP_STAGE_QUIT] = "QUIT",
	[SMTP_STAGE_FAILED] = "FAILED",
};

#define SMTP_EXT_8BITMIME	0x01
#define SMTP_EXT_STARTTLS	0x02
#define SMTP_EXT_AUTH_PLAIN	0x04
#define SMTP_EXT_AUTH_LOGIN	0x08
#define SMTP_EXT_SIZE		0x10

#define SMTP_REPLY_LINES	100	/* more lines than this is hostile */

struct smtp {
	struct conn		 c;
	const struct conf	*conf;
	int			 verbose;
	enum smtp_stage		 state;
	int			 tls_done;	/* TLS is up: never again */
	int			 heard;		/* the server said something */
	int			 quit_ok;	/* refused, yet in step: QUIT */
	unsigned int		 ext;		/* SMTP_EXT_* from EHLO */
	long long		 size_max;	/* SIZE, 0 when none */
	char			 relay[352];
	int			 code;		/* last reply */
	char			 reply[SES_REPLY_MAX];	/* its last line */
	char			 greeting[256];	/* for --check */
	char			 ehlo[512];	/* keywords, for --check */
	char			 cmd[SES_MAX_ADDR * 2 + 512];	/* being sent */
};

static void
smtp_goto(struct smtp *s, enum smtp_stage next)
{
	if (s->verbose)
		log_trace("  [%s -> %s]", smtp_state_names[s->state],
		    smtp_state_names[next]);
	s->state = next;
}

/*
 * Send one command line (CRLF added) and flush it; the -v trace shows its
 * first `shown` octets (SMTP_SHOWN_ALL: the whole line).  The line may hold
 * a credential (AUTH): on every path, success or not, it is wiped, and so
 * is the part of the write buffer it went through.
 */
#define SMTP_SHOWN_ALL	((size_t)-1)

static int __attribute__((format(printf, 4, 0)))
smtp_vcmd(struct smtp *s, struct fail *f, size_t shown, const char *fmt,
    va_list ap)
{
	size_t end;
	int n, rv = -1;

	n = vsnprintf(s->cmd, sizeof(s->cmd) - 2, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(s->cmd) - 2) {
		fail_set(f, FAIL_SOFTWARE, s->state,
		    "command too long for %s", smtp_state_names[s->state]);
		explicit_bzero(s->cmd, sizeof(s->cmd));
		return -1;
	}
	log_smtp('>', s->cmd, (size_t)n, shown);
	s->cmd[n++] = '\r';
	s->cmd[n++] = '\n';
	/* The line lands after what is buffered, or at 0 after a flush. */
	end = s->c.wlen + (size_t)n;
	if (conn_write(&s->c, s->cmd, (size_t)n, f) == 0 &&
	    conn_flush(&s->c, f) == 0)
		rv = 0;
	else
		f->stage = s->state;
	/* Flushed or failed, nothing waits in the buffer any more. */
	explicit_bzero(s->c.wbuf, end < sizeof(s->c.wbuf) ? end :
	    sizeof(s->c.wbuf));
	explicit_bzero(s->cmd, sizeof(s->cmd));
	return rv;
}

static int __attribute__((format(printf, 3, 4)))
smtp_cmd(struct smtp *s, struct fail *f, const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = smtp_vcmd(s, f, SMTP_SHOWN_ALL, fmt, ap);
	va_end(ap);
	return rv;
}

/* A command that holds a secret after its first `shown` octets. */
static int __attribute__((format(printf, 4, 5)))
smtp_cmd_secret(struct smtp *s, struct fail *f, size_t shown,
    const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = smtp_vcmd(s, f, shown, fmt, ap);
	va_end(ap);
	return rv;
}

/*
 * Check one reply line (RFC 5321 4.2): three digits, then SP, '-' or the
 * end; the same code on every line; no NUL (the text is made printable
 * wherever it is shown, not here).
 */
STATIC int
smtp_check_line(const char *line, size_t len, int code)
{
	size_t i;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || line[0] < '2' ||
	    line[0] > '5')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	if (code != 0 && (line[0] - '0') * 100 + (line[1] - '0') * 10 +
	    (line[2] - '0') != code)
		return -1;
	for (i = 0; i < len; i++)
		if (line[i] == '\0')
			return -1;
	return 0;
}

/* EHLO keywords we use (RFC 5321 4.1.1.1, RFC 4954, RFC 1870). */
static void
smtp_ehlo_line(struct smtp *s, const char *kw)
{
	const char *errstr;

	if (strcasecmp(kw, "8BITMIME") == 0)
		s->ext |= SMTP_EXT_8BITMIME;
	else if (strcasecmp(kw, "STARTTLS") == 0)
		s->ext |= SMTP_EXT_STARTTLS;
	else if (strncasecmp(kw, "SIZE", 4) == 0 && (kw[4] == '\0' ||
	    kw[4] == ' ')) {
		/* RFC 1870: "SIZE" alone or "SIZE 0" means no fixed limit. */
		s->ext |= SMTP_EXT_SIZE;
		s->size_max = 0;
		if (kw[4] == ' ') {
			s->size_max = strtonum(kw + 5, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				s->size_max = 0;
		}
	} else if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' ||
	    kw[4] == '=')) {
		/* Mechanisms are space-separated words. */
		for (kw += 5; *kw != '\0';) {
			if (strncasecmp(kw, "PLAIN", 5) == 0 &&
			    (kw[5] == ' ' || kw[5] == '\0'))
				s->ext |= SMTP_EXT_AUTH_PLAIN;
			if (strncasecmp(kw, "LOGIN", 5) == 0 &&
			    (kw[5] == ' ' || kw[5] == '\0'))
				s->ext |= SMTP_EXT_AUTH_LOGIN;
			kw += strcspn(kw, " ");
			kw += strspn(kw, " ");
		}
	}
}

/*
 * Before TLS nothing may follow a reply: the server speaks only when
 * spoken to (no PIPELINING), and plaintext still buffered when the
 * handshake starts would pass for the server's words inside TLS (RFC
 * 3207 6, the STARTTLS injection of CVE-2011-0411).  Checked after every
 * reply, so the buffer is empty whenever TLS begins.
 */
static int
smtp_no_trailer(struct smtp *s, struct fail *f)
{
	int greeting = s->state == SMTP_STAGE_GREETING;

	if (s->tls_done || !conn_pending(&s->c))
		return 0;
	fail_set(f, FAIL_PROTOCOL, s->state, "%s sent data after its %s%s,"
	    " before TLS: refused as injected (RFC 3207 6)", s->relay,
	    greeting ? "" : "reply to ",
	    greeting ? "greeting" : fail_stage_name(s->state));
	return -1;
}

/*
 * Read one whole reply; its code goes to s->code and its last line's
 * text to s->reply.  EHLO lines are parsed on the way.  Returns the
 * code, or -1 with f set (FAIL_NET for EOF or timeout, FAIL_PROTOCOL for
 * a malformed reply or, before TLS, data after it).
 */
static int
smtp_reply(struct smtp *s, struct fail *f)
{
	char line[1024], clean[sizeof(line)];
	ssize_t n;
	int lines, code = 0;

	if (s->state == SMTP_STAGE_EHLO) {
		s->ext = 0;
		s->ehlo[0] = '\0';
	}
	for (lines = 0; lines < SMTP_REPLY_LINES; lines++) {
		if ((n = conn_readline(&s->c, line, sizeof(line), f)) == -1) {
			f->stage = s->state;
			return -1;
		}
		log_smtp('<', line, (size_t)n, SMTP_SHOWN_ALL);
		s->heard = 1;
		if (smtp_check_line(line, (size_t)n, code) == -1) {
			log_sanitize(clean, 80, line, (size_t)n);
			fail_set(f, FAIL_PROTOCOL, s->state,
			    "%s sent a malformed reply at %s: \"%s\"",
			    s->relay, fail_stage_name(s->state),
			    clean);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (s->state == SMTP_STAGE_EHLO && lines > 0 && n > 4) {
			smtp_ehlo_line(s, line + 4);
			log_sanitize(clean, sizeof(clean), line + 4,
			    (size_t)n - 4);
			if (s->ehlo[0] != '\0')
				(void)strlcat(s->ehlo, ", ", sizeof(s->ehlo));
			(void)strlcat(s->ehlo, clean, sizeof(s->ehlo));
		}
		if (s->state == SMTP_STAGE_GREETING)
			log_sanitize(s->greeting, sizeof(s->greeting), line,
			    (size_t)n);
		if (n <= 3 || line[3] == ' ') {
			s->code = code;
			log_sanitize(s->reply, sizeof(s->reply), line,
			    (size_t)n);
			return smtp_no_trailer(s, f) == -1 ? -1 : code;
		}
	}
	fail_set(f, FAIL_PROTOCOL, s->state,
	    "%s sent a reply of more than %d lines", s->relay,
	    SMTP_REPLY_LINES);
	return -1;
}

/* Expect a reply of class want (2 or 3); else fill f from the reply. */
static int
smtp_expect(struct smtp *s, int want, struct fail *f)
{
	int code;

	if ((code = smtp_reply(s, f)) == -1)
		return -1;
	if (code / 100 == want)
		return 0;
	fail_set(f, FAIL_REPLY, s->state, "SES answered %s with: %s",
	    fail_stage_name(s->state), s->reply);
	f->code = code;
	return -1;
}

static int
smtp_start_tls(struct smtp *s, struct fail *f)
{
	char desc[128];

	if (conn_start_tls(&s->c, s->conf->ca_file, f) == -1) {
		/*
		 * No TLS record right after the 220 to STARTTLS: plaintext
		 * that came after the reply, too late for smtp_no_trailer().
		 */
		if (s->conf->tls == CONF_TLS_STARTTLS && s->c.tls != NULL &&
		    tls_not_tls(s->c.tls))
			fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_STARTTLS,
			    "%s sent data after its reply to STARTTLS that is "
			    "not TLS: refused as injected (RFC 3207 6)",
			    s->relay);
		return -1;
	}
	s->tls_done = 1;
	if (s->verbose)
		log_trace("  [TLS: %s]",
		    tls_describe(s->c.tls, desc, sizeof(desc)));
	return 0;
}

static int
smtp_auth_login(struct smtp *s, struct fail *f)
{
	char *b64;
	int rv;

	if (smtp_cmd(s, f, "AUTH LOGIN") == -1 || smtp_expect(s, 3, f) == -1)
		return -1;
	if ((b64 = creds_base64(s->conf->username)) == NULL)
		goto oom;
	rv = smtp_cmd_secret(s, f, 0, "%s", b64);
	creds_free_secret(b64);
	if (rv == -1 || smtp_expect(s, 3, f) == -1)
		return -1;
	if ((b64 = creds_base64(s->conf->password)) == NULL)
		goto oom;
	rv = smtp_cmd_secret(s, f, 0, "%s", b64);
	creds_free_secret(b64);
	return rv == -1 ? -1 : smtp_expect(s, 2, f);
oom:
	fail_set(f, FAIL_OS, SMTP_STAGE_AUTH, "out of memory");
	return -1;
}

/* AUTH PLAIN with an initial response (RFC 4954 4); LOGIN only without. */
static int
smtp_auth(struct smtp *s, struct fail *f)
{
	char *b64;
	int rv;

	if (!(s->ext & (SMTP_EXT_AUTH_PLAIN | SMTP_EXT_AUTH_LOGIN))) {
		fail_set(f, FAIL_NOAUTH, SMTP_STAGE_AUTH,
		    "%s offers neither AUTH PLAIN nor AUTH LOGIN", s->relay);
		return -1;
	}
	if (!(s->ext & SMTP_EXT_AUTH_PLAIN))
		return smtp_auth_login(s, f);
	if ((b64 = creds_auth_plain(s->conf)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_AUTH, "out of memory");
		return -1;
	}
	rv = smtp_cmd_secret(s, f, 10, "AUTH PLAIN %s", b64);
	creds_free_secret(b64);
	return rv == -1 ? -1 : smtp_expect(s, 2, f);
}

/*
 * One step of the session set-up; the switch has one arm per state.
 * CONNECT -> [TLS] -> GREETING -> EHLO -> [STARTTLS -> TLS -> EHLO] ->
 * AUTH -> READY.  Never AUTH, MAIL or data without TLS.
 */
static int
smtp_open_step(struct smtp *s, struct fail *f)
{
	switch (s->state) {
	case SMTP_STAGE_CONNECT:
		if (conn_open(&s->c, s->conf->host, s->conf->port,
		    s->conf->timeout, f) == -1)
			return -1;
		(void)snprintf(s->relay, sizeof(s->relay), "%s[%s]:%d",
		    s->c.host, s->c.addr, s->c.port);
		smtp_goto(s, s->conf->tls == CONF_TLS_WRAPPER ?
		    SMTP_STAGE_TLS : SMTP_STAGE_GREETING);
		return 0;
	case SMTP_STAGE_TLS:
		if (smtp_start_tls(s, f) == -1)
			return -1;
		smtp_goto(s, s->conf->tls == CONF_TLS_WRAPPER ?
		    SMTP_STAGE_GREETING : SMTP_STAGE_EHLO);
		/* RFC 3207 4.2: forget what was said before TLS. */
		if (s->state == SMTP_STAGE_EHLO)
			return smtp_cmd(s, f, "EHLO %s", s->conf->helo);
		return 0;
	case SMTP_STAGE_GREETING:
		if (smtp_expect(s, 2, f) == -1)
			return -1;
		smtp_goto(s, SMTP_STAGE_EHLO);
		return smtp_cmd(s, f, "EHLO %s", s->conf->helo);
	case SMTP_STAGE_EHLO:
		if (smtp_expect(s, 2, f) == -1)
			return -1;
		if (s->tls_done) {
			smtp_goto(s, SMTP_STAGE_AUTH);
			return 0;
		}
		if (!(s->ext & SMTP_EXT_STARTTLS)) {
			fail_set(f, FAIL_NOTLS, SMTP_STAGE_STARTTLS,
			    "%s does not offer STARTTLS: refusing to send "
			    "without TLS", s->relay);
			return -1;
		}
		smtp_goto(s, SMTP_STAGE_STARTTLS);
		return smtp_cmd(s, f, "STARTTLS");
	case SMTP_STAGE_STARTTLS:
		if (smtp_expect(s, 2, f) == -1)
			return -1;
		/* RFC 3207 4: 220 and nothing else means "start TLS". */
		if (s->code != 220) {
			fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_STARTTLS,
			    "%s answered STARTTLS with \"%s\", not 220",
			    s->relay, s->reply);
			return -1;
		}
		smtp_goto(s, SMTP_STAGE_TLS);
		return 0;
	case SMTP_STAGE_AUTH:
		if (smtp_auth(s, f) == -1)
			return -1;
		smtp_goto(s, SMTP_STAGE_READY);
		return 0;
	default:
		fail_set(f, FAIL_SOFTWARE, s->state,
		    "session set-up in state %s", smtp_state_names[s->state]);
		return -1;
	}
}

/*
 * An address that took the connection but never spoke (an instance being
 * replaced, ses.md 10) costs one connect, not one attempt: go on to the
 * next address of the same resolution (design.md 7).  0 when connected anew.
 */
static int
smtp_try_next(struct smtp *s, struct fail *f)
{
	if (s->heard || s->state == SMTP_STAGE_CONNECT ||
	    (f->kind != FAIL_NET && f->kind != FAIL_TLS) ||
	    !conn_has_next(&s->c))
		return -1;
	log_warn("%s took the connection but did not answer (%s): trying "
	    "the next address", s->relay, f->text);
	if (conn_next(&s->c, f) == -1)
		return -1;
	(void)snprintf(s->relay, sizeof(s->relay), "%s[%s]:%d", s->c.host,
	    s->c.addr, s->c.port);
	s->tls_done = 0;
	s->ext = 0;
	memset(f, 0, sizeof(*f));
	smtp_goto(s, s->conf->tls == CONF_TLS_WRAPPER ? SMTP_STAGE_TLS :
	    SMTP_STAGE_GREETING);
	return 0;
}

struct smtp *
smtp_begin(const struct conf *c, int verbose)
{
	struct smtp *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->c.fd = -1;
	s->conf = c;
	s->verbose = verbose;
	s->state = SMTP_STAGE_CONNECT;
	(void)snprintf(s->relay, sizeof(s->relay), "%s:%d", c->host, c->port);
	return s;
}

int
smtp_step(struct smtp *s, struct fail *f)
{
	if (s->state == SMTP_STAGE_READY)
		return 0;
	if (smtp_open_step(s, f) == -1 && smtp_try_next(s, f) == -1) {
		smtp_goto(s, SMTP_STAGE_FAILED);
		return -1;
	}
	return 0;
}

enum smtp_stage
smtp_pending(const struct smtp *s)
{
	return s->state == SMTP_STAGE_READY ? SMTP_STAGE_MAIL :
	    s->state;
}

int
smtp_tls_up(const struct smtp *s)
{
	return s->tls_done;
}

struct tls *
smtp_tls(struct smtp *s)
{
	return s->c.tls;
}

const char *
smtp_info(const struct smtp *s, int which)
{
	switch (which) {
	case SMTP_INFO_RELAY:
		return s->relay;
	case SMTP_INFO_GREETING:
		return s->greeting;
	case SMTP_INFO_EHLO:
		return s->ehlo;
	default:
		return s->reply;
	}
}

struct smtp *
smtp_open(const struct conf *c, int verbose, char *relay, size_t relaylen,
    struct fail *f)
{
	struct smtp *s;

	if ((s = smtp_begin(c, verbose)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "out of memory");
		return NULL;
	}
	while (s->state != SMTP_STAGE_READY) {
		if (smtp_step(s, f) == -1) {
			(void)strlcpy(relay, s->relay, relaylen);
			conn_close(&s->c);
			free(s);
			return NULL;
		}
	}
	(void)strlcpy(relay, s->relay, relaylen);
	return s;
}

/*
 * --check's large-packet probe: MAIL, RCPT, DATA, then len octets of
 * harmless header lines, flushed, and no final dot: closing the
 * connection then abandons the transaction, so nothing is sent.
 */
int
smtp_probe_data(struct smtp *s, const char *from, const char *rcpt,
    size_t len, struct fail *f)
{
	char line[80];
	size_t done;
	int n;

	if (!addr_path_safe(from) || !addr_path_safe(rcpt)) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_MAIL, "an address holds a "
		    "blank, '<', '>' or a control character: refused before "
		    "MAIL FROM");
		return -1;
	}
	smtp_goto(s, SMTP_STAGE_MAIL);
	if (smtp_cmd(s, f, "MAIL FROM:<%s>", from) == -1 ||
	    smtp_expect(s, 2, f) == -1)
		return -1;
	smtp_goto(s, SMTP_STAGE_RCPT);
	if (smtp_cmd(s, f, "RCPT TO:<%s>", rcpt) == -1 ||
	    smtp_expect(s, 2, f) == -1)
		return -1;
	smtp_goto(s, SMTP_STAGE_DATA);
	if (smtp_cmd(s, f, "DATA") == -1 || smtp_expect(s, 3, f) == -1)
		return -1;
	smtp_goto(s, SMTP_STAGE_BODY);
	for (done = 0; done < len; done += (size_t)n) {
		n = snprintf(line, sizeof(line), "X-Check-%08zu: %s\r\n", done,
		    "ses-sendmail --check: large packets, never sent");
		if (conn_write(&s->c, line, (size_t)n, f) == -1) {
			f->stage = SMTP_STAGE_BODY;
			return -1;
		}
	}
	if (conn_flush(&s->c, f) == -1 || conn_drain(&s->c, f) == -1) {
		f->stage = SMTP_STAGE_BODY;
		return -1;
	}
	/* Not READY: smtp_close() sends no QUIT into the data. */
	smtp_goto(s, SMTP_STAGE_FAILED);
	return 0;
}

/* The SES message id from "250 Ok <id>". */
static void
smtp_id(const struct smtp *s, char *id, size_t idlen)
{
	const char *p = s->reply + 3;

	p += strspn(p, " -");
	if (strncasecmp(p, "Ok ", 3) == 0)
		p += 3;
	p += strspn(p, " ");
	(void)strlcpy(id, p, idlen);
	id[strcspn(id, " ")] = '\0';
}

static int
smtp_mail(struct smtp *s, struct plan *p, struct fail *f)
{
	char params[64] = "";

	if ((s->ext & SMTP_EXT_SIZE) && s->size_max > 0 &&
	    p->size > s->size_max) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_MAIL,
		    "message refused: %lld octets, the server takes at most "
		    "%lld (SIZE)", p->size, s->size_max);
		return -1;
	}
	if (s->ext & SMTP_EXT_8BITMIME) {
		/* An 8-bit body is 8BITMIME whatever -B said. */
		if (p->body8 == 8 || p->msg->has8bit)
			(void)strlcat(params, " BODY=8BITMIME", sizeof(params));
		else if (p->body8 == 7)
			(void)strlcat(params, " BODY=7BIT", sizeof(params));
	}
	if (s->ext & SMTP_EXT_SIZE)
		(void)snprintf(params + strlen(params),
		    sizeof(params) - strlen(params), " SIZE=%lld", p->size);
	smtp_goto(s, SMTP_STAGE_MAIL);
	if (smtp_cmd(s, f, "MAIL FROM:<%s>%s", p->sender, params) == -1)
		return -1;
	return smtp_expect(s, 2, f);
}

/*
 * RCPT for each recipient; a 5xx refuses that one recipient (the others
 * still go), anything else fails the transaction.  Returns the number
 * accepted, or -1.
 */
static int
smtp_rcpts(struct smtp *s, struct plan *p, const size_t *idx, size_t n,
    struct fail *f, struct fail *rf)
{
	struct fail refused;
	size_t i;
	int accepted = 0;

	smtp_goto(s, SMTP_STAGE_RCPT);
	memset(&refused, 0, sizeof(refused));
	for (i = 0; i < n; i++) {
		if (smtp_cmd(s, f, "RCPT TO:<%s>", p->rcpts.v[idx[i]].addr) ==
		    -1)
			return -1;
		if (smtp_expect(s, 2, f) == 0) {
			accepted++;
			continue;
		}
		if (f->kind != FAIL_REPLY || f->code / 100 != 5)
			return -1;
		/* RFC 5321 3.3: a refused recipient leaves the others. */
		p->done[idx[i]] = -1;
		log_warn("SES refused recipient <%s>: %s",
		    p->rcpts.v[idx[i]].addr, s->reply);
		refused = *f;
		memset(f, 0, sizeof(*f));
	}
	if (refused.kind != FAIL_NONE && rf != NULL)
		*rf = refused;
	return accepted;
}

static int
smtp_body(struct smtp *s, struct plan *p, struct fail *f)
{
	struct conn_sink cs = { &s->c, f };
	struct wire *w;
	int rv;

	smtp_goto(s, SMTP_STAGE_BODY);
	if ((w = malloc(sizeof(*w))) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_BODY, "out of memory");
		return -1;
	}
	wire_init(w, conn_sink_write, &cs);
	rv = msg_write(p->msg, w, f);
	free(w);
	if (rv == -1 || conn_write(&s->c, ".\r\n", 3, f) == -1 ||
	    conn_flush(&s->c, f) == -1) {
		f->stage = SMTP_STAGE_BODY;
		return -1;
	}
	log_smtp('>', ".", 1, SMTP_SHOWN_ALL);
	if (smtp_expect(s, 2, f) == -1) {
		/* No verdict after the dot: SES may have taken it. */
		if (f->kind != FAIL_REPLY && f->kind != FAIL_PROTOCOL)
			f->after_data = 1;
		return -1;
	}
	return 0;
}

/*
 * The last defence of the MAIL and RCPT lines: an address with a blank,
 * '<', '>' or a control character would end the path early and pass the
 * rest for ESMTP parameters (NOTIFY=, ORCPT=) or for commands.  addr.c
 * and conf.c give none; should one come anyway, the transaction is not
 * begun.  Returns 0, or -1 with f set.
 */
static int
smtp_paths_ok(const struct plan *p, const size_t *idx, size_t n,
    struct fail *f)
{
	size_t i;

	if (!addr_path_safe(p->sender)) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_MAIL, "the sender address "
		    "holds a blank, '<', '>' or a control character: refused "
		    "before MAIL FROM");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!addr_path_safe(p->rcpts.v[idx[i]].addr)) {
			fail_set(f, FAIL_DATA, SMTP_STAGE_RCPT, "recipient %zu "
			    "holds a blank, '<', '>' or a control character: "
			    "refused before MAIL FROM", idx[i] + 1);
			return -1;
		}
	return 0;
}

int
smtp_send(struct smtp *s, struct plan *p, struct txn *t)
{
	struct fail *f = &t->fail;
	int accepted;

	if (s->state != SMTP_STAGE_READY) {
		fail_set(f, FAIL_SOFTWARE, SMTP_STAGE_MAIL,
		    "transaction in state %s", smtp_state_names[s->state]);
		return -1;
	}
	if (smtp_paths_ok(p, t->idx, t->n, f) == -1 ||
	    smtp_mail(s, p, f) == -1)
		goto fail;
	if ((accepted = smtp_rcpts(s, p, t->idx, t->n, f, t->refused)) == -1)
		goto fail;
	if (accepted == 0) {
		/* Nobody to send to: end the transaction, keep the session. */
		if (smtp_cmd(s, f, "RSET") == -1 || smtp_expect(s, 2, f) == -1)
			goto fail;
		smtp_goto(s, SMTP_STAGE_READY);
		return 1;
	}
	smtp_goto(s, SMTP_STAGE_DATA);
	if (smtp_cmd(s, f, "DATA") == -1 || smtp_expect(s, 3, f) == -1)
		goto fail;
	if (smtp_body(s, p, f) == -1)
		goto fail;
	smtp_id(s, t->id, sizeof(t->id));
	smtp_goto(s, SMTP_STAGE_READY);
	return 0;
fail:
	/* After a 4xx/5xx (not 421) the server still listens (design.md 6). */
	s->quit_ok = f->kind == FAIL_DATA || (f->kind == FAIL_REPLY &&
	    f->code >= 400 && f->code != 421);
	smtp_goto(s, SMTP_STAGE_FAILED);
	return -1;
}

void
smtp_close(struct smtp *s)
{
	struct fail f;

	if (s == NULL)
		return;
	/* QUIT without waiting for its reply (design.md 6). */
	if ((s->state == SMTP_STAGE_READY || s->quit_ok) && s->c.fd != -1) {
		smtp_goto(s, SMTP_STAGE_QUIT);
		(void)smtp_cmd(s, &f, "QUIT");
	}
	conn_close(&s->c);
	free(s);
}

#ifdef UNITTEST
/*
 * Send "AUTH PLAIN arg" on fd as smtp_cmd() does.  Returns its result;
 * *wiped is 1 when neither the command buffer nor the write buffer holds
 * any of it afterwards.
 */
int
smtp_test_cmd(int fd, const char *arg, int *wiped)
{
	static struct smtp s;
	struct fail f;
	size_t i;
	int rv;

	memset(&s, 0, sizeof(s));
	s.c.fd = fd;
	s.c.timeout = 1;
	s.state = SMTP_STAGE_AUTH;
	(void)strlcpy(s.c.host, "test", sizeof(s.c.host));
	rv = smtp_cmd_secret(&s, &f, 10, "AUTH PLAIN %s", arg);
	*wiped = 1;
	for (i = 0; i < sizeof(s.cmd); i++)
		if (s.cmd[i] != '\0')
			*wiped = 0;
	for (i = 0; i < sizeof(s.c.wbuf); i++)
		if (s.c.wbuf[i] != '\0')
			*wiped = 0;
	return rv;
}

/*
 * Read replies from fd as the EHLO state does, until one fails; for the
 * reply fuzzer.  Returns how many were read.
 */
int
smtp_test_replies(int fd, unsigned int *ext, long long *size)
{
	struct smtp s;
	struct fail f;
	int n = 0;

	memset(&s, 0, sizeof(s));
	s.c.fd = fd;
	s.c.timeout = 1;
	s.state = SMTP_STAGE_EHLO;
	s.tls_done = 1;		/* replies back to back are the point */
	(void)strlcpy(s.relay, "fuzz", sizeof(s.relay));
	while (smtp_reply(&s, &f) != -1)
		n++;
	*ext = s.ext;
	*size = s.size_max;
	return n;
}

/* smtp_send() on a session READY over fd, for the unit tests. */
int
smtp_test_send(int fd, struct plan *p, struct txn *t)
{
	struct smtp s;

	memset(&s, 0, sizeof(s));
	s.c.fd = fd;
	s.c.timeout = 1;
	s.state = SMTP_STAGE_READY;
	(void)strlcpy(s.relay, "test", sizeof(s.relay));
	return smtp_send(&s, p, t);
}
#endif
