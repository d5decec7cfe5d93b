#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The kernel matrix: boots Debian's own kernel packages in qemu and runs
# pktspec inside each (one boot per kernel, guests in parallel):
#
#   - probe: every BPF program loads, with the verifier's processed instructions
#     (`pktspec probe --json`); a program the kernel rejects is a FAIL with the
#     verifier's last lines;
#   - replay: a handful of the project's captures give, flow by flow, the same
#     JSON as the same replay on the host;
#   - live: native XDP on a veth pair between two namespaces, busybox httpd and
#     wget over IPv4 and IPv6, dnsmasq and nslookup; status, flows, detach,
#     nothing left pinned;
#   - tc: `attach --tc --egress` with a policy (HTTP dropped, DNS answers
#     rewritten to DSCP EF and counted by a u32 filter on the other end), detach;
#   - testrun: pktspec-bench's cost per packet (make bench's test run) on 100
#     generated flows; it must run and keep every flow, and its ratios go to
#     kernels.json (under TCG they are the emulator's, so nothing is judged on
#     them; `make bench` shows them per kernel).
#
# The running kernel's own probe is reported too. .output/kernels.json gets
# every kernel's figures per program and each check's result.
#
# Environment: PKTSPEC_VM_KERNELS (default "5.10 6.1 6.12": series or exact
# linux-image-* packages, see tests/vm/kernels.sh), PKTSPEC_KERNEL_CACHE
# (default /var/cache/pktspec/kernels), PKTSPEC_VM_JOBS (guests at once,
# default: the number of CPUs), PKTSPEC_VM_TIMEOUT (seconds per guest, default
# 420), PKTSPEC_VM_MEM (MiB per guest, default 1024).
#
# Three guests, two at a time, each at most 420 s, plus the first download:
# test-timeout: 1500
. "$(dirname "$0")/../lib/common.sh"

VM=$PKS_ROOT/tests/vm
OUT=$PKS_ROOT/.output
BENCH=${PKTSPEC_BENCH:-$OUT/pktspec-bench}
KERNELS=${PKTSPEC_VM_KERNELS:-5.10 6.1 6.12}
JOBS=${PKTSPEC_VM_JOBS:-$(nproc)}
LIMIT=${PKTSPEC_VM_TIMEOUT:-420}
MEM=${PKTSPEC_VM_MEM:-1024}
HOST=$(uname -r)

# Varied on purpose: TCP and UDP, IPv4 and IPv6, context rules (FTP data,
# DNS names, SNI), and the signatures whose loops older verifiers treat
# differently (DNP3's CRC, SMTP's text search, CoAP's options, memcached,
# the mid-session stage's MQTT Remaining Length and WebSocket frames).
CAPTURES=(demo.pcap ctx/ftp.pcap names/https-dns.pcap names/quic-sni.pcap udp/sip.pcap
	tcp_b/dnp3.pcap tcp_a/smtp.pcap udp/coap.pcap tcp_b/memcached.pcap negative/random-ports-udp.pcap
	midstream/mqtt_mid.pcap midstream/websocket_mid.pcap)

summaries=()

# The host: its own probe and test run, in the guest's report format so one
# judge reads both.
if [ ! -x "$BENCH" ]; then
	pks_fail setup "$BENCH is missing (make $OUT/pktspec-bench builds it)"
	pks_done
fi
host_step() {
	local tag=$1 rc
	shift
	"$@" >"$PKS_TMP/host.out" 2>"$PKS_TMP/host.err"
	rc=$?
	sed "s/^/@pks $tag-out /" "$PKS_TMP/host.out"
	tail -n 40 "$PKS_TMP/host.err" | sed "s/^/@pks $tag-err /"
	echo "@pks $tag-rc $rc"
}
{
	host_step probe "$PKTSPEC" probe --json
	host_step testrun-gen "$BENCH" gen --flows 100 "$PKS_TMP/flows.pcap"
	host_step testrun "$BENCH" testrun --rounds 5 --sample 32 --repeat 200 "$PKS_TMP/flows.pcap"
} >"$PKS_TMP/host.results"
/usr/bin/python3 "$VM/judge.py" kernel --label "$HOST" --results "$PKS_TMP/host.results" \
	--summary "$PKS_TMP/host.summary" --meta "where=host" || PKS_FAILED=1
summaries+=("$PKS_TMP/host.summary")

# What the guests need, checked once.
missing=""
for tool in qemu-system-x86_64 busybox cpio modinfo dnsmasq bpftool xz zstd; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	pks_fail setup "missing:$missing (tools/deps.sh vm installs them)"
	pks_done
fi

# The reference: the same captures replayed on the host, all at once (as in
# the guest) and each alone (to know which capture a flow came from).
paths=()
refs=()
for c in "${CAPTURES[@]}"; do
	paths+=("$PKS_ROOT/tests/captures/$c")
	f="$PKS_TMP/ref-${c//\//_}.json"
	if ! "$PKTSPEC" replay --json "$PKS_ROOT/tests/captures/$c" >"$f" 2>"$PKS_TMP/ref.err"; then
		pks_fail "host replay $c" "$(tail -n 2 "$PKS_TMP/ref.err" | tr '\n' ' ')"
	fi
	refs+=(--capture "$c=$f")
