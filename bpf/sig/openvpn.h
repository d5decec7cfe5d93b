/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * OpenVPN over TCP (OpenVPN's "ssl.h"/"reliable.h" packet format, documented
 * in doc/protocol.txt of the OpenVPN sources and the OpenVPN protocol RFC
 * draft, draft-bernardo-openvpn-protocol 2.2, 3.1).
 *  - Over TCP every packet is prefixed by a 16-bit length (the first packet is
 *    one segment: the length is the rest of it).
 *  - Opcode in the top 5 bits, key_id in the low 3: the client starts with
 *    P_CONTROL_HARD_RESET_CLIENT_V2 (7) on key 0; the server answers
 *    P_CONTROL_HARD_RESET_SERVER_V2 (8).
 *  - Then the 8-byte session ID, an optional HMAC (tls-auth: hash + packet ID
 *    + time) or tls-crypt wrapping, the ACK array and the message packet ID.
 *    A client reset carries no payload, so its length is 14 (no HMAC), 42
 *    (tls-auth SHA-1), 54 (tls-auth SHA-256, or tls-crypt) or 86 (SHA-512);
 *    without HMAC its ACK array is empty and its packet ID 0.
 *  - The server's reset acknowledges packet 0 and echoes the client's session
 *    ID as the remote session ID (cookie: its first four bytes): checked at
 *    the offsets of no HMAC, a 20-byte and a 32-byte HMAC. It confirms.
 * P_CONTROL_HARD_RESET_CLIENT_V3 (tls-crypt-v2) carries a wrapped key of
 * variable length and is not recognised.
 */
#ifndef PKTSPEC_BPF_SIG_OPENVPN_H
#define PKTSPEC_BPF_SIG_OPENVPN_H

#include "sig.h"

#define PKS_OVPN_CLIENT_RESET_V2 7
#define PKS_OVPN_SERVER_RESET_V2 8
#define PKS_OVPN_SID 3 /* session ID offset: length prefix 2, opcode 1 */

/* Whether the server reset acknowledges packet 0 of the client's session, with an HMAC of h bytes. */
static __always_inline int pks_ovpn_acks_client(const struct pks_payload *p, __u32 h)
{
	__u32 off = PKS_OVPN_SID + 8 + (h ? h + 8 : 0);

	return off + 1 + 4 + 4 <= p->len && p->b[off & PKS_WIN_MASK] == 1 && pks_be32(p, off + 1) == 0 &&
	       pks_be32(p, off + 5) == p->cookie;
}

static __always_inline int pks_sig_openvpn(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len;
	__u8 op;

	if (p->l4 != IPPROTO_TCP || p->len < 16)
		return 0;
	len = pks_be16(p, 0);
	op = p->b[2];
	if (len + 2 != p->total)
		return 0;
	if (op == (PKS_OVPN_CLIENT_RESET_V2 << 3)) {
		if (len == 14) {
			if (p->b[11] != 0 || pks_be32(p, 12) != 0)
				return 0;
		} else if (len != 42 && len != 54 && len != 86) {
			return 0;
		}
		m->cookie = pks_be32(p, PKS_OVPN_SID);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_CLIENT_RESET, PKS_ROLE_CLIENT);
	}
	if (op == (PKS_OVPN_SERVER_RESET_V2 << 3) && p->flow_proto == PKS_P_OPENVPN &&
	    (pks_ovpn_acks_client(p, 0) || pks_ovpn_acks_client(p, 20) || pks_ovpn_acks_client(p, 32)))
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_SERVER_RESET, PKS_ROLE_SERVER);
	return 0;
}

#endif
