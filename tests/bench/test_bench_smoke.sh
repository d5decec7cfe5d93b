#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Keeps `make bench` from rotting without running it (it takes minutes and
# reports rather than judges): the measuring tool runs on one small capture
# and its JSON must carry every section with figures that make sense. Times
# are never compared with thresholds here.
. "$(dirname "$0")/../lib/common.sh"

BENCH=${PKTSPEC_BENCH:-$PKS_ROOT/.output/pktspec-bench}
CAP=$PKS_TMP/flows.pcap
J=$PKS_TMP/testrun.json

if ! "$BENCH" gen --flows 100 "$CAP" 2>"$PKS_TMP/gen.err"; then
	pks_fail gen "$(cat "$PKS_TMP/gen.err")"
	pks_done
fi

mkdir -p "$PKS_TMP/subsets"
if "$BENCH" testrun --rounds 2 --sample 3 --repeat 50 --subsets "$PKS_TMP/subsets" --json "$J" "$CAP" \
	2>"$PKS_TMP/tr.err"; then
	pks_pass testrun_runs
else
	pks_fail testrun_runs "$(tail -n 3 "$PKS_TMP/tr.err")"
fi

# Every phase has the four programs with positive times and the ratios.
pks_check testrun_phases jq -e '
  [.cold, .warm, .warm_repeat] | all(
    (.pass.mean_ns > 0) and (.parse.mean_ns > 0) and (.record.mean_ns > 0) and (.pktspec.mean_ns > 0)
    and (.ratio_pass > 0) and (.ratio_parse > 0) and (.ratio_record > 0)
    and (.pktspec.p99_ns >= .pktspec.median_ns))' "$J"
# The insertion baseline (bench_record) keeps each of the 100 flows, in its own
# table: pktspec's holds its 100 and not 200.
pks_check testrun_record_flows jq -e '.flows_last_capture == {pktspec: 100, record: 100}' "$J"
pks_check testrun_counts jq -e '.packets == 160 and .cold.pktspec.n == 160 and .warm_repeat.pktspec.n == 3' "$J"
# The generator's flows are 20 each of HTTP, TLS, DNS, SSH and unknown: the
# grouping by verdict must find them, so per-protocol figures mean something.
pks_check testrun_by_proto jq -e '
  (.by_proto | map({(.proto): .flows}) | add) as $f
  | $f.http == 20 and $f.tls == 20 and $f.dns == 20 and $f.ssh == 20 and $f.unknown == 20' "$J"
pks_check testrun_by_reason jq -e '(.by_reason | map({(.reason): .packets}) | add) as $r
  | $r.new_flow == 100' "$J"
pks_check testrun_subsets test -s "$PKS_TMP/subsets/all.pcap" -a -s "$PKS_TMP/subsets/http.x2.pcap"

# The objects pktspec ships and the bench's baselines, as tools/bench.sh
# names them; not a glob of .output, which also holds the unit tests' object
# that the verifier must refuse (tests/unit/reject.bpf.c).
OBJS=()
for o in pktspec pktspec_egress pktspec_tc bench_pass bench_parse; do
	OBJS+=("$PKS_ROOT/.output/$o.bpf.o")
done
if "$BENCH" verifier --json "$PKS_TMP/verifier.json" "${OBJS[@]}" 2>"$PKS_TMP/v.err"; then
	pks_check verifier_insns jq -e '
	  (map(.programs[].name) | index("pks_xdp") != null) and length == 5
	  and all(.[]; .load_ms >= 0 and all(.programs[]; .verified_insns > 0 and .xlated_insns > 0))' \
		"$PKS_TMP/verifier.json"
else
	pks_fail verifier_insns "$(tail -n 3 "$PKS_TMP/v.err")"
fi

if "$BENCH" memory --flows 16384 --json "$PKS_TMP/memory.json" 2>"$PKS_TMP/m.err"; then
	# A flow cannot cost less than its key and value.
	pks_check memory_per_flow jq -e '.bytes_per_flow_memlock >= (.key_bytes + .value_bytes)
	  and (.tables | length == 2) and all(.tables[]; .flows_held > 0 and .memlock_bytes > 0)
	  and .array.memlock_bytes >= .array.ways * 64 and .array.flows_held > 0
	  and .array.flows_held <= .array.flows_inserted' \
		"$PKS_TMP/memory.json"
