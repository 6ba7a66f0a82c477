/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * The HTTP/1.1 client (http.c) over a socketpair, the server side played
 * by the test: the request head as written and as traced at -v, the
 * response framings (Content-Length, chunked, until close), interim
 * responses, persistence, every refusal of a malformed or ambiguous
 * response, timeouts and EOF, 100-continue, and CONNECT through a proxy.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "tap.h"

static struct conn c;
static int peer = -1;
static pid_t feeder = -1;
static char body[64];
static const char *const keep[] = { "x-amzn-ErrorType", "x-amzn-RequestId",
    "Content-Type", "Date", NULL };

/* A fresh plain conn on one end of a socketpair; peer is the other. */
static void
setup(int timeout)
{
	int sv[2];

	if (feeder != -1) {
		(void)kill(feeder, SIGTERM);
		(void)waitpid(feeder, NULL, 0);
		feeder = -1;
	}
	if (c.fd > 0)
		close(c.fd);
	if (peer != -1)
		close(peer);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	peer = sv[1];
	c.timeout = timeout;
	c.port = 443;
	(void)strlcpy(c.host, "test", sizeof(c.host));
	(void)strlcpy(c.addr, "peer", sizeof(c.addr));
}

/* The server's words, all in the socket before the client reads. */
static void
say(const char *s, size_t len)
{
	if (write(peer, s, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
}

/* ... then, with hangup, the server closes its side. */
static void
serve(const char *s, int hangup)
{
	say(s, strlen(s));
	if (hangup)
		(void)shutdown(peer, SHUT_WR);
}

/*
 * A server in a child process: len octets, step at a time with pause
 * microseconds between, then silence for hold seconds, then close.
 */
static void
serve_slowly(const char *s, size_t len, size_t step, int pause, int hold)
{
	size_t off, n;

	if ((feeder = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (feeder == 0) {
		for (off = 0; off < len; off += n) {
			n = len - off < step ? len - off : step;
			if (write(peer, s + off, n) != (ssize_t)n)
				_exit(1);
			if (pause > 0)
				(void)usleep((useconds_t)pause);
		}
		if (hold > 0)
			(void)sleep((unsigned int)hold);
		_exit(0);
	}
	close(peer);
	peer = -1;
}

/* What the client wrote, as a string. */
static const char *
heard(void)
{
	static char buf[4096];
	ssize_t n;

	n = read(peer, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* One response read with the usual keep list and the 64-octet body. */
static int
respond(const char *wire, int hangup, struct http_resp *r, struct fail *f)
{
	setup(1);
	serve(wire, hangup);
	http_resp_init(r, keep, body, sizeof(body));
	memset(f, 0, sizeof(*f));
	return http_response(&c, r, f);
}

/* A response that must be refused as malformed. */
static void
refused(const char *wire, const char *what)
{
	struct http_resp r;
	struct fail f;

	is_int(respond(wire, 1, &r, &f), -1, "refused: %s", what);
	is_int(f.kind, FAIL_PROTOCOL, "  as a protocol failure");
	is_int(f.stage, SMTP_STAGE_RESPONSE, "  at the response");
	ok(r.keep_alive == 0, "  and the connection is not reused");
}

/* stderr into a file for the -v trace, and back. */
static int saved_stderr = -1;
static FILE *trace;

static void
trace_start(void)
{
	fflush(stderr);
	trace = tmpfile();
	saved_stderr = dup(2);
	dup2(fileno(trace), 2);
	log_init(CONF_LOG_STDERR, 1);
}

static const char *
trace_end(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	log_init(CONF_LOG_NONE, 0);
	rewind(trace);
	n = fread(buf, 1, sizeof(buf) - 1, trace);
	buf[n] = '\0';
	fclose(trace);
	return buf;
}

static void
test_request(void)
{
	const struct http_field fields[] = {
		{ "Content-Type", "application/json" },
		{ "X-Amz-Date", "20260101T000000Z" },
		{ "X-Amz-Security-Token", "SESSIONTOKENsecret" },
		{ "Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, "
		    "SignedHeaders=host, Signature=abcdef" },
	};
	struct http_req q;
	struct fail f;
	const char *t;
	size_t i;
	int wiped = 1;

	setup(1);
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.target = "/v2/email/outbound-emails";
	q.host = "email.eu-west-1.amazonaws.com";
	q.fields = fields;
	q.nfields = 4;
	q.length = 1234;
	trace_start();
	is_int(http_request(&c, &q, &f), 0, "a request head is written");
	t = trace_end();
	is_str(heard(), "POST /v2/email/outbound-emails HTTP/1.1\r\n"
	    "Host: email.eu-west-1.amazonaws.com\r\n"
	    "Content-Type: application/json\r\n"
	    "X-Amz-Date: 20260101T000000Z\r\n"
	    "X-Amz-Security-Token: SESSIONTOKENsecret\r\n"
	    "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, "
	    "SignedHeaders=host, Signature=abcdef\r\n"
	    "Content-Length: 1234\r\n\r\n", "  as the caller gave it");
	ok(strstr(t, "> POST /v2/email/outbound-emails HTTP/1.1\n") != NULL,
	    "  -v shows the request line");
	ok(strstr(t, "> Content-Type: application/json\n") != NULL,
	    "  and plain fields whole");
	ok(strstr(t, "> Authorization: ***\n") != NULL,
	    "  Authorization by name only");
	ok(strstr(t, "> X-Amz-Security-Token: ***\n") != NULL,
	    "  X-Amz-Security-Token by name only");
	ok(strstr(t, "secret") == NULL && strstr(t, "abcdef") == NULL,
	    "  no secret in the trace");
	ok(strstr(t, "> [body: 1234 octets]\n") != NULL, "  the body elided");
	for (i = 0; i < sizeof(c.wbuf); i++)
		if (c.wbuf[i] != '\0')
			wiped = 0;
	ok(wiped && c.wlen == 0, "  the write buffer is wiped");

	setup(1);
	q.nfields = 0;
	q.method = "GET";
	q.target = "/latest/meta-data/";
	q.host = "169.254.169.254";
	q.length = -1;
	is_int(http_request(&c, &q, &f), 0, "a GET without a body");
	is_str(heard(), "GET /latest/meta-data/ HTTP/1.1\r\n"
	    "Host: 169.254.169.254\r\n\r\n", "  has no Content-Length");

	setup(1);
	q.method = "PUT";
	q.length = 0;
	q.expect_continue = 1;
	is_int(http_request(&c, &q, &f), 0, "an empty PUT with Expect");
	is_str(heard(), "PUT /latest/meta-data/ HTTP/1.1\r\n"
	    "Host: 169.254.169.254\r\nContent-Length: 0\r\n"
	    "Expect: 100-continue\r\n\r\n", "  says Content-Length: 0");
}

static void
test_request_refused(void)
{
	struct http_field bad[1];
	struct http_req q;
	struct fail f;

	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.target = "/";
	q.host = "h";
	q.fields = bad;
	q.nfields = 1;
	q.length = -1;
	bad[0].name = "X-Evil";
	bad[0].value = "a\r\nX-Injected: 1";
	setup(1);
	is_int(http_request(&c, &q, &f), -1, "a value with CRLF is refused");
	is_int(f.kind, FAIL_SOFTWARE, "  as our bug");
	ok(strstr(f.text, "Injected") == NULL, "  without the value");
	bad[0].name = "Bad Name";
	bad[0].value = "v";
	is_int(http_request(&c, &q, &f), -1, "a name that is no token");
	bad[0].name = "content-length";
	is_int(http_request(&c, &q, &f), -1,
	    "the caller may not send its own Content-Length");
	bad[0].name = "Transfer-Encoding";
	is_int(http_request(&c, &q, &f), -1, "  nor Transfer-Encoding");
	q.nfields = 0;
	q.target = "/a b";
	is_int(http_request(&c, &q, &f), -1, "a target with a space");
	q.target = "/";
	q.host = "h\n";
	is_int(http_request(&c, &q, &f), -1, "a host with a line end");
	ok(recv(peer, &f, 1, MSG_DONTWAIT) == -1 && c.wlen == 0,
	    "  nothing was written");
}

static void
test_length(void)
{
	struct http_resp r;
	struct fail f;

	is_int(respond("HTTP/1.1 200 OK\r\n"
	    "x-amzn-RequestId: 1f1a-77\r\n"
	    "content-type: application/json\r\n"
	    "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
	    "Content-Length: 24\r\n\r\n"
	    "{\"MessageId\":\"0100abc\"}\n", 0, &r, &f), 200,
	    "Content-Length: the status");
	is_str(r.reason, "OK", "  the reason");
	is_int(r.version, 11, "  HTTP/1.1");
	is_str(body, "{\"MessageId\":\"0100abc\"}\n", "  the body");
	is_int(r.bodylen, 24, "  its length");
	ok(!r.truncated, "  whole");
	ok(r.keep_alive, "  the connection persists (HTTP/1.1)");
	is_str(http_resp_field(&r, "X-Amzn-RequestId"), "1f1a-77",
	    "  a kept field, names case-insensitive");
	is_str(http_resp_field(&r, "Content-Type"), "application/json",
	    "  Content-Type");
	is_str(http_resp_field(&r, "date"), "Thu, 01 Jan 2026 00:00:00 GMT",
	    "  Date");
	ok(http_resp_field(&r, "x-amzn-ErrorType") == NULL,
	    "  an absent field is NULL");
	ok(http_resp_field(&r, "Server") == NULL, "  so is one not kept");

	is_int(respond("HTTP/1.1 400 Bad Request\r\n"
	    "x-amzn-ErrorType: MessageRejected:http://internal.amazon.com/\r\n"
	    "x-amzn-ErrorType: Other\r\n"
	    "Content-Length:  0 \r\n\r\n", 0, &r, &f), 400,
	    "an error status is no failure here");
	is_str(http_resp_field(&r, "x-amzn-errortype"),
	    "MessageRejected:http://internal.amazon.com/",
	    "  the first of a repeated field is kept");
	is_int(r.bodylen, 0, "  an empty body");
	is_str(body, "", "  NUL-terminated");

	is_int(respond("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789012345678901234567890123456789", 0, &r, &f), 200,
	    "a body over the cap");
	is_int(r.bodylen, sizeof(body) - 1, "  is kept up to the cap");
	is_int(r.total, 100, "  read to its end");
	ok(r.truncated, "  and said to be cut");
	ok(r.keep_alive, "  the connection is still usable");

	is_int(respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\nhello", 0, &r, &f), 200,
	    "the same Content-Length twice is one");
	is_int(respond("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
	    0, &r, &f), 200, "  so is a list of one value");
	is_int(respond("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	    0, &r, &f), 204, "204 has no body, whatever it says");
	ok(r.keep_alive && !conn_pending(&c), "  nothing waited for");
	setup(1);
	serve("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", 0);
	http_resp_init(&r, NULL, NULL, 0);
	r.method = "HEAD";
	is_int(http_response(&c, &r, &f), 200, "HEAD: no body read");
	is_int(r.length, 999999999, "  its Content-Length told");
	is_int(respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
	    0, &r, &f), 200, "octets after the response");
	ok(!r.keep_alive, "  make the connection unfit for reuse");
}

static void
test_chunked(void)
{
	struct http_resp r;
	struct fail f;

	is_int(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n"
	    "1;name=value;other\r\n \r\n"
	    "0006 ; ext=\"quoted\"\r\nworld!\r\n"
	    "A\r\n0123456789\r\n"
	    "0\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n", 0, &r, &f), 200,
	    "chunked: several chunks");
	is_str(body, "hello world!0123456789", "  joined, extensions ignored");
	ok(r.chunked && r.length == -1, "  framed by chunks");
	ok(r.keep_alive && !conn_pending(&c), "  trailers read and dropped");

	is_int(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "0\r\n\r\n", 0, &r, &f), 200, "an empty chunked body");
	is_int(r.bodylen, 0, "  nothing in it");

	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "FFFFFFFFFFFFFFFFFFFFFFFF\r\n", "a chunk size that overflows");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "100001\r\n", "a chunk over the body limit");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\nhi\r\n0\r\n\r\n", "a chunk size that is not hex");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0x2\r\nhi\r\n0\r\n\r\n", "a chunk size with 0x");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "-2\r\nhi\r\n0\r\n\r\n", "a negative chunk size");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "\r\nhi\r\n0\r\n\r\n", "an empty chunk size");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nhiX\r\n0\r\n\r\n", "chunk data without its CRLF");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nhi\r\n0\r\nbad trailer\r\n\r\n", "a malformed trailer");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	    "0\r\n\r\n", "a transfer coding we never accepted");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunked twice");
	is_int(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhel", 1, &r, &f), -1, "EOF inside a chunk");
	is_int(f.kind, FAIL_NET, "  is the network's");
	is_int(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n", 1, &r, &f), -1, "EOF before the last chunk");
	is_int(f.kind, FAIL_NET, "  is the network's");
}

static void
test_until_close(void)
{
	struct http_resp r;
	struct fail f;

	is_int(respond("HTTP/1.1 200 OK\r\n\r\nall of it", 1, &r, &f), 200,
	    "neither length nor chunks: until close");
	is_str(body, "all of it", "  the body");
	ok(!r.keep_alive, "  and the connection is done");
	is_int(respond("HTTP/1.0 200 OK\r\n\r\nold", 1, &r, &f), 200,
	    "HTTP/1.0 until close");
	is_int(r.version, 10, "  version 1.0");
	is_str(body, "old", "  the body");
}

static void
test_persistence(void)
{
	struct http_resp r;
	struct fail f;

	respond("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, &r, &f);
	ok(!r.keep_alive, "HTTP/1.0 closes by default");
	respond("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	    "Content-Length: 2\r\n\r\nok", 0, &r, &f);
	ok(r.keep_alive, "  unless it says keep-alive");
	respond("HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 2\r\n\r\nok", 0, &r, &f);
	ok(!r.keep_alive, "HTTP/1.1 Connection: close");
	respond("HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\n"
	    "Content-Length: 2\r\n\r\nok", 0, &r, &f);
	ok(!r.keep_alive, "  close among other options");
	respond("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 2\r\n\r\nok", 0, &r, &f);
	ok(r.keep_alive, "HTTP/1.1 keep-alive");
}

static void
test_interim(void)
{
	struct http_resp r;
	struct fail f;

	is_int(respond("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, &r, &f), 200,
	    "interim responses are skipped");
	is_str(body, "ok", "  the final one's body");
	refused("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
	    "101: nobody asked to switch");
	refused("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	    "more than 8 interim responses");
}

static void
test_malformed(void)
{
	static const char nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n"
	    "Content-Length: 0\r\n\r\n";
	struct http_resp r;
	struct fail f;

	refused("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	    "Content-Length with chunked (smuggling)");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 2\r\n\r\nok", "  in either order");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Content-Length: 3\r\n\r\nokk", "Content-Length twice, differing");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nokk",
	    "  or as a list");
	refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "a negative Content-Length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
	    "a Content-Length that is no number");
	refused("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    "an empty Content-Length");
	refused("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n",
	    "a Content-Length that overflows");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n",
	    "a Content-Length over the body limit");
	refused("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", "Transfer-Encoding in HTTP/1.0");
	refused("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n",
	    "obsolete line folding");
	refused("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
	    "white space before the colon");
	refused("HTTP/1.1 200 OK\r\n: 1\r\n\r\n", "an empty field name");
	refused("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "a line without colon");
	refused("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "a bare CR");
	refused("HTTP/1.1 200 OK\r\nX-A: a\033[2Jb\r\n\r\n",
	    "a control octet in a value");
	setup(1);
	say(nul, sizeof(nul) - 1);
	http_resp_init(&r, NULL, NULL, 0);
	is_int(http_response(&c, &r, &f), -1, "a NUL in a value");
	is_int(f.kind, FAIL_PROTOCOL, "  is refused");
	refused("HTTP/2 200\r\n\r\n", "HTTP/2");
	refused("HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.2");
	refused("http/1.1 200 OK\r\n\r\n", "a lower-case version");
	refused("HTTP/1.1 20 OK\r\n\r\n", "a two-digit status");
	refused("HTTP/1.1 2000 OK\r\n\r\n", "a four-digit status");
	refused("HTTP/1.1 600 Odd\r\n\r\n", "a status past 599");
	refused("HTTP/1.1 099 Odd\r\n\r\n", "a status under 100");
	refused("ICY 200 OK\r\n\r\n", "not HTTP");
	refused("220 email-smtp.amazonaws.com ESMTP\r\n", "an SMTP greeting");

	is_int(respond("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", 0, &r, &f),
	    503, "a status line without a reason");
	is_str(r.reason, "", "  an empty reason");
	is_int(respond("HTTP/1.1 200 \x1b[31mred\x01\r\nContent-Length: 0"
	    "\r\n\r\n", 0, &r, &f), 200, "a reason with control octets");
	is_str(r.reason, "?[31mred?", "  sanitised");
	is_int(respond("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, &r, &f),
	    200, "bare LF line ends are accepted");
	is_str(body, "ok", "  the body");
	is_int(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\n\n"
	    "2\nok\n0\n\n", 0, &r, &f), 200, "  in chunks too");
}

/* A head of n fields, each value vlen octets: its length. */
static size_t
head_with(char *buf, size_t size, int n, size_t vlen)
{
	size_t len;
	int i;

	len = (size_t)snprintf(buf, size, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, size - len, "X-%d: ", i);
		memset(buf + len, 'v', vlen);
		len += vlen;
		len += (size_t)snprintf(buf + len, size - len, "\r\n");
	}
	len += (size_t)snprintf(buf + len, size - len, "\r\n");
	return len;
}

static void
test_limits(void)
{
	static char big[HTTP_HEAD_MAX + 16384];
	struct http_resp r;
	struct fail f;
	size_t len;

	head_with(big, sizeof(big), HTTP_FIELDS_MAX, 1);
	is_int(respond(big, 1, &r, &f), 200, "100 fields are fine");
	head_with(big, sizeof(big), HTTP_FIELDS_MAX + 1, 1);
	refused(big, "101 fields are too many");
	head_with(big, sizeof(big), 1, HTTP_LINE_MAX);
	refused(big, "a field line over 8191 octets");
	head_with(big, sizeof(big), 1, HTTP_LINE_MAX - 10);
	is_int(respond(big, 1, &r, &f), 200, "one of 8188 is fine");

	len = head_with(big, sizeof(big), HTTP_HEAD_MAX / 4000 + 1, 4000);
	setup(2);
	serve_slowly(big, len, 4096, 0, 0);
	http_resp_init(&r, NULL, NULL, 0);
	is_int(http_response(&c, &r, &f), -1, "a head over 64 KiB");
	is_int(f.kind, FAIL_PROTOCOL, "  is refused");
}

static void
test_network(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\nx-amzn-RequestId: r-1\r\n\r\n3;x=y\r\nabc\r\n"
	    "2\r\nde\r\n0\r\nT: 1\r\n\r\n";
	static const char drip[] = "A:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\n"
	    "A:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\n"
	    "A:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\nA:1\r\n\r\n";
	struct http_resp r;
	struct fail f;
	long long t0;

	setup(2);
	serve_slowly(resp, sizeof(resp) - 1, 1, 2000, 1);
	http_resp_init(&r, keep, body, sizeof(body));
	is_int(http_response(&c, &r, &f), 200,
	    "a response split octet by octet");
	is_str(body, "abcde", "  the body whole");
	is_str(http_resp_field(&r, "x-amzn-requestid"), "r-1",
	    "  the field kept");

	setup(1);
	http_resp_init(&r, NULL, NULL, 0);
	t0 = net_now_ms();
	is_int(http_response(&c, &r, &f), -1, "a server that says nothing");
	is_int(f.kind, FAIL_NET, "  is the network's");
	is_int(f.stage, SMTP_STAGE_RESPONSE, "  at the response");
	ok(strstr(f.text, "within 1 s") != NULL, "  after the timeout: %s",
	    f.text);
	ok(net_now_ms() - t0 < 2500, "  and no longer");

	setup(1);
	serve("HTTP/1.1 200 OK\r\n", 0);
	serve_slowly(drip, sizeof(drip) - 1, 1, 50000, 0);
	http_resp_init(&r, NULL, NULL, 0);
	t0 = net_now_ms();
	is_int(http_response(&c, &r, &f), -1,
	    "a server dripping a field line per 0.25 s");
	is_int(f.kind, FAIL_NET, "  is the network's");
	ok(strstr(f.text, "more than 3 s") != NULL, "  bounded in all: %s",
	    f.text);
	ok(net_now_ms() - t0 < 4500, "  and no longer");

	is_int(respond("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1,
	    &r, &f), -1, "EOF inside the body");
	is_int(f.kind, FAIL_NET, "  is the network's");
	ok(strstr(f.text, "7 octets before the end") != NULL, "  %s", f.text);
	is_int(respond("HTTP/1.1 200 OK\r\nContent-Len", 1, &r, &f), -1,
	    "EOF inside the head");
	is_int(f.kind, FAIL_NET, "  is the network's");
	is_int(respond("", 1, &r, &f), -1, "EOF before anything");
	is_int(f.kind, FAIL_NET, "  is the network's");
	ok(strstr(f.text, "closed the connection") != NULL, "  %s", f.text);
}

static void
test_continue(void)
{
	struct http_resp r;
	struct http_req q;
	struct fail f;
	const char *t;
	long long t0;

	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.target = "/";
	q.host = "h";
	q.length = 5;
	q.expect_continue = 1;
	setup(2);
	serve("HTTP/1.1 100 Continue\r\n\r\n", 0);
	http_resp_init(&r, keep, body, sizeof(body));
	trace_start();
	is_int(http_request(&c, &q, &f), 0, "a request with Expect");
	ok(strstr(heard(), "\r\nExpect: 100-continue\r\n\r\n") != NULL,
	    "  says so");
	is_int(http_continue(&c, &q, &r, &f), 0, "100 Continue: send the body");
	t = trace_end();
	ok(strstr(t, "> Expect: 100-continue\n> \n< HTTP/1.1 100 Continue\n"
	    "< \n> [body: 5 octets]\n") != NULL,
	    "  the body traced when it goes");
	serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	is_int(http_response(&c, &r, &f), 200, "  then the final response");

	setup(5);
	t0 = net_now_ms();
	is_int(http_continue(&c, &q, &r, &f), 0,
	    "a silent server: send anyway");
	ok(net_now_ms() - t0 >= 900 && net_now_ms() - t0 < 2000,
	    "  after about %d ms", HTTP_CONTINUE_MS);

	setup(2);
	serve("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 3\r\n\r\n"
	    "no!", 0);
	trace_start();
	is_int(http_continue(&c, &q, &r, &f), 1, "a final response instead");
	ok(strstr(trace_end(), "[body: 5") == NULL, "  no body traced");
	is_int(r.status, 417, "  its status");
	is_str(body, "no!", "  its body");
	ok(!r.keep_alive, "  and the connection is done");

	setup(2);
	serve("", 1);
	is_int(http_continue(&c, &q, &r, &f), -1, "a server that closes");
	is_int(f.kind, FAIL_NET, "  is the network's");
	is_int(f.stage, SMTP_STAGE_REQUEST, "  before the body was sent");

	setup(2);
	serve("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0);
	is_int(http_continue(&c, &q, &r, &f), -1, "101 instead of 100");
	is_int(f.kind, FAIL_PROTOCOL, "  is refused");
}

static void
test_connect(void)
{
	struct fail f;

	setup(1);
	(void)strlcpy(c.host, "proxy.example", sizeof(c.host));
	serve("HTTP/1.1 200 Connection established\r\n\r\n", 0);
	is_int(http_connect(&c, "email.us-east-1.amazonaws.com", 443, NULL,
	    &f), 0, "CONNECT: 200 opens the tunnel");
	is_str(heard(), "CONNECT email.us-east-1.amazonaws.com:443 HTTP/1.1\r\n"
	    "Host: email.us-east-1.amazonaws.com:443\r\n\r\n",
	    "  authority-form, and Host");
	is_str(c.host, "email.us-east-1.amazonaws.com",
	    "  TLS will verify the target's name");
	is_int(c.port, 443, "  and the port is the target's");

	setup(1);
	serve("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 0);
	trace_start();
	is_int(http_connect(&c, "::1", 8443, "Basic dXNlcjpwYXNz", &f), 0,
	    "a 2xx's framing fields are ignored");
	ok(strstr(trace_end(), "> Proxy-Authorization: ***\n") != NULL,
	    "  the credentials masked at -v");
	is_str(heard(), "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
	    "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n",
	    "  an IPv6 literal in brackets, with credentials");

	setup(1);
	serve("HTTP/1.1 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n", 0);
	is_int(http_connect(&c, "email.us-east-1.amazonaws.com", 443, NULL,
	    &f), -1, "407");
	is_int(f.kind, FAIL_CONFIG, "  is the configuration's");
	is_int(f.code, 407, "  with the status");
	is_int(f.stage, SMTP_STAGE_CONNECT, "  while connecting");
	ok(strstr(f.text, "wants credentials") != NULL, "  %s", f.text);
	is_str(c.host, "test", "  the name stays the proxy's");

	setup(1);
	serve("HTTP/1.1 407 Proxy Authentication Required\r\n"
	    "Content-Length: 0\r\n\r\n", 0);
	is_int(http_connect(&c, "h", 443, "Basic eA==", &f), -1,
	    "407 with credentials");
	ok(strstr(f.text, "refused the credentials") != NULL, "  %s", f.text);

	setup(1);
	serve("HTTP/1.1 502 Bad Gateway\r\n\r\n", 0);
	is_int(http_connect(&c, "h", 443, NULL, &f), -1, "502");
	is_int(f.kind, FAIL_NET, "  the target out of reach: transient");
	ok(strstr(f.text, "could not reach h:443: 502 Bad Gateway") != NULL,
	    "  %s", f.text);

	setup(1);
	serve("HTTP/1.1 403 Forbidden\r\n\r\n", 0);
	is_int(http_connect(&c, "h", 443, NULL, &f), -1, "403");
	is_int(f.kind, FAIL_CONFIG, "  is the configuration's");

	setup(1);
	serve("", 1);
	is_int(http_connect(&c, "h", 443, NULL, &f), -1,
	    "a proxy that closes");
	is_int(f.kind, FAIL_NET, "  is the network's");
	is_int(f.stage, SMTP_STAGE_CONNECT, "  while connecting");

	setup(1);
	serve("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03", 0);
	is_int(http_connect(&c, "h", 443, NULL, &f), -1,
	    "data after the 200, before TLS");
	is_int(f.kind, FAIL_PROTOCOL, "  is refused as injected");

	setup(1);
	serve("SSH-2.0-OpenSSH\r\n", 0);
	is_int(http_connect(&c, "h", 443, NULL, &f), -1, "not a proxy");
	is_int(f.kind, FAIL_PROTOCOL, "  a protocol failure");
	is_int(f.stage, SMTP_STAGE_CONNECT, "  while connecting");
}

int
main(void)
{
	log_init(CONF_LOG_NONE, 0);
	test_request();
	test_request_refused();
	test_length();
	test_chunked();
	test_until_close();
	test_persistence();
	test_interim();
	test_malformed();
	test_limits();
	test_network();
	test_continue();
	test_connect();
	setup(1);
	return tap_done();
}
