#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Live throughput for `make bench`: a veth pair between two network namespaces,
# trafgen(8) sending a mix of flows from one end, the other end receiving with
#   none     no XDP program
#   pass     bench_pass (XDP_PASS only), attached native
#   pktspec  `pktspec attach` (native)
#   pktspec_run  the same with `pktspec run -q` consuming its events, as a
#            user runs it: the context rules' daemon shares the machine
#   pktspec_run_full  the same, with the context tables of a busy network:
#            16,384 DNS-named hosts, 16,384 remembered servers and 1,024
#            announced media endpoints (expectations that never expire)
#            written (pktspec-bench fill-context) before the daemon starts
# One trafgen runs per mix and round while the receiver's modes take turns;
# each mode keeps the median of its rounds, so the shared machine's drift hits
# them alike. Received packets per second come
# from the receiving interface's counters over a window that starts once
# traffic flows; ns per packet from the kernel's BPF run-time statistics
# (kernel.bpf_stats_enabled, restored on exit).
#
# Two traffic mixes, both the first packets of HTTP, TLS, DNS, SSH and unknown
# flows from many 5-tuples:
#   mixed      20000 flows sent over and over (pktspec-bench gen --trafgen):
#              flows stay in the table, the steady state
#   new-flows  every packet from a random address and port (trafgen drnd):
#              nearly every packet a new flow, the table churning
#   servers    the same, each packet to a random server of 198.18.0.0/16:
#              new flows whose server the context tables are asked about,
#              measured with the tables empty (pktspec_run) and full
#              (pktspec_run_full, after pktspec_run: the fill stays pinned
#              until the mix ends), where the lookup filter and the
#              expectation gate must keep their cost (doc/design.md, "The
#              lookup filter", "The expectation gate")
# Frames are addressed to a MAC that is not the receiver's, so the stack drops
# them right after XDP (PACKET_OTHERHOST): no replies, no neighbour lookups
# for thousands of addresses, and the least stack work to hide XDP's cost in.
# Only 198.18.0.0/15 is used, inside the namespaces.
#
# With RSS.json, also the resident memory of `pktspec run` on the receiver
# while the new-flows mix streams in.
# Usage: tools/bench_live.sh OUT.json [RSS.json]   (BENCH_QUICK=1: shorter)
# For A/B work on one section: BENCH_LIVE_ROUNDS=N, BENCH_LIVE_MIXED="MODE..."
# BENCH_LIVE_NEW="MODE..." and BENCH_LIVE_SERVERS="MODE..." (the modes of each
# mix; empty skips the mix).
# Reuses the test library for namespaces, a private bpffs and cleanup.
PKS_TEST=bench_live
. "$(dirname "$0")/../tests/lib/common.sh"

OUT=${1:?usage: tools/bench_live.sh OUT.json [RSS.json]}
RSS_OUT=${2:-}
BENCH=${PKTSPEC_BENCH:-$PKS_ROOT/.output/pktspec-bench}
PASS_OBJ=$PKS_ROOT/.output/bench_pass.bpf.o
if [ -n "${BENCH_QUICK:-}" ]; then
	WINDOW=1.5 ROUNDS=1 RSS_SECONDS=5
else
	WINDOW=2.5 ROUNDS=4 RSS_SECONDS=15
fi
ROUNDS=${BENCH_LIVE_ROUNDS:-$ROUNDS}
WARMUP=1

die() { echo "bench_live: $*" >&2; exit 1; }
command -v trafgen >/dev/null || die "trafgen is missing (Debian package netsniff-ng)"

OLD_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
restore_stats() { echo "$OLD_STATS" >/proc/sys/kernel/bpf_stats_enabled; }
# trafgen runs as a process group of its own (pks_bg_group), stopped whole.
stop_trafgen() {
	[ -z "$1" ] || pks_group_stop "$1"
}
TG="" RUN=""
# The daemon of pktspec_run: SIGTERM, as a user stops it.
stop_run() {
	[ -n "$RUN" ] || return 0
	kill -TERM "$RUN" 2>/dev/null
	wait "$RUN" 2>/dev/null
	RUN=""
}
trap 'stop_trafgen "$TG"; stop_run; restore_stats; pks_cleanup' EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled

pks_topology
SMAC=$(pks_in "$PKS_CLI" ip -j link show dev "$PKS_CLI_IF" | jq -r '.[0].address')
OTHER_MAC=02:00:00:00:00:99

