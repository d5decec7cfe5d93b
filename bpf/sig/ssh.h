/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SSH protocol version exchange, RFC 4253 4.2: "SSH-protoversion-softwareversion".
 * Both sides send it; protoversion is "2.0", or "1.99" from servers that also
 * speak SSH 1 (section 5.1). A server may send other lines first, so a server
 * payload that does not start with "SSH-" does not contradict SSH.
 */
#ifndef PKTSPEC_BPF_SIG_SSH_H
#define PKTSPEC_BPF_SIG_SSH_H

#include "sig.h"

static __always_inline int pks_sig_ssh(const struct pks_payload *p, struct pks_match *m)
{
	__u32 v;

	if (p->l4 != IPPROTO_TCP || p->len < 9 || pks_be32(p, 0) != PKS_C4('S', 'S', 'H', '-'))
		return 0;
	v = pks_be32(p, 4);
	if (v == PKS_C4('2', '.', '0', '-') ||
	    (v == PKS_C4('1', '.', '9', '9') && p->b[8] == '-'))
		return pks_match_set(m, PKS_P_SSH, PKS_R_SSH_BANNER, PKS_ROLE_ANY);
	return 0;
}

#endif