done
"$PKTSPEC" replay --json "${paths[@]}" >"$PKS_TMP/ref-all.json" 2>"$PKS_TMP/ref.err" ||
	pks_fail "host replay" "$(tail -n 2 "$PKS_TMP/ref.err" | tr '\n' ' ')"

# The kernels, from the cache or the Debian mirror.
# shellcheck disable=SC2086 # a list of kernels
if ! "$VM/kernels.sh" $KERNELS >"$PKS_TMP/kernels.list" 2>"$PKS_TMP/kernels.err"; then
	pks_fail fetch "$(grep -v '^kernels.sh: \(refreshing\|downloading\)' "$PKS_TMP/kernels.err" | tail -n 3 | tr '\n' ' ')"
	/usr/bin/python3 "$VM/judge.py" merge "$OUT/kernels.json" "${summaries[@]}"
	pks_done
fi

if ! "$VM/initramfs.sh" base "$PKS_TMP/base.cpio.gz" "$PKTSPEC" "$BENCH" "${paths[@]}" 2>"$PKS_TMP/initramfs.err"; then
	pks_fail initramfs "$(tail -n 3 "$PKS_TMP/initramfs.err" | tr '\n' ' ')"
	pks_done
fi

# TCG unless PKTSPEC_VM_ACCEL=kvm: a /dev/kvm is no promise that guests run.
# On these machines (nested KVM) qemu aborts with "-cpu host" ("failed to
# set MSR 0x10a", IA32_ARCH_CAPABILITIES), and without that MSR every guest
# stops at its first instructions with a KVM "emulation failure", to be
# killed at the time limit: all 96 guest tests failed, where TCG passes.
if [ "${PKTSPEC_VM_ACCEL:-tcg}" = kvm ]; then
	ACCEL=(-accel kvm -cpu "${PKTSPEC_VM_CPU:-host}")
else
	ACCEL=(-accel tcg -cpu max)
fi

# boot RELEASE DIR: one guest in the background; its console and its results
# land in $PKS_TMP/RELEASE.{console,results}.
boot() {
	local rel=$1 dir=$2 d=$PKS_TMP/$1
	"$VM/initramfs.sh" modules "$d.modules.cpio.gz" "$dir" "$rel" 2>"$d.console" || return 1
	cat "$PKS_TMP/base.cpio.gz" "$d.modules.cpio.gz" >"$d.initrd"
	timeout --kill-after=10 "$LIMIT" qemu-system-x86_64 -nodefaults -nographic -no-reboot \
		-machine q35 "${ACCEL[@]}" -smp 1 -m "$MEM" \
		-kernel "$dir/boot/vmlinuz-$rel" -initrd "$d.initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4" \
		-serial "file:$d.console" -serial "file:$d.results" -display none -monitor none \
		>"$d.qemu" 2>&1 &
	PKS_PIDS+=($!)
	echo $! >"$d.pid"
	date +%s >"$d.start"
}

# reap PID:RELEASE: wait for a guest and keep how qemu ended.
reap() {
	local rc=0
	wait "${1%%:*}" || rc=$?
	echo "$rc" >"$PKS_TMP/${1#*:}.rc"
	echo $(($(date +%s) - $(cat "$PKS_TMP/${1#*:}.start"))) >"$PKS_TMP/${1#*:}.seconds"
}

start=$(date +%s)
running=()
while read -r series rel dir pkg version; do
	# At most $JOBS guests at once: wait for the oldest before starting another.
	if [ ${#running[@]} -ge "$JOBS" ]; then
		reap "${running[0]}"
		running=("${running[@]:1}")
	fi
	if boot "$rel" "$dir"; then
		running+=("$(cat "$PKS_TMP/$rel.pid"):$rel")
	fi
	echo "$series $rel $pkg $version" >>"$PKS_TMP/booted"
done <"$PKS_TMP/kernels.list"
for r in "${running[@]}"; do
	reap "$r"
done
echo "# kernel matrix: $(wc -l <"$PKS_TMP/booted") guests in $(($(date +%s) - start)) s (${ACCEL[1]}, $JOBS at once)"

while read -r series rel pkg version; do
	d=$PKS_TMP/$rel
	/usr/bin/python3 "$VM/judge.py" kernel --guest --label "$rel" --results "$d.results" --console "$d.console" \
		--qemu-log "$d.qemu" --qemu-rc "$(cat "$d.rc" 2>/dev/null || echo none)" --timeout "$LIMIT" \
		--replay-ref "$PKS_TMP/ref-all.json" "${refs[@]}" --summary "$d.summary" \
		--meta "where=qemu" --meta "accel=${ACCEL[1]}" --meta "seconds=$(cat "$d.seconds" 2>/dev/null)" --meta "series=$series" --meta "package=$pkg" --meta "version=$version" || PKS_FAILED=1
	summaries+=("$d.summary")
done <"$PKS_TMP/booted"

/usr/bin/python3 "$VM/judge.py" merge "$OUT/kernels.json" "${summaries[@]}"
pks_done
