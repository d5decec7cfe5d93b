#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Regenerates the captures in this directory (not run by `make check`; the
# captures are committed). RECORDED, from Debian packages talking across a
# veth pair between two network namespaces while tcpdump records the client
# side: DTLS 1.0 and 1.2 handshakes (openssl s_server/s_client), syslog
# over TCP in both RFC 6587 framings (util-linux logger to a socat
# listener). Everything
# else here is CRAFTED by craft.py, which says why for each.
#
# Usage: tests/captures/variants/make.sh [NAME...]    (as root; default: all)
. "$(dirname "$0")/../../lib/common.sh"

OUT=$(cd "$(dirname "$0")" && pwd)
"$PKS_ROOT/tools/deps.sh" capture_udp || exit 1
pks_topology
S=198.18.0.2

# record NAME FILTER COMMAND...: capture on the client's veth while COMMAND runs.
record() {
	local name=$1 filter=$2 pid
	shift 2
	pks_in "$PKS_CLI" tcpdump -U -s 2048 -i "$PKS_CLI_IF" -w "$PKS_TMP/$name.pcap" "$filter" 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do [ -s "$PKS_TMP/$name.pcap" ] && break; sleep 0.1; done
	"$@"
	sleep 2 # TPACKET_V3 hands packets over a block timeout later
	kill "$pid"; wait "$pid" 2>/dev/null
	if [ "$(stat -c %s "$PKS_TMP/$name.pcap")" -le 24 ]; then
		echo "make.sh: $name: nothing captured" >&2
		return 1
	fi
	mv "$PKS_TMP/$name.pcap" "$OUT/$name.pcap"
	echo "wrote $name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)"
}

wanted() { [ ${#NAMES[@]} -eq 0 ] && return 0; local n; for n in "${NAMES[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
NAMES=("$@")

# DTLS 1.0 (record and hello version 0xfeff) and 1.2 (0xfefd in the hello) handshakes and a line of data.
port=4433
for v in 1 1_2; do
	name=dtls1_0; [ "$v" = 1_2 ] && name=dtls1_2
	port=$((port + 1))
	wanted "$name" || continue
	[ -s "$PKS_TMP/c.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=dtls.test -days 2 \
		-keyout "$PKS_TMP/k.pem" -out "$PKS_TMP/c.pem" 2>/dev/null
	pks_bg "$PKS_SRV" "$PKS_TMP/$name.log" openssl s_server -dtls$v -accept $port -cert "$PKS_TMP/c.pem" \
		-key "$PKS_TMP/k.pem" -quiet -cipher 'DEFAULT:@SECLEVEL=0'
	pks_wait_udp "$PKS_SRV" $port
	record "$name" "udp port $port" sh -c "echo hello | timeout 5 nsenter --net=/run/netns/$PKS_CLI \
		openssl s_client -dtls$v -cipher 'DEFAULT:@SECLEVEL=0' -connect $S:$port -quiet >/dev/null 2>&1; true"
done

# Syslog over TCP: logger with --octet-count (RFC 6587 3.4.1) and without (3.4.2, LF-terminated).
for mode in octet plain; do
	name=syslog_tcp_$mode
	wanted "$name" || continue
	port=601; [ $mode = plain ] && port=514
	pks_bg "$PKS_SRV" "$PKS_TMP/$name.log" socat -u TCP-LISTEN:$port,reuseaddr,fork OPEN:/dev/null
	pks_wait_tcp "$PKS_SRV" $port
	flag=--octet-count; [ $mode = plain ] && flag=
	record "$name" "tcp port $port" sh -c "for i in 1 2 3; do nsenter --net=/run/netns/$PKS_CLI logger -T $flag \
		-n $S -P $port -t pktspec \"message \$i over tcp\"; done"
done

for n in $(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$OUT'); import craft; print(' '.join(sorted(craft.CAPTURES)))"); do
	wanted "$n" || continue
	/usr/bin/python3 "$OUT/craft.py" "$OUT" "$n" && echo "wrote $n.pcap (crafted)"
done
