#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The pktspec command line: help and version, usage errors (exit 2), failures
# with a one-line message (exit 1) for every environment problem the issue
# names, and attach/detach leaving exactly what they should behind.
# PKTSPEC=.output/asan/pktspec runs the same cases under ASan/UBSan.
. "$(dirname "$0")/../lib/common.sh"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
T=${PKS_TEST}

# expect NAME RC REGEX COMMAND...: the command exits RC and its stderr+stdout matches REGEX
# (extended, case-insensitive). For failures (RC 1) the message must be one line.
expect() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	"$@" >"$PKS_TMP/out" 2>"$PKS_TMP/err"
	rc=$?
	cat "$PKS_TMP/out" "$PKS_TMP/err" >"$PKS_TMP/all"
	if [ "$rc" -ne "$want" ]; then
		pks_fail "$T:$name" "exit $rc, expected $want: $(head -c 300 "$PKS_TMP/all" | tr '\n' ' ')"
	elif ! grep -Eqi -- "$re" "$PKS_TMP/all"; then
		pks_fail "$T:$name" "output does not match /$re/: $(head -c 300 "$PKS_TMP/all" | tr '\n' ' ')"
	elif [ "$want" -eq 1 ] && [ "$(wc -l <"$PKS_TMP/err")" -ne 1 ]; then
		pks_fail "$T:$name" "expected a one-line message, got: $(head -c 300 "$PKS_TMP/err" | tr '\n' ' ')"
	elif grep -Eq 'Sanitizer|runtime error:' "$PKS_TMP/all"; then
		pks_fail "$T:$name" "sanitizer report: $(grep -Em1 'Sanitizer|runtime error:' "$PKS_TMP/all")"
	else
		pks_pass "$T:$name"
	fi
}

# -- help, version, usage errors ---------------------------------------------
expect help 0 '^Usage: pktspec' "$PKTSPEC" --help
expect help-command 0 '^Usage: pktspec' "$PKTSPEC" help
for cmd in attach detach status flows replay protocols; do
	expect "help-$cmd" 0 "^Usage: pktspec $cmd" "$PKTSPEC" "$cmd" --help
done
expect version 0 '^pktspec [0-9]+\.[0-9]+\.[0-9]+$' "$PKTSPEC" --version
expect no-command 2 'Usage: pktspec' "$PKTSPEC"
expect unknown-command 2 "unknown command 'frobnicate'" "$PKTSPEC" frobnicate
expect unknown-global-option 2 "unknown option '--bogus'" "$PKTSPEC" --bogus status
expect attach-bad-flag 2 'bogus|unrecognized' "$PKTSPEC" attach --bogus lo
expect attach-missing-iface 2 'exactly one interface' "$PKTSPEC" attach
expect attach-missing-mode-value 2 "requires an argument|mode" "$PKTSPEC" attach lo --mode
expect attach-bad-mode 2 "unknown mode 'turbo'" "$PKTSPEC" attach --mode turbo lo
expect attach-bad-max-flows 2 'max-flows takes a number' "$PKTSPEC" attach --max-flows lots lo
expect attach-bad-inspect 2 'inspect takes a number' "$PKTSPEC" attach --inspect 9 lo
expect detach-missing-iface 2 'exactly one interface' "$PKTSPEC" detach
expect detach-bad-flag 2 'bogus|unrecognized' "$PKTSPEC" detach --bogus lo
expect status-extra-arg 2 'no arguments' "$PKTSPEC" status eth0
expect flows-bad-proto 2 "unknown protocol 'nosuch'" "$PKTSPEC" flows --proto nosuch
expect flows-missing-proto-value 2 'requires an argument|proto' "$PKTSPEC" flows --proto
expect replay-missing-file-arg 2 'needs a capture file' "$PKTSPEC" replay
expect replay-bad-proto 2 "unknown protocol 'nosuch'" "$PKTSPEC" replay --proto nosuch x.pcap
expect replay-bad-inspect 2 'inspect takes a number from 1 to 4' "$PKTSPEC" replay --inspect 5 x.pcap
expect protocols-extra-arg 2 'no arguments' "$PKTSPEC" protocols tcp

