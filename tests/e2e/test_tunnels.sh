#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Live tunnels: two namespaces over a veth pair (the underlay), pktspec
# attached (native XDP) on both ends of it, and tunnels between the two:
# GRE, keyed GRE, gretap, IPIP (4in4), sit (6in4), ip6tnl (4in6, 6in6),
# Geneve, and VXLAN with two VNIs whose inner addresses and ports are
# identical (each tenant's endpoints in namespaces of their own). Inside each,
# curl fetches from python's http.server and dig asks dnsmasq.
# `pktspec flows --json` must show every inner flow decided with its tunnel
# (kind and ID: GRE key, VNI), the tunnel's own flow named (gre, ipip, vxlan,
# geneve), and the tcpdump recording of the underlay replayed must give the
# same verdicts. The server's end also carries the tc policy program on
# egress with `http dscp af41`: its HTTP answers leave inside every tunnel
# with AF41 on the outer IP header (the flow inside selects the policy), and
# its DNS answers without it.
#
# A tunnel is made by the kernel's driver (`ip link add type ...`) when the
# kernel has it. A kernel built without it (no modules: CONFIG_MODULES unset,
# no NET_IPGRE, NET_IPIP, IPV6_SIT, IPV6_TUNNEL, GENEVE) gets the same tunnel
# from a user-space endpoint, tests/e2e/tunnel.py, which sends the same
# headers over raw (GRE, IP in IP) or UDP (Geneve) sockets through a TUN/TAP
# device: the traffic inside is still real. Which one made each tunnel is
# printed. VXLAN has no such endpoint: without the driver it is reported SKIP
# (not possible here).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

T=$PKS_TEST
HERE=$(cd "$(dirname "$0")" && pwd)
pks_topology
U4C=198.18.0.1 U4S=198.18.0.2 U6C=2001:db8::1 U6S=2001:db8::2

# new_ns NAME: one more namespace, removed on exit.
new_ns() {
	ip netns add "$1" && PKS_NETNS+=("$1")
	pks_in "$1" ip link set lo up
}

# kernel_has TYPE ARGS...: the kernel can make a link of that type (tried in a scratch namespace).
kernel_has() {
	local ns="pks-k-$PKS_ID" ok=1
	new_ns "$ns"
	pks_in "$ns" ip link add probe0 type "$@" >/dev/null 2>&1 && ok=0
	ip netns del "$ns"
	return $ok
}

# user_tunnel NS KIND LOCAL REMOTE IFNAME [ID]: tunnel.py's endpoint, waited for.
user_tunnel() {
	local ns=$1 log="$PKS_TMP/tunnel-$1-$5.log"
	shift
	pks_bg "$ns" "$log" python3 -u "$HERE/tunnel.py" "$@"
	pks_wait_for 30 grep -qs '^ready' "$log" && return 0
	echo "tunnel.py $*: $(cat "$log")" >&2
	return 1
}

# addr_up NS IFNAME N SIDE FAMILIES: inner addresses 198.19.N.SIDE/24 and
# 2001:db8:N::SIDE/64 (FAMILIES: 4, 6 or 46), MTU 1400, link up.
addr_up() {
	local ns=$1 ifn=$2 n=$3 side=$4 fams=$5
	case $fams in *4*) pks_in "$ns" ip addr add "198.19.$n.$side/24" dev "$ifn" ;; esac
	case $fams in *6*) pks_in "$ns" ip addr add "2001:db8:$n::$side/64" dev "$ifn" nodad ;; esac
	pks_in "$ns" ip link set "$ifn" mtu 1400 up
}

