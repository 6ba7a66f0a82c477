#!/bin/sh
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
# Build each libFuzzer target with clang under ASan and UBSan, and run it
# for SECONDS (default 40) from its seed corpus in tests/fuzz/corpus/.
# Prints one line per target with the executions reached; exits non-zero
# when a target finds a crash, a leak or undefined behaviour.
set -u
secs=${1:-40}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/ses-fuzz.XXXXXX")}
mkdir -p "$work"
srcs=$(ls "$top"/sendmail/*.c | grep -v '/main\.c$')
# What configure would put in config.h and the Makefile's paths.
printf '#define INSTALL_GROUP "sesmail"\n' >"$work/config.h"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
-DUNITTEST -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\"
-I$work -I$top/sendmail -I$top/compat
$(pkg-config --cflags gnutls libbsd-overlay jansson)"
libs=$(pkg-config --libs gnutls libbsd-overlay jansson)
status=0
for t in addr headers conf reply wire sigv4 http json creds; do
	# shellcheck disable=SC2086
	if ! clang $cflags -o "$work/fuzz_$t" "$here/fuzz_$t.c" $srcs $libs \
	    2>"$work/build_$t.log"; then
		echo "fuzz_$t: build failed"; cat "$work/build_$t.log"
		status=1
		continue
	fi
	rm -rf "$work/corpus_$t"
	cp -r "$here/corpus/$t" "$work/corpus_$t"
	(cd "$work" && ./"fuzz_$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 "corpus_$t" \
	    >"run_$t.log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$work/run_$t.log")
	if [ $rc -eq 0 ]; then
		echo "fuzz_$t: ok, ${execs:-?} executions in ${secs} s"
	else
		echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} executions:"
		grep -E 'ERROR|SUMMARY|runtime error' "$work/run_$t.log" | head -5
		ls "$work"/crash-* "$work"/leak-* 2>/dev/null
		status=1
	fi
done
exit $status