# -- captures replay cannot read ---------------------------------------------
# A small valid capture: three Ethernet/IPv4/TCP frames of an HTTP request on port 80.
/usr/bin/python3 - "$PKS_TMP/good.pcap" "$PKS_TMP/linktype.pcap" <<'PY'
import struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(src, dst, sport, dport, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp
c, s = [198, 18, 0, 1], [198, 18, 0, 2]
frames = [frame(c, s, 40000, 80, 0x02), frame(s, c, 80, 40000, 0x12),
          frame(c, s, 40000, 80, 0x18, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")]
def write(path, linktype):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)
write(sys.argv[1], 1)
write(sys.argv[2], 147)  # LINKTYPE_USER0: nothing replay reads
PY
size=$(stat -c %s "$PKS_TMP/good.pcap")
head -c $((size - 20)) "$PKS_TMP/good.pcap" >"$PKS_TMP/truncated.pcap"
: >"$PKS_TMP/empty.pcap"
head -c 4096 /dev/urandom >"$PKS_TMP/corrupt.pcap"
printf 'not a capture\n' >"$PKS_TMP/text.pcap"

expect replay-good 0 'http +signature +http-request' "$PKTSPEC" replay "$PKS_TMP/good.pcap"
expect replay-json 0 '"l4":"tcp","client":"198.18.0.1","client_port":40000,"server":"198.18.0.2","server_port":80,"proto":"http"' \
	"$PKTSPEC" replay --json "$PKS_TMP/good.pcap"
expect replay-proto-filter 0 '^no flows$' "$PKTSPEC" replay --proto tls "$PKS_TMP/good.pcap"
expect replay-missing-file 1 "cannot read capture .*/missing\.pcap: No such file" \
	"$PKTSPEC" replay "$PKS_TMP/missing.pcap"
expect replay-empty-file 1 'empty\.pcap.*truncated|empty\.pcap.*(too short|empty)' "$PKTSPEC" replay "$PKS_TMP/empty.pcap"
expect replay-corrupt-file 1 'corrupt\.pcap.*(unknown file format|bad dump file format|not a)' \
	"$PKTSPEC" replay "$PKS_TMP/corrupt.pcap"
expect replay-text-file 1 'text\.pcap.*(unknown file format|bad dump file format|truncated)' \
	"$PKTSPEC" replay "$PKS_TMP/text.pcap"
expect replay-unsupported-linktype 1 'linktype\.pcap has link type .*\(147\)' \
	"$PKTSPEC" replay "$PKS_TMP/linktype.pcap"
# A capture cut mid-record fails, but what could be read is still reported.
expect replay-truncated-file 1 'truncated\.pcap is corrupt or truncated after 2 packets' \
	"$PKTSPEC" replay "$PKS_TMP/truncated.pcap"
if grep -q '198.18.0.1:40000' "$PKS_TMP/out"; then
	pks_pass "$T:replay-truncated-keeps-readable-part"
else
	pks_fail "$T:replay-truncated-keeps-readable-part" "no flow printed: $(head -c 200 "$PKS_TMP/out")"
fi

# -- bounded and malformed captures (issue 14) ----------------------------------
# Raw IP (link type 101), pcap and pcapng: record 2 captured 28 bytes of an
# 8-byte packet (caplen > len), which must be refused by number, never turned
# into a wrapped size. good.pcapng: the HTTP frames of good.pcap as pcapng.
/usr/bin/python3 - "$PKS_TMP" <<'PY'
import struct, sys
d = sys.argv[1]
ip = bytes.fromhex("4500001c000100004011" "0000" "c6120001c6120002") + struct.pack("!HHHH", 40000, 53, 8, 0)
def pcap(path, lt, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt))
        for i, (cap, ln, data) in enumerate(recs):
            f.write(struct.pack("<IIII", 1700000000, i, cap, ln) + data)
def blk(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
def pcapng(path, lt, recs):
    out = blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)) + blk(1, struct.pack("<HHI", lt, 0, 0))
    for i, (cap, ln, data) in enumerate(recs):
        out += blk(6, struct.pack("<IIIII", 0, i, 0, cap, ln) + data)
    open(path, "wb").write(out)
bad = [(len(ip), len(ip), ip), (len(ip), 8, ip)]
pcap(d + "/caplen.pcap", 101, bad)
pcapng(d + "/caplen.pcapng", 101, bad)
# good.pcapng: the records of good.pcap (Ethernet) in pcapng
with open(d + "/good.pcap", "rb") as f:
    raw = f.read()[24:]
recs = []
while raw:
    cap, ln = struct.unpack("<II", raw[8:16])
    recs.append((cap, ln, raw[16:16 + cap]))
    raw = raw[16 + cap:]
