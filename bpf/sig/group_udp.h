/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Signature group: protocols over UDP (besides QUIC and DNS).
 * pks_classify() calls pks_classify_udp() after the core signatures; the
 * group's signatures live in their own files beside this one.
 */
#ifndef PKTSPEC_BPF_SIG_GROUP_UDP_H
#define PKTSPEC_BPF_SIG_GROUP_UDP_H

#include "sig.h"

static __always_inline int pks_classify_udp(const struct pks_payload *p, struct pks_match *m)
{
	return 0;
}

/* Whether the first payload of a direction of proto is always recognised (see pks_sig_covers). */
static __always_inline int pks_sig_covers_udp(__u8 proto, int from_client)
{
	return 0;
}

#endif
