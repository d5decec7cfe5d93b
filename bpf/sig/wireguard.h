/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * WireGuard, the protocol paper's section 5.4 (Donenfeld, "WireGuard: Next
 * Generation Kernel Network Tunnel"), as implemented by the kernel and
 * wireguard-go.
 *  - Every message: a type byte then three reserved zero bytes.
 *  - Exact sizes: handshake initiation (1) 148 bytes, handshake response (2)
 *    92, cookie reply (3) 64, transport data (4) 32 + 16n (a 16-byte header,
 *    the padded plaintext in 16-byte blocks, a 16-byte tag; 5.4.6).
 *  - The response's receiver index (offset 8) is the initiation's sender
 *    index (offset 4): kept in the cookie, it confirms.
 *  - Transport data alone (a flow seen mid-session) also needs its 64-bit
 *    little-endian counter below 2^32 (the top four bytes zero): rekeying
 *    happens long before (REKEY_AFTER_MESSAGES is 2^60, but REKEY_AFTER_TIME
 *    of two minutes caps real counters far lower).
 */
#ifndef PKTSPEC_BPF_SIG_WIREGUARD_H
#define PKTSPEC_BPF_SIG_WIREGUARD_H

#include "sig.h"

static __always_inline int pks_sig_wireguard(const struct pks_payload *p, struct pks_match *m)
{
	__u8 type = p->b[0];

	if (p->len < 32 || pks_be24(p, 1) != 0)
		return 0;
	if (type == 1 && p->total == 148) {
		m->cookie = pks_be32(p, 4);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_WIREGUARD, PKS_R_WG_INITIATION, PKS_ROLE_CLIENT);
	}
	if (type == 2 && p->total == 92) {
		if (p->flow_proto == PKS_P_WIREGUARD && p->cookie != pks_be32(p, 8))
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_WIREGUARD, PKS_R_WG_RESPONSE, PKS_ROLE_SERVER);
	}
	if (type == 3 && p->total == 64)
		return pks_match_set(m, PKS_P_WIREGUARD, PKS_R_WG_COOKIE, PKS_ROLE_SERVER);
	if (type == 4 && p->total >= 32 && (p->total & 15) == 0 && pks_be32(p, 12) == 0)
		return pks_match_set(m, PKS_P_WIREGUARD, PKS_R_WG_DATA, PKS_ROLE_ANY);
	return 0;
}

#endif