pcapng(d + "/good.pcapng", 1, recs)
PY
expect replay-caplen-over-len 1 'caplen\.pcap: record 2 is malformed: 28 bytes captured of a 8-byte packet' \
	"$PKTSPEC" replay "$PKS_TMP/caplen.pcap"
if grep -q '198.18.0.1:40000' "$PKS_TMP/out" && ! grep -q '4294' "$PKS_TMP/all"; then
	pks_pass "$T:replay-caplen-over-len-keeps-record-1"
else
	pks_fail "$T:replay-caplen-over-len-keeps-record-1" "$(head -c 300 "$PKS_TMP/all" | tr '\n' ' ')"
fi
expect replay-caplen-over-len-pcapng 1 'caplen\.pcapng: record 2 is malformed: 28 bytes captured of a 8-byte packet' \
	"$PKTSPEC" replay "$PKS_TMP/caplen.pcapng"
# A bad file after a good one: the good one's flows, then exit 1 naming the bad one.
expect replay-good-then-bad 1 'corrupt\.pcap.*(unknown file format|bad dump file format|not a)' \
	"$PKTSPEC" replay "$PKS_TMP/good.pcap" "$PKS_TMP/corrupt.pcap"
if grep -Eq '198.18.0.2:80 +http' "$PKS_TMP/out"; then
	pks_pass "$T:replay-good-then-bad-prints-good"
else
	pks_fail "$T:replay-good-then-bad-prints-good" "good file's flow missing: $(head -c 200 "$PKS_TMP/out")"
fi
expect replay-good-then-malformed 1 'caplen\.pcap: record 2 is malformed' \
	"$PKTSPEC" replay "$PKS_TMP/good.pcap" "$PKS_TMP/caplen.pcap"
if grep -Eq '198.18.0.2:80 +http' "$PKS_TMP/out" && grep -q '198.18.0.2:53' "$PKS_TMP/out"; then
	pks_pass "$T:replay-good-then-malformed-prints-both"
else
	pks_fail "$T:replay-good-then-malformed-prints-both" "$(head -c 300 "$PKS_TMP/out" | tr '\n' ' ')"
fi
# Standard input: pcap and pcapng, from a file and from a pipe; once only.
expect replay-stdin-pcap 0 '198.18.0.2:80 +http' sh -c 'exec "$0" replay - <"$1"' "$PKTSPEC" "$PKS_TMP/good.pcap"
expect replay-stdin-pcapng-pipe 0 '198.18.0.2:80 +http' \
	sh -c 'cat "$1" | "$0" replay -' "$PKTSPEC" "$PKS_TMP/good.pcapng"
expect replay-stdin-corrupt 1 'cannot read capture stdin' sh -c 'exec "$0" replay - <"$1"' "$PKTSPEC" "$PKS_TMP/corrupt.pcap"
expect replay-stdin-twice 2 "'-' \(stdin\) can be given once" "$PKTSPEC" replay - -
expect replay-directory 1 "capture $PKS_TMP is a directory, not a regular file" "$PKTSPEC" replay "$PKS_TMP"
expect replay-char-device 1 'capture /dev/zero is a character device' "$PKTSPEC" replay /dev/zero
# An HTTP server that speaks first (tests/captures/negative/make-server-first.py): the
# HTTP request parser once got (NULL, 0) and called memchr(NULL, ...), which UBSan
# reports under test_cli_asan.sh; expect fails on any sanitizer report.
expect replay-server-first-http 0 '198.18.1.2:80 +http' \
	"$PKTSPEC" replay "$(dirname "$0")/../captures/negative/server-first-http.pcap"

# -- bounded flow tables -------------------------------------------------------
expect replay-max-flows-too-big 2 'max-flows takes a number from 1024 to 16777216' \
	"$PKTSPEC" replay --max-flows 67108864 "$PKS_TMP/good.pcap"
expect replay-max-flows-one-over 2 'max-flows takes a number from 1024 to 16777216' \
	"$PKTSPEC" replay --max-flows 16777217 "$PKS_TMP/good.pcap"
expect attach-max-flows6-too-small 2 'max-flows6 takes a number from 1024 to 16777216' \
	"$PKTSPEC" attach --max-flows6 1000 lo
