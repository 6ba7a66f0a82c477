/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * nodelay.so: sets TCP_NODELAY on every TCP socket the program connects,
 * loaded with LD_PRELOAD.  bench.py runs msmtp through it as a second,
 * hypothetical msmtp: msmtp leaves Nagle's algorithm on and writes the
 * TLS Finished and its EHLO, and each line of the message, as separate
 * small records, so twice per send a small segment waits for the ACK
 * that the server delays (about 40 ms on Linux).  With the shim, the
 * comparison shows what remains once those waits are gone.  Not a
 * configuration msmtp offers.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int one = 1, rv, saved;

	if (real == NULL &&
	    (real = (int (*)(int, const struct sockaddr *, socklen_t))
	    dlsym(RTLD_NEXT, "connect")) == NULL)
		return -1;
	rv = real(fd, sa, len);
	saved = errno;		/* EINPROGRESS must reach the caller */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	errno = saved;
	return rv;
}
