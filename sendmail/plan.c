/*
 * The envelope plan: who sends, who receives, and what the header block
 * must look like for SES (SPEC sections 4 and 5).  Built once per
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
 * A display name ready for a header: as written when it is already a
 * quoted string or an encoded word; RFC 2047 B-encoded when it has
 * non-ASCII octets; quoted when it has specials (RFC 5322 3.2.3).
 */
static char *
plan_display_name(const char *name)
{
	const char *p;
	char *b64, *out;
	int specials = 0, eightbit = 0;

	if (name[0] == '"' || strncmp(name, "=?", 2) == 0)
		return strdup(name);
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			eightbit = 1;
		else if (strchr("()<>[]:;@\\,.\"", *p) != NULL)
			specials = 1;
	}
	if (eightbit) {
		if ((b64 = creds_base64(name)) == NULL)
			return NULL;
		out = NULL;
		if (asprintf(&out, "=?UTF-8?B?%s?=", b64) == -1)
			out = NULL;
		free(b64);
		return out;
	}
	if (!specials)
		return strdup(name);
	/* Escape backslashes and quotes inside the quoted string. */
	if ((out = malloc(strlen(name) * 2 + 3)) == NULL)
		return NULL;
	b64 = out;
	*b64++ = '"';
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			*b64++ = '\\';
		*b64++ = *p;
	}
	*b64++ = '"';
	*b64 = '\0';
	return out;
}

/* "Field: Name <addr>" or "Field: addr" into field f, or a new field. */
static int
plan_set_mailbox(struct hdrs *h, struct hdr_field *fld, const char *field,
    const char *name, const char *addr)
{
	char *dn = NULL;
	int rv;

	if (name != NULL && name[0] != '\0' &&
	    (dn = plan_display_name(name)) == NULL)
		return -1;
	if (fld != NULL)
		rv = dn ? hdr_replace(fld, "%s: %s <%s>", field, dn, addr) :
		    hdr_replace(fld, "%s: %s", field, addr);
	else
		rv = dn ? hdr_add(h, "%s: %s <%s>", field, dn, addr) :
		    hdr_add(h, "%s: %s", field, addr);
	free(dn);
	return rv;
}

static int
plan_oom(struct fail *f)
{
	fail_set(f, FAIL_OS, SMTP_STAGE_NONE, "out of memory");
	return -1;
}

/*
 * The first mailbox of a header field, or -1 with a reason in err (-2 when
 * memory ran out).
 */
static int
plan_first_mailbox(struct hdr_field *fld, struct addrlist *l, char *err,
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

/* SPEC 5: can this address not be an SES identity as it stands? */
static int
plan_needs_from(const struct conf *c, const char *addr)
{
	if (addr_is_local(addr))
		return 1;
	return c->nverified > 0 && !conf_is_verified(c, addr);
}

static int
plan_sender(const struct conf *c, const struct plan_opts *o, struct msg *m,
    struct plan *p, struct fail *f)
{
	char err[SES_FAIL_TEXT], orig[SES_MAX_ADDR + 1];
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	size_t i = 0;
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
	else if ((fld = hdr_find(&m->hdrs, "From", &i)) != NULL &&
	    plan_first_mailbox(fld, &l, err, sizeof(err)) == 0)
		(void)strlcpy(p->sender, l.v[0].addr, sizeof(p->sender));
	else
		(void)snprintf(p->sender, sizeof(p->sender), "%s@%s",
		    o->caller, addr_fqdn());
	addr_free(&l);
	if (p->sender[0] != '\0' && !plan_needs_from(c, p->sender))
		return 0;
	if (c->from == NULL) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE,
		    "sender <%s> cannot be an SES identity (no domain, or a "
		    "local one): set from in %s", p->sender, c->path);
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
 * From: added when missing; a local one, or one outside verified_domains,
 * replaced by from keeping its display name (the original goes to
 * Reply-To: when there is none).  Sender: likewise, or removed.
 */
static int
plan_from_header(const struct conf *c, const struct plan_opts *o,
    struct msg *m, struct plan *p, struct fail *f)
{
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	char err[SES_FAIL_TEXT];
	size_t i = 0;
	int local, rv = -1;

	if ((fld = hdr_find(&m->hdrs, "From", &i)) == NULL)
		return plan_set_mailbox(&m->hdrs, NULL, "From", o->fullname ?
		    o->fullname : o->caller_name, p->sender) == -1 ?
		    plan_oom(f) : 0;
	if ((local = plan_first_mailbox(fld, &l, err, sizeof(err))) != 0) {
		fail_set(f, local == -2 ? FAIL_OS : FAIL_DATA,
		    SMTP_STAGE_NONE, "message refused: bad From: header: %s",
		    err);
		goto out;
	}
	local = addr_is_local(l.v[0].addr);
	/* SPEC 5: a local From: can never be an SES identity. */
	if (local && c->from == NULL) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE,
		    "From: <%s> cannot be an SES identity (no domain, or a "
		    "local one): set from in %s", l.v[0].addr, c->path);
		goto out;
	}
	if (!plan_needs_from(c, l.v[0].addr) || c->from == NULL) {
		rv = 0;
		goto out;
	}
	log_info("From: <%s> replaced by from <%s>%s", l.v[0].addr, c->from,
	    local ? "" : " (outside verified_domains)");
	if (plan_set_mailbox(&m->hdrs, fld, "From", l.v[0].name, c->from) ==
	    -1 || (!local && hdr_count(&m->hdrs, "Reply-To") == 0 &&
	    hdr_add(&m->hdrs, "Reply-To: %s", l.v[0].addr) == -1)) {
		plan_oom(f);
		goto out;
	}
	rv = 0;
out:
	addr_free(&l);
	return rv;
}

static int
plan_sender_header(const struct conf *c, struct msg *m, struct fail *f)
{
	struct addrlist l = { NULL, 0, 0 };
	struct hdr_field *fld;
	char err[SES_FAIL_TEXT];
	size_t i = 0;
	int rv = 0;

	if ((fld = hdr_find(&m->hdrs, "Sender", &i)) == NULL)
		return 0;
	/* A Sender: that cannot be parsed is left as it is. */
	if (plan_first_mailbox(fld, &l, err, sizeof(err)) != 0 ||
	    !plan_needs_from(c, l.v[0].addr) || c->from == NULL)
		goto out;
	if (addr_is_local(l.v[0].addr)) {
		log_info("Sender: <%s> replaced by from <%s>", l.v[0].addr,
		    c->from);
		if (plan_set_mailbox(&m->hdrs, fld, "Sender", l.v[0].name,
		    c->from) == -1)
			rv = plan_oom(f);
	} else {
		log_info("Sender: <%s> removed (outside verified_domains)",
		    l.v[0].addr);
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