# Half of MemAvailable bounds the tables: 1 GiB available (a /proc/meminfo bound
# over the real one in a private mount namespace) cannot take 2^24 + 2^22 entries.
printf 'MemTotal:        2097152 kB\nMemFree:         1048576 kB\nMemAvailable:    1048576 kB\n' >"$PKS_TMP/meminfo"
with_meminfo() {
	unshare --mount --propagation private sh -c 'mount --bind "$0" /proc/meminfo && exec "$@"' "$PKS_TMP/meminfo" "$@"
}
expect replay-max-flows-memory 1 \
	'16777216 IPv4 and 4194304 IPv6 entries need 2688 MiB of kernel memory, more than half of the 1024 MiB available' \
	with_meminfo "$PKTSPEC" replay --max-flows 16777216 "$PKS_TMP/good.pcap"
expect replay-max-flows-fits 0 '198.18.0.2:80 +http' \
	with_meminfo "$PKTSPEC" replay --max-flows 1048576 "$PKS_TMP/good.pcap"

# -- bounded text inputs: policy, rules, application lists ---------------------
printf 'ssh mark 1\n\0http mark 2\n' >"$PKS_TMP/nul.conf"
printf '\0ssh mark 1\n' >"$PKS_TMP/nul1.conf"
printf 'ssh mark 1\n' >"$PKS_TMP/ssh.conf"
{ printf 'ssh mark 1\n'; head -c 1100 /dev/zero | tr '\0' ' '; printf 'http mark 2\n'; } >"$PKS_TMP/long.conf"
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '\n' >"$PKS_TMP/big.conf"
head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' '\n' >"$PKS_TMP/limit.conf"
printf 'example.com web\nexample.org\0 web\n' >"$PKS_TMP/nul.apps"
printf 'addr 198.18.5.0/24 proto tls\n\0' >"$PKS_TMP/nul.rules"
mkfifo "$PKS_TMP/fifo"
for cmd in policy rules; do
	expect "$cmd-load-dev-zero" 1 '/dev/zero is a character device, not a regular file' \
		timeout 60 "$PKTSPEC" "$cmd" load /dev/zero
	expect "$cmd-load-stdin-zero" 1 'stdin is larger than 4 MiB' \
		timeout 60 sh -c 'exec "$0" "$1" load - </dev/zero' "$PKTSPEC" "$cmd"
	expect "$cmd-load-fifo" 1 'fifo is a FIFO, not a regular file' timeout 60 "$PKTSPEC" "$cmd" load "$PKS_TMP/fifo"
	expect "$cmd-load-directory" 1 "$PKS_TMP is a directory" "$PKTSPEC" "$cmd" load "$PKS_TMP"
	expect "$cmd-load-too-big" 1 'big\.conf is larger than 4 MiB, the limit for a (policy|rules) file' \
		"$PKTSPEC" "$cmd" load "$PKS_TMP/big.conf"
	expect "$cmd-load-long-line" 1 'long\.conf:2: line longer than 1024 characters' \
		"$PKTSPEC" "$cmd" load "$PKS_TMP/long.conf"
	expect "$cmd-apps-directory" 1 "$PKS_TMP is a directory" "$PKTSPEC" "$cmd" --apps "$PKS_TMP" list
	expect "$cmd-apps-nul" 1 'nul\.apps:2: NUL byte \(an application list must be text\)' \
		"$PKTSPEC" "$cmd" --apps "$PKS_TMP/nul.apps" list
done
expect policy-load-nul 1 'nul\.conf:2: NUL byte \(a policy file must be text\); the policy was not changed' \
	"$PKTSPEC" policy load "$PKS_TMP/nul.conf"
expect policy-load-nul-first 1 'nul1\.conf:1: NUL byte' "$PKTSPEC" policy load "$PKS_TMP/nul1.conf"
expect rules-load-nul 1 'nul\.rules:2: NUL byte \(a rules file must be text\); the rules were not changed' \
	"$PKTSPEC" rules load "$PKS_TMP/nul.rules"
expect replay-apps-directory 1 "$PKS_TMP is a directory" "$PKTSPEC" replay --apps "$PKS_TMP" "$PKS_TMP/good.pcap"
expect replay-apps-nul 1 'nul\.apps:2: NUL byte' "$PKTSPEC" replay --apps "$PKS_TMP/nul.apps" "$PKS_TMP/good.pcap"
# An empty policy listed: no qsort(NULL, 0) (UBSan, under test_cli_asan.sh).
if "$PKTSPEC" policy clear >"$PKS_TMP/out" 2>&1 && [ ! -s "$PKS_TMP/out" ]; then
	pks_pass "$T:policy-clear"