declare -A MADE_BY
# tunnel NAME N KTYPE UTYPE FAMILIES UNDERLAY ID: the tunnel NAME with inner
# subnet N, made by the kernel (KTYPE, e.g. "gre key 42") or else by
# tunnel.py (UTYPE), over the IPv4 or IPv6 underlay.
tunnel() {
	local name=$1 n=$2 ktype=$3 utype=$4 fams=$5 ul=$6 id=${7:-} lc=$U4C ls=$U4S ifn="tn$2"
	[ "$ul" = 6 ] && lc=$U6C ls=$U6S
	# shellcheck disable=SC2086 # KTYPE is words
	if kernel_has $ktype local "$lc" remote "$ls"; then
		MADE_BY[$name]=kernel
		pks_in "$PKS_CLI" ip link add "$ifn" type $ktype local "$lc" remote "$ls" &&
			pks_in "$PKS_SRV" ip link add "$ifn" type $ktype local "$ls" remote "$lc" || return 1
	else
		MADE_BY[$name]=tunnel.py
		user_tunnel "$PKS_CLI" "$utype" "$lc" "$ls" "$ifn" $id &&
			user_tunnel "$PKS_SRV" "$utype" "$ls" "$lc" "$ifn" $id || return 1
	fi
	addr_up "$PKS_CLI" "$ifn" "$n" 1 "$fams" && addr_up "$PKS_SRV" "$ifn" "$n" 2 "$fams"
}

# Geneve's kernel link takes no local address; its ID is the VNI.
geneve_tunnel() {
	local n=$1 vni=$2 ifn="tn$1"
	if kernel_has geneve id "$vni" remote "$U4S"; then
		MADE_BY[geneve]=kernel
		pks_in "$PKS_CLI" ip link add "$ifn" type geneve id "$vni" remote "$U4S" &&
			pks_in "$PKS_SRV" ip link add "$ifn" type geneve id "$vni" remote "$U4C" || return 1
	else
		MADE_BY[geneve]=tunnel.py
		user_tunnel "$PKS_CLI" geneve "$U4C" "$U4S" "$ifn" "$vni" &&
			user_tunnel "$PKS_SRV" geneve "$U4S" "$U4C" "$ifn" "$vni" || return 1
	fi
	addr_up "$PKS_CLI" "$ifn" "$n" 1 46 && addr_up "$PKS_SRV" "$ifn" "$n" 2 46
}

# VXLAN tenants: the link is made in the underlay namespace (its UDP socket
# stays there) and moved into the tenant's; tenant VNI's endpoints are
# 198.19.10.1 and .2 in every tenant.
VX_CLI=() VX_SRV=()
vxlan_tenant() {
	local vni=$1 c="pks-vc$1-$PKS_ID" s="pks-vs$1-$PKS_ID" ifn="vx$1"
	new_ns "$c"
	new_ns "$s"
	pks_in "$PKS_CLI" ip link add "$ifn" type vxlan id "$vni" local $U4C remote $U4S dstport 4789 &&
		pks_in "$PKS_SRV" ip link add "$ifn" type vxlan id "$vni" local $U4S remote $U4C dstport 4789 &&
		pks_in "$PKS_CLI" ip link set "$ifn" netns "$c" &&
		pks_in "$PKS_SRV" ip link set "$ifn" netns "$s" || return 1
	# IPv4 only inside: an IPv6 link sends MLD reports and router
	# solicitations of its own, at times of its own, each in an outer
	# datagram whose source port hashes its inner header; one sent between
	# the attach and tcpdump's start is a flow live that the recording
	# lacks (the replay comparison below failed so on a quiet machine).
	pks_in "$c" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1" &&
		pks_in "$s" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1" || return 1
	addr_up "$c" "$ifn" 10 1 4 && addr_up "$s" "$ifn" 10 2 4 || return 1
	VX_CLI+=("$c") VX_SRV+=("$s")
}

# Servers on every address of a namespace: http.server (dual stack) and dnsmasq.
servers_in() {
	local ns=$1 d="$PKS_TMP/srv-$1"
	mkdir -p "$d/www"
	printf 'pktspec tunnel page\n' >"$d/www/index.html"
	pks_bg "$ns" "$d/http.log" python3 -m http.server --bind :: --directory "$d/www" 80
	pks_bg "$ns" "$d/dnsmasq.log" /usr/sbin/dnsmasq -k -C /dev/null --user=root --group=root \
		--no-resolv --no-hosts --no-poll --port 53 --pid-file= \
		--address=/example.test/198.18.0.9 --address=/example.test/2001:db8::9 --log-facility=-
	pks_wait_tcp "$ns" 80 || { echo "http.server did not start in $ns: $(cat "$d/http.log")" >&2; return 1; }
	pks_wait_udp "$ns" 53 || { echo "dnsmasq did not start in $ns: $(cat "$d/dnsmasq.log")" >&2; return 1; }
}

