/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Microsoft SQL Server, Tabular Data Stream ([MS-TDS] v20240920 or any 7.x).
 *  - Packet header (2.2.3.1): Type, Status, Length (big-endian, header
 *    included), SPID, PacketID, Window (always 0).
 *  - The client starts with PRELOGIN (type 0x12, 2.2.6.5): option tokens of
 *    5 bytes, the first VERSION (0x00) with an offset past the token list and
 *    a length of 6, then another known token or the 0xFF terminator. Clients
 *    that skip PRELOGIN start with LOGIN7 (type 0x10, 2.2.6.4), whose own
 *    little-endian Length field equals the packet data and whose TDSVersion is
 *    7.0 .. 7.4.
 *  - The server answers with a tabular result (type 0x04, 2.2.3.1.1): for a
 *    PRELOGIN the same token list; for a LOGIN7 a LOGINACK, ENVCHANGE, INFO
 *    or ERROR token (2.2.7). Only checked after a client message of ours,
 *    except the PRELOGIN answer, whose token list is as specific as the request.
 */
#ifndef PKTSPEC_BPF_SIG_MSSQL_H
#define PKTSPEC_BPF_SIG_MSSQL_H

#include "sig.h"
#include "bytes.h"

#define PKS_TDS_HDR 8
#define PKS_TDS_PRELOGIN 0x12
#define PKS_TDS_LOGIN7 0x10
#define PKS_TDS_RESPONSE 0x04
#define PKS_TDS_EOM 0x01
#define PKS_TDS_PL_TOKEN_MAX 0x08 /* FEDAUTHREQUIRED 0x06, NONCEOPT 0x07, 0x08 reserved by newer versions */

/* Header common to every TDS packet of the handshake; returns the length or 0. */
static __always_inline __u32 pks_tds_header(const struct pks_payload *p)
{
	__u32 len = pks_be16(p, 2);

	/* A handshake message fits one packet: EOM set, only reset-connection bits besides it. */
	if ((p->b[1] & ~0x18) != PKS_TDS_EOM || p->b[7] != 0)
		return 0;
	if (len < PKS_TDS_HDR + 6 || len > p->total)
		return 0;
	return len;
}

/* PRELOGIN option list (2.2.6.5): VERSION first, 6 bytes, data after the list. */
static __always_inline int pks_tds_prelogin_ok(const struct pks_payload *p, __u32 len)
{
	__u32 off = pks_be16(p, PKS_TDS_HDR + 1);
	__u8 next = p->b[PKS_TDS_HDR + 5];

	if (p->b[PKS_TDS_HDR] != 0x00 || pks_be16(p, PKS_TDS_HDR + 3) != 6)
		return 0;
	/* The data follows the list: 5 bytes per option plus the terminator. */
	if (off < 6 || (off - 1) % 5 != 0 || PKS_TDS_HDR + off + 6 > len)
		return 0;
	return (next >= 0x01 && next <= PKS_TDS_PL_TOKEN_MAX) || next == 0xff;
}

static __always_inline int pks_sig_mssql(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, v;

	if (p->l4 != IPPROTO_TCP || p->len < PKS_TDS_HDR + 8)
		return 0;
	len = pks_tds_header(p);
	if (!len)
		return 0;
	switch (p->b[0]) {
	case PKS_TDS_PRELOGIN:
		if (pks_be16(p, 4) != 0 || !pks_tds_prelogin_ok(p, len))
			return 0;
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_MSSQL, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MSSQL, PKS_R_MSSQL_PRELOGIN, PKS_ROLE_CLIENT);
	case PKS_TDS_LOGIN7:
		v = pks_le32(p, PKS_TDS_HDR + 4) >> 24;
		if (pks_be16(p, 4) != 0 || pks_le32(p, PKS_TDS_HDR) != len - PKS_TDS_HDR || v < 0x70 || v > 0x74)
			return 0;
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_MSSQL, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MSSQL, PKS_R_MSSQL_LOGIN7, PKS_ROLE_CLIENT);
	case PKS_TDS_RESPONSE:
		if (pks_tds_prelogin_ok(p, len))
			return pks_match_set(m, PKS_P_MSSQL, PKS_R_MSSQL_RESPONSE, PKS_ROLE_SERVER);
		if (PKS_COOKIE_TAG(p->cookie) != PKS_TAG_MSSQL)
			return 0;
		v = p->b[PKS_TDS_HDR];
		if (v == 0xad || v == 0xe3 || v == 0xaa || v == 0xab)
			return pks_match_set(m, PKS_P_MSSQL, PKS_R_MSSQL_RESPONSE, PKS_ROLE_SERVER);
		return 0;
	}
	return 0;
}

#endif
