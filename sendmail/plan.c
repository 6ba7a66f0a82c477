/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The envelope plan: who sends, who receives, and what the header block
 * must look like for SES (design.md sections 4 and 5).  Built once per
 * message, before any connection; the default mode and -bs share it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

/*
 * "Field: name <addr>", or "Field: addr" when there is no name to show,
 * into field fld or as a new field.  name is text, written by
 * hdr_phrase() (flags) so that nothing in it can add an address, a
 * group, a comment or a mailbox.  The address goes on a line of its own
 * when it would pass 78 columns (RFC 5322 2.1.1).
 */
static int
plan_set_mailbox(struct hdrs *h, struct hdr_field *fld, const char *field,
    const char *name, int flags, const char *addr)
{
	const char *last, *sep;
	char *dn = NULL;
	size_t col;
	int rv;

	if (name != NULL && (dn = hdr_phrase(name, flags)) == NULL)
		return -1;
	if (dn == NULL || dn[0] == '\0') {
		free(dn);
		return fld != NULL ? hdr_replace(fld, "%s: %s", field, addr) :
		    hdr_add(h, "%s: %s", field, addr);
	}
	if ((last = strrchr(dn, '\n')) != NULL)
		col = strlen(last + 1);
	else
		col = strlen(field) + 2 + strlen(dn);
	sep = col + 3 + strlen(addr) > 78 ? "\n " : " ";
	if (fld != NULL)
		rv = hdr_replace(fld, "%s: %s%s<%s>", field, dn, sep, addr);
	else
		rv = hdr_add(h, "%s: %s%s<%s>", field, dn, sep, addr);
	free(dn);
	return rv;
}

/*
 * Replace fld by from alone, keeping the display name of its first
 * mailbox (encoded words and all, as text: never as written).
 */
static int
plan_rewrite(struct hdrs *h, struct hdr_field *fld, const char *field,
    const struct addrlist *l, const char *from)
{
	char *text = NULL;
	int odd, rv;

	if (l->v[0].name != NULL &&
	    addr_name_text(l->v[0].name, &text, &odd) == -1)
		return -1;
	rv = plan_set_mailbox(h, fld, field, text, HDR_PHRASE_EW, from);
	free(text);
	return rv;
}

static int
plan_oom(struct fail *f)
{
	fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "out of memory");
	return -1;
}

/*
 * The mailboxes of a header field (at least one), or -1 with a reason in
 * err (-2 when memory ran out).
 */
