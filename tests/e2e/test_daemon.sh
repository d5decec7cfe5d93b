#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# One daemon per pinned maps, and restarts after a crash.
# Proves: `pktspec status` (text and JSON) names the daemon holding the lock
# (PID, command line), and none once it is killed; a second `pktspec run`
# (with or without -i) exits 1 naming the first's PID and command, attaches
# nothing and detaches nothing, and the first keeps printing events; after `kill -9` of the daemon, `run -i IFACE` on the
# same interface adopts the attachment (same program ID) and prints the events
# of new traffic; another --mode, another tool's XDP program are refused in one
# line with nothing left behind; a start that fails later leaves an adopted
# interface attached, --detach-on-exit detaches it; `make install` puts the
# systemd unit under PREFIX (/lib/systemd/system for PREFIX=/usr, DESTDIR
# respected), and the installed unit's ExecStart line, run as written with the
# unit's Environment= and a drop-in's -i, is killed with SIGKILL and started
# again as Restart=on-failure would: the new process adopts and serves.
# systemd is not PID 1 on the test machines, so systemd itself does not run
# the unit here (systemd-analyze verify checks the unit file when installed).
. "$(dirname "$0")/../lib/common.sh"

pks_topology
IF=$PKS_CLI_IF
in_cli() { pks_in "$PKS_CLI" "$@"; }
prog_id() { in_cli "$PKTSPEC" status --json | jq -r --arg i "$IF" '.attached[] | select(.ifname == $i) | .prog_id'; }
# wait_for FILE PATTERN: a line (pks_wait_for, 60 s).
wait_for() { pks_wait_for 60 grep -q "$2" "$1"; }
# daemon NAME ARGS...: a `pktspec run` in the client's namespace; sets PID.
daemon() {
	local name=$1
	shift
	nsenter --net="/run/netns/$PKS_CLI" "$PKTSPEC" run "$@" >"$PKS_TMP/$name.out" 2>"$PKS_TMP/$name.err" &
	PID=$!
	PKS_PIDS+=("$PID")
}
# query: one DNS query from the server's side to 198.18.0.1:53, a new flow each time (new source port).
query() {
	pks_in "$PKS_SRV" bash -c 'exec 3<>/dev/udp/198.18.0.1/53; printf "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01" >&3' 2>/dev/null
}
# dns_events FILE: how many flow events of DNS flows to port 53 the daemon printed.
dns_events() {
	grep '"event":"flow"' "$1" 2>/dev/null | jq -c 'select(.server_port == 53 and .proto == "dns")' 2>/dev/null | wc -l
}
# events_grow FILE BEFORE: a new DNS flow event (a query each try, 60 s).
query_seen() { [ "$(dns_events "$1")" -gt "$2" ] && return 0; query; return 1; }
events_grow() { pks_wait_for 60 query_seen "$1" "$2"; }
# stop PID: SIGTERM, then its exit status once it is gone (60 s).
stop() { kill -TERM "$1" 2>/dev/null; pks_wait_for 60 pks_gone "$1"; wait "$1"; }

# --- Two daemons.
daemon first -i "$IF" --mode generic --json
FIRST=$PID
wait_for "$PKS_TMP/first.err" "running the context rules" && pks_pass daemon_first_starts ||
	{ pks_fail daemon_first_starts "$(cat "$PKS_TMP/first.err")"; pks_done; }
id_before=$(prog_id)
# status names the daemon holding the lock: PID and command line, text and JSON.
status_daemon() { in_cli "$PKTSPEC" status --json | jq -c .daemon; }
in_cli "$PKTSPEC" status >"$PKS_TMP/status.txt" 2>&1
grep -q "^daemon: pktspec run, PID $FIRST (.*pktspec run -i $IF --mode generic --json)$" "$PKS_TMP/status.txt" &&
	[ "$(status_daemon | jq -r .pid)" = "$FIRST" ] && status_daemon | jq -e '.cmdline | test("pktspec run -i ")' >/dev/null &&
	pks_pass status_names_daemon || pks_fail status_names_daemon "$(grep daemon "$PKS_TMP/status.txt"); json $(status_daemon)"

