/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * IEC 60870-5-104 (IEC 60870-5-104:2006 5.1 "APCI", 5.2 numbered I-format,
 * 5.3 unnumbered U-format; ASDU fields from IEC 60870-5-101 7.2).
 *  - APDU: start 0x68, length of the rest 4..253, four control octets.
 *  - U-format: first control octet has bits 0-1 set and exactly one function
 *    (STARTDT act 0x07 / con 0x0B, STOPDT act 0x13 / con 0x23, TESTFR act
 *    0x43 / con 0x83); the other three octets are zero and length is 4.
 *  - S-format: 0x01 0x00, receive sequence number with bit 0 clear, length 4.
 *  - I-format: bit 0 of octets 1 and 3 clear, then an ASDU: type
 *    identification, variable structure qualifier (SQ bit, count 1..127),
 *    cause of transmission (2 octets in 104, 5.4), common address (2), and
 *    the information objects, each a 3-octet address (once when SQ is set)
 *    and an element whose size the type fixes (101 7.3). The length must be
 *    exactly what the type and count make: 10 + n * (3 + size), or
 *    13 + n * size with SQ. Types whose elements vary (F_SG_NA_1) and
 *    reserved ones are not taken.
 * The controlling station opens with STARTDT act (a client message); the
 * rest is sent by both stations. Several APDUs in one packet follow back to
 * back (5.1: the length covers the APCI's control field and the ASDU).
 *
 * Only what the window shows decides: the APDU must end exactly where the
 * packet ends, or be followed by the start octet and a length (4..253) of a
 * next APDU that still fits in the packet, both within the window. A first
 * APDU that runs past the window in a longer packet decides nothing, however
 * well its header reads (random payload met the old "skip what you cannot
 * see" rule on 1 TCP flow in 2,000; tests/captures/negative/make-random-flows.py).
 */
#ifndef PKTSPEC_BPF_SIG_IEC104_H
#define PKTSPEC_BPF_SIG_IEC104_H

#include "sig.h"

/*
 * Octets of one information element of type t (101 7.3, 104 adds the
 * CP56Time2a types 58-64 and 107), or 0xff for a type not taken.
 */
static __always_inline __u32 pks_iec104_elem(__u8 t)
{
	switch (t) {
	case 1: case 3: case 45: case 46: case 47: case 70: case 100: case 101: case 105: case 113:
		return 1;
	case 5: case 21: case 104: case 106:
		return 2;
	case 9: case 11: case 48: case 49: case 110: case 111:
		return 3;
	case 2: case 4: case 51: case 122: case 124:
		return 4;
	case 6: case 7: case 13: case 15: case 20: case 50: case 112: case 123:
		return 5;
	case 10: case 12: case 17: case 120:
		return 6;
	case 18: case 19: case 103: case 121:
		return 7;
	case 8: case 14: case 16: case 30: case 31: case 58: case 59: case 60:
		return 8;
	case 32: case 107:
		return 9;
	case 34: case 35: case 38: case 61: case 62:
		return 10;
	case 39: case 40: case 64:
		return 11;
	case 33: case 36: case 37: case 63:
		return 12;
	case 126:
		return 13;
	case 127:
		return 16;
	case 102:
		return 0; /* C_RD_NA_1: the address alone */
	}
	return 0xff;
}

static __always_inline int pks_sig_iec104(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, n, elem, want;
	__u8 c1, c2, c3, c4, cot;

	if (p->l4 != IPPROTO_TCP || p->len < 6 || p->b[0] != 0x68)
		return 0;
	len = p->b[1];
	if (len < 4 || len > 253 || 2 + len > p->total)
		return 0;
	if (2 + len != p->total) {
		/* Another APDU follows: its start and length must be in view. */
		__u32 next;

		if (2 + len + 2 > p->len || p->b[(2 + len) & PKS_WIN_MASK] != 0x68)
			return 0;
		next = p->b[(3 + len) & PKS_WIN_MASK];
		if (next < 4 || next > 253 || 2 + len + 2 + next > p->total)
			return 0;
	}
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
	n = p->b[7] & 0x7f;
	elem = pks_iec104_elem(p->b[6]);
	if (elem == 0xff || n == 0 || cot == 0 || cot > 47 || (cot > 13 && cot < 20) || cot == 42 ||
	    cot == 43)
		return 0;
	/* The objects fill the rest exactly (SQ: one address, then n elements). */
	if (p->b[7] & 0x80)
		want = 4 + 6 + 3 + n * elem;
	else
		want = 4 + 6 + n * (3 + elem);
	if (len != want)
		return 0;
	return pks_match_set(m, PKS_P_IEC104, PKS_R_IEC104_APDU, PKS_ROLE_ANY);
}

#endif