static int
plan_mailboxes(struct hdr_field *fld, struct addrlist *l, char *err,
    size_t errlen)
{
	char *v;
	int rv;

	if ((v = strndup(fld->value, fld->valuelen)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -2;
	}
	/* Unfold: a line end before white space is not content. */
	for (rv = 0; v[rv] != '\0'; rv++)
		if (v[rv] == '\n')
			v[rv] = ' ';
	rv = addr_parse_list(v, strlen(v), l, err, errlen);
	free(v);
	if (rv == 0 && l->n == 0) {
		(void)snprintf(err, errlen, "no address");
		return -1;
	}
	return rv;
}

/* design.md 5: can this address not be an SES identity as it stands? */
static int
plan_needs_from(const struct conf *c, const char *addr)
{
	if (addr_is_local(addr))
		return 1;
	return c->nverified > 0 && !conf_is_verified(c, addr);
}

/* What in a From: or Sender: field from must replace. */
struct judge {
	const char	*addr;		/* the first such mailbox, or NULL */
	const char	*local;		/* the first local one, or NULL */
	const char	*outside;	/* the first other one, or NULL */
	const char	*why;		/* why outside is, for the log */
};

/*
 * Judge every mailbox, not only the first: a reader may show any of
 * them.  Local ones can never be SES identities; with verified_domains,
 * one outside it cannot be either, nor one whose display name holds an
 * '@' outside quotes (a reader may take the name for the address).
 * Returns 0, or -1 out of memory.
 */
static int
plan_judge(const struct conf *c, const struct addrlist *l, struct judge *j)
{
	const char *a, *why;
	size_t i;
	int odd;

	memset(j, 0, sizeof(*j));
	for (i = 0; i < l->n; i++) {
		a = l->v[i].addr;
		why = NULL;
		if (addr_is_local(a)) {
			if (j->local == NULL)
				j->local = a;
		} else if (c->nverified > 0 && !conf_is_verified(c, a))
			why = "outside verified_domains";
		else if (c->nverified > 0 && l->v[i].name != NULL) {
			if (addr_name_text(l->v[i].name, NULL, &odd) == -1)
				return -1;
			if (odd)
				why = "an address in its display name";
		}
		if (why != NULL && j->outside == NULL) {
			j->outside = a;
			j->why = why;
		}
		if (j->addr == NULL && (j->local == a || j->outside == a))
			j->addr = a;
	}
	return 0;
}

/* The log line of a rewrite (from) or a removal (NULL) because of a. */
static void
plan_log_judged(const char *field, const char *a, const char *why,
    size_t n, const char *from)
{
	char more[48] = "", because[64] = "";

	if (n > 1)
		(void)snprintf(more, sizeof(more), " (one of %zu mailboxes)",
		    n);
	if (why != NULL)
		(void)snprintf(because, sizeof(because), " (%s)", why);
	if (from != NULL)
		log_info("%s: <%s>%s replaced by from <%s>%s", field, a, more,
		    from, because);
	else
		log_info("%s: <%s>%s removed%s", field, a, more, because);
}

/*
 * The envelope sender from the message: the first mailbox of From:, or
 * the caller at this host when there is no From:.  A From: that does
 * not parse is refused as plan_from_header() refuses it (design.md 4),
 * not taken for a missing one.
 */
static int
plan_sender_from(const struct plan_opts *o, struct msg *m, struct plan *p,
    struct fail *f)
{
	char err[SES_FAIL_TEXT];
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	size_t i = 0;
	int rv;

	if ((fld = hdr_find(&m->hdrs, "From", &i)) == NULL) {
		(void)snprintf(p->sender, sizeof(p->sender), "%s@%s",
		    o->caller, addr_fqdn());
		return 0;
	}
	if ((rv = plan_mailboxes(fld, &l, err, sizeof(err))) != 0) {
		fail_set(f, rv == -2 ? FAIL_OS : FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: bad From: header: %s", err);
		addr_free(&l);
		return -1;
	}
	(void)strlcpy(p->sender, l.v[0].addr, sizeof(p->sender));
	addr_free(&l);
	return 0;
}

static int
plan_sender(const struct conf *c, const struct plan_opts *o, struct msg *m,
    struct plan *p, struct fail *f)
{
	char err[SES_FAIL_TEXT], orig[SES_MAX_ADDR + 1];
	int rv;

	if (o->sender != NULL) {
		if ((rv = addr_parse_sender(o->sender, p->sender,
		    sizeof(p->sender), err, sizeof(err))) != 0) {
			fail_set(f, rv == -2 ? FAIL_OS : FAIL_USAGE,
			    SMTP_STAGE_NONE, "bad sender address (-f): %s",
			    err);
			return -1;
		}
		if (p->sender[0] == '\0' && c->from == NULL) {
			fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
			    "the null sender (-f '<>') is refused by SES: "
			    "set from in %s", c->path);
			return -1;
		}
	} else if (c->from != NULL)
		(void)strlcpy(p->sender, c->from, sizeof(p->sender));
	else if (plan_sender_from(o, m, p, f) == -1)
		return -1;
	if (p->sender[0] != '\0' && !plan_needs_from(c, p->sender))
		return 0;
	if (c->from == NULL) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE,
		    "sender <%s> cannot be an SES identity (%s): set from in "
		    "%s", p->sender, addr_is_local(p->sender) ? "no domain, "
		    "or a local one" : "outside verified_domains", c->path);
		return -1;
	}
	(void)strlcpy(orig, p->sender, sizeof(orig));
	(void)strlcpy(p->sender, c->from, sizeof(p->sender));
	log_info("envelope sender <%s> replaced by from <%s>", orig, c->from);
	return 0;
}

/* Add one recipient, sending a local one to admin_address. */
static int
plan_add_rcpt(const struct conf *c, struct plan *p, const struct addr *a,
    char *locals, size_t localslen)
{
	struct addr admin = { c->admin_address, NULL };

	if (addr_is_local(a->addr)) {
		if (c->admin_address == NULL) {
			if (locals[0] != '\0')
				(void)strlcat(locals, ", ", localslen);
			(void)strlcat(locals, a->addr, localslen);
			return 0;
		}
		log_info("local recipient <%s> sent to admin_address <%s>",
		    a->addr, c->admin_address);
		a = &admin;
	}
	if (p->rcpts.n >= SES_MAX_RCPTS)
		return 0;
	return addr_add_unique(&p->rcpts, a->addr, NULL) == -1 ? -1 : 0;
}