else
	pks_fail "$T:policy-clear" "$(head -c 300 "$PKS_TMP/out")"
fi
expect policy-list-empty 0 '^no policy' "$PKTSPEC" policy list
if "$PKTSPEC" policy list --json >"$PKS_TMP/out" 2>&1 && [ ! -s "$PKS_TMP/out" ]; then
	pks_pass "$T:policy-list-empty-json"
else
	pks_fail "$T:policy-list-empty-json" "$(head -c 300 "$PKS_TMP/out")"
fi
# Exactly 4 MiB (of blank lines) is within the limit.
expect policy-load-limit 0 'loaded 0 rules' "$PKTSPEC" policy load "$PKS_TMP/limit.conf"
expect policy-load-good 0 'loaded 1 rule' "$PKTSPEC" policy load "$PKS_TMP/ssh.conf"
"$PKTSPEC" policy list >"$PKS_TMP/before" 2>&1
# A refused file changes nothing: the rule loaded before stays, alone.
expect policy-load-nul-atomic 1 'NUL byte' "$PKTSPEC" policy load "$PKS_TMP/nul.conf"
expect policy-load-long-atomic 1 'line longer than' "$PKTSPEC" policy load "$PKS_TMP/long.conf"
"$PKTSPEC" policy list >"$PKS_TMP/after" 2>&1
if [ "$(grep -c . "$PKS_TMP/before")" -eq 1 ] && grep -q '^ssh ' "$PKS_TMP/before" &&
	cmp -s "$PKS_TMP/before" "$PKS_TMP/after"; then
	pks_pass "$T:policy-refused-file-changes-nothing"
else
	pks_fail "$T:policy-refused-file-changes-nothing" "before: $(tr '\n' '|' <"$PKS_TMP/before") after: $(tr '\n' '|' <"$PKS_TMP/after")"
fi
rm -rf /sys/fs/bpf/pktspec # the private bpffs of this test (tests/lib/common.sh)

# -- not root ----------------------------------------------------------------
chmod 755 "$PKS_TMP"
chmod 644 "$PKS_TMP/good.pcap"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
for cmd in "attach lo" "detach lo" status flows "replay $PKS_TMP/good.pcap" probe; do
	# shellcheck disable=SC2086
	expect "not-root-${cmd%% *}" 1 "${cmd%% *} needs CAP_BPF.*missing: CAP_BPF" nobody "$PKTSPEC" $cmd
done
expect not-root-protocols 0 'http' nobody "$PKTSPEC" protocols

# -- capabilities, not root: a service user with them works ----------------------
caps() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$1" --ambient-caps="$1" "${@:2}"; }
expect caps-replay 0 '198.18.0.2:80 +http' caps +bpf,+perfmon,+net_admin "$PKTSPEC" replay "$PKS_TMP/good.pcap"
expect caps-probe 0 'programs: [0-9]+ loaded, 0 refused' caps +bpf,+perfmon,+net_admin "$PKTSPEC" probe
# Without CAP_PERFMON the verifier refuses the parsers' pointer arithmetic: say so first.
expect caps-no-perfmon 1 'replay needs CAP_BPF and CAP_PERFMON.*missing: CAP_PERFMON' \
	caps +bpf,+net_admin "$PKTSPEC" replay "$PKS_TMP/good.pcap"
expect caps-no-net-admin 1 'missing: CAP_NET_ADMIN' caps +bpf,+perfmon "$PKTSPEC" replay "$PKS_TMP/good.pcap"

# -- no BPF permission: root in a user namespace has no CAP_BPF in the initial one --
nobpf() { unshare --user --map-root-user "$@"; }
expect no-bpf-replay 1 'cannot load the classifier: permission denied' nobpf "$PKTSPEC" replay "$PKS_TMP/good.pcap"

# -- attach and detach ---------------------------------------------------------
pks_topology
IF=$PKS_CLI_IF
in_cli() { pks_in "$PKS_CLI" "$@"; }
xdp_on() { in_cli ip -d link show dev "$1" | grep -q 'prog/xdp'; }
pins() { find /sys/fs/bpf/pktspec 2>/dev/null | sort | tr '\n' ' '; }

