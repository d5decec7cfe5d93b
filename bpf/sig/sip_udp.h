/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SIP over UDP, RFC 3261 7.1 and 7.2 (helper of sig/sip.h's TCP signature
 * until both are merged into one L4-agnostic file).
 *  - Request-Line: a method of RFC 3261 27.4 and its extensions (RFC 3262
 *    PRACK, 3265/6665 SUBSCRIBE/NOTIFY, 3311 UPDATE, 3428 MESSAGE, 3515 REFER,
 *    3903 PUBLISH, 6086 INFO), SP, a Request-URI of scheme sip:, sips: or tel:.
 *  - Status-Line: "SIP/2.0" SP, a 3-digit code 100..699.
 * The URI scheme after the method keeps SSDP's "NOTIFY *" apart.
 */
#ifndef PKTSPEC_BPF_SIG_SIP_UDP_H
#define PKTSPEC_BPF_SIG_SIP_UDP_H

#include "sig.h"

/* Offset of the Request-URI after the method and its SP, or 0. */
static __always_inline __u32 pks_sip_method_len(const struct pks_payload *p)
{
	__u32 w = pks_be32(p, 0), w2 = pks_be32(p, 4);

	switch (w) {
	case PKS_C4('I', 'N', 'V', 'I'):
		return (w2 >> 8) == ('T' << 16 | 'E' << 8 | ' ') ? 7 : 0;
	case PKS_C4('A', 'C', 'K', ' '):
	case PKS_C4('B', 'Y', 'E', ' '):
		return 4;
	case PKS_C4('I', 'N', 'F', 'O'):
		return p->b[4] == ' ' ? 5 : 0;
	case PKS_C4('C', 'A', 'N', 'C'):
		return (w2 >> 16) == ('E' << 8 | 'L') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('R', 'E', 'G', 'I'):
		return w2 == PKS_C4('S', 'T', 'E', 'R') && p->b[8] == ' ' ? 9 : 0;
	case PKS_C4('O', 'P', 'T', 'I'):
		return w2 == PKS_C4('O', 'N', 'S', ' ') ? 8 : 0;
	case PKS_C4('S', 'U', 'B', 'S'):
		return w2 == PKS_C4('C', 'R', 'I', 'B') && p->b[8] == 'E' && p->b[9] == ' ' ? 10 : 0;
	case PKS_C4('N', 'O', 'T', 'I'):
		return (w2 >> 16) == ('F' << 8 | 'Y') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('M', 'E', 'S', 'S'):
		return (w2 >> 8) == ('A' << 16 | 'G' << 8 | 'E') && p->b[7] == ' ' ? 8 : 0;
	case PKS_C4('P', 'R', 'A', 'C'):
		return (w2 >> 16) == ('K' << 8 | ' ') ? 6 : 0;
	case PKS_C4('U', 'P', 'D', 'A'):
		return (w2 >> 16) == ('T' << 8 | 'E') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('R', 'E', 'F', 'E'):
		return (w2 >> 16) == ('R' << 8 | ' ') ? 6 : 0;
	case PKS_C4('P', 'U', 'B', 'L'):
		return (w2 >> 8) == ('I' << 16 | 'S' << 8 | 'H') && p->b[7] == ' ' ? 8 : 0;
	}
	return 0;
}

static __always_inline int pks_sig_sip_udp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 n, uri;

	if (p->len < 16)
		return 0;
	if (pks_be32(p, 0) == PKS_C4('S', 'I', 'P', '/') && pks_be32(p, 4) == PKS_C4('2', '.', '0', ' ') &&
	    p->b[8] >= '1' && p->b[8] <= '6' && pks_is_digit(p->b[9]) && pks_is_digit(p->b[10]))
		return pks_match_set(m, PKS_P_SIP, PKS_R_SIP_UDP_RESPONSE, PKS_ROLE_SERVER);
	n = pks_sip_method_len(p);
	if (!n)
		return 0;
	/* Scheme, lower-cased: "sip:", "sips", "tel:". */
	uri = pks_be32(p, n) | 0x20202000;
	if (uri == PKS_C4('s', 'i', 'p', ':') || (uri == PKS_C4('s', 'i', 'p', 's') && p->b[(n + 4) & PKS_WIN_MASK] == ':') ||
	    uri == PKS_C4('t', 'e', 'l', ':'))
		return pks_match_set(m, PKS_P_SIP, PKS_R_SIP_UDP_REQUEST, PKS_ROLE_CLIENT);
	return 0;
}

#endif