static int
plan_recipients(const struct conf *c, const struct plan_opts *o,
    struct msg *m, struct plan *p, struct fail *f)
{
	char err[SES_FAIL_TEXT], locals[SES_FAIL_TEXT] = "";
	struct addrlist l = { NULL, 0, 0 };
	size_t i;
	int r, rv = -1;

	for (i = 0; i < o->nrcpts; i++)
		if ((r = addr_parse_list(o->rcpts[i], strlen(o->rcpts[i]), &l,
		    err, sizeof(err))) != 0) {
			fail_set(f, r == -2 ? FAIL_OS : FAIL_DATA,
			    SMTP_STAGE_NONE, "bad recipient address: %s", err);
			goto out;
		}
	if (o->extract && (r = hdr_recipients(&m->hdrs, &l, err,
	    sizeof(err))) != 0) {
		fail_set(f, r == -2 ? FAIL_OS : FAIL_DATA, SMTP_STAGE_NONE,
		    "bad recipient address in the header (-t): %s", err);
		goto out;
	}
	if (l.n > SES_MAX_RCPTS) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: more than %d recipients", SES_MAX_RCPTS);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (plan_add_rcpt(c, p, &l.v[i], locals,
		    sizeof(locals)) == -1) {
			plan_oom(f);
			goto out;
		}
	if (locals[0] != '\0') {
		fail_set(f, FAIL_NOUSER, SMTP_STAGE_NONE,
		    "local recipient %s refused: nothing was sent", locals);
		goto out;
	}
	if (p->rcpts.n == 0) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "no recipients: give them as arguments, or use -t with "
		    "To:, Cc: or Bcc: in the message");
		goto out;
	}
	rv = 0;
out:
	addr_free(&l);
	return rv;
}

/*
 * Reply-To: when there is none, for a rewritten From: its addresses that
 * are not local, so that replies still reach the author.
 */
static int
plan_reply_to(struct msg *m, const struct addrlist *l)
{
	const char *a, *lf;
	char *v = NULL, *nv;
	size_t i, col = 10;	/* "Reply-To: " */
	int rv;

	if (hdr_count(&m->hdrs, "Reply-To") > 0)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (addr_is_local(a = l->v[i].addr))
			continue;
		if (v == NULL)
			rv = asprintf(&nv, "%s", a);
		else
			rv = asprintf(&nv, "%s,%s%s", v,
			    col + 2 + strlen(a) > 78 ? "\n " : " ", a);
		free(v);
		if (rv == -1)
			return -1;
		v = nv;
		col = (lf = strrchr(v, '\n')) != NULL ? strlen(lf + 1) : 10 +
		    strlen(v);
	}
	rv = v == NULL ? 0 : hdr_add(&m->hdrs, "Reply-To: %s", v);
	free(v);
	return rv;
}

/*
 * From: added when missing, with the -F name or the caller's, shown as
 * a name only.  One with a local mailbox, or (verified_domains) one
 * outside it, becomes from alone keeping the first display name; its
 * other addresses go to Reply-To: when there is none.
 */
static int
plan_from_header(const struct conf *c, const struct plan_opts *o,
    struct msg *m, struct plan *p, struct fail *f)
{
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	struct judge j;
	char err[SES_FAIL_TEXT];
	size_t i = 0;
	int rv = -1, bad;

	if ((fld = hdr_find(&m->hdrs, "From", &i)) == NULL)
		return plan_set_mailbox(&m->hdrs, NULL, "From", o->fullname ?
		    o->fullname : o->caller_name, 0, p->sender) == -1 ?
		    plan_oom(f) : 0;
	if ((bad = plan_mailboxes(fld, &l, err, sizeof(err))) != 0) {
		fail_set(f, bad == -2 ? FAIL_OS : FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: bad From: header: %s", err);
		goto out;
	}
	if (plan_judge(c, &l, &j) == -1) {
		plan_oom(f);
		goto out;
	}
	/* A local From: can never be an SES identity. */
	if (j.local != NULL && c->from == NULL) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE,
		    "From: <%s> cannot be an SES identity (no domain, or a "
		    "local one): set from in %s", j.local, c->path);
		goto out;
	}
	if (j.addr == NULL || c->from == NULL) {
		rv = 0;
		goto out;
	}
	plan_log_judged("From", j.addr, j.addr == j.outside ? j.why : NULL,
	    l.n, c->from);
	if (plan_rewrite(&m->hdrs, fld, "From", &l, c->from) == -1 ||
	    plan_reply_to(m, &l) == -1) {
		plan_oom(f);
		goto out;
	}
	rv = 0;
