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
 *
 * Over TCP (RFC 8489 6.2.2, RFC 8656 3.1) STUN and TURN messages follow one
 * another on the stream unframed, their own length delimiting them: the
 * first message starts the segment and ends inside it (several may share
 * one, as TURN's Send indications do). ICE-TCP (RFC 6544 3) and RFC 4571
 * media streams frame each message with a 16-bit length first: then the
 * message starts at offset 2 and fills its frame exactly.
 *
 * Several protocols on one 5-tuple (WebRTC, RFC 8835 and RFC 7983): ICE's
 * STUN checks come first, then a DTLS handshake (DTLS-SRTP, RFC 5764), then
 * SRTP/SRTCP. A STUN match over UDP therefore announces a successor (the
 * flow is marked PKS_F_UPGRADE, as after HTTP 101) and stays open for it
 * within the inspection budget; DTLS replaces the verdict (bpf/sig/dtls.h).
 * On a flow DTLS has taken over, ICE consent checks (RFC 7675) are STUN
 * again: they match nothing, the verdict stays dtls.
 */
#ifndef PKTSPEC_BPF_SIG_STUN_H
#define PKTSPEC_BPF_SIG_STUN_H

#include "sig.h"

#define PKS_STUN_MAGIC 0x2112A442
#define PKS_STUN_HDR 20

/*
 * The message at off whose whole length must be exactly room (exact) or at
 * most room (several messages in a TCP segment).
 */
static __always_inline int pks_stun_at(const struct pks_payload *p, struct pks_match *m, __u32 off, __u32 room,
				       int exact)
{
	__u32 type, method, class, len;

	if (p->len < off + PKS_STUN_HDR || (p->b[off & PKS_WIN_MASK] & 0xc0) != 0)
		return 0;
	if (pks_be32(p, off + 4) != PKS_STUN_MAGIC)
		return 0;
	len = pks_be16(p, off + 2);
	if ((len & 3) || len + PKS_STUN_HDR > room || (exact && len + PKS_STUN_HDR != room))
		return 0;
	type = pks_be16(p, off);
	class = ((type >> 7) & 2) | ((type >> 4) & 1);
	method = (type & 0xf) | ((type >> 1) & 0x70) | ((type >> 2) & 0xf80);
	if (method != 0x001 && (method < 0x003 || method > 0x009))
		return 0;
	switch (class) {
	case 0: /* request */
		m->cookie = pks_be32(p, off + 8);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_REQUEST, PKS_ROLE_CLIENT);
	case 1: /* indication: either side (TURN Send/Data, Binding keepalives) */
		return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_INDICATION, PKS_ROLE_ANY);
	}
	/* success (2) or error (3) response */
	if (p->flow_proto == PKS_P_STUN && p->cookie != pks_be32(p, off + 8))
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_STUN, PKS_R_STUN_RESPONSE, PKS_ROLE_SERVER);
}

/* One message per datagram (RFC 8489 6.1); DTLS may follow (above). */
static __always_inline int pks_sig_stun(const struct pks_payload *p, struct pks_match *m)
{
	if (p->flow_proto == PKS_P_DTLS || !pks_stun_at(p, m, 0, p->total, 1))
		return 0;
	m->await_upgrade = 1;
	return 1;
}

/* TCP: unframed (6.2.2), or in an RFC 4571 frame (RFC 6544 3). */
static __always_inline int pks_sig_stun_tcp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 frame = pks_be16(p, 0);

	if (p->l4 != IPPROTO_TCP)
		return 0;
	if (pks_stun_at(p, m, 0, p->total, 0))
		return 1;
	return frame + 2 <= p->total && pks_stun_at(p, m, 2, frame, 1);
}

#endif
