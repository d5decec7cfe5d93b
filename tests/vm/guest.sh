#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# /init of the kernel matrix's guests (tests/vm/test_kernels.sh): busybox sh,
# PID 1 of a kernel booted from Debian's package. It runs every check in one
# boot and reports on the second serial port (/dev/ttyS1), one line each,
# "@pks TAG TEXT", which the host reads and judges:
#
#   kernel RELEASE                     first line: the guest is up
#   modules-rc N, modules-err TEXT     loading the modules the checks need
#   probe-out JSON, probe-err TEXT, probe-rc N      pktspec probe --json
#   replay-out JSON, replay-err TEXT, replay-rc N   pktspec replay --json
#   replay-array-...                   the same with --flow-table array
#   live-STEP-out/-err/-rc             each step of the live checks
#   tc-STEP-..., testrun-...           the tc policy, the cost per packet
#   done                               last line: every check ran
#
# The kernel's own messages stay on the console (/dev/ttyS0), so they never
# split a result line; a panic or a hang shows there, and the host reports the
# console's last lines.
# shellcheck shell=dash # busybox ash: POSIX sh with 'local'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# Debian's static busybox prefers its own applets to PATH (in sh and nsenter):
# iproute2's ip and tc (netns, clsact, u32) go by their full paths.
IP=/usr/sbin/ip
TC=/usr/sbin/tc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t bpf bpf /sys/fs/bpf
exec 3>/dev/ttyS1

say() { echo "@pks $*" >&3; }

# run TAG COMMAND...: run, then report its stdout, its stderr (last 40 lines) and
# its exit status. Nothing is judged here.
run() {
	local tag=$1 rc
	shift
	"$@" >/tmp/out 2>/tmp/err
	rc=$?
	sed "s/^/@pks $tag-out /" /tmp/out >&3
	tail -n 40 /tmp/err | sed "s/^/@pks $tag-err /" >&3
	say "$tag-rc $rc"
	return $rc
}

finish() {
	say "done"
	exec 3>&-
	sync
	poweroff -f
}

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# wait_listen NS PROTO PORT: up to 120 s for a listening socket (TCG is slow, and
# slower still with another checkout's guests on the same CPUs).
wait_listen() {
	local i=0 flag=-ltn
	[ "$2" = udp ] && flag=-lun
	while [ $i -lt 1200 ]; do
		in_ns "$1" netstat $flag | grep -q ":$3 " && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "nothing listens on $2 port $3 after 120 s" >&2
	return 1
}

# pins: everything under /sys/fs/bpf (empty when pktspec left nothing behind).
pins() {
	find /sys/fs/bpf -mindepth 1
}

say "kernel $(uname -r)"

modules() {
	while read -r m; do
		insmod "/lib/modules/$m.ko" || return 1
	done </lib/modules/order
}
run modules modules || finish

# a. Every program loaded, with the verifier's figures.
run probe pktspec probe --json

# b. The captures replayed, in the order the host replayed them.
# shellcheck disable=SC2046 # one capture per line, names without spaces
run replay pktspec replay --json $(cat /captures/order)
# ... and again with IPv4 flows in the array table: the same flows, the same verdicts.
# shellcheck disable=SC2046
run replay-array pktspec replay --json --flow-table array $(cat /captures/order)

# c. Live: client and server namespaces joined by a veth pair, the classifier on
#    the server's end (native XDP), real HTTP (IPv4 and IPv6) and DNS.
$IP netns add c
$IP netns add s
$IP link add vc netns c type veth peer name vs netns s
for side in c:1 s:2; do
	ns=${side%:*} n=${side#*:}
	in_ns "$ns" $IP link set lo up
	in_ns "$ns" $IP addr add "198.18.0.$n/24" dev "v$ns"
	in_ns "$ns" $IP addr add "2001:db8::$n/64" dev "v$ns" nodad
	in_ns "$ns" $IP link set "v$ns" up
done
in_ns s httpd -f -p 80 -h /www &
in_ns s dnsmasq --keep-in-foreground --port=53 --interface=vs --bind-interfaces --no-resolv --no-hosts \
	--user=root --group=root --pid-file= --address=/pktspec.test/198.18.0.2 --address=/pktspec.test/2001:db8::2 &
wait_servers() { wait_listen s tcp 80 && wait_listen s udp 53; }
run live-servers wait_servers

run live-attach in_ns s pktspec attach vs
run live-http4 in_ns c timeout 60 wget -q -O /tmp/page4 http://198.18.0.2/
run live-http4-size wc -c /tmp/page4
run live-http6 in_ns c timeout 60 wget -q -O /tmp/page6 'http://[2001:db8::2]/'
run live-dns in_ns c timeout 60 nslookup pktspec.test 198.18.0.2
run live-status in_ns s pktspec status --json
run live-flows in_ns s pktspec flows --json
run live-detach in_ns s pktspec detach vs
run live-pins pins

# d. The tc policy on the same end, with the egress classifier: HTTP dropped,
#    DNS answers rewritten to DSCP EF, which a u32 filter on the client counts.
#    IPv4 flows in the array table here (c used the LRU hash): the classifier
#    inserts into it at XDP and at tc egress, the policy finds them there.
in_ns c $TC qdisc add dev vc clsact
in_ns c $TC filter add dev vc ingress pref 1 protocol ip u32 match ip tos 0xb8 0xfc action ok
run tc-policy-http in_ns s pktspec policy set http drop
run tc-policy-dns in_ns s pktspec policy set dns dscp ef
run tc-attach in_ns s pktspec attach vs --tc --egress --flow-table array
run tc-status in_ns s pktspec status --json
run tc-http in_ns c timeout 10 wget -q -O /tmp/page-dropped http://198.18.0.2/
run tc-dns in_ns c timeout 60 nslookup pktspec.test 198.18.0.2
run tc-dscp in_ns c $TC -s filter show dev vc ingress
run tc-stats bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_tc_stats
run tc-flows in_ns s pktspec flows --json
run tc-detach in_ns s pktspec detach vs
run tc-qdisc in_ns s $TC qdisc show dev vs
# The policy stays pinned after the last detach (it is configuration).
run tc-pins pins
run tc-clear in_ns s pktspec policy clear

# e. The cost per packet on this kernel: pktspec-bench's test run (make bench's
#    section 1) on a generated capture of 100 flows, pktspec against XDP_PASS
#    and the parse, lookup and insertion baselines. Under TCG times are the
#    emulator's; the host reads them as ratios (the path each kernel's JIT,
#    helpers and tail calls make), never as a pass or fail.
run testrun-gen pktspec-bench gen --flows 100 /tmp/flows.pcap
run testrun pktspec-bench testrun --rounds 5 --sample 32 --repeat 200 /tmp/flows.pcap

finish
