/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Every failure's fate, in one place: whether it is transient, whether
 * another attempt may help, its sysexits code, the reply -bs gives for
 * it, and what to tell the user.  Modules classify a failure where they
 * detect it (fail_set: a kind, the stage, SES's reply code and text);
 * everything that follows from it is decided here, by the table or by
 * the one function each rule has.  Adding a transport means adding rows.
 * The codes are design.md 8; the SES replies ses.md 5.3.
 */#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "extern.h"

#define ANY_STAGE	SMTP_STAGE_NONE

struct rule {
	enum fail_kind	 kind;
	enum smtp_stage	 stage;		/* ANY_STAGE matches all */
	int		 lo, hi;	/* reply code range; 0 0: any */
	const char	*type;		/* FAIL_API's error type, or NULL */
	const char	*text;		/* substring of the reply, or NULL */
	int		 transient;	/* the condition may pass */
	int		 retry;		/* another attempt now may help */
	int		 throttle;	/* the sending rate: backoff */
	int		 ex;		/* the sysexits code */
	const char	*advice;	/* what to do, or NULL */
};

static const char ADV_CREDS[] =
    "SES SMTP credentials are not the IAM access keys: set password to the "
    "SMTP password, or aws_secret_access_key to derive it for region";
static const char ADV_VERIFY[] =
    "verify the identity in SES for this region, or set from and "
    "verified_domains in the configuration";
static const char ADV_IAM[] =
    "allow ses:SendRawEmail for the IAM user whose SMTP credentials are "
    "configured";
static const char ADV_QUOTA[] =
    "the 24-hour sending quota is used up: try again later or ask AWS for "
    "a higher quota";
static const char ADV_RATE[] =
    "SES's maximum send rate was exceeded until retry_deadline: set "
    "max_send_rate to the account's rate, or raise retry_deadline";
static const char ADV_TLS[] =
    "check host (the name must match the certificate) and ca_file";
static const char ADV_HOST[] =
    "check region and host in the configuration";
static const char ADV_KEYS[] =
    "check aws_access_key_id and aws_secret_access_key (the IAM keys, not "
    "the SMTP credentials)";
static const char ADV_CLOCK[] =
    "check the keys, and this host's clock: AWS refuses a signature more "
    "than 5 minutes off";
static const char ADV_API_IAM[] =
    "allow ses:SendRawEmail (and ses:SendEmail) for the IAM identity of "
    "these keys";
static const char ADV_EXPIRED[] =
    "the temporary keys expired (fresh ones were fetched once when their "
    "source renews them): renew aws_session_token, or check the source "
    "and this host's clock";
static const char ADV_RETRY[] =
    "the message was not sent; try again later";
/* The caller's resource limits (setrlimit(2)), by what the system said. */
static const char ADV_NOFILE[] =
    "raise the limit on open files (ulimit -n)";
static const char ADV_FSIZE[] =
    "raise the file size limit (ulimit -f)";
static const char ADV_MEMORY[] =
    "raise the memory limits (ulimit -v, ulimit -d) or free memory";

/* First match wins: specific replies before reply classes. */
static const struct rule rules[] = {
	{ .kind = FAIL_USAGE, .ex = EX_USAGE },
	{ .kind = FAIL_DATA, .ex = EX_DATAERR },
	{ .kind = FAIL_NOUSER, .ex = EX_NOUSER,
	    .advice = "set admin_address to deliver mail for local users" },
	{ .kind = FAIL_NOHOST, .ex = EX_NOHOST, .advice = ADV_HOST },
	{ .kind = FAIL_CONFIG, .ex = EX_CONFIG },
	/* The credential chain (design.md 12): nothing found, or an
	 * endpoint that should answer did not (retried). */
	{ .kind = FAIL_CREDS, .ex = EX_CONFIG,
	    .advice = "set aws_access_key_id and aws_secret_access_key, or "
	    "attach a role to this instance, task or pod "
	    "(ses-sendmail.conf(5), credentials)" },
	{ .kind = FAIL_CREDS_TEMP, .transient = 1, .retry = 1,
	    .ex = EX_TEMPFAIL, .advice = ADV_RETRY },
	{ .kind = FAIL_NOPERM, .ex = EX_NOPERM },
	{ .kind = FAIL_OS, .text = "Too many open files", .ex = EX_OSERR,
	    .advice = ADV_NOFILE },
	{ .kind = FAIL_OS, .text = "File too large", .ex = EX_OSERR,
	    .advice = ADV_FSIZE },
	{ .kind = FAIL_OS, .text = "Cannot allocate memory", .ex = EX_OSERR,
	    .advice = ADV_MEMORY },
	{ .kind = FAIL_OS, .text = "out of memory", .ex = EX_OSERR,
	    .advice = ADV_MEMORY },
	{ .kind = FAIL_OS, .ex = EX_OSERR },
	{ .kind = FAIL_IO, .text = "File too large", .ex = EX_IOERR,
	    .advice = ADV_FSIZE },
	{ .kind = FAIL_IO, .ex = EX_IOERR },
	{ .kind = FAIL_SOFTWARE, .ex = EX_SOFTWARE },
	/* The host's pacer booked past the deadline: its line says it all. */
	{ .kind = FAIL_RATE, .transient = 1, .ex = EX_TEMPFAIL },
	{ .kind = FAIL_DNS, .transient = 1, .retry = 1, .ex = EX_TEMPFAIL,
	    .advice = ADV_RETRY },
	{ .kind = FAIL_NET, .transient = 1, .retry = 1, .ex = EX_TEMPFAIL,
	    .advice = ADV_RETRY },
	{ .kind = FAIL_TLS, .transient = 1, .retry = 1, .ex = EX_TEMPFAIL,
	    .advice = ADV_RETRY },
	{ .kind = FAIL_TLS_VERIFY, .ex = EX_UNAVAILABLE, .advice = ADV_TLS },
	{ .kind = FAIL_NOTLS, .ex = EX_UNAVAILABLE,
	    .advice = "use port 465 (tls wrapper) or 587 (starttls) of the "
	    "SES endpoint" },
	{ .kind = FAIL_NOAUTH, .ex = EX_UNAVAILABLE,
	    .advice = "check that host is the SES SMTP endpoint" },
	{ .kind = FAIL_PROTOCOL, .stage = SMTP_STAGE_RESPONSE,
	    .ex = EX_PROTOCOL,
	    .advice = "check that api_endpoint is the SES API endpoint" },
	{ .kind = FAIL_PROTOCOL, .ex = EX_PROTOCOL,
	    .advice = "check that host and port are the SES SMTP endpoint" },
	/*
	 * The SES API (design.md 12): by the error type, as botocore reads
	 * it; the daily quota by its text, whatever the type.
	 */
	{ .kind = FAIL_API, .text = "Daily message quota exceeded",
	    .transient = 1, .ex = EX_TEMPFAIL, .advice = ADV_QUOTA },
	/* The sending rate (design.md 7, "Sending rate"). */
	{ .kind = FAIL_API, .lo = 429, .hi = 429, .transient = 1, .retry = 1,
	    .throttle = 1, .ex = EX_TEMPFAIL, .advice = ADV_RATE },
	{ .kind = FAIL_API, .type = "TooManyRequestsException",
	    .transient = 1, .retry = 1, .throttle = 1, .ex = EX_TEMPFAIL,
	    .advice = ADV_RATE },
	{ .kind = FAIL_API, .type = "Throttling", .transient = 1, .retry = 1,
	    .throttle = 1, .ex = EX_TEMPFAIL, .advice = ADV_RATE },
	{ .kind = FAIL_API, .type = "ThrottlingException", .transient = 1,
	    .retry = 1, .throttle = 1, .ex = EX_TEMPFAIL, .advice = ADV_RATE },
	{ .kind = FAIL_API, .lo = 500, .hi = 599, .transient = 1, .retry = 1,
	    .ex = EX_TEMPFAIL, .advice = ADV_RETRY },
	{ .kind = FAIL_API, .type = "MessageRejected", .text = "not verified",
	    .ex = EX_UNAVAILABLE, .advice = ADV_VERIFY },
	{ .kind = FAIL_API, .type = "MessageRejected", .ex = EX_UNAVAILABLE },
	{ .kind = FAIL_API, .type = "MailFromDomainNotVerifiedException",
	    .ex = EX_UNAVAILABLE, .advice = ADV_VERIFY },
	{ .kind = FAIL_API, .type = "AccountSuspendedException",
	    .ex = EX_UNAVAILABLE,
	    .advice = "SES suspended sending for this account: see the "
	    "account dashboard in the SES console" },
	{ .kind = FAIL_API, .type = "SendingPausedException",
	    .ex = EX_UNAVAILABLE,
	    .advice = "sending is paused for this account or configuration "
	    "set: resume it in SES" },
	{ .kind = FAIL_API, .type = "BadRequestException", .ex = EX_DATAERR },
	{ .kind = FAIL_API, .type = "NotFoundException", .ex = EX_CONFIG,
	    .advice = "check configuration_set: SES has no such configuration "
	    "set in this region" },
	{ .kind = FAIL_API, .type = "SignatureDoesNotMatch", .ex = EX_NOPERM,
	    .advice = ADV_CLOCK },
	{ .kind = FAIL_API, .type = "InvalidSignatureException",
	    .ex = EX_NOPERM, .advice = ADV_CLOCK },
	{ .kind = FAIL_API, .type = "UnrecognizedClientException",
	    .ex = EX_NOPERM, .advice = ADV_KEYS },
	{ .kind = FAIL_API, .type = "InvalidClientTokenId", .ex = EX_NOPERM,
	    .advice = ADV_KEYS },
	{ .kind = FAIL_API, .type = "AccessDeniedException", .ex = EX_NOPERM,
	    .advice = ADV_API_IAM },
	{ .kind = FAIL_API, .type = "ExpiredToken", .ex = EX_NOPERM,
	    .advice = ADV_EXPIRED },
	{ .kind = FAIL_API, .type = "ExpiredTokenException", .ex = EX_NOPERM,
	    .advice = ADV_EXPIRED },
	{ .kind = FAIL_API, .lo = 400, .hi = 499, .ex = EX_UNAVAILABLE },
	{ .kind = FAIL_API, .ex = EX_PROTOCOL },
	/* Retrying a used-up daily quota within a minute is pointless. */
	{ .kind = FAIL_REPLY, .lo = 454, .hi = 454,
	    .text = "Daily message quota exceeded", .transient = 1,
	    .ex = EX_TEMPFAIL, .advice = ADV_QUOTA },
	{ .kind = FAIL_REPLY, .lo = 454, .hi = 454,
	    .text = "Maximum sending rate exceeded", .transient = 1,
	    .retry = 1, .throttle = 1, .ex = EX_TEMPFAIL, .advice = ADV_RATE },
	{ .kind = FAIL_REPLY, .lo = 400, .hi = 499, .transient = 1, .retry = 1,
	    .ex = EX_TEMPFAIL, .advice = ADV_RETRY },
	{ .kind = FAIL_REPLY, .lo = 535, .hi = 535, .ex = EX_NOPERM,
	    .advice = ADV_CREDS },
	{ .kind = FAIL_REPLY, .lo = 530, .hi = 530, .text = "STARTTLS",
	    .ex = EX_PROTOCOL,
	    .advice = "the server wants STARTTLS: set tls starttls for this "
	    "port" },
	{ .kind = FAIL_REPLY, .lo = 530, .hi = 530, .ex = EX_NOPERM,
	    .advice = ADV_CREDS },
	{ .kind = FAIL_REPLY, .lo = 552, .hi = 552, .ex = EX_DATAERR,
	    .advice = "SES takes at most 40 MB per message, attachments "
	    "included" },
	{ .kind = FAIL_REPLY, .lo = 554, .hi = 554,
	    .text = "Transaction failed", .ex = EX_DATAERR },
	{ .kind = FAIL_REPLY, .stage = SMTP_STAGE_MAIL, .lo = 500, .hi = 599,
	    .ex = EX_DATAERR, .advice = "check the sender address (-f, from)" },
	{ .kind = FAIL_REPLY, .stage = SMTP_STAGE_RCPT, .lo = 500, .hi = 599,
	    .ex = EX_NOUSER },
	{ .kind = FAIL_REPLY, .lo = 554, .hi = 554, .text = "not verified",
	    .ex = EX_UNAVAILABLE, .advice = ADV_VERIFY },
	{ .kind = FAIL_REPLY, .lo = 554, .hi = 554, .text = "Access denied",
	    .ex = EX_UNAVAILABLE, .advice = ADV_IAM },
	{ .kind = FAIL_REPLY, .lo = 500, .hi = 599, .ex = EX_UNAVAILABLE },
	/* A reply outside 4xx/5xx where one of them was due. */
	{ .kind = FAIL_REPLY, .ex = EX_PROTOCOL },
};

static const struct rule *
fail_rule(const struct fail *f)
{
	const struct rule *r;
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		r = &rules[i];
		if (r->kind != f->kind)
			continue;
		if (r->stage != ANY_STAGE && r->stage != f->stage)
			continue;
		if (r->lo != 0 && (f->code < r->lo || f->code > r->hi))
			continue;
		if (r->text != NULL && strcasestr(f->text, r->text) == NULL)
			continue;
		if (r->type != NULL && strcmp(f->type, r->type) != 0)
			continue;
		return r;
	}
	return NULL;
}

