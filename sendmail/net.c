/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The network: resolve on every attempt (SES's addresses change), try
 * each address in turn, and read and write a struct conn over plain TCP
 * or TLS (the only place that chooses).  Every wait is a poll() with the
 * step's timeout: connect, each read, and each write that makes no
 * progress.  design.md 6 and 7.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

long long
net_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until one of n fds is ready for its events or deadline (monotonic
 * ms) passes.  Returns 1 ready, 0 timed out, -1 error.
 */
static int
net_wait_many(struct pollfd *pfd, int n, long long deadline)
{
	long long left;
	int rv;

	for (;;) {
		left = deadline - net_now_ms();
		if (left <= 0)
			return 0;
		rv = poll(pfd, (nfds_t)n, left > 60000 ? 60000 : (int)left);
		if (rv == -1 && errno == EINTR)
			continue;
		if (rv != 0)
			return rv > 0 ? 1 : -1;
	}
}

/*
 * Wait until fd is ready for events or deadline (monotonic ms) passes.
 * Returns 1 ready, 0 timed out, -1 error.
 */
static int
net_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	return net_wait_many(&pfd, 1, deadline);
}

static void
net_addr_string(const struct sockaddr *sa, char *buf, size_t len)
{
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
	    len, NULL, 0, NI_NUMERICHOST) != 0)
		(void)strlcpy(buf, "?", len);
}

/* Connect to one address within timeout; 0, or -1 with errno. */
static int
net_connect_one(const struct addrinfo *ai, int timeout)
{
	socklen_t sl;
	int fd, err, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		switch (net_wait(fd, POLLOUT,
		    net_now_ms() + timeout * 1000LL)) {
		case 0:
			errno = ETIMEDOUT;
			goto fail;
		case -1:
			goto fail;
		}
		sl = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	/* Each command is one write already: do not wait for ACKs. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	err = errno;
	(void)close(fd);
	errno = err;
	return -1;
}

/*
 * Is errno a resource of this process running out (the caller's limits,
 * or the system's), rather than the network's answer?
 */
static int
net_out_of(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM ||
	    err == ENOBUFS;
}

/* A TLS error is the network's (kind), unless our memory ran out. */
static enum fail_kind
net_tls_kind(const struct conn *c, enum fail_kind kind)
{
	return c->tls != NULL && tls_out_of_memory(c->tls) ? FAIL_OS : kind;
}

int
net_resolve_fail(int rv, const char *host, struct fail *f)
{
	int err = errno;

	/* The resolver could not open its files or sockets: no DNS answer
	 * at all, and retrying will not help. */
	if ((rv == EAI_SYSTEM && net_out_of(err)) || rv == EAI_MEMORY)
		fail_set(f, FAIL_OS, SMTP_STAGE_RESOLVE, "cannot resolve %s: "
		    "%s", host, rv == EAI_MEMORY ? "out of memory" :
		    strerror(err));
	else
		fail_set(f, fail_resolver(rv), SMTP_STAGE_RESOLVE,
		    "cannot resolve %s: %s", host, gai_strerror(rv));
	return -1;
}

int
conn_open(struct conn *c, const char *host, int port, int timeout,
    struct fail *f)
{
	struct addrinfo hints;
	char portstr[16];
	int rv;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout = timeout;
	c->port = port;
	(void)strlcpy(c->host, host, sizeof(c->host));
	(void)snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, portstr, &hints, &c->res)) != 0) {
		c->res = NULL;
		return net_resolve_fail(rv, host, f);
	}
	c->next = c->res;
	return conn_next(c, f);
}

/* One probe's end: the state from the connect's result. */
static void
net_probe_done(struct net_probe *pr, int err, long long t0)
{
	pr->ms = net_now_ms() - t0;
	if (err == 0)
		pr->state = NET_PROBE_OPEN;
	else if (err == ECONNREFUSED)
		pr->state = NET_PROBE_REFUSED;
	else
		pr->state = err == ETIMEDOUT ? NET_PROBE_SILENT :
		    NET_PROBE_ERROR;
}

/* Start a non-blocking connect; the fd, or -1 when it ended at once. */
static int
net_probe_start(const struct addrinfo *ai, struct net_probe *pr,
    long long t0)
{
	int fd;

	net_addr_string(ai->ai_addr, pr->addr, sizeof(pr->addr));
	pr->family = ai->ai_family;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		net_probe_done(pr, errno, t0);
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		net_probe_done(pr, 0, t0);
	else if (errno == EINPROGRESS)
		return fd;
	else
		net_probe_done(pr, errno, t0);
	(void)close(fd);
	return -1;
}

