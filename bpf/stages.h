/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The classifier as a chain of programs (doc/design.md, "Stages").
 *
 *   entry (pks_xdp / pks_egress): parse, key, look the flow up, count it.
 *                A decided flow, or a packet with nothing to inspect, ends
 *                here: the fast path is one program.
 *   pks_track:   a new flow: context lookups (bpf/context/flow_new.h), the
 *                entry, the new-flow event; then its payload's window, as
 *                pks_window does (a tail call and a lookup fewer)
 *   pks_copy:    a payload copy for the context rules (bpf/context/events.h),
 *                sent from here or, when a kernel rule reads it first, from
 *   pks_krules:  the kernel's FTP rule (bpf/context/ftp.h)
 *   pks_window:  the payload window, then the first signature stage of the
 *                packet's L4
 *   pks_sg_*:    the signature stages of bpf/sig/signatures.def, in order;
 *                the first match, or the end of the chain, goes to
 *   pks_verdict: moves the verdict, writes a TFTP request's expectation
 *                (bpf/context/tftp.h), sends events, and a copy (pks_copy
 *                again) when the new verdict wants one
 *   pks_decap:   a tunnel's packet (bpf/encap.h): counts the tunnel's own
 *                flow, parses the packet inside and goes on with it as the
 *                entry does (again to pks_decap for a tunnel in a tunnel)
 *
 * A packet goes only as far as it needs: each step decides, inline, whether
 * the next is wanted before it tail-calls it.
 *
 * Each program is verified on its own: its own instruction budget, its own
 * 512-byte stack. That bounds verification by construction, whatever the
 * parser's paths (VLAN tags, IPv4 options and IPv6 extension chains give the
 * payload pointer many shapes) and however many signatures there are; and it
 * needs nothing newer than tail calls (Linux 4.2), so it loads on 5.10. No
 * program calls a BPF function: everything is inlined, so no tail call is
 * ever made from a BPF-to-BPF frame (x86-64 only, 5.10+) and no global
 * function takes a pointer (5.12+).
 *
 * What one stage hands to the next lives in a per-CPU map (pks_state). That
 * is safe because a packet runs to completion on one CPU: XDP in NAPI
 * context, tc egress with bottom halves disabled, and a tail call never
 * returns, so nothing else on the CPU can run a chain sharing the map between
 * two stages. Every stage reads only what an earlier stage of the same packet
 * wrote. The chain's maps are pinned (bpf/hook.h): all XDP attachments share
 * one chain, and the tc egress classifier has its own.
 */
#ifndef PKTSPEC_BPF_STAGES_H
#define PKTSPEC_BPF_STAGES_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "parse.h"
#include "hook.h"
#include "signatures.h"
#include "maps.h"
#include "flow.h"

/* Slots of the tail-call table: the fixed stages, then the signature stages. */
enum pks_stage {
#define PKS_FIXED_STAGE(sym, name) PKS_ST_##sym,
	PKS_FIXED_STAGES(PKS_FIXED_STAGE)
#undef PKS_FIXED_STAGE
	PKS_ST_SIG0,
	PKS_ST__COUNT = PKS_ST_SIG0 + PKS_SG__COUNT,
};

/* What pks_copy does after the copy. */
enum pks_then {
	PKS_THEN_INSPECT = 0, /* go on to the payload window, as pks_track */
	PKS_THEN_END = 1,     /* the packet is done (a copy after the verdict) */
};

/* One packet's state, handed from stage to stage. */
struct pks_state {
	struct pks_pkt pkt;       /* what the entry parsed */
	struct pks_flow_key key;  /* its flow: the table's key for IPv6, filled by pks_wide_key() for IPv4 */
	struct pks_flow_key4 key4; /* the table's key for plain IPv4 */
	struct pks_payload pl;    /* the payload window the signatures read */
	struct pks_match m;       /* what a signature matched */
	struct pks_flow init;     /* a new flow entry, before insertion */
	__u64 now;                /* the packet's time (capture time in replay) */
	__u64 clock_jiffies;      /* pks_now's per-CPU cache: the jiffy of clock_ns... */
	__u64 clock_ns;           /* ...and the coarse clock read in it */
	__u64 wire;               /* its length on the wire */
	__u32 reason;             /* what the last stage counts (enum pks_reason) */
	__u8 dir;                 /* enum pks_dir of this packet */
	__u8 src_side;            /* key side of its sender */
	__u8 new_flow;            /* the entry is created for this packet */
	__u8 fresh;               /* ...and inserted by it anew, not brought back from pks_restore */
	__u8 copied;              /* a payload copy of it went out */
	__u8 matched;             /* a signature stage matched */
	__u8 then;                /* enum pks_then */
	__u8 v4;                  /* the flow lives in pks_flows4 */
	__u8 tunnel;              /* enum pks_encap of the tunnel the packet starts: pks_decap opens it */
	__u8 pending;             /* enum pks_pending: s->init awaits its insertion by pks_verdict */
	__u8 flow_ev;             /* the new flow's event waits for pks_verdict, to carry its payload's verdict */
};

/* A new flow whose first packet the signatures read: pks_verdict inserts it, verdict and all. */
enum pks_pending {
	PKS_PENDING_NONE = 0,
	PKS_PENDING_NEW = 1,      /* a flow never seen */
	PKS_PENDING_RESTORED = 2, /* brought back from pks_restore, whose entry goes with the insertion */
};

/* Pinned, and shared by every attachment's chain: bpf/hook.h. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_state SEC(".maps");

static __always_inline struct pks_state *pks_state_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pks_state, &zero);
}

/* The packet's flow entry, in the table its family keys it in. */
static __always_inline struct pks_flow *pks_flow_find(struct pks_state *s)
{
	return pks_flow_lookup(s->v4, &s->key4, &s->key);
}

/*
 * Inserts a new flow entry (*err 0), or finds that another CPU inserted it
 * first (*err -EEXIST), without looking it up after: an LRU hash's insertion
 * returns no pointer, and the caller has the entry it wrote. Returns the
 * entry in the table where that came free (the array table's way), else NULL.
 */
static __always_inline struct pks_flow *pks_flow_insert_new(struct pks_state *s, const struct pks_flow *f, long *err)
{
	long e;

	if (s->v4) {
		if (pks_ways4_buckets)
			return pks_ways4_insert(&s->key4, f, err);
		e = bpf_map_update_elem(&pks_flows4, &s->key4, f, BPF_NOEXIST);
		barrier_var(e);
	} else {
		e = bpf_map_update_elem(&pks_flows, &s->key, f, BPF_NOEXIST);
	}
	*err = e;
	return NULL;
}

/*
 * Inserts a new flow entry and returns it, or the entry another CPU
 * inserted first (*err -EEXIST); NULL when neither is there (*err says why,
 * or 0 when the entry went at once). The array table returns the way it
 * wrote: no lookup after the insertion.
 */
static __always_inline struct pks_flow *pks_flow_insert(struct pks_state *s, const struct pks_flow *f, long *err)
{
	struct pks_flow *in = pks_flow_insert_new(s, f, err);

	if (in || (*err && *err != -EEXIST))
		return in;
	return pks_flow_find(s);
}

/*
 * The wide key (events, names, the engine's maps speak it) of an IPv4 flow,
 * made from the 16-byte one on the paths that need it; an IPv6 flow has it.
 */
static __always_inline void pks_wide_key(struct pks_state *s)
{
	if (s->v4)
		pks_flow_key_from4(&s->key4, &s->key);
}

#endif
