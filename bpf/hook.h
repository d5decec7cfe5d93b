/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The hook the classifier source is compiled for. bpf/pktspec.bpf.c builds
 * the XDP program; bpf/pktspec_egress.bpf.c defines PKS_HOOK_TC and builds the
 * same source as a tc (clsact egress) program. Only the few functions that
 * read packet bytes differ between the two (pks_hook_* in pktspec.bpf.c and
 * pks_cr_copy_bytes in context/events.h); the verdict logic is one text.
 */
#ifndef PKTSPEC_BPF_HOOK_H
#define PKTSPEC_BPF_HOOK_H

#ifdef PKS_HOOK_TC
#define pks_hook_ctx __sk_buff
/*
 * The stage chain's own maps (bpf/stages.h) are pinned, so that the chain
 * outlives the command that attached it: a tail-call table is emptied when
 * the last user-space reference to it goes. Every XDP attachment shares one
 * chain (the latest attach fills its table), and the tc egress classifier,
 * whose stages are tc programs and cannot share the XDP table, has its own:
 * these names, pinned beside the XDP ones.
 */
#define pks_stages pks_stages_eg
#define pks_state pks_state_eg
#define pks_scratch pks_scratch_eg
#define pks_kexp pks_kexp_eg
#else
#define pks_hook_ctx xdp_md
#endif

#endif