# clients NS ADDR [CURL OPTIONS]: curl and dig against ADDR from NS, dig
# from a fixed source port (with curl's --local-port the VXLAN tenants' inner
# 5-tuples are identical). Prints what failed.
clients() {
	local ns=$1 a=$2 u=$2 rc=0 out
	shift 2
	case $a in *:*) u="[$a]" ;; esac
	out=$(pks_in "$ns" curl -sS --max-time 15 "$@" "http://$u/index.html" 2>&1)
	case $out in *'pktspec tunnel page'*) ;; *) echo "curl $u: $out"; rc=1 ;; esac
	out=$(pks_in "$ns" dig +time=3 +tries=2 +short -b "$(local_of "$a")#40053" "@$a" example.test A 2>&1)
	[ "$out" = 198.18.0.9 ] || { echo "dig @$a: $out"; rc=1; }
	return $rc
}
# local_of ADDR: the client side of an inner server address (.2 -> .1, ::2 -> ::1).
local_of() {
	case $1 in *:*) echo "${1%2}1" ;; *) echo "${1%.2}.1" ;; esac
}

# The tunnels: name, inner subnet, kernel type, tunnel.py kind, inner families, underlay.
ok=1
{
	tunnel gre 1 "gre" gre 46 4 &&
		tunnel gre-key 2 "gre key 42" gre 46 4 42 &&
		tunnel gretap 3 "gretap key 43" gretap 46 4 43 &&
		tunnel ipip 4 "ipip" ipip 4 4 &&
		tunnel sit 5 "sit" sit 6 4 &&
		tunnel ip6tnl 6 "ip6tnl mode any" ip6tnl 46 6 &&
		geneve_tunnel 7 2001
} 2>"$PKS_TMP/tunnels.err" || ok=0
if [ $ok = 1 ]; then
	for t in gre gre-key gretap ipip sit ip6tnl geneve; do
		pks_pass "$T:tunnel-$t (made by ${MADE_BY[$t]})"
	done
else
	pks_fail "$T:tunnels" "$(cat "$PKS_TMP/tunnels.err" "$PKS_TMP"/tunnel-*.log 2>/dev/null | head -c 400 | tr '\n' ' ')"
	pks_done
fi
HAVE_VXLAN=0
if kernel_has vxlan id 1 remote $U4S dstport 4789; then
	HAVE_VXLAN=1
	if vxlan_tenant 1001 2>"$PKS_TMP/vxlan.err" && vxlan_tenant 1002 2>>"$PKS_TMP/vxlan.err"; then
		pks_pass "$T:tunnel-vxlan (made by kernel, VNIs 1001 and 1002)"
	else
		pks_fail "$T:tunnel-vxlan" "$(head -c 400 "$PKS_TMP/vxlan.err" | tr '\n' ' ')"
		HAVE_VXLAN=0
	fi
else
	echo "SKIP: $T:vxlan: not possible here: the kernel has no VXLAN driver"
fi

if servers_in "$PKS_SRV" 2>"$PKS_TMP/servers.err" &&
	{ [ $HAVE_VXLAN = 0 ] || { servers_in "${VX_SRV[0]}" && servers_in "${VX_SRV[1]}"; } 2>>"$PKS_TMP/servers.err"; }; then
	pks_pass "$T:servers"
else
	pks_fail "$T:servers" "$(head -c 400 "$PKS_TMP/servers.err" | tr '\n' ' ')"
	pks_done
fi

