#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 3 live: openssl s_client sends a ClientHello of about 1.3 KB (an
# ffdhe8192 key share) to s_server over a path whose MSS is 536, so the hello
# spans three TCP segments; `pktspec run` must name the flow from its SNI, with
# ALPN and TLS version. The capture replayed gives the same names, and so does
# the capture with the hello's segments reordered and one retransmitted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/names_lib.sh"

PORT=4433
NAME=big.example.test
names_start "tcp port $PORT"
# Segments as the wire carries them: no offloads that would merge them.
for ns_if in "$PKS_CLI:$PKS_CLI_IF" "$PKS_SRV:$PKS_SRV_IF"; do
	pks_in "${ns_if%%:*}" ethtool -K "${ns_if#*:}" tso off gso off gro off >/dev/null 2>&1
done
# The server advertises MSS 536: the client's segments carry at most 536 bytes.
pks_in "$PKS_SRV" ip route replace 198.18.0.0/24 dev "$PKS_SRV_IF" proto kernel scope link src 198.18.0.2 advmss 536

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
pks_bg "$PKS_SRV" "$PKS_TMP/server.log" openssl s_server -accept "$PORT" -cert "$PKS_TMP/cert.pem" \
	-key "$PKS_TMP/key.pem" -www -groups ffdhe8192:x25519 -alpn h2
pks_wait_tcp "$PKS_SRV" "$PORT" || { pks_fail "$PKS_TEST" "s_server did not listen"; pks_done; }

pks_in "$PKS_CLI" timeout 20 openssl s_client -connect "198.18.0.2:$PORT" -servername "$NAME" \
	-groups ffdhe8192:x25519 -alpn h2,http/1.1 -msg </dev/null >"$PKS_TMP/client.log" 2>&1
if grep -q "ALPN protocol: h2" "$PKS_TMP/client.log"; then
	pks_pass tls_handshake_completed
else
	pks_fail tls_handshake_completed "$(grep -m1 -i error "$PKS_TMP/client.log")"
fi

want=".host == \"$NAME\" and .host_source == \"sni\" and .alpn == \"h2\" and .tls_version == \"0x0304\""
flow=$(names_flow "$PORT" ".host != null and .tls_version != null")
names_check tls_live_sni_alpn_version "$flow" "$want and .proto == \"tls\""

names_stop_capture
# The hello really was split: client payload segments before the server's first.
segs=$(/usr/bin/python3 - "$PKS_TMP/capture.pcap" "$PORT" <<'EOF'
import sys
from scapy.all import rdpcap, TCP
n = 0
for p in rdpcap(sys.argv[1]):
    if TCP in p and len(p[TCP].payload):
        if p[TCP].sport == int(sys.argv[2]):
            break
        n += 1
print(n)
EOF
)
if [ "${segs:-0}" -ge 3 ]; then
	pks_pass tls_hello_spans_three_segments
else
	pks_fail tls_hello_spans_three_segments "client sent $segs payload segments before the server answered"
fi

if names_replay "$PKS_TMP/capture.pcap" "$PORT" "$want"; then
	pks_pass tls_replay_same_names
else
	pks_fail tls_replay_same_names "$(jq -c "select(.server_port == $PORT)" "$PKS_TMP/replay.json" | head -c 400)"
fi

# The same capture with the hello's last segment before its middle one, and
# its first segment sent again after both: reassembly must still find it.
/usr/bin/python3 - "$PKS_TMP/capture.pcap" "$PKS_TMP/reordered.pcap" "$PORT" <<'EOF'
import sys
from scapy.all import rdpcap, wrpcap, TCP
pkts = list(rdpcap(sys.argv[1]))
port = int(sys.argv[3])
idx = []
for i, p in enumerate(pkts):
    if TCP in p and len(p[TCP].payload):
        if p[TCP].sport == port:
            break
        idx.append(i)
a, b, c = idx[0], idx[1], idx[2]
out = pkts[:a + 1] + [pkts[c], pkts[b], pkts[a]] + [p for i, p in enumerate(pkts) if i > a and i not in (b, c)]
# Times stay in capture order: only the segments move.
times = sorted(float(p.time) for p in out)
for p, t in zip(out, times):
    p.time = t
wrpcap(sys.argv[2], out)
EOF
if names_replay "$PKS_TMP/reordered.pcap" "$PORT" "$want"; then
	pks_pass tls_replay_reordered_retransmitted
else
	pks_fail tls_replay_reordered_retransmitted "$(jq -c "select(.server_port == $PORT)" "$PKS_TMP/replay.json" | head -c 400)"
fi
pks_done