/*
 * Every address at once, as a send may use any of them: the connects run
 * side by side so that a silent address costs one timeout, not one each.
 */
int
net_probe(const char *host, int port, int timeout, struct net_probe *pr,
    int max)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd[NET_PROBE_MAX];
	char portstr[16];
	long long t0, deadline;
	socklen_t sl;
	int n = 0, i, left = 0, err, rv;

	(void)snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -1;
	if (max > NET_PROBE_MAX)
		max = NET_PROBE_MAX;
	t0 = net_now_ms();
	deadline = t0 + timeout * 1000LL;
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next, n++) {
		pfd[n].fd = net_probe_start(ai, &pr[n], t0);
		pfd[n].events = POLLOUT;
		left += pfd[n].fd != -1;
	}
	freeaddrinfo(res);
	while (left > 0) {
		if ((rv = net_wait_many(pfd, n, deadline)) <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			sl = sizeof(err);
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err,
			    &sl) == -1)
				err = errno;
			net_probe_done(&pr[i], err, t0);
			(void)close(pfd[i].fd);
			pfd[i].fd = -1;
			left--;
		}
	}
	for (i = 0; i < n; i++)
		if (pfd[i].fd != -1) {
			net_probe_done(&pr[i], ETIMEDOUT, t0);
			(void)close(pfd[i].fd);
		}
	return n;
}

int
net_speaks_first(const char *host, int port, int timeout)
{
	struct addrinfo hints, *res;
	char portstr[16], buf[4];
	int fd, rv = 0;

	(void)snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return 0;
	if ((fd = net_connect_one(res, timeout)) != -1) {
		if (net_wait(fd, POLLIN, net_now_ms() + timeout * 1000LL) ==
		    1 && read(fd, buf, 3) == 3 && memcmp(buf, "220", 3) == 0)
			rv = 1;
		(void)close(fd);
	}
	freeaddrinfo(res);
	return rv;
}

int
conn_has_next(const struct conn *c)
{
	return c->next != NULL;
}

/* Every address in turn, in the resolver's order (RFC 6724). */
int
conn_next(struct conn *c, struct fail *f)
{
	struct addrinfo *ai;
	char addr[64];
	int err = 0;

	tls_close(c->tls);
	c->tls = NULL;
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->rpos = c->rlen = c->wlen = 0;
	for (ai = c->next; ai != NULL; ai = ai->ai_next) {
		net_addr_string(ai->ai_addr, addr, sizeof(addr));
		if ((c->fd = net_connect_one(ai, c->timeout)) != -1) {
			(void)strlcpy(c->addr, addr, sizeof(c->addr));
			c->next = ai->ai_next;
			return 0;
		}
		err = errno;
		if (net_out_of(err)) {
			/* No socket for any address: not the network. */
			c->next = NULL;
			fail_set(f, FAIL_OS, SMTP_STAGE_CONNECT, "cannot "
			    "connect to %s port %d: %s", c->host, c->port,
			    strerror(err));
			return -1;
		}
		log_warn("connecting to %s[%s]:%d: %s%s", c->host, addr,
		    c->port, strerror(err), ai->ai_next ?
		    ", trying the next address" : "");
	}
	c->next = NULL;
	fail_set(f, FAIL_NET, SMTP_STAGE_CONNECT,
	    "cannot connect to %s port %d: %s", c->host, c->port,
	    err == ETIMEDOUT ? "timed out (a firewall dropping the port? "
	    "EC2 throttles port 25: use 465 or 587)" : err ? strerror(err) :
	    "no address left");
	return -1;
}

int
conn_start_tls(struct conn *c, const char *ca_file, struct fail *f)
{
	char err[SES_FAIL_TEXT];
	long long deadline;
	int rv;

	if ((c->tls = tls_client(c->fd, c->host, ca_file, c->timeout, err,
	    sizeof(err))) == NULL) {
		/* The trust store or GnuTLS's memory: a file descriptor or
		 * memory that ran out is not the configuration's fault. */
		fail_set(f, errno == EMFILE || errno == ENFILE || errno ==
		    ENOMEM ? FAIL_OS : FAIL_CONFIG, SMTP_STAGE_TLS, "%s", err);
		return -1;
	}
	deadline = net_now_ms() + c->timeout * 1000LL;
	while ((rv = tls_handshake(c->tls)) != TLS_OK) {
		if (rv == TLS_ERR) {
			fail_set(f, tls_verify_failed(c->tls) ?
			    FAIL_TLS_VERIFY : net_tls_kind(c, FAIL_TLS),
			    SMTP_STAGE_TLS, "TLS handshake with %s[%s]: %s",
			    c->host, c->addr, tls_error(c->tls));
			return -1;
		}
		if (net_wait(c->fd, rv == TLS_WANT_READ ? POLLIN : POLLOUT,
		    deadline) != 1) {
			fail_set(f, FAIL_TLS, SMTP_STAGE_TLS,
			    "TLS handshake with %s[%s]: no answer within %d s",
			    c->host, c->addr, c->timeout);
			return -1;
		}
	}
	return 0;
}

