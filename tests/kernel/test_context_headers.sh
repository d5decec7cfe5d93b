#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The shape of the context rules' kernel half, bpf/context/ (doc/design.md,
# "Kernel source layout"):
#   - every header compiles on its own, for XDP and for tc egress
#     (PKS_HOOK_TC), with the classifier's own compiler flags: it includes
#     what it uses, whatever includes it;
#   - the headers' includes of one another form no cycle;
#   - every header opens with its SPDX line and a comment saying what it holds;
#   - bpf/ defines no pks_ctx_* / PKS_CTX_* name: `ctx` is the BPF program's
#     context, the context rules are pks_cr_* (the contract's struct
#     pks_ctx_stats is used, not defined, there).
. "$(dirname "$0")/../lib/common.sh"
cd "$PKS_ROOT" || exit 1

# The flags the Makefile compiles the classifier with, as make expands them.
cmd=$(make -B -n .output/pktspec.bpf.o 2>/dev/null | grep -m1 '^clang .* -c bpf/pktspec\.bpf\.c ')
if [ -z "$cmd" ]; then
	pks_fail "compiler flags from the Makefile" "make -n printed no clang line for bpf/pktspec.bpf.c"
	pks_done
fi
read -r -a argv <<<"${cmd%% -c bpf/pktspec.bpf.c *}"

headers=(bpf/context/*.h)
if [ "${#headers[@]}" -ge 5 ] && [ -f "${headers[0]}" ]; then
	pks_pass "bpf/context holds ${#headers[@]} headers"
else
	pks_fail "bpf/context holds its headers" "found ${#headers[@]}"
fi

for h in "${headers[@]}"; do
	inc=${h#bpf/}
	for hook in xdp tc; do
		def=()
		[ "$hook" = tc ] && def=(-DPKS_HOOK_TC)
		if printf '#include "%s"\n' "$inc" |
			"${argv[@]}" "${def[@]}" -x c -c - -o /dev/null >"$PKS_TMP/cc.out" 2>&1; then
			pks_pass "$inc compiles alone ($hook)"
		else
			pks_fail "$inc compiles alone ($hook)" "$(grep -m1 'error' "$PKS_TMP/cc.out")"
		fi
	done
	if [ "$(sed -n 1p "$h")" = "/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */" ] &&
		[ "$(sed -n 2p "$h")" = "/*" ] && [ "$(sed -n 3p "$h" | cut -c1-3)" = " * " ]; then
		pks_pass "$inc opens with its SPDX line and a comment"
	else
		pks_fail "$inc opens with its SPDX line and a comment" "lines 1-3: $(sed -n 1,3p "$h" | tr '\n' '|')"
	fi
done

# Edges "includer included" for tsort, which reports a loop on stderr.
for h in "${headers[@]}"; do
	echo "${h#bpf/} ${h#bpf/}"
	sed -n 's|^#include "\(context/[^"]*\)".*|\1|p' "$h" | while read -r dep; do echo "${h#bpf/} $dep"; done
done >"$PKS_TMP/edges"
if tsort "$PKS_TMP/edges" >/dev/null 2>"$PKS_TMP/tsort.err" && [ ! -s "$PKS_TMP/tsort.err" ]; then
	pks_pass "the includes within bpf/context form no cycle ($(wc -l <"$PKS_TMP/edges") edges)"
else
	pks_fail "the includes within bpf/context form no cycle" "$(tr '\n' ' ' <"$PKS_TMP/tsort.err")"
fi

defs=$(grep -rnE '^(static[^(]*\b(pks_ctx_|PKS_CTX_)[A-Za-z0-9_]*\(|#define[[:space:]]+(pks_ctx_|PKS_CTX_))' bpf/)
if [ -z "$defs" ]; then
	pks_pass "bpf/ defines no pks_ctx_* or PKS_CTX_* name"
else
	pks_fail "bpf/ defines no pks_ctx_* or PKS_CTX_* name" "$(echo "$defs" | head -n 1)"
fi
if ! grep -rqE '#include "ctx\.h"' bpf/ && [ ! -e bpf/ctx.h ]; then
	pks_pass "bpf/ctx.h is gone and nothing includes it"
else
	pks_fail "bpf/ctx.h is gone and nothing includes it" "$(grep -rlE '#include "ctx\.h"' bpf/ | tr '\n' ' ')"
fi
pks_done
