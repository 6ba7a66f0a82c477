#!/bin/sh
# Install what the build and the tests need on Debian 12, and nothing
# that is already there.  Never an MTA: the tests must not replace the
# system's /usr/sbin/sendmail (bsd-mailx would pull in exim4).
set -eu
PKGS="gcc make autoconf automake pkg-config libgnutls28-dev libbsd-dev
python3 openssl ca-certificates mandoc clang libclang-rt-14-dev
swaks php-cli mutt s-nail git git-email libmailtools-perl time strace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
