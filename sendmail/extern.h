/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * ses-sendmail: shared types and every cross-file prototype, grouped by
 * the file that defines them.  A message travels in one direction:
 * main -> conf/creds -> msg -> headers/addr -> retry -> net/tls/smtp ->
 * fail, with log alongside.
 */
#ifndef EXTERN_H
#define EXTERN_H

#include <sys/types.h>

#include <stdarg.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Tests reach file-local functions through UNITTEST: a function marked
 * STATIC is static in the program and visible in the unit-test build.
 */
#ifdef UNITTEST
#define STATIC
#else
#define STATIC static
#endif

#define SES_PROGNAME		"ses-sendmail"
#define SES_MAX_ARG		4096	/* longest argv string we accept */
#define SES_STACK_MIN		(256 * 1024)	/* stack we need, at least */
#define SES_MAX_ADDR		320	/* RFC 5321 4.5.3.1: 64 + @ + 255 */
#define SES_MAX_RCPTS		10000	/* envelope recipients per message */
#define SES_FAIL_TEXT		512	/* sanitised reason or reply text */
#define SES_REPLY_MAX		4096	/* a reply's last line, printable */
#define HDR_BLOCK_MAX		(1024 * 1024)	/* header block in memory */
#define HDR_FIELD_MAX		(256 * 1024)	/* one header field */
#define HDR_FIELDS_MAX		10000		/* fields in the header block */
#define WIRE_LINE_MAX		998	/* RFC 5322 2.1.1, without CRLF */

/* ------------------------------------------------------------------ */
/* Failures: classified where detected (leaf or mail-level modules),   */
/* and every consequence (exit code, retry, -bs reply) decided in fail.c. */

enum fail_kind {
	FAIL_NONE = 0,
	FAIL_USAGE,		/* bad command line */
	FAIL_DATA,		/* the message cannot be sent as given */
	FAIL_NOUSER,		/* a local recipient without admin_address */
	FAIL_NOHOST,		/* the endpoint name does not exist */
	FAIL_CONFIG,		/* configuration missing, invalid, unsafe */
	FAIL_NOPERM,		/* the caller may not read what it asked */
	FAIL_OS,		/* memory, temp file, fork: the system */
	FAIL_IO,		/* reading stdin failed */
	FAIL_SOFTWARE,		/* a bug of ours */
	FAIL_DNS,		/* temporary resolution failure */
	FAIL_NET,		/* refused, reset, EOF, timeout */
	FAIL_TLS,		/* handshake or record I/O error: transient */
	FAIL_TLS_VERIFY,	/* certificate or version refused: permanent */
	FAIL_NOTLS,		/* STARTTLS not offered: permanent */
	FAIL_NOAUTH,		/* neither AUTH PLAIN nor LOGIN offered */
	FAIL_PROTOCOL,		/* the server broke SMTP or HTTP framing */
	FAIL_REPLY,		/* an SMTP reply refused: see code and stage */
	FAIL_API,		/* an SES API error: HTTP status and type */
	FAIL_CREDS,		/* no credential source gave keys */
	FAIL_CREDS_TEMP,	/* a credential endpoint did not answer */
	FAIL_RATE		/* max_send_rate: no turn before the deadline */
};

/*
 * Where in the dialogue a session is (smtp.c's state machine) and so
 * where a failure happened.
 */
enum smtp_stage {
	SMTP_STAGE_NONE = 0,
	SMTP_STAGE_RESOLVE,
	SMTP_STAGE_CONNECT,
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_TLS,		/* the handshake: wrapper, or after STARTTLS */
	SMTP_STAGE_AUTH,
	SMTP_STAGE_READY,	/* authenticated, between transactions */
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA,	/* the DATA command */
	SMTP_STAGE_BODY,	/* sending the message, and the final dot */
	SMTP_STAGE_QUIT,
	SMTP_STAGE_FAILED,	/* the session is unusable */
	/* HTTP (http.c): sending a request, its head and its body ... */
	SMTP_STAGE_REQUEST,
	/* ... and reading the response, once the whole body was sent. */
	SMTP_STAGE_RESPONSE
};

struct fail {
	enum fail_kind	 kind;
	enum smtp_stage	 stage;
	int		 code;		/* SMTP reply code or HTTP status */
	char		 type[64];	/* FAIL_API: the error type */
	int		 after_data;	/* lost after the final dot */
	char		 text[SES_FAIL_TEXT];	/* sanitised, no secret */
};

/* ------------------------------------------------------------------ */
/* The configuration (conf.c) and its secret (creds.c).               */

enum conf_tls {
	CONF_TLS_DEFAULT = 0,	/* wrapper on 465/2465, else STARTTLS */
	CONF_TLS_WRAPPER,
	CONF_TLS_STARTTLS
};

enum conf_transport {
	CONF_TRANSPORT_AUTO = 0,	/* SMTP with its credentials, else
					 * the API */
	CONF_TRANSPORT_SMTP,
	CONF_TRANSPORT_API
};

enum conf_log {
	CONF_LOG_SYSLOG = 0,
	CONF_LOG_STDERR,
	CONF_LOG_NONE
};

#define CONF_MAX_DELAYS		16

/* Where the API's keys come from (design.md 12): the chain's sources. */
enum conf_source {
	CONF_SOURCE_NONE = 0,
	CONF_SOURCE_CONFIG,		/* aws_access_key_id and the secret */
	CONF_SOURCE_ENV,		/* AWS_ACCESS_KEY_ID ... */
	CONF_SOURCE_SHARED,		/* ~/.aws/credentials */
	CONF_SOURCE_WEB_IDENTITY,	/* STS AssumeRoleWithWebIdentity */
	CONF_SOURCE_CONTAINER,		/* the ECS/EKS credentials endpoint */
	CONF_SOURCE_IMDS,		/* the EC2 instance role, IMDSv2 */
	CONF_SOURCE_N
};
#define CONF_SOURCES_MAX	(CONF_SOURCE_N - 1)

/* A URL of an endpoint: http or https, a host, a port, a path. */
struct url {
	int		 tls;		/* https */
	char		 host[256];	/* without brackets */
	int		 port;
	char		 path[1024];	/* "/" at least */
};

struct conf {
	char		 path[1024];	/* the file read, for messages */
	char		*region;
	char		*host;		/* from region when not set */
	int		 port;
	enum conf_tls	 tls;
	char		*username;
	char		*password;	/* secret: wiped by creds_wipe() */
	char		*aws_secret;	/* secret: wiped by creds_wipe() */
	char		*aws_token;	/* secret: aws_session_token */
	char		*aws_key_id;	/* aws_access_key_id, else username */
	/* After parsing: SMTP or API, never AUTO. */
	enum conf_transport transport;
	int		 api_fallback;	/* SMTP unreachable: the API */
	int		 api_ok;	/* the API's keys are configured */
	char		*api_endpoint;	/* https://HOST[:PORT] */
	char		*api_host;	/* its HOST and PORT */
	int		 api_port;
	/* The credential chain (awscreds.c): the sources in order. */
	enum conf_source sources[CONF_SOURCES_MAX];
	size_t		 nsources;
	int		 sources_set;	/* the credentials key was given */
	char		*imds_endpoint;	/* http://HOST[:PORT], or NULL */
	char		*imds_host;	/* its HOST and PORT */
	int		 imds_port;
	char		*container_uri;	/* container_credentials_uri */
	char		*container_token_file;
	char		*sts_endpoint;	/* https://HOST[:PORT], or NULL */
	char		*sts_host;	/* its HOST and PORT */
	int		 sts_port;
	/* Set by awscreds.c once the keys are fetched. */
	enum conf_source cred_source;	/* the source that gave the keys */
	time_t		 cred_expiry;	/* 0: they do not expire */
	int		 region_imds;	/* region from the identity document */
	char		*proxy;		/* http://HOST:PORT, or NULL */
	char		*proxy_host;
	int		 proxy_port;
	char		*ca_file;
	char		*from;
	/* verified_domains: domains, addresses */
	char	       **verified;
	size_t		 nverified;
	char		*admin_address;
	char		*helo;
	char		*configuration_set;
	int		 timeout;	/* seconds, each network step */
	double		 retry_delays[CONF_MAX_DELAYS];
	size_t		 nretry_delays;	/* 0: one attempt only */
	int		 retry_deadline;	/* seconds from program start */
	int		 retry_after_data;
	long long	 max_message_size;
	int		 max_recipients;
	int		 max_messages_per_connection;
	int		 max_connection_age;
	double		 max_send_rate;	/* recipients a second; 0: off */
	char		*rate_file;	/* NULL: _PATH_SES_RATE */
	enum conf_log	 log;
};

