/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * ses-sendmail: a drop-in sendmail(8) that submits each message to Amazon
 * SES over verified TLS with SMTP AUTH, synchronously, and tells the
 * caller the outcome in its exit code (sysexits.h).
 *
 * This file: the flags and modes, the privilege sequence, the pipeline,
 * and the one exit().
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "config.h"
#include "extern.h"
#include "pathnames.h"

extern char **environ;

enum mode {
	MODE_DELIVER = 0,	/* -bm, the default */
	MODE_SMTP,		/* -bs */
	MODE_QUEUE,		/* -bp, mailq */
	MODE_ALIASES,		/* -bi, newaliases */
	MODE_FLUSH,		/* -q */
	MODE_VERIFY,		/* -bv */
	MODE_HELP,
	MODE_VERSION,
	MODE_CHECK,		/* --check */
	MODE_DERIVE		/* --derive-password */
};

struct opts {
	enum mode	 mode;
	struct check_opts chk;		/* --check, --ports, --json... */
	const char	*region;	/* --region, for --derive-password */
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi, -O IgnoreDots */
	int		 verbose;	/* -v */
	const char	*sender;	/* -f, -r */
	const char	*fullname;	/* -F */
	const char	*conf;		/* -C */
	int		 body;		/* -B: 0, 7 or 8 */
	char	       **rcpts;
	size_t		 nrcpts;
};

enum flag_arg {
	ARG_NONE,	/* a letter alone: -t */
	ARG_VALUE,	/* a value glued or in the next word: -fme, -f me */
	ARG_GLUED	/* only what is glued, maybe nothing: -q, -q1h */
};

/*
 * Every Sendmail 8 flag: what it takes, and why an ignored one is
 * ignored.  A flag not in this table is refused (exit 64).
 */
static const struct flag {
	char		 letter;
	enum flag_arg	 arg;
	const char	*ignored;	/* NULL: honoured */
} flags[] = {
	{ 'A', ARG_VALUE, "submission type: there is one way in, to SES" },
	{ 'B', ARG_VALUE, NULL },	/* body type, sent as BODY= */
	{ 'b', ARG_VALUE, NULL },	/* mode */
	{ 'C', ARG_VALUE, NULL },	/* configuration file */
	{ 'd', ARG_GLUED, "Sendmail debug levels mean nothing here: use -v" },
	{ 'F', ARG_VALUE, NULL },	/* full name for a generated From: */
	{ 'f', ARG_VALUE, NULL },	/* envelope sender */
	{ 'G', ARG_NONE, "gateway submission: SES treats all mail alike" },
	{ 'h', ARG_VALUE, "hop count: the message leaves this host at once" },
	{ 'i', ARG_NONE, NULL },	/* a lone dot is not the end */
	{ 'L', ARG_VALUE, "syslog tag: the ident is always ses-sendmail" },
	{ 'm', ARG_NONE, "me too: there is no alias expansion to drop us" },
	{ 'N', ARG_VALUE, "DSN notify: SES offers no DSN" },
	{ 'n', ARG_NONE, "no aliasing: there are no aliases" },
	{ 'O', ARG_VALUE, NULL },	/* IgnoreDots honoured, rest ignored */
	{ 'o', ARG_VALUE, NULL },	/* -oi honoured, rest ignored */
	{ 'q', ARG_GLUED, NULL },	/* queue run */
	{ 'R', ARG_VALUE, "DSN return: SES offers no DSN" },
	{ 'r', ARG_VALUE, NULL },	/* envelope sender, old name */
	{ 's', ARG_NONE, "save From lines: obsolete" },
	{ 't', ARG_NONE, NULL },	/* recipients from the header */
	{ 'U', ARG_NONE, "initial user submission: always the case" },
	{ 'V', ARG_VALUE, "DSN envelope id: SES offers no DSN" },
	{ 'v', ARG_NONE, NULL },	/* SMTP dialogue on stderr */
	{ 'X', ARG_VALUE, "traffic log: never opened, no flag writes a file" },
};

