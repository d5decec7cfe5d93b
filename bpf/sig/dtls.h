/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * DTLS over UDP, RFC 6347 4.1 and 4.2.2 (DTLS 1.0 and 1.2), RFC 9147 4 and 5
 * (DTLS 1.3 sends its first flight in the same DTLSPlaintext format).
 *  - DTLSPlaintext (RFC 6347 4.1): type 22 handshake, version 0xfeff (1.0),
 *    0xfefd (1.2), 0xfefc (the 1.3 code point, RFC 9147 5.3), or 0x0100
 *    (OpenSSL's pre-RFC DTLS1_BAD_VER); epoch 0 for the unprotected first
 *    flight; a 48-bit sequence number (its top 16 bits are zero this early);
 *    a record length that fits in the datagram.
 *  - Handshake header (4.2.2): msg_type, 24-bit length, message_seq,
 *    fragment_offset and fragment_length, with the fragment inside the record
 *    and inside the message; the hello's body version repeats a DTLS version.
 *  - ClientHello (1) from the client; HelloVerifyRequest (3) or ServerHello (2)
 *    from the server, which confirms.
 * The first byte 22 is also what RFC 7983 7 uses to tell DTLS (20..63) from
 * STUN (0..3) and RTP/RTCP (128..191) on a multiplexed port.
 *
 * After STUN (WebRTC: ICE, then DTLS-SRTP, RFC 5764; bpf/sig/stun.h): on a
 * flow whose verdict is stun and still open for a successor, a ClientHello,
 * HelloVerifyRequest or ServerHello is an upgrade rule, dtls-after-stun: dtls
 * replaces stun as the verdict and the rule records the STUN seen. Either side
 * may be the DTLS client there (RFC 5763 5, a=setup), so the role is any; the
 * other direction's handshake record confirms, under the same rule, which the
 * cookie (PKS_DTLS_STUN_SEEN) keeps. SRTP that follows stays under dtls.
 */
#ifndef PKTSPEC_BPF_SIG_DTLS_H
#define PKTSPEC_BPF_SIG_DTLS_H

#include "sig.h"

#define PKS_DTLS_REC_HDR 13
#define PKS_DTLS_HS_HDR 12
/* Flow cookie of a dtls verdict that replaced stun ("STUN"). */
#define PKS_DTLS_STUN_SEEN 0x5354554eu

static __always_inline int pks_dtls_version(__u32 v)
{
	return v == 0xfeff || v == 0xfefd || v == 0xfefc || v == 0x0100;
}

static __always_inline int pks_sig_dtls(const struct pks_payload *p, struct pks_match *m)
{
	__u32 rec_len, hs_len, frag_off, frag_len;
	__u8 hs_type;

	if (p->len < PKS_DTLS_REC_HDR + PKS_DTLS_HS_HDR + 2 || p->b[0] != 22)
		return 0;
	if (!pks_dtls_version(pks_be16(p, 1)) || pks_be16(p, 3) != 0 || pks_be16(p, 5) != 0)
		return 0;
	rec_len = pks_be16(p, 11);
	if (rec_len < PKS_DTLS_HS_HDR + 2 || rec_len + PKS_DTLS_REC_HDR > p->total)
		return 0;
	hs_type = p->b[13];
	hs_len = pks_be24(p, 14);
	frag_off = pks_be24(p, 19);
	frag_len = pks_be24(p, 22);
	if (frag_off + frag_len > hs_len || frag_len + PKS_DTLS_HS_HDR > rec_len)
		return 0;
	/* The body version is only in the first fragment. */
	if (frag_off == 0 && !pks_dtls_version(pks_be16(p, 25)))
		return 0;
	if (hs_type == 1 && hs_len >= 2 + 32 + 1 + 1)
		pks_match_set(m, PKS_P_DTLS, PKS_R_DTLS_CLIENT_HELLO, PKS_ROLE_CLIENT);
	else if ((hs_type == 3 && hs_len >= 3) || (hs_type == 2 && hs_len >= 2 + 32 + 1))
		pks_match_set(m, PKS_P_DTLS, PKS_R_DTLS_SERVER_HELLO, PKS_ROLE_SERVER);
	else
		return 0;
	if ((p->flow_proto == PKS_P_STUN && p->flow_upgrade) ||
	    (p->flow_proto == PKS_P_DTLS && p->cookie == PKS_DTLS_STUN_SEEN)) {
		m->upgrade = p->flow_proto == PKS_P_STUN;
		m->rule = PKS_R_DTLS_AFTER_STUN;
		m->role = PKS_ROLE_ANY;
		m->cookie = PKS_DTLS_STUN_SEEN;
		m->set_cookie = 1;
	}
	return 1;
}

#endif
