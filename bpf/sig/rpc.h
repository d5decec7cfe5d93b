/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * ONC RPC over TCP (NFS, mountd, portmapper/rpcbind, ...), RFC 5531.
 *  - Record marking (11): a 4-byte fragment header, last-fragment bit and a
 *    31-bit length; a first call fragment holds at least the call header.
 *  - Call (9, "struct call_body"): xid, msg_type CALL (0), rpcvers 2, prog,
 *    vers, proc, then the credential: flavor AUTH_NONE 0, AUTH_SYS 1,
 *    AUTH_SHORT 2, AUTH_DH 3 or RPCSEC_GSS 6 (RFC 2203), with a body of at
 *    most 400 bytes (8.2). The program must be in the IANA range 0x00000001..
 *    0x3fffffff (appendix B); NFS is 100003, portmapper 100000.
 *  - Reply (9, "struct reply_body"): the call's xid (cookie), msg_type
 *    REPLY (1), reply_stat MSG_ACCEPTED (0) or MSG_DENIED (1). It confirms.
 * "nfs" names every ONC RPC program: they share the record format.
 */
#ifndef PKTSPEC_BPF_SIG_RPC_H
#define PKTSPEC_BPF_SIG_RPC_H

#include "sig.h"

#define PKS_RPC_LAST_FRAG 0x80000000u
#define PKS_RPC_CALL_MIN 40     /* xid..proc (24) + cred and verf headers (16) */
#define PKS_RPC_AUTH_MAX 400    /* opaque_auth body bound, RFC 5531 8.2 */
#define PKS_RPC_PROG_MAX 0x3fffffffu

static __always_inline int pks_rpc_flavor_ok(__u32 f)
{
	return f <= 3 || f == 6;
}

static __always_inline int pks_sig_rpc(const struct pks_payload *p, struct pks_match *m)
{
	__u32 frag, flen, xid, type, prog;

	if (p->l4 != IPPROTO_TCP || p->len < 4 + 24)
		return 0;
	frag = pks_be32(p, 0);
	flen = frag & ~PKS_RPC_LAST_FRAG;
	xid = pks_be32(p, 4);
	type = pks_be32(p, 8);

	if (type == 0) {
		if (p->len < 4 + PKS_RPC_CALL_MIN || flen < PKS_RPC_CALL_MIN || pks_be32(p, 12) != 2)
			return 0;
		prog = pks_be32(p, 16);
		if (prog == 0 || prog > PKS_RPC_PROG_MAX)
			return 0;
		if (!pks_rpc_flavor_ok(pks_be32(p, 28)) || pks_be32(p, 32) > PKS_RPC_AUTH_MAX)
			return 0;
		m->cookie = xid;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NFS, PKS_R_RPC_CALL, PKS_ROLE_CLIENT);
	}
	if (type == 1 && p->flow_proto == PKS_P_NFS && xid == p->cookie && flen >= 12 && pks_be32(p, 12) <= 1)
		return pks_match_set(m, PKS_P_NFS, PKS_R_RPC_REPLY, PKS_ROLE_SERVER);
	return 0;
}

#endif
