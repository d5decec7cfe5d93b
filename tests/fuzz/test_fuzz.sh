#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The fuzz targets of tests/fuzz in `make check`: every libFuzzer target
# (.output/fuzz/fuzz_*) first replays each input in
# tests/fuzz/regressions/TARGET/ (crashes found before and fixed), then runs
# a fixed number of inputs (PKS_FUZZ_RUNS, default 20000) mutated from its
# seeds (.output/fuzz/seeds/TARGET, from tests/captures) with a fixed seed, so
# that the same build runs the same inputs. Then the packet-level fuzzer
# (.output/fuzz/pkt_fuzz) through the XDP object. A crash prints the input's
# path: copy it into tests/fuzz/regressions/TARGET/ with the fix.
# test-timeout: 900
set -u
cd "$(dirname "$0")/../.."

out=.output/fuzz
runs=${PKS_FUZZ_RUNS:-20000}
work=$(mktemp -d /tmp/pktspec-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The first line that says what went wrong in a libFuzzer log.
why() {
	grep -m1 -E 'invariant broken|ERROR: AddressSanitizer|runtime error|ERROR: LeakSanitizer|ERROR: libFuzzer|deadly signal|Timeout' "$1" |
		sed 's/^==[0-9]*==//' | cut -c1-200
}

for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	bin=$out/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL: $name: $bin is missing (make check builds it)"
		continue
	fi
	# Regressions: each must run clean.
	nreg=0 bad=0
	for input in tests/fuzz/regressions/"$target"/*; do
		[ -f "$input" ] || continue
		nreg=$((nreg + 1))
		if ! "$bin" "$input" >"$work/log" 2>&1; then
			echo "FAIL: ${name}_regression: $input: $(why "$work/log")"
			bad=1
		fi
	done
	[ $nreg -gt 0 ] && [ $bad -eq 0 ] && echo "PASS: ${name}_regressions ($nreg inputs)"

	# A fixed number of mutated inputs from the seeds.
	seeds=$out/seeds/$target
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "FAIL: $name: no seeds in $seeds (make check extracts them)"
		continue
	fi
	mkdir -p "$work/$target" "$out/crashes/$target"
	if "$bin" -runs="$runs" -seed=1 -max_len=4096 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$target/" "$work/$target" "$seeds" >"$work/log" 2>&1; then
		done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n1)
		if [ -z "$done_runs" ]; then
			echo "FAIL: $name: libFuzzer did not report its runs"
		else
			echo "PASS: $name ($done_runs inputs from $(ls "$seeds" | wc -l) seeds)"
		fi
	else
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log" | tail -n1)
		echo "FAIL: $name: $(why "$work/log"); input: ${artifact:-none saved}"
		grep -v '^#\|^INFO' "$work/log" | head -n 30 >&2
	fi
done

# The packet-level fuzzer through the XDP object: prints its own PASS/FAIL lines.
if [ -x "$out/pkt_fuzz" ]; then
	"$out/pkt_fuzz"
else
	echo "FAIL: pkt_fuzz: $out/pkt_fuzz is missing (make check builds it)"
fi
exit 0
