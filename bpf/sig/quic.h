/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * QUIC long-header packets, RFC 9000 17.2 (v1), RFC 9369 (v2), and the
 * other versions of IANA's "QUIC Versions" registry (RFC 9000 22.2) that
 * carry Initials in the v1 or v2 layout:
 *  - the IETF drafts 0xff0000NN (draft-ietf-quic-transport-17..34);
 *  - 0x709a50c4, the provisional number of draft-ietf-quic-v2-01..10, whose
 *    packet types are already v2's;
 *  - 0xfaceb001..0xfaceb01f, Facebook's mvfst (its QuicVersion enum: MVFST
 *    0xfaceb002, MVFST_D24 0xfaceb001, the aliases and experiments
 *    0xfaceb00e, 0xfaceb010.. in the same block), which keeps the v1 types.
 *  A version outside these stays unnamed, however QUIC-like the rest.
 *  - Header form and fixed bit set (17.2); a known version.
 *  - Initial type: 0b00 in v1, the drafts and mvfst, 0b01 in v2 (RFC 9369
 *    3.2).
 *  - Destination and source connection IDs at most 20 bytes (17.2), and a
 *    client's first Destination CID at least 8 bytes (7.2).
 *  - A client's datagram carrying an Initial is at least 1200 bytes (14.1).
 * The server answers with a long header of the client's version (Initial,
 * Handshake or Retry), which confirms. Version negotiation (version 0) also
 * comes only from a QUIC server.
 */
#ifndef PKTSPEC_BPF_SIG_QUIC_H
#define PKTSPEC_BPF_SIG_QUIC_H

#include "sig.h"

#define PKS_QUIC_V1 0x00000001
#define PKS_QUIC_V2 0x6b3343cf
#define PKS_QUIC_V2_DRAFT 0x709a50c4
#define PKS_QUIC_MVFST 0xfaceb000 /* the block 0xfaceb000..0xfaceb01f */
#define PKS_QUIC_MIN_INITIAL 1200

/* Returns the Initial long-packet type for a known version, or -1. */
static __always_inline int pks_quic_initial_type(__u32 version)
{
	if (version == PKS_QUIC_V1)
		return 0;
	if (version == PKS_QUIC_V2 || version == PKS_QUIC_V2_DRAFT)
		return 1;
	if ((version & 0xffffffe0) == PKS_QUIC_MVFST && version != PKS_QUIC_MVFST)
		return 0;
	/* draft-ietf-quic-transport-17 .. -34 */
	if ((version & 0xffffff00) == 0xff000000 && (version & 0xff) >= 17 && (version & 0xff) <= 34)
		return 0;
	return -1;
}

static __always_inline int pks_sig_quic(const struct pks_payload *p, struct pks_match *m)
{
	__u32 version, dcil, scil;
	int initial;

	if (p->l4 != IPPROTO_UDP || p->len < 7 || (p->b[0] & 0xc0) != 0xc0)
		return 0;
	version = pks_be32(p, 1);
	dcil = p->b[5];
	/* The source ID's length byte must be in the payload, not the window's zeros past it. */
	if (dcil > 20 || 6 + dcil >= p->len)
		return 0;
	scil = p->b[(6 + dcil) & PKS_WIN_MASK];
	if (scil > 20)
		return 0;

	if (!p->from_client) {
		/* Server: the client's version, or version negotiation. */
		if (p->flow_proto == PKS_P_QUIC && (version == p->cookie || version == 0))
			return pks_match_set(m, PKS_P_QUIC, PKS_R_QUIC_SERVER, PKS_ROLE_SERVER);
		return 0;
	}
	initial = pks_quic_initial_type(version);
	if (initial < 0 || ((p->b[0] >> 4) & 3) != (__u32)initial)
		return 0;
	if (dcil < 8 || p->total < PKS_QUIC_MIN_INITIAL)
		return 0;
	m->cookie = version;
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_QUIC, PKS_R_QUIC_INITIAL, PKS_ROLE_CLIENT);
}

