/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * headers.c: the header block of a message (RFC 5322 2.2, 3.6) held in
 * memory: where it ends, its fields, the -t recipients, the fields SES
 * allows once, the fields always removed, and the fields we add or
 * rewrite (applied by msg_write() while streaming).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"


STATIC char	*hdr_unfold(const char *, size_t, size_t *);

/*
 * ses.md 6.3: "Headers may not appear more than once" (SES answers
 * 554 Duplicate header), exactly as the SES documentation lists them.
 */
static const char *const hdr_unique[] = {
	"Accept-Language", "acceptLanguage", "Archived-At", "Auto-Submitted",
	"Bounces-to", "Comments", "Content-Alternative", "Content-Base",
	"Content-Class", "Content-Description", "Content-Disposition",
	"Content-Duration", "Content-ID", "Content-Language",
	"Content-Length", "Content-Location", "Content-MD5",
	"Content-Transfer-Encoding", "Content-Type", "Date", "Delivered-To",
	"Disposition-Notification-Options", "Disposition-Notification-To",
	"DKIM-Signature", "DomainKey-Signature", "Errors-To", "From",
	"Importance", "In-Reply-To", "Keywords", "List-Archive", "List-Help",
	"List-Id", "List-Owner", "List-Post", "List-Subscribe",
	"List-Unsubscribe", "Message-Context", "Message-ID", "MIME-Version",
	"Organization", "Original-From", "Original-Message-ID",
	"Original-Recipient", "Original-Subject", "Precedence", "Priority",
	"References", "Reply-To", "Return-Path", "Return-Receipt-To",
	"Sender", "Solicitation", "Sensitivity", "Subject", "Thread-Index",
	"Thread-Topic", "User-Agent", "VBR-Info"
};

/* design.md 4: removed always, as Postfix does. */
static const char *const hdr_removed[] = {
	"Bcc", "Resent-Bcc", "Return-Path", "Content-Length"
};

static const char *const hdr_rcpt[] = { "To", "Cc", "Bcc" };
static const char *const hdr_resent_rcpt[] = {
	"Resent-To", "Resent-Cc", "Resent-Bcc"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}


/*
 * Is this line (without its LF) the start of a field?  field-name is
 * 1*ftext (RFC 5322 2.2, 3.6.8: printable but ':'), and the obsolete
 * syntax (4.5) allows blanks before the colon.  Sets *namelen.
 */
static int
field_start(const char *s, size_t len, size_t *namelen)
{
	size_t i, n;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    s[i] == ':')
			break;
	if ((n = i) == 0)
		return 0;
	while (i < len && is_wsp((unsigned char)s[i]))
		i++;
	if (i == len || s[i] != ':')
		return 0;
	*namelen = n;
	return 1;
}

/* The length of the line at s, its LF included when there is one. */
static size_t
line_len(const char *s, size_t len)
{
	const char *lf;

	if ((lf = memchr(s, '\n', len)) == NULL)
		return len;
	return lf - s + 1;
}

size_t
hdr_block_len(const char *buf, size_t len, int *sep)
{
	size_t pos = 0, n, nl, namelen;
	int infield = 0;

	*sep = 0;
	while (pos < len) {
		n = line_len(buf + pos, len - pos);
		nl = buf[pos + n - 1] == '\n' ? n - 1 : n;
		if (nl == 0) {
			*sep = 1;
			break;
		}
		if (is_wsp((unsigned char)buf[pos])) {
			/* A continuation, but only of a field. */
			if (!infield)
				break;
		} else if (field_start(buf + pos, nl, &namelen))
			infield = 1;
		else
			break;
		pos += n;
	}
	return pos;
}

static int
fields_grow(struct hdrs *h, size_t *cap)
{
	struct hdr_field *f;
	size_t ncap;

	if (h->nf < *cap)
		return 0;
	ncap = *cap == 0 ? 32 : *cap * 2;
	if ((f = reallocarray(h->f, ncap, sizeof(*f))) == NULL)
		return -1;
	h->f = f;
	*cap = ncap;
	return 0;
}