/* Before the message is read: the line (with its advice), then out. */
static void __attribute__((noreturn, format(printf, 2, 3)))
fatal(enum fail_kind kind, const char *fmt, ...)
{
	char buf[SES_FAIL_TEXT], text[SES_FAIL_TEXT * 2];
	struct fail f;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memset(&f, 0, sizeof(f));
	fail_set(&f, kind, SMTP_STAGE_NONE, "%s", buf);
	log_error("%s", fail_line(&f, text, sizeof(text)));
	exit(fail_exit(&f));
}

/* A message-level failure as the error line; returns its exit code. */
static int
fail_report(const char *what, const struct fail *f)
{
	char text[SES_FAIL_TEXT * 2];

	log_error("%s%s", what, fail_line(f, text, sizeof(text)));
	return fail_exit(f);
}

static const struct flag *
flag_find(char letter)
{
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i].letter == letter)
			return &flags[i];
	return NULL;
}

/* An argument that will become an address or a header must be clean. */
static void
opts_check_arg(const char *what, const char *s)
{
	if (strlen(s) > SES_MAX_ARG)
		fatal(FAIL_USAGE, "%s is longer than %d octets", what,
		    SES_MAX_ARG);
	if (addr_has_ctl(s, strlen(s)))
		fatal(FAIL_USAGE, "%s contains a control character (CR, LF, "
		    "NUL...): refused", what);
}

static void
opts_mode(struct opts *o, const char *v)
{
	static const struct {
		const char	*name;
		enum mode	 mode;
	} modes[] = {
		{ "m", MODE_DELIVER }, { "s", MODE_SMTP }, { "p", MODE_QUEUE },
		{ "i", MODE_ALIASES }, { "v", MODE_VERIFY },
	};
	char shown[LOG_EXCERPT + 4];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(v, modes[i].name) == 0) {
			o->mode = modes[i].mode;
			return;
		}
	/* -bd, -bD, -bt, -bh, -bH, -bP and the rest: a daemon's modes. */
	log_excerpt(shown, sizeof(shown), v, strlen(v));
	fatal(FAIL_USAGE, "-b%s is not supported: ses-sendmail has no daemon, "
	    "aliases or queue; use -bm, -bs, -bv, -bp or -bi", shown);
}

/* -o and -O: only IgnoreDots means anything; the rest are ignored. */
static void
opts_option(struct opts *o, char letter, const char *v)
{
	if (letter == 'o' && v[0] == 'i')
		o->ignore_dots = strcasecmp(v + 1, "false") != 0 &&
		    strcasecmp(v + 1, "f") != 0;
	else if (letter == 'O' && strncasecmp(v, "IgnoreDots", 10) == 0)
		o->ignore_dots = strcasecmp(v + 10, "=false") != 0 &&
		    strcasecmp(v + 10, "=f") != 0;
	/* Else: delivery is always synchronous (-odi, -odb), errors are
	 * always the exit code (-oem, -oep), there is no alias file (-oA). */
}

static void
opts_value(struct opts *o, char letter, const char *v)
{
	switch (letter) {
	case 'B':
		if (strcasecmp(v, "8BITMIME") == 0)
			o->body = 8;
		else if (strcasecmp(v, "7BIT") == 0)
			o->body = 7;
		else
			fatal(FAIL_USAGE, "-B takes 7BIT or 8BITMIME");
		break;
	case 'b':
		opts_mode(o, v);
		break;
	case 'C':
		o->conf = v;
		break;
	case 'F':
		opts_check_arg("the full name (-F)", v);
		o->fullname = v;
		break;
	case 'f':
	case 'r':
		opts_check_arg("the sender address (-f)", v);
		o->sender = v;
		break;
	case 'O':
	case 'o':
		opts_option(o, letter, v);
		break;
	case 'q':
		o->mode = MODE_FLUSH;
		break;
	}
}

/* --ports 25,465,587: the ports --check probes. */
static void
opts_ports(struct opts *o, const char *v)
{
	const char *errstr;
	char buf[128], shown[LOG_EXCERPT + 4], *p, *tok;

	if (strlcpy(buf, v, sizeof(buf)) >= sizeof(buf))
		fatal(FAIL_USAGE, "--ports: list too long");
	o->chk.nports = 0;
	for (p = buf; (tok = strsep(&p, ",")) != NULL;) {
		if (o->chk.nports == CHECK_MAX_PORTS)
			fatal(FAIL_USAGE, "--ports: at most %d ports",
			    CHECK_MAX_PORTS);
		o->chk.ports[o->chk.nports++] = (int)strtonum(tok, 1, 65535,
		    &errstr);
		if (errstr != NULL) {
			log_excerpt(shown, sizeof(shown), tok, strlen(tok));
			fatal(FAIL_USAGE, "--ports: '%s' is not a port", shown);
		}
	}
}

