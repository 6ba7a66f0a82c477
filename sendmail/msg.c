/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The message: stdin into an unlinked 0600 temp spool, read completely
 * before any connection is opened (SES closes a session idle for ~10 s),
 * so memory stays flat whatever the size.  The spool holds LF line ends;
 * the wire writer turns them into CRLF, dot-stuffs and folds long lines
 * while streaming.  design.md 4.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "pathnames.h"

#define SPOOL_CHUNK	65536

/* The input state machine, fed in chunks from stdin or memory. */
struct spooler {
	struct msg	*m;
	int		 ignore_dots;
	long long	 max_size;
	int		 skip_line;	/* dropping the mbox "From " line: 1,
					   then 2 after a CR ended it */
	int		 started;	/* the first line has been judged */
	char		 head[5];	/* first octets, to spot "From " */
	size_t		 nhead;
	int		 bol;		/* at the beginning of a line */
	int		 dotline;	/* the line so far is "." */
	size_t		 crs;		/* CRs held back: CR LF -> LF */
	int		 ended;		/* lone dot seen: ignore the rest */
	char		 out[SPOOL_CHUNK];
	size_t		 olen;
};

static int
spool_flush(struct spooler *sp, struct fail *f)
{
	size_t off;
	ssize_t n;

	for (off = 0; off < sp->olen; off += (size_t)n) {
		n = write(sp->m->fd, sp->out + off, sp->olen - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			fail_set(f, FAIL_OS, SMTP_STAGE_NONE,
			    "writing the spool in %s: %s", _PATH_SES_TMP,
			    strerror(errno));
			return -1;
		}
	}
	sp->m->len += (off_t)sp->olen;
	sp->olen = 0;
	/*
	 * Only the wire size refuses a message exactly (plan.c); this
	 * bound keeps the disk in check while reading.  The wire form is
	 * never smaller than the spool but for fields removed or rewritten
	 * (a long Bcc:), all inside the header block: allow for that much.
	 */
	if (sp->m->len > sp->max_size + HDR_BLOCK_MAX) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: larger than max_message_size "
		    "(%lld octets)", sp->max_size);
		return -1;
	}
	return 0;
}

static int
spool_out(struct spooler *sp, char ch, struct fail *f)
{
	if (sp->olen == sizeof(sp->out) && spool_flush(sp, f) == -1)
		return -1;
	sp->out[sp->olen++] = ch;
	if ((unsigned char)ch >= 0x80)
		sp->m->has8bit = 1;
	return 0;
}

/*
 * One octet of the message body proper.  Sendmail 8 rules without -i: a
 * line that is a lone "." ends the message; a leading ".." loses a dot.
 * Line ends: LF, CRLF and CR CR LF all become LF; a bare CR ends a line
 * too, so that no lone CR ever reaches SES (RFC 5321 2.3.8: CR and LF
 * only as CRLF; a receiver may read a bare CR as a line end).
 */
static int
spool_byte(struct spooler *sp, char ch, struct fail *f)
{
	if (ch == '\0') {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: it contains a NUL byte");
		return -1;
	}
	if (ch == '\r') {
		sp->crs++;
		return 0;
	}
	if (ch != '\n' && sp->crs > 0) {
		if (spool_byte(sp, '\n', f) == -1 || sp->ended)
			return sp->ended ? 0 : -1;
	}
	if (ch == '\n') {
		sp->crs = 0;
		if (sp->dotline) {
			/* A lone dot is not content: the line before ended. */
			sp->dotline = 0;
			sp->bol = 1;
			sp->ended = 1;
			return 0;
		}
		sp->bol = 1;
		return spool_out(sp, '\n', f);
	}
	if (sp->dotline) {
		sp->dotline = 0;
		/* ".." loses its first dot; ".x" keeps it. */
		sp->bol = 0;
		if (ch == '.')
			return spool_out(sp, '.', f);
		if (spool_out(sp, '.', f) == -1)
			return -1;
	}
	if (sp->bol && ch == '.' && !sp->ignore_dots) {
		sp->bol = 0;
		sp->dotline = 1;
		return 0;
	}
	sp->bol = 0;
	return spool_out(sp, ch, f);
}

/*
 * Mid-line, octets other than CR, LF and NUL go out as they are: copy the
 * run in bulk.  Returns its length (0: none), or (size_t)-1.
 */
