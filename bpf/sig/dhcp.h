/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * DHCP, RFC 2131 2 (the BOOTP message of RFC 951).
 * The magic cookie 99.130.83.99 (RFC 2131 3, RFC 2132 2) sits at offset 236,
 * beyond the 64-byte window, so the signature checks what the window holds:
 *  - op 1 BOOTREQUEST or 2 BOOTREPLY; htype 1 (Ethernet) or 6 (IEEE 802) with
 *    hlen 6; hops at most 16 (RFC 1542 4.1.1 drops more);
 *  - flags: only the broadcast bit may be set (RFC 2131 2: "MUST be zero");
 *  - chaddr is 16 bytes of which hlen are used; the other 10 are zero (every
 *    client pads it so: RFC 2131 leaves them undefined, so this is the one
 *    check that goes beyond the letter of the spec);
 *  - the whole message is at least the 236-byte fixed part plus the cookie.
 * Ports 67 and 68 are the tie-breaker: off them, the first 20 bytes of sname
 * (window bytes 44..63) must also be zero, as a client's always are, and the
 * datagram must be at least BOOTP's 300 bytes (RFC 951 3), which DHCP clients
 * keep to.
 * A BOOTREQUEST keeps its xid; a BOOTREPLY with that xid confirms.
 */
#ifndef PKTSPEC_BPF_SIG_DHCP_H
#define PKTSPEC_BPF_SIG_DHCP_H

#include "sig.h"

#define PKS_DHCP_FIXED 236     /* op .. file */
#define PKS_DHCP_MIN (236 + 4) /* + magic cookie */
#define PKS_BOOTP_MIN 300      /* RFC 951 3 */

static __always_inline int pks_dhcp_zero(const struct pks_payload *p, __u32 from, __u32 to)
{
	__u32 i;
	__u8 acc = 0;

	for (i = from; i < to && i < PKS_WIN; i++)
		acc |= p->b[i & PKS_WIN_MASK];
	return acc == 0;
}

static __always_inline int pks_sig_dhcp(const struct pks_payload *p, struct pks_match *m)
{
	__u8 op = p->b[0], htype = p->b[1];
	__u32 xid;
	int on_port;

	if (p->len < PKS_WIN || p->total < PKS_DHCP_MIN)
		return 0;
	if ((op != 1 && op != 2) || (htype != 1 && htype != 6) || p->b[2] != 6 || p->b[3] > 16)
		return 0;
	if (pks_be16(p, 10) & 0x7fff)
		return 0;
	if (!pks_dhcp_zero(p, 28 + 6, 28 + 16))
		return 0;
	on_port = p->sport == 67 || p->sport == 68 || p->dport == 67 || p->dport == 68;
	if (!on_port && (p->total < PKS_BOOTP_MIN || !pks_dhcp_zero(p, 44, PKS_WIN)))
		return 0;
	xid = pks_be32(p, 4);
	if (op == 1) {
		m->cookie = xid;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_DHCP, PKS_R_DHCP_REQUEST, PKS_ROLE_CLIENT);
	}
	if (p->flow_proto == PKS_P_DHCP && p->cookie != xid)
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_DHCP, PKS_R_DHCP_REPLY, PKS_ROLE_SERVER);
}

#endif
