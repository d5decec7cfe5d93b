/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * LDAP v2/v3 over TCP (RFC 4511 4.1.1 "Message Envelope", 4.2 Bind, 4.5.1
 * Search, 4.3 Unbind, 4.6-4.12 other operations, 5.1 BER restrictions).
 *  - LDAPMessage ::= SEQUENCE (0x30, definite length that fits the packet or
 *    continues past it) { messageID INTEGER (1..4 octets, non-negative),
 *    protocolOp, controls [0] OPTIONAL }.
 *  - protocolOp is an [APPLICATION n] tag whose length fits in the message,
 *    and its first element is what the operation defines: a BindRequest
 *    (0x60) starts with version INTEGER 1..3, search, modify, add, modifyDN
 *    and compare requests with an LDAPDN OCTET STRING, an UnbindRequest
 *    (0x42) is empty, an ExtendedRequest (0x77) starts with requestName [0];
 *    the responses carrying LDAPResult (bind 0x61, searchResDone 0x65,
 *    modify 0x67, add 0x69, del 0x6b, modDN 0x6d, compare 0x6f, extended
 *    0x78) start with resultCode ENUMERATED, search entries (0x64) and
 *    references (0x73) with an OCTET STRING.
 *  - A response with the first request's messageID (the cookie) confirms.
 * CLDAP, LDAP over UDP 389 (RFC 1798 3; the "LDAP ping" of [MS-ADTS]
 * 6.3.3): one whole LDAPMessage per datagram, which the message's length
 * must fill exactly; RFC 1798's envelope has a user LDAPDN (an OCTET
 * STRING) between messageID and protocolOp, which is skipped, while
 * Active Directory sends RFC 4511's. Only searchRequest (0x63) asks, and
 * searchResEntry (0x64) and searchResDone (0x65) answer.
 */
#ifndef PKTSPEC_BPF_SIG_LDAP_H
#define PKTSPEC_BPF_SIG_LDAP_H

#include "sig.h"
#include "ber.h"
#include "bytes.h"

static __always_inline int pks_sig_ldap(const struct pks_payload *p, struct pks_match *m)
{
	__u32 h1, l1 = 0, idlen, id = 0, i, o, h2, l2 = 0, end;
	__u8 op, first, second;
	int client;

	if (p->len < 7 || p->b[0] != 0x30)
		return 0;
	h1 = pks_ber_len(p, 1, &l1);
	if (!h1)
		return 0;
	end = 1 + h1 + l1;
	if (p->l4 == IPPROTO_UDP && end != p->total)
		return 0;
	/* Small messages come whole; a large one (search results) may span segments. */
	if (end > p->total && p->total < 512)
		return 0;
	o = 1 + h1;
	if (p->b[o & PKS_WIN_MASK] != 0x02)
		return 0;
	idlen = p->b[(o + 1) & PKS_WIN_MASK];
	if (idlen < 1 || idlen > 4 || (p->b[(o + 2) & PKS_WIN_MASK] & 0x80))
		return 0;
	for (i = 0; i < 4; i++) {
		if (i >= idlen)
			break;
		id = (id << 8) | p->b[(o + 2 + i) & PKS_WIN_MASK];
	}
	o += 2 + idlen;
	/* RFC 1798's user name (short form lengths only: a DN that fits the window). */
	if (p->l4 == IPPROTO_UDP && p->b[o & PKS_WIN_MASK] == 0x04) {
		__u32 ulen = p->b[(o + 1) & PKS_WIN_MASK];

		if (ulen > PKS_WIN / 2)
			return 0;
		o += 2 + ulen;
	}
	op = p->b[o & PKS_WIN_MASK];
	if (p->l4 == IPPROTO_UDP && op != 0x63 && op != 0x64 && op != 0x65)
		return 0;
	h2 = pks_ber_len(p, o + 1, &l2);
	if (!h2 || o + 1 + h2 + l2 > end || o + 1 + h2 + 3 > p->len)
		return 0;
	o += 1 + h2;
	first = p->b[o & PKS_WIN_MASK];
	second = p->b[(o + 1) & PKS_WIN_MASK];

	switch (op) {
	case 0x60: /* BindRequest: version INTEGER 1..127, v2 and v3 in use */
		if (first != 0x02 || second != 1 || p->b[(o + 2) & PKS_WIN_MASK] < 1 || p->b[(o + 2) & PKS_WIN_MASK] > 3)
			return 0;
		client = 1;
		break;
	case 0x63: /* SearchRequest */
	case 0x66: /* ModifyRequest */
	case 0x68: /* AddRequest */
	case 0x6c: /* ModifyDNRequest */
	case 0x6e: /* CompareRequest */
		if (first != 0x04)
			return 0;
		client = 1;
		break;
	case 0x42: /* UnbindRequest: NULL */
		if (l2 != 0)
			return 0;
		client = 1;
		break;
	case 0x77: /* ExtendedRequest: requestName [0] LDAPOID */
		if (first != 0x80 || second < 3)
			return 0;
		client = 1;
		break;
	case 0x61: case 0x65: case 0x67: case 0x69: case 0x6b: case 0x6d: case 0x6f: case 0x78:
		/* LDAPResult: resultCode ENUMERATED (RFC 4511 4.1.9), matchedDN follows. */
		if (first != 0x0a || second != 1 || p->b[(o + 3) & PKS_WIN_MASK] != 0x04)
			return 0;
		client = 0;
		break;
	case 0x64: /* SearchResultEntry: objectName LDAPDN */
	case 0x73: /* SearchResultReference: URI OCTET STRING */
		if (first != 0x04)
			return 0;
		client = 0;
		break;
	default:
		return 0;
	}
	if (client) {
		if (id == 0)
			return 0; /* 0 is reserved for unsolicited notifications (4.1.1.1) */
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_LDAP, id);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_LDAP, PKS_R_LDAP_REQUEST, PKS_ROLE_CLIENT);
	}
	if (PKS_COOKIE_TAG(p->cookie) != PKS_TAG_LDAP || (p->cookie & 0xffffff) != (id & 0xffffff))
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_LDAP, PKS_R_LDAP_RESPONSE, PKS_ROLE_SERVER);
}

#endif
