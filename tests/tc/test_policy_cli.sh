#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# pktspec policy: set/del/list/clear/load. A policy file with errors is
# rejected with every bad line's number and changes nothing; a good one
# replaces the policy whole; `policy list` and bpftool show the same policy
# with named fields; list output loads back; policies outlive the CLI and a
# detach, and after the detach they pin nothing but the policy's own maps.
. "$(dirname "$0")/../lib/common.sh"

P=$PKTSPEC
pin=/sys/fs/bpf/pktspec/pks_policy

out=$($P policy list)
[ "$out" = "no policy: every packet passes untouched" ] && pks_pass list_empty || pks_fail list_empty "$out"
pks_check set_ssh $P policy set ssh classid 1:10 dscp af41
pks_check set_pending $P policy set pending mark 0x7/0xf
[ -e "$pin" ] && pks_pass pinned || pks_fail pinned "$pin missing"

$P policy set ssh classid 1:10 priority 3 2>"$PKS_TMP/err"
[ $? -eq 2 ] && grep -q 'classid and priority' "$PKS_TMP/err" && pks_pass set_conflict_is_usage_error ||
	pks_fail set_conflict_is_usage_error "$(cat "$PKS_TMP/err")"
$P policy set nosuch drop 2>"$PKS_TMP/err"
[ $? -eq 2 ] && pks_pass set_unknown_proto_is_usage_error || pks_fail set_unknown_proto_is_usage_error "$(cat "$PKS_TMP/err")"
$P policy del http 2>"$PKS_TMP/err"
[ $? -eq 1 ] && grep -q "no policy for 'http'" "$PKS_TMP/err" && pks_pass del_missing_fails ||
	pks_fail del_missing_fails "$(cat "$PKS_TMP/err")"

cat >"$PKS_TMP/bad.conf" <<'CONF'
# a policy with mistakes on lines 3, 5, 6 and 8
ssh classid 1:10
http classid 1:20 priority 4
tls mark 0x10/0xff
quic dscp 64
nosuchproto drop
dns pass
ssh mark 1
CONF
before=$($P policy list)
$P policy load "$PKS_TMP/bad.conf" 2>"$PKS_TMP/err"
rc=$?
[ $rc -eq 1 ] && pks_pass bad_file_fails || pks_fail bad_file_fails "exit $rc"
ok=1
for n in 3 5 6 8; do
	grep -q "bad.conf:$n: " "$PKS_TMP/err" || ok=0
done
[ $ok = 1 ] && [ "$(grep -c 'bad.conf:[0-9]*: ' "$PKS_TMP/err")" -eq 4 ] && pks_pass bad_lines_numbered ||
	pks_fail bad_lines_numbered "$(tr '\n' '|' <"$PKS_TMP/err")"
grep -q 'bad.conf:8: the same flows as line 2' "$PKS_TMP/err" && pks_pass duplicate_named ||
	pks_fail duplicate_named "$(tr '\n' '|' <"$PKS_TMP/err")"
[ "$($P policy list)" = "$before" ] && pks_pass bad_file_changes_nothing ||
	pks_fail bad_file_changes_nothing "$($P policy list | tr '\n' '|')"

cat >"$PKS_TMP/good.conf" <<'CONF'
# web and remote shells
http classid 1:20 mark 0x20/0xff   # bulk
ssh confidence confirmed dscp cs4
any app 7 priority 5
bittorrent drop
pending pass
CONF
pks_check good_file_loads $P policy load "$PKS_TMP/good.conf"
$P policy list >"$PKS_TMP/list"
cat >"$PKS_TMP/want" <<'LIST'
http mark 0x20/0xff classid 1:20
ssh confidence confirmed dscp 32
bittorrent drop
any app 7 priority 5
pending pass
LIST
diff <(sort "$PKS_TMP/want") <(sort "$PKS_TMP/list") >/dev/null && pks_pass load_replaces_whole ||
	pks_fail load_replaces_whole "$(tr '\n' '|' <"$PKS_TMP/list")"
! grep -q '^pending mark' "$PKS_TMP/list" && pks_pass old_rules_gone || pks_fail old_rules_gone "pending mark survived"

# list output is a policy file: it loads back to the same list.
pks_check list_loads_back $P policy load "$PKS_TMP/list"
diff <($P policy list) "$PKS_TMP/list" >/dev/null && pks_pass list_round_trip || pks_fail list_round_trip "differs"

# bpftool prints the live table with named fields: the same rules.
bpftool map dump pinned /sys/fs/bpf/pktspec/pks_pol_state >"$PKS_TMP/state.json"
bpftool map dump pinned "$pin" >"$PKS_TMP/bpftool.json"
$P policy list --json >"$PKS_TMP/list.json"
/usr/bin/python3 - "$PKS_TMP" >"$PKS_TMP/d" 2>&1 <<'PY'
import json, sys
d = sys.argv[1]
live = json.load(open(d + "/state.json"))[0]["value"]["live"]
dump = json.load(open(d + "/bpftool.json"))
def from_bpftool(e):
    k, v = e["key"], e["value"]
    r = {"match": k["match"], "proto": k["proto"] if k["match"] == "PKS_PM_PROTO" else "", "app": k["app"],
         "verdict": v["verdict"], "min_confidence": v["min_confidence"]}
    if v["mark_mask"]: r["mark"] = (v["mark"], v["mark_mask"])
    if v["classid"]: r["classid"] = "%x:%x" % (v["classid"] >> 16, v["classid"] & 0xffff)
    if v["set_priority"] == "PKS_PS_SET": r["priority"] = v["priority"]
    if v["set_dscp"] == "PKS_PS_SET": r["dscp"] = v["dscp"]
    return r