/* conf.c */
/*
 * Set every default.  Always succeeds.
 */
void	 conf_init(struct conf *);
/*
 * Parse the open file fd (not closed) named path into c, then check it:
 * required keys, ranges, host from region, tls from port.  Returns 0, or
 * -1 with err holding "PATH:LINE: key: what is wrong" (never a value), or
 * -2 with err set when memory ran out.
 */
int	 conf_parse_fd(int fd, const char *path, struct conf *c,
	    char *err, size_t errlen);
/* Parse a text already in memory, as conf_parse_fd does. */
int	 conf_parse_buf(const char *buf, size_t len, const char *path,
	    struct conf *c, char *err, size_t errlen);
/* Does the configuration hold a secret (password or aws_secret)? */
int	 conf_has_secret(const struct conf *);
/* Printable ASCII without blanks (a key, a token), 1 to max octets. */
int	 conf_is_token(const char *s, size_t max);
/* Is this address or its domain in verified_domains? 1 yes, 0 no. */
int	 conf_is_verified(const struct conf *, const char *addr);
/* Free every string; wipes the secrets first. */
void	 conf_free(struct conf *);
/*
 * Split s, "http://HOST[:PORT][/PATH]" or the same with https (an
 * https-only one when https_only), into u.  Returns 0, or -1 when s is no
 * such URL (a host that is no name or address, a path with a blank or a
 * control character, too long).
 */
int	 conf_url_split(const char *s, int https_only, struct url *u);
/*
 * The region's derived names (host, api_endpoint) once the region is
 * known later (from the instance identity document).  0, or -1 out of
 * memory.
 */
int	 conf_set_region(struct conf *c, const char *region);
/* The name of a source, as the credentials key writes it. */
const char *conf_source_name(enum conf_source);

/* creds.c */
/*
 * Derive the SES SMTP password for region from an IAM secret access key
 * (ses.md 4.2: base64(0x04 || HMAC chain)).  out gets 44 characters and
 * a NUL; outlen must be at least 45.  Returns 0 or -1.
 */
int	 creds_derive(const char *secret, const char *region, char *out,
	    size_t outlen);
/*
 * Make c->password usable: derive it from c->aws_secret when that is set
 * (and wipe aws_secret).  Returns 0, or -1 with err set (-2 when memory
 * ran out).
 */
int	 creds_prepare(struct conf *c, char *err, size_t errlen);
/*
 * The AUTH PLAIN initial response, base64("\0user\0password"), into a
 * new string the caller must creds_free_secret().  NULL on failure.
 */
char	*creds_auth_plain(const struct conf *);
/* base64 of one string (AUTH LOGIN); free with creds_free_secret(). */
char	*creds_base64(const char *s);
/* Wipe and free a secret string. */
void	 creds_free_secret(char *);
/* Wipe both secrets of the configuration. */
void	 creds_wipe(struct conf *);

/* awscreds.c */
/*
 * The credential chain (design.md 12).  awscreds_init() remembers the
 * configuration the keys go into and whether this run is set-id (then
 * only config, container from the configuration, and imds are used).
 */
void	 awscreds_init(struct conf *c, int setid);
/*
 * Make sure the configuration holds keys to sign with (aws_key_id,
 * aws_secret, aws_token) and a region: the first call runs the chain
 * (lazily: only when the API is about to sign), later ones return at
 * once.  Returns 0, or -1 with f set: FAIL_CREDS (no source gave keys:
 * one line naming each source tried and why), FAIL_CREDS_TEMP (a source
 * that should answer did not: retried as a network failure), FAIL_OS.
 */
int	 awscreds_get(struct fail *f);
/*
 * After f (a failed call): when SES said the token expired and the keys
 * came from a source that renews them, forget them and fetch new ones,
 * once per process.  1 when there are new keys (send again), 0 when not
 * (f stands), -1 when fetching failed (f then says why).
 */
int	 awscreds_renew(struct fail *f);
/*
 * For --check: the lines that tell where the keys came from (one per
 * source tried before, why it gave nothing; then the one used), each
 * passed to fn.  Nothing when the chain has not run.
 */
void	 awscreds_report(void (*fn)(void *, const char *), void *arg);
/*
 * Read a credentials file (INI): the profile's three keys into id,
 * secret and token (new strings, secrets: creds_free_secret()); token
 * may stay NULL.  Returns 1 found, 0 not there (why in err), -1 out of
 * memory.
 */
int	 awscreds_shared_parse(const char *buf, size_t len, const char *profile,
	    char **id, char **secret, char **token, char *err, size_t errlen);

/* The temporary keys a metadata endpoint or STS hands out. */
struct awskeys {
	char		*id;
	char		*secret;	/* secret */
	char		*token;		/* secret */
	time_t		 expiry;	/* 0: unknown */
};
/* Wipe and free the keys (the struct itself is the caller's). */
void	 awskeys_free(struct awskeys *k);
/*
 * "2026-12-05T06:00:00Z" (ISO 8601, UTC, optional fraction) as a time.
 * 0, or -1 for another form.
 */
int	 awscreds_parse_time(const char *s, time_t *t);

/* metadata.c */
/*
 * IMDSv2 (ses.md 13): a session token (PUT), the role name, its keys.
 * endpoint is http://HOST[:PORT].  Returns 1 with k filled, 0 when the
 * service says there is nothing (no role: 404, disabled: 403, token
 * refused: 401; why in why), -1 with f set when it did not answer or
 * answered 5xx (why set too).  With region (not NULL), it also reads the
 * instance identity document's region (regionlen octets) over the same
 * session; "" when not needed.
 */
int	 meta_imds(const char *endpoint, struct awskeys *k,
	    char *role, size_t rolelen, char *region, size_t regionlen,
	    char *why, size_t whylen, struct fail *f);
/*
 * The container credentials endpoint (ses.md 13): a GET of u with the
 * Authorization token (NULL: none).  1 with k filled, 0 refused (why),
 * -1 with f set when it did not answer or answered 5xx.
 */
int	 meta_container(const struct url *u, const char *token,
	    const char *ca_file, struct awskeys *k, char *why, size_t whylen,
	    struct fail *f);
/*
 * A credentials JSON object (AccessKeyId, SecretAccessKey, Token,
 * Expiration) into k.  0, or -1 with why set.
 */
int	 meta_parse_keys(const char *body, size_t len, struct awskeys *k,
	    char *why, size_t whylen);

/* sts.c */
/*
 * STS AssumeRoleWithWebIdentity (ses.md 13): an unsigned query-API POST
 * to u with the role, the session name and the token.  1 with k filled,
 * 0 when STS refused (why holds its error code and text), -1 with f set
 * when it did not answer or answered 5xx.
 */
int	 sts_web_identity(const struct url *u, const char *ca_file,
	    const char *role_arn, const char *session, const char *token,
	    struct awskeys *k, char *why, size_t whylen, struct fail *f);
/*
 * Read an AssumeRoleWithWebIdentity answer (XML): the four fields of
 * Credentials into k, or an ErrorResponse's Code and Message into why.
 * 0, or -1.
 */
int	 sts_parse_answer(const char *body, size_t len, struct awskeys *k,
	    char *why, size_t whylen);

/* ------------------------------------------------------------------ */
/* Addresses (addr.c).                                                 */

struct addr {
	char		*addr;		/* addr-spec; domain in punycode */
	char		*name;		/* display name as written, or NULL */
};

