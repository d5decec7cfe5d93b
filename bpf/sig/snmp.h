/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SNMP over UDP: RFC 1157 4 (v1), RFC 1901 3 and RFC 3416 3 (v2c), RFC 3412 6
 * (v3), all BER encoded (X.690).
 *  - Message: SEQUENCE whose length covers the datagram, then INTEGER
 *    version 0 (v1), 1 (v2c) or 3 (v3): the bytes 02 01 0x.
 *  - v1/v2c: community OCTET STRING of printable characters, then a PDU tag
 *    [0]..[8] (0xa0 GetRequest .. 0xa8 Report, RFC 3416 3) when the window
 *    holds it. GetResponse and Report come from the agent (server); requests,
 *    traps and informs from the sender (client).
 *  - v3: msgGlobalData is a SEQUENCE starting with the INTEGER msgID.
 * A response after a request confirms.
 */
#ifndef PKTSPEC_BPF_SIG_SNMP_H
#define PKTSPEC_BPF_SIG_SNMP_H

#include "sig.h"
#include "ber.h"

#define PKS_SNMP_COMMUNITY_MAX 48

static __always_inline int pks_sig_snmp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 n, len, off, clen, i;
	__u8 ver, pdu;

	if (p->len < 12 || p->b[0] != 0x30)
		return 0;
	n = pks_ber_len(p, 1, &len);
	if (!n || 1 + n + len != p->total)
		return 0;
	off = 1 + n;
	if (pks_be16(p, off) != 0x0201)
		return 0;
	ver = p->b[(off + 2) & PKS_WIN_MASK];
	off += 3;
	if (ver == 3) {
		if (p->b[off & PKS_WIN_MASK] != 0x30 || !pks_ber_len(p, off + 1, &len))
			return 0;
		/* msgGlobalData's first element: INTEGER msgID */
		n = pks_ber_len(p, off + 1, &len);
		if (p->b[(off + 1 + n) & PKS_WIN_MASK] != 0x02)
			return 0;
		return pks_match_set(m, PKS_P_SNMP, PKS_R_SNMP_V3, PKS_ROLE_ANY);
	}
	if (ver > 1 || p->b[off & PKS_WIN_MASK] != 0x04)
		return 0;
	clen = p->b[(off + 1) & PKS_WIN_MASK];
	if (clen > PKS_SNMP_COMMUNITY_MAX)
		return 0;
	off += 2;
	for (i = 0; i < PKS_SNMP_COMMUNITY_MAX; i++) {
		__u8 c = p->b[(off + i) & PKS_WIN_MASK];

		if (i >= clen || off + i >= p->len)
			break;
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	if (off + clen >= p->len)
		return 0; /* the PDU tag is past the window: too little evidence */
	pdu = p->b[(off + clen) & PKS_WIN_MASK];
	if (pdu < 0xa0 || pdu > 0xa8 || (ver == 0 && pdu > 0xa4) || (ver == 1 && pdu == 0xa4))
		return 0;
	if (pdu == 0xa2 || pdu == 0xa8)
		return pks_match_set(m, PKS_P_SNMP, PKS_R_SNMP_RESPONSE, PKS_ROLE_SERVER);
	return pks_match_set(m, PKS_P_SNMP, PKS_R_SNMP_REQUEST, PKS_ROLE_CLIENT);
}

#endif
