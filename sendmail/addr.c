/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * addr.c: mailboxes and address lists (RFC 5322 3.4) for -t headers,
 * argv recipients and -f; validation for SES (ASCII local parts, domains
 * sent as punycode: SES has no SMTPUTF8); local-recipient detection.
 *
 * The parser streams over the input: a lexer hands out one token at a
 * time (no token array), comments nest with a depth counter (no
 * recursion), groups cannot nest, so memory is proportional to the
 * addresses found and the stack is constant whatever the input.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "extern.h"

#define ADDR_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX		255	/* RFC 5321 4.5.3.1.2 */
#define ADDR_LABEL_MAX		63	/* RFC 1035 2.3.4 */
#define ADDR_RAWDOMAIN_MAX	1024	/* UTF-8 domain before IDNA */
#define ADDR_COMMENT_DEPTH	32	/* nested comments accepted */

enum tok_type {
	TOK_END = 0,
	TOK_ATOM,		/* atext and '.', octets >= 0x80 */
	TOK_QSTR,		/* "...", quotes included */
	TOK_DLIT,		/* [...], brackets included */
	TOK_COMMENT,		/* (...), parentheses included */
	TOK_SPECIAL		/* one of < > : ; , @ */
};

struct tok {
	enum tok_type	 type;
	const char	*p;
	size_t		 len;
	size_t		 start;		/* offset of p in the input */
};

struct lex {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	const char	*what;		/* "address list", "sender" */
	char		*err;
	size_t		 errlen;
	int		 oom;		/* memory ran out, not the input */
};

/* One side of an addr-spec, words appended as they come. */
struct wbuf {
	char		*b;
	size_t		 size;
	size_t		 len;
	int		 nwords;
	int		 lastdot;	/* the last word ended with '.' */
	int		 literal;	/* a domain literal was appended */
	int		 over;		/* did not fit in b */
};

struct spec {
	char		 lbuf[SES_MAX_ADDR + 1];
	char		 dbuf[ADDR_RAWDOMAIN_MAX + 1];
	struct wbuf	 local;
	struct wbuf	 domain;
	int		 has_at;
	size_t		 start, end;	/* raw span in the input */
};

struct parser {
	struct lex	 lx;
	struct addrlist	*out;
	int		 allow_group;
	int		 ingroup;
};

static char	 host_name[256];
static char	 host_fqdn[256];
static int	 host_done;

/* Memory ran out: the parse fails, but the input is not to blame. */
static int
lex_oom(struct lex *lx)
{
	lx->oom = 1;
	return log_reason(lx->err, lx->errlen, "out of memory");
}

