/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * VNC, the RFB protocol, RFC 6143 7.1.1: both sides open with a 12-byte
 * ProtocolVersion "RFB xxx.yyy\n" (three-digit major and minor, e.g.
 * "RFB 003.008\n"), the server first and the client answering with the
 * version it chose. The message is the whole segment. It has no role: the
 * other side's version confirms, and either side's first payload is always a
 * version, so a payload that is not one contradicts the port.
 */
#ifndef PKTSPEC_BPF_SIG_VNC_H
#define PKTSPEC_BPF_SIG_VNC_H

#include "sig.h"

#define PKS_RFB_VERSION_LEN 12

static __always_inline int pks_sig_vnc(const struct pks_payload *p, struct pks_match *m)
{
	if (p->total != PKS_RFB_VERSION_LEN || pks_be32(p, 0) != PKS_C4('R', 'F', 'B', ' '))
		return 0;
	if (!pks_is_digit(p->b[4]) || !pks_is_digit(p->b[5]) || !pks_is_digit(p->b[6]) || p->b[7] != '.' ||
	    !pks_is_digit(p->b[8]) || !pks_is_digit(p->b[9]) || !pks_is_digit(p->b[10]) || p->b[11] != '\n')
		return 0;
	return pks_match_set(m, PKS_P_VNC, PKS_R_VNC_VERSION, PKS_ROLE_ANY);
}

#endif
