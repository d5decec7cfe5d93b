/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * NetBIOS over TCP/IP name and datagram services, RFC 1002.
 *  - Names (RFC 1001 14.1, RFC 1002 4.1): a NetBIOS name is 16 bytes sent
 *    "first-level encoded" as 32 characters 'A'..'P' behind a label length
 *    of 0x20. That encoded label is the strongest evidence in both services.
 *  - Name service, port 137 (RFC 1002 4.2.1.1): a DNS-shaped header whose
 *    OPCODE is query (0), registration (5), release (6), WACK (7) or refresh
 *    (8, 9); the two bits between RA and B are zero; a request has one
 *    question (and one additional record when registering), a response one
 *    answer; the first name is an encoded NetBIOS name. A response with the
 *    request's NAME_TRN_ID confirms.
 *  - Datagram service, port 138 (RFC 1002 4.4.1): MSG_TYPE 0x10..0x12
 *    (direct unique, direct group, broadcast) with the encoded SOURCE_NAME at
 *    offset 14 and a DGM_LENGTH that fits, or 0x14..0x16 (query request and
 *    responses) with the encoded DESTINATION_NAME at offset 10; the FLAGS
 *    byte's top four bits are zero. Datagrams are one-way: signature at most.
 * Separation from DNS: DNS (sig/dns.h) refuses a first question name that is
 * an encoded NetBIOS name, so NBNS is never taken for DNS, on any port.
 */
#ifndef PKTSPEC_BPF_SIG_NETBIOS_H
#define PKTSPEC_BPF_SIG_NETBIOS_H

#include "sig.h"

#define PKS_NB_ENCODED_LEN 32 /* 16 bytes, two characters each */
#define PKS_NB_COOKIE_SET 0x10000

/* Whether a first-level encoded NetBIOS name starts at off (off <= 31). */
static __always_inline int pks_netbios_name_at(const struct pks_payload *p, __u32 off)
{
	__u32 i;

	if (off + 1 + PKS_NB_ENCODED_LEN > p->len || p->b[off & PKS_WIN_MASK] != PKS_NB_ENCODED_LEN)
		return 0;
	for (i = 0; i < PKS_NB_ENCODED_LEN; i++) {
		__u8 c = p->b[(off + 1 + i) & PKS_WIN_MASK];

		if (c < 'A' || c > 'P')
			return 0;
	}
	return 1;
}

static __always_inline int pks_sig_nbns(const struct pks_payload *p, struct pks_match *m)
{
	__u32 opcode = (p->b[2] >> 3) & 0xf, id;

	if (p->len < 12 + 1 + PKS_NB_ENCODED_LEN)
		return 0;
	if ((p->b[3] & 0x60) || (opcode != 0 && (opcode < 5 || opcode > 9)) || pks_be16(p, 8))
		return 0;
	if (!pks_netbios_name_at(p, 12))
		return 0;
	id = pks_be16(p, 0);
	if (!(p->b[2] & 0x80)) {
		/* qdcount 1, ancount 0, arcount 0 or 1 (registration), rcode 0 */
		if (pks_be32(p, 4) != 0x00010000 || pks_be16(p, 10) > 1 || (p->b[3] & 0xf))
			return 0;
		m->cookie = id | PKS_NB_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NETBIOS, PKS_R_NBNS_REQUEST, PKS_ROLE_CLIENT);
	}
	/* qdcount 0, ancount 1, arcount 0 */
	if (pks_be32(p, 4) != 0x00000001 || pks_be16(p, 10))
		return 0;
	if ((p->cookie & PKS_NB_COOKIE_SET) && (p->cookie & 0xffff) != id)
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_NETBIOS, PKS_R_NBNS_RESPONSE, PKS_ROLE_SERVER);
}

static __always_inline int pks_sig_nbds(const struct pks_payload *p, struct pks_match *m)
{
	__u8 type = p->b[0];

	if (p->len < 14 + 1 + PKS_NB_ENCODED_LEN || (p->b[1] & 0xf0))
		return 0;
	if (type >= 0x10 && type <= 0x12) {
		if (pks_be16(p, 10) + 14 > p->total || !pks_netbios_name_at(p, 14))
			return 0;
	} else if (type >= 0x14 && type <= 0x16) {
		if (!pks_netbios_name_at(p, 10))
			return 0;
	} else {
		return 0;
	}
	return pks_match_set(m, PKS_P_NETBIOS, PKS_R_NBDS_DATAGRAM, PKS_ROLE_ANY);
}

#endif
