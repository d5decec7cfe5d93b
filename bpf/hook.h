/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The hook the classifier source is compiled for. bpf/pktspec.bpf.c builds
 * the XDP program; bpf/pktspec_egress.bpf.c defines PKS_HOOK_TC and builds the
 * same source as a tc (clsact egress) program. Only the few functions that
 * read packet bytes differ between the two (pks_hook_* in pktspec.bpf.c and
 * pks_ctx_copy_bytes in ctx.h); the verdict logic is one text.
 */
#ifndef PKTSPEC_BPF_HOOK_H
#define PKTSPEC_BPF_HOOK_H

#ifdef PKS_HOOK_TC
#define pks_hook_ctx __sk_buff
#else
#define pks_hook_ctx xdp_md
#endif

#endif