/* Long options; returns how many extra words of argv it took. */
static int
opts_long(struct opts *o, const char *arg, const char *next)
{
	char shown[LOG_EXCERPT + 4];

	if (strcmp(arg, "--help") == 0)
		o->mode = MODE_HELP;
	else if (strcmp(arg, "--version") == 0)
		o->mode = MODE_VERSION;
	else if (strcmp(arg, "--check") == 0)
		o->mode = MODE_CHECK;
	else if (strcmp(arg, "--json") == 0)
		o->chk.json = 1;
	else if (strcmp(arg, "--derive-password") == 0)
		o->mode = MODE_DERIVE;
	else if (strcmp(arg, "--send-test") == 0) {
		o->chk.send_to = "success@simulator.amazonses.com";
		if (next != NULL && next[0] != '-') {
			opts_check_arg("the --send-test address", next);
			o->chk.send_to = next;
			return 1;
		}
	} else if (strcmp(arg, "--ports") == 0 || strcmp(arg,
	    "--region") == 0) {
		if (next == NULL)
			fatal(FAIL_USAGE, "%s needs a value", arg);
		if (arg[2] == 'p')
			opts_ports(o, next);
		else
			o->region = next;
		return 1;
	} else {
		log_excerpt(shown, sizeof(shown), arg, strlen(arg));
		fatal(FAIL_USAGE, "unknown option %s (see --help)", shown);
	}
	return 0;
}

/*
 * Sendmail's command line: options before or after recipients, "--" ends
 * them, values glued or separate, letters combined (-ti).
 */
static void
opts_parse(struct opts *o, int argc, char *argv[])
{
	const struct flag *fl;
	const char *a, *v;
	int i, only_rcpts = 0;

	if ((o->rcpts = reallocarray(NULL, (size_t)argc + 1,
	    sizeof(*o->rcpts))) == NULL)
		fatal(FAIL_OS, "out of memory");
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_rcpts || a[0] != '-' || a[1] == '\0') {
			opts_check_arg("a recipient address", a);
			o->rcpts[o->nrcpts++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_rcpts = 1;
			continue;
		}
		if (a[1] == '-') {
			i += opts_long(o, a, i + 1 < argc ? argv[i + 1] :
			    NULL);
			continue;
		}
		for (a++; *a != '\0'; a++) {
			if ((fl = flag_find(*a)) == NULL)
				fatal(FAIL_USAGE, "unknown flag -%c: see "
				    "--help or ses-sendmail(8)",
				    isprint((unsigned char)*a) ? *a : '?');
			if (fl->arg == ARG_NONE) {
				if (*a == 't')
					o->extract = 1;
				else if (*a == 'i')
					o->ignore_dots = 1;
				else if (*a == 'v')
					o->verbose = 1;
				continue;
			}
			v = a + 1;
			if (fl->arg == ARG_VALUE && *v == '\0') {
				if (++i >= argc)
					fatal(FAIL_USAGE, "-%c needs a value",
					    *a);
				v = argv[i];
			}
			if (fl->ignored == NULL)
				opts_value(o, *a, v);
			break;
		}
	}
}

/*
 * Make sure fds 0 to 2 are open, so no file we open becomes one.  Only a
 * closed one is opened: at the caller's limit on open files, there is no
 * spare descriptor to test with.
 */
static void
sanitize_fds(void)
{
	char err[SES_FAIL_TEXT * 2];
	int fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* The lowest free number is fd: those below are open. */
		if ((nfd = open("/dev/null", O_RDWR)) == fd)
			continue;
		(void)snprintf(err, sizeof(err), "cannot open /dev/null as "
		    "descriptor %d: %s", fd, nfd == -1 ? strerror(errno) :
		    "another number came");
		/* stderr may be the closed one: syslog still has it. */
		fatal(FAIL_OS, "%s", err);
	}
}

