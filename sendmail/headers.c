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
 * SES.md 6.3: "Headers may not appear more than once" (SES answers
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

/* SPEC 4: removed always, as Postfix does. */
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
				return fail_text(err, errlen, "header line 1 "
				    "starts with a blank: a continuation "
				    "of no field");
			f->rawlen += n;
		} else if (field_start(b + pos, n - 1, &namelen)) {
			/* 64 octets each: a block of "a:" lines would
			 * take 22 MB for its 1 MiB. */
			if (h->nf >= HDR_FIELDS_MAX)
				return fail_text(err, errlen, "more than %d "
				    "header fields", HDR_FIELDS_MAX);
			if (fields_grow(h, &cap) == -1) {
				(void)fail_text(err, errlen, "out of memory");
				return -2;
			}
			f = &h->f[h->nf++];
			memset(f, 0, sizeof(*f));
			f->name = f->raw = b + pos;
			f->namelen = namelen;
			f->value = (const char *)memchr(b + pos, ':', n) + 1;
			f->rawlen = n;
		} else if (n == 1) {
			return fail_text(err, errlen, "header line %zu is "
			    "empty: the header block ends before it", lineno);
		} else {
			log_excerpt(s, sizeof(s), b + pos, n - 1);
			return fail_text(err, errlen, "header line %zu is not "
			    "a field: '%s'", lineno, s);
		}
		if (f->rawlen > HDR_FIELD_MAX) {
			log_excerpt(s, sizeof(s), f->name, f->namelen);
			return fail_text(err, errlen, "header field '%s' is "
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
		(void)fail_text(err, errlen, "out of memory");
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
			return fail_text(err, errlen, "duplicate header '%s': "
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
 * -t (SPEC 3): every field is read, dropped ones too, so that the order
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
			(void)fail_text(err, errlen, "out of memory");
			r = -2;
			goto fail;
		}
		r = addr_parse_list(u, ulen, out, e, sizeof(e));
		free(u);
		if (r != 0) {
			fail_text(err, errlen, "%.*s: %s", (int)h->f[i].namelen,
			    h->f[i].name, e);
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