/*
 * Fill rbuf: 1 got data, 0 EOF, -1 error with f set, -2 nothing came
 * before deadline (f set as well).
 */
static int
conn_fill(struct conn *c, long long deadline, struct fail *f)
{
	ssize_t n;
	int want = TLS_WANT_READ;

	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		if (c->tls == NULL || tls_pending(c->tls) == 0) {
			switch (net_wait(c->fd, want == TLS_WANT_WRITE ?
			    POLLOUT : POLLIN, deadline)) {
			case 0:
				fail_set(f, FAIL_NET, SMTP_STAGE_NONE,
				    "no reply from %s[%s] within %d s", c->host,
				    c->addr, c->timeout);
				return -2;
			case -1:
				fail_set(f, FAIL_NET, SMTP_STAGE_NONE,
				    "waiting for %s[%s]: %s", c->host, c->addr,
				    strerror(errno));
				return -1;
			}
		}
		if (c->tls != NULL)
			n = tls_read(c->tls, c->rbuf + c->rlen,
			    sizeof(c->rbuf) - c->rlen);
		else
			n = read(c->fd, c->rbuf + c->rlen,
			    sizeof(c->rbuf) - c->rlen);
		if (n > 0) {
			c->rlen += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (c->tls != NULL && (n == TLS_WANT_READ ||
		    n == TLS_WANT_WRITE)) {
			want = (int)n;
			continue;
		}
		if (c->tls == NULL && (errno == EAGAIN || errno == EINTR))
			continue;
		fail_set(f, net_tls_kind(c, FAIL_NET), SMTP_STAGE_NONE,
		    "reading from %s[%s]: %s", c->host, c->addr,
		    c->tls ? tls_error(c->tls) : strerror(errno));
		return -1;
	}
}

ssize_t
conn_readline(struct conn *c, char *buf, size_t len, struct fail *f)
{
	long long deadline;
	char *nl;
	size_t n;
	int rv;

	deadline = net_now_ms() + c->timeout * 1000LL;
	while ((nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos)) ==
	    NULL) {
		if (c->rlen - c->rpos >= len - 1 ||
		    (c->rpos == 0 && c->rlen == sizeof(c->rbuf))) {
			fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_NONE,
			    "%s[%s] sent a line longer than %zu octets",
			    c->host, c->addr, len - 1);
			return -1;
		}
		if ((rv = conn_fill(c, deadline, f)) < 0)
			return -1;
		if (rv == 0) {
			fail_set(f, FAIL_NET, SMTP_STAGE_NONE,
			    "%s[%s] closed the connection", c->host, c->addr);
			return -1;
		}
	}
	n = (size_t)(nl - (c->rbuf + c->rpos));
	if (n >= len) {
		fail_set(f, FAIL_PROTOCOL, SMTP_STAGE_NONE,
		    "%s[%s] sent a line longer than %zu octets", c->host,
		    c->addr, len - 1);
		return -1;
	}
	memcpy(buf, c->rbuf + c->rpos, n);
	c->rpos += n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

int
conn_pending(struct conn *c)
{
	return c->rlen > c->rpos;
}

ssize_t
conn_read(struct conn *c, void *buf, size_t len, struct fail *f)
{
	size_t n;
	int rv;

	if (c->rpos == c->rlen) {
		rv = conn_fill(c, net_now_ms() + c->timeout * 1000LL, f);
		if (rv <= 0)
			return rv < 0 ? -1 : 0;
	}
	n = c->rlen - c->rpos;
	if (n > len)
		n = len;
	memcpy(buf, c->rbuf + c->rpos, n);
	c->rpos += n;
	return (ssize_t)n;
}

/*
 * A short wait that is no failure when nothing comes (HTTP's 100-continue
 * bound): the timeout's "no reply" goes to a scratch struct fail.  Over
 * TLS, a record that holds no data (a TLS 1.3 session ticket) is read
 * and the wait goes on.
 */