/*
 * SIGXCPU: the soft CPU time limit was reached, and the hard one would
 * kill without a word.  One line, then out; only async-signal-safe calls.
 */
static int cpu_limit_exit;	/* FAIL_OS's code, looked up beforehand */

static void
cpu_limit(int sig)
{
	static const char line[] = SES_PROGNAME ": the CPU time limit was "
	    "reached: stopped, and a message being sent may not have gone; "
	    "raise the limit (ulimit -t)\n";
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, line, sizeof(line) - 1);
	(void)n;
	_exit(cpu_limit_exit);
}

/*
 * Too little stack even for log_error(): a short line straight to stderr
 * (syslog would need more stack than there is), then out.
 */
static void __attribute__((noreturn))
stack_too_small(rlim_t max)
{
	char line[160];
	ssize_t n;

	n = snprintf(line, sizeof(line), SES_PROGNAME ": the stack size "
	    "limit is %llu KiB and ses-sendmail needs %d KiB: raise the "
	    "limit (ulimit -s)\n", (unsigned long long)max / 1024,
	    SES_STACK_MIN / 1024);
	/* Nothing else can be done if even this write fails. */
	if (n > 0)
		n = write(STDERR_FILENO, line, strnlen(line, sizeof(line)));
	exit(fail_kind_exit(FAIL_OS));
}

/*
 * libbsd's arc4random() maps its state on its first call and _exit(1)s,
 * without a word, when that fails: so the first call is made here, once
 * two pages were seen to map, while nothing else holds memory.
 */
static void
random_prepare(void)
{
	uint32_t r;
	void *p;

	if ((p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		fatal(FAIL_OS, "out of memory at start");
	(void)munmap(p, 8192);
	arc4random_buf(&r, sizeof(r));
}

/*
 * The caller's resource limits must end a run with an exit code and a
 * line that names the limit, never with a signal: a write past the file
 * size limit fails with EFBIG (reported where it happens) instead of
 * SIGXFSZ; SIGXCPU is caught, even if the caller blocked it; and a stack
 * limit too small for us is raised to what we need when the hard limit
 * allows, or refused at once rather than met as a SIGSEGV.
 */
static void
limits_prepare(void)
{
	struct sigaction sa;
	struct rlimit rl;
	sigset_t set;

	(void)signal(SIGXFSZ, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	cpu_limit_exit = fail_kind_exit(FAIL_OS);
	sa.sa_handler = cpu_limit;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGXCPU, &sa, NULL);
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGXCPU);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	random_prepare();
	if (getrlimit(RLIMIT_STACK, &rl) == -1 ||
	    rl.rlim_cur >= SES_STACK_MIN)
		return;
	if (rl.rlim_max < SES_STACK_MIN)
		stack_too_small(rl.rlim_max);
	rl.rlim_cur = SES_STACK_MIN;
	if (setrlimit(RLIMIT_STACK, &rl) == -1)
		fatal(FAIL_OS, "cannot raise the stack size limit to %d KiB: "
		    "%s; raise it (ulimit -s)", SES_STACK_MIN / 1024,
		    strerror(errno));
}

/*
 * The end of a mode that prints: standard output failing (a full disk,
 * the file size limit, a closed pipe) is the outcome too.  Never for -bs,
 * whose client may go away as it likes.
 */
static void __attribute__((noreturn))
finish(int ex)
{
	struct fail f;

	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		memset(&f, 0, sizeof(f));
		fail_set(&f, FAIL_IO, SMTP_STAGE_NONE, "%s", errno ?
		    strerror(errno) : "write error");
		ex = ex != 0 ? ex : fail_exit(&f);
		(void)fail_report("writing standard output: ", &f);
	}
	exit(ex);
}

/*
 * Clear the dumpable flag and read it back: it alone keeps the caller's
 * debugger, /proc/PID/mem and core files away from the secret.
 */
static void
undumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal(FAIL_OS, "cannot make the process non-dumpable, so a "
		    "debugger could read the secret: refusing to go on");
}

