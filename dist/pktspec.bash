# SPDX-License-Identifier: MIT OR Apache-2.0
# bash completion for pktspec (installed by `make install` into
# share/bash-completion/completions/pktspec). Commands, their options, interface
# names, protocol names (from `pktspec protocols --json`) and option values.
_pktspec()
{
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="attach detach status flows top replay protocols policy rules run"
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$commands -v --verbose --version --help" -- "$cur"))
		return
	fi
	case "$prev" in
	-i | --interface) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
	-m | --mode) COMPREPLY=($(compgen -W "native generic drv skb" -- "$cur")); return ;;
	-p | --proto)
		COMPREPLY=($(compgen -W "$(pktspec protocols --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
		return ;;
	--sort)
		[ "$cmd" = top ] && COMPREPLY=($(compgen -W "bytes packets flows" -- "$cur")) ||
			COMPREPLY=($(compgen -W "age bytes packets" -- "$cur"))
		return ;;
	--tc) COMPREPLY=($(compgen -W "ingress egress both" -- "$cur")); return ;;
	-a | --apps) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	local opts
	case "$cmd" in
	attach) opts="--mode --max-flows --flow-table --inspect --tc --egress --verbose --help" ;;
	detach) opts="--keep-maps --verbose --help" ;;
	status | protocols) opts="--json --help" ;;
	flows) opts="--json --summary --proto --addr --port --sort --help" ;;
	top) opts="--interval --sort --proto --once --help" ;;
	replay) opts="--json --summary --proto --addr --port --sort --stats --apps --no-apps --no-context --max-flows --flow-table --inspect --verbose --help" ;;
	policy) opts="set del list clear load --apps --json --help" ;;
	rules) opts="load list clear --apps --help" ;;
	run) opts="--interface --mode --detach-on-exit --apps --no-apps --server-ttl --expect-ttl --linger --fin-timeout --tcp-timeout --udp-timeout --active-timeout --ipfix --ipfix-domain --ipfix-refresh --metrics --json --quiet --verbose --help" ;;
	esac
	case "$cmd" in
	attach | detach) [[ "$cur" != -* ]] && COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")) && return ;;
	replay) [[ "$cur" != -* ]] && COMPREPLY=($(compgen -f -- "$cur")) && return ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _pktspec pktspec
