#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The command-line cases of test_cli.sh again, with the CLI built under
# AddressSanitizer and UBSan (make check builds .output/asan/pktspec).
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$root/.output/asan/pktspec" ]; then
	echo "FAIL: test_cli_asan: $root/.output/asan/pktspec is missing: run 'make check'"
	exit 1
fi
set -o pipefail
PKTSPEC="$root/.output/asan/pktspec" ASAN_OPTIONS=detect_leaks=1 \
	"$(dirname "$0")/test_cli.sh" "$@" | sed 's/^\(PASS\|FAIL\): test_cli:/\1: test_cli_asan:/'