static size_t
spool_run(struct spooler *sp, const char *buf, size_t len, struct fail *f)
{
	size_t n, k, room;
	unsigned char hi = 0, c;

	for (n = 0; n < len; n++) {
		c = (unsigned char)buf[n];
		if (c == '\r' || c == '\n' || c == '\0')
			break;
		hi |= c;
	}
	if (hi & 0x80)
		sp->m->has8bit = 1;
	for (k = 0; k < n; k += room) {
		if (sp->olen == sizeof(sp->out) && spool_flush(sp, f) == -1)
			return (size_t)-1;
		room = sizeof(sp->out) - sp->olen;
		if (room > n - k)
			room = n - k;
		memcpy(sp->out + sp->olen, buf + k, room);
		sp->olen += room;
	}
	return n;
}

/*
 * The mbox "From " line being dropped, up to its line end, which is
 * what it is everywhere else: a run of CRs with or without an LF, or an
 * LF.  Returns 1 when ch belongs to the line.
 */
static int
spool_skip(struct spooler *sp, char ch)
{
	if (sp->skip_line == 1) {
		if (ch == '\r')
			sp->skip_line = 2;	/* CRs, an LF may follow */
		else if (ch == '\n')
			sp->skip_line = 0;
		return 1;
	}
	if (ch == '\r')
		return 1;
	sp->skip_line = 0;
	return ch == '\n';
}

/* The first octets decide whether a leading mbox "From " line goes. */
static int
spool_feed(struct spooler *sp, const char *buf, size_t len, struct fail *f)
{
	size_t i, j, n;

	for (i = 0; i < len && !sp->ended; i++) {
		if (!sp->started) {
			sp->head[sp->nhead++] = buf[i];
			if (sp->nhead < sizeof(sp->head) && buf[i] != '\n')
				continue;
			sp->started = 1;
			if (sp->nhead == sizeof(sp->head) &&
			    memcmp(sp->head, "From ", 5) == 0) {
				sp->skip_line = 1;
				continue;
			}
			for (j = 0; j < sp->nhead; j++)
				if (spool_byte(sp, sp->head[j], f) == -1)
					return -1;
			continue;
		}
		if (sp->skip_line && spool_skip(sp, buf[i]))
			continue;
		if (!sp->bol && !sp->dotline && sp->crs == 0) {
			n = spool_run(sp, buf + i, len - i, f);
			if (n == (size_t)-1)
				return -1;
			if (n > 0) {
				i += n - 1;
				continue;
			}
		}
		if (spool_byte(sp, buf[i], f) == -1)
			return -1;
	}
	return 0;
}

static int
spool_finish(struct spooler *sp, struct fail *f)
{
	size_t j;

	/* Fewer than five octets in all: they are the message. */
	if (!sp->started)
		for (j = 0; j < sp->nhead; j++)
			if (spool_byte(sp, sp->head[j], f) == -1)
				return -1;
	if (sp->dotline) {
		/* A "." with no newline at the very end ends it, too. */
		sp->dotline = 0;
		sp->crs = 0;
		sp->bol = 1;
	}
	/* A missing final newline is added; trailing CRs become it. */
	if (!sp->bol || sp->crs > 0) {
		sp->crs = 0;
		if (spool_out(sp, '\n', f) == -1)
			return -1;
	}
	return spool_flush(sp, f);
}

static int
msg_open_spool(struct msg *m, struct fail *f)
{
	char path[] = _PATH_SES_TMP "/ses-sendmail.XXXXXXXXXX";
	mode_t old;

	memset(m, 0, sizeof(*m));
	m->fd = open(_PATH_SES_TMP, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (m->fd != -1)
		return 0;
	/* No O_TMPFILE here: create, then unlink at once. */
	old = umask(077);
	m->fd = mkostemp(path, O_CLOEXEC);
	(void)umask(old);
	if (m->fd == -1) {
		fail_set(f, FAIL_OS, SMTP_STAGE_NONE,
		    "cannot create a spool file in %s: %s", _PATH_SES_TMP,
		    strerror(errno));
		return -1;
	}
	(void)unlink(path);
	return 0;
}

/* Read the header block back from the spool and parse it. */
static int
msg_headers(struct msg *m, struct fail *f)
{
	char err[SES_FAIL_TEXT], *buf;
	size_t want, blen;
	ssize_t n;
	int sep;

	want = m->len > HDR_BLOCK_MAX ? HDR_BLOCK_MAX : (size_t)m->len;
	if ((buf = malloc(want + 1)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "out of memory");
		return -1;
	}
	n = pread(m->fd, buf, want, 0);
	if (n != (ssize_t)want) {
		fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "reading the spool: %s",
		    n == -1 ? strerror(errno) : "short read");
		free(buf);
		return -1;
	}
	blen = hdr_block_len(buf, want, &sep);
	if (blen == want && m->len > HDR_BLOCK_MAX) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: header block larger than %d octets",
		    HDR_BLOCK_MAX);
		free(buf);
		return -1;
	}
	m->body_off = (off_t)blen + (sep ? 1 : 0);
	m->body_sep = sep;
	if ((n = hdr_parse(buf, blen, &m->hdrs, err, sizeof(err))) != 0) {
		/* -2: memory ran out, which is not the message's fault. */
		fail_set(f, n == -2 ? FAIL_OS : FAIL_DATA, SMTP_STAGE_NONE,
		    n == -2 ? "%s" : "message refused: %s", err);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

static void
spooler_init(struct spooler *sp, struct msg *m, int ignore_dots,
    long long max_size)
{
	memset(sp, 0, sizeof(*sp));
	sp->m = m;
	sp->ignore_dots = ignore_dots;
	sp->max_size = max_size;
	sp->bol = 1;
}

struct spooler *
msg_spool_open(int ignore_dots, long long max_size, struct msg *m,
    struct fail *f)
{
	struct spooler *sp;

	if (msg_open_spool(m, f) == -1)
		return NULL;
	if ((sp = malloc(sizeof(*sp))) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "out of memory");
		msg_free(m);
		return NULL;
	}
	spooler_init(sp, m, ignore_dots, max_size);
	return sp;
}