expect no-such-interface 1 'no such interface: nosuch0' in_cli "$PKTSPEC" attach nosuch0
expect detach-no-such-interface 1 'no such interface: nosuch0' in_cli "$PKTSPEC" detach nosuch0
expect detach-not-attached 1 "not attached to $IF" in_cli "$PKTSPEC" detach "$IF"

# /sys/fs/bpf is a tmpfs, not a BPF filesystem: attach refuses before loading anything.
expect not-bpffs 1 'not a BPF filesystem' \
	unshare --mount --propagation private sh -c \
	'mount -t tmpfs tmpfs /sys/fs/bpf && exec nsenter --net="/run/netns/$1" "$2" attach "$3"' \
	sh "$PKS_CLI" "$PKTSPEC" "$IF"
if xdp_on "$IF" || [ -n "$(pins)" ]; then
	pks_fail "$T:not-bpffs-leaves-nothing" "xdp on $IF or pins left: $(pins)"
else
	pks_pass "$T:not-bpffs-leaves-nothing"
fi

expect no-bpf-attach 1 'cannot load the classifier: permission denied' in_cli unshare --user --map-root-user "$PKTSPEC" attach "$IF"
if xdp_on "$IF" || [ -n "$(pins)" ]; then
	pks_fail "$T:no-bpf-leaves-nothing" "xdp on $IF or pins left: $(pins)"
else
	pks_pass "$T:no-bpf-leaves-nothing"
fi

# Native XDP on lo is refused by the kernel after the object was loaded and its
# maps pinned: the failed attempt must take its pins away again.
expect attach-fails-on-lo 1 'cannot attach to lo in native mode.*--mode generic' in_cli "$PKTSPEC" attach lo
if xdp_on lo || [ -n "$(pins)" ]; then
	pks_fail "$T:failed-attach-leaves-nothing" "xdp on lo or pins left: $(pins)"
else
	pks_pass "$T:failed-attach-leaves-nothing"
fi

# Another tool's XDP program on the interface: a clear error, that program untouched.
cat >"$PKS_TMP/other.bpf.c" <<'C'
// SPDX-License-Identifier: MIT OR Apache-2.0
/* No headers: the host's <linux/bpf.h> needs <asm/types.h> from a multiarch path. */
__attribute__((section("xdp"), used)) int other(void *ctx) { return 2; /* XDP_PASS */ }
char LICENSE[] __attribute__((section("license"), used)) = "Dual MIT/GPL";
C
if clang -O2 -g -target bpf -c "$PKS_TMP/other.bpf.c" -o "$PKS_TMP/other.bpf.o" 2>"$PKS_TMP/clang.err" &&
	in_cli ip link set dev "$IF" xdpdrv obj "$PKS_TMP/other.bpf.o" sec xdp 2>"$PKS_TMP/ip.err"; then
	expect attach-over-other-tool 1 "$IF already has an XDP program attached by another tool" \
		in_cli "$PKTSPEC" attach "$IF"
	if in_cli ip -d link show dev "$IF" | grep -q 'name other' && [ -z "$(pins)" ]; then
		pks_pass "$T:attach-over-other-tool-leaves-it"
	else
		pks_fail "$T:attach-over-other-tool-leaves-it" "$(in_cli ip -d link show dev "$IF" | grep xdp) pins: $(pins)"
	fi
	in_cli ip link set dev "$IF" xdpdrv off
else
	pks_fail "$T:attach-over-other-tool" "cannot set up the other program: $(cat "$PKS_TMP/clang.err" "$PKS_TMP/ip.err" 2>/dev/null)"
fi

# Attach, attach again (an error, still one attachment), detach.
expect attach 0 "attached to $IF \(native mode\)" in_cli "$PKTSPEC" attach "$IF"
link_pins() { find /sys/fs/bpf/pktspec/links -name 'xdp_*' 2>/dev/null | wc -l; }
expect attach-twice 1 "$IF is already attached \(native mode\)" in_cli "$PKTSPEC" attach "$IF"
expect attach-twice-generic 1 "$IF is already attached" in_cli "$PKTSPEC" attach --mode generic "$IF"
n_links=$(bpftool link show 2>/dev/null | grep -c 'xdp') # links of every netns
if [ "$(link_pins)" -eq 1 ] && xdp_on "$IF" &&
	[ "$(in_cli "$PKTSPEC" status --json | jq '.attached | length')" -eq 1 ]; then
	pks_pass "$T:attach-twice-one-attachment"
