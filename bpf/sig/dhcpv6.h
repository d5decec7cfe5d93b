/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * DHCPv6, RFC 8415 8 (client/server messages) and 21 (options).
 *  - msg-type: client messages SOLICIT 1, REQUEST 3, CONFIRM 4, RENEW 5,
 *    REBIND 6, RELEASE 8, DECLINE 9, INFORMATION-REQUEST 11; server messages
 *    ADVERTISE 2, REPLY 7, RECONFIGURE 10.
 *  - A 24-bit transaction-id, then options (21.1: 16-bit code and length).
 *    The options the window holds are walked: each code is non-zero and at
 *    most the highest assigned (about 150), each length fits the datagram,
 *    and the message carries at least one option (every message has a
 *    Client Identifier or an Elapsed Time, 18.2).
 * One type byte and a few option headers are little evidence, so the ports
 * decide: the signature needs 546 or 547 on one side (7.2: clients listen on
 * 546, servers and relays on 547). A server message with the client's
 * transaction-id confirms.
 */
#ifndef PKTSPEC_BPF_SIG_DHCPV6_H
#define PKTSPEC_BPF_SIG_DHCPV6_H

#include "sig.h"
#include "opaque.h"

#define PKS_DHCPV6_OPT_WALK 4   /* option headers checked: enough, bounded */
#define PKS_DHCPV6_OPT_MAX 160  /* above the highest assigned option code */
#define PKS_DHCPV6_COOKIE_SET 0x1000000

static __always_inline int pks_sig_dhcpv6(const struct pks_payload *p, struct pks_match *m)
{
	__u32 type = p->b[0], xid = pks_be24(p, 1), off = 4, i;
	int client;

	if (p->sport != 546 && p->sport != 547 && p->dport != 546 && p->dport != 547)
		return 0;
	if (p->total < 8)
		return 0;
	switch (type) {
	case 1: case 3: case 4: case 5: case 6: case 8: case 9: case 11:
		client = 1;
		break;
	case 2: case 7: case 10:
		client = 0;
		break;
	default:
		return 0;
	}
	for (i = 0; i < PKS_DHCPV6_OPT_WALK; i++) {
		__u32 code, len;

		if (off + 4 > p->total || off + 4 > PKS_WIN)
			break;
		off = pks_opaque(off);
		code = pks_be16(p, off);
		len = pks_be16(p, off + 2);
		if (code == 0 || code > PKS_DHCPV6_OPT_MAX || off + 4 + len > p->total)
			return 0;
		off += 4 + len;
	}
	if (client) {
		m->cookie = xid | PKS_DHCPV6_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_DHCPV6, PKS_R_DHCPV6_CLIENT, PKS_ROLE_CLIENT);
	}
	if ((p->cookie & PKS_DHCPV6_COOKIE_SET) && (p->cookie & 0xffffff) != xid)
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_DHCPV6, PKS_R_DHCPV6_SERVER, PKS_ROLE_SERVER);
}

#endif