/*
 * Drop the group (and user) privilege for good: real, effective and
 * saved, then check it took.  The kernel makes a process dumpable again
 * (as fs.suid_dumpable says) whenever its effective ids change, and a
 * dumpable process whose ids are all the caller's is open to the
 * caller's ptrace and /proc/PID/mem.  So the saved ids keep the
 * privilege until the flag is cleared again: while one id differs from
 * the caller's, the kernel refuses the caller; a change of the saved ids
 * alone leaves the flag as it is.  No moment is open to the caller.
 */
static void
drop_privileges(void)
{
	uid_t uid = getuid(), ru, eu, su;
	gid_t gid = getgid(), rg, eg, sg;

	if (setresgid(gid, gid, (gid_t)-1) == -1 ||
	    setresuid(uid, uid, (uid_t)-1) == -1)
		fatal(FAIL_OS, "cannot drop privileges: %s", strerror(errno));
	undumpable();
	if (setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		fatal(FAIL_OS, "cannot drop privileges: %s", strerror(errno));
	if (getresgid(&rg, &eg, &sg) == -1 || getresuid(&ru, &eu, &su) ==
	    -1 || rg != gid || eg != gid || sg != gid || ru != uid ||
	    eu != uid || su != uid)
		fatal(FAIL_OS, "privileges were not dropped: refusing to "
		    "go on");
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal(FAIL_OS, "the process became dumpable when it dropped "
		    "privileges, so a debugger could read the secret: "
		    "refusing to go on");
}

/*
 * For the parse of the system's configuration only: the real and
 * effective ids become the caller's, the saved ones keep the group, so
 * that nothing the parse does runs with the privilege, and rate_open()
 * can take it back for the one open the rate file needs.
 */
static void
lower_privileges(void)
{
	if (setresgid(getgid(), getgid(), (gid_t)-1) == -1 ||
	    setresuid(getuid(), getuid(), (uid_t)-1) == -1)
		fatal(FAIL_OS, "cannot drop privileges: %s", strerror(errno));
	undumpable();
}

/*
 * Open the rate file (design.md 11) with the group privilege the saved
 * ids kept, then drop it for good.
 */
static void
open_rate_file(const struct conf *c)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresgid(&rg, &eg, &sg) == -1 || getresuid(&ru, &eu, &su) == -1 ||
	    setresgid((gid_t)-1, sg, (gid_t)-1) == -1 ||
	    setresuid((uid_t)-1, su, (uid_t)-1) == -1)
		fatal(FAIL_OS, "cannot open the rate file with the group "
		    "privilege: %s", strerror(errno));
	rate_open(c);
	drop_privileges();
}

static const char *
user_name(uid_t uid)
{
	static char buf[32];
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		return pw->pw_name;
	(void)snprintf(buf, sizeof(buf), "%u", (unsigned)uid);
	return buf;
}

static const char *
group_name(gid_t gid)
{
	static char buf[32];
	struct group *gr;

	if ((gr = getgrgid(gid)) != NULL)
		return gr->gr_name;
	(void)snprintf(buf, sizeof(buf), "%u", (unsigned)gid);
	return buf;
}

/*
 * Open the configuration file: no symlink, a regular file, checked on
 * the open descriptor.  Returns the fd, or -1 with f set.
 */
static int
open_configuration(const char *path, int as_caller, struct stat *st,
    struct fail *f)
{
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		e = errno;
		if (e == ELOOP)
			fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE, "%s: is a "
			    "symbolic link: refused, name the file itself",
			    path);
		else if (e == EACCES && as_caller)
			fail_set(f, FAIL_NOPERM, SMTP_STAGE_NONE, "%s: you may "
			    "not read it (-C opens the file as you)", path);
		else
			/* Descriptors or memory ran out: the system's. */
			fail_set(f, e == EMFILE || e == ENFILE || e == ENOMEM ?
			    FAIL_OS : FAIL_CONFIG, SMTP_STAGE_NONE, "cannot "
			    "open the configuration %s: %s", path,
			    strerror(e));
		return -1;
	}
	if (fstat(fd, st) == -1)
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE, "%s: %s", path,
		    strerror(errno));
	else if (!S_ISREG(st->st_mode))
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE, "%s: not a regular "
		    "file: refused", path);
	else
		return fd;
	(void)close(fd);
	return -1;
}

