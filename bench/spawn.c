/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * bench-spawn: run one command and print what wait4() says about it, for
 * bench.py.
 *
 *	bench-spawn command [argument ...]
 *
 * prints "status wall_ns utime_us stime_us maxrss_kib" on standard output;
 * the command's standard output goes to /dev/null, its standard input and
 * error are this program's.  Why not fork from Python directly: the
 * kernel keeps the peak resident set of a process across execve(), so a
 * command forked from a 20 MB Python reports a 20 MB ru_maxrss whatever
 * it uses.  Forked from this small program, it reports its own.
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	struct rusage ru;
	long long t0, t1;
	pid_t pid;
	int status, null;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-spawn command [argument ...]\n");
		return 2;
	}
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		perror("bench-spawn: /dev/null");
		return 2;
	}
	t0 = now_ns();
	if ((pid = fork()) == -1) {
		perror("bench-spawn: fork");
		return 2;
	}
	if (pid == 0) {
		(void)dup2(null, STDOUT_FILENO);
		execv(argv[1], argv + 1);
		perror("bench-spawn: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("bench-spawn: wait4");
		return 2;
	}
	t1 = now_ns();
	printf("%d %lld %lld %lld %ld\n", WIFEXITED(status) ?
	    WEXITSTATUS(status) : 128 + WTERMSIG(status), t1 - t0,
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	    ru.ru_maxrss);
	return 0;
}
