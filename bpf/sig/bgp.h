/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * BGP-4 (RFC 4271 4.1 "Message Header Format", 4.2 "OPEN", 4.4 "KEEPALIVE",
 * 4.5 "NOTIFICATION"; RFC 9072 for extended optional parameters).
 *  - Header: 16-byte marker of all ones, length 19..4096 (65535 with
 *    RFC 8654 extended messages, which are negotiated after OPEN), type.
 *  - OPEN (type 1): version 4, hold time 0 or at least 3 seconds (4.2), and
 *    the optional parameters length making up the message length exactly
 *    (or 255 followed by the RFC 9072 non-extended-length marker 255).
 *  - Both peers send OPEN first, so OPEN is recognised in either direction
 *    and the peer's OPEN (or its KEEPALIVE or NOTIFICATION: 19 bytes, or 21+
 *    with error code 1..6 and a subcode) confirms. UPDATE (4.3) and
 *    ROUTE-REFRESH (RFC 2918) with the marker and consistent lengths also
 *    count, for sessions seen after their OPEN.
 */
#ifndef PKTSPEC_BPF_SIG_BGP_H
#define PKTSPEC_BPF_SIG_BGP_H

#include "sig.h"

#define PKS_BGP_HDR 19
#define PKS_BGP_OPEN_MIN 29
#define PKS_BGP_MAX 4096

static __always_inline int pks_sig_bgp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, hold, opt;
	__u8 type;

	if (p->l4 != IPPROTO_TCP || p->len < PKS_BGP_HDR)
		return 0;
	if (pks_be32(p, 0) != 0xffffffff || pks_be32(p, 4) != 0xffffffff || pks_be32(p, 8) != 0xffffffff ||
	    pks_be32(p, 12) != 0xffffffff)
		return 0;
	len = pks_be16(p, 16);
	type = p->b[18];
	if (len < PKS_BGP_HDR || len > PKS_BGP_MAX || len > p->total)
		return 0;
	switch (type) {
	case 1:
		if (len < PKS_BGP_OPEN_MIN || p->len < PKS_BGP_OPEN_MIN || p->b[19] != 4)
			return 0;
		hold = pks_be16(p, 22);
		opt = p->b[28];
		if (hold == 1 || hold == 2)
			return 0;
		if (opt == 255 && p->b[29] == 255) {
			/* RFC 9072: type 255, then a 2-byte length of the parameters. */
			if (PKS_BGP_OPEN_MIN + 3 + pks_be16(p, 30) != len)
				return 0;
		} else if (PKS_BGP_OPEN_MIN + opt != len) {
			return 0;
		}
		return pks_match_set(m, PKS_P_BGP, PKS_R_BGP_OPEN, PKS_ROLE_ANY);
	case 4:
		if (len != PKS_BGP_HDR)
			return 0;
		break;
	case 3:
		if (len < PKS_BGP_HDR + 2 || p->b[19] < 1 || p->b[19] > 6)
			return 0;
		break;
	case 2: /* UPDATE: withdrawn routes length, then path attributes length, fit (4.3) */
		if (len < PKS_BGP_HDR + 4 || PKS_BGP_HDR + 2 + pks_be16(p, 19) + 2 > len)
			return 0;
		break;
	case 5: /* ROUTE-REFRESH (RFC 2918 3): AFI, reserved/subtype, SAFI */
		if (len != PKS_BGP_HDR + 4)
			return 0;
		break;
	default:
		return 0;
	}
	/* The 128-bit marker and an exact length: a session seen after its OPEN. */
	return pks_match_set(m, PKS_P_BGP, PKS_R_BGP_MESSAGE, PKS_ROLE_ANY);
}

#endif