/*
 * The privilege sequence around the configuration (design.md 11): open
 * it (as the caller for -C by anyone but root), parse it without the
 * privilege in the real and effective ids, open the rate file it names
 * with the privilege, drop privileges for good, then refuse unsafe
 * permissions and prepare the secret.  A caller's -C drops them for good
 * first: its rate file is opened as the caller.  Returns 0, or -1 with f
 * set.
 */
static int
load_configuration(struct opts *o, struct conf *c, struct fail *f)
{
	char err[SES_FAIL_TEXT];
	struct stat st;
	const char *path;
	int fd, caller, rv;

	path = o->conf ? o->conf : _PATH_SES_CONF;
	caller = o->conf != NULL && getuid() != 0;
	if (caller)
		drop_privileges();
	fd = open_configuration(path, caller, &st, f);
	lower_privileges();
	conf_init(c);
	rv = fd == -1 ? -1 : conf_parse_fd(fd, path, c, err, sizeof(err));
	if (rv == 0)
		open_rate_file(c);
	else
		drop_privileges();
	if (fd == -1)
		return -1;
	(void)close(fd);
	if (rv == 0 && conf_has_secret(c) &&
	    (st.st_mode & (S_IRWXO | S_IWGRP))) {
		fail_set(f, FAIL_CONFIG, SMTP_STAGE_NONE, "%s: holds a secret "
		    "but is %s by others: chown root:%s and chmod 0640 it",
		    path, (st.st_mode & (S_IWGRP | S_IWOTH)) ? "writable" :
		    "readable", INSTALL_GROUP);
		return -1;
	}
	if (rv == 0) {
		(void)snprintf(o->chk.perms, sizeof(o->chk.perms),
		    "%.32s:%.32s %04o", user_name(st.st_uid),
		    group_name(st.st_gid), (unsigned)(st.st_mode & 07777));
		o->chk.derived = c->aws_secret != NULL;
		if ((rv = creds_prepare(c, err, sizeof(err))) != 0)
			(void)snprintf(err + strlen(err), sizeof(err) -
			    strlen(err), " (%s)", path);
	}
	if (rv == 0 && c->helo == NULL &&
	    (c->helo = strdup(addr_fqdn())) == NULL) {
		rv = -2;
		(void)strlcpy(err, "out of memory", sizeof(err));
	}
	if (rv != 0)
		fail_set(f, rv == -2 ? FAIL_OS : FAIL_CONFIG, SMTP_STAGE_NONE,
		    "%s", err);
	return rv == 0 ? 0 : -1;
}

static void __attribute__((noreturn))
print_version(enum mode mode)
{
	printf("ses-sendmail %s (GnuTLS %s)\nconfiguration: %s\n",
	    PACKAGE_VERSION, gnutls_check_version(NULL), _PATH_SES_CONF);
	if (mode == MODE_HELP)
		printf("\nusage: ses-sendmail [flags] [--] [recipient ...]\n"
		    "  -t          recipients also from To:, Cc:, Bcc:\n"
		    "  -i, -oi     a lone dot does not end the message\n"
		    "  -f ADDR     envelope sender (-r too)\n"
		    "  -F NAME     full name for a generated From:\n"
		    "  -C FILE     another configuration file\n"
		    "  -B TYPE     7BIT or 8BITMIME\n"
		    "  -v          show the SMTP dialogue (AUTH masked)\n"
		    "  -bm -bs -bv -bp -bi -q   modes; see ses-sendmail(8)\n"
		    "  --check [--ports LIST] [--send-test [ADDR]] [--json]\n"
		    "              diagnose the path to SES step by step "
		    "(-f ADDR: the\n"
		    "              sender whose identity it checks)\n"
		    "  --derive-password --region REGION\n"
		    "              SMTP password from an IAM secret key "
		    "on stdin\n");
	finish(0);
}

/* The caller's login and full name, for a generated From:. */
static void
caller_identity(const char **login, const char **name)
{
	static char lbuf[64], nbuf[256];
	struct passwd *pw;

	(void)snprintf(lbuf, sizeof(lbuf), "uid%u", (unsigned)getuid());
	nbuf[0] = '\0';
	if ((pw = getpwuid(getuid())) != NULL) {
		(void)strlcpy(lbuf, pw->pw_name, sizeof(lbuf));
		if (pw->pw_gecos != NULL)
			(void)strlcpy(nbuf, pw->pw_gecos, sizeof(nbuf));
		nbuf[strcspn(nbuf, ",")] = '\0';
		if (addr_has_ctl(nbuf, strlen(nbuf)))
			nbuf[0] = '\0';
	}
	*login = lbuf;
	*name = nbuf[0] ? nbuf : NULL;
}

