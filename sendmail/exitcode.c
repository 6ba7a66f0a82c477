/*
 * The one classification table: for every failure, whether it is
 * transient, whether another attempt may help, the sysexits code, and
 * what to tell the user.  retry.c asks it whether to go on; main.c asks
 * it for the exit code.  SPEC sections 7 and 8, SES.md 5.3.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "extern.h"

#define ANY_STAGE	SMTP_STAGE_NONE

struct rule {
	enum fail_kind	 kind;
	enum smtp_stage	 stage;		/* ANY_STAGE matches all */
	int		 lo, hi;	/* reply code range; 0 0: any */
	const char	*text;		/* substring of the reply, or NULL */
	int		 transient;	/* the condition may pass */
	int		 retry;		/* another attempt now may help */
	int		 ex;
	const char	*advice;
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
static const char ADV_TLS[] =
    "check host (the name must match the certificate) and ca_file";
static const char ADV_HOST[] =
    "check region and host in the configuration";
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
	{ FAIL_USAGE, ANY_STAGE, 0, 0, NULL, 0, 0, EX_USAGE, NULL },
	{ FAIL_DATA, ANY_STAGE, 0, 0, NULL, 0, 0, EX_DATAERR, NULL },
	{ FAIL_NOUSER, ANY_STAGE, 0, 0, NULL, 0, 0, EX_NOUSER,
	    "set admin_address to deliver mail for local users" },
	{ FAIL_NOHOST, ANY_STAGE, 0, 0, NULL, 0, 0, EX_NOHOST, ADV_HOST },
	{ FAIL_CONFIG, ANY_STAGE, 0, 0, NULL, 0, 0, EX_CONFIG, NULL },
	{ FAIL_NOPERM, ANY_STAGE, 0, 0, NULL, 0, 0, EX_NOPERM, NULL },
	{ FAIL_OS, ANY_STAGE, 0, 0, "Too many open files", 0, 0, EX_OSERR,
	    ADV_NOFILE },
	{ FAIL_OS, ANY_STAGE, 0, 0, "File too large", 0, 0, EX_OSERR,
	    ADV_FSIZE },
	{ FAIL_OS, ANY_STAGE, 0, 0, "Cannot allocate memory", 0, 0, EX_OSERR,
	    ADV_MEMORY },
	{ FAIL_OS, ANY_STAGE, 0, 0, "out of memory", 0, 0, EX_OSERR,
	    ADV_MEMORY },
	{ FAIL_OS, ANY_STAGE, 0, 0, NULL, 0, 0, EX_OSERR, NULL },
	{ FAIL_IO, ANY_STAGE, 0, 0, "File too large", 0, 0, EX_IOERR,
	    ADV_FSIZE },
	{ FAIL_IO, ANY_STAGE, 0, 0, NULL, 0, 0, EX_IOERR, NULL },
	{ FAIL_SOFTWARE, ANY_STAGE, 0, 0, NULL, 0, 0, EX_SOFTWARE, NULL },
	{ FAIL_DNS, ANY_STAGE, 0, 0, NULL, 1, 1, EX_TEMPFAIL, ADV_RETRY },
	{ FAIL_NET, ANY_STAGE, 0, 0, NULL, 1, 1, EX_TEMPFAIL, ADV_RETRY },
	{ FAIL_TLS, ANY_STAGE, 0, 0, NULL, 1, 1, EX_TEMPFAIL, ADV_RETRY },
	{ FAIL_TLS_VERIFY, ANY_STAGE, 0, 0, NULL, 0, 0, EX_UNAVAILABLE,
	    ADV_TLS },
	{ FAIL_NOTLS, ANY_STAGE, 0, 0, NULL, 0, 0, EX_UNAVAILABLE,
	    "use port 465 (tls wrapper) or 587 (starttls) of the SES "
	    "endpoint" },
	{ FAIL_NOAUTH, ANY_STAGE, 0, 0, NULL, 0, 0, EX_UNAVAILABLE,
	    "check that host is the SES SMTP endpoint" },
	{ FAIL_PROTOCOL, ANY_STAGE, 0, 0, NULL, 0, 0, EX_PROTOCOL,
	    "check that host and port are the SES SMTP endpoint" },
	/* Retrying a used-up daily quota within a minute is pointless. */
	{ FAIL_REPLY, ANY_STAGE, 454, 454, "Daily message quota exceeded",
	    1, 0, EX_TEMPFAIL, ADV_QUOTA },
	{ FAIL_REPLY, ANY_STAGE, 400, 499, NULL, 1, 1, EX_TEMPFAIL,
	    ADV_RETRY },
	{ FAIL_REPLY, ANY_STAGE, 535, 535, NULL, 0, 0, EX_NOPERM,
	    ADV_CREDS },
	{ FAIL_REPLY, ANY_STAGE, 530, 530, "STARTTLS", 0, 0, EX_PROTOCOL,
	    "the server wants STARTTLS: set tls starttls for this port" },
	{ FAIL_REPLY, ANY_STAGE, 530, 530, NULL, 0, 0, EX_NOPERM,
	    ADV_CREDS },
	{ FAIL_REPLY, ANY_STAGE, 552, 552, NULL, 0, 0, EX_DATAERR,
	    "SES takes at most 40 MB per message, attachments included" },
	{ FAIL_REPLY, ANY_STAGE, 554, 554, "Transaction failed", 0, 0,
	    EX_DATAERR, NULL },
	{ FAIL_REPLY, SMTP_STAGE_MAIL, 500, 599, NULL, 0, 0, EX_DATAERR,
	    "check the sender address (-f, from)" },
	{ FAIL_REPLY, SMTP_STAGE_RCPT, 500, 599, NULL, 0, 0, EX_NOUSER,
	    NULL },
	{ FAIL_REPLY, ANY_STAGE, 554, 554, "not verified", 0, 0,
	    EX_UNAVAILABLE, ADV_VERIFY },
	{ FAIL_REPLY, ANY_STAGE, 554, 554, "Access denied", 0, 0,
	    EX_UNAVAILABLE, ADV_IAM },
	{ FAIL_REPLY, ANY_STAGE, 500, 599, NULL, 0, 0, EX_UNAVAILABLE, NULL },
	/* A reply outside 4xx/5xx where one of them was due. */
	{ FAIL_REPLY, ANY_STAGE, 0, 0, NULL, 0, 0, EX_PROTOCOL, NULL },
};

