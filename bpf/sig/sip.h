/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SIP start lines, RFC 3261 7.1 "Requests" and 7.2 "Responses".
 *
 * L4-agnostic: pks_sig_sip() never looks at p->l4 or the ports, so a TCP
 * stage and a UDP stage both run it (bpf/sig/signatures.def). Over
 * TCP a message starts at the first payload byte like over UDP (RFC 3261
 * 18.3 only adds Content-Length framing for what follows).
 *  - Request-Line = Method SP Request-URI SP SIP-Version CRLF. Methods are
 *    those of RFC 3261 (INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS) and of
 *    the extensions in wide use: PRACK (3262), SUBSCRIBE/NOTIFY (6665),
 *    PUBLISH (3903), INFO (6086), REFER (3515), MESSAGE (3428), UPDATE
 *    (3311). The Request-URI must start with the scheme "sip:", "sips:" or
 *    "tel:" (19.1, RFC 3966): that is what separates SIP from HTTP and RTSP,
 *    which share the method-SP-target shape.
 *  - Status-Line = "SIP/2.0" SP Status-Code SP: three digits, 100..699.
 * Requests are client messages and responses server messages; a response
 * after a request confirms.
 */
#ifndef PKTSPEC_BPF_SIG_SIP_H
#define PKTSPEC_BPF_SIG_SIP_H

#include "sig.h"

/* Length of the method at the start of the window including its SP, or 0. */
static __always_inline __u32 pks_sip_method_len(const struct pks_payload *p)
{
	switch (pks_be32(p, 0)) {
	case PKS_C4('A', 'C', 'K', ' '):
	case PKS_C4('B', 'Y', 'E', ' '):
		return 4;
	case PKS_C4('I', 'N', 'F', 'O'):
		return p->b[4] == ' ' ? 5 : 0;
	case PKS_C4('I', 'N', 'V', 'I'): /* INVITE */
		return pks_be16(p, 4) == ('T' << 8 | 'E') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('C', 'A', 'N', 'C'): /* CANCEL */
		return pks_be16(p, 4) == ('E' << 8 | 'L') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('P', 'R', 'A', 'C'): /* PRACK */
		return p->b[4] == 'K' && p->b[5] == ' ' ? 6 : 0;
	case PKS_C4('R', 'E', 'F', 'E'): /* REFER */
		return p->b[4] == 'R' && p->b[5] == ' ' ? 6 : 0;
	case PKS_C4('R', 'E', 'G', 'I'): /* REGISTER */
		return pks_be32(p, 4) == PKS_C4('S', 'T', 'E', 'R') && p->b[8] == ' ' ? 9 : 0;
	case PKS_C4('O', 'P', 'T', 'I'): /* OPTIONS */
		return pks_be32(p, 4) == PKS_C4('O', 'N', 'S', ' ') ? 8 : 0;
	case PKS_C4('N', 'O', 'T', 'I'): /* NOTIFY */
		return pks_be16(p, 4) == ('F' << 8 | 'Y') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('U', 'P', 'D', 'A'): /* UPDATE */
		return pks_be16(p, 4) == ('T' << 8 | 'E') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('P', 'U', 'B', 'L'): /* PUBLISH */
		return pks_be16(p, 4) == ('I' << 8 | 'S') && p->b[6] == 'H' && p->b[7] == ' ' ? 8 : 0;
	case PKS_C4('M', 'E', 'S', 'S'): /* MESSAGE */
		return pks_be16(p, 4) == ('A' << 8 | 'G') && p->b[6] == 'E' && p->b[7] == ' ' ? 8 : 0;
	case PKS_C4('S', 'U', 'B', 'S'): /* SUBSCRIBE */
		return pks_be32(p, 4) == PKS_C4('C', 'R', 'I', 'B') && p->b[8] == 'E' && p->b[9] == ' ' ? 10 : 0;
	}
	return 0;
}

static __always_inline int pks_sig_sip(const struct pks_payload *p, struct pks_match *m)
{
	__u32 n, s;

	if (p->len < 12)
		return 0;
	/* Status-Line: "SIP/2.0 " then 100..699 and SP. */
	if (pks_be32(p, 0) == PKS_C4('S', 'I', 'P', '/') && pks_be32(p, 4) == PKS_C4('2', '.', '0', ' ')) {
		if (p->b[8] < '1' || p->b[8] > '6' || !pks_is_digit(p->b[9]) || !pks_is_digit(p->b[10]) ||
		    p->b[11] != ' ')
			return 0;
		return pks_match_set(m, PKS_P_SIP, PKS_R_SIP_RESPONSE, PKS_ROLE_SERVER);
	}
	n = pks_sip_method_len(p);
	if (!n || n + 5 > p->len)
		return 0;
	s = pks_be32(p, n);
	if (s == PKS_C4('s', 'i', 'p', ':') || s == PKS_C4('t', 'e', 'l', ':') ||
	    (s == PKS_C4('s', 'i', 'p', 's') && p->b[(n + 4) & PKS_WIN_MASK] == ':'))
		return pks_match_set(m, PKS_P_SIP, PKS_R_SIP_REQUEST, PKS_ROLE_CLIENT);
	return 0;
}

#endif
