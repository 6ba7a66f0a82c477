#!/bin/sh
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
# Install what is missing on Debian 12, and nothing that is already there.
#   sh tests/deps.sh build   the build and the simulator (what demo.sh needs)
#   sh tests/deps.sh [test]  that, and every tool the tests drive
#   sh tests/deps.sh pkg     the build set and the packaging tools
#                            (packaging/build; the package test installs
#                            bsd-mailx itself, with the package)
# Never an MTA: the tests must not replace the system's /usr/sbin/sendmail
# (bsd-mailx would pull in exim4).
set -eu
BUILD="gcc make autoconf automake pkg-config libgnutls28-dev libbsd-dev
libjansson-dev python3 openssl ca-certificates"
TEST="$BUILD mandoc clang libclang-rt-14-dev swaks php-cli mutt s-nail git
git-email libmailtools-perl time strace util-linux mount python3-botocore
awscli"
PKG="$BUILD debhelper dpkg-dev fakeroot lintian rpm"
case "${1:-test}" in
build)	PKGS=$BUILD ;;
test)	PKGS=$TEST ;;
pkg)	PKGS=$PKG ;;
*)	echo "usage: sh tests/deps.sh [build|test|pkg]" >&2; exit 64 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