/* Split h->block into fields; the block ends with LF. */
static int
hdr_split(struct hdrs *h, char *err, size_t errlen)
{
	struct hdr_field *f = NULL;
	const char *b = h->block;
	char s[LOG_EXCERPT + 4];
	size_t pos = 0, n, namelen, cap = 0, lineno = 0;

	while (pos < h->blocklen) {
		n = line_len(b + pos, h->blocklen - pos);
		lineno++;
		if (is_wsp((unsigned char)b[pos])) {
			if (f == NULL)
				return log_reason(err, errlen, "header line 1 "
				    "starts with a blank: a continuation "
				    "of no field");
			f->rawlen += n;
		} else if (field_start(b + pos, n - 1, &namelen)) {
			/* 64 octets each: a block of "a:" lines would
			 * take 22 MB for its 1 MiB. */
			if (h->nf >= HDR_FIELDS_MAX)
				return log_reason(err, errlen, "more than %d "
				    "header fields", HDR_FIELDS_MAX);
			if (fields_grow(h, &cap) == -1) {
				(void)log_reason(err, errlen, "out of memory");
				return -2;
			}
			f = &h->f[h->nf++];
			memset(f, 0, sizeof(*f));
			f->name = f->raw = b + pos;
			f->namelen = namelen;
			f->value = (const char *)memchr(b + pos, ':', n) + 1;
			f->rawlen = n;
		} else if (n == 1) {
			return log_reason(err, errlen, "header line %zu is "
			    "empty: the header block ends before it", lineno);
		} else {
			log_excerpt(s, sizeof(s), b + pos, n - 1);
			return log_reason(err, errlen, "header line %zu is not "
			    "a field: '%s'", lineno, s);
		}
		if (f->rawlen > HDR_FIELD_MAX) {
			log_excerpt(s, sizeof(s), f->name, f->namelen);
			return log_reason(err, errlen, "header field '%s' is "
			    "longer than %d octets", s, HDR_FIELD_MAX);
		}
		/* The value: after the colon, up to the final LF. */
		f->valuelen = f->raw + f->rawlen - 1 - f->value;
		pos += n;
	}
	return 0;
}

int
hdr_parse(const char *block, size_t len, struct hdrs *h, char *err,
    size_t errlen)
{
	size_t blen = len;
	int rv;

	memset(h, 0, sizeof(*h));
	/* The last line may lack its LF: the copy is given one. */
	if (len > 0 && block[len - 1] != '\n')
		blen++;
	if ((h->block = malloc(blen + 1)) == NULL) {
		(void)log_reason(err, errlen, "out of memory");
		return -2;
	}
	memcpy(h->block, block, len);
	if (blen > len)
		h->block[len] = '\n';
	h->block[blen] = '\0';
	h->blocklen = blen;
	if ((rv = hdr_split(h, err, errlen)) != 0) {
		hdr_free(h);
		return rv;
	}
	return 0;
}

static int
name_is(const struct hdr_field *f, const char *name)
{
	return f->namelen == strlen(name) &&
	    strncasecmp(f->name, name, f->namelen) == 0;
}

struct hdr_field *
hdr_find(struct hdrs *h, const char *name, size_t *idx)
{
	size_t i;

	for (i = *idx; i < h->nf; i++) {
		if (!h->f[i].drop && name_is(&h->f[i], name)) {
			*idx = i;
			return &h->f[i];
		}
	}
	return NULL;
}

size_t
hdr_count(struct hdrs *h, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < h->nf; i++)
		if (!h->f[i].drop && name_is(&h->f[i], name))
			n++;
	return n;
}

/* Fields we added count too: adding one already there is a bug. */
static size_t
added_count(const struct hdrs *h, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < h->nadded; i++)
		if (strncasecmp(h->added[i], name, len) == 0 &&
		    h->added[i][len] == ':')
			n++;
	return n;
}

int
hdr_check_unique(struct hdrs *h, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < NELEM(hdr_unique); i++)
		if (hdr_count(h, hdr_unique[i]) +
		    added_count(h, hdr_unique[i]) > 1)
			return log_reason(err, errlen, "duplicate header '%s': "
			    "SES accepts it only once", hdr_unique[i]);
	return 0;
}

/*
 * RFC 5322 2.2.3: unfolding removes each CRLF (here LF, or CR LF) that
 * is followed by a blank.  Returns a new NUL-terminated string and its
 * length in *outlen, or NULL out of memory.
 */