"$BENCH" gen --trafgen --flows 20000 --dst-mac $OTHER_MAC --src-mac "$SMAC" --dst 198.18.0.2 \
	--src-net 198.19.0.0 "$PKS_TMP/mixed.cfg" || die "cannot generate the traffic"
# New flows: random client address in 198.19.0.0/16 and random source port.
pks_newflows_cfg "$PKS_TMP/new-flows.cfg" "$SMAC" $OTHER_MAC
# Servers: the same packets, each to a random server in 198.18.0.0/16.
sed 's/da=198.18.0.2,/da=198.18.0.2, da[2:2]=drnd(),/' "$PKS_TMP/new-flows.cfg" >"$PKS_TMP/servers.cfg"
grep -qF 'da[2:2]=drnd()' "$PKS_TMP/servers.cfg" || die "the servers mix is the new-flows mix: its server address was not made random"

rx_packets() {
	pks_in "$PKS_SRV" ip -j -s link show dev "$PKS_SRV_IF" | jq '.[0].stats64.rx.packets'
}
xdp_prog_id() {
	pks_in "$PKS_SRV" ip -j -d link show dev "$PKS_SRV_IF" | jq -r '.[0].xdp.prog.id // empty'
}
# "run_time_ns run_cnt" of a program
prog_stats() {
	bpftool -j prog show id "$1" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
# ns per run between two prog_stats readings, or null when it did not run
stats_ns() {
	local rt1 rc1 rt2 rc2
	read -r rt1 rc1 <<<"$1"
	read -r rt2 rc2 <<<"$2"
	if [ $((rc2 - rc1)) -gt 0 ]; then echo "scale=1; ($rt2 - $rt1) / ($rc2 - $rc1)" | bc; else echo null; fi
}

# The baselines that look flows up run against the table pktspec filled in the
# same round (its maps kept pinned by `detach --keep-maps`), not an empty one:
#   parse       bench_parse: parse, key, one lookup in pks_flows
#   record      bench_record: the same, and a new flow inserted into a table of
#               its own (new flows only: the least a program that keeps flows does)
#   slots       bench_slots: parse, key, the flow looked up in a 4-way array
#               table (bpf/bench_slots.h) and inserted on a miss: one cache
#               line per hit and no eviction list, against the LRU hash
#   slots_dm    bench_slots with its buckets in 32 KiB inner arrays of an array
#               of maps, memory the kernel maps with 2 MiB pages (A/B runs only:
#               BENCH_LIVE_MIXED / BENCH_LIVE_NEW)
#   pktspec_array  pktspec as shipped with --flow-table array: its plain IPv4
#               flows in the array table (bpf/ways4.h) instead of pks_flows4; it
#               starts from no pinned table, and leaves none
#   pktspec_run  pktspec attached, and `pktspec run -q` (the context rules'
#               daemon) reading its events and scanning its table meanwhile:
#               the ring buffer's wakeups and the daemon's scans cost the
#               receiving CPU too; the window's events the daemon got and
#               those a full ring refused are counted (pks_ctxstats)
#   cut_parse   pktspec's entry program stopped after the parse
#   cut_lookup  ... after the flow lookup
#   cut_count   ... after the counters (direction, flags, packets, bytes, time)
cut_obj() { echo "$PKS_ROOT/.output/bench_$1.bpf.o"; }
# The kernel's event counts (pks_ctxstats, summed over CPUs): "SENT LOST", the
# records the daemon got and those a full ring refused (flow, verdict, copy).
ctx_events() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_ctxstats |
		jq -r '[(.[0].formatted // .[0]).values[].value] as $v
		  | "\([$v[] | .ev_flow + .ev_verdict + .ev_payload] | add) \([$v[] | .lost_flow + .lost_verdict + .lost_payload] | add)"'
}
attach() {
	case $1 in
	none) ;;
	pass) pks_in "$PKS_SRV" ip link set dev "$PKS_SRV_IF" xdpdrv obj "$PASS_OBJ" sec xdp ;;
	pktspec) pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode native >/dev/null ;;
	pktspec_run | pktspec_run_full)
		pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode native >/dev/null || return 1
		if [ $1 = pktspec_run_full ]; then
			"$BENCH" fill-context 16384 >/dev/null || return 1
		fi
		# A plain command: $! is the daemon itself (nsenter execs in place).
		nsenter --net="/run/netns/$PKS_SRV" "$PKTSPEC" run -q 2>"$PKS_TMP/run.log" &
		RUN=$!
		for _ in $(seq 100); do
			grep -q 'running the context rules' "$PKS_TMP/run.log" && return 0
			kill -0 "$RUN" 2>/dev/null || break
			sleep 0.1
		done
		echo "bench_live: pktspec run did not start: $(tail -n 3 "$PKS_TMP/run.log" | tr '\n' ' ')" >&2
		return 1
		;;
	pktspec_array)
		# The LRU table the baselines read is done with: the array's kind and size differ.
		rm -rf /sys/fs/bpf/pktspec
		pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode native --flow-table array >/dev/null
		;;
	parse | record | slots | slots_dm) pks_in "$PKS_SRV" "$BENCH" xdp "$PKS_ROOT/.output/bench_parse.bpf.o" "bench_$1" "$PKS_SRV_IF" ;;
	cut_*) pks_in "$PKS_SRV" "$BENCH" xdp "$(cut_obj "$1")" pks_xdp "$PKS_SRV_IF" ;;
	esac
}
detach() {
	case $1 in
	none) ;;
	pktspec) pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF" --keep-maps >/dev/null ;;
	pktspec_run | pktspec_run_full)
		stop_run
		pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF" --keep-maps >/dev/null
		;;
	pktspec_array) pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF" >/dev/null ;;
	*) pks_in "$PKS_SRV" ip link set dev "$PKS_SRV_IF" xdpdrv off ;;
	esac
}