pks_check "$T:attach-client" pks_in "$PKS_CLI" "$PKTSPEC" attach --mode native "$PKS_CLI_IF"
pks_check "$T:attach-server" pks_in "$PKS_SRV" "$PKTSPEC" attach --mode native "$PKS_SRV_IF" --tc egress
pks_check "$T:policy" "$PKTSPEC" policy set http dscp af41
pks_tcpdump_start "$PKS_CLI" "$PKS_CLI_IF" "$PKS_TMP/tunnels.pcap" ||
	pks_fail "$T:tcpdump" "$(cat "$PKS_TMP/tunnels.pcap.log")"

# name:subnet:families of each tunnel, and the tunnel kind and ID flows show.
TUNNELS="gre:1:46:gre:0 gre-key:2:46:gre:42 gretap:3:46:gretap:43 ipip:4:4:ipip:0 sit:5:6:ipip:0 ip6tnl:6:46:ipip:0 geneve:7:46:geneve:2001"
for spec in $TUNNELS; do
	IFS=: read -r name n fams _ _ <<<"$spec"
	for fam in 4 6; do
		case $fams in *$fam*) ;; *) continue ;; esac
		a="198.19.$n.2"
		[ $fam = 6 ] && a="2001:db8:$n::2"
		if clients "$PKS_CLI" "$a" >"$PKS_TMP/clients.err"; then
			pks_pass "$T:traffic-$name-ipv$fam"
		else
			pks_fail "$T:traffic-$name-ipv$fam" "$(tr '\n' ' ' <"$PKS_TMP/clients.err")"
		fi
	done
done
if [ $HAVE_VXLAN = 1 ]; then
	for i in 0 1; do
		if clients "${VX_CLI[$i]}" 198.19.10.2 --local-port 40080 >"$PKS_TMP/clients.err"; then
			pks_pass "$T:traffic-vxlan-$((1001 + i))"
		else
			pks_fail "$T:traffic-vxlan-$((1001 + i))" "$(tr '\n' ' ' <"$PKS_TMP/clients.err")"
		fi
	done
fi
pks_tcpdump_stop "$PKS_TMP/tunnels.pcap" 2>"$PKS_TMP/tcpdump.stop" || pks_fail "$T:capture" "$(cat "$PKS_TMP/tcpdump.stop")"

# Outer headers from the server's underlay address: AF41 (DSCP 34, TOS 0x88)
# on HTTP's answers in each kind of tunnel, on no DNS answer.
af41() { # FILTER: packets from the server with AF41 outside, matching FILTER
	tcpdump -r "$PKS_TMP/tunnels.pcap" -nn "$1" 2>/dev/null | wc -l
}
af41v4='src host 198.18.0.2 and (ip[1] & 0xfc) = 0x88'
for spec in "gre:ip proto 47" "ipip:ip proto 4" "sit:ip proto 41" "geneve:udp src port 6081 or udp dst port 6081" \
	"ip6tnl:src host 2001:db8::2 and (ip6[0:2] & 0x0fc0) = 0x0880" "vxlan:udp dst port 4789"; do
	name=${spec%%:*} f=${spec#*:}
	[ "$name" = vxlan ] && [ $HAVE_VXLAN = 0 ] && continue
	case $name in ip6tnl) n=$(af41 "$f") ;; *) n=$(af41 "$af41v4 and ($f)") ;; esac
	[ "$n" -gt 0 ] && pks_pass "$T:policy-dscp-$name ($n packets)" ||
		pks_fail "$T:policy-dscp-$name" "no packet from the server in $name with AF41 outside"
done
# DNS's answers (a UDP datagram of its own inside each tunnel) keep DSCP 0 outside.
dns_marked=$(tcpdump -r "$PKS_TMP/tunnels.pcap" -nn -v "$af41v4" 2>/dev/null | grep -c '\.53 >')
[ "$dns_marked" -eq 0 ] && pks_pass "$T:policy-dns-unmarked" || pks_fail "$T:policy-dns-unmarked" "$dns_marked DNS answers with AF41"
tunnel_hits=$(bpftool map dump pinned /sys/fs/bpf/pktspec/pks_tc_stats | jq '[.[0].values[].value.tunnel] | add')
[ "${tunnel_hits:-0}" -gt 0 ] && pks_pass "$T:policy-tunnel-counter ($tunnel_hits)" ||
	pks_fail "$T:policy-tunnel-counter" "pks_tc_stats tunnel: ${tunnel_hits:-none}"

