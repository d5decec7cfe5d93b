/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * RDP over UDP, [MS-RDPEUDP] 2.2.2.1 and 3.1.5.1 (the connection's SYN and
 * SYN+ACK datagrams, sent to and from UDP 3389 after the TCP connection's
 * multitransport request).
 *  - RDPUDP_FEC_HEADER (2.2.2.1): snSourceAck, uReceiveWindowSize, uFlags,
 *    big-endian. In the client's SYN snSourceAck is -1 and uFlags has
 *    RDPUDP_FLAG_SYN (0x0001) without ACK (0x0004); only the flags 2.2.2.1
 *    defines (0x0001..0x1000) may be set.
 *  - RDPUDP_SYNDATA_PAYLOAD (2.2.2.5): snInitialSequenceNumber, then
 *    uUpStreamMtu and uDownStreamMtu, each 1132..1232.
 *  - 3.1.5.1.1: the SYN datagram is zero-padded to 1232 bytes.
 * The server's SYN+ACK (flags SYN and ACK) acknowledges the client's initial
 * sequence number in its snSourceAck (kept as the cookie) and carries its
 * own MTUs in the same ranges: it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_RDPUDP_H
#define PKTSPEC_BPF_SIG_RDPUDP_H

#include "sig.h"

#define PKS_RDPUDP_SYN 0x0001
#define PKS_RDPUDP_ACK 0x0004
#define PKS_RDPUDP_FLAGS 0x1fff /* RDPUDP_FLAG_SYN .. RDPUDP_FLAG_SYNEX */
#define PKS_RDPUDP_DGRAM 1232
#define PKS_RDPUDP_MTU_MIN 1132

static __always_inline int pks_rdpudp_mtu(__u32 v)
{
	return v >= PKS_RDPUDP_MTU_MIN && v <= PKS_RDPUDP_DGRAM;
}

static __always_inline int pks_sig_rdp_udp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 flags = pks_be16(p, 6);

	if (p->len < 16 || p->total != PKS_RDPUDP_DGRAM || (flags & ~PKS_RDPUDP_FLAGS) || !(flags & PKS_RDPUDP_SYN))
		return 0;
	if (!pks_rdpudp_mtu(pks_be16(p, 12)) || !pks_rdpudp_mtu(pks_be16(p, 14)) || pks_be16(p, 4) == 0)
		return 0;
	if (!(flags & PKS_RDPUDP_ACK)) {
		if (pks_be32(p, 0) != 0xffffffff)
			return 0;
		m->cookie = pks_be32(p, 8);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_RDP, PKS_R_RDPUDP_SYN, PKS_ROLE_CLIENT);
	}
	/* SYN+ACK: only as the answer to this flow's SYN. */
	if (p->flow_proto != PKS_P_RDP || pks_be32(p, 0) != p->cookie)
		return 0;
	return pks_match_set(m, PKS_P_RDP, PKS_R_RDPUDP_SYN_ACK, PKS_ROLE_SERVER);
}

#endif
