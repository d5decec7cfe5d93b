/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * STUN and TURN over UDP, RFC 8489 5 and 6 (RFC 5389 before it), RFC 8656.
 *  - Header (5): the two most significant bits are 00 (this is what RFC 7983 7
 *    uses to demultiplex STUN from DTLS, TURN channels and RTP/RTCP on one
 *    port), a 14-bit message type, a message length that is a multiple of 4
 *    and covers the rest of the datagram exactly (one message per datagram),
 *    the magic cookie 0x2112A442 and a 96-bit transaction ID.
 *  - Message type: class bits C1 (0x0100) and C0 (0x0010); method Binding
 *    (0x001) or a TURN method, Allocate .. ChannelBind (0x003..0x009).
 * A request keeps the first 32 bits of its transaction ID; a success or error
 * response with the same ID confirms (RFC 8489 6.3.1: responses echo it).
 */
#ifndef PKTSPEC_BPF_SIG_STUN_H
#define PKTSPEC_BPF_SIG_STUN_H

#include "sig.h"

#define PKS_STUN_MAGIC 0x2112A442
#define PKS_STUN_HDR 20

static __always_inline int pks_sig_stun(const struct pks_payload *p, struct pks_match *m)
{
	__u32 type, method, class, len;

	if (p->len < PKS_STUN_HDR || (p->b[0] & 0xc0) != 0)
		return 0;
	if (pks_be32(p, 4) != PKS_STUN_MAGIC)
		return 0;
	len = pks_be16(p, 2);
	if ((len & 3) || len + PKS_STUN_HDR != p->total)
		return 0;
	type = pks_be16(p, 0);
	class = ((type >> 7) & 2) | ((type >> 4) & 1);
	method = (type & 0xf) | ((type >> 1) & 0x70) | ((type >> 2) & 0xf80);
	if (method != 0x001 && (method < 0x003 || method > 0x009))
		return 0;
	switch (class) {
	case 0: /* request */
		m->cookie = pks_be32(p, 8);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_REQUEST, PKS_ROLE_CLIENT);
	case 1: /* indication: either side (TURN Send/Data, Binding keepalives) */
		return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_INDICATION, PKS_ROLE_ANY);
	}
	/* success (2) or error (3) response */
	if (p->flow_proto == PKS_P_STUN && p->cookie != pks_be32(p, 8))
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_RESPONSE, PKS_ROLE_SERVER);
}

#endif