pks_in "$PKS_CLI" "$PKTSPEC" flows --json >"$PKS_TMP/live.json" 2>"$PKS_TMP/flows.err" ||
	pks_fail "$T:flows" "$(cat "$PKS_TMP/flows.err")"

# inner NAME SERVER TUNNEL ID: the HTTP and DNS flows to SERVER are decided
# (http on TCP 80, dns on UDP 53), inside TUNNEL with that ID, once each.
inner() {
	local name=$1 server=$2 kind=$3 id=$4 l4 port proto got sel
	for l4 in tcp udp; do
		port=80 proto=http
		[ $l4 = udp ] && port=53 proto=dns
		sel=".l4==\"$l4\" and .server==\"$server\" and .server_port==$port and .tunnel==\"$kind\" and .tunnel_id==$id"
		got=$(jq -r "select($sel) | \"\(.proto)/\(.decided)/\(.tunnel_depth)\"" "$PKS_TMP/live.json" | tr '\n' ' ')
		if [ "$got" = "$proto/true/1 " ]; then
			pks_pass "$T:inner-$name-$server-$proto ($kind $id)"
		else
			pks_fail "$T:inner-$name-$server-$proto" "flows in $kind $id: ${got:-none}; all to $server: $(
				jq -c "select(.server==\"$server\") | [.l4,.server_port,.proto,.confidence,.tunnel,.tunnel_id]" \
					"$PKS_TMP/live.json" | tr '\n' ' ')"
		fi
	done
}
for spec in $TUNNELS; do
	IFS=: read -r name n fams kind id <<<"$spec"
	case $fams in *4*) inner "$name" "198.19.$n.2" "$kind" "$id" ;; esac
	case $fams in *6*) inner "$name" "2001:db8:$n::2" "$kind" "$id" ;; esac
