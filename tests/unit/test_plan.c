/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Unit tests for plan.c, through plan_build() alone (design.md 4 and 5):
 * for each case of a table, a configuration, a command line and a
 * message go in; out come the envelope sender, the recipients in order,
 * the header block exactly as msg_write() puts it on the wire, the wire
 * size, the lines logged, or the refusal with its kind and exit code.
 * Then the size limit to the octet, the 10000-recipient limit, and the
 * transactions of at most max_recipients that retry.c cuts the plan
 * into.
 *
 * In the strings of a case, {host} stands for this host's name and
 * {fqdn} for addr_fqdn(): both are local.  In an expected header block,
 * each LF stands for the CR LF of the wire, "Date: DATE" for a generated
 * Date: and "Message-ID: <ID@domain>" for a generated Message-ID:.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

#define PATH	"/etc/ses-sendmail.conf"
#define BASE	"username AKIAIOSFODNN7EXAMPLE\n" \
		"password BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9\n" \
		"region us-east-1\n"
#define FROM	"from sender@example.com\n"
#define VER	"verified_domains example.com ok@example.org\n"
#define ADMIN	"admin_address admin@example.com\n"
#define SENDER	"sender@example.com"
#define RCPT	"rcpt@example.net"
#define CALLER	"cronuser"
#define AT(dom)	"Date: DATE\nMessage-ID: <ID@" dom ">\n"
#define ADDED	AT("example.com")
#define MAXARGV	8

struct pcase {
	const char	*desc;
	const char	*conf;		/* lines after BASE */
	const char	*f;		/* -f, or NULL */
	const char	*F;		/* -F, or NULL */
	const char	*gecos;		/* the caller's name, or NULL */
	int		 t;		/* -t */
	int		 body;		/* -B: 0, 7 or 8 */
	const char	*argv[MAXARGV];	/* argv recipients */
	const char	*msg;		/* the message, LF line ends */
	/* Planned: */
	const char	*sender;	/* the envelope sender */
	const char	*rcpts;		/* recipients in order, by " " */
	const char	*head;		/* header block on the wire */
	/* Refused (kind not FAIL_NONE): */
	enum fail_kind	 kind;
	int		 ex;		/* fail_exit() */
	const char	*text;		/* in the failure's text */
	/* Either: in the lines logged; "" nothing logged; NULL unchecked. */
	const char	*log;
};

