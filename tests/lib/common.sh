# SPDX-License-Identifier: MIT OR Apache-2.0
# Shared helpers for pktspec's shell tests. Source it first thing:
#     . "$(dirname "$0")/../lib/common.sh"
#
# - The test re-executes itself in a private mount namespace with a fresh BPF
#   filesystem on /sys/fs/bpf, so its pins never meet another test's or a
#   live attachment's, and vanish with it. Pins still live at the real path
#   (/sys/fs/bpf/pktspec/...), as users see them.
# - Network namespaces, veth links, processes and temp files a test makes are
#   recorded and removed on exit, whatever happens (processes killed by PID).
# - Only 198.18.0.0/15 and 2001:db8::/32 are used.

set -u
PKS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKTSPEC=${PKTSPEC:-$PKS_ROOT/.output/pktspec}
PKS_TEST=$(basename "$0" .sh)

if [ -z "${PKS_PRIVATE_BPFFS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL: $PKS_TEST: needs root"
		exit 1
	fi
	PKS_PRIVATE_BPFFS=1 exec unshare --mount --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL: $PKS_TEST: cannot mount a private bpffs"; exit 1; }

PKS_TMP=$(mktemp -d "/tmp/pktspec-$PKS_TEST.XXXXXX")
PKS_NETNS=()
PKS_PIDS=()
PKS_GROUPS=()
PKS_FAILED=0
# Short suffix for names that must be unique machine-wide (netns, links): this
# process's PID, which no other live test has (a random suffix could meet the one
# of a test of another checkout running beside it). At most 6 hex digits, so
# "pkp<N><ID>" stays within an interface name's 15 characters.
PKS_ID=$(printf '%x' $$)

pks_cleanup() {
	local pid ns
	for pid in "${PKS_GROUPS[@]}"; do
		pks_group_stop "$pid"
	done
	for pid in "${PKS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PKS_PIDS[@]}"; do
		# Give servers a moment, then insist.
		pks_wait_for 2 pks_gone "$pid" || kill -9 "$pid" 2>/dev/null
	done
	for ns in "${PKS_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$PKS_TMP"
}
trap pks_cleanup EXIT
trap 'exit 130' INT TERM

pks_pass() { echo "PASS: $1"; }
pks_fail() { echo "FAIL: $1: $2"; PKS_FAILED=1; }
# pks_check NAME COMMAND...: PASS when the command succeeds.
pks_check() {
	local name=$1
	shift
	if "$@" >"$PKS_TMP/check.out" 2>&1; then
		pks_pass "$name"
	else
		pks_fail "$name" "$(tail -n 5 "$PKS_TMP/check.out" | tr '\n' ' ')"
	fi
}

# pks_in NS COMMAND...: run in a network namespace, keeping this mount
# namespace (and so the private bpffs). Not `ip netns exec`, which remounts /sys.
pks_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# pks_bg NS LOGFILE COMMAND...: start a server in NS in the background; records its PID.
pks_bg() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" "$@" >"$log" 2>&1 &
	PKS_PIDS+=($!)
}