# start_traffic MIX: trafgen runs while the receiver's modes take turns, so
# its start-up (compiling the configuration takes seconds) is paid once.
start_traffic() {
	local a
	pks_bg_group "$PKS_CLI" "$PKS_TMP/trafgen.log" trafgen --dev "$PKS_CLI_IF" --conf "$PKS_TMP/$1.cfg" --cpus 1
	TG=$PKS_GROUP
	a=$(rx_packets)
	# Wait for traffic rather than for a fixed time.
	for _ in $(seq 300); do
		sleep 0.1
		[ "$(rx_packets)" -gt $((a + 1000)) ] && return 0
	done
	die "$1: no traffic arrives ($(tail -n 3 "$PKS_TMP/trafgen.log" | tr '\n' ' '))"
}

# measure MODE MIX: prints one JSON object
measure() {
	local mode=$1 mix=$2 id="" s1 s2 a b t1 t2 e1="" e2=""
	attach "$mode" || die "cannot attach $mode to $PKS_SRV_IF"
	[ "$mode" != none ] && id=$(xdp_prog_id)
	[ "$mode" != none ] && [ -z "$id" ] && die "$mode: no XDP program on $PKS_SRV_IF"
	sleep $WARMUP
	# trafgen gives up when its ring cannot be flushed (seen while a program
	# was being attached under load): start it again rather than measure silence.
	if ! kill -0 "$TG" 2>/dev/null; then
		echo "bench_live: trafgen stopped ($(tail -n 2 "$PKS_TMP/trafgen.log" | tr '\n' ' ')); restarting it" >&2
		start_traffic "$mix"
		sleep $WARMUP
	fi
	[ -n "$id" ] && s1=$(prog_stats "$id")
	[ "$mode" = pktspec_run ] && e1=$(ctx_events)
	a=$(rx_packets) t1=$(date +%s.%N)
	sleep $WINDOW
	b=$(rx_packets) t2=$(date +%s.%N)
	[ -n "$id" ] && s2=$(prog_stats "$id")
	[ "$mode" = pktspec_run ] && e2=$(ctx_events)
	detach "$mode"
	local ns=null sent=null lost=null
	[ -n "$id" ] && ns=$(stats_ns "$s1" "$s2")
	if [ -n "$e1" ] && [ -n "$e2" ]; then
		sent=$(( ${e2% *} - ${e1% *} )) lost=$(( ${e2#* } - ${e1#* } ))
	fi
	jq -nc --arg mode "$mode" --arg mix "$mix" --argjson pkts $((b - a)) \
		--argjson secs "$(echo "$t2 - $t1" | bc)" --argjson ns "$ns" --argjson sent "$sent" --argjson lost "$lost" \
		'{mode:$mode, mix:$mix, packets:$pkts, seconds:$secs, pps:($pkts/$secs|floor), bpf_ns_per_packet:$ns}
		 + (if $sent == null then {} else {events_sent:$sent, events_lost:$lost} end)'
}

: >"$PKS_TMP/runs.jsonl"
for r in $(seq "$ROUNDS"); do
	for mix in mixed new-flows servers; do
		modes=${BENCH_LIVE_MIXED-none pass pktspec pktspec_run parse cut_parse cut_lookup cut_count slots pktspec_array}
		[ $mix = new-flows ] && modes=${BENCH_LIVE_NEW-pass pktspec pktspec_run parse record slots pktspec_array}
		[ $mix = servers ] && modes=${BENCH_LIVE_SERVERS-pass pktspec_run pktspec_run_full}
		[ -n "$modes" ] || continue
		start_traffic $mix
		for mode in $modes; do
			# Not a pipeline: measure may restart trafgen, and TG must stay set here.
			measure $mode $mix >"$PKS_TMP/one.raw"
			jq -c --argjson r $((r - 1)) '. + {round: $r}' "$PKS_TMP/one.raw" >"$PKS_TMP/one.json"
			cat "$PKS_TMP/one.json" >>"$PKS_TMP/runs.jsonl"
		done
		stop_trafgen "$TG"
		TG=""
		# The table pktspec kept for the baselines goes with the mix.
		rm -rf /sys/fs/bpf/pktspec
	done
	echo "bench_live: round $r of $ROUNDS done" >&2
done

# The live-speed issue's first measurement, taken again: captures (the shared
# corpus of nDPI's public captures when make bench finds it) replayed live
# with tcpreplay(1), at full speed, five times. The first pass meets new
# flows; passes 2 to 5 meet flows the first one created and mostly decided.
# pktspec-bench rewrite first moves every address into the test ranges
# (198.18.0.0/15, 2001:db8::/32) and addresses the frames to OTHER_MAC;
# frames that would carry other addresses on are left out and counted.
# Receivers: pass, pktspec (an empty table each round), then parse against
# the table pktspec kept (passes 2 to 5 only: its first pass would not meet
# new flows). The MTU is raised so that the captures' longest frames
# (2,048 bytes, as the capture reader cuts them) go through.
replay_pass() {
	nsenter --net="/run/netns/$PKS_CLI" tcpreplay -i "$PKS_CLI_IF" --topspeed --preload-pcap \
		"$@" "$PKS_TMP/replay.pcap" 2>&1 | sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' | tail -n 1
}
# replay_measure MODE ROUND: prints one JSON object per phase
replay_measure() {
	local mode=$1 r=$2 id s0 s1 s2 a b c sent1 sent2
	attach "$mode" || die "cannot attach $mode to $PKS_SRV_IF"
	id=$(xdp_prog_id)
	[ -n "$id" ] || die "$mode: no XDP program on $PKS_SRV_IF"
	s0=$(prog_stats "$id") a=$(rx_packets)
	sent1=$(replay_pass) s1=$(prog_stats "$id") b=$(rx_packets)
	sent2=$(replay_pass --loop=4) s2=$(prog_stats "$id") c=$(rx_packets)
	detach "$mode"
	local phase from to sent rx
	for phase in first later; do
		if [ $phase = first ]; then from=$s0 to=$s1 sent=$sent1 rx=$((b - a)); else from=$s1 to=$s2 sent=$sent2 rx=$((c - b)); fi
		[ "$mode" = parse ] && [ $phase = first ] && continue
		local ns runs
		ns=$(stats_ns "$from" "$to")
		runs=$(( ${to#* } - ${from#* } ))
		jq -nc --arg mode "$mode" --arg phase $phase --argjson r "$r" --argjson sent "${sent:-0}" \
			--argjson rx "$rx" --argjson runs "$runs" --argjson ns "$ns" \
			'{mode:$mode, phase:$phase, round:$r, sent:$sent, received:$rx, runs:$runs, bpf_ns_per_packet:$ns}'
	done
}
: >"$PKS_TMP/replay.jsonl"
REPLAY_INFO=null
if [ -n "${BENCH_LIVE_CAPTURES:-}" ]; then
	command -v tcpreplay >/dev/null || die "tcpreplay is missing (Debian package tcpreplay)"
	mapfile -t caps <"$BENCH_LIVE_CAPTURES"
	"$BENCH" rewrite --src-mac "$SMAC" --dst-mac $OTHER_MAC --json "$PKS_TMP/rewrite.json" \
		"$PKS_TMP/replay.pcap" "${caps[@]}" || die "cannot rewrite the captures for replay"
	REPLAY_INFO=$(cat "$PKS_TMP/rewrite.json")
	pks_in "$PKS_CLI" ip link set dev "$PKS_CLI_IF" mtu 2048
	pks_in "$PKS_SRV" ip link set dev "$PKS_SRV_IF" mtu 2048
	for r in $(seq "$ROUNDS"); do
		rm -rf /sys/fs/bpf/pktspec
		for mode in pass pktspec parse; do
			replay_measure $mode $((r - 1)) >>"$PKS_TMP/replay.jsonl"
		done
		rm -rf /sys/fs/bpf/pktspec
	done
	echo "bench_live: captures replayed with tcpreplay, $ROUNDS rounds" >&2
fi

# The resident memory of `pktspec run` (the context rules' daemon) on the
# receiver while new flows stream in: sampled by pktspec-bench rss, stopped
# with SIGTERM as a user would stop it.
if [ -n "$RSS_OUT" ] && "$PKTSPEC" run --help >/dev/null 2>&1; then
	start_traffic new-flows
	"$BENCH" rss --interval 200 --json "$RSS_OUT" -- nsenter --net="/run/netns/$PKS_SRV" \
		"$PKTSPEC" run -i "$PKS_SRV_IF" -q --detach-on-exit 2>"$PKS_TMP/run.log" &
	rss_pid=$!
	sleep $RSS_SECONDS
	kill -TERM $(pgrep -P $rss_pid) 2>/dev/null
	wait $rss_pid || die "pktspec run under new flows failed: $(tail -n 3 "$PKS_TMP/run.log" | tr '\n' ' ')"
	stop_trafgen "$TG"
	TG=""
	echo "bench_live: pktspec run RSS measured over ${RSS_SECONDS}s of new flows" >&2
fi

jq -s --argjson window "$WINDOW" --argjson rounds "$ROUNDS" --argjson rewrite "$REPLAY_INFO" \
	--slurpfile replay "$PKS_TMP/replay.jsonl" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length/2|floor]
              else (.[length/2 - 1] + .[length/2]) / 2 end;
  def r3: if . == null then null else . * 1000 | floor / 1000 end;
  . as $runs
  # Ratios are taken within a round (modes measured seconds apart, under the
  # same load), then the median over rounds.
  | def ratio(mix; a; b): [range(0; $rounds) as $r
        | ([$runs[] | select(.mix == mix and .mode == a and .round == $r)][0].pps) as $x
        | ([$runs[] | select(.mix == mix and .mode == b and .round == $r)][0].pps) as $y
        | select($x != null and $y != null and $y > 0) | $x / $y] | median;
  def nsratio(mix; a; b): [range(0; $rounds) as $r
        | ([$runs[] | select(.mix == mix and .mode == a and .round == $r)][0].bpf_ns_per_packet) as $x
        | ([$runs[] | select(.mix == mix and .mode == b and .round == $r)][0].bpf_ns_per_packet) as $y
        | select($x != null and $y != null and $y > 0) | $x / $y] | median;
  group_by(.mix + "/" + .mode) | map(.[0].mix as $mx | .[0].mode as $md | {
    mix: $mx, mode: $md, rounds: length,
    pps: (map(.pps) | median | floor),
    rate_to_pass: (ratio($mx; $md; "pass") | r3),
    bpf_ns_per_packet: (map(.bpf_ns_per_packet) | map(select(. != null)) | median),
    runs: map(.pps)
  } + (map(select(.events_sent != null)) | if length == 0 then {} else {
    # pktspec_run: the share of the events the daemon got (a full ring refused the rest), and how many a second.
    events_read_share: (map(select(.events_sent + .events_lost > 0) | .events_sent / (.events_sent + .events_lost))
                        | median | r3),
    events_read_per_second: (map(.events_sent / .seconds) | median | floor)
  } end)) as $m
  | {
    window_seconds: $window, rounds: $rounds, generator: "trafgen",
    modes: $m,
    ratio_pktspec_to_pass: (ratio("mixed"; "pktspec"; "pass") | r3),
    ratio_pktspec_to_none: (ratio("mixed"; "pktspec"; "none") | r3),
    ratio_new_flows_pktspec_to_pass: (ratio("new-flows"; "pktspec"; "pass") | r3),
    # What the rate goals can reach at best: the rate of the parse+lookup baseline itself.
    ratio_parse_to_pass: (ratio("mixed"; "parse"; "pass") | r3),
    ratio_new_flows_parse_to_pass: (ratio("new-flows"; "parse"; "pass") | r3),
    # ... and of the program that also inserts each new flow (bench_record).
    ratio_new_flows_record_to_pass: (ratio("new-flows"; "record"; "pass") | r3),
    # Cost per packet in the BPF program (kernel run-time statistics), pktspec
    # against parse+lookup on the same traffic, same table, same round.
    ratio_ns_pktspec_to_parse: (nsratio("mixed"; "pktspec"; "parse") | r3),
    ratio_ns_new_flows_pktspec_to_parse: (nsratio("new-flows"; "pktspec"; "parse") | r3),
    ratio_ns_new_flows_pktspec_to_record: (nsratio("new-flows"; "pktspec"; "record") | r3),
    ratio_ns_new_flows_record_to_parse: (nsratio("new-flows"; "record"; "parse") | r3),
    ratio_ns_pktspec_to_pass: (nsratio("mixed"; "pktspec"; "pass") | r3),
    # pktspec with --flow-table array, against the same baselines in the same rounds.
    ratio_pktspec_array_to_pass: (ratio("mixed"; "pktspec_array"; "pass") | r3),
    ratio_new_flows_pktspec_array_to_pass: (ratio("new-flows"; "pktspec_array"; "pass") | r3),
    ratio_ns_pktspec_array_to_parse: (nsratio("mixed"; "pktspec_array"; "parse") | r3),
    ratio_ns_new_flows_pktspec_array_to_parse: (nsratio("new-flows"; "pktspec_array"; "parse") | r3),
    # pktspec with its daemon (`pktspec run`) reading the events meanwhile.
    ratio_pktspec_run_to_pass: (ratio("mixed"; "pktspec_run"; "pass") | r3),
    ratio_new_flows_pktspec_run_to_pass: (ratio("new-flows"; "pktspec_run"; "pass") | r3),
    ratio_ns_pktspec_run_to_parse: (nsratio("mixed"; "pktspec_run"; "parse") | r3),
    ratio_ns_new_flows_pktspec_run_to_parse: (nsratio("new-flows"; "pktspec_run"; "parse") | r3),
    # New flows to many servers with the context tables full, against the same with them empty.
    ratio_ns_servers_full_to_empty: (nsratio("servers"; "pktspec_run_full"; "pktspec_run") | r3),
    ratio_servers_full_to_empty: (ratio("servers"; "pktspec_run_full"; "pktspec_run") | r3),
    # Captures replayed with tcpreplay: per receiver and phase (first pass,
    # passes 2 to 5) the median and range over rounds; ratios within a round.
    replay: (if $rewrite == null then null else
      ($replay | def rns(ph; a; b): [range(0; $rounds) as $r
          | ([.[] | select(.phase == ph and .mode == a and .round == $r)][0].bpf_ns_per_packet) as $x
          | ([.[] | select(.phase == ph and .mode == b and .round == $r)][0].bpf_ns_per_packet) as $y
          | select($x != null and $y != null and $y > 0) | $x / $y] | median | r3;
        {
          rewrite: $rewrite, generator: "tcpreplay --topspeed", passes: 5,
          modes: (group_by(.phase + "/" + .mode) | map({
            phase: .[0].phase, mode: .[0].mode, rounds: length,
            bpf_ns_per_packet: (map(.bpf_ns_per_packet) | map(select(. != null)) | median),
            min_ns: (map(.bpf_ns_per_packet) | map(select(. != null)) | min),
            max_ns: (map(.bpf_ns_per_packet) | map(select(. != null)) | max),
            sent: (map(.sent) | median), received: (map(.received) | median)
          })),
          ratio_first_pktspec_to_pass: rns("first"; "pktspec"; "pass"),
          ratio_later_pktspec_to_pass: rns("later"; "pktspec"; "pass"),
          ratio_later_pktspec_to_parse: rns("later"; "pktspec"; "parse")
        }) end)
  }' "$PKS_TMP/runs.jsonl" >"$OUT" || die "cannot summarise the live runs"
