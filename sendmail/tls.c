/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The TLS layer: GnuTLS behind an opaque struct tls.  TLS 1.2 or newer,
 * SNI, the certificate verified against ca_file or the system store and
 * against the name connected to (design.md 6).  The socket is non-blocking:
 * the caller (net.c) polls with its deadlines when told TLS_WANT_*, so
 * no loop on GNUTLS_E_AGAIN can outlive a timeout.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "extern.h"

/* SES accepts TLS 1.2 and 1.3 only (ses.md 2.2); so do we. */
#define TLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls {
	gnutls_session_t			 s;
	gnutls_certificate_credentials_t	 cred;
	int					 verify_failed;
	int					 not_tls;
	int					 oom;
	char					 err[SES_FAIL_TEXT];
};

static int
tls_is_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * The system store into a trust list of many hash buckets: the store is
 * read on every run (no daemon keeps it), and GnuTLS's default of one
 * bucket per credentials makes each insertion a list walk (about a
 * quarter of the instructions of a send; bench/NOTES.md).  Returns how
 * many CAs were loaded, or a GnuTLS error.
 */
static int
tls_system_trust(gnutls_certificate_credentials_t cred)
{
	gnutls_x509_trust_list_t tl;
	int rv;

	if ((rv = gnutls_x509_trust_list_init(&tl, 4096)) < 0)
		return rv;
	if ((rv = gnutls_x509_trust_list_add_system_trust(tl, 0, 0)) <= 0) {
		gnutls_x509_trust_list_deinit(tl, 1);
		return rv;
	}
	/* The credentials own the list from here. */
	gnutls_certificate_set_trust_list(cred, tl, 0);
	return rv;
}

/*
 * Why the trust store did not load, when GnuTLS cannot say: the file
 * opened again to learn its errno, or, for the system store, whether a
 * descriptor is left at all.  Sets errno (0 when it is GnuTLS's reason
 * after all) and err.
 */
static void
tls_trust_failed(int fd, const char *ca_file, int rv, char *err,
    size_t errlen)
{
	const char *why = rv == 0 ? "no certificate found" :
	    gnutls_strerror(rv);
	int probe, e;

	if (ca_file != NULL)
		probe = open(ca_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	else
		probe = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	e = probe == -1 ? errno : 0;
	if (probe != -1)
		(void)close(probe);
	if (ca_file == NULL && e != EMFILE && e != ENFILE)
		e = 0;
	if (rv == GNUTLS_E_MEMORY_ERROR)
		e = ENOMEM;
	if (e != 0)
		why = e == ENOMEM ? "out of memory" : strerror(e);
	(void)snprintf(err, errlen, "loading %s%s: %s%s", ca_file ?
	    "ca_file " : "the system trust store", ca_file ? ca_file : "",
	    why, ca_file != NULL && e == EACCES ? " (it is read as the "
	    "caller: make it readable by all)" : "");
	errno = e;
}

struct tls *
tls_client(int fd, const char *host, const char *ca_file, int timeout,
    char *err, size_t errlen)
{
	struct tls *t;
	const char *what;
	int rv;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		(void)snprintf(err, errlen, "TLS: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	what = "allocating credentials";
	if ((rv = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto fail;
	if (ca_file != NULL)
		rv = gnutls_certificate_set_x509_trust_file(t->cred, ca_file,
		    GNUTLS_X509_FMT_PEM);
	else
		rv = tls_system_trust(t->cred);
	if (rv <= 0) {
		/* No certificate loaded would verify nothing: refuse. */
		tls_close(t);
		tls_trust_failed(fd, ca_file, rv, err, errlen);
		return NULL;
	}
	what = "creating the session";
	/* One key share (the top group, which every TLS 1.3 server takes):
	 * a smaller ClientHello and less work, never an extra round trip. */
	if ((rv = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_KEY_SHARE_TOP)) < 0)
		goto fail;
	what = "setting the priority";
	if ((rv = gnutls_priority_set_direct(t->s, TLS_PRIORITY, NULL)) < 0)
		goto fail;
	what = "setting credentials";
	if ((rv = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    t->cred)) < 0)
		goto fail;
	/* RFC 6066 3: no SNI for an address literal. */
	what = "setting the server name";
	if (!tls_is_literal(host) && (rv = gnutls_server_name_set(t->s,
	    GNUTLS_NAME_DNS, host, strlen(host))) < 0)
		goto fail;
	gnutls_session_set_verify_cert(t->s, host, 0);
	/* GnuTLS's own bound on the whole handshake, besides each poll's. */
	gnutls_handshake_set_timeout(t->s, (unsigned int)timeout * 1000);
	gnutls_transport_set_int(t->s, fd);
	return t;
fail:
	(void)snprintf(err, errlen, "TLS: %s: %s", what,
	    rv == GNUTLS_E_MEMORY_ERROR ? "out of memory" :
	    gnutls_strerror(rv));
	tls_close(t);
	errno = rv == GNUTLS_E_MEMORY_ERROR ? ENOMEM : 0;
	return NULL;
}

/* Why verification failed, in GnuTLS's words. */
static void
tls_verify_reason(struct tls *t)
{
	gnutls_datum_t out = { NULL, 0 };
	unsigned int status;

	status = gnutls_session_get_verify_cert_status(t->s);
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) == 0 && out.data != NULL) {
		(void)snprintf(t->err, sizeof(t->err),
		    "certificate not trusted: %s", out.data);
		gnutls_free(out.data);
	} else
		(void)snprintf(t->err, sizeof(t->err),
		    "certificate not trusted");
}