else
	pks_fail "$T:attach-twice-one-attachment" "link pins $(link_pins), bpftool xdp links $n_links"
fi
expect status 0 "$IF +[0-9]+ +native" in_cli "$PKTSPEC" status
expect status-reasons 0 'new_flow' in_cli "$PKTSPEC" status
for m in pks_flows pks_stats; do
	[ -e "/sys/fs/bpf/pktspec/$m" ] || pks_fail "$T:attach-pins-$m" "missing"
done
expect flows-empty-table 0 'no flows|^$' in_cli "$PKTSPEC" flows
expect detach 0 "detached from $IF" in_cli "$PKTSPEC" detach "$IF"
if xdp_on "$IF" || [ -n "$(pins)" ]; then
	pks_fail "$T:detach-removes-link-and-maps" "xdp on $IF or pins left: $(pins)"
else
	pks_pass "$T:detach-removes-link-and-maps"
fi
expect detach-again 1 "not attached to $IF" in_cli "$PKTSPEC" detach "$IF"
expect flows-without-table 1 'no flow table at /sys/fs/bpf/pktspec/pks_flows' in_cli "$PKTSPEC" flows

# Both veth ends share one flow table; maps stay until the last detach, or with --keep-maps.
expect attach-client-end 0 "attached to $PKS_CLI_IF" in_cli "$PKTSPEC" attach "$PKS_CLI_IF"
expect attach-server-end 0 "attached to $PKS_SRV_IF" pks_in "$PKS_SRV" "$PKTSPEC" attach --mode generic "$PKS_SRV_IF"
if [ "$(link_pins)" -eq 2 ] && [ "$(in_cli "$PKTSPEC" status --json | jq '[.attached[] | .mode] | sort | join(",")')" = '"generic,native"' ]; then
	pks_pass "$T:two-attachments-one-table"
else
	pks_fail "$T:two-attachments-one-table" "link pins $(link_pins): $(pins)"
fi
expect detach-client-end 0 "detached from $PKS_CLI_IF" in_cli "$PKTSPEC" detach "$PKS_CLI_IF"
if [ -e /sys/fs/bpf/pktspec/pks_flows ] && [ "$(link_pins)" -eq 1 ] && ! xdp_on "$PKS_CLI_IF"; then
	pks_pass "$T:maps-stay-while-attached-elsewhere"
else
	pks_fail "$T:maps-stay-while-attached-elsewhere" "pins: $(pins)"
fi
expect detach-keep-maps 0 "detached from $PKS_SRV_IF" pks_in "$PKS_SRV" "$PKTSPEC" detach --keep-maps "$PKS_SRV_IF"
if [ -e /sys/fs/bpf/pktspec/pks_flows ] && [ -e /sys/fs/bpf/pktspec/pks_stats ] && [ "$(link_pins)" -eq 0 ]; then
	pks_pass "$T:keep-maps-keeps-maps"
else
	pks_fail "$T:keep-maps-keeps-maps" "pins: $(pins)"
fi
# A failed attach keeps maps that were there before it.
expect attach-fails-keeps-kept-maps 1 'cannot attach to lo' in_cli "$PKTSPEC" attach lo
[ -e /sys/fs/bpf/pktspec/pks_flows ] && pks_pass "$T:failed-attach-keeps-kept-maps" ||
	pks_fail "$T:failed-attach-keeps-kept-maps" "pins: $(pins)"
expect reattach-kept-maps 0 "attached to $IF" in_cli "$PKTSPEC" attach "$IF"
expect detach-last 0 "detached from $IF" in_cli "$PKTSPEC" detach "$IF"
if [ -z "$(pins)" ] && ! xdp_on "$IF"; then
	pks_pass "$T:last-detach-removes-everything"
else
	pks_fail "$T:last-detach-removes-everything" "pins: $(pins)"
fi

# An interface deleted while attached: its link pin is pruned, maps go with the next detach.
expect attach-doomed 0 "attached to $PKS_SRV_IF" pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF"
expect attach-survivor 0 "attached to $IF" in_cli "$PKTSPEC" attach "$IF"
pks_in "$PKS_SRV" ip link del "$PKS_SRV_IF" # takes its veth peer ($IF) with it
expect status-after-delete 0 '\(gone\)|not attached' in_cli "$PKTSPEC" status
expect attach-after-delete 1 "no such interface: $IF" in_cli "$PKTSPEC" attach "$IF"
pks_done
