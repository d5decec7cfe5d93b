#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 4 live: ngtcp2's client (gtlsclient) against its server (gtlsserver),
# QUIC v1. `pktspec run` decrypts the client's Initial packets and names the
# flow from the ClientHello's SNI. Twice: a plain ClientHello in one Initial,
# and one with an ffdhe8192 key share (about 1.4 KB) whose CRYPTO frames span
# two Initial packets. The capture replayed gives the same names.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/names_lib.sh"

PORT=4443
NAME=quic.example.test
BIG=big.quic.example.test
names_start "udp port $PORT"
# gtlsclient sends "localhost" as SNI to a numeric host: give it names. The
# test runs in its own mount namespace, so this hosts file is only its own.
printf '127.0.0.1 localhost\n198.18.0.2 %s %s\n' "$NAME" "$BIG" >"$PKS_TMP/hosts"
mount --bind "$PKS_TMP/hosts" /etc/hosts

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
mkdir -p "$PKS_TMP/htdocs" && echo hello >"$PKS_TMP/htdocs/index.html"
# (not GROUPS: bash owns that name)
KEX_GROUPS="-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519"
pks_bg "$PKS_SRV" "$PKS_TMP/server.log" gtlsserver -q -d "$PKS_TMP/htdocs" --groups="$KEX_GROUPS" \
	198.18.0.2 "$PORT" "$PKS_TMP/key.pem" "$PKS_TMP/cert.pem"
pks_wait_udp "$PKS_SRV" "$PORT" || { pks_fail "$PKS_TEST" "gtlsserver did not listen"; pks_done; }

# quic_client NAME [GROUPS]: one request; exits when the stream closes.
quic_client() {
	local sni=$1 groups=${2:-}
	pks_in "$PKS_CLI" timeout 20 gtlsclient -q --exit-on-first-stream-close --sni="$sni" \
		${groups:+--groups="$groups"} "$sni" "$PORT" "https://$sni:$PORT/index.html" \
		>"$PKS_TMP/client-$sni.log" 2>&1
}

quic_client "$NAME"
flow=$(names_flow "$PORT" ".host == \"$NAME\"")
names_check quic_live_sni "$flow" \
	".proto == \"quic\" and .host == \"$NAME\" and .host_source == \"quic\" and .tls_version == \"0x0304\""

quic_client "$BIG" "$KEX_GROUPS"
flow=$(names_flow "$PORT" ".host == \"$BIG\"")
names_check quic_live_sni_hello_over_two_initials "$flow" ".host_source == \"quic\""

names_stop_capture
# The big hello's CRYPTO stream really needed two Initial packets: the
# client's full-size datagrams before the server's first flight (datagrams
# of a few dozen bytes from the server only acknowledge).
n=$(/usr/bin/python3 - "$PKS_TMP/capture.pcap" "$PORT" <<'EOF'
import sys
from scapy.all import rdpcap, UDP
port, best, run, seen = int(sys.argv[2]), 0, 0, set()
for p in rdpcap(sys.argv[1]):
    if UDP not in p:
        continue
    if p[UDP].dport == port:
        if p[UDP].sport not in seen:
            seen.add(p[UDP].sport)
            run = 0
        run += 1 if len(p[UDP].payload) >= 1200 else 0
    elif len(p[UDP].payload) > 200:
        best = max(best, run)
        run = 0
print(max(best, run))
EOF
)
if [ "${n:-0}" -ge 2 ]; then
	pks_pass quic_big_hello_spans_two_datagrams
else
	pks_fail quic_big_hello_spans_two_datagrams "the client sent ${n:-0} Initial datagrams before the server answered"
fi

for sni in "$NAME" "$BIG"; do
	if "$PKTSPEC" replay --json "$PKS_TMP/capture.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err" &&
		jq -e -s "map(select(.server_port == $PORT and .host == \"$sni\" and .host_source == \"quic\")) | length == 1" \
			"$PKS_TMP/replay.json" >/dev/null; then
		pks_pass "quic_replay_same_name_$sni"
	else
		pks_fail "quic_replay_same_name_$sni" "$(jq -c "select(.server_port == $PORT)" "$PKS_TMP/replay.json" | head -c 400)"
	fi
done
pks_done
