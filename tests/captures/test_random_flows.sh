#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Random bytes get no name (issue 14): 200,000 flows of random payload, TCP
# (with and without a handshake) and UDP, on every port the project guesses
# and on random ones, bare and inside every encapsulation the classifier
# opens, replayed with `pktspec replay --json`: no flow may get a decided
# verdict (anything beyond a port guess). The seed is fixed, so that the
# suite does not fail at random; PKS_RANDOM_SEED and PKS_RANDOM_FLOWS run
# another sample, and `make accuracy` runs a million flows with a fresh seed
# (tools/accuracy.py). A failure lists the named flows and the command that
# reproduces it. The generator and the check: negative/make-random-flows.py.
# Replay needs no interface and no pins: no namespaces.
cd "$(dirname "$0")/../.." || exit 1
gen=tests/captures/negative/make-random-flows.py
pktspec=${PKTSPEC:-$PWD/.output/pktspec}
seed=${PKS_RANDOM_SEED:-20261204}
flows=${PKS_RANDOM_FLOWS:-200000}
rc=0
/usr/bin/python3 "$gen" --seed "$seed" --flows "$flows" --check "$pktspec" || rc=1
# The check's own test: one flow of a small sample carries a real HTTP
# request; the check must name it, and only it.
/usr/bin/python3 "$gen" --seed "$seed" --flows 2000 --plant 1000 --check "$pktspec" || rc=1
exit $rc
