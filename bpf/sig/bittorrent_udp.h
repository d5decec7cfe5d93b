/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * BitTorrent over UDP: the DHT (BEP 5) and uTP (BEP 29).
 *  - DHT messages are bencoded dictionaries (BEP 3) with sorted keys. A query
 *    starts "d1:ad2:id20:" (key "a", whose dictionary's first key is the
 *    20-byte node "id"); a response "d1:rd2:id20:"; BEP 42 responses may put
 *    "ip" first: "d2:ip6:" (IPv4) or "d2:ip18:" (IPv6), then "1:rd2:id20:".
 *    The transaction ID ("t") sorts after and lies past the window, so a
 *    response after a query confirms.
 *  - uTP (BEP 29 "header format"): type (ST_DATA 0 .. ST_SYN 4) and version 1
 *    in the first byte, an extension byte (0 none, 1 selective ACK, 2
 *    extension bits), connection ID, timestamps, window, seq_nr, ack_nr: 20
 *    bytes. The connection opens with ST_SYN: timestamp_difference zero,
 *    no payload (the datagram is the header plus its extensions, 20..64).
 *    The answer is ST_STATE with the same connection ID and an ack_nr equal
 *    to the SYN's seq_nr: kept in the cookie, it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_BITTORRENT_UDP_H
#define PKTSPEC_BPF_SIG_BITTORRENT_UDP_H

#include "sig.h"

#define PKS_UTP_HDR 20
#define PKS_UTP_SYN_MAX 64

static __always_inline int pks_dht_id_at(const struct pks_payload *p, __u32 off)
{
	/* "1:rd2:id20:" or "1:ad2:id20:" from off */
	return pks_be16(p, off) == ('1' << 8 | ':') && p->b[(off + 3) & PKS_WIN_MASK] == 'd' &&
	       pks_be32(p, off + 4) == PKS_C4('2', ':', 'i', 'd') && pks_be24(p, off + 8) == ('2' << 16 | '0' << 8 | ':');
}

static __always_inline int pks_sig_dht(const struct pks_payload *p, struct pks_match *m)
{
	__u32 off;

	if (p->len < 40 || p->b[0] != 'd')
		return 0;
	if (pks_dht_id_at(p, 1)) {
		if (p->b[3] == 'a')
			return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_DHT_QUERY, PKS_ROLE_CLIENT);
		if (p->b[3] == 'r')
			return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_DHT_RESPONSE, PKS_ROLE_SERVER);
		return 0;
	}
	if (pks_be32(p, 1) == PKS_C4('2', ':', 'i', 'p') && pks_be16(p, 5) == ('6' << 8 | ':'))
		off = 7 + 6;
	else if (pks_be32(p, 1) == PKS_C4('2', ':', 'i', 'p') && pks_be24(p, 5) == ('1' << 16 | '8' << 8 | ':'))
		off = 8 + 18;
	else
		return 0;
	if (pks_dht_id_at(p, off) && p->b[(off + 2) & PKS_WIN_MASK] == 'r')
		return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_DHT_RESPONSE, PKS_ROLE_SERVER);
	return 0;
}

static __always_inline int pks_sig_utp(const struct pks_payload *p, struct pks_match *m)
{
	__u8 b0 = p->b[0], ext = p->b[1];
	__u32 conn = pks_be16(p, 2);

	if (p->len < PKS_UTP_HDR || ext > 2)
		return 0;
	if (b0 == 0x41) {
		/* ST_SYN, version 1 */
		if (pks_be32(p, 8) != 0 || p->total > PKS_UTP_SYN_MAX || (ext == 0 && p->total != PKS_UTP_HDR))
			return 0;
		m->cookie = conn << 16 | pks_be16(p, 16);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_UTP_SYN, PKS_ROLE_CLIENT);
	}
	if (b0 == 0x21 && p->flow_proto == PKS_P_BITTORRENT && p->cookie == (conn << 16 | pks_be16(p, 18)))
		return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_UTP_STATE, PKS_ROLE_SERVER);
	return 0;
}

#endif