out:
	addr_free(&l);
	return rv;
}

/*
 * Sender: judged as From: is.  Local mailboxes only: from replaces it;
 * one outside verified_domains: it is removed, as is one that cannot be
 * parsed (nothing shows it is inside).
 */
static int
plan_sender_header(const struct conf *c, struct msg *m, struct fail *f)
{
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	struct judge j;
	char err[SES_FAIL_TEXT];
	size_t i = 0;
	int rv = 0, bad;

	if ((fld = hdr_find(&m->hdrs, "Sender", &i)) == NULL ||
	    c->from == NULL)
		return 0;
	if ((bad = plan_mailboxes(fld, &l, err, sizeof(err))) != 0) {
		if (bad == -2)
			rv = plan_oom(f);
		else if (c->nverified > 0) {
			log_info("Sender: removed: %s", err);
			fld->drop = 1;
		}
		goto out;
	}
	if (plan_judge(c, &l, &j) == -1)
		rv = plan_oom(f);
	else if (j.addr != NULL && j.outside == NULL) {
		plan_log_judged("Sender", j.addr, NULL, l.n, c->from);
		if (plan_rewrite(&m->hdrs, fld, "Sender", &l, c->from) == -1)
			rv = plan_oom(f);
	} else if (j.addr != NULL) {
		plan_log_judged("Sender", j.outside, j.why, l.n, NULL);
		fld->drop = 1;
	}
out:
	addr_free(&l);
	return rv;
}

/* Date:, Message-ID: and X-SES-CONFIGURATION-SET: when missing. */
static int
plan_add_headers(const struct conf *c, struct msg *m, struct plan *p)
{
	char date[64];
	const char *dom;
	time_t now;
	struct tm tm;

	now = time(NULL);
	if (hdr_count(&m->hdrs, "Date") == 0) {
		if (localtime_r(&now, &tm) == NULL || strftime(date,
		    sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
			return -1;
		if (hdr_add(&m->hdrs, "Date: %s", date) == -1)
			return -1;
	}
	if (hdr_count(&m->hdrs, "Message-ID") == 0) {
		dom = addr_domain(p->sender);
		if (hdr_add(&m->hdrs, "Message-ID: <%lld.%08x%08x@%s>",
		    (long long)now, arc4random(), arc4random(),
		    dom ? dom : addr_fqdn()) == -1)
			return -1;
	}
	if (c->configuration_set != NULL &&
	    hdr_count(&m->hdrs, "X-SES-CONFIGURATION-SET") == 0 &&
	    hdr_add(&m->hdrs, "X-SES-CONFIGURATION-SET: %s",
	    c->configuration_set) == -1)
		return -1;
	return 0;
}

int
plan_build(const struct conf *c, const struct plan_opts *o, struct msg *m,
    struct plan *p, struct fail *f)
{
	char err[SES_FAIL_TEXT];
	size_t nfolded;

	memset(p, 0, sizeof(*p));
	p->msg = m;
	p->body8 = o->body;
	/* Fields we remove cannot be duplicates SES sees; -t still reads
	 * Bcc from the dropped fields. */
	hdr_remove_always(&m->hdrs);
	if (hdr_check_unique(&m->hdrs, err, sizeof(err)) == -1) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE, "message refused: %s",
		    err);
		return -1;
	}
	if (plan_sender(c, o, m, p, f) == -1 ||
	    plan_recipients(c, o, m, p, f) == -1)
		return -1;
	if (plan_from_header(c, o, m, p, f) == -1 ||
	    plan_sender_header(c, m, f) == -1)
		return -1;
	if (plan_add_headers(c, m, p) == -1)
		return plan_oom(f);
	if (msg_wire_size(m, &p->size, &nfolded, f) == -1)
		return -1;
	if (p->size > c->max_message_size) {
		fail_set(f, FAIL_DATA, SMTP_STAGE_NONE,
		    "message refused: %lld octets, more than max_message_size "
		    "(%lld; SES takes 40 MB)", p->size, c->max_message_size);
		return -1;
	}
	if (nfolded > 0)
		log_warn("lines longer than %d octets folded: %zu CRLF SP "
		    "inserted (RFC 5322 2.1.1)", WIRE_LINE_MAX, nfolded);
	if ((p->done = calloc(p->rcpts.n, sizeof(*p->done))) == NULL)
		return plan_oom(f);
	return 0;
}

void
plan_free(struct plan *p)
{
	addr_free(&p->rcpts);
	free(p->done);
	p->done = NULL;
}
