/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * ONC RPC over UDP, RFC 5531 9 (no record marking on datagrams).
 *  - Call: xid, msg_type CALL (0), rpcvers 2, program, version, procedure,
 *    then the credential's flavor (AUTH_NONE 0 .. RPCSEC_GSS 6, RFC 5531 8.2
 *    and RFC 2203) and opaque length (at most 400 bytes, 8.2) as a multiple
 *    of 4 (XDR, RFC 4506 4.10). The program version is small (at most 16).
 *  - Reply: the call's xid, msg_type REPLY (1), reply_stat 0 or 1. Four
 *    bytes of constants are weak on their own, so a reply is recognised only
 *    when it carries the xid of a call seen in the flow, and then confirms.
 * ONC RPC carries NFS, mountd, rpcbind and friends: all named "nfs".
 */
#ifndef PKTSPEC_BPF_SIG_ONCRPC_UDP_H
#define PKTSPEC_BPF_SIG_ONCRPC_UDP_H

#include "sig.h"

#define PKS_RPC_AUTH_MAX 400
#define PKS_RPC_VERS_MAX 16

static __always_inline int pks_sig_oncrpc_udp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 xid = pks_be32(p, 0), type = pks_be32(p, 4), flavor, alen;

	if (p->len < 12)
		return 0;
	if (type == 1) {
		if (p->flow_proto != PKS_P_NFS || p->cookie != xid || pks_be32(p, 8) > 1)
			return 0;
		return pks_match_set(m, PKS_P_NFS, PKS_R_RPC_UDP_REPLY, PKS_ROLE_SERVER);
	}
	if (type != 0 || p->len < 32 || pks_be32(p, 8) != 2)
		return 0;
	flavor = pks_be32(p, 24);
	alen = pks_be32(p, 28);
	if (pks_be32(p, 16) > PKS_RPC_VERS_MAX || flavor > 6 || alen > PKS_RPC_AUTH_MAX || (alen & 3) ||
	    32 + alen + 8 > p->total)
		return 0;
	m->cookie = xid;
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_NFS, PKS_R_RPC_UDP_CALL, PKS_ROLE_CLIENT);
}

#endif