STATIC char *
hdr_unfold(const char *v, size_t len, size_t *outlen)
{
	char *u;
	size_t i, n = 0;

	if ((u = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (v[i] == '\r' && i + 2 < len && v[i + 1] == '\n' &&
		    is_wsp((unsigned char)v[i + 2]))
			continue;
		if (v[i] == '\n' && i + 1 < len &&
		    is_wsp((unsigned char)v[i + 1]))
			continue;
		u[n++] = v[i];
	}
	u[n] = '\0';
	*outlen = n;
	return u;
}

static int
name_in(const struct hdr_field *f, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name_is(f, names[i]))
			return 1;
	return 0;
}

/*
 * -t (design.md 3): every field is read, dropped ones too, so that the order
 * of hdr_remove_always() and this does not lose the Bcc recipients.
 */
int
hdr_recipients(struct hdrs *h, struct addrlist *out, char *err,
    size_t errlen)
{
	const char *const *names = hdr_rcpt;
	char e[SES_FAIL_TEXT], *u;
	size_t i, ulen, n0 = out->n;
	int r;

	for (i = 0; i < h->nf; i++)
		if (name_in(&h->f[i], hdr_resent_rcpt, NELEM(hdr_resent_rcpt)))
			names = hdr_resent_rcpt;
	for (i = 0; i < h->nf; i++) {
		if (!name_in(&h->f[i], names, NELEM(hdr_rcpt)))
			continue;
		u = hdr_unfold(h->f[i].value, h->f[i].valuelen, &ulen);
		if (u == NULL) {
			(void)log_reason(err, errlen, "out of memory");
			r = -2;
			goto fail;
		}
		r = addr_parse_list(u, ulen, out, e, sizeof(e));
		free(u);
		if (r != 0) {
			log_reason(err, errlen, "%.*s: %s",
			    (int)h->f[i].namelen, h->f[i].name, e);
			goto fail;
		}
	}
	return 0;
fail:
	/* All or nothing, as addr_parse_list() does. */
	addr_truncate(out, n0);
	return r;
}

void
hdr_remove_always(struct hdrs *h)
{
	size_t i;

	for (i = 0; i < h->nf; i++)
		if (name_in(&h->f[i], hdr_removed, NELEM(hdr_removed)))
			h->f[i].drop = 1;
}

