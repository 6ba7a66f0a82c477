#!/bin/sh
# Copyright (c) 2026 The ses-sendmail authors
# SPDX-License-Identifier: ISC
# The main job on its embedded default, on a fresh Debian 12 machine:
# install what the build needs, build in build-demo/, then send
# tests/functional/sample.eml through the built binary to the bundled SES
# simulator (loopback, a throwaway CA, SMTP AUTH) and show what it
# received and the exit code.
set -eu
cd "$(dirname "$0")"
sh tests/deps.sh build
. tests/prepare
mkdir -p build-demo
cd build-demo
[ -f Makefile ] || ../configure >configure.out 2>&1 ||
    { cat configure.out; exit 1; }
make >make.out 2>&1 || { cat make.out; exit 1; }
SES_SENDMAIL="$PWD/sendmail/ses-sendmail" SES_BUILDDIR="$PWD" \
    /usr/bin/python3 ../tests/functional/demo.py
