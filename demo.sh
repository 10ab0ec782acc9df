#!/bin/sh
# One command on a fresh Debian 12 machine: install the dependencies,
# build anycast-health, and run the live single-node demo on loopback
# (named + plugin -> anycast-relay -> ExaBGP -> BIRD).
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
.ci/deps
[ -x configure ] || ./bootstrap >/dev/null 2>&1
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" >/dev/null
exec /usr/bin/python3 tests/system/demo.py