static void
plan_opts_from(const struct opts *o, struct plan_opts *po)
{
	memset(po, 0, sizeof(*po));
	po->sender = o->sender;
	po->fullname = o->fullname;
	po->extract = o->extract;
	po->rcpts = o->rcpts;
	po->nrcpts = o->nrcpts;
	po->body = o->body;
	caller_identity(&po->caller, &po->caller_name);
}

/* The recipients not delivered, for the error line; NULL if no memory. */
static char *
undelivered(const struct plan *p)
{
	size_t i, len = 1;
	char *buf;

	for (i = 0; i < p->rcpts.n; i++)
		len += strlen(p->rcpts.v[i].addr) + 2;
	if ((buf = malloc(len)) == NULL)
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < p->rcpts.n; i++) {
		if (p->done[i] == 1)
			continue;
		if (buf[0] != '\0')
			(void)strlcat(buf, ", ", len);
		(void)strlcat(buf, p->rcpts.v[i].addr, len);
	}
	return buf;
}

static int
report(const struct plan *p, const struct result *r)
{
	char text[SES_FAIL_TEXT * 2], *list;

	if (r->fail.kind == FAIL_NONE)
		return 0;
	list = undelivered(p);
	if (fail_names_rcpts(r))
		log_error("not delivered to %s: %s", list ? list :
		    "some recipients", fail_line(&r->fail, text, sizeof(text)));
	else if (r->possible_dup)
		/* Not "not sent": SES may have it (qmail's rule). */
		log_error("message perhaps not sent: %s; a connection was lost "
		    "after the final dot, so SES may have accepted it and "
		    "sending it again may duplicate it", r->fail.text);
	else
		(void)fail_report("message not sent: ", &r->fail);
	free(list);
	return fail_exit(&r->fail);
}

static int
verify_recipients(const struct conf *c, const struct opts *o)
{
	struct plan_opts po;
	struct plan p;
	struct msg m;
	struct fail f;
	char shown[SES_MAX_ADDR + 4];
	size_t i, j, n, nbad = 0;
	int ex = 0;

	plan_opts_from(o, &po);
	n = o->nrcpts > 0 ? o->nrcpts : 1;
	for (i = 0; i < n; i++) {
		memset(&f, 0, sizeof(f));
		if (o->nrcpts > 0) {
			po.rcpts = &o->rcpts[i];
			po.nrcpts = 1;
		}
		if (msg_spool_buf("", 0, c->max_message_size, &m, &f) == -1)
			return fail_report("", &f);
		if (plan_build(c, &po, &m, &p, &f) == 0)
			for (j = 0; j < p.rcpts.n; j++)
				printf("%s... deliverable: via SES %s\n",
				    p.rcpts.v[j].addr, c->transport ==
				    CONF_TRANSPORT_API ? c->api_host : c->host);
		else if (o->nrcpts > 0) {
			/* As the caller wrote it, but printable. */
			log_sanitize(shown, sizeof(shown), o->rcpts[i],
			    strlen(o->rcpts[i]));
			printf("%s... %s\n", shown, f.text);
			nbad++;
		} else
			(void)fail_report("", &f);
		if (f.kind != FAIL_NONE && ex == 0)
			ex = fail_exit(&f);
		plan_free(&p);
		msg_free(&m);
	}
	if (nbad > 0)
		log_error("%zu of %zu recipients would not be delivered", nbad,
		    n);
	return ex;
}

