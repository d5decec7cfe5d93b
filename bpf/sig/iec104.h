/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * IEC 60870-5-104 (IEC 60870-5-104:2006 5.1 "APCI", 5.2 numbered I-format,
 * 5.3 unnumbered U-format; ASDU fields from IEC 60870-5-101 7.2).
 *  - APDU: start 0x68, length of the rest 4..253, four control octets.
 *  - U-format: first control octet has bits 0-1 set and exactly one function
 *    (STARTDT act 0x07 / con 0x0B, STOPDT act 0x13 / con 0x23, TESTFR act
 *    0x43 / con 0x83); the other three octets are zero and length is 4.
 *  - S-format: 0x01 0x00, receive sequence number with bit 0 clear, length 4.
 *  - I-format: bit 0 of octets 1 and 3 clear, then an ASDU of at least 6
 *    octets with a defined type identification and cause of transmission.
 * The controlling station opens with STARTDT act (a client message); the
 * rest is sent by both stations. Several APDUs in one packet follow back to back.
 */
#ifndef PKTSPEC_BPF_SIG_IEC104_H
#define PKTSPEC_BPF_SIG_IEC104_H

#include "sig.h"

static __always_inline int pks_iec104_type_ok(__u8 t)
{
	/* Defined type identifications (101 7.2.1.1, 104 adds 58-64, 107). */
	return (t >= 1 && t <= 40) || (t >= 45 && t <= 51) || (t >= 58 && t <= 64) || t == 70 ||
	       (t >= 100 && t <= 107) || (t >= 110 && t <= 113) || (t >= 120 && t <= 127);
}

static __always_inline int pks_sig_iec104(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len;
	__u8 c1, c2, c3, c4, cot;

	if (p->l4 != IPPROTO_TCP || p->len < 6 || p->b[0] != 0x68)
		return 0;
	len = p->b[1];
	if (len < 4 || len > 253 || 2 + len > p->total)
		return 0;
	if (2 + len < p->len && p->b[(2 + len) & PKS_WIN_MASK] != 0x68)
		return 0;
	c1 = p->b[2];
	c2 = p->b[3];
	c3 = p->b[4];
	c4 = p->b[5];
	if ((c1 & 0x03) == 0x03) {
		if (len != 4 || c2 || c3 || c4)
			return 0;
		switch (c1) {
		case 0x07:
			return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_STARTDT, PKS_ROLE_CLIENT);
		case 0x0b:
			return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_APDU, PKS_ROLE_SERVER);
		case 0x13: case 0x23: case 0x43: case 0x83:
			return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_APDU, PKS_ROLE_ANY);
		}
		return 0;
	}
	if (c1 == 0x01) {
		if (len != 4 || c2 || (c3 & 1))
			return 0;
		return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_APDU, PKS_ROLE_ANY);
	}
	if ((c1 & 1) || (c3 & 1) || len < 4 + 6 || p->len < 12)
		return 0;
	/* ASDU: type, variable structure qualifier (count 1..127), cause of transmission. */
	cot = p->b[8] & 0x3f;
	if (!pks_iec104_type_ok(p->b[6]) || (p->b[7] & 0x7f) == 0 || cot == 0 || cot > 47 ||
	    (cot > 13 && cot < 20) || cot == 42 || cot == 43)
		return 0;
	return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_APDU, PKS_ROLE_ANY);
}

#endif