done
if [ $HAVE_VXLAN = 1 ]; then
	inner vxlan 198.19.10.2 vxlan 1001
	inner vxlan 198.19.10.2 vxlan 1002
	# The two tenants' flows have the same inner 5-tuple: two flows, not one.
	n=$(jq -r 'select(.tunnel=="vxlan" and .l4=="tcp") | "\(.client)/\(.client_port) \(.server)/\(.server_port)"' \
		"$PKS_TMP/live.json" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
	[ "$n" = "2 " ] && pks_pass "$T:vxlan-tenants-two-flows" || pks_fail "$T:vxlan-tenants-two-flows" "counts per 5-tuple: ${n:-none}"
fi

# outer PROTO SELECT: the tunnel's own flows (underlay addresses) are PROTO, confirmed.
outer() {
	local proto=$1 sel=$2 got
	got=$(jq -r "select($sel) | \"\(.proto)/\(.confidence)/\(.tunnel // \"-\")\"" "$PKS_TMP/live.json" | sort -u | tr '\n' ' ')
	if [ "$got" = "$proto/confirmed/- " ]; then
		pks_pass "$T:outer-$proto ($(jq -c "select($sel)" "$PKS_TMP/live.json" | wc -l) flows)"
	else
		pks_fail "$T:outer-$proto" "tunnel flows: ${got:-none}"
	fi
}
ul4='(.client=="198.18.0.1" or .client=="198.18.0.2")'
ul6='(.client=="2001:db8::1" or .client=="2001:db8::2")'
outer gre "$ul4 and .proto!=\"ipip\" and .l4!=\"udp\""
outer ipip "($ul4 or $ul6) and .proto!=\"gre\" and .l4!=\"udp\""
outer geneve "$ul4 and .l4==\"udp\" and .server_port==6081"
[ $HAVE_VXLAN = 1 ] && outer vxlan "$ul4 and .l4==\"udp\" and .server_port==4789"
# Nothing else on the underlay: every flow there is one of the tunnels'.
others=$(jq -r "select(($ul4 or $ul6) and (.proto|IN(\"gre\",\"ipip\",\"geneve\",\"vxlan\")|not)) | \"\(.l4) \(.server_port) \(.proto)\"" \
	"$PKS_TMP/live.json" | sort -u | tr '\n' ';')
[ -z "$others" ] && pks_pass "$T:no-other-underlay-flows" || pks_fail "$T:no-other-underlay-flows" "$others"

# The recording, replayed, gives the same verdicts, tunnels included. Live,
# only the kernel ran (attach, no daemon): replay --no-context is the same
# classifier and must agree in full. Replay with the context rules must agree
# in full too: what they learn is kept per tunnel (struct pks_scope), so the
# first VXLAN tenant's confirmed server lends nothing to the second tenant's
# server at the same address and port (no "server-memory" verdict there).
# A flow whose two ports
# are equal (Geneve, 6081 both ways) is written with its endpoints in order:
# which side spoke first can be a packet sent before tcpdump started.
key='(if .client_port == .server_port and .client > .server then [.server, .client] else [.client, .server] end) as $e |
	"\(.l4) \($e[0])/\(.client_port) \($e[1])/\(.server_port) \(.tunnel // "-") \(.tunnel_id // "-") \(.proto)"'
# same_verdicts NAME LIVE REPLAY-OPTIONS...: every flow the same in replay.
same_verdicts() {
	local name=$1 extra=$2
	shift 2
	jq -r "$key$extra" "$PKS_TMP/live.json" | sort >"$PKS_TMP/live.verdicts"
	if "$PKTSPEC" replay --json "$@" "$PKS_TMP/tunnels.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"; then
		jq -r "$key$extra" "$PKS_TMP/replay.json" | sort >"$PKS_TMP/replay.verdicts"
		if [ -s "$PKS_TMP/live.verdicts" ] && diff -u "$PKS_TMP/live.verdicts" "$PKS_TMP/replay.verdicts" >"$PKS_TMP/diff"; then
			pks_pass "$T:$name ($(wc -l <"$PKS_TMP/live.verdicts") flows)"
		else
			pks_fail "$T:$name" "$(grep '^[-+][^-+]' "$PKS_TMP/diff" | head -n 6 | tr '\n' ';')"
		fi
	else
		pks_fail "$T:$name" "replay failed: $(cat "$PKS_TMP/replay.err")"
	fi
}
same_verdicts replay-kernel-matches-live ' + " \(.confidence) \(.rule)"' --no-context
same_verdicts replay-context-matches-live ' + " \(.confidence) \(.rule)"'

# IPFIX: `pktspec run` serves the attachments and ends every flow (short
# timeouts), exporting to nfcapd; tshark decodes what went over lo. The two
# VXLAN tenants' identical 5-tuples carry their VNIs in layer2SegmentId (type
# 0x01, VxLAN, in the top byte), gretap its key's VSID bits (type 0x02, NVGRE:
# key 43 is VSID 0); keyed GRE, which has no IANA element, keeps the bare
# template (256 or 258 with an HTTP host) and no layer2SegmentId (doc/export.md).
ipfix_msgs() { # the first record of each data message: set, server, port, segment
	tshark -r "$PKS_TMP/ipfix.pcap" -d udp.port==4739,cflow -Y 'cflow.flowset_id >= 256' -T fields -E occurrence=f \
		-e cflow.flowset_id -e cflow.dstaddr -e cflow.dstaddrv6 -e cflow.dstport -e cflow.layer2_segment_id 2>/dev/null |
		awk -F'\t' '{ print $1, ($2 != "" ? $2 : $3), $4, ($5 != "" ? $5 : "-") }' | sort -u
}
# ipfix_seg NAME SERVER PORT SETS SEGMENTS: the messages of flows to SERVER:PORT
# use one of the template IDs SETS ("261|263") and carry exactly SEGMENTS.
ipfix_seg() {
	local got
	got=$(awk -v s="$2" -v p="$3" -v t="^($4)$" '$2 == s && $3 == p && $1 ~ t { print $4 }' "$PKS_TMP/ipfix.msgs" | sort -u | tr '\n' ' ')
	[ "$got" = "$5" ] && pks_pass "$T:ipfix-$1" ||
		pks_fail "$T:ipfix-$1" "layer2SegmentId [${got}] want [$5]; to $2:$3: $(awk -v s="$2" '$2 == s' "$PKS_TMP/ipfix.msgs" | tr '\n' ';')"
}
flows_left() { pks_in "$PKS_CLI" "$PKTSPEC" flows --json | wc -l; }
flows_gone() { [ "$(flows_left)" -eq 0 ]; }
mkdir -p "$PKS_TMP/nfcapd"
pks_bg "$PKS_CLI" "$PKS_TMP/nfcapd.log" nfcapd -w "$PKS_TMP/nfcapd" -p 4739 -b 127.0.0.1
NFCAPD=${PKS_PIDS[-1]}
if pks_wait_udp "$PKS_CLI" 4739 && pks_tcpdump_start "$PKS_CLI" lo "$PKS_TMP/ipfix.pcap" udp port 4739; then
	pks_bg "$PKS_CLI" "$PKS_TMP/run.out" "$PKTSPEC" run --quiet --linger 0 --fin-timeout 1 --tcp-timeout 1 \
		--udp-timeout 1 --ipfix 127.0.0.1:4739
	RUN=${PKS_PIDS[-1]}
	pks_wait_for 60 flows_gone || pks_fail "$T:ipfix-flows-ended" "$(flows_left) flows left: $(tail -n 3 "$PKS_TMP/run.out")"
	# SIGTERM: the daemon sends what is queued before it exits.
	kill -TERM "$RUN"
	pks_wait_for 30 pks_gone "$RUN"
	pks_tcpdump_stop "$PKS_TMP/ipfix.pcap" 2>"$PKS_TMP/tcpdump.stop" || pks_fail "$T:ipfix-capture" "$(cat "$PKS_TMP/tcpdump.stop")"
	tshark -r "$PKS_TMP/ipfix.pcap" -d udp.port==4739,cflow -V >"$PKS_TMP/tshark.txt" 2>&1
	if grep -qiE 'malformed|expert info \((error|warning)' "$PKS_TMP/tshark.txt"; then
		pks_fail "$T:ipfix-tshark-decodes" "$(grep -iE 'malformed|expert' "$PKS_TMP/tshark.txt" | head -3 | tr '\n' ' ')"
	else
		pks_pass "$T:ipfix-tshark-decodes"
	fi
	ipfix_msgs >"$PKS_TMP/ipfix.msgs"
	if [ $HAVE_VXLAN = 1 ]; then
		# 0x01 << 56 | VNI: VNIs 1001 and 1002.
		ipfix_seg vxlan-http 198.19.10.2 80 "261|263" "72057594037928937 72057594037928938 "
		ipfix_seg vxlan-dns 198.19.10.2 53 "261|263" "72057594037928937 72057594037928938 "
	fi
	ipfix_seg gretap-ipv4 198.19.3.2 80 "261|263" "144115188075855872 "
	ipfix_seg gretap-ipv6 2001:db8:3::2 80 "262|264" "144115188075855872 "
	ipfix_seg gre-key-bare-template 198.19.2.2 80 "256|258" "- "
else
	pks_fail "$T:ipfix-collector" "$(cat "$PKS_TMP/nfcapd.log" "$PKS_TMP/ipfix.pcap.log" 2>/dev/null | head -c 300)"
fi
kill -TERM "$NFCAPD"

# No packet counted as a malformed or over-nested tunnel.
bad=$(pks_in "$PKS_CLI" "$PKTSPEC" status --json |
	jq -r '.reasons | to_entries[] | select(.value > 0 and (.key | test("^(trunc_|bad_|tunnel_too_deep)"))) | "\(.key)=\(.value)"' | tr '\n' ' ')
[ -z "$bad" ] && pks_pass "$T:no-tunnel-errors" || pks_fail "$T:no-tunnel-errors" "$bad"

pks_check "$T:detach-client" pks_in "$PKS_CLI" "$PKTSPEC" detach "$PKS_CLI_IF"
pks_check "$T:detach-server" pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF"
pks_done