int
msg_spool_write(struct spooler *sp, const char *buf, size_t len,
    struct fail *f)
{
	return sp->ended ? 0 : spool_feed(sp, buf, len, f);
}

int
msg_spool_ended(const struct spooler *sp)
{
	return sp->ended;
}

int
msg_spool_close(struct spooler *sp, struct fail *f)
{
	struct msg *m = sp->m;
	int rv;

	rv = spool_finish(sp, f) == 0 && msg_headers(m, f) == 0 ? 0 : -1;
	free(sp);
	if (rv == -1)
		msg_free(m);
	return rv;
}

int
msg_spool(int infd, int ignore_dots, long long max_size, struct msg *m,
    struct fail *f)
{
	struct spooler *sp;
	char *buf;
	ssize_t n;
	int rv = 0;

	if ((sp = msg_spool_open(ignore_dots, max_size, m, f)) == NULL)
		return -1;
	if ((buf = malloc(SPOOL_CHUNK)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "out of memory");
		rv = -1;
	}
	while (rv == 0) {
		n = read(infd, buf, SPOOL_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail_set(f, FAIL_IO, SMTP_STAGE_NONE,
			    "reading the message from standard input: %s",
			    strerror(errno));
			rv = -1;
		} else if (n == 0)
			break;
		else if (msg_spool_write(sp, buf, (size_t)n, f) == -1)
			rv = -1;
		/* After a lone dot the rest of stdin is not read at all. */
		else if (msg_spool_ended(sp))
			break;
	}
	free(buf);
	if (rv == -1) {
		free(sp);
		msg_free(m);
		return -1;
	}
	return msg_spool_close(sp, f);
}

int
msg_spool_buf(const char *buf, size_t len, long long max_size,
    struct msg *m, struct fail *f)
{
	struct spooler *sp;

	if ((sp = msg_spool_open(1, max_size, m, f)) == NULL)
		return -1;
	if (msg_spool_write(sp, buf, len, f) == -1) {
		free(sp);
		msg_free(m);
		return -1;
	}
	return msg_spool_close(sp, f);
}

void
wire_init(struct wire *w, wire_sink sink, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->arg = arg;
	w->bol = 1;
}

int
wire_flush(struct wire *w)
{
	int rv = 0;

	if (w->sink != NULL && w->blen > 0)
		rv = w->sink(w->arg, w->buf, w->blen);
	w->blen = 0;
	return rv;
}

static int
wire_byte(struct wire *w, char ch)
{
	if (w->blen == sizeof(w->buf) && wire_flush(w) == -1)
		return -1;
	w->buf[w->blen++] = ch;
	w->total++;
	return 0;
}

/*
 * Mid-line, the octets up to the line end (LF or CR) or the fold go out
 * as they are: copy them in bulk.  Returns how many (at least 1), or
 * (size_t)-1.
 */
static size_t
wire_run(struct wire *w, const char *p, size_t n)
{
	const char *nl;
	size_t k, room;

	if ((nl = memchr(p, '\n', n)) != NULL)
		n = (size_t)(nl - p);
	if ((nl = memchr(p, '\r', n)) != NULL)
		n = (size_t)(nl - p);
	if (n > WIRE_LINE_MAX - w->col)
		n = WIRE_LINE_MAX - w->col;
	for (k = 0; k < n; k += room) {
		if (w->blen == sizeof(w->buf) && wire_flush(w) == -1)
			return (size_t)-1;
		room = sizeof(w->buf) - w->blen;
		if (room > n - k)
			room = n - k;
		memcpy(w->buf + w->blen, p + k, room);
		w->blen += room;
	}
	w->col += n;
	w->total += (long long)n;
	w->cr = 0;
	return n;
}

