/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * NAT-PMP, RFC 6886 3.
 *  - Requests (3.2, 3.3): version 0, opcode 0 (external address, 2 bytes) or
 *    1/2 (map UDP/TCP, 12 bytes with two reserved zero bytes).
 *  - Responses: version 0, opcode 128 + request opcode, result code 0..5,
 *    then 12 bytes (opcode 128) or 16 bytes (129, 130).
 * A few fixed bytes and an exact size are little evidence, so the signature
 * needs port 5351 on one side (3: the gateway listens there). A response to
 * the request's opcode confirms.
 */
#ifndef PKTSPEC_BPF_SIG_NAT_PMP_H
#define PKTSPEC_BPF_SIG_NAT_PMP_H

#include "sig.h"

#define PKS_NAT_PMP_PORT 5351
#define PKS_NAT_PMP_COOKIE_SET 0x100

static __always_inline int pks_sig_nat_pmp(const struct pks_payload *p, struct pks_match *m)
{
	__u8 op = p->b[1];

	if (p->sport != PKS_NAT_PMP_PORT && p->dport != PKS_NAT_PMP_PORT)
		return 0;
	if (p->len < 2 || p->b[0] != 0)
		return 0;
	if ((op == 0 && p->total == 2) || ((op == 1 || op == 2) && p->total == 12 && pks_be16(p, 2) == 0)) {
		m->cookie = op | PKS_NAT_PMP_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NAT_PMP, PKS_R_NAT_PMP_REQUEST, PKS_ROLE_CLIENT);
	}
	if (pks_be16(p, 2) > 5)
		return 0;
	if ((op == 128 && p->total == 12) || ((op == 129 || op == 130) && p->total == 16)) {
		if ((p->cookie & PKS_NAT_PMP_COOKIE_SET) && (p->cookie & 0xff) != (__u32)(op - 128))
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_NAT_PMP, PKS_R_NAT_PMP_RESPONSE, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