/* Folding white space (RFC 5322 3.2.2): a value may still hold its CR LF. */
static int
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_ctl(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

/* RFC 5322 3.2.3 atext, plus '.' and UTF-8 octets (loosely). */
static int
is_atom(int c)
{
	if (c >= 0x80)
		return 1;
	if (c <= ' ' || c == 0x7f)
		return 0;
	return strchr("()<>[]:;@\\,\"", c) == NULL;
}

/* RFC 5322 3.2.3 atext proper, for deciding whether to quote a name. */
static int
is_atext(int c)
{
	if (c >= 0x80 || c == ' ' || c == '\t')
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* ------------------------------------------------------------------ */
/* The lexer: RFC 5322 3.2 tokens, whitespace and folds skipped.       */

static int
lex_ctl(struct lex *lx)
{
	return log_reason(lx->err, lx->errlen, "control character in %s",
	    lx->what);
}

/* A comment (3.2.2): nests, counted rather than recursed, and capped. */
static int
lex_comment(struct lex *lx, struct tok *t)
{
	size_t i;
	int depth = 0;
	unsigned char c;

	for (i = lx->pos; i < lx->len; i++) {
		c = lx->s[i];
		if (c == '\\') {
			if (++i == lx->len)
				break;
			c = lx->s[i];
			if (is_ctl(c) && c != '\t')
				return lex_ctl(lx);
		} else if (c == '(') {
			if (++depth > ADDR_COMMENT_DEPTH)
				return log_reason(lx->err, lx->errlen,
				    "comments nested more than %d deep in %s",
				    ADDR_COMMENT_DEPTH, lx->what);
		} else if (c == ')') {
			if (--depth == 0) {
				t->type = TOK_COMMENT;
				t->len = i + 1 - lx->pos;
				lx->pos = i + 1;
				return 0;
			}
		} else if (is_ctl(c) && !is_fws(c))
			return lex_ctl(lx);
	}
	return log_reason(lx->err, lx->errlen, "unbalanced '(' in %s",
	    lx->what);
}

/*
 * A quoted-string (3.2.4), closed by '"', or a domain-literal (3.4.1),
 * closed by ']' and holding no '[': a backslash escapes any octet but a
 * control (the obsolete quoted-pairs of literals too).
 */
static int
lex_delimited(struct lex *lx, struct tok *t, char close, enum tok_type type)
{
	size_t i;
	unsigned char c;

	for (i = lx->pos + 1; i < lx->len; i++) {
		c = lx->s[i];
		if (c == '\\') {
			if (++i == lx->len)
				break;
			c = lx->s[i];
			if (is_ctl(c) && c != '\t')
				return lex_ctl(lx);
		} else if (c == (unsigned char)close) {
			t->type = type;
			t->len = i + 1 - lx->pos;
			lx->pos = i + 1;
			return 0;
		} else if (close == ']' && c == '[')
			return log_reason(lx->err, lx->errlen,
			    "'[' inside a domain literal in %s", lx->what);
		else if (is_ctl(c) && !is_fws(c))
			return lex_ctl(lx);
	}
	return log_reason(lx->err, lx->errlen, "unbalanced %s in %s",
	    close == '"' ? "quote" : "'['", lx->what);
}

/* The next token, comments included.  0, or -1 with the error set. */
static int
lex_next(struct lex *lx, struct tok *t)
{
	unsigned char c;

	while (lx->pos < lx->len && is_fws((unsigned char)lx->s[lx->pos]))
		lx->pos++;
	t->start = lx->pos;
	t->p = lx->s + lx->pos;
	t->len = 0;
	if (lx->pos == lx->len) {
		t->type = TOK_END;
		return 0;
	}
	c = lx->s[lx->pos];
	switch (c) {
	case '"':
		return lex_delimited(lx, t, '"', TOK_QSTR);
	case '(':
		return lex_comment(lx, t);
	case '[':
		return lex_delimited(lx, t, ']', TOK_DLIT);
	case '<': case '>': case ':': case ';': case ',': case '@':
		t->type = TOK_SPECIAL;
		t->len = 1;
		lx->pos++;
		return 0;
	case ')':
	case ']':
		return log_reason(lx->err, lx->errlen, "unbalanced '%c' in %s",
		    c, lx->what);
	case '\\':
		return log_reason(lx->err, lx->errlen,
		    "'\\' outside quotes in %s", lx->what);
	}
	if (!is_atom(c))
		return lex_ctl(lx);
	while (lx->pos < lx->len && is_atom((unsigned char)lx->s[lx->pos]))
		lx->pos++;
	t->type = TOK_ATOM;
	t->len = lx->pos - t->start;
	return 0;
}

/* The next token that is not a comment (CFWS is never significant). */
static int
lex_next_nc(struct lex *lx, struct tok *t)
{
	do {
		if (lex_next(lx, t) == -1)
			return -1;
	} while (t->type == TOK_COMMENT);
	return 0;
}

static int
is_special(const struct tok *t, int c)
{
	return t->type == TOK_SPECIAL && t->p[0] == c;
}

static int
tok_unexpected(struct lex *lx, const struct tok *t, const char *where)
{
	char s[LOG_EXCERPT + 4];

	if (t->type == TOK_END)
		return log_reason(lx->err, lx->errlen, "unexpected end of "
		    "%s %s", lx->what, where);
	log_excerpt(s, sizeof(s), t->p, t->len);
	return log_reason(lx->err, lx->errlen, "unexpected '%s' %s in %s", s,
	    where, lx->what);
}

/* ------------------------------------------------------------------ */
/* Building and checking one addr-spec.                                */

static void
spec_init(struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->local.b = sp->lbuf;
	sp->local.size = sizeof(sp->lbuf);
	sp->domain.b = sp->dbuf;
	sp->domain.size = sizeof(sp->dbuf);
}

/*
 * Append a word.  Two words must be joined by a '.' (RFC 5322 3.4.1,
 * with the obsolete CFWS around the dots allowed); folds are unfolded.
 * Returns 0, or -1 when the words are not joined.
 */
static int
wbuf_add(struct wbuf *w, const struct tok *t)
{
	size_t i;

	if (w->literal || (w->nwords > 0 && t->type == TOK_DLIT))
		return -1;
	if (w->nwords > 0 && !w->lastdot && t->p[0] != '.')
		return -1;
	for (i = 0; i < t->len; i++) {
		if (t->p[i] == '\r' || t->p[i] == '\n')
			continue;
		if (w->len + 1 >= w->size) {
			w->over = 1;
			break;
		}
		w->b[w->len++] = t->p[i];
	}
	w->b[w->len] = '\0';
	w->nwords++;
	w->lastdot = t->type == TOK_ATOM && t->p[t->len - 1] == '.';
	w->literal = t->type == TOK_DLIT;
	return 0;
}

/* "BEFORE <the address as written>AFTER" */
static int
spec_error(struct lex *lx, const struct spec *sp, const char *before,
    const char *after)
{
	char s[LOG_EXCERPT + 4];

	log_excerpt(s, sizeof(s), lx->s + sp->start, sp->end - sp->start);
	return log_reason(lx->err, lx->errlen, "%s <%s>%s", before, s, after);
}

/*
 * addr-spec = local-part "@" domain (3.4.1), or a lone local part
 * (cron's "root").  Stops before the first token that cannot continue
 * it, comments before that token included (they may name the mailbox).
 */
static int
parse_addrspec(struct lex *lx, struct spec *sp)
{
	struct tok t;
	size_t save;

	sp->start = sp->end = lx->pos;
	for (;;) {
		save = lx->pos;
		if (lex_next_nc(lx, &t) == -1)
			return -1;
		if (sp->local.nwords == 0 && !sp->has_at)
			sp->start = sp->end = t.start;
		if (!sp->has_at && is_special(&t, '@')) {
			sp->has_at = 1;
			sp->end = t.start + t.len;
			continue;
		}
		if (t.type != TOK_ATOM && t.type != TOK_QSTR &&
		    t.type != TOK_DLIT) {
			lx->pos = save;
			break;
		}
		sp->end = t.start + t.len;
		if (!sp->has_at && t.type == TOK_DLIT)
			return spec_error(lx, sp,
			    "domain literal before '@' in", "");
		if (sp->has_at && t.type == TOK_QSTR)
			return spec_error(lx, sp, "quoted domain in", "");
		if (wbuf_add(sp->has_at ? &sp->domain : &sp->local, &t) == -1)
			return spec_error(lx, sp, "invalid address",
			    ": words not joined by '.' (missing ',' or '<>'?)");
	}
	if (sp->has_at && sp->local.nwords == 0)
		return spec_error(lx, sp, "empty local part in", "");
	if (sp->has_at && sp->domain.nwords == 0)
		return spec_error(lx, sp, "missing domain after '@' in",
		    "");
	return 0;
}

const char *
addr_domain_bad(const char *d, size_t len)
{
	size_t i, label = 0;

	if (len == 0)
		return "empty domain";
	for (i = 0; i <= len; i++) {
		if (i < len && d[i] != '.') {
			if (!is_ldh((unsigned char)d[i]))
				return "labels are letters, digits and '-'";
			continue;
		}
		if (i == label)
			return "empty label";
		if (i - label > ADDR_LABEL_MAX)
			return "label longer than 63 octets";
		if (d[label] == '-' || d[i - 1] == '-')
			return "label starts or ends with '-'";
		label = i + 1;
	}
	return NULL;
}

static int
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/*
 * An address literal as RFC 5321 4.1.3 has them: an IPv4 dotted quad,
 * or "IPv6:" and an IPv6 address, both as inet_pton() reads them (no
 * blanks, no quoted-pairs).  The General-address-literal form is
 * refused: IPv6 is the only tag IANA registers, and its dcontent allows
 * '<' and '>', which must never reach a MAIL or RCPT line.  lit holds
 * the brackets.
 */
static int
literal_ok(const char *lit)
{
	char in[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];
	size_t len = strlen(lit);

	if (len < 3 || len - 2 >= sizeof(in) || lit[len - 1] != ']')
		return 0;
	memcpy(in, lit + 1, len - 2);
	in[len - 2] = '\0';
	if (strncasecmp(in, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, in + 5, bin) == 1;
	return inet_pton(AF_INET, in, bin) == 1;
}

/*
 * The domain as SES takes it: a literal as written, a name in punycode
 * (IDNA2008, as GnuTLS maps it; ASCII names keep their case), every
 * label letters, digits and hyphens.
 */
static int
domain_finish(struct lex *lx, const struct spec *sp, char *out,
    size_t outlen)
{
	gnutls_datum_t idn;
	const char *bad;
	char why[128];
	size_t n;
	int r;

	if (sp->domain.over)
		return spec_error(lx, sp, "domain longer than 255 octets in",
		    "");
	if (sp->domain.literal) {
		if (has_8bit(sp->dbuf))
			return spec_error(lx, sp,
			    "non-ASCII domain literal in", "");
		if (!literal_ok(sp->dbuf))
			return spec_error(lx, sp, "invalid address literal in",
			    ": only [IPv4] and [IPv6:...] literals are taken "
			    "(RFC 5321 4.1.3)");
		n = strlcpy(out, sp->dbuf, outlen);
	} else if (has_8bit(sp->dbuf)) {
		r = gnutls_idna_map(sp->dbuf, sp->domain.len, &idn,
		    GNUTLS_IDNA_FORCE_2008);
		if (r == GNUTLS_E_MEMORY_ERROR)
			return lex_oom(lx);
		if (r < 0) {
			(void)snprintf(why, sizeof(why), ": %s",
			    gnutls_strerror(r));
			return spec_error(lx, sp,
			    "invalid international domain in", why);
		}
		n = strlcpy(out, (const char *)idn.data, outlen);
		gnutls_free(idn.data);
	} else
		n = strlcpy(out, sp->dbuf, outlen);
	if (n >= outlen || n > ADDR_DOMAIN_MAX)
		return spec_error(lx, sp, "domain longer than 255 octets in",
		    "");
	if (!sp->domain.literal && (bad = addr_domain_bad(out, n)) != NULL) {
		(void)snprintf(why, sizeof(why), ": %s", bad);
		return spec_error(lx, sp, "invalid domain in", why);
	}
	return 0;
}

/* The checked addr-spec into a new string, or NULL with err set. */
static char *
spec_finish(struct lex *lx, const struct spec *sp)
{
	char domain[ADDR_DOMAIN_MAX + 2], buf[SES_MAX_ADDR + 1];
	char *a;
	int n;

	if (has_8bit(sp->lbuf)) {
		spec_error(lx, sp, "non-ASCII local part in",
		    ": SES accepts only ASCII local parts");
		return NULL;
	}
	if (sp->local.over || sp->local.len > ADDR_LOCAL_MAX) {
		spec_error(lx, sp, "local part longer than 64 octets in", "");
		return NULL;
	}
	if (addr_has_ctl(sp->lbuf, sp->local.len) ||
	    addr_has_ctl(sp->dbuf, sp->domain.len)) {
		spec_error(lx, sp, "control character in", "");
		return NULL;
	}
	/*
	 * Legal in a quoted local part (RFC 5321 4.1.2), but a blank or
	 * '>' there ends the path for a careless parser and lets the rest
	 * pass for ESMTP parameters (NOTIFY=, ORCPT=): refused.
	 */
	if (strpbrk(sp->lbuf, " <>") != NULL) {
		spec_error(lx, sp, "blank, '<' or '>' in the quoted local part "
		    "of", ": it could break the SMTP command");
		return NULL;
	}
	if (!sp->has_at)
		n = snprintf(buf, sizeof(buf), "%s", sp->lbuf);
	else {
		if (domain_finish(lx, sp, domain, sizeof(domain)) == -1)
			return NULL;
		n = snprintf(buf, sizeof(buf), "%s@%s", sp->lbuf, domain);
	}
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		spec_error(lx, sp, "address longer than 320 octets:", "");
		return NULL;
	}
	/* What every address must be to go on a MAIL or RCPT line. */
	if (!addr_path_safe(buf)) {
		spec_error(lx, sp, "blank, '<', '>' or control character in",
		    "");
		return NULL;
	}
	if ((a = strdup(buf)) == NULL)
		(void)lex_oom(lx);
	return a;
}

/* ------------------------------------------------------------------ */
/* Display names.                                                      */

/*
 * A display-name as written (3.4): trimmed, unfolded.  NULL when there
 * is nothing but blanks and quotes.  Returns 0, or -1 out of memory.
 */
static int
name_from_phrase(const char *s, size_t len, char **name)
{
	size_t i, n;
	int seen = 0;
	char *p;

	*name = NULL;
	while (len > 0 && is_fws((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_fws((unsigned char)s[len - 1]))
		len--;
	for (i = 0; i < len; i++)
		if (!is_fws((unsigned char)s[i]) && s[i] != '"')
			seen = 1;
	if (!seen)
		return 0;
	if ((p = malloc(len + 1)) == NULL)
		return -1;
	for (i = n = 0; i < len; i++)
		if (s[i] != '\r' && s[i] != '\n')
			p[n++] = s[i];
	p[n] = '\0';
	*name = p;
	return 0;
}

/*
 * A comment after a bare addr-spec ("root (Cron Daemon)") names the
 * mailbox.  Its text (quoted-pairs resolved, unfolded, trimmed) becomes
 * a display name that can be written back as it is: plain when it is
 * atext and blanks, else a quoted-string.  NULL when empty.
 */
static int
name_from_comment(const struct tok *t, char **name)
{
	const char *s = t->p + 1;
	size_t i, n, len = t->len - 2;
	char *txt, *q, *p;
	int plain = 1;

	*name = NULL;
	if ((txt = malloc(len + 1)) == NULL)
		return -1;
	for (i = n = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '\\' && i + 1 < len)
			i++;
		if (n == 0 && is_fws((unsigned char)s[i]))
			continue;
		txt[n++] = s[i];
	}
	while (n > 0 && is_fws((unsigned char)txt[n - 1]))
		n--;
	txt[n] = '\0';
	if (n == 0) {
		free(txt);
		return 0;
	}
	for (i = 0; i < n; i++)
		plain &= is_atext((unsigned char)txt[i]);
	if (plain) {
		*name = txt;
		return 0;
	}
	if ((q = malloc(2 * n + 3)) == NULL) {
		free(txt);
		return -1;
	}
	p = q;
	*p++ = '"';
	for (i = 0; i < n; i++) {
		if (txt[i] == '"' || txt[i] == '\\')
			*p++ = '\\';
		*p++ = txt[i];
	}
	*p++ = '"';
	*p = '\0';
	free(txt);
	*name = q;
	return 0;
}

/* The content of a quoted-string token: quoted-pairs resolved, unfolded. */
static size_t
qstr_text(const struct tok *t, char *out)
{
	size_t i, n = 0;

	for (i = 1; i + 1 < t->len; i++) {
		if (t->p[i] == '\r' || t->p[i] == '\n')
			continue;
		if (t->p[i] == '\\' && i + 2 < t->len)
			i++;
		out[n++] = t->p[i];
	}
	return n;
}

int
addr_name_text(const char *name, char **text, int *odd)
{
	struct lex lx;
	struct tok t;
	char err[SES_FAIL_TEXT], *out;
	size_t n = 0, end = 0;
	int gap = 0;

	if (text != NULL)
		*text = NULL;
	*odd = 0;
	memset(&lx, 0, sizeof(lx));
	lx.s = name;
	lx.len = strlen(name);
	lx.what = "display name";
	lx.err = err;
	lx.errlen = sizeof(err);
	/* Unquoting and one blank for each run of CFWS only shrink it. */
	if ((out = malloc(lx.len + 1)) == NULL)
		return -1;
	/* The name was lexed with its field: an error cannot happen here,
	 * and would only end the text. */
	while (lex_next(&lx, &t) == 0 && t.type != TOK_END) {
		if (t.type == TOK_COMMENT) {
			gap = 1;
			continue;
		}
		if ((gap || t.start > end) && n > 0)
			out[n++] = ' ';
		gap = 0;
		end = t.start + t.len;
		if (t.type == TOK_QSTR) {
			n += qstr_text(&t, out + n);
			continue;
		}
		/* An '@' or a domain literal: not a phrase (RFC 5322 3.2.5). */
		if (t.type == TOK_SPECIAL || t.type == TOK_DLIT)
			*odd = 1;
		memcpy(out + n, t.p, t.len);
		n += t.len;
	}
	out[n] = '\0';
	if (n == 0 || text == NULL)
		free(out);
	else
		*text = out;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The address list.                                                   */

/* Append, taking ownership of a and name (freed on failure). */
static int
list_push(struct addrlist *l, char *a, char *name)
{
	struct addr *v;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 8 : l->cap * 2;
		v = reallocarray(l->v, ncap, sizeof(*v));
		if (v == NULL) {
			free(a);
			free(name);
			return -1;
		}
		l->v = v;
		l->cap = ncap;
	}
	l->v[l->n].addr = a;
	l->v[l->n].name = name;
	l->n++;
	return 0;
}

static int
mailbox_push(struct parser *p, const struct spec *sp, char *name)
{
	char *a;

	if ((a = spec_finish(&p->lx, sp)) == NULL) {
		free(name);
		return -1;
	}
	if (list_push(p->out, a, name) == -1)
		return lex_oom(&p->lx);
	return 0;
}

/*
 * After a mailbox: comments, then ',' (taken), the end, or ';' closing
 * the group (left for the caller).
 */
static int
element_end(struct parser *p, const char *where)
{
	struct tok t;
	size_t save = p->lx.pos;

	if (lex_next_nc(&p->lx, &t) == -1)
		return -1;
	if (t.type == TOK_END || is_special(&t, ','))
		return 0;
	if (is_special(&t, ';') && p->ingroup) {
		p->lx.pos = save;
		return 0;
	}
	if (is_special(&t, ';'))
		where = "outside a group";
	return tok_unexpected(&p->lx, &t, where);
}

/*
 * Look ahead (without consuming) for what decides the element's form:
 * '<' name-addr, ':' group, else ',' ';' or the end: an addr-spec.
 */
static int
element_scan(struct parser *p, struct tok *stop)
{
	struct lex l = p->lx;

	for (;;) {
		if (lex_next(&l, stop) == -1)
			return -1;
		if (stop->type == TOK_END ||
		    (stop->type == TOK_SPECIAL && stop->p[0] != '@'))
			return 0;
	}
}

/* addr-spec, and a comment after it as the name ("a@b (Joe)"). */
static int
parse_bare(struct parser *p)
{
	struct spec sp;
	struct tok t;
	char *name = NULL;
	size_t save;

	spec_init(&sp);
	if (parse_addrspec(&p->lx, &sp) == -1)
		return -1;
	for (;;) {
		save = p->lx.pos;
		if (lex_next(&p->lx, &t) == -1)
			goto fail;
		if (t.type != TOK_COMMENT) {
			p->lx.pos = save;
			break;
		}
		if (name == NULL && name_from_comment(&t, &name) == -1) {
			(void)lex_oom(&p->lx);
			goto fail;
		}
	}
	if (sp.local.nwords == 0) {
		if (lex_next_nc(&p->lx, &t) == 0)
			tok_unexpected(&p->lx, &t, "where an address belongs");
		goto fail;
	}
	if (mailbox_push(p, &sp, name) == -1)
		return -1;
	return element_end(p, "after an address (missing ','?)");
fail:
	free(name);
	return -1;
}

/* obs-route (4.4): "@a,@b:" before the addr-spec, skipped. */
static int
skip_route(struct parser *p)
{
	struct tok t;

	for (;;) {
		if (lex_next_nc(&p->lx, &t) == -1)
			return -1;
		if (is_special(&t, ':'))
			return 0;
		if (t.type != TOK_ATOM && t.type != TOK_DLIT &&
		    !is_special(&t, '@') && !is_special(&t, ','))
			return tok_unexpected(&p->lx, &t, "in a route");
	}
}

/* [display-name] "<" [obs-route] addr-spec ">" */
static int
parse_angle(struct parser *p, size_t elem, const struct tok *lt)
{
	struct spec sp;
	struct tok t;
	char s[LOG_EXCERPT + 4], *name;
	size_t save, from = lt->start + 1;

	p->lx.pos = from;
	save = p->lx.pos;
	if (lex_next_nc(&p->lx, &t) == -1)
		return -1;
	if (is_special(&t, '>'))
		return log_reason(p->lx.err, p->lx.errlen,
		    "empty address <> in %s", p->lx.what);
	if (is_special(&t, '@')) {
		if (skip_route(p) == -1)
			return -1;
	} else
		p->lx.pos = save;
	spec_init(&sp);
	if (parse_addrspec(&p->lx, &sp) == -1)
		return -1;
	if (lex_next_nc(&p->lx, &t) == -1)
		return -1;
	if (!is_special(&t, '>')) {
		log_excerpt(s, sizeof(s), p->lx.s + from, t.start - from);
		if (t.type == TOK_END)
			return log_reason(p->lx.err, p->lx.errlen,
			    "missing '>' after <%s", s);
		return tok_unexpected(&p->lx, &t, "before '>'");
	}
	if (sp.local.nwords == 0)
		return log_reason(p->lx.err, p->lx.errlen,
		    "empty address <> in %s", p->lx.what);
	if (name_from_phrase(p->lx.s + elem, lt->start - elem, &name) == -1)
		return lex_oom(&p->lx);
	if (mailbox_push(p, &sp, name) == -1)
		return -1;
	return element_end(p, "after '>'");
}

/* group = display-name ":" [group-list] ";" (3.4); groups do not nest. */
static int
parse_group(struct parser *p, const struct tok *colon)
{
	if (!p->allow_group)
		return log_reason(p->lx.err, p->lx.errlen,
		    "a group is not allowed in %s", p->lx.what);
	if (p->ingroup)
		return log_reason(p->lx.err, p->lx.errlen,
		    "nested group in %s", p->lx.what);
	p->ingroup = 1;
	p->lx.pos = colon->start + 1;
	return 0;
}

static int
parse_list(struct parser *p)
{
	struct tok t, stop;
	size_t elem;

	for (;;) {
		elem = p->lx.pos;
		if (lex_next_nc(&p->lx, &t) == -1)
			return -1;
		/* A group left open at the end is forgiven. */
		if (t.type == TOK_END)
			return 0;
		/* obs-addr-list (4.4): empty elements. */
		if (is_special(&t, ','))
			continue;
		if (is_special(&t, ';')) {
			if (!p->ingroup)
				return tok_unexpected(&p->lx, &t,
				    "outside a group");
			p->ingroup = 0;
			if (element_end(p, "after a group") == -1)
				return -1;
			continue;
		}
		p->lx.pos = elem;
		if (element_scan(p, &stop) == -1)
			return -1;
		if (is_special(&stop, '<')) {
			if (parse_angle(p, elem, &stop) == -1)
				return -1;
		} else if (is_special(&stop, ':')) {
			if (parse_group(p, &stop) == -1)
				return -1;
		} else if (is_special(&stop, '>'))
			return tok_unexpected(&p->lx, &stop, "without '<'");
		else if (parse_bare(p) == -1)
			return -1;
	}
}

static int
addr_parse(const char *s, size_t len, struct addrlist *out,
    const char *what, int allow_group, char *err, size_t errlen)
{
	struct parser p;
	size_t n0 = out->n;

	memset(&p, 0, sizeof(p));
	p.lx.s = s;
	p.lx.len = len;
	p.lx.what = what;
	p.lx.err = err;
	p.lx.errlen = errlen;
	p.out = out;
	p.allow_group = allow_group;
	if (parse_list(&p) == 0)
		return 0;
	/* All or nothing: the caller's list is as it was. */
	addr_truncate(out, n0);
	return p.lx.oom ? -2 : -1;
}

int
addr_parse_list(const char *s, size_t len, struct addrlist *out,
    char *err, size_t errlen)
{
	return addr_parse(s, len, out, "address list", 1, err, errlen);
}

int
addr_parse_sender(const char *s, char *out, size_t outlen, char *err,
    size_t errlen)
{
	struct addrlist l = { NULL, 0, 0 };
	char sn[LOG_EXCERPT + 4];
	size_t len, b, e, i;
	int r;

	if (outlen == 0)
		return log_reason(err, errlen, "no room for the sender");
	out[0] = '\0';
	if ((len = strnlen(s, SES_MAX_ARG + 1)) > SES_MAX_ARG)
		return log_reason(err, errlen, "sender longer than %d octets",
		    SES_MAX_ARG);
	for (b = 0; b < len && is_fws((unsigned char)s[b]); b++)
		;
	for (e = len; e > b && is_fws((unsigned char)s[e - 1]); e--)
		;
	/* "" and "<>" (blanks allowed inside): the null sender. */
	if (e - b >= 2 && s[b] == '<' && s[e - 1] == '>') {
		for (i = b + 1; i < e - 1 && is_fws((unsigned char)s[i]); i++)
			;
		if (i == e - 1)
			b = e;
	}
	if (b == e)
		return 0;
	if ((r = addr_parse(s, len, &l, "sender", 0, err, errlen)) != 0)
		return r;
	log_excerpt(sn, sizeof(sn), s + b, e - b);
	if (l.n != 1) {
		log_reason(err, errlen, "%s in sender '%s'",
		    l.n == 0 ? "no address" : "more than one address", sn);
		addr_free(&l);
		return -1;
	}
	if (strlcpy(out, l.v[0].addr, outlen) >= outlen) {
		out[0] = '\0';
		addr_free(&l);
		return log_reason(err, errlen, "sender too long: '%s'", sn);
	}
	addr_free(&l);
	return 0;
}

int
addr_has_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)s[i]))
			return 1;
	return 0;
}

