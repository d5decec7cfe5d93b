/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The kernel's TFTP rule. The kernel owns TFTP's expectation, and no engine
 * rule and no payload copy take part: the TFTP signature's own match of a
 * client's request is the announcement (pks_verdict calls it), and the
 * entry is written through context/kexp.h.
 */
#ifndef PKTSPEC_BPF_CONTEXT_TFTP_H
#define PKTSPEC_BPF_CONTEXT_TFTP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "parse.h"
#include "context/kexp.h"

/*
 * TFTP's announcement is the request itself: the server answers from a new
 * port at once (RFC 1350 4), before any daemon could write the expectation.
 * The kernel owns it, and the TFTP signature (bpf/sig/tftp.h: opcode,
 * printable filename, NUL, known mode, NUL) is its one parser: when it
 * matched a client's RRQ/WRQ, the reply from the server's any port to the
 * client's port is expected; the client is the requester.
 */
static __always_inline void pks_cr_tftp_request(const struct pks_pkt *p, __u64 now)
{
	struct pks_kexp_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&pks_kexp, &zero);
	if (!s)
		return;
	pks_kexp_put(s, p, p->src, p->sport, p->dst, IPPROTO_UDP, PKS_P_TFTP, PKS_R_TFTP_REQUEST,
		     PKS_EXP_ONCE | PKS_EXP_LISTENER_CLIENT, now);
}

#endif /* PKTSPEC_BPF_CONTEXT_TFTP_H */
