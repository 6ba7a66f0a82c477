/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * libFuzzer target: the RFC 5322 address-list parser and the sender
 * parser (addr.c), and the display-name encoder (hdr_phrase) on the
 * input as a -F name and on each name parsed.  Invariants: a parsed
 * address fits SES_MAX_ADDR and can go on a MAIL or RCPT line as it is
 * (no blank, '<', '>', control or 8-bit octet); an error is one
 * non-empty line; a phrase is printable ASCII folded with LF SP, in
 * lines of at most 998 octets, and before "<a@b.example>" parses to that
 * one mailbox with no '@' outside quotes in its name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_phrase(const char *text, int flags)
{
	struct addrlist l = { NULL, 0, 0 };
	char err[SES_FAIL_TEXT], *ph, *field;
	size_t i, col = 0;
	int odd = 0;

	if ((ph = hdr_phrase(text, flags)) == NULL)
		return;
	for (i = 0; ph[i] != '\0'; i++) {
		if (ph[i] == '\n' && ph[i + 1] == ' ')
			col = 0;
		else if ((unsigned char)ph[i] < ' ' ||
		    (unsigned char)ph[i] > '~' || ++col > 998)
			abort();
	}
	if (asprintf(&field, "%s <a@b.example>", ph) == -1) {
		free(ph);
		return;
	}
	if (addr_parse_list(field, strlen(field), &l, err, sizeof(err)) == -1 ||
	    l.n != 1 || strcmp(l.v[0].addr, "a@b.example") != 0 ||
	    (ph[0] == '\0') != (l.v[0].name == NULL))
		abort();
	if (l.v[0].name != NULL &&
	    addr_name_text(l.v[0].name, NULL, &odd) == 0 && odd)
		abort();
	addr_free(&l);
	free(field);
	free(ph);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct addrlist l = { NULL, 0, 0 };
	char err[SES_FAIL_TEXT], out[SES_MAX_ADDR + 1], *s;
	size_t i;
	int odd;

	if (addr_parse_list((const char *)d, n, &l, err, sizeof(err)) == 0) {
		for (i = 0; i < l.n; i++) {
			if (strlen(l.v[i].addr) > SES_MAX_ADDR ||
			    addr_has_ctl(l.v[i].addr, strlen(l.v[i].addr)) ||
			    strpbrk(l.v[i].addr, " <>") != NULL ||
			    !addr_path_safe(l.v[i].addr))
				abort();
			(void)addr_is_local(l.v[i].addr);
			if (l.v[i].name == NULL ||
			    addr_name_text(l.v[i].name, &s, &odd) == -1 ||
			    s == NULL)
				continue;
			check_phrase(s, HDR_PHRASE_EW);
			free(s);
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
	check_phrase(s, 0);
	free(s);
	return 0;
}
