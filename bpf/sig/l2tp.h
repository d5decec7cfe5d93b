/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * L2TP control messages over UDP: L2TPv2, RFC 2661 3.1 and 4.1; L2TPv3,
 * RFC 3931 3.2.1 and 5.1 (port 1701 for both).
 *  - Flags and version: T (control), L (length present) and S (sequence
 *    present) set; x, O and P clear; version 2 or 3: the bytes c8 02 / c8 03.
 *  - Length equal to the datagram. v2: tunnel ID, session ID, Ns, Nr (12
 *    bytes); v3: control connection ID, Ns, Nr (12 bytes).
 *  - A control message other than a ZLB acknowledgement (length 12) starts
 *    with the Message Type AVP (4.1 / 5.1): M bit set, H clear, length 8,
 *    vendor 0, attribute 0, then a message type (v2 1..16, v3 also 20).
 * SCCRQ (1) opens a tunnel from the client; SCCRP (2) answers and confirms.
 */
#ifndef PKTSPEC_BPF_SIG_L2TP_H
#define PKTSPEC_BPF_SIG_L2TP_H

#include "sig.h"

#define PKS_L2TP_HDR 12

static __always_inline int pks_sig_l2tp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 flags = pks_be16(p, 0), type;

	if (p->len < PKS_L2TP_HDR || (flags != 0xc802 && flags != 0xc803) || pks_be16(p, 2) != p->total)
		return 0;
	if (p->total == PKS_L2TP_HDR) {
		/* A ZLB ack says nothing new unless the flow is already L2TP. */
		if (p->flow_proto != PKS_P_L2TP)
			return 0;
		return pks_match_set(m, PKS_P_L2TP, PKS_R_L2TP_CONTROL, PKS_ROLE_ANY);
	}
	if (p->len < PKS_L2TP_HDR + 8 || pks_be32(p, 12) != 0x80080000 || pks_be16(p, 16) != 0)
		return 0;
	type = pks_be16(p, 18);
	if (type == 0 || (type > 16 && type != 20))
		return 0;
	if (type == 1)
		return pks_match_set(m, PKS_P_L2TP, PKS_R_L2TP_SCCRQ, PKS_ROLE_CLIENT);
	if (type == 2)
		return pks_match_set(m, PKS_P_L2TP, PKS_R_L2TP_SCCRP, PKS_ROLE_SERVER);
	return pks_match_set(m, PKS_P_L2TP, PKS_R_L2TP_CONTROL, PKS_ROLE_ANY);
}

#endif
