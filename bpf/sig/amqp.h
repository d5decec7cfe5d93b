/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * AMQP (AMQP 0-9-1 specification 4.2.2 "Protocol Header", 4.2.3 "General
 * Frame Format" and the Connection.Start method; AMQP 1.0 OASIS standard
 * part 2.2 "Version Negotiation").
 *  - The client opens with the 8-byte header "AMQP" then: 0 0 9 1 (0-9-1),
 *    1 1 0 9 (0-9), 1 1 8 0 (0-8, as sent by old clients) or, for 1.0, a
 *    protocol id 0 (AMQP), 2 (TLS) or 3 (SASL) followed by 1 0 0. A 1.0 server
 *    answers with the same header, and a 0-9-1 server that wants another
 *    version sends its own header, so the header is recognised in both
 *    directions.
 *  - A 0-9-1 server answers with Connection.Start: a method frame (type 1)
 *    on channel 0 whose payload starts with class 10, method 10 and version
 *    0-9 (or 8-0 for 0-8), ended by the frame-end octet 0xCE.
 */
#ifndef PKTSPEC_BPF_SIG_AMQP_H
#define PKTSPEC_BPF_SIG_AMQP_H

#include "sig.h"

static __always_inline int pks_sig_amqp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 v, size;

	if (p->l4 != IPPROTO_TCP || p->len < 8)
		return 0;
	if (pks_be32(p, 0) == PKS_C4('A', 'M', 'Q', 'P')) {
		v = pks_be32(p, 4);
		if (p->total != 8 && !(p->b[5] == 1 && p->b[6] == 0 && p->b[7] == 0))
			return 0; /* a 0-9-x header comes alone; a 1.0 one may carry the next frame */
		if (v == 0x00000901 || v == 0x01010009 || v == 0x01010800 || v == 0x00010000 ||
		    v == 0x02010000 || v == 0x03010000)
			return pks_match_set(m, PKS_P_AMQP, PKS_R_AMQP_HEADER, PKS_ROLE_ANY);
		return 0;
	}
	if (p->len < 12 || p->b[0] != 1 || pks_be16(p, 1) != 0)
		return 0;
	size = pks_be32(p, 3);
	if (size < 4 + 2 + 4 || 7 + size + 1 > p->total || pks_be32(p, 7) != 0x000a000a)
		return 0;
	v = pks_be16(p, 11);
	if (v != 0x0009 && v != 0x0800)
		return 0;
	if (7 + size < p->len && p->b[(7 + size) & PKS_WIN_MASK] != 0xce)
		return 0;
	return pks_match_set(m, PKS_P_AMQP, PKS_R_AMQP_START, PKS_ROLE_SERVER);
}

#endif
