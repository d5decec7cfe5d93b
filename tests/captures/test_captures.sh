#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Replays every capture under tests/captures that has a .expect file and checks
# the per-flow verdicts (format: tests/captures/check_expect.py).
# Replay needs no interface and no pins, so this test needs no namespaces.
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 tests/captures/check_expect.py "${PKTSPEC:-$PWD/.output/pktspec}" "$@"
