#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# One command on a fresh Debian 12 machine: install the dependencies,
# build anycast-health, and run the fleet demo (python3 -m lab.demo): the seed's
# anycast network in network namespaces, a client answered by every
# nameserver, faults on one node, a shared fault; about a minute.
#   ./demo.sh --single     the single-node demo on loopback instead
#   ./demo.sh --short      2 nodes, shorter loads (what the test runs)
#   ./demo.sh --router frr FRR as the router instead of BIRD 2
# Everything the demo starts is removed at the end, also on Ctrl-C.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
.ci/deps
[ -x configure ] || ./bootstrap >/dev/null 2>&1
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" >/dev/null
exec /usr/bin/python3 -m lab.demo "$@"
