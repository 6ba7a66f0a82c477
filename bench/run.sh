#!/bin/sh
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
# ses-sendmail against msmtp, side by side (issue #7; README, Performance).
#
#	sh bench/run.sh [--sends N] [--quick] [--json FILE] [...]
#
# Installs what is missing (msmtp, GNU time, the build tools, botocore
# for the SES API simulator, iproute2 for the latency rows' netem; never
# an MTA), builds ses-sendmail in build-bench/ with configure's default
# CFLAGS (-g -O2), then runs bench/bench.py on it; options pass through
# (/usr/bin/python3 bench/bench.py --help lists them).  Root, or sudo,
# only to install packages.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

PKGS="msmtp time gcc make autoconf automake pkg-config libgnutls28-dev
libbsd-dev libjansson-dev python3 python3-botocore openssl iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# msmtp only suggests msmtp-mta: nothing may replace the system's
	# /usr/sbin/sendmail.  Refuse rather than install one.
	# shellcheck disable=SC2086
	if apt-get -s install --no-install-recommends $missing 2>/dev/null |
	    grep -E '^Inst (msmtp-mta|exim4|postfix|sendmail|nullmailer|opensmtpd|dma|courier-mta|citadel-mta|ssmtp) '; then
		echo "bench/run.sh: installing$missing would bring an MTA;" \
		    "install them by hand" >&2
		exit 1
	fi
	echo "installing:$missing"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build-bench
(cd build-bench &&
    { [ -f Makefile ] || ../configure >configure.out 2>&1 ||
	{ cat configure.out; exit 1; }; } &&
    { make -j2 >make.out 2>&1 || { cat make.out; exit 1; }; })

exec /usr/bin/python3 bench/bench.py \
    --binary build-bench/sendmail/ses-sendmail "$@"
