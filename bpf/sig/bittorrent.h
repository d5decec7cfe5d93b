/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * BitTorrent peer wire handshake, BEP 3 ("peer protocol"): the byte 19, the
 * string "BitTorrent protocol", 8 reserved bytes, the 20-byte info_hash and
 * the 20-byte peer_id. Both peers send it, so it has no role; the other
 * peer's handshake confirms. Message Stream Encryption (MSE/PE) hides the
 * handshake and is not recognised.
 */
#ifndef PKTSPEC_BPF_SIG_BITTORRENT_H
#define PKTSPEC_BPF_SIG_BITTORRENT_H

#include "sig.h"

#define PKS_BT_PSTRLEN 19
#define PKS_BT_FIXED (1 + 19 + 8) /* pstrlen, pstr, reserved: the info_hash follows */

static __always_inline int pks_sig_bittorrent(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len < PKS_BT_FIXED || p->b[0] != PKS_BT_PSTRLEN)
		return 0;
	if (pks_be32(p, 1) != PKS_C4('B', 'i', 't', 'T') || pks_be32(p, 5) != PKS_C4('o', 'r', 'r', 'e') ||
	    pks_be32(p, 9) != PKS_C4('n', 't', ' ', 'p') || pks_be32(p, 13) != PKS_C4('r', 'o', 't', 'o') ||
	    pks_be24(p, 17) != PKS_C4(0, 'c', 'o', 'l'))
		return 0;
	return pks_match_set(m, PKS_P_BITTORRENT, PKS_R_BITTORRENT_HANDSHAKE, PKS_ROLE_ANY);
}

#endif
