/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * An offset the compiler must not reason about. Where a signature walks
 * variable-length fields, clang proves "off <= 60" from an earlier check and
 * drops the `& PKS_WIN_MASK` in front of a window read, leaving the verifier
 * an unbounded index. Passing the offset through an empty asm hides its value,
 * so the mask stays and every read is provably inside the window.
 */
#ifndef PKTSPEC_BPF_SIG_OPAQUE_H
#define PKTSPEC_BPF_SIG_OPAQUE_H

#include "sig.h"

static __always_inline __u32 pks_opaque(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

#endif
