/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3
 * "MBAP Header"; Modbus Application Protocol V1.1b3, 6 "Function codes
 * descriptions").
 *  - MBAP: transaction id, protocol id 0, length (unit id + PDU, 2..254),
 *    unit id; then the function code.
 *  - The request's length is the one its function code defines: 6 for
 *    reads and single writes (1..6) with quantities in their ranges (6.1-6.4),
 *    7 + byte count for multiple writes (15, 16) with the byte count matching
 *    the quantity (6.11, 6.12), 8 for mask write (22), 11 + byte count for
 *    read/write multiple (23), 4 for read FIFO (24), 5 for read device
 *    identification (43/14), 2 for the serial-line diagnostics (7, 11, 12, 17).
 *  - User-defined function codes 65..72 and 100..110 (Application Protocol
 *    5, "Function Code Categories"), and 90, one of the codes 5 reserves for
 *    legacy products (Schneider's UMAS uses it): no layout is defined, so
 *    the request must be one whole ADU, its MBAP length exactly the rest of
 *    the segment, and only the echoed reply (the same code, or the code |
 *    0x80 with an exception, and again exactly one ADU) confirms.
 *  - The response echoes the transaction id and the function code (or the
 *    code | 0x80 with exception 1..11), with a length that fits; it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_MODBUS_H
#define PKTSPEC_BPF_SIG_MODBUS_H

#include "sig.h"
#include "bytes.h"

#define PKS_MBAP 7

static __always_inline int pks_modbus_user_fc(__u8 fc)
{
	return (fc >= 65 && fc <= 72) || (fc >= 100 && fc <= 110) || fc == 90;
}

static __always_inline int pks_modbus_request_ok(const struct pks_payload *p, __u32 len, __u8 fc)
{
	__u32 qty = pks_be16(p, 10), bc = p->b[12];

	switch (fc) {
	case 1: case 2: /* read coils / discrete inputs: 1..2000 */
		return len == 6 && qty >= 1 && qty <= 2000;
	case 3: case 4: /* read holding / input registers: 1..125 */
		return len == 6 && qty >= 1 && qty <= 125;
	case 5: /* write single coil: 0x0000 or 0xFF00 */
		return len == 6 && (qty == 0 || qty == 0xff00);
	case 6:
		return len == 6;
	case 7: case 11: case 12: case 17:
		return len == 2;
	case 15: /* write multiple coils: 1..1968, byte count = ceil(qty / 8) */
		return qty >= 1 && qty <= 1968 && bc == (qty + 7) / 8 && len == 7 + bc;
	case 16: /* write multiple registers: 1..123, byte count = 2 * qty */
		return qty >= 1 && qty <= 123 && bc == 2 * qty && len == 7 + bc;
	case 22:
		return len == 8;
	case 23: { /* read/write multiple registers */
		__u32 wqty = pks_be16(p, 14), wbc = p->b[16];

		return qty >= 1 && qty <= 125 && wqty >= 1 && wqty <= 121 && wbc == 2 * wqty && len == 11 + wbc;
	}
	case 24:
		return len == 4;
	case 43: /* encapsulated interface: read device identification (MEI 14), codes 1..4 */
		return len == 5 && p->b[8] == 14 && p->b[9] >= 1 && p->b[9] <= 4;
	}
	return pks_modbus_user_fc(fc) && 6 + len == p->total;
}

static __always_inline int pks_sig_modbus(const struct pks_payload *p, struct pks_match *m)
{
	__u32 tid, len;
	__u8 fc;

	if (p->l4 != IPPROTO_TCP || p->len < 9 || pks_be16(p, 2) != 0)
		return 0;
	tid = pks_be16(p, 0);
	len = pks_be16(p, 4);
	fc = p->b[7];
	if (len < 2 || len > 254 || 6 + len > p->total)
		return 0;

	if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_MODBUS && !p->from_client) {
		__u8 want = (p->cookie >> 16) & 0xff;

		if (tid != (p->cookie & 0xffff))
			return 0;
		if (fc == (want | 0x80))
			return len == 3 && p->b[8] >= 1 && p->b[8] <= 11 ?
				       pks_match_set(m, PKS_P_MODBUS, PKS_R_MODBUS_RESPONSE, PKS_ROLE_SERVER) : 0;
		if (fc != want)
			return 0;
		if (pks_modbus_user_fc(fc) && 6 + len != p->total)
			return 0;
		/* Reads answer with a byte count that makes up the length (6.1-6.4). */
		if (fc >= 1 && fc <= 4 && len != 3 + (__u32)p->b[8])
			return 0;
		if ((fc == 5 || fc == 6 || fc == 15 || fc == 16) && len != 6)
			return 0;
		return pks_match_set(m, PKS_P_MODBUS, PKS_R_MODBUS_RESPONSE, PKS_ROLE_SERVER);
	}
	if (p->len < 6 + len && p->len < PKS_WIN)
		return 0;
	if (!pks_modbus_request_ok(p, len, fc))
		return 0;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_MODBUS, ((__u32)fc << 16) | tid);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_MODBUS, PKS_R_MODBUS_REQUEST, PKS_ROLE_CLIENT);
}

#endif