struct addrlist {
	struct addr	*v;
	size_t		 n;
	size_t		 cap;
};

/* addr.c */
/*
 * Parse an RFC 5322 address-list (groups, quoted names, comments, folded
 * whitespace, obsolete forms loosely) of len bytes.  Each mailbox found is
 * appended to out (duplicates included).  A mailbox without a domain
 * (cron's "root") is accepted: callers decide.  Returns 0, or -1 with err
 * set (syntax, non-ASCII local part, bad domain, an address literal
 * other than [IPv4] or [IPv6:...], a blank, '<' or '>' in a quoted local
 * part, too long), or -2 with err set when memory ran out (not the
 * input's fault).
 */
int	 addr_parse_list(const char *s, size_t len, struct addrlist *out,
	    char *err, size_t errlen);
/*
 * Why the domain d of len octets (no address literal) is not a valid
 * host name: letters, digits and '-' in labels of 1 to 63 octets that
 * neither start nor end with '-' (RFC 1035 2.3.1); NULL when it is.
 */
const char *addr_domain_bad(const char *d, size_t len);
/*
 * Parse one sender (-f/-r): "a@b", "<a@b>", "Name <a@b>".  "" and "<>"
 * give the null sender: out is set to "".  Returns 0, or -1 with err (-2
 * when memory ran out).
 */
int	 addr_parse_sender(const char *s, char *out, size_t outlen,
	    char *err, size_t errlen);
/*
 * The text a display name as written (struct addr's name) stands for,
 * RFC 5322 3.2.5: quoted-strings unquoted, comments dropped, one blank
 * where the words had blanks or comments between them; encoded words
 * are left as they are.  *text is a new string, or NULL when there is
 * no text (text may be NULL: only *odd is wanted).  *odd is set when
 * the name holds an '@' or a domain literal outside quotes, which a
 * reader may take for an address.  Returns 0, or -1 out of memory.
 */
int	 addr_name_text(const char *name, char **text, int *odd);
/* Does s contain CR, LF, NUL (in len) or another control character? */
int	 addr_has_ctl(const char *s, size_t len);
/*
 * Can address a go between '<' and '>' on a MAIL or RCPT line as it is:
 * printable ASCII, no blank, '<' or '>'?  A blank or '>' would end the
 * path and let the rest pass for ESMTP parameters, a CR or LF end the
 * command.  Every address addr_parse_list() and addr_parse_sender()
 * give is; "" (the null sender) is too.
 */
int	 addr_path_safe(const char *a);
/*
 * Is addr local: no '@', or "@localhost", or "@" one of this host's names
 * (hostname, FQDN)?  Case-insensitive.
 */
int	 addr_is_local(const char *addr);
/* This host's fully qualified name (looked up once); never NULL. */
const char *addr_fqdn(void);
/* The domain part (after the last '@'), or NULL. */
const char *addr_domain(const char *addr);
/*
 * Append addr (and name, may be NULL) unless an equal address is there
 * already (domain compared without case).  Returns 1 added, 0 duplicate,
 * -1 out of memory.
 */
int	 addr_add_unique(struct addrlist *, const char *addr,
	    const char *name);
/* Drop the addresses after the first n (all: addr_free()). */
void	 addr_truncate(struct addrlist *l, size_t n);
void	 addr_free(struct addrlist *);

/* ------------------------------------------------------------------ */
/* The message: spool (msg.c) and header block (headers.c).            */

struct hdr_field {
	const char	*name;		/* into the block, not NUL-terminated */
	size_t		 namelen;
	const char	*value;		/* after the colon, raw, with folds */
	size_t		 valuelen;
	const char	*raw;		/* the whole field, LF-terminated */
	size_t		 rawlen;
	int		 drop;		/* removed on output */
	char		*replace;	/* whole new field text, LF-ended */
};

struct hdrs {
	char		*block;		/* the header block, LF line ends */
	size_t		 blocklen;
	struct hdr_field *f;
	size_t		 nf;
	char	       **added;		/* new fields, each LF-terminated */
	size_t		 nadded;
};

/* headers.c */
/*
 * Parse the header block (LF line ends, no blank line) into h; block is
 * copied.  Returns 0 or -1 with err (a line that is neither a field nor
 * a continuation, a field over HDR_FIELD_MAX, more than HDR_FIELDS_MAX
 * fields), or -2 with err when memory ran out.
 */
int	 hdr_parse(const char *block, size_t len, struct hdrs *h,
	    char *err, size_t errlen);
/*
 * How many bytes of buf (a message start, LF line ends) form the header
 * block: every line up to the first empty one or the first line that is
 * neither a field nor a continuation.  *sep is set to 1 when that block
 * is followed by an empty line (which is then part of neither).
 */
size_t	 hdr_block_len(const char *buf, size_t len, int *sep);
/*
 * Find the next field named name (case-insensitive) at or after *idx;
 * returns it and sets *idx to its index, or NULL.  Dropped fields are
 * skipped.
 */
struct hdr_field *hdr_find(struct hdrs *h, const char *name, size_t *idx);
/* Count the fields named name that are not dropped. */
size_t	 hdr_count(struct hdrs *h, const char *name);
/*
 * SES refuses a message with two of a header it allows once (ses.md 6.3).
 * Returns 0, or -1 with err naming the field.
 */
int	 hdr_check_unique(struct hdrs *h, char *err, size_t errlen);
/*
 * -t: the recipients from To, Cc, Bcc, or only from Resent-To, Resent-Cc,
 * Resent-Bcc when any of those exists.  Appended to out.  Returns 0 or
 * -1 with err (-2 when memory ran out).
 */
int	 hdr_recipients(struct hdrs *h, struct addrlist *out, char *err,
	    size_t errlen);