static const struct pcase cases[] = {
	/* --- The envelope sender (design.md 5) ------------------------ */
	{
		.desc = "no -f: from wins over From:",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\nSubject: s\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Bob <bob@other.example>\nSubject: s\n" ADDED,
		.log = "",
	},
	{
		.desc = "-f wins over from and From:",
		.conf = FROM, .f = "f@f.example", .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\nSubject: s\n\nbody\n",
		.sender = "f@f.example", .rcpts = RCPT,
		.head = "From: Bob <bob@other.example>\nSubject: s\n"
		    AT("f.example"),
		.log = "",
	},
	{
		.desc = "-f as a name-addr: the address",
		.conf = FROM, .f = "Joe <joe@x.example>", .argv = { RCPT },
		.msg = "Subject: s\n\nbody\n",
		.sender = "joe@x.example", .rcpts = RCPT,
		.head = "Subject: s\nFrom: joe@x.example\n" AT("x.example"),
	},
	{
		.desc = "no -f, no from: the first From: mailbox",
		.conf = "", .argv = { RCPT },
		.msg = "From: (team) bob@other.example (Bob), "
		    "carol@other.example\n\nb\n",
		.sender = "bob@other.example", .rcpts = RCPT,
		.head = "From: (team) bob@other.example (Bob), "
		    "carol@other.example\n" AT("other.example"),
		.log = "",
	},
	{
		.desc = "no -f, no from, From: folded over two lines",
		.conf = "", .argv = { RCPT },
		.msg = "From: Bob\n <bob@other.example>\n\nb\n",
		.sender = "bob@other.example", .rcpts = RCPT,
		.head = "From: Bob\n <bob@other.example>\n" AT("other.example"),
	},
	{
		.desc = "no -f, no from, no From:: the caller here, refused",
		.conf = "", .argv = { RCPT }, .msg = "Subject: s\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <" CALLER "@{fqdn}> cannot be an SES identity "
		    "(no domain, or a local one): set from in " PATH,
	},
	{
		.desc = "no -f, no from, a From: that cannot be parsed: "
		    "refused as such",
		.conf = "", .argv = { RCPT },
		.msg = "From: a@@example.com\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "message refused: bad From: header: ",
	},
	{
		.desc = "no -f, no from, a From: with no address: refused as "
		    "such",
		.conf = "", .argv = { RCPT },
		.msg = "From: undisclosed-recipients:;\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "message refused: bad From: header: no address",
	},
	{
		.desc = "verified_domains, no from, no -f: From: outside "
		    "refused, saying why",
		.conf = VER, .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\n\nb\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <bob@other.example> cannot be an SES identity "
		    "(outside verified_domains): set from in " PATH,
	},
	{
		.desc = "no -f, no from, From: root: refused",
		.conf = "", .argv = { RCPT }, .msg = "From: root\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <root> cannot be an SES identity",
	},
	{
		.desc = "-f root with from: replaced by from",
		.conf = FROM, .f = "root", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <root> replaced by from <" SENDER ">",
	},
	{
		.desc = "-f root@localhost with from: replaced by from",
		.conf = FROM, .f = "root@localhost", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <root@localhost> replaced by from",
	},
	{
		.desc = "-f www-data@{host} with from: replaced by from",
		.conf = FROM, .f = "www-data@{host}", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <www-data@{host}> replaced by from",
	},
	{
		.desc = "-f root without from: refused",
		.conf = "", .f = "root", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <root> cannot be an SES identity (no domain, "
		    "or a local one): set from in " PATH,
	},
	{
		.desc = "-f root@[127.0.0.1] without from: refused",
		.conf = "", .f = "root@[127.0.0.1]", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <root@[127.0.0.1]> cannot be",
	},
	{
		.desc = "-f '<>' with from: from",
		.conf = FROM, .f = "<>", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <> replaced by from <" SENDER ">",
	},
	{
		.desc = "-f '<>' without from: the null sender refused",
		.conf = "", .f = "<>", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "the null sender (-f '<>') is refused by SES: set from "
		    "in " PATH,
	},
	{
		.desc = "-f '' without from: the null sender refused",
		.conf = "", .f = "", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR, .text = "null sender",
	},
	{
		.desc = "-f that cannot be parsed: a usage error",
		.conf = FROM, .f = "a@@example.com", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_USAGE, .ex = EX_USAGE,
		.text = "bad sender address (-f): ",
	},
	{
		.desc = "verified_domains: -f outside replaced by from",
		.conf = FROM VER, .f = "bob@other.example", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <bob@other.example> replaced by from <"
		    SENDER ">",
	},
	{
		.desc = "verified_domains: -f a listed address kept",
		.conf = FROM VER, .f = "ok@example.org", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = "ok@example.org", .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" AT("example.org"),
		.log = "",
	},
	{
		.desc = "verified_domains: -f another address of its domain "
		    "replaced",
		.conf = FROM VER, .f = "no@example.org", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <no@example.org> replaced",
	},
	{
		.desc = "verified_domains: -f inside a listed domain (any "
		    "case) kept",
		.conf = FROM VER, .f = "X@EXAMPLE.COM", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = "X@EXAMPLE.COM", .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" AT("EXAMPLE.COM"),
		.log = "",
	},
	{
		.desc = "verified_domains: -f in a subdomain is outside",
		.conf = FROM VER, .f = "a@sub.example.com", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "envelope sender <a@sub.example.com> replaced",
	},
	{
		.desc = "verified_domains, no from: -f outside refused",
		.conf = VER, .f = "bob@other.example", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "sender <bob@other.example> cannot be an SES identity "
		    "(outside verified_domains)",
	},
	{
		.desc = "verified_domains: a generated From: is the kept -f",
		.conf = FROM VER, .f = "ok@example.org", .F = "X",
		.argv = { RCPT }, .msg = "Subject: s\n\nb\n",
		.sender = "ok@example.org", .rcpts = RCPT,
		.head = "Subject: s\nFrom: X <ok@example.org>\n"
		    AT("example.org"),
	},

	/* --- From: added when missing (design.md 4) ------------------- */
	{
		.desc = "From: added: the caller's name and from",
		.conf = FROM, .gecos = "Cron User", .argv = { RCPT },
		.msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\nFrom: Cron User <" SENDER ">\n"
		    ADDED,
		.log = "",
	},
	{
		.desc = "From: added: -F wins over the caller's name",
		.conf = FROM, .F = "Cron Daemon", .gecos = "Cron User",
		.argv = { RCPT }, .msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\nFrom: Cron Daemon <" SENDER ">\n"
		    ADDED,
	},
	{
		.desc = "From: added: -F with -f",
		.conf = FROM, .f = "user@x.example", .F = "Cron Daemon",
		.argv = { RCPT }, .msg = "Subject: no from\n\nbody\n",
		.sender = "user@x.example", .rcpts = RCPT,
		.head = "Subject: no from\nFrom: Cron Daemon <user@x.example>\n"
		    AT("x.example"),
	},
	{
		.desc = "From: added: -F specials quoted",
		.conf = FROM, .F = "Doe, \"J\" \\x", .argv = { RCPT },
		.msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\n"
		    "From: \"Doe, \\\"J\\\" \\\\x\" <" SENDER ">\n" ADDED,
	},
	{
		.desc = "From: added: -F non-ASCII as an encoded word",
		.conf = FROM, .F = "J\xc3\xbcrgen", .argv = { RCPT },
		.msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\n"
		    "From: =?UTF-8?B?SsO8cmdlbg==?= <" SENDER ">\n" ADDED,
	},
	{
		.desc = "From: added: an encoded word in -F is text, encoded",
		.conf = FROM, .F = "=?UTF-8?Q?evil=40attacker.test?=",
		.argv = { RCPT }, .msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\nFrom: "
		    "=?UTF-8?B?PT9VVEYtOD9RP2V2aWw9NDBhdHRhY2tlci50ZXN0Pz0=?="
		    "\n <" SENDER ">\n" ADDED,
	},
	{
		.desc = "From: added: a blank -F gives the bare address",
		.conf = FROM, .F = "   ", .gecos = "Cron User",
		.argv = { RCPT }, .msg = "Subject: no from\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: no from\nFrom: " SENDER "\n" ADDED,
	},
	{
		.desc = "From: added: no name at all, the bare address",
		.conf = FROM, .argv = { RCPT }, .msg = "just a body line\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n" ADDED,
	},
	{
		.desc = "From: added: a 51-octet name fits 78 columns",
		.conf = FROM,
		.F = "Nightly Backup Job of the Accounting Department Srv",
		.argv = { RCPT }, .msg = "Subject: s\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: s\nFrom: Nightly Backup Job of the "
		    "Accounting Department Srv <" SENDER ">\n" ADDED,
	},
	{
		.desc = "From: added: a 52-octet name puts the address below",
		.conf = FROM,
		.F = "Nightly Backup Job of the Accounting Department Srv2",
		.argv = { RCPT }, .msg = "Subject: s\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "Subject: s\nFrom: Nightly Backup Job of the "
		    "Accounting Department Srv2\n <" SENDER ">\n" ADDED,
	},

	/* --- From: with a local mailbox (design.md 5) ----------------- */
	{
		.desc = "local From: rewritten, display name kept",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Cron Daemon <root@localhost>\nSubject: s\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Cron Daemon <" SENDER ">\nSubject: s\n" ADDED,
		.log = "From: <root@localhost> replaced by from <" SENDER ">",
	},
	{
		.desc = "From: without a domain rewritten, bare",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: root\nSubject: s\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\nSubject: s\n" ADDED,
		.log = "From: <root> replaced by from",
	},
	{
		.desc = "local From: with a comment: the comment is the name",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: root@localhost (Cron Daemon)\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Cron Daemon <" SENDER ">\n" ADDED,
	},
	{
		.desc = "local From: with a quoted name kept quoted",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: \"Daemon, Cron\" <root@{host}>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"Daemon, Cron\" <" SENDER ">\n" ADDED,
		.log = "From: <root@{host}> replaced by from",
	},
	{
		.desc = "local From: second: rewritten, the other to Reply-To:",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: ok@example.com, root\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\nReply-To: ok@example.com\n" ADDED,
		.log = "From: <root> (one of 2 mailboxes) replaced by from <"
		    SENDER ">\n",
	},
	{
		.desc = "local From: without from (-f given): refused",
		.conf = "", .f = "bob@other.example", .argv = { RCPT },
		.msg = "From: Cron Daemon <root@localhost>\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "From: <root@localhost> cannot be an SES identity (no "
		    "domain, or a local one): set from in " PATH,
	},
	{
		.desc = "local second From: mailbox without from: refused",
		.conf = "", .f = "bob@other.example", .argv = { RCPT },
		.msg = "From: bob@other.example, www-data@{host}\n\nbody\n",
		.kind = FAIL_CONFIG, .ex = EX_CONFIG,
		.text = "From: <www-data@{host}> cannot be",
	},
	{
		.desc = "without verified_domains, other From:/Sender: "
		    "untouched",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\n"
		    "Sender: s@other.example\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Bob <bob@other.example>\n"
		    "Sender: s@other.example\n" ADDED,
		.log = "",
	},
	{
		.desc = "without verified_domains, an address as the name is "
		    "not judged",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: helpdesk@attacker.test <ok@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: helpdesk@attacker.test <ok@example.com>\n" ADDED,
		.log = "",
	},
	{
		.desc = "a From: that cannot be parsed: refused",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: a@@example.com\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "message refused: bad From: header: ",
	},
	{
		.desc = "a From: with only an empty group: refused",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: undisclosed-recipients:;\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "message refused: bad From: header: no address",
	},
	{
		.desc = "an empty From: refused",
		.conf = FROM, .argv = { RCPT }, .msg = "From:\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "bad From: header: no address",
	},
	{
		.desc = "two From: fields refused",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: a@example.com\nFROM: b@example.com\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "message refused: duplicate header 'From': SES accepts "
		    "it only once",
	},

	/* --- From: and verified_domains (design.md 5) ----------------- */
	{
		.desc = "verified_domains: From: outside rewritten, Reply-To: "
		    "added",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Bob Smith <bob@other.example>\nSubject: s\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Bob Smith <" SENDER ">\nSubject: s\n"
		    "Reply-To: bob@other.example\n" ADDED,
		.log = "From: <bob@other.example> replaced by from <" SENDER
		    "> (outside verified_domains)",
	},
	{
		.desc = "verified_domains: a quoted display name kept",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: \"Smith, Bob\" <bob@other.example>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"Smith, Bob\" <" SENDER ">\n"
		    "Reply-To: bob@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains: a Reply-To: there, none added",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\n"
		    "reply-to: list@other.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Bob <" SENDER ">\n"
		    "reply-to: list@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains: Reply-To: outside is not judged",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Reply-To: evil@attacker.test\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "Reply-To: evil@attacker.test\n" ADDED,
		.log = "",
	},
	{
		.desc = "verified_domains: From: and Sender: inside untouched",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@EXAMPLE.com>\nSender: s@example.com\n"
		    "\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@EXAMPLE.com>\nSender: s@example.com\n"
		    ADDED,
		.log = "",
	},
	{
		.desc = "verified_domains: From: a listed address untouched",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: ok@example.org\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: ok@example.org\n" ADDED, .log = "",
	},
	{
		.desc = "verified_domains: From: another address of its "
		    "domain",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: no@example.org\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\nReply-To: no@example.org\n" ADDED,
	},
	{
		.desc = "verified_domains: two mailboxes inside untouched",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: a@example.com, B <b@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: a@example.com, B <b@example.com>\n" ADDED,
		.log = "",
	},
	{
		.desc = "verified_domains: a group inside untouched",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: team: a@example.com, b@EXAMPLE.com;\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: team: a@example.com, b@EXAMPLE.com;\n" ADDED,
	},
	{
		.desc = "verified_domains: an '@' in quotes untouched",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: \"helpdesk@attacker.test\" <ok@example.com>\n"
		    "\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"helpdesk@attacker.test\" <ok@example.com>\n"
		    ADDED,
	},
	{
		.desc = "verified_domains: the second mailbox outside",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: ok@example.com, evil@attacker.test\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: ok@example.com, evil@attacker.test\n" ADDED,
		.log = "From: <evil@attacker.test> (one of 2 mailboxes) "
		    "replaced by from <" SENDER "> (outside verified_domains)",
	},
	{
		.desc = "verified_domains: the second mailbox outside, named: "
		    "the first name kept",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Bank <ok@example.com>, \"Bank\" "
		    "<evil@attacker.test>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Bank <" SENDER ">\n"
		    "Reply-To: ok@example.com, evil@attacker.test\n" ADDED,
	},
	{
		.desc = "verified_domains: a group with one mailbox outside",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: team: a@example.com, b@attacker.test;\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: a@example.com, b@attacker.test\n" ADDED,
		.log = "From: <b@attacker.test> (one of 2 mailboxes) replaced",
	},
	{
		.desc = "verified_domains: a group after an inside mailbox",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: ok@example.com, g: evil@attacker.test;\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: ok@example.com, evil@attacker.test\n" ADDED,
	},
	{
		.desc = "verified_domains: an address as the display name",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: helpdesk@attacker.test <ok@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"helpdesk@attacker.test\" <" SENDER ">\n"
		    "Reply-To: ok@example.com\n" ADDED,
		.log = "From: <ok@example.com> replaced by from <" SENDER
		    "> (an address in its display name)",
	},
	{
		.desc = "verified_domains: a domain literal in the display "
		    "name",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: x [helpdesk@attacker.test] <ok@example.com>\n"
		    "\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"x [helpdesk@attacker.test]\" <" SENDER ">\n"
		    "Reply-To: ok@example.com\n" ADDED,
	},
	{
		.desc = "verified_domains: the name kept as text, not as "
		    "written",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: \"a\\\"b\" (c@attacker.test) d "
		    "<evil@attacker.test>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: \"a\\\"b d\" <" SENDER ">\n"
		    "Reply-To: evil@attacker.test\n" ADDED,
	},
	{
		.desc = "verified_domains: an encoded word in the name kept",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: =?UTF-8?B?SsO8cmdlbg==?= Smith "
		    "<evil@attacker.test>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: =?UTF-8?B?SsO8cmdlbg==?= Smith <" SENDER ">\n"
		    "Reply-To: evil@attacker.test\n" ADDED,
	},
	{
		.desc = "verified_domains: a raw UTF-8 name becomes an encoded "
		    "word",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: J\xc3\xbcrgen <evil@attacker.test>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: =?UTF-8?B?SsO8cmdlbg==?= <" SENDER ">\n"
		    "Reply-To: evil@attacker.test\n" ADDED,
	},
	{
		.desc = "verified_domains: a local and an outside mailbox",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: root, evil@attacker.test\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\nReply-To: evil@attacker.test\n"
		    ADDED,
		.log = "From: <root> (one of 2 mailboxes) replaced by from <"
		    SENDER ">\n",
	},
	{
		.desc = "verified_domains: a long Reply-To: folded",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: aaaaaaaaaaaaaaaaaaaa@other.example,\n"
		    " bbbbbbbbbbbbbbbbbbbb@other.example,\n"
		    " cccccccccccccccccccc@other.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: aaaaaaaaaaaaaaaaaaaa@other.example,\n"
		    " bbbbbbbbbbbbbbbbbbbb@other.example, "
		    "cccccccccccccccccccc@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains: Reply-To: of exactly 78 columns",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: aaaaaaaaaaaaaaaaaaa@other.example, "
		    "bbbbbbbbbbbbbbbbbbb@other.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: aaaaaaaaaaaaaaaaaaa@other.example, "
		    "bbbbbbbbbbbbbbbbbbb@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains: Reply-To: of 79 columns folded",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: aaaaaaaaaaaaaaaaaaa@other.example, "
		    "bbbbbbbbbbbbbbbbbbbb@other.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: aaaaaaaaaaaaaaaaaaa@other.example,\n"
		    " bbbbbbbbbbbbbbbbbbbb@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains: a folded Reply-To: line of exactly "
		    "78 columns",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: aaaaaaaaaaaaaaaaaaa@other.example,\n"
		    " bbbbbbbbbbbbbbbbbbbbbbb@other.example,\n"
		    " cccccccccccccccccccccccc@other.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: " SENDER "\n"
		    "Reply-To: aaaaaaaaaaaaaaaaaaa@other.example,\n"
		    " bbbbbbbbbbbbbbbbbbbbbbb@other.example, "
		    "cccccccccccccccccccccccc@other.example\n" ADDED,
	},
	{
		.desc = "verified_domains, no from: From: outside is kept",
		.conf = VER, .f = "ok@example.org", .argv = { RCPT },
		.msg = "From: Bob <bob@other.example>\n\nb\n",
		.sender = "ok@example.org", .rcpts = RCPT,
		.head = "From: Bob <bob@other.example>\n" AT("example.org"),
		.log = "",
	},

	/* --- Sender: (design.md 5) ------------------------------------ */
	{
		.desc = "a local Sender: rewritten",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: Web <www-data@localhost>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "Sender: Web <" SENDER ">\n" ADDED,
		.log = "Sender: <www-data@localhost> replaced by from <" SENDER
		    ">\n",
	},
	{
		.desc = "Sender: local, then outside, no verified_domains: "
		    "rewritten",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: root, evil@attacker.test\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nSender: " SENDER "\n" ADDED,
		.log = "Sender: <root> (one of 2 mailboxes) replaced by from",
	},
	{
		.desc = "a Sender: that cannot be parsed, no verified_domains: "
		    "kept",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: ok@example.com <evil@x\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "Sender: ok@example.com <evil@x\n" ADDED,
		.log = "",
	},
	{
		.desc = "a local Sender: without from: left alone",
		.conf = "", .f = "al@example.com", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\nSender: root\n\nbody\n",
		.sender = "al@example.com", .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nSender: root\n" ADDED,
		.log = "",
	},
	{
		.desc = "a Sender: with a long name: the address below",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\nSender: Nightly Backup Job "
		    "of the Accounting Department Sr <root>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nSender: Nightly Backup Job "
		    "of the Accounting Department Sr\n <" SENDER ">\n" ADDED,
	},
	{
		.desc = "a Sender: with a 49-octet name: one line",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\nSender: Nightly Backup Job "
		    "of the Accounting Department S <root>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nSender: Nightly Backup Job "
		    "of the Accounting Department S <" SENDER ">\n" ADDED,
	},
	{
		.desc = "verified_domains: Sender: local mailboxes only, "
		    "rewritten",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: Web <www-data@localhost>, root\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "Sender: Web <" SENDER ">\n" ADDED,
		.log = "Sender: <www-data@localhost> (one of 2 mailboxes) "
		    "replaced by from <" SENDER ">\n",
	},
	{
		.desc = "verified_domains: a Sender: outside removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: Bob <bob@other.example>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: <bob@other.example> removed (outside "
		    "verified_domains)",
	},
	{
		.desc = "verified_domains: Sender: second mailbox outside, "
		    "removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: ok@example.com, evil@attacker.test\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: <evil@attacker.test> (one of 2 mailboxes) "
		    "removed (outside verified_domains)",
	},
	{
		.desc = "verified_domains: Sender: local and outside, removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: root, evil@attacker.test\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: <evil@attacker.test> (one of 2 mailboxes) "
		    "removed",
	},
	{
		.desc = "verified_domains: Sender: an address as its name, "
		    "removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: helpdesk@attacker.test <ok@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: <ok@example.com> removed (an address in its "
		    "display name)",
	},
	{
		.desc = "verified_domains: Sender: a group outside, removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: g: evil@attacker.test;\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: <evil@attacker.test> removed",
	},
	{
		.desc = "verified_domains: a Sender: that cannot be parsed, "
		    "removed",
		.conf = FROM VER, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Sender: ok@example.com <evil@x\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "Sender: removed: ",
	},
	{
		.desc = "two Sender: fields refused",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\nSender: s@example.com\n"
		    "Sender: evil@attacker.test\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "duplicate header 'Sender'",
	},

	/* --- Recipients (design.md 3 and 5) ---------------------------- */
	{
		.desc = "argv: in order, one list per argument, duplicates "
		    "once",
		.conf = FROM,
		.argv = { "b@x.example", "a@x.example, c@x.example",
		    "A@X.EXAMPLE", "a@X.example", "<c@x.example>" },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = SENDER,
		.rcpts = "b@x.example a@x.example c@x.example A@X.EXAMPLE",
		.head = "From: Al <al@example.com>\n" ADDED,
	},
	{
		.desc = "argv: a non-ASCII domain in punycode",
		.conf = FROM, .argv = { "user@b\xc3\xbc" "cher.example" },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.sender = SENDER, .rcpts = "user@xn--bcher-kva.example",
		.head = "From: Al <al@example.com>\n" ADDED,
	},
	{
		.desc = "no recipients: refused",
		.conf = FROM, .msg = "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "no recipients: give them as arguments, or use -t with "
		    "To:, Cc: or Bcc: in the message",
	},
	{
		.desc = "without -t, To:/Cc:/Bcc: are not recipients",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\nTo: to@x.example\n"
		    "Cc: cc@x.example\nBcc: bcc@x.example\n\nb\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nTo: to@x.example\n"
		    "Cc: cc@x.example\n" ADDED,
	},
	{
		.desc = "a malformed argv recipient: refused",
		.conf = FROM, .argv = { RCPT, "a@example..net" },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "bad recipient address: ",
	},
	{
		.desc = "a non-ASCII local part: refused",
		.conf = FROM, .argv = { "j\xc3\xb6rg@example.net" },
		.msg = "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "non-ASCII local part",
	},
	{
		.desc = "-t: To, Cc, Bcc (groups, quoted commas, comments, "
		    "folds); Bcc removed",
		.conf = FROM, .t = 1,
		.msg = "From: Alice <alice@example.com>\n"
		    "To: to1@x.example, \"Doe, John\" <john@x.example>,\n"
		    "\t(a comment, with a comma) to2@x.example (To Two)\n"
		    "Cc: team: a@x.example, b@x.example;, "
		    "undisclosed-recipients:;\n"
		    "Subject: -t\n"
		    "CC: Carl <carl@x.example>\n"
		    "Bcc: hidden@x.example, \"Secret, Sam\" <sam@x.example>\n"
		    "\nbody\n",
		.sender = SENDER,
		.rcpts = "to1@x.example john@x.example to2@x.example "
		    "a@x.example b@x.example carl@x.example hidden@x.example "
		    "sam@x.example",
		.head = "From: Alice <alice@example.com>\n"
		    "To: to1@x.example, \"Doe, John\" <john@x.example>,\n"
		    "\t(a comment, with a comma) to2@x.example (To Two)\n"
		    "Cc: team: a@x.example, b@x.example;, "
		    "undisclosed-recipients:;\n"
		    "Subject: -t\n"
		    "CC: Carl <carl@x.example>\n" ADDED,
	},
	{
		.desc = "-t: argv recipients first, then the header's",
		.conf = FROM, .t = 1, .argv = { "extra@y.example" },
		.msg = "From: Al <al@example.com>\nTo: to@x.example\n\nb\n",
		.sender = SENDER, .rcpts = "extra@y.example to@x.example",
		.head = "From: Al <al@example.com>\nTo: to@x.example\n" ADDED,
	},
	{
		.desc = "-t: duplicates sent once",
		.conf = FROM, .t = 1,
		.argv = { "to1@x.example", "TO1@x.example" },
		.msg = "To: to1@x.example, to1@X.EXAMPLE\n"
		    "Cc: <to1@x.example>\nBcc: to1@x.example\n"
		    "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = "to1@x.example TO1@x.example",
		.head = "To: to1@x.example, to1@X.EXAMPLE\n"
		    "Cc: <to1@x.example>\nFrom: Al <al@example.com>\n" ADDED,
	},
	{
		.desc = "-t: only Resent-To/Cc/Bcc when any exists; both Bccs "
		    "removed",
		.conf = FROM, .t = 1,
		.msg = "Resent-From: r@example.com\nResent-To: new@x.example\n"
		    "Resent-Cc: cc@x.example\nResent-Bcc: rb@x.example\n"
		    "From: Alice <alice@example.com>\nTo: old@x.example\n"
		    "Cc: oldcc@x.example\nBcc: oldbcc@x.example\n"
		    "Subject: resent\n\nbody\n",
		.sender = SENDER,
		.rcpts = "new@x.example cc@x.example rb@x.example",
		.head = "Resent-From: r@example.com\nResent-To: new@x.example\n"
		    "Resent-Cc: cc@x.example\n"
		    "From: Alice <alice@example.com>\nTo: old@x.example\n"
		    "Cc: oldcc@x.example\nSubject: resent\n" ADDED,
	},
	{
		.desc = "-t: a Resent-Bcc alone switches to the Resent- fields",
		.conf = FROM, .t = 1,
		.msg = "resent-bcc: rb@x.example\nTo: old@x.example\n"
		    "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = "rb@x.example",
		.head = "To: old@x.example\nFrom: Al <al@example.com>\n" ADDED,
	},
	{
		.desc = "-t: Bcc only: no To: is added",
		.conf = FROM, .t = 1,
		.msg = "Bcc: " RCPT "\nFrom: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
	},
	{
		.desc = "-t: no To:, Cc: or Bcc:: refused",
		.conf = FROM, .t = 1,
		.msg = "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR, .text = "no recipients",
	},
	{
		.desc = "-t: only an empty group: refused",
		.conf = FROM, .t = 1,
		.msg = "To: undisclosed-recipients:;\n"
		    "From: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR, .text = "no recipients",
	},
	{
		.desc = "-t: a malformed To: refused",
		.conf = FROM, .t = 1,
		.msg = "To: a@@example.net\nFrom: Al <al@example.com>\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "bad recipient address in the header (-t): To: ",
	},
	{
		.desc = "local recipients go to admin_address, once",
		.conf = FROM ADMIN,
		.argv = { "root", "root@localhost", "www-data@{host}" },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = "admin@example.com",
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "local recipient <root> sent to admin_address "
		    "<admin@example.com>\n",
	},
	{
		.desc = "local -t recipients to admin_address, in their place",
		.conf = FROM ADMIN, .t = 1,
		.msg = "To: root, " RCPT "\n"
		    "Cc: Postmaster <postmaster@localhost>, admin@example.com\n"
		    "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = "admin@example.com " RCPT,
		.head = "To: root, " RCPT "\n"
		    "Cc: Postmaster <postmaster@localhost>, admin@example.com\n"
		    "From: Al <al@example.com>\n" ADDED,
		.log = "local recipient <postmaster@localhost> sent to "
		    "admin_address",
	},
	{
		.desc = "local recipients without admin_address: 67, all named",
		.conf = FROM,
		.argv = { RCPT, "root", "root@localhost", "www-data@{host}" },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_NOUSER, .ex = EX_NOUSER,
		.text = "local recipient root, root@localhost, www-data@{host} "
		    "refused: nothing was sent",
	},
	{
		.desc = "a local -t recipient without admin_address: 67",
		.conf = FROM, .t = 1,
		.msg = "To: " RCPT "\nCc: root@localhost.localdomain\n"
		    "From: Al <al@example.com>\n\nbody\n",
		.kind = FAIL_NOUSER, .ex = EX_NOUSER,
		.text = "local recipient root@localhost.localdomain refused",
	},

	/* --- Fields added and removed (design.md 4) ------------------- */
	{
		.desc = "Date: and Message-ID: given: nothing added",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "Date: 1 Jan 2024 00:00 -0000\n"
		    "message-id: <given@example.org>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "Date: 1 Jan 2024 00:00 -0000\n"
		    "message-id: <given@example.org>\n",
	},
	{
		.desc = "X-SES-CONFIGURATION-SET: added when configured",
		.conf = FROM "configuration_set cs-test\n", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED
		    "X-SES-CONFIGURATION-SET: cs-test\n",
	},
	{
		.desc = "X-SES-CONFIGURATION-SET: not added twice",
		.conf = FROM "configuration_set cs-test\n", .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n"
		    "X-SES-Configuration-Set: mine\n\nbody\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n"
		    "X-SES-Configuration-Set: mine\n" ADDED,
	},
	{
		.desc = "Bcc:, Resent-Bcc:, Return-Path:, Content-Length: "
		    "removed, two of them no duplicate",
		.conf = FROM, .argv = { RCPT },
		.msg = "Return-Path: <a@example.com>\n"
		    "Return-Path: <b@example.com>\n"
		    "From: Al <al@example.com>\n"
		    "Bcc: hidden@example.net,\n other@example.net\n"
		    "resent-bcc: rb@example.net\n"
		    "Content-Length: 12\n\t34\nCONTENT-LENGTH: 7\nBCC:\n"
		    "X-After: kept\n\nbody\nBcc: a body line stays\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\nX-After: kept\n" ADDED,
	},
	{
		.desc = "two Subject: fields refused",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: a@example.com\nSubject: one\nX-B: x\n"
		    "SUBJECT: two\n\nb\n",
		.kind = FAIL_DATA, .ex = EX_DATAERR,
		.text = "duplicate header 'Subject'",
	},
	{
		.desc = "a line over 998 octets folded, and logged",
		.conf = FROM, .argv = { RCPT },
		.msg = "From: Al <al@example.com>\n\n"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "8901234567890123456789012345678901234567890123456789012345"
		    "6789012345678901234567890123456789012345678901234567890123"
		    "4567890123456789012345678901234567890123456789012345678901"
		    "2345678901234567890123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "8901234567890123456789012345678901234567890123456789012345"
		    "6789012345678901234567890123456789012345678901234567890123"
		    "4567890123456789012345678901234567890123456789012345678901"
		    "2345678901234567890123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "8901234567890123456789012345678901234567890123456789012345"
		    "6789012345678901234567890123456789012345678901234567890123"
		    "4567890123456789012345678901234567890123456789012345678901"
		    "2345678901234567890123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789012345678901234567"
		    "8901234567890123456789012345678901234567890123456789012345"
		    "6789012345678901234567890123456789\n",
		.sender = SENDER, .rcpts = RCPT,
		.head = "From: Al <al@example.com>\n" ADDED,
		.log = "lines longer than 998 octets folded: 1 CRLF SP "
		    "inserted (RFC 5322 2.1.1)",
	},
};

static char	host[256];
static int	logfd = -1, errfd = -1;

/*
 * s with {host} and {fqdn} replaced; a new string (NULL for NULL), or
 * exit: a test without memory cannot say anything.
 */
static char *
expand(const char *s)
{
	const char *p, *v;
	char *out;
	size_t len, n;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	for (p = s; (p = strchr(p, '{')) != NULL; p++)
		len += strlen(host) + strlen(addr_fqdn());
	if ((out = malloc(len)) == NULL)
		abort();
	for (n = 0, p = s; *p != '\0'; ) {
		if (strncmp(p, "{host}", 6) == 0)
			v = host;
		else if (strncmp(p, "{fqdn}", 6) == 0)
			v = addr_fqdn();
		else {
			out[n++] = *p++;
			continue;
		}
		memcpy(out + n, v, strlen(v));
		n += strlen(v);
		p += 6;
	}
	out[n] = '\0';
	return out;
}

/* s with each LF made CR LF, as on the wire; a new string. */
static char *
crlf(const char *s)
{
	char *out;
	size_t n = 0;

	if ((out = malloc(2 * strlen(s) + 1)) == NULL)
		abort();
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			out[n++] = '\r';
		out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

/* s for a diagnostic line: CR and LF as \r and \n, on one line. */
static void
diag_str(const char *what, const char *s)
{
	printf("#   %s '", what);
	for (; *s != '\0'; s++)
		if (*s == '\r')
			fputs("\\r", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	puts("'");
}

/* got is want (exact), or holds it; on failure, both shown. */
static int __attribute__((format(printf, 4, 5)))
str_check(int exact, const char *got, const char *want, const char *fmt,
    ...)
{
	char what[512];
	va_list ap;
	int pass;

	pass = exact ? strcmp(got, want) == 0 : strstr(got, want) != NULL;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ok(pass, "%s", what);
	if (!pass) {
		diag_str("got: ", got);
		diag_str("want:", want);
	}
	return pass;
}
#define is_bytes(got, want, ...)	str_check(1, got, want, __VA_ARGS__)
#define has_str(got, want, ...)		str_check(0, got, want, __VA_ARGS__)

/* The log goes to stderr (log stderr); catch it around plan_build(). */
static void
log_catch(void)
{
	fflush(stderr);
	if (ftruncate(logfd, 0) == -1 || lseek(logfd, 0, SEEK_SET) == -1 ||
	    dup2(logfd, STDERR_FILENO) == -1)
		abort();
}

static void
log_caught(char *buf, size_t len)
{
	ssize_t n;

	fflush(stderr);
	if (dup2(errfd, STDERR_FILENO) == -1)
		abort();
	if ((n = pread(logfd, buf, len - 1, 0)) < 0)
		n = 0;
	buf[n] = '\0';
}

struct membuf {
	char	*p;
	size_t	 len;
};

static int
mem_sink(void *arg, const void *buf, size_t len)
{
	struct membuf *mb = arg;
	char *p;

	if ((p = realloc(mb->p, mb->len + len + 1)) == NULL)
		return -1;
	mb->p = p;
	memcpy(mb->p + mb->len, buf, len);
	mb->len += len;
	mb->p[mb->len] = '\0';
	return 0;
}

/* The whole message as msg_write() sends it; a new string, or NULL. */
static char *
wire_of(struct msg *m, size_t *len)
{
	struct membuf mb = { NULL, 0 };
	struct wire w;
	struct fail f;

	wire_init(&w, mem_sink, &mb);
	if (msg_write(m, &w, &f) == -1) {
		free(mb.p);
		return NULL;
	}
	*len = mb.len;
	return mb.p;
}

static int
is_digits(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return n > 0;
}

/*
 * The header block of wire (up to the empty line, each line with its
 * CR LF), the generated Date: and Message-ID: values replaced: "Date:
 * Tue, 05 May 2026 21:04:42 +0000" (plan.c's strftime() form) by "Date:
 * DATE", "Message-ID: <1778014000.0123abcd4567ef89@dom>" by "Message-ID:
 * <ID@dom>".  A new string.
 */
static char *
head_of(const char *wire)
{
	const char *end, *line, *eol, *v;
	char *out;
	size_t n = 0, k;

	if ((end = strstr(wire, "\r\n\r\n")) == NULL)
		return strdup(wire);
	if ((out = malloc(end - wire + 3)) == NULL)
		abort();
	for (line = wire; line < end + 2; line = eol + 2) {
		eol = strstr(line, "\r\n");
		v = line + 13;
		if (eol - line == 6 + 31 && strncmp(line, "Date: ", 6) == 0 &&
		    line[9] == ',' && line[25] == ':' && line[28] == ':') {
			memcpy(out + n, "Date: DATE\r\n", 12);
			n += 12;
			continue;
		}
		k = strspn(v, "0123456789");
		if (strncmp(line, "Message-ID: <", 13) == 0 && k > 0 &&
		    v[k] == '.' && is_digits(v + k + 1, 16,
		    "0123456789abcdef") && v[k + 17] == '@') {
			memcpy(out + n, "Message-ID: <ID", 15);
			n += 15;
			line = v + k + 17;
		}
		memcpy(out + n, line, eol + 2 - line);
		n += eol + 2 - line;
	}
	out[n] = '\0';
	return out;
}

/* The recipients of p, separated by " "; a new string. */
static char *
rcpts_of(const struct plan *p)
{
	char *s;
	size_t i, len = 1;

	for (i = 0; i < p->rcpts.n; i++)
		len += strlen(p->rcpts.v[i].addr) + 1;
	if ((s = calloc(1, len)) == NULL)
		abort();
	for (i = 0; i < p->rcpts.n; i++) {
		if (i > 0)
			(void)strlcat(s, " ", len);
		(void)strlcat(s, p->rcpts.v[i].addr, len);
	}
	return s;
}

/* BASE then text, parsed into c; 0, or -1 (a bad case). */
static int
conf_of(struct conf *c, const char *text)
{
	char buf[2048], err[SES_FAIL_TEXT];

	(void)snprintf(buf, sizeof(buf), "%s%s", BASE, text);
	conf_init(c);
	if (conf_parse_buf(buf, strlen(buf), PATH, c, err, sizeof(err)) != 0) {
		printf("# bad configuration: %s\n", err);
		return -1;
	}
	return 0;
}

/* A planned message: sender, recipients, header block, size. */
static void
check_plan(const struct pcase *pc, struct plan *p, struct msg *m)
{
	char *want, *got, *wire, *head;
	size_t len = 0;

	want = expand(pc->sender);
	is_str(p->sender, want, "%s: envelope sender", pc->desc);
	free(want);
	want = expand(pc->rcpts);
	got = rcpts_of(p);
	is_str(got, want, "%s: recipients in order", pc->desc);
	free(got);
	free(want);
	if ((wire = wire_of(m, &len)) == NULL) {
		ok(0, "%s: the message written", pc->desc);
		return;
	}
	want = crlf(pc->head);
	head = head_of(wire);
	is_bytes(head, want, "%s: the header block on the wire", pc->desc);
	is_int(p->size, len, "%s: the size is the wire form's", pc->desc);
	free(head);
	free(want);
	free(wire);
}

static void
check_refusal(const struct pcase *pc, int rv, const struct fail *f)
{
	char *want;

	is_int(rv, -1, "%s: refused", pc->desc);
	is_int(f->kind, pc->kind, "%s: fail kind", pc->desc);
	is_int(fail_exit(f), pc->ex, "%s: exit %d", pc->desc, pc->ex);
	want = expand(pc->text);
	has_str(f->text, want, "%s: the reason", pc->desc);
	free(want);
}

static void
run_case(const struct pcase *pc)
{
	char *argv[MAXARGV], *msg, *sender, log[8192], *want;
	struct plan_opts o;
	struct plan p;
	struct conf c;
	struct fail f;
	struct msg m;
	size_t n;
	int rv;

	if (conf_of(&c, pc->conf) == -1) {
		ok(0, "%s: configuration", pc->desc);
		return;
	}
	msg = expand(pc->msg);
	memset(&f, 0, sizeof(f));
	if (msg_spool_buf(msg, strlen(msg), c.max_message_size, &m,
	    &f) == -1) {
		ok(0, "%s: spooled: %s", pc->desc, f.text);
		free(msg);
		conf_free(&c);
		return;
	}
	for (n = 0; n < MAXARGV && pc->argv[n] != NULL; n++)
		argv[n] = expand(pc->argv[n]);
	memset(&o, 0, sizeof(o));
	o.sender = sender = expand(pc->f);
	o.fullname = pc->F;
	o.extract = pc->t;
	o.rcpts = argv;
	o.nrcpts = n;
	o.body = pc->body;
	o.caller = CALLER;
	o.caller_name = pc->gecos;

	log_catch();
	rv = plan_build(&c, &o, &m, &p, &f);
	log_caught(log, sizeof(log));

	if (pc->kind == FAIL_NONE) {
		if (!is_int(rv, 0, "%s: planned", pc->desc))
			printf("#   failure: %s\n", f.text);
		else
			check_plan(pc, &p, &m);
	} else
		check_refusal(pc, rv, &f);
	if (pc->log != NULL && pc->log[0] == '\0')
		is_bytes(log, "", "%s: nothing logged", pc->desc);
	else if (pc->log != NULL) {
		want = expand(pc->log);
		has_str(log, want, "%s: logged", pc->desc);
		free(want);
	}

	plan_free(&p);
	msg_free(&m);
	conf_free(&c);
	while (n-- > 0)
		free(argv[n]);
	free(sender);
	free(msg);
}

/* Plan text with conf and argv rcpt; 0 or -1 with f set. */
static int
plan_text(struct conf *c, const char *text, char **rcpts, size_t nrcpts,
    struct msg *m, struct plan *p, struct fail *f)
{
	struct plan_opts o;

	memset(&o, 0, sizeof(o));
	memset(f, 0, sizeof(*f));
	memset(p, 0, sizeof(*p));
	o.rcpts = rcpts;
	o.nrcpts = nrcpts;
	o.caller = CALLER;
	if (msg_spool_buf(text, strlen(text), c->max_message_size, m,
	    f) == -1)
		return -2;
	return plan_build(c, &o, m, p, f);
}

/*
 * max_message_size holds the message as it goes on the wire, to the
 * octet: CR LF, dot-stuffing and the fields added count; fields removed
 * do not.
 */
static void
test_size(void)
{
	static const char small[] = "From: a@example.com\nDate: d\n"
	    "Message-ID: <i@d>\n\n.x\n";
	char *rcpt[] = { RCPT }, *big, *withbcc;
	struct conf c;
	struct plan p;
	struct fail f;
	struct msg m;
	long long wire;
	size_t i;

	conf_of(&c, FROM);
	is_int(plan_text(&c, small, rcpt, 1, &m, &p, &f), 0,
	    "size: a small message planned");
	/* 21 + 9 + 19 header octets, 2 of the empty line, 5 of "..x". */
	is_int(p.size, 56, "size: CR LF and the stuffed dot counted");
	plan_free(&p);
	msg_free(&m);

	big = malloc(4000);
	withbcc = malloc(8000);
	if (big == NULL || withbcc == NULL)
		abort();
	(void)snprintf(big, 4000, "From: a@example.com\n\n.dot\n%03000d\n",
	    0);
	is_int(plan_text(&c, big, rcpt, 1, &m, &p, &f), 0,
	    "size: the probe planned");
	wire = p.size;
	plan_free(&p);
	msg_free(&m);

	c.max_message_size = wire;
	is_int(plan_text(&c, big, rcpt, 1, &m, &p, &f), 0,
	    "size: exactly max_message_size (%lld): planned", wire);
	plan_free(&p);
	msg_free(&m);
	(void)strlcpy(withbcc, "Bcc: ", 8000);
	for (i = 0; i < 120; i++)
		(void)snprintf(withbcc + strlen(withbcc), 8000 -
		    strlen(withbcc), "%shidden%04zu@example.org", i ? ", " : "",
		    i);
	(void)strlcat(withbcc, "\n", 8000);
	(void)strlcat(withbcc, big, 8000);
	is_int(plan_text(&c, withbcc, rcpt, 1, &m, &p, &f), 0,
	    "size: a long Bcc: removed does not count");
	is_int(p.size, wire, "size: the same wire size with the Bcc:");
	plan_free(&p);
	msg_free(&m);

	c.max_message_size = wire - 1;
	is_int(plan_text(&c, big, rcpt, 1, &m, &p, &f), -1,
	    "size: one octet over max_message_size: refused");
	is_int(f.kind, FAIL_DATA, "size: refused as data");
	is_int(fail_exit(&f), EX_DATAERR, "size: exit 65");
	(void)snprintf(withbcc, 8000, "message refused: %lld octets, more "
	    "than max_message_size (%lld; SES takes 40 MB)", wire, wire - 1);
	is_str(f.text, withbcc, "size: the reason, both sizes");
	plan_free(&p);
	msg_free(&m);
	free(big);
	free(withbcc);
	conf_free(&c);
}

/*
 * design.md 4: more than 10000 recipients is refused before anything
 * else; 10000 are planned, each with its done flag at 0.
 */
static void
test_many(void)
{
	static char *v[SES_MAX_RCPTS + 1];
	struct conf c;
	struct plan p;
	struct fail f;
	struct msg m;
	size_t i, zero;

	for (i = 0; i <= SES_MAX_RCPTS; i++)
		if (asprintf(&v[i], "r%zu@example.net", i) == -1)
			abort();
	conf_of(&c, FROM);
	is_int(plan_text(&c, "From: a@example.com\n\nb\n", v, SES_MAX_RCPTS,
	    &m, &p, &f), 0, "10000 recipients: planned");
	is_int(p.rcpts.n, SES_MAX_RCPTS, "10000 recipients: all there");
	for (i = zero = 0; p.done != NULL && i < p.rcpts.n; i++)
		zero += p.done[i] == 0;
	is_int(zero, SES_MAX_RCPTS, "10000 recipients: none done yet");
	is_str(p.rcpts.v[9999].addr, "r9999@example.net",
	    "10000 recipients: the last in its place");
	plan_free(&p);
	msg_free(&m);
	is_int(plan_text(&c, "From: a@example.com\n\nb\n", v,
	    SES_MAX_RCPTS + 1, &m, &p, &f), -1, "10001 recipients: refused");
	is_int(fail_exit(&f), EX_DATAERR, "10001 recipients: exit 65");
	is_str(f.text, "message refused: more than 10000 recipients",
	    "10001 recipients: the reason");
	plan_free(&p);
	msg_free(&m);
	conf_free(&c);
	for (i = 0; i <= SES_MAX_RCPTS; i++)
		free(v[i]);
}

/*
 * design.md 5: the recipients go in transactions of at most
 * max_recipients, in order, skipping those done (accepted or refused) so
 * that a retry never sends one twice.
 */
static void
test_batches(void)
{
	static char *v[120];
	size_t idx[50], i, n, first, total;
	struct conf c;
	struct plan p;
	struct fail f;
	struct msg m;

	for (i = 0; i < 120; i++)
		if (asprintf(&v[i], "r%03zu@example.net", i) == -1)
			abort();
	conf_of(&c, FROM "max_recipients 50\n");
	is_int(c.max_recipients, 50, "batches: max_recipients 50");
	is_int(plan_text(&c, "From: a@example.com\n\nb\n", v, 120, &m, &p,
	    &f), 0, "batches: 120 recipients planned");
	for (i = total = 0; i < 4; i++) {
		n = retry_next_batch(&p, (size_t)c.max_recipients, idx);
		first = n > 0 ? idx[0] : 0;
		is_int(n, i < 2 ? 50 : i == 2 ? 20 : 0,
		    "batches: transaction %zu: %s recipients", i + 1,
		    i < 2 ? "50" : i == 2 ? "20" : "no");
		if (n > 0)
			ok(first == total && idx[n - 1] == total + n - 1,
			    "batches: transaction %zu: recipients %zu to %zu",
			    i + 1, total + 1, total + n);
		while (n-- > 0)
			p.done[idx[n]] = 1;
		total += i < 2 ? 50 : i == 2 ? 20 : 0;
	}
	/* A retry: 3 refused or accepted in the first 60, the rest not. */
	for (i = 0; i < 120; i++)
		p.done[i] = i % 20 == 0 && i < 60 ? -1 : 0;
	n = retry_next_batch(&p, 50, idx);
	ok(n == 50 && idx[0] == 1 && idx[18] == 19 && idx[19] == 21 &&
	    idx[49] == 52, "batches: those done are skipped, order kept");
	n = retry_next_batch(&p, 7, idx);
	ok(n == 7 && idx[6] == 7, "batches: max_recipients 7: 7 at most");
	plan_free(&p);
	msg_free(&m);
	conf_free(&c);
	for (i = 0; i < 120; i++)
		free(v[i]);
}

/* -B goes into the plan as it is. */
static void
test_body(void)
{
	char *rcpt[] = { RCPT };
	struct plan_opts o;
	struct conf c;
	struct plan p;
	struct fail f;
	struct msg m;
	static const char text[] = "From: a@example.com\n\nb\n";

	conf_of(&c, FROM);
	memset(&o, 0, sizeof(o));
	o.rcpts = rcpt;
	o.nrcpts = 1;
	o.caller = CALLER;
	o.body = 8;
	if (msg_spool_buf(text, strlen(text), c.max_message_size, &m,
	    &f) == 0) {
		is_int(plan_build(&c, &o, &m, &p, &f), 0,
		    "-B 8BITMIME: planned");
		is_int(p.body8, 8, "-B 8BITMIME: BODY=8BITMIME wanted");
		ok(p.msg == &m, "the plan points at its message");
		plan_free(&p);
		msg_free(&m);
	}
	conf_free(&c);
}

int
main(void)
{
	char path[] = "/tmp/test_plan.XXXXXX";
	size_t i;

	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((logfd = mkstemp(path)) == -1 ||
	    (errfd = dup(STDERR_FILENO)) == -1)
		return 1;
	(void)unlink(path);
	setvbuf(stderr, NULL, _IONBF, 0);
	log_init(CONF_LOG_STDERR, 0);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_size();
	test_many();
	test_batches();
	test_body();
	(void)close(logfd);
	(void)close(errfd);
	return tap_done();
}
