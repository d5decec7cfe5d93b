/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Per-CPU scratch space for the classifier's large temporaries: the payload
 * window and match that pks_inspect() hands to the signatures, and the new
 * flow entry that pks_track() builds before inserting it. (ctx.h keeps its
 * own scratch, pks_scratch, for payload copies: the two never share a slot.)
 *
 * Why a map and not the stack: the verifier allows 512 bytes of stack along a
 * call chain (each frame rounded up to 32). With the window and the new entry
 * on the stack, pks_xdp -> pks_inspect -> pks_classify left no room for a
 * further global function, so signature groups had to be inlined into
 * pks_classify, which multiplies the verifier's work. A map value is ordinary
 * memory to a global function's pointer argument.
 *
 * Why per-CPU is safe: XDP runs each packet to completion on one CPU with
 * preemption and migration disabled, and tc egress runs with bottom halves
 * disabled, so nothing else on the CPU uses the slot while a packet holds it.
 * Nothing of it outlives the packet: every user clears what it reads. Not
 * pinned: each program instance may have its own.
 */
#ifndef PKTSPEC_BPF_SCRATCH_H
#define PKTSPEC_BPF_SCRATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "sig/sig.h"

struct pks_cls_scratch {
	struct pks_payload pl; /* pks_inspect's window */
	struct pks_match m;    /* pks_inspect's match */
	struct pks_flow init;  /* pks_track's new flow entry */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_cls_scratch);
} pks_cls_scratch SEC(".maps");

static __always_inline struct pks_cls_scratch *pks_cls_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pks_cls_scratch, &zero);
}

#endif