/*
 * A line end.  The spool holds LF ends only, but whatever is given here
 * goes out safely and as the spool reads its input: a bare CR, which a
 * receiver may take for a line end (RFC 5321 2.3.8), ends the line as
 * LF does, and a run of CRs with or without an LF after it is one line
 * end.  Either way the next line is dot-stuffed.
 */
static int
wire_eol(struct wire *w, char ch)
{
	int after_cr = w->cr;

	w->cr = ch == '\r';
	if (after_cr)
		return 0;
	if (wire_byte(w, '\r') == -1 || wire_byte(w, '\n') == -1)
		return -1;
	w->bol = 1;
	w->col = 0;
	return 0;
}

/*
 * LF (or a bare CR) becomes CRLF; a line starting with "." gets another
 * (RFC 5321 4.5.2); a line longer than 998 octets is folded with CRLF
 * SP, as Postfix's smtp_line_length_limit does, so SES never sees one.
 */
int
wire_put(struct wire *w, const char *p, size_t n)
{
	size_t i, run;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			if (wire_eol(w, p[i]) == -1)
				return -1;
			continue;
		}
		if (!w->bol && w->col < WIRE_LINE_MAX) {
			run = wire_run(w, p + i, n - i);
			if (run == (size_t)-1)
				return -1;
			i += run - 1;
			continue;
		}
		w->cr = 0;
		if (w->bol && p[i] == '.') {
			/* Unstuffed, the line still folds where SMTP's does. */
			if (!w->nostuff && wire_byte(w, '.') == -1)
				return -1;
			w->col++;
		} else if (w->col >= WIRE_LINE_MAX) {
			if (wire_byte(w, '\r') == -1 ||
			    wire_byte(w, '\n') == -1 || wire_byte(w, ' ') == -1)
				return -1;
			w->col = 1;
			w->nfolded++;
		}
		w->bol = 0;
		if (wire_byte(w, p[i]) == -1)
			return -1;
		w->col++;
	}
	return 0;
}

static int
msg_write_headers(struct msg *m, struct wire *w)
{
	struct hdrs *h = &m->hdrs;
	size_t i;

	for (i = 0; i < h->nf; i++) {
		if (h->f[i].drop)
			continue;
		if (h->f[i].replace != NULL) {
			if (wire_put(w, h->f[i].replace,
			    strlen(h->f[i].replace)) == -1)
				return -1;
		} else if (wire_put(w, h->f[i].raw, h->f[i].rawlen) == -1)
			return -1;
	}
	for (i = 0; i < h->nadded; i++)
		if (wire_put(w, h->added[i], strlen(h->added[i])) == -1)
			return -1;
	/* The empty line between header and body, always. */
	return wire_put(w, "\n", 1);
}

int
msg_write(struct msg *m, struct wire *w, struct fail *f)
{
	char *buf;
	off_t off;
	ssize_t n;
	size_t want;

	if (msg_write_headers(m, w) == -1)
		return -1;
	if ((buf = malloc(SPOOL_CHUNK)) == NULL) {
		fail_set(f, FAIL_OS, SMTP_STAGE_BODY, "out of memory");
		return -1;
	}
	for (off = m->body_off; off < m->len; off += n) {
		want = m->len - off > SPOOL_CHUNK ? SPOOL_CHUNK :
		    (size_t)(m->len - off);
		n = pread(m->fd, buf, want, off);
		if (n <= 0) {
			fail_set(f, FAIL_OS, SMTP_STAGE_BODY,
			    "reading the spool: %s",
			    n == -1 ? strerror(errno) : "short read");
			free(buf);
			return -1;
		}
		if (wire_put(w, buf, (size_t)n) == -1) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return wire_flush(w);
}

int
msg_wire_size(struct msg *m, long long *size, size_t *nfolded,
    struct fail *f)
{
	struct wire w;

	wire_init(&w, NULL, NULL);
	if (msg_write(m, &w, f) == -1)
		return -1;
	*size = w.total;
	*nfolded = w.nfolded;
	return 0;
}

void
msg_free(struct msg *m)
{
	if (m->fd != -1)
		(void)close(m->fd);
	m->fd = -1;
	hdr_free(&m->hdrs);
}
