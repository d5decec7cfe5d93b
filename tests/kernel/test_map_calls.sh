#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Every map call of the classifier and the policy program sees one map: the
# verifier then inlines a hash or array lookup and calls an update or delete
# directly. A call reached with two maps (LLVM merges the pks_flows4 and
# pks_flows lookups into one unless told not to: pks_flow_lookup in
# bpf/maps.h) goes through the map's ops, an indirect call, and cost a
# decided packet about a sixth of its time live (doc/performance.md). The
# programs are loaded as they are built, and their verifier-rewritten code
# must hold no generic bpf_map_lookup_elem, _update_elem or _delete_elem.
#
# Loaded as an attachment loads them (pks_config.replay 0), the programs read
# nothing in .bss either: the replay clock there (struct pks_replay) is read
# only where replay or a test sets pks_config.replay, and the verifier drops
# the reads otherwise, so a live packet never touches that page.
. "$(dirname "$0")/../lib/common.sh"

command -v bpftool >/dev/null || { echo "SKIP: map calls: bpftool is missing"; pks_done; }

for obj in pktspec pktspec_egress pktspec_tc; do
	o=$PKS_ROOT/.output/$obj.bpf.o
	if [ ! -f "$o" ]; then
		pks_fail "$obj loads" "$o is missing: run make"
		continue
	fi
	dir=/sys/fs/bpf/map_calls_$obj
	if ! bpftool prog loadall "$o" "$dir" >"$PKS_TMP/load.log" 2>&1; then
		pks_fail "$obj loads" "$(tail -n 3 "$PKS_TMP/load.log" | tr '\n' ' ')"
		continue
	fi
	n=0
	for p in "$dir"/*; do
		prog=$(basename "$p")
		n=$((n + 1))
		bpftool prog dump xlated pinned "$p" >"$PKS_TMP/xlated.txt"
		generic=$(grep -cE 'call bpf_map_(lookup|update|delete)_elem#' "$PKS_TMP/xlated.txt")
		bss=$(bpftool -j prog show pinned "$p" | pks_jq '.map_ids[]?' | while read -r id; do
			bpftool -j map show id "$id" | pks_jq 'select(.name | endswith(".bss")) | .id'
		done)
		reads=0
		[ -n "$bss" ] && reads=$(grep -c "map\[id:$bss\]" "$PKS_TMP/xlated.txt")
		if [ "$reads" -eq 0 ]; then
			pks_pass "$obj/$prog: reads nothing in .bss"
		else
			pks_fail "$obj/$prog: reads nothing in .bss" "$reads read(s) of map $bss: $(grep -m 1 -B 3 "map\[id:$bss\]" "$PKS_TMP/xlated.txt" | grep '^;' | tr '\n' ' ')"
		fi
		if [ "$generic" -eq 0 ]; then
			pks_pass "$obj/$prog: every map call sees one map"
		else
			pks_fail "$obj/$prog: every map call sees one map" \
				"$generic generic call(s): $(grep -m 1 -B 3 -E 'call bpf_map_(lookup|update|delete)_elem#' "$PKS_TMP/xlated.txt" | grep '^;' | tr '\n' ' ')"
		fi
	done
	[ "$n" -gt 0 ] || pks_fail "$obj has programs" "none loaded"
	rm -rf "$dir"
done
pks_done
