#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "extern.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct hdrs h;
	struct addrlist l = { NULL, 0, 0 };
	char err[SES_FAIL_TEXT];
	size_t len, i, tot;
	int sep;

	len = hdr_block_len((const char *)d, n, &sep);
	if (len > n) abort();
	if (sep && (len >= n || d[len] != '\n')) abort();
	if (hdr_parse((const char *)d, len, &h, err, sizeof(err)) == -1)
		abort();	/* what hdr_block_len accepts must parse */
	tot = 0;
	for (i = 0; i < h.nf; i++) tot += h.f[i].rawlen;
	if (tot != h.blocklen) abort();
	(void)hdr_check_unique(&h, err, sizeof(err));
	(void)hdr_recipients(&h, &l, err, sizeof(err));
	hdr_remove_always(&h);
	addr_free(&l);
	hdr_free(&h);
	return 0;
}
