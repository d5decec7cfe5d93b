/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Kerberos V5 KDC messages (RFC 4120 5.4.1 KDC-REQ, 5.4.2 KDC-REP, 5.9.1
 * KRB-ERROR), over TCP with the 4-octet length prefix of 7.2.2 (its high
 * bit is reserved and zero).
 *  - AS-REQ is [APPLICATION 10] (0x6a) and TGS-REQ [APPLICATION 12] (0x6c)
 *    around SEQUENCE { pvno [1] INTEGER 5, msg-type [2] INTEGER 10 or 12 }.
 *  - AS-REP [APPLICATION 11] (0x6b), TGS-REP [13] (0x6d) and KRB-ERROR [30]
 *    (0x7e) around SEQUENCE { pvno [0] INTEGER 5, msg-type [1] INTEGER 11, 13
 *    or 30 }.
 *  - The DER lengths nest exactly: prefix = application TLV, application
 *    content = SEQUENCE TLV.
 * pks_kerberos_at() reads a message at a base offset with a known length so
 * that the same code serves Kerberos over UDP (base 0, the datagram's length).
 */
#ifndef PKTSPEC_BPF_SIG_KERBEROS_H
#define PKTSPEC_BPF_SIG_KERBEROS_H

#include "sig.h"
#include "ber.h"

#define PKS_KRB_SEGMENT 536 /* the smallest MSS a segment of a longer message would fill */

/* The message at base must be msg_len bytes long; returns the match or 0. */
static __always_inline int pks_kerberos_at(const struct pks_payload *p, struct pks_match *m, __u32 base,
					   __u32 msg_len)
{
	__u32 h1, l1 = 0, h2, l2 = 0, o, ctx_pvno, ctx_type;
	__u8 app = p->b[base & PKS_WIN_MASK], want;
	int client;

	switch (app) {
	case 0x6a: want = 10; client = 1; break;
	case 0x6c: want = 12; client = 1; break;
	case 0x6b: want = 11; client = 0; break;
	case 0x6d: want = 13; client = 0; break;
	case 0x7e: want = 30; client = 0; break;
	default: return 0;
	}
	h1 = pks_ber_len(p, base + 1, &l1);
	if (!h1 || 1 + h1 + l1 != msg_len)
		return 0;
	o = base + 1 + h1;
	if (p->b[o & PKS_WIN_MASK] != 0x30)
		return 0;
	h2 = pks_ber_len(p, o + 1, &l2);
	if (!h2 || 1 + h2 + l2 != l1)
		return 0;
	o += 1 + h2;
	if (o + 10 > p->len)
		return 0;
	/* Requests number pvno [1], msg-type [2]; replies and errors [0], [1]. */
	ctx_pvno = client ? 0xa1 : 0xa0;
	ctx_type = ctx_pvno + 1;
	if (p->b[o & PKS_WIN_MASK] != ctx_pvno || pks_be32(p, o + 1) != 0x03020105)
		return 0;
	if (p->b[(o + 5) & PKS_WIN_MASK] != ctx_type || pks_be32(p, o + 6) != (0x03020100u | want))
		return 0;
	if (client)
		return pks_match_set(m, PKS_P_KERBEROS, PKS_R_KERBEROS_REQUEST, PKS_ROLE_CLIENT);
	return pks_match_set(m, PKS_P_KERBEROS, PKS_R_KERBEROS_REPLY, PKS_ROLE_SERVER);
}

static __always_inline int pks_sig_kerberos(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len;

	if (p->l4 != IPPROTO_TCP || p->len < 4 + 16)
		return 0;
	len = pks_be32(p, 0);
	/* A large TGS-REQ (with a PAC-bearing ticket) spans full-sized segments: the prefix covers at least this one. */
	if ((len & 0x80000000) || len < 16 || len + 4 < p->total)
		return 0;
	if (len + 4 > p->total && p->total < PKS_KRB_SEGMENT)
		return 0; /* a small packet holds its whole message */
	return pks_kerberos_at(p, m, 4, len);
}

/* Kerberos over UDP (RFC 4120 7.2.1): one message per datagram, no prefix. */
static __always_inline int pks_sig_kerberos_udp(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_UDP || p->len < 16)
		return 0;
	return pks_kerberos_at(p, m, 0, p->total);
}

#endif
