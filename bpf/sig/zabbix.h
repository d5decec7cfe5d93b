/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Zabbix protocol (Zabbix manual, "Zabbix protocols": "Header and data
 * length"), used between server, proxy, agent and zabbix_get/zabbix_sender.
 *  - "ZBXD", a flags byte (0x01 Zabbix protocol, 0x02 compression, 0x04
 *    large packet) with the protocol bit always set, then data length and
 *    reserved, 4 bytes each little-endian (8 each with 0x04).
 *  - The reserved field holds the uncompressed size when compressed and is
 *    zero otherwise; the data length matches the packet, or the packet is a
 *    full-sized segment and the message continues in later ones.
 * Both sides frame every message this way, so the header is recognised in
 * either direction and the other side's header confirms.
 */
#ifndef PKTSPEC_BPF_SIG_ZABBIX_H
#define PKTSPEC_BPF_SIG_ZABBIX_H

#include "sig.h"
#include "bytes.h"

#define PKS_ZABBIX_MAX (1u << 30) /* ZBX_MAX_RECV_DATA_SIZE is 1 GB */
#define PKS_ZABBIX_SEGMENT 536 /* the smallest MSS a segment of a longer message would fill */

static __always_inline int pks_sig_zabbix(const struct pks_payload *p, struct pks_match *m)
{
	__u32 hdr, len, reserved;
	__u8 flags;

	if (p->l4 != IPPROTO_TCP || p->len < 13 || pks_be32(p, 0) != PKS_C4('Z', 'B', 'X', 'D'))
		return 0;
	flags = p->b[4];
	if ((flags & ~0x07) || !(flags & 0x01))
		return 0;
	if (flags & 0x04) {
		/* Large packet: 64-bit lengths, whose high halves stay below 2^32 here. */
		if (p->len < 21 || pks_le32(p, 9) != 0 || pks_le32(p, 17) != 0)
			return 0;
		hdr = 21;
		len = pks_le32(p, 5);
		reserved = pks_le32(p, 13);
	} else {
		hdr = 13;
		len = pks_le32(p, 5);
		reserved = pks_le32(p, 9);
	}
	if (len == 0 || len > PKS_ZABBIX_MAX || hdr + len < p->total)
		return 0;
	/* A message may continue past a full-sized segment, not past a small packet. */
	if (hdr + len > p->total && p->total < PKS_ZABBIX_SEGMENT)
		return 0;
	if ((flags & 0x02) ? (reserved == 0 || reserved > PKS_ZABBIX_MAX) : reserved != 0)
		return 0;
	return pks_match_set(m, PKS_P_ZABBIX, PKS_R_ZABBIX_HEADER, PKS_ROLE_ANY);
}

#endif