# pks_bg_group NS LOG COMMAND...: as pks_bg, for a command that forks workers
# (trafgen forks its sender, and both must see the signal for the parent to
# reap the sender and exit): it leads a process group of its own (nsenter and
# setsid exec in place, so PKS_GROUP, its PID, is the group's ID), and
# pks_group_stop (or the cleanup) signals the whole group.
pks_bg_group() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" setsid "$@" >"$log" 2>&1 &
	PKS_GROUP=$!
	PKS_GROUPS+=("$PKS_GROUP")
}
# pks_group_stop PID: SIGINT to the process group that PID leads (trafgen stops on it); SIGKILL after 3 s.
pks_group_stop() {
	kill -INT -- -"$1" 2>/dev/null
	pks_wait_for 3 pks_gone "$1" || kill -KILL -- -"$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# pks_newflows_cfg FILE SRC_MAC DST_MAC: a trafgen configuration of new flows
# to 198.18.0.2, each from a random client address of 198.19.0.0/16 and a
# random source port: the first packets of HTTP, TLS, DNS, SSH and unknown
# UDP flows, taking turns (tools/bench_live.sh's new-flows mix, and the floods
# of the tests). Frames to a MAC not the receiver's reach XDP and are dropped
# by the stack after it.
pks_newflows_cfg() {
	local ip4="eth(da=$3, sa=$2), ipv4(sa=198.19.0.1, sa[2:2]=drnd(), da=198.18.0.2, ttl=64)"
	cat >"$1" <<EOF
{ $ip4, tcp(sp=drnd(1024, 65535), dp=80, ack, psh, win=64000), "GET /index.html HTTP/1.1\r\nHost: bench.test\r\n\r\n" }
{ $ip4, tcp(sp=drnd(1024, 65535), dp=443, ack, psh, win=64000), 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, fill(0x5a, 32), 0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x00 }
{ $ip4, udp(sp=drnd(1024, 65535), dp=53), 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 5, "bench", 4, "test", 0, 0x00, 0x01, 0x00, 0x01 }
{ $ip4, tcp(sp=drnd(1024, 65535), dp=22, ack, psh, win=64000), "SSH-2.0-OpenSSH_9.2p1\r\n" }
{ $ip4, udp(sp=drnd(1024, 65535), dp=40000), rnd(48) }
EOF
}

# pks_topology: two namespaces, client and server, joined by a veth pair.
# Sets PKS_CLI, PKS_SRV (namespace names), PKS_CLI_IF, PKS_SRV_IF, and
# addresses 198.18.0.1 / 2001:db8::1 (client), 198.18.0.2 / 2001:db8::2 (server).
pks_topology() {
	PKS_CLI="pks-c-$PKS_ID"
	PKS_SRV="pks-s-$PKS_ID"
	PKS_CLI_IF="pkc$PKS_ID"
	PKS_SRV_IF="pks$PKS_ID"
	ip netns add "$PKS_CLI" && PKS_NETNS+=("$PKS_CLI")
	ip netns add "$PKS_SRV" && PKS_NETNS+=("$PKS_SRV")
	ip link add "$PKS_CLI_IF" netns "$PKS_CLI" type veth peer name "$PKS_SRV_IF" netns "$PKS_SRV"
	pks_in "$PKS_CLI" ip link set lo up
	pks_in "$PKS_SRV" ip link set lo up
	pks_in "$PKS_CLI" ip addr add 198.18.0.1/24 dev "$PKS_CLI_IF"
	pks_in "$PKS_SRV" ip addr add 198.18.0.2/24 dev "$PKS_SRV_IF"
	pks_in "$PKS_CLI" ip addr add 2001:db8::1/64 dev "$PKS_CLI_IF" nodad
	pks_in "$PKS_SRV" ip addr add 2001:db8::2/64 dev "$PKS_SRV_IF" nodad
	pks_in "$PKS_CLI" ip link set "$PKS_CLI_IF" up
	pks_in "$PKS_SRV" ip link set "$PKS_SRV_IF" up
}

# pks_wait_for SECONDS COMMAND...: run COMMAND (quietly) every 0.1 s until it
# succeeds (return 0) or SECONDS of wall time have passed (return 1). Tests wait
# for the thing they need (a listener, a line in a log, a flow, an entry in a
# map), never for a fixed time: on a loaded machine anything may take long, so
# SECONDS is generous (PKS_WAIT_SCALE multiplies it, e.g. 3 under emulation).
pks_wait_for() {
	local limit=$1 end now
	shift
	end=$(( ${EPOCHREALTIME//[!0-9]/} + limit * ${PKS_WAIT_SCALE:-1} * 1000000 ))
	until "$@" >/dev/null 2>&1; do
		now=${EPOCHREALTIME//[!0-9]/}
		[ "$now" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# pks_gone PID: true once the process has exited (for pks_wait_for).
pks_gone() {
	! kill -0 "$1" 2>/dev/null
}

# pks_tcpdump_drained PID LOG [lo]: asks tcpdump PID (SIGUSR1) for its counts,
# which it prints to LOG (its stderr); true once the last counts show every packet
# the kernel handed it written or lost ("captured" + "dropped by kernel" reach
# "received by filter"; on lo libpcap itself discards the outgoing copy of each
# packet, which "received" still counts: half of it), or once tcpdump is gone.
# Sent after the traffic, so a capture stopped then has all of it: SIGINT alone
# stops tcpdump with what it has not yet read from its ring lost.
pks_tcpdump_drained() {
	local c r d
	kill -USR1 "$1" 2>/dev/null || return 0
	read -r c r d < <(sed -n 's/.* \([0-9]*\) packets captured, \([0-9]*\) packets received by filter, \([0-9]*\) packets dropped by kernel.*/\1 \2 \3/p' "$2" | tail -n 1)
	[ -n "${r:-}" ] || return 1
	[ "${3:-}" = lo ] && r=$(( (r + 1) / 2 ))
	[ $((c + d)) -ge "$r" ]
}

# pks_tcpdump_finish PID LOG [lo]: waits (60 s) until tcpdump has written what it
# received, then stops it (SIGINT, which flushes and closes the file) and waits for
# it to exit. Fails (saying why on stderr) when the kernel dropped packets (its
# ring was full): the recording then lacks packets.
pks_tcpdump_finish() {
	local d rc=0
	# Not catching up is said, not failed: a check of the recording judges it (a full
	# make check once saw this wait run out on a complete recording, cause not found).
	pks_wait_for 60 pks_tcpdump_drained "$@" || echo "tcpdump $1 did not catch up in 60 s: $(grep 'packets captured, ' "$2" | tail -n 1)" >&2
	kill -INT "$1" 2>/dev/null
	pks_wait_for 30 pks_gone "$1"
	d=$(sed -n 's/^\([0-9]*\) packets dropped by kernel$/\1/p' "$2" | tail -n 1)
	[ "${d:-0}" -eq 0 ] || { echo "tcpdump $1: ${d} packets dropped by kernel" >&2; rc=1; }
	return $rc
}

# pks_listening NS tcp|udp PORT [N]: at least N (1) sockets listen on PORT in NS.
pks_listening() {
	local flag=-Hltn
	[ "$2" = udp ] && flag=-Hlun
	[ "$(pks_in "$1" ss $flag "sport = :$3" | wc -l)" -ge "${4:-1}" ]
}

# pks_wait_tcp NS PORT: wait up to 30 s for a TCP listener.
pks_wait_tcp() {
	pks_wait_for 30 pks_listening "$1" tcp "$2"
}

# pks_wait_udp NS PORT: wait up to 30 s for a UDP socket.
pks_wait_udp() {
	pks_wait_for 30 pks_listening "$1" udp "$2"
}

# pks_wait_closed NS PORT: wait up to 30 s until NS has no TCP connection to
# PORT other than in TIME-WAIT (its last packet has been sent).
pks_closed() {
	! pks_in "$1" ss -Htn state established state fin-wait-1 state fin-wait-2 state last-ack \
		state closing state syn-sent "dport = :$2" | grep -q .
}
pks_wait_closed() {
	pks_wait_for 30 pks_closed "$1" "$2"
}

# pks_host_known NAME: `pktspec run` has written NAME into the pinned pks_hosts.
pks_host_known() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_hosts | grep -qF "\"$1\""
}

# pks_daemon_mark NS IFACE N: true once `pktspec run` has handled everything
# both rings held before the mark. It sends from NS out of IFACE (whose peer
# has the classifier) a DNS answer naming markN.pktspec.test, whose copy goes
# to the control channels' ring, read first: once the name is in pks_hosts,
# that ring is read up to it. Then a SYN to the named address: its flow event
# goes to pks_events behind everything there, and once the daemon has read it,
# it writes the flow's name into pks_names. Use as `pks_wait_for 120
# pks_daemon_mark ...`: each try sends again, as a mark may be lost while a
# ring is full.
pks_daemon_mark() {
	local name="mark$3.pktspec.test" addr="198.18.0.$((100 + $3 % 100))"
	pks_in "$1" /usr/bin/python3 "$PKS_ROOT/tests/lib/dns_answer.py" "$2" "$name" "$addr" &&
		pks_wait_for 2 pks_host_known "$name" &&
		pks_in "$1" /usr/bin/python3 "$PKS_ROOT/tests/lib/dns_answer.py" "$2" "$name" "$addr" syn &&
		pks_wait_for 2 pks_name_known "$name"
}

# pks_name_known NAME: true once some flow's entry in pks_names carries host NAME.
pks_name_known() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_names | grep -qF "\"$1\""
}

# pks_jq_any [JQ-OPTIONS...] FILTER [FILE...]: true when FILTER (a select) outputs
# something for some input. Not `jq -e 'select(...)'`: jq 1.6 sets -e's status from
# the last input alone, so a match on any line but the last reads as no match (and
# a wait for it runs out its deadline, then goes on as if it had waited).
pks_jq_any() {
	jq -c "$@" | grep -q .
}

# pks_flow_field JSONLINES FILTER: jq over `pktspec flows --json` output.
pks_jq() {
	jq -rc "$@"
}

# pks_recipe DOC NAME: the shell block of a document marked to be run as written,
# i.e. fenced as "```sh recipe=NAME"; empty when there is none.
pks_recipe() {
	awk -v n="$2" '$0 == "```sh recipe=" n { f = 1; next } /^```$/ { f = 0 } f' "$1"
}

pks_done() {
	exit $PKS_FAILED
}