static int
deliver(struct conf *c, const struct opts *o)
{
	struct plan_opts po;
	struct result r;
	struct plan p;
	struct msg m;
	int ex;

	memset(&r, 0, sizeof(r));
	plan_opts_from(o, &po);
	/* All of stdin first: SES drops a session idle for ~10 s. */
	if (msg_spool(STDIN_FILENO, o->ignore_dots, c->max_message_size, &m,
	    &r.fail) == -1)
		return fail_report("message not sent: ", &r.fail);
	/* A refused plan still holds the header and part of the list. */
	if (plan_build(c, &po, &m, &p, &r.fail) == -1) {
		ex = fail_report("message not sent: ", &r.fail);
		plan_free(&p);
		msg_free(&m);
		return ex;
	}
	(void)retry_submit(c, &p, o->verbose, NULL, &r);
	/* No AUTH follows: the secret goes now, not at exit. */
	creds_wipe(c);
	log_summary(&p, &r, c);
	ex = report(&p, &r);
	plan_free(&p);
	msg_free(&m);
	return ex;
}

/* Does the caller's locale say UTF-8? (LC_ALL, then LC_CTYPE, LANG) */
static int
locale_is_utf8(void)
{
	const char *v;

	if ((v = getenv("LC_ALL")) == NULL || *v == '\0')
		if ((v = getenv("LC_CTYPE")) == NULL || *v == '\0')
			v = getenv("LANG");
	return v != NULL && (strcasestr(v, "UTF-8") != NULL ||
	    strcasestr(v, "utf8") != NULL);
}

static void __attribute__((noinline, noreturn))
run(int argc, char *argv[])
{
	static char *empty_env[] = { NULL };
	struct rlimit rl = { 0, 0 };
	struct plan_opts po;
	struct fail f;
	struct opts o;
	struct conf c;
	const char *base;
	int ex, setid;

	retry_start_clock();
	sanitize_fds();
	(void)signal(SIGPIPE, SIG_IGN);
	/* No core file may hold the secret. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	undumpable();
	memset(&o, 0, sizeof(o));
	/* --check's output: the terminal's, read before the environment
	 * goes. */
	o.chk.utf8 = isatty(STDOUT_FILENO) && locale_is_utf8();
	o.chk.colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	/* Set-group-ID: nothing from the caller's environment is used. */
	if ((setid = getegid() != getgid() || geteuid() != getuid()))
		environ = empty_env;
	base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : (argc > 0 && argv[0] ? argv[0] : "");
	if (strcmp(base, "mailq") == 0)
		o.mode = MODE_QUEUE;
	else if (strcmp(base, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	opts_parse(&o, argc, argv);

	switch (o.mode) {
	case MODE_HELP:
	case MODE_VERSION:
		/* Every mode runs without the privilege it does not need. */
		drop_privileges();
		print_version(o.mode);
	case MODE_QUEUE:
		drop_privileges();
		printf("Mail queue is empty\n");
		finish(0);
	case MODE_ALIASES:
	case MODE_FLUSH:
		/* No aliases to rebuild, no queue to run. */
		drop_privileges();
		exit(0);
	case MODE_DERIVE:
		drop_privileges();
		if (o.region == NULL)
			fatal(FAIL_USAGE, "--derive-password needs --region "
			    "REGION (the password differs per region)");
		finish(check_derive(o.region));
	default:
		break;
	}
	memset(&f, 0, sizeof(f));
	if (load_configuration(&o, &c, &f) == -1) {
		if (o.mode == MODE_CHECK)
			finish(check_config_failed(o.conf ? o.conf :
			    _PATH_SES_CONF, &f, &o.chk));
		exit(fail_report("", &f));
	}
	log_init(c.log, o.verbose);
	/* The API's keys, when it comes to sign: only then (awscreds.c). */
	awscreds_init(&c, setid);
	if (o.mode == MODE_CHECK) {
		o.chk.verbose = o.verbose;
		o.chk.sender = o.sender;
		if (o.chk.nports == 0)
			opts_ports(&o, "25,465,587,2465,2587");
		ex = check_run(&c, &o.chk);
	} else if (o.mode == MODE_SMTP) {
		plan_opts_from(&o, &po);
		ex = server_run(&c, &po, o.verbose);
	} else if (o.mode == MODE_VERIFY)
		ex = verify_recipients(&c, &o);
	else
		ex = deliver(&c, &o);
	conf_free(&c);
	free(o.rcpts);
	if (o.mode == MODE_SMTP)
		exit(ex);
	finish(ex);
}

/*
 * The limits come first, in a frame of their own: run()'s locals are a
 * few KiB, which a tiny stack limit might not hold.
 */
int
main(int argc, char *argv[])
{
	limits_prepare();
	run(argc, argv);
}
