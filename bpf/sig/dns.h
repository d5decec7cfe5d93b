/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * DNS messages, RFC 1035 4.1, over UDP and over TCP with the two-byte length
 * prefix (RFC 1035 4.2.2, RFC 7766).
 *  - Header (4.1.1): opcode QUERY, NOTIFY (RFC 1996) or UPDATE (RFC 2136);
 *    Z bit clear; a query has RCODE 0, one question, no answers or authority
 *    records (UPDATE and NOTIFY use those sections) and few additional records
 *    (EDNS OPT, TSIG); a response has RCODE 0..10 and echoes one question.
 *  - Question name (4.1.2): the first label is 1..63 bytes of letters,
 *    digits, '-', '_' or '*', or the root.
 * A response confirms the flow when its ID equals the query's.
 * The same format on port 5353 is mDNS (RFC 6762) and on 5355 LLMNR (RFC 4795):
 * the port is what separates them from DNS, and from NetBIOS name service
 * (RFC 1002 4.2) on 137.
 */
#ifndef PKTSPEC_BPF_SIG_DNS_H
#define PKTSPEC_BPF_SIG_DNS_H

#include "sig.h"

#define PKS_DNS_HDR 12
#define PKS_DNS_LABEL_CHECK 16 /* label bytes checked: enough evidence, bounded */
#define PKS_DNS_COOKIE_SET 0x10000

static __always_inline int pks_dns_name_char(__u8 c)
{
	return pks_is_digit(c) || pks_is_upper(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' ||
	       c == '*';
}

static __always_inline int pks_dns_first_label_ok(const struct pks_payload *p, __u32 base)
{
	__u32 off = base + PKS_DNS_HDR;
	__u32 lab = p->b[off & PKS_WIN_MASK];
	__u32 i;

	if (off >= p->len)
		return 0;
	if (lab == 0)
		return 1; /* the root: "." queries (priming, RFC 8109) */
	if (lab > 63)
		return 0;
	for (i = 0; i < PKS_DNS_LABEL_CHECK; i++) {
		__u32 at = off + 1 + i;

		if (i >= lab || at >= p->len)
			break;
		if (!pks_dns_name_char(p->b[at & PKS_WIN_MASK]))
			return 0;
	}
	return 1;
}

static __always_inline __u8 pks_dns_proto_for_ports(const struct pks_payload *p)
{
	if (p->sport == 5353 || p->dport == 5353)
		return PKS_P_MDNS;
	if (p->sport == 5355 || p->dport == 5355)
		return PKS_P_LLMNR;
	/* NetBIOS name service uses the DNS message format on 137 (RFC 1002 4.2.1). */
	if (p->sport == 137 || p->dport == 137)
		return PKS_P_NETBIOS;
	return PKS_P_DNS;
}

static __always_inline int pks_sig_dns(const struct pks_payload *p, struct pks_match *m)
{
	__u32 base = 0, id, qd, an, ns, ar, opcode, rcode;
	__u8 f2, f3, proto;

	if (p->l4 == IPPROTO_TCP) {
		__u32 msg_len = pks_be16(p, 0);

		/* The length prefix covers at least a header and a one-label question. */
		if (msg_len < PKS_DNS_HDR + 5)
			return 0;
		base = 2;
	}
	if (p->len < base + PKS_DNS_HDR + 1)
		return 0;
	id = pks_be16(p, base);
	f2 = p->b[(base + 2) & PKS_WIN_MASK];
	f3 = p->b[(base + 3) & PKS_WIN_MASK];
	qd = pks_be16(p, base + 4);
	an = pks_be16(p, base + 6);
	ns = pks_be16(p, base + 8);
	ar = pks_be16(p, base + 10);
	opcode = (f2 >> 3) & 0xf;
	rcode = f3 & 0xf;

	if ((f3 & 0x40) || (opcode != 0 && opcode != 4 && opcode != 5))
		return 0;
	proto = pks_dns_proto_for_ports(p);

	if (!(f2 & 0x80)) {
		/* Query. */
		if (rcode || qd != 1)
			return 0;
		if (opcode == 0 && (an || ns || ar > 2))
			return 0;
		if (opcode != 0 && (an > 16 || ns > 64 || ar > 4))
			return 0;
		if (!pks_dns_first_label_ok(p, base))
			return 0;
		m->cookie = id | PKS_DNS_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, proto, PKS_R_DNS_QUERY, PKS_ROLE_CLIENT);
	}

	/* Response. */
	if (rcode > 10 || qd > 1 || an > 512 || ns > 512 || ar > 512)
		return 0;
	if (qd == 0 && rcode == 0)
		return 0; /* only errors may omit the question */
	if (qd == 1 && !pks_dns_first_label_ok(p, base))
		return 0;
	if ((p->cookie & PKS_DNS_COOKIE_SET) && (p->cookie & 0xffff) != id)
		m->no_confirm = 1;
	return pks_match_set(m, proto, PKS_R_DNS_RESPONSE, PKS_ROLE_SERVER);
}

#endif