in_cli timeout 60 "$PKTSPEC" run --quiet >"$PKS_TMP/second.out" 2>"$PKS_TMP/second.err"
rc=$?
[ $rc -eq 1 ] && grep -q "already serves /sys/fs/bpf/pktspec: PID $FIRST (.*pktspec run -i $IF" "$PKS_TMP/second.err" &&
	[ "$(wc -l <"$PKS_TMP/second.err")" -eq 1 ] && pks_pass second_run_names_first ||
	pks_fail second_run_names_first "rc $rc: $(cat "$PKS_TMP/second.err")"

in_cli timeout 60 "$PKTSPEC" run -i "$IF" --mode generic --detach-on-exit >/dev/null 2>"$PKS_TMP/third.err"
rc=$?
[ $rc -eq 1 ] && grep -q "PID $FIRST" "$PKS_TMP/third.err" && [ "$(prog_id)" = "$id_before" ] &&
	pks_pass second_run_i_changes_nothing ||
	pks_fail second_run_i_changes_nothing "rc $rc, prog $(prog_id) was $id_before: $(cat "$PKS_TMP/third.err")"

n=$(dns_events "$PKS_TMP/first.out")
kill -0 "$FIRST" 2>/dev/null && events_grow "$PKS_TMP/first.out" "$n" && pks_pass first_keeps_working ||
	pks_fail first_keeps_working "$(tail -n 3 "$PKS_TMP/first.err")"

# --- kill -9, then run -i on the same interface again.
{ kill -9 "$FIRST"; wait "$FIRST"; } 2>/dev/null
[ -n "$(in_cli "$PKTSPEC" status | grep "$IF")" ] && pks_pass kill9_leaves_attachment ||
	pks_fail kill9_leaves_attachment "$(in_cli "$PKTSPEC" status | head -3)"
# The lock died with the process: no daemon.
in_cli "$PKTSPEC" status | grep -q "^daemon: none (no pktspec run serves /sys/fs/bpf/pktspec)$" &&
	[ "$(status_daemon)" = null ] && pks_pass status_no_daemon_after_kill9 ||
	pks_fail status_no_daemon_after_kill9 "$(in_cli "$PKTSPEC" status | grep daemon); json $(status_daemon)"
daemon again -i "$IF" --mode generic --json
AGAIN=$PID
wait_for "$PKS_TMP/again.err" "running the context rules" && grep -q "$IF already carries this classifier" "$PKS_TMP/again.err" &&
	[ "$(prog_id)" = "$id_before" ] && pks_pass restart_adopts_attachment ||
	pks_fail restart_adopts_attachment "prog $(prog_id) was $id_before: $(cat "$PKS_TMP/again.err")"
events_grow "$PKS_TMP/again.out" 0 && pks_pass adopted_daemon_classifies_new_traffic ||
	pks_fail adopted_daemon_classifies_new_traffic "$(head -c 300 "$PKS_TMP/again.out") $(tail -n 2 "$PKS_TMP/again.err")"
in_cli timeout 60 "$PKTSPEC" run >/dev/null 2>"$PKS_TMP/fourth.err"
[ $? -eq 1 ] && grep -q "PID $AGAIN " "$PKS_TMP/fourth.err" && [ "$(status_daemon | jq -r .pid)" = "$AGAIN" ] &&
	pks_pass lock_follows_new_daemon || pks_fail lock_follows_new_daemon "$(cat "$PKS_TMP/fourth.err"); status: $(status_daemon)"
stop "$AGAIN"
[ $? -eq 0 ] && [ "$(prog_id)" = "$id_before" ] && pks_pass stop_keeps_attachment ||
	pks_fail stop_keeps_attachment "$(tail -n 2 "$PKS_TMP/again.err")"