int
conn_wait(struct conn *c, int ms, struct fail *f)
{
	struct fail tmp;
	int rv;

	if (conn_pending(c))
		return 1;
	memset(&tmp, 0, sizeof(tmp));
	if ((rv = conn_fill(c, net_now_ms() + ms, &tmp)) == -2)
		return 0;
	if (rv == -1)
		*f = tmp;
	else if (rv == 0)
		fail_set(f, FAIL_NET, SMTP_STAGE_NONE,
		    "%s[%s] closed the connection", c->host, c->addr);
	return rv == 1 ? 1 : -1;
}

/*
 * Write all of buf.  The clock restarts whenever a write makes progress:
 * a large message on a slow link is fine, a stalled one is not.  A stall
 * with data in flight is the classic MTU black hole (ses.md 10).
 */
static int
conn_write_all(struct conn *c, const char *buf, size_t len, struct fail *f)
{
	long long deadline;
	ssize_t n;
	size_t off = 0;
	int want = TLS_WANT_WRITE;

	deadline = net_now_ms() + c->timeout * 1000LL;
	while (off < len) {
		if (c->tls != NULL)
			n = tls_write(c->tls, buf + off, len - off);
		else
			n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			deadline = net_now_ms() + c->timeout * 1000LL;
			continue;
		}
		if (c->tls != NULL && (n == TLS_WANT_READ ||
		    n == TLS_WANT_WRITE))
			want = (int)n;
		else if (c->tls == NULL && n == -1 && (errno == EAGAIN ||
		    errno == EINTR))
			want = TLS_WANT_WRITE;
		else {
			fail_set(f, net_tls_kind(c, FAIL_NET), SMTP_STAGE_NONE,
			    "writing to %s[%s]: %s", c->host, c->addr,
			    c->tls ? tls_error(c->tls) : strerror(errno));
			return -1;
		}
		if (net_wait(c->fd, want == TLS_WANT_READ ? POLLIN : POLLOUT,
		    deadline) != 1) {
			fail_set(f, FAIL_NET, SMTP_STAGE_NONE,
			    "writing to %s[%s] made no progress for %d s: a "
			    "path that drops large packets is the usual cause "
			    "(set the interface MTU to 1500)", c->host,
			    c->addr, c->timeout);
			return -1;
		}
	}
	return 0;
}

int
conn_flush(struct conn *c, struct fail *f)
{
	int rv;

	if (c->wlen == 0)
		return 0;
	rv = conn_write_all(c, c->wbuf, c->wlen, f);
	c->wlen = 0;
	return rv;
}

/*
 * Wait until everything written has left: the kernel's send queue
 * (SIOCOUTQ: unsent and unacknowledged octets) drains.  A queue that does
 * not shrink for the timeout is the MTU black hole of ses.md 10, which a
 * write alone cannot see while the socket buffer still takes data.
 */
int
conn_drain(struct conn *c, struct fail *f)
{
	long long deadline;
	int queued, last = -1;

	deadline = net_now_ms() + c->timeout * 1000LL;
	for (;;) {
		if (ioctl(c->fd, SIOCOUTQ, &queued) == -1 || queued == 0)
			return 0;
		if (last == -1 || queued < last) {
			last = queued;
			deadline = net_now_ms() + c->timeout * 1000LL;
		} else if (net_now_ms() > deadline) {
			fail_set(f, FAIL_NET, SMTP_STAGE_BODY,
			    "%d octets to %s[%s] made no progress for %d s: a "
			    "path that drops large packets is the usual cause "
			    "(set the interface MTU to 1500)", queued, c->host,
			    c->addr, c->timeout);
			return -1;
		}
		(void)poll(NULL, 0, 10);
	}
}

int
conn_write(struct conn *c, const void *buf, size_t len, struct fail *f)
{
	if (c->wlen + len > sizeof(c->wbuf)) {
		if (conn_flush(c, f) == -1)
			return -1;
		/* Large writes go straight out, without a copy. */
		if (len >= sizeof(c->wbuf))
			return conn_write_all(c, buf, len, f);
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	return 0;
}

int
conn_sink_write(void *arg, const void *buf, size_t len)
{
	struct conn_sink *cs = arg;

	return conn_write(cs->c, buf, len, cs->f);
}

void
conn_close(struct conn *c)
{
	tls_close(c->tls);
	c->tls = NULL;
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	if (c->res != NULL)
		freeaddrinfo(c->res);
	c->res = c->next = NULL;
}