int
fail_exit(const struct fail *f)
{
	const struct rule *r;

	if (f->kind == FAIL_NONE)
		return EX_OK;
	if ((r = fail_rule(f)) == NULL)
		return EX_SOFTWARE;
	return r->ex;
}

int
fail_transient(const struct fail *f)
{
	const struct rule *r;

	r = fail_rule(f);
	return r != NULL && r->transient;
}

int
fail_retryable(const struct fail *f)
{
	const struct rule *r;

	r = fail_rule(f);
	return r != NULL && r->retry;
}

int
fail_throttled(const struct fail *f)
{
	const struct rule *r;

	r = fail_rule(f);
	return r != NULL && r->throttle;
}

const char *
fail_advice(const struct fail *f)
{
	const struct rule *r;

	r = fail_rule(f);
	return r != NULL ? r->advice : NULL;
}

const char *
fail_stage_name(enum smtp_stage stage)
{
	static const char *const names[] = {
		[SMTP_STAGE_NONE] = "",
		[SMTP_STAGE_RESOLVE] = "resolving the SES endpoint",
		[SMTP_STAGE_CONNECT] = "connecting",
		[SMTP_STAGE_GREETING] = "greeting",
		[SMTP_STAGE_EHLO] = "EHLO",
		[SMTP_STAGE_STARTTLS] = "STARTTLS",
		[SMTP_STAGE_TLS] = "TLS handshake",
		[SMTP_STAGE_AUTH] = "AUTH",
		[SMTP_STAGE_READY] = "between messages",
		[SMTP_STAGE_MAIL] = "MAIL FROM",
		[SMTP_STAGE_RCPT] = "RCPT TO",
		[SMTP_STAGE_DATA] = "DATA",
		[SMTP_STAGE_BODY] = "end of data",
		[SMTP_STAGE_QUIT] = "QUIT",
		[SMTP_STAGE_FAILED] = "",
		[SMTP_STAGE_REQUEST] = "HTTP request",
		[SMTP_STAGE_RESPONSE] = "HTTP response",
	};

	if ((size_t)stage >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[stage];
}

void
fail_set(struct fail *f, enum fail_kind kind, enum smtp_stage stage,
    const char *fmt, ...)
{
	char tmp[SES_FAIL_TEXT];
	va_list ap;

	f->kind = kind;
	f->stage = stage;
	va_start(ap, fmt);
	(void)vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	log_sanitize(f->text, sizeof(f->text), tmp, strlen(tmp));
}

const char *
fail_line(const struct fail *f, char *buf, size_t len)
{
	const char *advice = fail_advice(f);

	(void)snprintf(buf, len, "%s%s%s", f->text, advice ? "; " : "",
	    advice ? advice : "");
	return buf;
}

int
fail_kind_exit(enum fail_kind kind)
{
	struct fail f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	return fail_exit(&f);
}

/* A resolver error: a name that does not exist is not worth retrying. */
enum fail_kind
fail_resolver(int gai_error)
{
	return gai_error == EAI_NONAME || gai_error == EAI_NODATA ?
	    FAIL_NOHOST : gai_error == EAI_MEMORY ? FAIL_OS : FAIL_DNS;
}

/*
 * A kept session (-bs) that SES closed while it sat idle: its 421, its
 * idle "451 4.4.2 Timeout", or just the connection gone, found at the
 * next MAIL.  Reconnecting is no new attempt (ses.md 6.6).
 */
int
fail_session_closed(const struct fail *f)
{
	return f->stage == SMTP_STAGE_MAIL && (f->kind == FAIL_NET ||
	    f->kind == FAIL_PROTOCOL || (f->kind == FAIL_REPLY &&
	    (f->code == 421 || strstr(f->text, "451 4.4.2") != NULL)));
}

/*
 * Some recipients have the message and the rest do not: the outcome is
 * still the failure's (its exit code), but -bs answers the final dot with
 * success, since SES took the message (design.md 2).
 */
int
fail_partial(const struct result *r)
{
	return r->fail.kind != FAIL_NONE && r->ntx_ok > 0;
}

/* Does the error line name the recipients not delivered? */
int
fail_names_rcpts(const struct result *r)
{
	return fail_partial(r) || (r->fail.kind == FAIL_REPLY &&
	    r->fail.stage == SMTP_STAGE_RCPT && r->fail.code / 100 == 5);
}

/*
 * The -bs reply to a failed message: SES's own code when it gave one, 550
 * for a recipient refused, else 4xx for what may pass (and for our own
 * configuration or system, which an administrator can mend) and 5xx for
 * what will not.
 */
int
fail_reply_code(const struct fail *f)
{
	if (f->kind == FAIL_NOUSER || (f->kind == FAIL_REPLY &&
	    f->stage == SMTP_STAGE_RCPT && f->code / 100 == 5))
		return 550;
	if (f->kind == FAIL_REPLY && f->code >= 400 && f->code < 600)
		return f->code;
	return fail_transient(f) || fail_exit(f) == EX_CONFIG ||
	    fail_exit(f) == EX_OSERR ? 451 : 554;
}

/* "deferred" when the failure may pass, else "bounced" (the log line). */
const char *
fail_status(const struct fail *f)
{
	if (f->kind == FAIL_NONE)
		return "sent";
	return fail_transient(f) ? "deferred" : "bounced";
}
