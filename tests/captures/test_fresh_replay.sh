#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The new-flow filter (bpf/fresh.h) changes what a packet costs, never what
# it says: the captures under tests/captures, replayed with
# --new-flow-filter always and with never (one replay per directory, its
# captures one after another into one table), give the same flows,
# verdicts, counters and reason counts, and the same exit status. Over all of them the
# filter must have skipped lookups, and found known flows by insertion (flows
# quiet for more than a period of it, 268 ms of capture time).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
PKTSPEC=${PKTSPEC:-$PWD/.output/pktspec}
T=fresh_replay
tmp=$(mktemp -d /tmp/pks-fresh.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

same=0 differ=0 skipped=0 known=0 files=0
for dir in tests/captures tests/captures/*/; do
	mapfile -t caps < <(find "$dir" -maxdepth 1 \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
	[ ${#caps[@]} -gt 0 ] || continue
	files=$((files + ${#caps[@]}))
	for mode in always never; do
		"$PKTSPEC" replay --json --stats --max-flows 4096 --max-flows6 4096 --new-flow-filter $mode "${caps[@]}" >"$tmp/$mode.out" 2>"$tmp/$mode.err"
		echo "rc $?" >>"$tmp/$mode.out"
		# The filter's own line, only with always: counted, then left out of the comparison.
		if [ $mode = always ]; then
			read -r s k < <(sed -n 's/^new-flow filter: \([0-9]*\) packets .*; \([0-9]*\) of them .*/\1 \2/p' "$tmp/$mode.err")
			skipped=$((skipped + ${s:-0})) known=$((known + ${k:-0}))
		fi
		grep -v '^new-flow filter: ' "$tmp/$mode.err" >>"$tmp/$mode.out"
	done
	if cmp -s "$tmp/always.out" "$tmp/never.out"; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		pks_fail "$T:same-output:${dir#tests/captures}" \
			"$(diff "$tmp/never.out" "$tmp/always.out" | grep '^[<>]' | head -n 4 | cut -c1-160 | tr '\n' ';')"
	fi
done

if [ $files -gt 100 ] && [ $differ -eq 0 ]; then
	pks_pass "$T:same-output ($files captures in $same replays)"
else
	pks_fail "$T:same-output" "$files captures; $same replays the same, $differ not"
fi
if [ $skipped -gt 0 ] && [ $known -gt 0 ]; then
	pks_pass "$T:filter-used ($skipped lookups skipped, $known of them known flows)"
else
	pks_fail "$T:filter-used" "$skipped lookups skipped, $known of them known flows: the filter was not exercised"
fi