else
	pks_fail memory_per_flow "$(tail -n 3 "$PKS_TMP/m.err")"
fi

if "$BENCH" rss -- "$PKTSPEC" replay "$CAP" >"$PKS_TMP/rss.json" 2>"$PKS_TMP/r.err"; then
	pks_check rss jq -e '.exit_status == 0 and .max_rss_kb > 0' "$PKS_TMP/rss.json"
else
	pks_fail rss "$(tail -n 3 "$PKS_TMP/r.err")"
fi

# The live bench's array baselines attach with `pktspec-bench xdp`, bench_slots_dm
# with its 512 inner arrays made and put in place by the tool: UDP datagrams of
# one flow then find their flow (bench_hits counts the lookups that did).
pks_topology
hits_at_least() {
	[ "$(bpftool -j map dump name bench_pa.bss 2>/dev/null |
		jq '[.[0].formatted.value[".bss"][] | .bench_hits // empty] | add // 0')" -ge "$1" ]
}
for prog in bench_slots bench_slots_dm; do
	if ! pks_in "$PKS_SRV" "$BENCH" xdp "$PKS_ROOT/.output/bench_parse.bpf.o" "$prog" "$PKS_SRV_IF" \
		2>"$PKS_TMP/x.err"; then
		pks_fail "xdp_$prog" "$(tail -n 3 "$PKS_TMP/x.err")"
		continue
	fi
	# Four datagrams of one flow: the first inserts it, the next three find it.
	pks_in "$PKS_CLI" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.1", 40998))
for _ in range(4):
    s.sendto(b"probe", ("198.18.0.2", 40999))'
	pks_check "xdp_${prog}_finds_its_flow" pks_wait_for 10 hits_at_least 3
	if [ $prog = bench_slots_dm ]; then
		pks_check xdp_bench_slots_dm_inner_arrays test "$(bpftool -j map dump name pks_bench_dm |
			jq '[.[] | select(.value != null)] | length')" -eq 512
	fi
	pks_in "$PKS_SRV" ip link set dev "$PKS_SRV_IF" xdpdrv off
done

# fill-context (the servers mix's full tables): refused before anything is
# pinned and for a bad count, then N entries in each pinned context table.
pinned_entries() { bpftool -j map dump pinned "/sys/fs/bpf/pktspec/$1" | jq length; }
"$BENCH" fill-context 5 >/dev/null 2>"$PKS_TMP/f.err"
pks_check fill_context_needs_pins test "$?" = 1
"$BENCH" fill-context 0 >/dev/null 2>"$PKS_TMP/f.err"
pks_check fill_context_usage test "$?" = 2
"$BENCH" fill-context 5 --expect 8193 >/dev/null 2>"$PKS_TMP/f.err"
pks_check fill_context_usage_expect test "$?" = 2
# Open fine gate elements (the first 2 x 16,384): the engine's, at even indexes.
open_gates() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_expect_gate |
		jq '[.[] | (.formatted // .) | select(.key < 32768 and .key % 2 == 0 and .value > 0)] | length'
}
if pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode native >/dev/null 2>"$PKS_TMP/a.err" &&
	"$BENCH" fill-context 100 --expect 40 >"$PKS_TMP/fill.json" 2>"$PKS_TMP/f.err"; then
	pks_check fill_context_says test "$(jq -c . "$PKS_TMP/fill.json")" = '{"hosts":100,"servers":100,"expectations":40}'
	pks_check fill_context_hosts test "$(pinned_entries pks_hosts)" = 100
	pks_check fill_context_servers test "$(pinned_entries pks_servers)" = 100
	pks_check fill_context_expect test "$(pinned_entries pks_expect)" = 40
	# Each expectation's gate open (fewer where two share a slot, 40 of 16,384: rarely).
	g=$(open_gates)
	pks_check fill_context_expect_gates test "$g" -ge 38 -a "$g" -le 40
	pks_check fill_context_expect_ctl test "$(bpftool -j map lookup pinned /sys/fs/bpf/pktspec/pks_ctl key 0 0 0 0 |
		jq '(.formatted // .).value.expect_until > 1e18')" = true
else
	pks_fail fill_context "$(tail -n 3 "$PKS_TMP/a.err" "$PKS_TMP/f.err")"
fi
pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF" >/dev/null 2>&1

pks_done