# --- What is not adopted: another mode; and a start failing after the adoption detaches nothing.
in_cli timeout 60 "$PKTSPEC" run -i "$IF" --mode native >/dev/null 2>"$PKS_TMP/mode.err"
rc=$?
[ $rc -eq 1 ] && grep -q "$IF is attached in generic mode, not native" "$PKS_TMP/mode.err" && [ "$(prog_id)" = "$id_before" ] &&
	pks_pass other_mode_refused || pks_fail other_mode_refused "rc $rc: $(cat "$PKS_TMP/mode.err")"
in_cli timeout 60 "$PKTSPEC" run -i "$IF" -i pksnosuch0 >/dev/null 2>"$PKS_TMP/half.err"
rc=$?
[ $rc -eq 1 ] && grep -q "no such interface: pksnosuch0" "$PKS_TMP/half.err" && [ "$(prog_id)" = "$id_before" ] &&
	pks_pass failed_start_keeps_adopted || pks_fail failed_start_keeps_adopted "rc $rc, prog $(prog_id): $(cat "$PKS_TMP/half.err")"
daemon last -i "$IF" --detach-on-exit --quiet
wait_for "$PKS_TMP/last.err" "running the context rules"
stop "$PID"
rc=$?
[ $rc -eq 0 ] && in_cli "$PKTSPEC" status | grep -q "not attached" && [ ! -e /sys/fs/bpf/pktspec/links ] &&
	pks_pass detach_on_exit_detaches_adopted || pks_fail detach_on_exit_detaches_adopted "rc $rc: $(cat "$PKS_TMP/last.err")"

# --- Another tool's XDP program: named, untouched, nothing pinned.
cat >"$PKS_TMP/other.bpf.c" <<'C'
// SPDX-License-Identifier: MIT OR Apache-2.0
__attribute__((section("xdp"), used)) int other(void *ctx) { return 2; /* XDP_PASS */ }
char LICENSE[] __attribute__((section("license"), used)) = "Dual MIT/GPL";
C
if clang -O2 -g -target bpf -c "$PKS_TMP/other.bpf.c" -o "$PKS_TMP/other.bpf.o" 2>"$PKS_TMP/clang.err" &&
	in_cli ip link set dev "$IF" xdpgeneric obj "$PKS_TMP/other.bpf.o" sec xdp 2>"$PKS_TMP/ip.err"; then
	in_cli timeout 60 "$PKTSPEC" run -i "$IF" >/dev/null 2>"$PKS_TMP/other.err"
	rc=$?
	[ $rc -eq 1 ] && grep -q "$IF already has an XDP program attached by another tool (program [0-9]* 'other')" "$PKS_TMP/other.err" &&
		[ "$(wc -l <"$PKS_TMP/other.err")" -eq 1 ] && in_cli ip -d link show dev "$IF" 2>/dev/null | grep -q 'name other' &&
		[ ! -e /sys/fs/bpf/pktspec ] && pks_pass other_xdp_program_refused ||
		pks_fail other_xdp_program_refused "rc $rc: $(cat "$PKS_TMP/other.err"); $(ls /sys/fs/bpf/pktspec 2>&1)"
	in_cli ip link set dev "$IF" xdpgeneric off
else
	pks_fail other_xdp_program_refused "cannot set up the other program: $(cat "$PKS_TMP/clang.err" "$PKS_TMP/ip.err" 2>/dev/null)"
fi

# --- The shipped unit, installed.
root=$PKS_TMP/root
unit_ok=1
for pair in "/usr /lib/systemd/system" "/usr/local /usr/local/lib/systemd/system" "/opt/pks /opt/pks/lib/systemd/system"; do
	set -- $pair
	rm -rf "$root"
	make -s -C "$PKS_ROOT" install DESTDIR="$root" PREFIX="$1" >"$PKS_TMP/make.log" 2>&1 &&
		grep -qx "ExecStart=$1/sbin/pktspec run \$PKTSPEC_RUN_ARGS" "$root$2/pktspec.service" &&
		[ -x "$root$1/sbin/pktspec" ] && [ -z "$(find "$root" -path "$root$2" -prune -o -name pktspec.service -print)" ] ||
		{ unit_ok=; pks_fail install_unit_under_prefix "PREFIX=$1: $(tail -n 3 "$PKS_TMP/make.log") $(find "$root" -name pktspec.service)"; }
