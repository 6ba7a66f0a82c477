/*
 * libFuzzer target: the RFC 5322 address-list parser and the sender
 * parser (addr.c).  Invariants: a parsed address fits SES_MAX_ADDR and
 * can go on a MAIL or RCPT line as it is (no blank, '<', '>', control
 * or 8-bit octet); an error is one non-empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct addrlist l = { NULL, 0, 0 };
	char err[SES_FAIL_TEXT], out[SES_MAX_ADDR + 1], *s;
	size_t i;

	if (addr_parse_list((const char *)d, n, &l, err, sizeof(err)) == 0) {
		for (i = 0; i < l.n; i++) {
			if (strlen(l.v[i].addr) > SES_MAX_ADDR ||
			    addr_has_ctl(l.v[i].addr, strlen(l.v[i].addr)) ||
			    strpbrk(l.v[i].addr, " <>") != NULL ||
			    !addr_path_safe(l.v[i].addr))
				abort();
			(void)addr_is_local(l.v[i].addr);
		}
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();
	addr_free(&l);
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	if (addr_parse_sender(s, out, sizeof(out), err, sizeof(err)) == 0 &&
	    (strpbrk(out, " <>") != NULL || !addr_path_safe(out)))
		abort();
	free(s);
	return 0;
}
