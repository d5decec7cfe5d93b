#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# `make fuzz`: runs each libFuzzer target for FUZZ_TIME seconds (default 60),
# one process at a time, keeping what it learns in .output/fuzz/corpus/TARGET
# (seeded from .output/fuzz/seeds/TARGET), then the packet-level fuzzer with
# a new seed and PKS_PKTFUZZ_FLOWS flows (default 20000). Prints the inputs
# each target executed; a crash is saved in .output/fuzz/crashes/TARGET/ and
# makes the exit status 1: fix it, and copy the input into
# tests/fuzz/regressions/TARGET/ so that `make check` replays it.
#   tests/fuzz/fuzz.sh [TARGET...]     (sig dns tls ... pkt; default: all)
set -u
cd "$(dirname "$0")/../.."

out=.output/fuzz
time_s=${FUZZ_TIME:-60}
targets=("$@")
pkt=0
if [ ${#targets[@]} -eq 0 ]; then
	pkt=1
	for src in tests/fuzz/fuzz_*.c; do
		n=$(basename "$src" .c)
		targets+=("${n#fuzz_}")
	done
fi
status=0
for target in "${targets[@]}"; do
	if [ "$target" = pkt ]; then
		pkt=1
		continue
	fi
	bin=$out/fuzz_$target
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (make fuzz builds it)" >&2
		status=1
		continue
	fi
	mkdir -p "$out/corpus/$target" "$out/crashes/$target"
	log=$out/fuzz_$target.log
	"$bin" -max_total_time="$time_s" -max_len=4096 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$target/" "$out/corpus/$target" "$out/seeds/$target" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	if [ $rc -eq 0 ]; then
		printf 'fuzz_%-8s %10s inputs in %ss, corpus %s, no crash\n' "$target" "${runs:-?}" "$time_s" \
			"$(ls "$out/corpus/$target" | wc -l)"
	else
		status=1
		printf 'fuzz_%-8s %10s inputs, CRASH: %s\n' "$target" "${runs:-?}" \
			"$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)"
		grep -m3 -E 'invariant broken|ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/    /'
	fi
done
if [ $pkt -eq 1 ]; then
	seed=$(date +%s)
	echo "pkt_fuzz: seed $seed (PKS_PKTFUZZ_SEED=$seed repeats it)"
	PKS_PKTFUZZ_SEED=$seed PKS_PKTFUZZ_FLOWS=${PKS_PKTFUZZ_FLOWS:-20000} "$out/pkt_fuzz" | sed 's/^/    /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
exit $status