static const struct rule *
exitcode_rule(const struct fail *f)
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
		return r;
	}
	return NULL;
}

int
exitcode_for(const struct fail *f)
{
	const struct rule *r;

	if (f->kind == FAIL_NONE)
		return EX_OK;
	if ((r = exitcode_rule(f)) == NULL)
		return EX_SOFTWARE;
	return r->ex;
}

int
exitcode_transient(const struct fail *f)
{
	const struct rule *r;

	r = exitcode_rule(f);
	return r != NULL && r->transient;
}

int
exitcode_retryable(const struct fail *f)
{
	const struct rule *r;

	r = exitcode_rule(f);
	return r != NULL && r->retry;
}

const char *
exitcode_advice(const struct fail *f)
{
	const struct rule *r;

	r = exitcode_rule(f);
	return r != NULL ? r->advice : NULL;
}

const char *
exitcode_stage_name(enum smtp_stage stage)
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
		[SMTP_STAGE_MAIL] = "MAIL FROM",
		[SMTP_STAGE_RCPT] = "RCPT TO",
		[SMTP_STAGE_DATA] = "DATA",
		[SMTP_STAGE_BODY] = "end of data",
		[SMTP_STAGE_QUIT] = "QUIT",
	};

	if ((size_t)stage >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[stage];
}