/*
 * Errors that another attempt cannot cure: the certificate, a server
 * that offers no TLS version or cipher we accept (TLS 1.0/1.1 only), or
 * one that does not speak TLS at all (plaintext SMTP on the port).
 */
static int
tls_error_is_policy(struct tls *t, int rv)
{
	gnutls_alert_description_t alert;

	switch (rv) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
	case GNUTLS_E_CERTIFICATE_ERROR:
		return 1;
	case GNUTLS_E_UNEXPECTED_PACKET:
		return 1;
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_INSUFFICIENT_SECURITY:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
		return 1;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		alert = gnutls_alert_get(t->s);
		return alert == GNUTLS_A_PROTOCOL_VERSION ||
		    alert == GNUTLS_A_HANDSHAKE_FAILURE ||
		    alert == GNUTLS_A_INSUFFICIENT_SECURITY;
	default:
		return 0;
	}
}

static int
tls_result(struct tls *t, int rv)
{
	if (rv >= 0)
		return rv;
	if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED)
		return gnutls_record_get_direction(t->s) ? TLS_WANT_WRITE :
		    TLS_WANT_READ;
	if (rv == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		t->verify_failed = 1;
		tls_verify_reason(t);
		return TLS_ERR;
	}
	t->verify_failed = tls_error_is_policy(t, rv);
	t->not_tls = rv == GNUTLS_E_UNEXPECTED_PACKET;
	/* Our memory, not the peer: said in the words the table knows. */
	t->oom = rv == GNUTLS_E_MEMORY_ERROR;
	if (t->oom)
		(void)snprintf(t->err, sizeof(t->err), "out of memory (%s)",
		    gnutls_strerror(rv));
	else if (rv == GNUTLS_E_FATAL_ALERT_RECEIVED)
		(void)snprintf(t->err, sizeof(t->err), "%s: %s",
		    gnutls_strerror(rv),
		    gnutls_alert_get_name(gnutls_alert_get(t->s)));
	else if (rv == GNUTLS_E_UNEXPECTED_PACKET)
		(void)snprintf(t->err, sizeof(t->err), "%s (the server does "
		    "not speak TLS here: a STARTTLS port needs tls starttls)",
		    gnutls_strerror(rv));
	else
		(void)snprintf(t->err, sizeof(t->err), "%s",
		    gnutls_strerror(rv));
	return TLS_ERR;
}

int
tls_handshake(struct tls *t)
{
	return tls_result(t, gnutls_handshake(t->s));
}

int
tls_verify_failed(const struct tls *t)
{
	return t->verify_failed;
}

int
tls_not_tls(const struct tls *t)
{
	return t->not_tls;
}

int
tls_out_of_memory(const struct tls *t)
{
	return t->oom;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len)
{
	ssize_t n;

	n = gnutls_record_recv(t->s, buf, len);
	/* A peer that closes without close_notify has still closed. */
	if (n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	return n < 0 ? tls_result(t, (int)n) : n;
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t len)
{
	ssize_t n;

	n = gnutls_record_send(t->s, buf, len);
	return n < 0 ? tls_result(t, (int)n) : n;
}

size_t
tls_pending(struct tls *t)
{
	return gnutls_record_check_pending(t->s);
}

const char *
tls_error(const struct tls *t)
{
	return t->err[0] ? t->err : "TLS error";
}

const char *
tls_describe(struct tls *t, char *buf, size_t len)
{
	const char *v, *c;

	v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->s));
	c = gnutls_cipher_get_name(gnutls_cipher_get(t->s));
	(void)snprintf(buf, len, "%s %s", v ? v : "?", c ? c : "?");
	return buf;
}

int
tls_peer(struct tls *t, char *subject, size_t slen, char *issuer,
    size_t ilen, time_t *expires)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	unsigned int n = 0;
	size_t len;
	int rv = -1;

	if ((certs = gnutls_certificate_get_peers(t->s, &n)) == NULL ||
	    n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0)
		goto out;
	len = slen;
	if (gnutls_x509_crt_get_dn(crt, subject, &len) < 0)
		(void)strlcpy(subject, "?", slen);
	len = ilen;
	if (gnutls_x509_crt_get_issuer_dn(crt, issuer, &len) < 0)
		(void)strlcpy(issuer, "?", ilen);
	*expires = gnutls_x509_crt_get_expiration_time(crt);
	rv = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return rv;
}

void
tls_close(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->s != NULL) {
		/* Non-blocking: one try at close_notify, no wait. */
		(void)gnutls_bye(t->s, GNUTLS_SHUT_WR);
		gnutls_deinit(t->s);
	}
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}