/* "Name: value" from fmt, with its LF; NULL out of memory. */
static char * __attribute__((format(printf, 1, 0)))
field_vformat(const char *fmt, va_list ap)
{
	char *s, *t;
	int n;

	if ((n = vasprintf(&s, fmt, ap)) == -1)
		return NULL;
	if (n > 0 && s[n - 1] == '\n')
		return s;
	if ((t = realloc(s, (size_t)n + 2)) == NULL) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

int
hdr_add(struct hdrs *h, const char *fmt, ...)
{
	va_list ap;
	char **v, *s;

	va_start(ap, fmt);
	s = field_vformat(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -1;
	v = reallocarray(h->added, h->nadded + 1, sizeof(*v));
	if (v == NULL) {
		free(s);
		return -1;
	}
	h->added = v;
	h->added[h->nadded++] = s;
	return 0;
}

int
hdr_replace(struct hdr_field *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = field_vformat(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -1;
	free(f->replace);
	f->replace = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Display names: RFC 5322 3.2.5 phrases, RFC 2047 encoded words.      */

#define PHRASE_COL0	8	/* after "Sender: ", the longest we write */
#define PHRASE_COLS	76	/* fold before a word that would pass it */
#define PHRASE_WORD_MAX	900	/* a longer word is encoded: its line stays
				 * under 998 octets (RFC 5322 2.1.1) */
#define EW_OCTETS	45	/* text in one encoded word of 75 columns */
#define EW_MAX		75	/* RFC 2047 2 */

enum pw_kind {
	PW_ATOM,		/* atext: written as it is */
	PW_QUOTE,		/* printable ASCII: in a quoted-string */
	PW_ENC,			/* anything else: B encoded words */
	PW_EW			/* an encoded word of the source, kept */
};

struct pword {
	size_t		 off, len;	/* in the cleaned text */
	enum pw_kind	 kind;
};

/* The phrase being written; with b NULL only counted. */
struct pout {
	char		*b;
	size_t		 len;
	size_t		 col;
};

/* RFC 5322 3.2.3 atext. */
static int
is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629 4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * The text as it will be shown: a tab becomes a space; a control (C0,
 * DEL, C1) or an octet that is not well-formed UTF-8 becomes U+FFFD.
 * A new string, or NULL out of memory.
 */
static char *
phrase_clean(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, o = 0, k;
	char *u;

	if (n > (SIZE_MAX - 1) / 3 || (u = malloc(3 * n + 1)) == NULL)
		return NULL;
	while (i < n) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			u[o++] = s[i++];
			continue;
		}
		if (s[i] == '\t') {
			u[o++] = ' ';
			i++;
			continue;
		}
		k = s[i] >= 0x80 ? utf8_seq(s + i, n - i) : 0;
		if (k == 0 || (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			memcpy(u + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += k == 0 ? 1 : k;
		} else {
			memcpy(u + o, s + i, k);
			o += k;
			i += k;
		}
	}
	u[o] = '\0';
	return u;
}

/* RFC 2047 2: a charset or encoding token octet. */
static int
is_ew_token(int c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/*
 * Is w an encoded word that may stand for a word of a phrase: at most 75
 * columns, B or Q, and Q text from the set RFC 2047 5 (3) allows there.
 */
static int
is_ew(const char *w, size_t n)
{
	const char *p, *e = w + n, *set;

	if (n > EW_MAX || n < 8 || memcmp(w, "=?", 2) != 0 ||
	    memcmp(e - 2, "?=", 2) != 0)
		return 0;
	for (p = w + 2; p < e && is_ew_token((unsigned char)*p); p++)
		;
	/* p at the '?' before the encoding: "?B?" text "?=" follows. */
	if (p == w + 2 || e - p < 6 || *p != '?' || p[2] != '?')
		return 0;
	if (p[1] == 'B' || p[1] == 'b')
		set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=";
	else if (p[1] == 'Q' || p[1] == 'q')
		set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789!*+-/=_";
	else
		return 0;
	for (p += 3; p < e - 2; p++)
		if (*p == '\0' || strchr(set, *p) == NULL)
			return 0;
	return 1;
}

/*
 * How a word must be written.  "=?" anywhere would be taken for an
 * encoded word by some readers, even inside quotes: it is encoded.
 */
static enum pw_kind
phrase_kind(const char *w, size_t n, int flags)
{
	size_t i, q = 2;
	int atom = 1;

	if ((flags & HDR_PHRASE_EW) && is_ew(w, n))
		return PW_EW;
	for (i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80 ||
		    (w[i] == '=' && i + 1 < n && w[i + 1] == '?'))
			return PW_ENC;
		if (!is_atext((unsigned char)w[i]))
			atom = 0;
		q += w[i] == '"' || w[i] == '\\' ? 2 : 1;
	}
	if (q > PHRASE_WORD_MAX)
		return PW_ENC;
	return atom ? PW_ATOM : PW_QUOTE;
}

/*
 * Split u at each single space between two other characters (where a
 * phrase may have a blank of its own); other blanks stay in the words.
 * An array of *nw words, or NULL out of memory.
 */
static struct pword *
phrase_words(const char *u, int flags, size_t *nw)
{
	struct pword *w;
	size_t i, n = strlen(u), s = 0, k = 0;

	if ((w = reallocarray(NULL, n / 2 + 1, sizeof(*w))) == NULL)
		return NULL;
	for (i = 1; i <= n; i++) {
		if (i < n && !(u[i] == ' ' && u[i - 1] != ' ' &&
		    u[i + 1] != ' ' && u[i + 1] != '\0'))
			continue;
		w[k].off = s;
		w[k].len = i - s;
		w[k].kind = phrase_kind(u + s, i - s, flags);
		k++;
		s = i + 1;
	}
	*nw = k;
	return w;
}

static void
pout_put(struct pout *o, const char *s, size_t n)
{
	if (o->b != NULL)
		memcpy(o->b + o->len, s, n);
	o->len += n;
	o->col += n;
}

/* Before a word of n columns: a space, or a fold past PHRASE_COLS. */
static void
pout_sep(struct pout *o, size_t n)
{
	if (o->len == 0)
		return;
	if (o->col + 1 + n > PHRASE_COLS) {
		pout_put(o, "\n ", 2);
		o->col = 1;
	} else
		pout_put(o, " ", 1);
}

static void
pout_b64(struct pout *o, const unsigned char *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long v;
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		pout_put(o, q, 4);
	}
}

/*
 * n octets of UTF-8 as B encoded words of at most 75 columns, each
 * holding whole characters (RFC 2047 5): the blanks between them are
 * not part of the text (RFC 2047 6.2).
 */
static void
pout_enc(struct pout *o, const char *p, size_t n)
{
	size_t k;

	while (n > 0) {
		k = n < EW_OCTETS ? n : EW_OCTETS;
		while (k < n && ((unsigned char)p[k] & 0xc0) == 0x80)
			k--;
		pout_sep(o, 12 + (k + 2) / 3 * 4);
		pout_put(o, "=?UTF-8?B?", 10);
		pout_b64(o, (const unsigned char *)p, k);
		pout_put(o, "?=", 2);
		p += k;
		n -= k;
	}
}

/* Words a..b-1, atoms or one quoted-string, folded between words. */
static void
pout_ascii(struct pout *o, const char *u, const struct pword *w, size_t a,
    size_t b, int quote)
{
	const char *p;
	size_t k, i, n;

	for (k = a; k < b; k++) {
		p = u + w[k].off;
		for (i = n = 0; i < w[k].len; i++)
			n += quote && (p[i] == '"' || p[i] == '\\') ? 2 : 1;
		pout_sep(o, n + (quote && k == a) + (quote && k == b - 1));
		if (quote && k == a)
			pout_put(o, "\"", 1);
		for (i = 0; i < w[k].len; i++) {
			if (quote && (p[i] == '"' || p[i] == '\\'))
				pout_put(o, "\\", 1);
			pout_put(o, p + i, 1);
		}
		if (quote && k == b - 1)
			pout_put(o, "\"", 1);
	}
}

/*
 * Runs of words: ASCII words together (quoted if one of them needs it),
 * words to encode together.  The blank between a run to encode and a
 * neighbouring encoded word goes inside the encoding, since readers drop
 * the blanks between encoded words (RFC 2047 6.2).
 */
static void
pout_phrase(struct pout *o, const char *u, const struct pword *w, size_t nw)
{
	size_t a, b, s, e;
	int quote;

	for (a = 0; a < nw; a = b) {
		b = a + 1;
		if (w[a].kind == PW_EW) {
			pout_sep(o, w[a].len);
			pout_put(o, u + w[a].off, w[a].len);
			continue;
		}
		quote = w[a].kind == PW_QUOTE;
		while (b < nw && (w[b].kind == PW_ENC) ==
		    (w[a].kind == PW_ENC) && w[b].kind != PW_EW)
			quote |= w[b++].kind == PW_QUOTE;
		if (w[a].kind != PW_ENC) {
			pout_ascii(o, u, w, a, b, quote);
			continue;
		}
		s = w[a].off;
		e = w[b - 1].off + w[b - 1].len;
		if (a > 0 && w[a - 1].kind == PW_EW)
			s--;
		if (b < nw && w[b].kind == PW_EW)
			e++;
		pout_enc(o, u + s, e - s);
	}
}

char *
hdr_phrase(const char *text, int flags)
{
	struct pout o = { NULL, 0, PHRASE_COL0 };
	struct pword *w;
	char *u, *out = NULL;
	size_t nw, len;

	if ((u = phrase_clean(text)) == NULL)
		return NULL;
	if (u[strspn(u, " ")] == '\0') {
		free(u);
		return strdup("");
	}
	if ((w = phrase_words(u, flags, &nw)) != NULL) {
		/* Count, then write the same. */
		pout_phrase(&o, u, w, nw);
		len = o.len;
		if ((out = malloc(len + 1)) != NULL) {
			o.b = out;
			o.len = 0;
			o.col = PHRASE_COL0;
			pout_phrase(&o, u, w, nw);
			out[len] = '\0';
		}
	}
	free(w);
	free(u);
	return out;
}

void
hdr_free(struct hdrs *h)
{
	size_t i;

	for (i = 0; i < h->nf; i++)
		free(h->f[i].replace);
	for (i = 0; i < h->nadded; i++)
		free(h->added[i]);
	free(h->f);
	free(h->added);
	free(h->block);
	memset(h, 0, sizeof(*h));
}