def from_list(o):
    r = {"match": "PKS_PM_" + o["match"].upper(),
         "proto": "PKS_P_" + o["proto"].upper().replace("-", "_") if o["match"] == "proto" else "",
         "app": o["app"], "verdict": "PKS_PV_" + o["verdict"].upper(),
         "min_confidence": "PKS_C_" + o["min_confidence"].upper()}
    if "mark" in o: r["mark"] = (o["mark"], o["mark_mask"])
    for f in ("classid", "priority", "dscp"):
        if f in o: r[f] = o[f]
    return r
a = sorted(json.dumps(from_bpftool(e), sort_keys=True) for e in dump if e["key"]["table"] == live)
b = sorted(json.dumps(from_list(json.loads(l)), sort_keys=True) for l in open(d + "/list.json"))
if a != b or len(a) != 5:
    print("bpftool:", a, "list:", b)
    sys.exit(1)
PY
[ $? -eq 0 ] && pks_pass bpftool_shows_same_policy || pks_fail bpftool_shows_same_policy "$(cat "$PKS_TMP/d")"
grep -q '"proto": "PKS_P_HTTP"' "$PKS_TMP/bpftool.json" && grep -q '"verdict": "PKS_PV_DROP"' "$PKS_TMP/bpftool.json" &&
	pks_pass bpftool_named_fields || pks_fail bpftool_named_fields "$(head -c 300 "$PKS_TMP/bpftool.json")"
[ "$(bpftool map dump pinned "$pin" | jq length)" -eq 5 ] && pks_pass old_table_emptied ||
	pks_fail old_table_emptied "$(bpftool map dump pinned "$pin" | jq length) entries"

# Application names through the list 'pktspec run --apps' reads: IDs from 1 in
# order of first appearance.
printf '# suffix application\nyoutube.com video\ngithub.com dev\ngooglevideo.com video\n' >"$PKS_TMP/apps"
pks_check app_by_name $P policy --apps "$PKS_TMP/apps" set tls app dev mark 5
$P policy list | grep -qx 'tls app 2 mark 0x5' && pks_pass app_name_to_id || pks_fail app_name_to_id "$($P policy list)"
$P policy --apps "$PKS_TMP/apps" set any app nosuchapp drop 2>"$PKS_TMP/err"
[ $? -eq 2 ] && grep -q "'nosuchapp' is not in the application list" "$PKS_TMP/err" && pks_pass unknown_app_name ||
	pks_fail unknown_app_name "$(cat "$PKS_TMP/err")"
$P policy set any app video drop 2>"$PKS_TMP/err"
[ $? -eq 2 ] && grep -q -- '--apps FILE' "$PKS_TMP/err" && pks_pass app_name_needs_list ||
	pks_fail app_name_needs_list "$(cat "$PKS_TMP/err")"
pks_check del_app_rule $P policy del tls app 2

pks_check del_rule $P policy del any app 7
$P policy list | grep -q 'app 7' && pks_fail del_removes "app 7 still listed" || pks_pass del_removes

# Policies outlive an attach/detach cycle (they are configuration).
pks_topology
pks_in "$PKS_SRV" $P attach "$PKS_SRV_IF" --mode generic --tc >/dev/null &&
	pks_in "$PKS_SRV" $P detach "$PKS_SRV_IF" >/dev/null
[ "$($P policy list | wc -l)" -eq 4 ] && pks_pass survives_detach || pks_fail survives_detach "$($P policy list)"

printf 'ssh drop\nhttp mark 9 # from stdin\n' | $P policy load - >/dev/null
[ "$($P policy list | sort | tr '\n' '|')" = "http mark 0x9|ssh drop|" ] && pks_pass load_from_stdin ||
	pks_fail load_from_stdin "$($P policy list | tr '\n' '|')"
printf 'ssh drop\nhttp mark\n' | $P policy load - 2>"$PKS_TMP/err"
[ $? -eq 1 ] && grep -q '^pktspec: stdin:2: ' "$PKS_TMP/err" && pks_pass stdin_errors_numbered ||
	pks_fail stdin_errors_numbered "$(cat "$PKS_TMP/err")"

pks_check clear $P policy clear
out=$($P policy list)
[ "$out" = "no policy: every packet passes untouched" ] && pks_pass cleared || pks_fail cleared "$out"
# With nothing attached, the policy commands keep only the policy's own maps pinned.
extra=$(ls -p /sys/fs/bpf/pktspec | grep -v -x -e pks_policy -e pks_pol_state -e 'links/' | tr '\n' ' ')
[ -z "$extra" ] && pks_pass policy_pins_only_policy || pks_fail policy_pins_only_policy "also pinned: $extra"
pks_done
