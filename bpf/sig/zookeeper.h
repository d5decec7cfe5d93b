/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Apache ZooKeeper client protocol (the jute records of
 * zookeeper.jute: ConnectRequest, ConnectResponse; the "ZooKeeper Commands:
 * The Four Letter Words" section of the administrator's guide).
 *  - Every message is an int32 length then the record. A session starts with
 *    ConnectRequest {int protocolVersion = 0; long lastZxidSeen; int timeOut;
 *    long sessionId; buffer passwd (16 bytes); [bool readOnly]}: length 44
 *    or 45. The server answers ConnectResponse {int protocolVersion = 0; int
 *    timeOut; long sessionId; buffer passwd (16); [bool readOnly]}: length
 *    36 or 37, which confirms.
 *  - Administrative four-letter words (ruok, srvr, mntr, ...) come alone on
 *    their connection, optionally with a newline (echo ruok | nc). The
 *    answers: "imok", "Zookeeper version: ..." and "zk_version\t..." confirm.
 */
#ifndef PKTSPEC_BPF_SIG_ZOOKEEPER_H
#define PKTSPEC_BPF_SIG_ZOOKEEPER_H

#include "sig.h"
#include "bytes.h"

#define PKS_ZK_TIMEOUT_MAX 3600000 /* ms; servers clamp to 20 ticks, clients ask far less */

static __always_inline int pks_zk_4lw(__u32 w)
{
	switch (w) {
	case PKS_C4('r', 'u', 'o', 'k'):
	case PKS_C4('s', 'r', 'v', 'r'):
	case PKS_C4('s', 't', 'a', 't'):
	case PKS_C4('m', 'n', 't', 'r'):
	case PKS_C4('c', 'o', 'n', 'f'):
	case PKS_C4('c', 'o', 'n', 's'):
	case PKS_C4('c', 'r', 's', 't'):
	case PKS_C4('d', 'u', 'm', 'p'):
	case PKS_C4('e', 'n', 'v', 'i'):
	case PKS_C4('s', 'r', 's', 't'):
	case PKS_C4('w', 'c', 'h', 's'):
	case PKS_C4('w', 'c', 'h', 'c'):
	case PKS_C4('w', 'c', 'h', 'p'):
	case PKS_C4('d', 'i', 'r', 's'):
	case PKS_C4('i', 's', 'r', 'o'):
		return 1;
	}
	return 0;
}

static __always_inline int pks_sig_zookeeper(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, w, tag = PKS_COOKIE_TAG(p->cookie), t;

	if (p->l4 != IPPROTO_TCP || p->len < 4)
		return 0;
	w = pks_be32(p, 0);

	if (tag == PKS_TAG_ZK_4LW && !p->from_client) {
		if ((p->total == 4 && w == PKS_C4('i', 'm', 'o', 'k')) ||
		    (w == PKS_C4('Z', 'o', 'o', 'k') && pks_be32(p, 4) == PKS_C4('e', 'e', 'p', 'e')) ||
		    (w == PKS_C4('z', 'k', '_', 'v') && pks_be32(p, 4) == PKS_C4('e', 'r', 's', 'i')))
			return pks_match_set(m, PKS_P_ZOOKEEPER, PKS_R_ZOOKEEPER_4LW_REPLY, PKS_ROLE_SERVER);
		return 0;
	}
	if ((p->total == 4 || (p->total == 5 && p->b[4] == '\n')) && pks_zk_4lw(w)) {
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_ZK_4LW, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_ZOOKEEPER, PKS_R_ZOOKEEPER_4LW, PKS_ROLE_CLIENT);
	}

	if (p->len < 40 || pks_be32(p, 4) != 0)
		return 0;
	len = w;
	if (len + 4 > p->total)
		return 0;
	if (len == 44 || len == 45) {
		/* ConnectRequest: timeOut at 16, passwd length at 28, readOnly at 48. */
		t = pks_be32(p, 16);
		if (t == 0 || t > PKS_ZK_TIMEOUT_MAX || pks_be32(p, 28) != 16 || (len == 45 && p->b[48] > 1))
			return 0;
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_ZK_CONNECT, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_ZOOKEEPER, PKS_R_ZOOKEEPER_CONNECT, PKS_ROLE_CLIENT);
	}
	if ((len == 36 || len == 37) && tag == PKS_TAG_ZK_CONNECT) {
		/* ConnectResponse: timeOut at 8, passwd length at 20, readOnly at 40. */
		t = pks_be32(p, 8);
		if (t == 0 || t > PKS_ZK_TIMEOUT_MAX || pks_be32(p, 20) != 16 || (len == 37 && p->b[40] > 1))
			return 0;
		return pks_match_set(m, PKS_P_ZOOKEEPER, PKS_R_ZOOKEEPER_CONNECTED, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
