#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The bash completion `make install` installs (dist/pktspec.bash): commands,
# per-command options, modes, protocol names from `pktspec protocols`; and
# unambiguous command prefixes and the skb/drv mode names on the command line.
. "$(dirname "$0")/../lib/common.sh"
. "$PKS_ROOT/dist/pktspec.bash"
PATH="$(dirname "$PKTSPEC"):$PATH"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _pktspec; echo "${COMPREPLY[*]}"; }
[ "$(comp pktspec fl)" = flows ] && pks_pass complete_command || pks_fail complete_command "$(comp pktspec fl)"
comp pktspec run --ipf | grep -q -- '--ipfix-domain' && pks_pass complete_run_options || pks_fail complete_run_options "$(comp pktspec run --ipf)"
[ "$(comp pktspec attach eth0 --mode sk)" = skb ] && pks_pass complete_mode || pks_fail complete_mode "$(comp pktspec attach x --mode sk)"
comp pktspec flows --proto ht | grep -qw http && pks_pass complete_proto || pks_fail complete_proto "$(comp pktspec flows --proto ht)"
"$PKTSPEC" prot >"$PKS_TMP/p.out" 2>&1 && grep -q '^ *1 *http' "$PKS_TMP/p.out" && pks_pass prefix_command ||
	pks_fail prefix_command "$(head -2 "$PKS_TMP/p.out")"
"$PKTSPEC" p >/dev/null 2>"$PKS_TMP/amb.err"
[ $? -eq 2 ] && grep -q ambiguous "$PKS_TMP/amb.err" && pks_pass ambiguous_prefix_exit_2 || pks_fail ambiguous_prefix_exit_2 "$(cat "$PKS_TMP/amb.err")"
pks_topology
pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" --mode skb >"$PKS_TMP/a.out" 2>&1 && grep -q 'generic mode' "$PKS_TMP/a.out" &&
	pks_in "$PKS_CLI" "$PKTSPEC" status | grep -q generic && pks_pass mode_skb_alias || pks_fail mode_skb_alias "$(cat "$PKS_TMP/a.out")"
pks_done