done
[ -n "$unit_ok" ] && pks_pass install_unit_under_prefix
rm -rf "$root"
make -s -C "$PKS_ROOT" install DESTDIR="$root" >"$PKS_TMP/make.log" 2>&1
unit=$root/usr/local/lib/systemd/system/pktspec.service
# The ExecStart path exists only in this test's mount namespace.
mount -t tmpfs tmpfs /usr/local/sbin && cp "$root/usr/local/sbin/pktspec" /usr/local/sbin/pktspec ||
	{ pks_fail unit_setup "cannot put the binary at /usr/local/sbin"; pks_done; }
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no "$unit" >"$PKS_TMP/verify.out" 2>&1 && pks_pass unit_verifies ||
		pks_fail unit_verifies "$(tail -n 3 "$PKS_TMP/verify.out")"
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
restart=$(sed -n 's/^Restart=//p' "$unit")
restart_sec=$(sed -n 's/^RestartSec=\([0-9]*\)s$/\1/p' "$unit")
env_args=$(sed -n 's/^Environment=PKTSPEC_RUN_ARGS=//p' "$unit")
[ -n "$exec_start" ] && [ "$restart" = on-failure ] && [ -n "$restart_sec" ] && [ -n "$env_args" ] ||
	{ pks_fail unit_setup "ExecStart '$exec_start' Restart '$restart' RestartSec '$restart_sec' env '$env_args'"; pks_done; }
# The drop-in the unit's comment suggests: Environment="PKTSPEC_RUN_ARGS=... -i IFACE".
unit_start() { # NAME: ExecStart as systemd runs it, $PKTSPEC_RUN_ARGS split into words
	PKTSPEC_RUN_ARGS="$env_args -i $IF --mode generic" \
		nsenter --net="/run/netns/$PKS_CLI" bash -c "exec $exec_start" >"$PKS_TMP/$1.out" 2>"$PKS_TMP/$1.err" &
	PID=$!
	PKS_PIDS+=("$PID")
}
unit_start unit1
U1=$PID
wait_for "$PKS_TMP/unit1.err" "running the context rules" && [ "$(readlink /proc/$U1/exe)" = /usr/local/sbin/pktspec ] &&
	pks_pass unit_starts || pks_fail unit_starts "$(cat "$PKS_TMP/unit1.err")"
id_unit=$(prog_id)
{ kill -9 "$U1"; wait "$U1"; } 2>/dev/null
sleep "$restart_sec" # RestartSec=, then systemd starts it again: the exit by SIGKILL is a failure
unit_start unit2
U2=$PID
wait_for "$PKS_TMP/unit2.err" "running the context rules" && grep -q "already carries this classifier" "$PKS_TMP/unit2.err" &&
	sleep 1 && kill -0 "$U2" 2>/dev/null && [ "$(prog_id)" = "$id_unit" ] && pks_pass unit_restart_after_kill9 ||
	pks_fail unit_restart_after_kill9 "$(cat "$PKS_TMP/unit2.err")"
in_cli timeout 60 "$PKTSPEC" run >/dev/null 2>"$PKS_TMP/unit3.err"
[ $? -eq 1 ] && grep -q "PID $U2 (/usr/local/sbin/pktspec run --quiet -i $IF" "$PKS_TMP/unit3.err" && pks_pass unit_restart_holds_lock ||
	pks_fail unit_restart_holds_lock "$(cat "$PKS_TMP/unit3.err")"
stop "$U2"
[ $? -eq 0 ] && pks_pass unit_stops_cleanly || pks_fail unit_stops_cleanly "$(tail -n 2 "$PKS_TMP/unit2.err")"
in_cli "$PKTSPEC" detach "$IF" >/dev/null
umount /usr/local/sbin
pks_done
