/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * OpenVPN over UDP: the control channel's first packets (OpenVPN's
 * doc/doxygen "network protocol" and ssl_pkt.h / reliable.c; no RFC).
 *  - Byte 0: opcode (5 bits) and key ID (3 bits). A session starts with
 *    P_CONTROL_HARD_RESET_CLIENT_V2 (7) or _V3 (10, tls-crypt-v2) with key
 *    ID 0, then the client's 8-byte session ID.
 *  - What follows depends on the control-channel wrapping, and one layout
 *    must hold: plain (ack count 0, message packet ID 0); tls-auth with a
 *    16, 20, 28 or 32-byte HMAC (MD5, SHA1, SHA224, SHA256: replay packet ID 1
 *    after the HMAC, then ack count 0 and message packet ID 0); tls-auth with
 *    a 48-byte HMAC (SHA384: only the replay packet ID 1 is in the window);
 *    or tls-crypt (replay packet ID 1 right after the session ID, then a
 *    32-byte tag: total at least 49 bytes).
 *  - tls-auth with a 64-byte HMAC (SHA512, "--auth SHA512", the default of
 *    many provider profiles) puts every checkable field past the window: the
 *    client reset is then only its opcode and its exact size, 86 bytes
 *    (opcode 1, session ID 8, HMAC 64, replay packet ID and time 8, ack
 *    count 1, message packet ID 4). Too little to name a flow, it is kept as
 *    state (the cookie, tagged); the server's reset of exactly 98 bytes (the
 *    same layout plus one acked packet ID and the 8-byte remote session ID)
 *    on that flow names it.
 *  - The server answers P_CONTROL_HARD_RESET_SERVER_V2 (8), key ID 0, whose
 *    ack (count 1, packet ID 0) names the client's session ID: in the plain
 *    and tls-auth layouts the window shows it, and it must match the
 *    client's (kept in the cookie) to confirm.
 */
#ifndef PKTSPEC_BPF_SIG_OPENVPN_UDP_H
#define PKTSPEC_BPF_SIG_OPENVPN_UDP_H

#include "sig.h"
#include "bytes.h"

#define PKS_OVPN_RESET_CLIENT_V2 (7 << 3)
#define PKS_OVPN_RESET_SERVER_V2 (8 << 3)
#define PKS_OVPN_RESET_CLIENT_V3 (10 << 3)
#define PKS_OVPN_UDP_SID 1 /* session ID offset */
#define PKS_OVPN_SHA512_CLIENT 86
#define PKS_OVPN_SHA512_SERVER 98

/* Offset of the ack count byte in a layout with an HMAC of hmac bytes (0: plain). */
static __always_inline __u32 pks_ovpn_ack_off(__u32 hmac)
{
	return PKS_OVPN_UDP_SID + 8 + (hmac ? hmac + 8 : 0);
}

/* A client reset in layout hmac: replay ID 1 (with an HMAC), ack count 0, message ID 0. */
static __always_inline int pks_ovpn_client_layout(const struct pks_payload *p, __u32 hmac)
{
	__u32 ack = pks_ovpn_ack_off(hmac);

	if (ack + 5 > p->total || ack + 5 > p->len)
		return 0;
	if (hmac && pks_be32(p, ack - 8) != 1)
		return 0;
	return p->b[ack & PKS_WIN_MASK] == 0 && pks_be32(p, ack + 1) == 0;
}

/* A server reset in layout hmac acking packet 0 of the session in cookie. */
static __always_inline int pks_ovpn_server_layout(const struct pks_payload *p, __u32 hmac, __u32 *sid)
{
	__u32 ack = pks_ovpn_ack_off(hmac);

	if (ack + 1 + 4 + 8 + 4 > p->total || ack + 1 + 4 + 4 > p->len)
		return 0;
	if (hmac && pks_be32(p, ack - 8) != 1)
		return 0;
	if (p->b[ack & PKS_WIN_MASK] != 1 || pks_be32(p, ack + 1) != 0)
		return 0;
	*sid = pks_be32(p, ack + 5);
	return 1;
}

static __always_inline int pks_sig_openvpn_udp(const struct pks_payload *p, struct pks_match *m)
{
	__u8 op = p->b[0];
	__u32 sid;

	if (p->len < 14)
		return 0;
	if (op == PKS_OVPN_RESET_SERVER_V2 && p->total == PKS_OVPN_SHA512_SERVER &&
	    PKS_COOKIE_TAG(p->cookie) == PKS_TAG_OVPN_SHA512)
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_UDP_SERVER_RESET, PKS_ROLE_SERVER);
	if (op == PKS_OVPN_RESET_CLIENT_V2 || op == PKS_OVPN_RESET_CLIENT_V3) {
		if (!pks_ovpn_client_layout(p, 0) && !pks_ovpn_client_layout(p, 16) &&
		    !pks_ovpn_client_layout(p, 20) && !pks_ovpn_client_layout(p, 28) &&
		    !pks_ovpn_client_layout(p, 32) && !(pks_be32(p, 9 + 48) == 1 && p->total >= 9 + 48 + 8 + 5) &&
		    !(pks_be32(p, 9) == 1 && p->total >= 9 + 8 + 32)) {
			if (op != PKS_OVPN_RESET_CLIENT_V2 || p->total != PKS_OVPN_SHA512_CLIENT)
				return 0;
			/* SHA512 tls-auth, state only (see above): the server's reply decides. */
			m->cookie = PKS_TAG_COOKIE(PKS_TAG_OVPN_SHA512, pks_be32(p, PKS_OVPN_UDP_SID));
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_UNKNOWN, PKS_R_NONE, PKS_ROLE_CLIENT);
		}
		m->cookie = pks_be32(p, PKS_OVPN_UDP_SID);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_UDP_CLIENT_RESET, PKS_ROLE_CLIENT);
	}
	if (op != PKS_OVPN_RESET_SERVER_V2)
		return 0;
	if (pks_ovpn_server_layout(p, 0, &sid) || pks_ovpn_server_layout(p, 16, &sid) ||
	    pks_ovpn_server_layout(p, 20, &sid) || pks_ovpn_server_layout(p, 28, &sid) ||
	    pks_ovpn_server_layout(p, 32, &sid)) {
		if (p->flow_proto == PKS_P_OPENVPN && sid != p->cookie)
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_UDP_SERVER_RESET, PKS_ROLE_SERVER);
	}
	/* tls-crypt hides the ack: only the flow's own client reset vouches for it. */
	if (p->flow_proto == PKS_P_OPENVPN && pks_be32(p, 9) == 1 && p->total >= 9 + 8 + 32)
		return pks_match_set(m, PKS_P_OPENVPN, PKS_R_OPENVPN_UDP_SERVER_RESET, PKS_ROLE_SERVER);
	return 0;
}

#endif