int
addr_path_safe(const char *a)
{
	const unsigned char *p;

	for (p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

/* This host's names, looked up once: its short name and its FQDN. */
static void
host_names(void)
{
	struct addrinfo hints, *res;
	char *dot;

	if (host_done)
		return;
	host_done = 1;
	if (gethostname(host_name, sizeof(host_name)) == -1) {
		host_name[0] = '\0';
		return;
	}
	host_name[sizeof(host_name) - 1] = '\0';
	/*
	 * Already qualified: no lookup (it may be a slow DNS query), and the
	 * short name is the first label, local too.
	 */
	if ((dot = strchr(host_name, '.')) != NULL) {
		(void)strlcpy(host_fqdn, host_name, sizeof(host_fqdn));
		*dot = '\0';
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host_name, NULL, &hints, &res) != 0)
		return;
	if (res->ai_canonname != NULL &&
	    strlcpy(host_fqdn, res->ai_canonname, sizeof(host_fqdn)) >=
	    sizeof(host_fqdn))
		host_fqdn[0] = '\0';
	freeaddrinfo(res);
}

const char *
addr_fqdn(void)
{
	host_names();
	if (host_fqdn[0] != '\0' && strchr(host_fqdn, '.') != NULL)
		return host_fqdn;
	return host_name[0] != '\0' ? host_name : "localhost";
}

int
addr_is_local(const char *addr)
{
	static const char *const loopback[] = {
		"localhost", "localhost.localdomain", "[127.0.0.1]",
		"[IPv6:::1]"
	};
	const char *d;
	size_t i;

	if ((d = addr_domain(addr)) == NULL || *d == '\0')
		return 1;
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (strcasecmp(d, loopback[i]) == 0)
			return 1;
	host_names();
	if (host_name[0] != '\0' && strcasecmp(d, host_name) == 0)
		return 1;
	if (host_fqdn[0] != '\0' && strcasecmp(d, host_fqdn) == 0)
		return 1;
	return 0;
}

const char *
addr_domain(const char *addr)
{
	const char *at;

	if ((at = strrchr(addr, '@')) == NULL)
		return NULL;
	return at + 1;
}

/* Same mailbox: local parts exactly equal, domains without case. */
static int
addr_same(const char *a, const char *b)
{
	const char *da, *db;

	da = strrchr(a, '@');
	db = strrchr(b, '@');
	if (da == NULL || db == NULL)
		return da == db && strcmp(a, b) == 0;
	return da - a == db - b && memcmp(a, b, da - a) == 0 &&
	    strcasecmp(da + 1, db + 1) == 0;
}

int
addr_add_unique(struct addrlist *l, const char *addr, const char *name)
{
	char *a, *n = NULL;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (addr_same(l->v[i].addr, addr))
			return 0;
	if ((a = strdup(addr)) == NULL)
		return -1;
	if (name != NULL && (n = strdup(name)) == NULL) {
		free(a);
		return -1;
	}
	return list_push(l, a, n) == -1 ? -1 : 1;
}

void
addr_truncate(struct addrlist *l, size_t n)
{
	while (l->n > n) {
		l->n--;
		free(l->v[l->n].addr);
		free(l->v[l->n].name);
	}
	if (l->n == 0)
		addr_free(l);
}

void
addr_free(struct addrlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].addr);
		free(l->v[i].name);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
