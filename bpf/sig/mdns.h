/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Multicast DNS, RFC 6762, in the messages plain DNS (sig/dns.h) refuses.
 * sig/dns.h already recognises a one-question query and a response that
 * echoes its question, and names them mDNS on port 5353 and LLMNR on 5355
 * (RFC 4795 2.1: LLMNR queries carry exactly one question, so dns.h covers
 * them). Real mDNS also sends:
 *  - queries with several questions, known answers (7.1) and, when probing,
 *    authority records (8.2); the ID is usually zero (18.1);
 *  - responses with no question and one or more answers (6, 18.3), AA set.
 * Both have opcode 0 (18.3) and RCODE 0 (18.11: other values are ignored),
 * and their first name starts with a valid label: a response's first record
 * has nothing before it that a compression pointer could refer to.
 * Separation: these shapes are mDNS only on port 5353 (RFC 6762 3 and 6.7:
 * queriers send to, and responders answer from, port 5353), so this
 * signature requires 5353 on one side; DNS and LLMNR never send them.
 */
#ifndef PKTSPEC_BPF_SIG_MDNS_H
#define PKTSPEC_BPF_SIG_MDNS_H

#include "sig.h"
#include "dns.h"

#define PKS_MDNS_PORT 5353
#define PKS_MDNS_MAX_RECORDS 255 /* far above what fits in a 9000-byte jumbo frame */

static __always_inline int pks_sig_mdns(const struct pks_payload *p, struct pks_match *m)
{
	__u32 id;

	if (p->sport != PKS_MDNS_PORT && p->dport != PKS_MDNS_PORT)
		return 0;
	if (p->len < PKS_DNS_HDR + 2)
		return 0;
	if ((p->b[2] & 0x78) || (p->b[3] & 0x4f))
		return 0; /* opcode 0, Z clear, RCODE 0 */
	if (pks_be16(p, 4) > PKS_MDNS_MAX_RECORDS || pks_be16(p, 6) > PKS_MDNS_MAX_RECORDS ||
	    pks_be16(p, 8) > PKS_MDNS_MAX_RECORDS || pks_be16(p, 10) > PKS_MDNS_MAX_RECORDS)
		return 0;
	if (!(p->b[2] & 0x80)) {
		if (pks_be16(p, 4) == 0)
			return 0; /* a query asks at least one question */
		if (p->b[PKS_DNS_HDR] == 0 || !pks_dns_first_label_ok(p, 0, 1))
			return 0;
		id = pks_be16(p, 0);
		m->cookie = id | PKS_DNS_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MDNS, PKS_R_MDNS_QUERY, PKS_ROLE_CLIENT);
	}
	/* A response is authoritative (18.4) and carries records. */
	if (!(p->b[2] & 0x04) || (pks_be32(p, 6) | pks_be16(p, 10)) == 0)
		return 0;
	if (p->b[PKS_DNS_HDR] == 0 || !pks_dns_first_label_ok(p, 0, 1))
		return 0;
	id = pks_be16(p, 0);
	if ((p->cookie & PKS_DNS_COOKIE_SET) && (p->cookie & 0xffff) != id)
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_MDNS, PKS_R_MDNS_RESPONSE, PKS_ROLE_SERVER);
}

#endif
