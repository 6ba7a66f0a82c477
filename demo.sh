#!/bin/sh
# The main job on its embedded default, on a fresh Debian 12 machine:
# install what is missing, build, then send tests/functional/sample.eml
# through the built binary to the bundled SES simulator (loopback, a
# throwaway CA, SMTP AUTH) and show what it received and the exit code.
set -eu
cd "$(dirname "$0")"
sh tests/deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make
SES_SENDMAIL="$PWD/sendmail/ses-sendmail" \
    /usr/bin/python3 tests/functional/demo.py
