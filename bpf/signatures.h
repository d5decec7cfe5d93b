/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The signature dispatch, generated from the table bpf/sig/signatures.def:
 * the stage IDs, which L4 each stage serves, the signatures a stage runs
 * (in table order, first match wins), and which protocols' first messages
 * are always recognised ("covers"). Nothing here names a protocol: a new
 * signature is a row in the table.
 */
#ifndef PKTSPEC_BPF_SIGNATURES_H
#define PKTSPEC_BPF_SIGNATURES_H

#include "sig/sig.h"
/* Every signature file in bpf/sig/, listed by the Makefile. */
#include "sig_all.h"

/* The signature stages, in table order. */
enum pks_sig_stage {
#define PKS_STAGE(stage, l4) PKS_SG_##stage,
#include "sig/signatures.def"
	PKS_SG__COUNT,
};

/* The L4 protocol a stage serves. */
static __always_inline __u8 pks_sig_stage_l4(__u32 stage)
{
#define PKS_STAGE(stage_, l4)                  \
	if (stage == PKS_SG_##stage_)          \
		return IPPROTO_##l4;
#include "sig/signatures.def"
	return 0;
}

/* The first stage of an L4's chain, or PKS_SG__COUNT when it has none. */
static __always_inline __u32 pks_sig_stage_first(__u8 l4)
{
#define PKS_STAGE(stage_, l4_)                 \
	if (l4 == IPPROTO_##l4_)               \
		return PKS_SG_##stage_;
#include "sig/signatures.def"
	return PKS_SG__COUNT;
}

/* Whether a stage serves only flows picked up mid-session (PKS_STAGE_MID). */
static __always_inline int pks_sig_stage_mid(__u32 stage)
{
#define PKS_STAGE_MID(stage_, l4)              \
	if (stage == PKS_SG_##stage_)          \
		return 1;
#include "sig/signatures.def"
	return 0;
}

/* Whether a stage runs on this payload: a mid-session stage only for a flow picked up mid-session. */
static __always_inline int pks_sig_stage_runs(__u32 stage, const struct pks_payload *p)
{
	return !pks_sig_stage_mid(stage) || p->flow_mid;
}

/*
 * The stage after `stage` in its L4's chain, or PKS_SG__COUNT at the end.
 * Called with a constant: the compiler folds it to a constant too.
 */
static __always_inline __u32 pks_sig_stage_next(__u32 stage)
{
	__u32 s;

	for (s = stage + 1; s < PKS_SG__COUNT; s++)
		if (pks_sig_stage_l4(s) == pks_sig_stage_l4(stage))
			return s;
	return PKS_SG__COUNT;
}

/*
 * Runs the signatures of one stage on the window, in table order; 1 when one
 * matched (and filled m). Called with a constant stage, so only that stage's
 * rows are compiled into its program.
 *
 * Between two signatures, a compiler barrier: without it the compiler keeps
 * bytes of the window that one signature loaded in registers for the next,
 * and the verifier, which tracks registers, follows the next signature once
 * for every range the previous one's branches gave those registers. After the
 * barrier every signature loads what it reads afresh, the paths of the one
 * before join at its first instruction, and a stage costs the sum of its
 * signatures, not their product.
 */
static __always_inline int pks_sig_stage_run(__u32 stage, const struct pks_payload *p, struct pks_match *m)
{
	if (p->len == 0 || p->l4 != pks_sig_stage_l4(stage))
		return 0;
#define PKS_SIG(stage_, name)                                         \
	if (stage == PKS_SG_##stage_) {                                \
		asm volatile("" ::: "memory");                         \
		if (pks_sig_##name(p, m))                              \
			return 1;                                      \
	}
#include "sig/signatures.def"
	return 0;
}

#define PKS_SIDE_CLIENT 1
#define PKS_SIDE_SERVER 2
#define PKS_SIDE_BOTH 3

/*
 * Whether the first payload of `proto` from this side is always recognised by
 * its signature, so that a mismatch there contradicts a port guess.
 */
static __always_inline int pks_sig_covers(__u8 proto, int from_client)
{
	__u32 side = from_client ? PKS_SIDE_CLIENT : PKS_SIDE_SERVER;

#define PKS_COVERS(proto_, side_)                                      \
	if (proto == PKS_P_##proto_ && (PKS_SIDE_##side_ & side))      \
		return 1;
#include "sig/signatures.def"
	return 0;
}

#endif