/*
 * Google QUIC, which the IETF drafts did not describe.
 *  - Q046 and later (Q050, T050, T051, the "IETF invariant header" versions of
 *    Chromium's quic_versions.h): a long header (RFC 8999 5.1: form and fixed
 *    bits set) whose version is ASCII 'Q' or 'T' and three digits. Q046 still
 *    packs both connection ID lengths in one byte (4 bits each, 0 or 3 + n, as
 *    in draft-ietf-quic-invariants-05); Q050 and later use RFC 8999's separate
 *    length bytes. The client's first packet carries an 8-byte destination
 *    connection ID and is padded to a full datagram (at least 1200 bytes, as
 *    for IETF QUIC); the server answers with a long header of the same version.
 *  - Q043 and earlier: the gQUIC public header (flags, 8-byte connection ID,
 *    version) with the version flag 0x01 and the 8-byte-CID flag 0x08 set, the
 *    unused bit 0x80 clear, and version "Q0" followed by two digits, in a client hello of at least 1024 bytes.
 */
/*
 * A client may open with a reserved version 0x?a?a?a?a (RFC 9000 15, 6.3) to
 * make the server answer with version negotiation: the same long header and
 * padding rules as an Initial (RFC 8999 5.1 keeps them version-independent),
 * and the server's version negotiation (version 0) confirms.
 */
static __always_inline int pks_sig_quic_reserved(const struct pks_payload *p, struct pks_match *m)
{
	__u32 version = pks_be32(p, 1), dcil = p->b[5];

	if (p->l4 != IPPROTO_UDP || !p->from_client || p->len < 16 || (p->b[0] & 0xc0) != 0xc0)
		return 0;
	if ((version & 0x0f0f0f0f) != 0x0a0a0a0a || dcil < 8 || dcil > 20 || p->total < PKS_QUIC_MIN_INITIAL)
		return 0;
	if (p->b[(6 + dcil) & PKS_WIN_MASK] > 20)
		return 0;
	m->cookie = version;
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_QUIC, PKS_R_QUIC_RESERVED_VERSION, PKS_ROLE_CLIENT);
}

/* Chromium pads a gQUIC client hello to at least kClientHelloMinimumSize. */
#define PKS_GQUIC_MIN_CHLO 1024

static __always_inline int pks_gquic_version(__u32 v)
{
	__u8 a = v >> 24, b = v >> 16, c = v >> 8, d = v;

	return (a == 'Q' || a == 'T') && pks_is_digit(b) && pks_is_digit(c) && pks_is_digit(d);
}

static __always_inline int pks_sig_gquic(const struct pks_payload *p, struct pks_match *m)
{
	__u32 version, dcil, scil;

	if (p->l4 != IPPROTO_UDP || p->len < 16)
		return 0;
	if ((p->b[0] & 0xc0) == 0xc0) {
		version = pks_be32(p, 1);
		if (!pks_gquic_version(version))
			return 0;
		/* Q046 and earlier invariant drafts: one byte of two 4-bit lengths. */
		if (version == PKS_C4('Q', '0', '4', '6')) {
			dcil = p->b[5] >> 4;
			scil = p->b[5] & 0xf;
			dcil = dcil ? dcil + 3 : 0;
			scil = scil ? scil + 3 : 0;
		} else {
			dcil = p->b[5];
			if (dcil > 20 || 6 + dcil >= p->len)
				return 0;
			scil = p->b[(6 + dcil) & PKS_WIN_MASK];
			if (scil > 20)
				return 0;
		}
		if (p->from_client && dcil == 8 && p->total >= PKS_QUIC_MIN_INITIAL) {
			m->cookie = version;
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_QUIC, PKS_R_GQUIC_LONG_HEADER, PKS_ROLE_CLIENT);
		}
		if (!p->from_client && p->flow_proto == PKS_P_QUIC && p->cookie == version)
			return pks_match_set(m, PKS_P_QUIC, PKS_R_QUIC_SERVER, PKS_ROLE_SERVER);
		return 0;
	}
	/* Public header: flags, then the 8-byte connection ID, then the version. */
	if ((p->b[0] & 0x89) != 0x09 || !p->from_client || p->total < PKS_GQUIC_MIN_CHLO)
		return 0;
	version = pks_be32(p, 9);
	if ((version >> 16) != ('Q' << 8 | '0') || !pks_is_digit(p->b[11]) || !pks_is_digit(p->b[12]))
		return 0;
	m->cookie = version;
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_QUIC, PKS_R_GQUIC_PUBLIC_HEADER, PKS_ROLE_CLIENT);
}

#endif