/* Drop Bcc, Resent-Bcc, Return-Path, Content-Length (design.md 4). */
void	 hdr_remove_always(struct hdrs *h);
/* Append a new field "Name: value\n"; printf-style.  0 or -1. */
int	 hdr_add(struct hdrs *h, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Replace field f with "Name: value\n"; printf-style.  0 or -1. */
int	 hdr_replace(struct hdr_field *f, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A display name (RFC 5322 3.2.5 phrase) that shows text, whatever it
 * holds, and never more than a name: runs of ASCII words as atoms or as
 * one quoted-string, words with non-ASCII octets or "=?" (or too long
 * for a line) as RFC 2047 B encoded words in UTF-8; folded with LF SP to
 * fit 78 columns where it can.  A tab is shown as a space; a control or
 * an octet that is not well-formed UTF-8 as U+FFFD.  With HDR_PHRASE_EW,
 * words of text that are well-formed encoded words stay encoded words (a
 * name taken from a header); without it, text is shown literally (-F).
 * Returns a new string, "" when text is empty or only blanks, or NULL
 * out of memory.
 */
#define HDR_PHRASE_EW	0x01
char	*hdr_phrase(const char *text, int flags);
void	 hdr_free(struct hdrs *h);

struct msg {
	int		 fd;		/* unlinked temp file, LF line ends */
	off_t		 len;		/* bytes in the spool */
	off_t		 body_off;	/* where the body starts in the spool */
	int		 body_sep;	/* input had an empty line there */
	int		 has8bit;	/* any octet >= 0x80 */
	struct hdrs	 hdrs;
};

/* msg.c */
/*
 * Read all of infd into an unlinked 0600 temp file: CRLF (and CR CR LF)
 * to LF, a missing final newline added, the leading mbox "From " line
 * dropped, and, unless ignore_dots, the Sendmail 8 rule (a lone "." ends
 * the message, a leading ".." loses one dot).  A NUL byte or more than
 * max_size octets refuses the message.  Then parse the header block into
 * m->hdrs.  Returns 0, or -1 with f set (FAIL_DATA, FAIL_IO, FAIL_OS).
 */
int	 msg_spool(int infd, int ignore_dots, long long max_size,
	    struct msg *m, struct fail *f);
/*
 * The same from a memory buffer, read literally (as with -i).
 */
int	 msg_spool_buf(const char *buf, size_t len, long long max_size,
	    struct msg *m, struct fail *f);
/*
 * The same in steps, for -bs: open, write chunks, close (which parses
 * the header block).  On failure of write, the caller still closes (to
 * free) and reports the first failure.  ended: a lone dot was seen.
 */
struct spooler;
struct spooler *msg_spool_open(int ignore_dots, long long max_size,
	    struct msg *m, struct fail *f);
int	 msg_spool_write(struct spooler *sp, const char *buf, size_t len,
	    struct fail *f);
int	 msg_spool_ended(const struct spooler *sp);
int	 msg_spool_close(struct spooler *sp, struct fail *f);

/*
 * The wire writer: everything given to it (LF line ends; a bare CR or a
 * CR LF is taken for one too) goes out with CRLF, dot-stuffed (unless
 * nostuff: the bytes SES stores, for the API), lines over WIRE_LINE_MAX
 * folded with CRLF SP.
 */
typedef int (*wire_sink)(void *arg, const void *buf, size_t len);
struct wire {
	wire_sink	 sink;		/* NULL: count only */
	void		*arg;
	int		 bol;		/* at the beginning of a line */
	int		 cr;		/* the last octet given was a CR */
	int		 nostuff;	/* no dot-stuffing (set after init) */
	size_t		 col;		/* octets on the current wire line */
	long long	 total;		/* octets produced */
	size_t		 nfolded;	/* lines folded */
	char		 buf[16384];
	size_t		 blen;
};
void	 wire_init(struct wire *w, wire_sink sink, void *arg);
int	 wire_put(struct wire *w, const char *p, size_t n);
int	 wire_flush(struct wire *w);
/*
 * Write the whole message (edited header block, separator, body from the
 * spool) through w.  Does not write the final dot.  Returns 0, or -1 with
 * f set (a sink failure keeps the sink's f; a spool read error FAIL_OS).
 */
int	 msg_write(struct msg *m, struct wire *w, struct fail *f);
/* The wire size of the message as msg_write() would send it. */
int	 msg_wire_size(struct msg *m, long long *size, size_t *nfolded,
	    struct fail *f);
void	 msg_free(struct msg *m);

/* ------------------------------------------------------------------ */
/* The envelope plan: what main builds and retry sends.               */

struct plan {
	char		 sender[SES_MAX_ADDR + 1];	/* never "" */
	struct addrlist	 rcpts;
	int		 body8;		/* BODY=8BITMIME wanted */
	long long	 size;		/* wire size */
	struct msg	*msg;
	/* per recipient: 1 accepted, -1 refused */
	int		*done;
};

/* What the command line (or -bs) asks of the plan. */
struct plan_opts {
	const char	*sender;	/* -f/-r as given, or NULL */
	const char	*fullname;	/* -F, or NULL */
	int		 extract;	/* -t */
	char	       **rcpts;		/* argv recipients */
	size_t		 nrcpts;
	int		 body;		/* -B: 0, 7 or 8 */
	const char	*caller;	/* the caller's login, for From */
	const char	*caller_name;	/* the caller's full name, or NULL */
};

/* plan.c */
/*
 * Build the envelope plan for the spooled message m (design.md 4 and 5): the
 * envelope sender, the recipients (argv, -t, deduplicated, local ones to
 * admin_address), the header edits (removed, rewritten and added fields),
 * the duplicate-header and size refusals.  Logs each rewrite.  Returns 0,
 * or -1 with f set (FAIL_DATA, FAIL_NOUSER, FAIL_CONFIG, FAIL_USAGE,
 * FAIL_OS).  p->msg points at m.
 */
int	 plan_build(const struct conf *c, const struct plan_opts *o,
	    struct msg *m, struct plan *p, struct fail *f);
void	 plan_free(struct plan *p);

/* The outcome of a submission. */
struct result {
	double		 start;		/* retry clock at the start: 0 for the
					 * program's start, the final dot for
					 * -bs */
	int		 attempts;
	double		 delay;		/* seconds since start */
	char		 relay[352];	/* HOST[IP]:PORT last connected to */
	char		 id[128];	/* SES message id of the last accept */
	int		 ntx_ok;	/* transactions accepted */
	int		 possible_dup;	/* a retry after a loss past the dot */
	int		 via_api;	/* the last attempt used the SES API */
	struct fail	 fail;		/* FAIL_NONE when all accepted */
};

/* ------------------------------------------------------------------ */
/* Network (net.c) and TLS (tls.c).                                   */

struct tls;
struct addrinfo;

struct conn {
	int		 fd;
	struct tls	*tls;		/* NULL while plain */
	struct addrinfo	*res;		/* every address of host */
	struct addrinfo	*next;		/* the next one to try */
	int		 timeout;	/* seconds, each step */
	char		 host[256];	/* the name connected to (for TLS) */
	char		 addr[64];	/* numeric address connected to */
	int		 port;
	char		 rbuf[8192];
	size_t		 rpos, rlen;
	char		 wbuf[16384];
	size_t		 wlen;
};

/* net.c */
/*
 * Resolve host (every call: SES addresses change) and connect to each
 * address in turn until one answers, each within c->timeout.  On success
 * c is open (plain).  Returns 0, or -1 with f set: FAIL_NOHOST for a name
 * that does not exist, FAIL_DNS, FAIL_NET (the last address's error).
 */
int	 conn_open(struct conn *c, const char *host, int port, int timeout,
	    struct fail *f);
/*
 * Fill f for getaddrinfo()'s failure rv (errno as it left it): FAIL_NOHOST,
 * FAIL_DNS, or FAIL_OS when this process ran out of descriptors or
 * memory.  Returns -1.
 */
int	 net_resolve_fail(int rv, const char *host, struct fail *f);
/*
 * Drop the current connection and connect to the next address of the
 * same resolution (one that accepted but stayed silent).  0 or -1 as
 * conn_open(); conn_has_next() tells whether any address is left.
 */
int	 conn_next(struct conn *c, struct fail *f);
int	 conn_has_next(const struct conn *c);
/*
 * --check: TCP connects to every address of host at port (at most max,
 * side by side), within timeout.  Fills pr[] with each address, its
 * family, its state (NET_PROBE_OPEN, _REFUSED, _SILENT: timed out,
 * _ERROR) and the time it took.  Returns how many, or -1 when the name
 * does not resolve.
 */
#define NET_PROBE_OPEN		0
#define NET_PROBE_REFUSED	1
#define NET_PROBE_SILENT	2
#define NET_PROBE_ERROR		3
#define NET_PROBE_MAX		16
struct net_probe {
	char		 addr[64];
	int		 family;
	int		 state;
	long long	 ms;
};
int	 net_probe(const char *host, int port, int timeout,
	    struct net_probe *pr, int max);
/* Does the server at host:port greet in plain text (STARTTLS port)? */
int	 net_speaks_first(const char *host, int port, int timeout);
/* Wait until all written data has left the send queue; -1: MTU stall. */
int	 conn_drain(struct conn *c, struct fail *f);
/* Monotonic milliseconds, for timing steps. */
long long net_now_ms(void);
/* Start TLS on the open connection (wrapper or after STARTTLS). */
int	 conn_start_tls(struct conn *c, const char *ca_file,
	    struct fail *f);
/*
 * Read one line (up to LF) into buf (NUL-terminated, CRLF stripped),
 * within the timeout.  Returns its length, or -1 with f set (FAIL_NET on
 * EOF or timeout, FAIL_PROTOCOL when longer than len - 1).
 */
ssize_t	 conn_readline(struct conn *c, char *buf, size_t len,
	    struct fail *f);
/* Is there unread input already buffered? (pipelining check) */
int	 conn_pending(struct conn *c);
/*
 * Read up to len octets (what is buffered first, else one read within
 * the timeout).  Returns how many (> 0), 0 at EOF, or -1 with f set
 * (FAIL_NET on timeout or error).
 */
ssize_t	 conn_read(struct conn *c, void *buf, size_t len, struct fail *f);
/*
 * Wait at most ms for input.  Returns 1 when some is buffered, 0 when
 * none came (not a failure), -1 with f set (FAIL_NET: EOF or error).
 */
int	 conn_wait(struct conn *c, int ms, struct fail *f);
/* Buffered write; flushed when full or by conn_flush().  0 or -1. */
int	 conn_write(struct conn *c, const void *buf, size_t len,
	    struct fail *f);
int	 conn_flush(struct conn *c, struct fail *f);
/* A wire_sink writing to a struct conn; arg is a struct conn_sink. */
struct conn_sink {
	struct conn	*c;
	struct fail	*f;
};
int	 conn_sink_write(void *arg, const void *buf, size_t len);
/* Close (TLS bye without waiting) and free, addresses included. */
void	 conn_close(struct conn *c);

/* tls.c */
enum {
	TLS_OK = 0,
	TLS_WANT_READ = -2,	/* non-blocking: poll for input */
	TLS_WANT_WRITE = -3,	/* non-blocking: poll for output */
	TLS_ERR = -1		/* error: reason in tls_error() */
};
/*
 * A client session on fd (non-blocking) for host: TLS 1.2 or newer, SNI
 * (not for an address literal), certificate verified against ca_file or
 * the system store and against host, the handshake bounded by timeout
 * seconds.  NULL with err set on failure, and errno EMFILE, ENFILE or
 * ENOMEM when descriptors or memory ran out, else 0.
 */
struct tls *tls_client(int fd, const char *host, const char *ca_file,
	    int timeout, char *err, size_t errlen);
/* One handshake step: TLS_OK, TLS_WANT_*, or TLS_ERR. */
int	 tls_handshake(struct tls *);
/* Did the last error come from certificate verification? */
int	 tls_verify_failed(const struct tls *);
/* Was the last error a record that is not TLS (plain text, say)? */
int	 tls_not_tls(const struct tls *);
/* Did the last error come from memory running out here? */
int	 tls_out_of_memory(const struct tls *);
ssize_t	 tls_read(struct tls *, void *buf, size_t len);
ssize_t	 tls_write(struct tls *, const void *buf, size_t len);
size_t	 tls_pending(struct tls *);
/* The reason of the last TLS_ERR, one line. */
const char *tls_error(const struct tls *);
/* "TLS1.3 AES-256-GCM" and the like, for -v and the log. */
const char *tls_describe(struct tls *, char *buf, size_t len);
/*
 * The server certificate's subject and issuer (RFC 4514 strings) and its
 * expiry, even after a failed verification.  0, or -1 when none came.
 */
int	 tls_peer(struct tls *t, char *subject, size_t slen, char *issuer,
	    size_t ilen, time_t *expires);
/* Send close_notify without waiting, and free. */
void	 tls_close(struct tls *);

/* ------------------------------------------------------------------ */
/* SMTP client (smtp.c), the attempt loop (retry.c), the server side  */
/* (server.c).                                                         */

struct smtp;

/* smtp.c */
/*
 * Open a session on a new connection: connect, greeting, EHLO, STARTTLS
 * (or the wrapper), EHLO, AUTH.  Returns a session, or NULL with f set.
 * relay gets "HOST[ADDR]:PORT" of the connection either way.
 */
struct smtp *smtp_open(const struct conf *c, int verbose, char *relay,
	    size_t relaylen, struct fail *f);
/* One transaction's recipients, and what came of it. */
struct txn {
	const size_t	*idx;		/* the recipients: p->rcpts indices */
	size_t		 n;
	struct fail	*refused;	/* the last 5xx at RCPT, or NULL */
	char		 id[128];	/* SES's id, when accepted */
	struct fail	 fail;		/* why, when it failed */
};
/*
 * One transaction: MAIL, RCPT for each recipient of t (p->done[i] is set
 * to -1 for one refused with 5xx at RCPT, the last such reply copied to
 * *t->refused when that is not NULL), DATA, the message, the final dot.
 * Returns 0 accepted (t->id set), 1 when every recipient was refused
 * (RSET sent, the session is still usable), or -1 with t->fail set
 * (after_data when the connection was lost after the final dot: SES may
 * have accepted the message).
 */
int	 smtp_send(struct smtp *s, struct plan *p, struct txn *t);
/* Send QUIT without waiting for its reply; close; free.  NULL is ok. */
void	 smtp_close(struct smtp *s);
/*
 * For --check, the set-up one step at a time: smtp_begin() (no I/O, NULL
 * when out of memory), then smtp_step() until smtp_pending() is
 * SMTP_STAGE_MAIL (authenticated).  smtp_step() returns 0, or -1 with f
 * set (the session stays for inspection; smtp_close() it).
 */
struct smtp *smtp_begin(const struct conf *c, int verbose);
int	 smtp_step(struct smtp *s, struct fail *f);
/* The stage the next smtp_step() performs (MAIL once authenticated). */
enum smtp_stage smtp_pending(const struct smtp *s);
int	 smtp_tls_up(const struct smtp *s);
struct tls *smtp_tls(struct smtp *s);
#define SMTP_INFO_RELAY		0	/* HOST[ADDR]:PORT */
#define SMTP_INFO_GREETING	1	/* the 220 line */
#define SMTP_INFO_EHLO		2	/* the last EHLO's keywords */
#define SMTP_INFO_REPLY		3	/* the last reply line */
const char *smtp_info(const struct smtp *s, int which);
/*
 * MAIL, RCPT, DATA, then len octets of harmless header lines, flushed,
 * and never the final dot: nothing is sent.  0, or -1 with f set.
 */
int	 smtp_probe_data(struct smtp *s, const char *from, const char *rcpt,
	    size_t len, struct fail *f);

/* A connection to SES, by one transport or the other (retry.c's). */
struct link {
	struct smtp	*smtp;		/* SMTP, or */
	struct api	*api;		/* the API; both NULL: none open */
};

/* An SES session kept open between messages (-bs). */
struct session {
	struct link	 l;
	double		 opened;	/* retry_elapsed() when opened */
	double		 used;		/* ... when last used */
	int		 nmsgs;		/* messages sent on it */
	char		 relay[352];
};

/* retry.c */
/*
 * Submit p: transactions of at most max_recipients on one connection,
 * attempts as design.md 7 says.  With ss, the session is kept open after
 * success for the next message and reused while fresh (messages, age,
 * idleness); with NULL, each attempt opens and closes its own.  Fills r.
 * Returns 0 when every recipient was accepted, else -1 (r->fail says
 * why).
 */
int	 retry_submit(const struct conf *c, struct plan *p, int verbose,
	    struct session *ss, struct result *r);
/* QUIT and close the kept session, if any. */
void	 retry_session_close(struct session *ss);
/* Start the clock retry_deadline and the logged delay count from. */
void	 retry_start_clock(void);
/* Seconds since retry_start_clock(). */
double	 retry_elapsed(void);

/* rate.c */
/*
 * With max_send_rate, open rate_file for the host's pacer (design.md 7):
 * before the privilege drop, as the configuration.  A file that cannot
 * be used is noted for rate_problem() and costs one warning at the first
 * message, which then goes unpaced.  Never fails.
 */
void	 rate_open(const struct conf *c);
/* rate_file, or its default. */
const char *rate_path(const struct conf *c);
/* Why pacing is on but the file cannot be used, or NULL. */
const char *rate_problem(const struct conf *c);
/*
 * Take the turn of a message to n recipients: book it in the shared
 * bucket and sleep until it comes.  left: seconds until retry_deadline.
 * Returns 0 (go now; also when pacing is off or unusable), or -1 with f
 * set (FAIL_RATE) when the turn would come after the deadline; nothing is
 * booked then.
 */
int	 rate_take(const struct conf *c, size_t n, double left,
	    struct fail *f);

/* server.c */
/*
 * -bs: speak SMTP on stdin/stdout until QUIT or EOF, submitting each
 * message before answering its final dot.  po holds what the command
 * line set (-F, -B, the caller).  Returns an exit code (EX_OK unless the
 * server could not start).
 */
int	 server_run(const struct conf *c, const struct plan_opts *po,
	    int verbose);

/* What --check is asked to do and how to print. */
#define CHECK_MAX_PORTS	16
struct check_opts {
	int		 ports[CHECK_MAX_PORTS];	/* --ports */
	int		 nports;
	const char	*send_to;	/* --send-test ADDRESS, or NULL */
	const char	*sender;	/* -f ADDRESS: the sender to check */
	int		 json;		/* --json */
	int		 utf8;		/* stdout is a UTF-8 terminal */
	int		 colour;	/* stdout is a terminal */
	int		 verbose;
	/* password from aws_secret_access_key */
	int		 derived;
	char		 perms[96];	/* "root:sesmail 0640" of the file */
};

/* check.c */
/*
 * --check: walk the path to SES step by step (configuration, DNS, ports,
 * TLS, SMTP, AUTH, large packets; with the API's keys its DNS, port, TLS,
 * keys and the account's reads; and the test message when asked),
 * printing each step.  Returns EX_OK, or the design.md 8 code of the first
 * step that failed.
 */
int	 check_run(const struct conf *c, const struct check_opts *o);
/*
 * --check when the configuration itself cannot be used (f says why):
 * print it as the one step; returns f's exit code.
 */
int	 check_config_failed(const char *path, const struct fail *f,
	    const struct check_opts *o);
/* --derive-password: the secret from stdin, the password to stdout. */
int	 check_derive(const char *region);

/* ------------------------------------------------------------------ */
/* Logging (log.c) and failures (fail.c).                             */

/* log.c */
/*
 * Every line log_warn(), log_info(), log_error() and log_trace() write is
 * made printable by log_sanitize() (control and non-ASCII octets become
 * '?') and cut at LOG_LINE_MAX: arguments may be anything a caller sent.
 */
#define LOG_LINE_MAX	4096
void	 log_init(enum conf_log mode, int verbose);
/* A warning: stderr (always when log is stderr, or verbose) and syslog. */
void	 log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* An informational line: syslog, or stderr when log is stderr. */
void	 log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The error line on stderr, also to syslog. */
void	 log_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* A -v trace line on stderr only, as it is (no program name). */
void	 log_trace(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/*
 * -v transcript: one SMTP line, dir '>' sent or '<' received, of which
 * the first `shown` octets are shown and the rest (a credential: the
 * sender knows which) becomes "***".
 */
void	 log_smtp(int dir, const char *line, size_t len, size_t shown);
/* The one summary line per message (design.md 10). */
void	 log_summary(const struct plan *p, const struct result *r,
	    const struct conf *c);
/*
 * Copy src (len bytes) into dst, replacing control and non-ASCII octets
 * with '?': safe to print.  Always NUL-terminates.
 */
void	 log_sanitize(char *dst, size_t dstlen, const char *src,
	    size_t len);
/*
 * An excerpt of input for an error message: at most LOG_EXCERPT octets,
 * sanitised, "..." when cut.
 */
#define LOG_EXCERPT	60
void	 log_excerpt(char *dst, size_t dstlen, const char *src, size_t len);
/* Leaf modules' reason: printf into err (cut if need be); returns -1. */
int	 log_reason(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* api.c */
struct api;
/*
 * Connect to the SES API endpoint (through the proxy's tunnel when one
 * is configured) and start TLS.  relay gets "HOST[IP]:PORT".  NULL with
 * f set on failure (as conn_open() and conn_start_tls()).
 */
struct api *api_open(const struct conf *c, char *relay, size_t relaylen,
	    struct fail *f);
/*
 * One SendEmail call for t's recipients: the message of p, raw, in
 * base64.  Returns 0 (t->id set to SES's MessageId), or -1 with t->fail
 * set: FAIL_API (SES's status and error type), FAIL_NET or
 * FAIL_PROTOCOL; after_data when the whole request went and no answer
 * came (SES may have taken the message).
 */
int	 api_send(struct api *a, struct plan *p, struct txn *t);
/*
 * One signed GET of path (an API v2 resource, no query) with an empty
 * payload, on a connection api_open() or api_start() opened: for
 * --check's GetAccount.  The answer's body goes to body (bodymax octets
 * at most, NUL-terminated; the rest is dropped).  Returns 0 for a 2xx
 * (ans->status set), or -1 with f set: FAIL_API for an error answer
 * (ans filled: status, type, message), else FAIL_NET, FAIL_PROTOCOL or
 * FAIL_CONFIG (the keys cannot sign) as api_send().
 */
struct api_answer;
int	 api_get(struct api *a, const char *path, char *body, size_t bodymax,
	    struct api_answer *ans, struct fail *f);
/*
 * api_open() in two halves, for --check: api_begin() makes the handle
 * (no I/O; NULL out of memory), api_start() connects, opens the proxy's
 * tunnel and starts TLS (0, or -1 with f set; the handle stays, for
 * api_tls() and api_close()).
 */
struct api *api_begin(const struct conf *c);
int	 api_start(struct api *a, char *relay, size_t relaylen,
	    struct fail *f);
/* The TLS session of the connection, even a failed one; or NULL. */
struct tls *api_tls(struct api *a);
/*
 * May the connection carry another call: kept alive, nothing failed, and
 * not closed by SES while it sat idle (checked now, without waiting)?
 */
int	 api_reusable(struct api *a);
void	 api_close(struct api *a);

/* apijson.c */
/* A growable text: the request body around the message. */
struct api_body {
	char		*buf;
	size_t		 len, cap;
};
/* What an SES API answer said. */
struct api_answer {
	int		 status;	/* the HTTP status */
	char		 id[128];	/* MessageId of a 200 */
	char		 type[64];	/* the error type, printable */
	char		 message[256];	/* the error text, printable */
};
/* What GetAccount says of the account; -1 (or "") for what it left out. */
struct api_account {
	int		 production;	/* ProductionAccessEnabled: 0 sandbox */
	int		 sending;	/* SendingEnabled */
	int		 has_quota;	/* SendQuota came, with numbers */
	double		 max24;		/* Max24HourSend; -1: no limit */
	double		 rate;		/* MaxSendRate, messages a second */
	double		 sent;		/* SentLast24Hours */
	char		 enforcement[32];	/* EnforcementStatus */
};
/*
 * What GetEmailIdentity says of one identity (ses.md 9.4); -1 (or "") for
 * what it left out.  The strings are printable, cut to fit.
 */
struct api_identity {
	int		 verified;	/* VerifiedForSendingStatus */
	char		 type[24];	/* IdentityType: EMAIL_ADDRESS,
					 * DOMAIN */
	char		 status[24];	/* VerificationStatus: SUCCESS... */
	char		 dkim[24];	/* DkimAttributes.Status */
	int		 signing;	/* DkimAttributes.SigningEnabled */
};
/* What GetConfigurationSet says (ses.md 9.4). */
struct api_confset {
	char		 name[72];	/* ConfigurationSetName */
	int		 sending;	/* SendingOptions.SendingEnabled,
					 * or -1 */
};
/*
 * s as a JSON string with its quotes, escaped (RFC 8259 7).  Returns the
 * length written (NUL-terminated), or -1 when out is too small; an out of
 * 6 * strlen(s) + 3 octets is always enough.
 */
ssize_t	 api_json_string(char *out, size_t outlen, const char *s);
/*
 * The SendEmail body before and after the base64 of the message: the
 * sender, the recipients, the configuration set (or NULL).  0, or -1
 * when memory ran out.  Free both with api_body_free().
 */
int	 api_body_parts(struct api_body *prefix, struct api_body *suffix,
	    const char *sender, const char *const *rcpts, size_t n,
	    const char *confset);
void	 api_body_free(struct api_body *);
/*
 * Read an answer: the status, the x-amzn-ErrorType header (or NULL) and
 * the body.  A 2xx fills a->id; an error a->type and a->message.  -1 for
 * a 2xx with a body that holds no MessageId.
 */
int	 api_parse_answer(int status, const char *errtype, const char *body,
	    size_t len, struct api_answer *a);
/*
 * Read a GetAccount answer's body (len octets) into acct.  Returns 0, or
 * -1 when it is not a JSON object.
 */
int	 api_parse_account(const char *body, size_t len,
	    struct api_account *acct);
/*
 * Read a GetEmailIdentity answer's body (len octets) into id, or a
 * GetConfigurationSet answer's into cs.  0, or -1 when it is not a JSON
 * object.
 */
int	 api_parse_identity(const char *body, size_t len,
	    struct api_identity *id);
int	 api_parse_confset(const char *body, size_t len,
	    struct api_confset *cs);

/* fail.c */
/* Set f's kind, stage and text (printf-style; made printable). */
void	 fail_set(struct fail *f, enum fail_kind kind, enum smtp_stage stage,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The only mapping from a failure to a sysexits code. */
int	 fail_exit(const struct fail *f);
/* The code of a failure that is a kind alone (no reply, no text). */
int	 fail_kind_exit(enum fail_kind kind);
/* Might the condition pass (deferred rather than bounced)? */
int	 fail_transient(const struct fail *f);
/* Might another attempt now help? (never for a used-up daily quota) */
int	 fail_retryable(const struct fail *f);
/* SES's sending rate throttled it (not the daily quota): design.md 7. */
int	 fail_throttled(const struct fail *f);
/* What the user should do about f, or NULL: the 535 advice and such. */
const char *fail_advice(const struct fail *f);
/* The error line's text: f's text, then its advice; returns buf. */
const char *fail_line(const struct fail *f, char *buf, size_t len);
/* The name of a stage, for messages: "MAIL FROM", "end of data", ... */
const char *fail_stage_name(enum smtp_stage);
/* "sent", "deferred" or "bounced", for the summary line. */
const char *fail_status(const struct fail *f);
/* The kind of a getaddrinfo() error: no such name, or the resolver. */
enum fail_kind fail_resolver(int gai_error);
/* A kept -bs session SES closed while idle: reconnecting is free. */
int	 fail_session_closed(const struct fail *f);
/* Some recipients took the message and others did not. */
int	 fail_partial(const struct result *r);
/* Does the error line list the recipients not delivered? */
int	 fail_names_rcpts(const struct result *r);
/* The reply code -bs gives for a message that failed as f. */
int	 fail_reply_code(const struct fail *f);

/* ------------------------------------------------------------------ */
/* AWS Signature Version 4 (sigv4.c), for the SES API and STS.        */

#define SIGV4_KEY_LEN		32	/* SHA-256 and HMAC-SHA256 output */
#define SIGV4_HEX_LEN		64	/* a hex digest or signature */
#define SIGV4_DATE_LEN		16	/* "YYYYMMDDTHHMMSSZ" */
#define SIGV4_SECRET_MAX	256	/* a secret access key, octets */
#define SIGV4_MAX_HEADERS	16	/* headers the caller adds */
#define SIGV4_MAX_PARAMS	64	/* query parameters */
#define SIGV4_SCOPE_MAX		128	/* "DATE/REGION/SERVICE/aws4_request" */
#define SIGV4_SIGNED_MAX	512	/* "content-type;host;..." */
#define SIGV4_CREQ_MAX		16384	/* the canonical request */
#define SIGV4_STS_MAX		256	/* the string to sign */
#define SIGV4_AUTH_MAX		1024	/* the Authorization header value */
/* The hex SHA-256 of an empty payload. */
#define SIGV4_EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A streaming SHA-256 (GnuTLS's handle), for a body read in parts. */
struct sigv4_hash {
	void		*hd;
};

/* A header to sign besides host, x-amz-date, the token and content-type. */
struct sigv4_header {
	const char	*name;		/* any case: sent as given */
	const char	*value;
};

/* One request to sign, as it will be sent. */
struct sigv4_req {
	const char	*method;	/* "POST" */
	const char	*path;		/* as on the request line: "/v2/..." */
	const char	*query;		/* after '?' as sent, or NULL */
	const char	*host;		/* the Host header's value */
	const char	*content_type;	/* the Content-Type value, or NULL */
	const struct sigv4_header *headers;	/* more to sign, or NULL */
	size_t		 nheaders;
	const char	*payload_hash;	/* hex SHA-256 of the body */
	const char	*region;	/* "us-east-1" */
	const char	*service;	/* "ses", "sts" */
	time_t		 when;		/* the signing time */
};

/* The keys that sign it.  Nothing here is copied but into wiped scratch. */
struct sigv4_creds {
	const char	*access_key_id;
	const char	*secret;	/* secret */
	const char	*token;		/* session token (secret), or NULL */
};

/*
 * What sigv4_sign() made.  The caller sends Authorization, X-Amz-Date and,
 * with a session token, X-Amz-Security-Token.  creq holds the session
 * token: sigv4_wipe() the whole struct once the request is sent.
 */
struct sigv4 {
	char		 amz_date[SIGV4_DATE_LEN + 1];	/* X-Amz-Date value */
	char		 scope[SIGV4_SCOPE_MAX];
	char		 signed_headers[SIGV4_SIGNED_MAX];
	char		 creq[SIGV4_CREQ_MAX];	/* the canonical request */
	char		 sts[SIGV4_STS_MAX];	/* the string to sign */
	char		 signature[SIGV4_HEX_LEN + 1];
	char		 authorization[SIGV4_AUTH_MAX];
	const char	*err;		/* why sigv4_sign() failed */
};

/*
 * Key material while it is worked on: "AWS4" + secret, the HMAC chain's
 * links.  Callers of sigv4.c never see one; the unit tests check that it
 * is all zero once a function returns.
 */
struct sigv4_scratch {
	unsigned char	 k0[4 + SIGV4_SECRET_MAX];
	unsigned char	 k[SIGV4_KEY_LEN];
	unsigned char	 t[SIGV4_KEY_LEN];
};

/* sigv4.c */
/*
 * Sign rq with cr (the AWS documentation "Create a signed AWS API
 * request"): the canonical request, the string to sign, the signing key
 * and the Authorization value, all into out.  The path is normalised
 * (empty and "." segments dropped, ".." applied) and each segment
 * URI-encoded once more, as for every service but S3; the query's
 * parameters are decoded, encoded again and sorted; header names are
 * lower-cased and sorted, values trimmed, blank runs (and obs-folds)
 * made one space, repeated names joined with ','.  Returns 0, or -1 with
 * out->err saying which input was refused (too long, out of range, a
 * control character, a header that sigv4 adds itself) and the rest of
 * out zero.  Never logs; wipes every copy of a key it made.
 */
int	 sigv4_sign(const struct sigv4_req *rq, const struct sigv4_creds *cr,
	    struct sigv4 *out);
/* Wipe what sigv4_sign() made (the canonical request holds the token). */
void	 sigv4_wipe(struct sigv4 *);
/*
 * The signing key: HMAC-SHA256 from "AWS4" secret through date (8
 * digits), region, service and "aws4_request" (ses.md 9.3).  region and
 * service are lower-case letters, digits and '-'.  The caller wipes key.
 * Returns 0 or -1.
 */
int	 sigv4_signing_key(const char *secret, const char *date,
	    const char *region, const char *service,
	    unsigned char key[SIGV4_KEY_LEN]);
/* out = HMAC-SHA256(key, msg): the chain's last link.  0 or -1. */
int	 sigv4_mac(const unsigned char key[SIGV4_KEY_LEN], const void *msg,
	    size_t len, unsigned char out[SIGV4_KEY_LEN]);
/* The X-Amz-Date value of t, UTC ("20150830T123600Z").  0 or -1. */
int	 sigv4_amz_date(time_t t, char out[SIGV4_DATE_LEN + 1]);
/*
 * URI-encode len octets of s as SigV4 wants it: RFC 3986 2.3 unreserved
 * octets as they are, every other octet (and '/') as %XX, upper-case.
 * out gets a NUL-terminated string.  Returns 0, or -1 when it does not
 * fit in outlen.
 */
int	 sigv4_uri_encode(const char *s, size_t len, char *out,
	    size_t outlen);
/*
 * SHA-256 of a body read in parts: init, update for each part, then
 * final_hex (which ends it) or abort.  Each returns 0 or -1; after a
 * failed update the hash is ended.
 */
int	 sigv4_hash_init(struct sigv4_hash *);
int	 sigv4_hash_update(struct sigv4_hash *, const void *, size_t);
int	 sigv4_hash_final_hex(struct sigv4_hash *,
	    char hex[SIGV4_HEX_LEN + 1]);
void	 sigv4_hash_abort(struct sigv4_hash *);
/* The hex SHA-256 of len octets at p, at once.  0 or -1. */
int	 sigv4_hash_hex(const void *p, size_t len,
	    char hex[SIGV4_HEX_LEN + 1]);
#ifdef UNITTEST
int	 sigv4_derive(struct sigv4_scratch *s, const char *secret,
	    const char *date, const char *region, const char *service);
int	 sigv4_sign_in(const struct sigv4_req *rq,
	    const struct sigv4_creds *cr, struct sigv4 *out,
	    struct sigv4_scratch *s);
#endif
/* HTTP/1.1 client (http.c), for the SES API over the same conn.      */

#define HTTP_LINE_MAX		8192	/* a status, field or chunk line */
#define HTTP_FIELDS_MAX		100	/* field lines in a head or trailer */
#define HTTP_HEAD_MAX		65536	/* octets of one response head */
#define HTTP_BODY_LIMIT		(1024 * 1024)	/* largest body read */
#define HTTP_INTERIM_MAX	8	/* 1xx responses before the final */
#define HTTP_CONTINUE_MS	1000	/* the wait for 100 Continue */
#define HTTP_KEEP_MAX		8	/* fields a response keeps */
#define HTTP_VALUE_MAX		256	/* a kept field's value, printable */

/* A request field: name and value, without CR or LF. */
struct http_field {
	const char	*name;
	const char	*value;
};

struct http_req {
	const char	*method;	/* "POST" */
	const char	*target;	/* "/v2/email/outbound-emails" */
	const char	*host;		/* Host: "name" or "name:port" */
	/* The caller's fields, in order (never Host, Content-Length,
	 * Transfer-Encoding or Expect: this file sends those). */
	const struct http_field *fields;
	size_t		 nfields;
	long long	 length;	/* Content-Length; -1: no body */
	int		 expect_continue;	/* send Expect: 100-continue */
};

struct http_resp {
	/* Set by http_resp_init(); method by the caller for HEAD. */
	const char	*const *keep;	/* names of fields to keep, NULL
					 * ended, at most HTTP_KEEP_MAX */
	char		*body;		/* the body, NUL-terminated; or NULL */
	size_t		 bodymax;	/* its size */
	const char	*method;	/* HEAD, CONNECT: RFC 9112 6.3 */
	/* Filled by http_response(). */
	int		 status;	/* 100-599 */
	int		 version;	/* 10: HTTP/1.0, 11: HTTP/1.1 */
	char		 reason[128];	/* sanitised */
	int		 keep_alive;	/* may carry another request */
	long long	 length;	/* Content-Length, -1 when none */
	int		 chunked;
	char		 kept[HTTP_KEEP_MAX][HTTP_VALUE_MAX];	/* sanitised */
	unsigned int	 have;		/* bit i: keep[i] came */
	size_t		 bodylen;	/* octets stored in body */
	size_t		 total;		/* octets the body had */
	int		 truncated;	/* total > bodylen */
};

/* http.c */
/*
 * Prepare r for a response: the fields to keep (NULL: none), the body's
 * buffer (NULL: the body is read and dropped) and its size.
 */
void	 http_resp_init(struct http_resp *r, const char *const *keep,
	    char *body, size_t bodymax);
/* The value of a kept field (case-insensitive name), or NULL. */
const char *http_resp_field(const struct http_resp *r, const char *name);
/*
 * Write and flush a request head: request line, Host, q's fields,
 * Content-Length when q->length >= 0, Expect when asked.  The caller then
 * writes exactly q->length octets with conn_write() and conn_flush().  At
 * -v, Authorization, Proxy-Authorization and X-Amz-Security-Token show
 * their name only; the write buffer is wiped.  Returns 0, or -1 with f
 * set (stage SMTP_STAGE_REQUEST; FAIL_SOFTWARE for a field that is no
 * token or holds a line break, else as conn_write()).
 */
int	 http_request(struct conn *c, const struct http_req *q,
	    struct fail *f);
/*
 * After http_request(c, q, f) with q->expect_continue: wait up to
 * HTTP_CONTINUE_MS (RFC 9110 10.1.1).  Returns 0 when the body is to be
 * sent now (100 Continue came, or nothing within the bound), 1 when a
 * final response came instead (in r; the body must not be sent and the
 * connection is not reused), -1 with f set (stage SMTP_STAGE_REQUEST).
 */
int	 http_continue(struct conn *c, const struct http_req *q,
	    struct http_resp *r, struct fail *f);
/*
 * Read one response into r: interim 1xx skipped (101 refused), the body
 * by Content-Length, chunked, or until close, stored up to r->bodymax - 1
 * octets and the rest dropped; refused above HTTP_BODY_LIMIT.  Returns the
 * status, or -1 with f set (stage SMTP_STAGE_RESPONSE; FAIL_NET for EOF,
 * reset or timeout, FAIL_PROTOCOL for a malformed or ambiguous response).
 * r->keep_alive is 0 after any failure.
 */
int	 http_response(struct conn *c, struct http_resp *r, struct fail *f);
/*
 * Ask the proxy c is connected to for a tunnel to host:port (RFC 9110
 * 9.3.6), with a Proxy-Authorization value when auth is not NULL.  On a
 * 2xx, c->host and c->port become the target's, so conn_start_tls()
 * verifies the target's certificate (c->addr stays the proxy's).  Returns
 * 0, or -1 with f set (stage SMTP_STAGE_CONNECT, code the proxy's status):
 * 407 and other 4xx FAIL_CONFIG, 5xx (could not reach the target)
 * FAIL_NET, a malformed answer or data before TLS FAIL_PROTOCOL.
 */
int	 http_connect(struct conn *c, const char *host, int port,
	    const char *auth, struct fail *f);

/*
 * One request on a client's connection to u (opened, with TLS for https,
 * when it is not open or was not kept alive), and its response: the body
 * into body (bodymax octets at most, NUL-terminated).  timeout bounds
 * each step.  Returns the status, or -1 with f set (as conn_open(),
 * http_request(), http_response(); FAIL_PROTOCOL for a body over
 * bodymax - 1).
 */
struct http_client {
	struct conn	 c;
	const struct url *u;
	const char	*ca_file;
	int		 timeout;
	int		 open;
};
void	 http_client_init(struct http_client *hc, const struct url *u,
	    const char *ca_file, int timeout);
int	 http_exchange(struct http_client *hc, const char *method,
	    const struct http_field *fields, size_t nfields, const char *path,
	    const char *reqbody, size_t reqlen, char *body, size_t bodymax,
	    struct fail *f);
void	 http_client_close(struct http_client *hc);

#ifdef UNITTEST
/* File-local functions the unit tests reach (STATIC). */
int	 smtp_check_line(const char *line, size_t len, int code);
int	 smtp_test_replies(int fd, unsigned int *ext, long long *size);
int	 smtp_test_send(int fd, struct plan *p, struct txn *t);
int	 smtp_test_cmd(int fd, const char *arg, int *wiped);
double	 retry_jitter(double d);
size_t	 retry_next_batch(const struct plan *p, size_t max, size_t *idx);
double	 retry_backoff(int n);
int64_t	 rate_parse(const char *buf, size_t len, const char *boot,
	    int64_t now, int64_t horizon);
int64_t	 rate_book(int64_t v, int64_t now, double r, size_t n,
	    int64_t maxdebt, int64_t *nv);
#endif

#endif /* EXTERN_H */
