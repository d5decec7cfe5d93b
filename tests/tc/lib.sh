# SPDX-License-Identifier: MIT OR Apache-2.0
# Helpers for the tc policy tests (tests/tc/test_*.sh); source after
# tests/lib/common.sh. Real servers in the server namespace: sshd on a spare
# port (its verdict comes from the SSH banner, not the port) and a static
# HTTP server on port 80.

PKS_SSH_PORT=2222
PKS_HTTP_PORT=80

# pks_tc_attach_both [TCDIR]: the classifier on both veth ends (so it sees both
# directions), the tc program on the server end (TCDIR: ingress, egress, both).
pks_tc_attach_both() {
	local dir=${1:-both}
	pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode generic --tc "$dir" >/dev/null &&
		pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" --mode generic >/dev/null
}

# pks_start_sshd: sshd in the server namespace with a temporary host key and a
# temporary client key; sets PKS_SSH_KEY.
pks_start_sshd() {
	local d=$PKS_TMP/ssh
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_key" || return 1
	cp "$d/client_key.pub" "$d/authorized_keys"
	cat >"$d/sshd_config" <<CFG
Port $PKS_SSH_PORT
ListenAddress 198.18.0.2
ListenAddress 2001:db8::2
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
CFG
	PKS_SSH_KEY=$d/client_key
	pks_bg "$PKS_SRV" "$d/sshd.log" /usr/sbin/sshd -D -e -f "$d/sshd_config"
	pks_wait_tcp "$PKS_SRV" "$PKS_SSH_PORT"
}

# pks_ssh HOST COMMAND...: one ssh session from the client namespace.
pks_ssh() {
	local host=$1
	shift
	pks_in "$PKS_CLI" timeout 30 ssh -F /dev/null -i "$PKS_SSH_KEY" -p "$PKS_SSH_PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		-o ConnectTimeout=10 -o ServerAliveInterval=2 -o ServerAliveCountMax=3 \
		-o LogLevel=ERROR "root@$host" "$@"
}

# pks_start_http: a static HTTP server with a 300000-byte file at /blob.
pks_start_http() {
	mkdir -p "$PKS_TMP/www"
	head -c 300000 /dev/urandom >"$PKS_TMP/www/blob"
	pks_bg "$PKS_SRV" "$PKS_TMP/http.log" /usr/bin/python3 -m http.server "$PKS_HTTP_PORT" \
		--bind :: --directory "$PKS_TMP/www"
	pks_wait_tcp "$PKS_SRV" "$PKS_HTTP_PORT"
}

# pks_curl URL: fetch from the client namespace; prints the byte count received.
pks_curl() {
	pks_in "$PKS_CLI" curl -s -g --max-time 30 -o /dev/null -w '%{size_download}' "$1"
}

# pks_class_bytes DEV CLASSID: bytes sent so far by one class of the server's qdisc.
# (tc of Debian 12 prints class statistics as text only, even with -j.)
pks_class_bytes() {
	pks_in "$PKS_SRV" tc -s class show dev "$1" |
		awk -v c="$2" '$1 == "class" { hit = ($3 == c) } hit && $1 == "Sent" { print $2; exit }'
}

# pks_htb DEV CLASS...: an HTB root qdisc 1: on DEV in the server namespace with
# these minor class numbers (hex, as tc reads them); the last is the default.
pks_htb() {
	local dev=$1 c
	shift
	pks_in "$PKS_SRV" tc qdisc add dev "$dev" root handle 1: htb default "${!#}" || return 1
	for c in "$@"; do
		# quantum: silences the warning a 1gbit rate gives with the default r2q.
		pks_in "$PKS_SRV" tc class add dev "$dev" parent 1: classid "1:$c" htb rate 1gbit \
			quantum 60000 || return 1
	done
}

# pks_user_filter NS DEV HOOK PRIO: a filter of "the user's own" (user_mark.bpf.c,
# sets mark bit 0x1000, then lets the next filter run) on DEV's clsact HOOK.
pks_user_filter() {
	local ns=$1 dev=$2 hook=$3 prio=$4 obj=$PKS_TMP/user_mark.bpf.o
	[ -f "$obj" ] || clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c "$PKS_ROOT/tests/tc/user_mark.bpf.c" -o "$obj" || return 1
	pks_in "$ns" tc filter add dev "$dev" "$hook" prio "$prio" protocol all bpf da obj "$obj" sec tc
}

