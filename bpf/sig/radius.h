/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * RADIUS, RFC 2865 3 and 5, RFC 2866 3 (accounting), RFC 5997 (Status-Server),
 * RFC 5176 3 (Disconnect and CoA).
 *  - Code: requests 1 Access-Request, 4 Accounting-Request, 12
 *    Status-Server, 13 Status-Client, 40 Disconnect-Request, 43 CoA-Request;
 *    responses 2 Access-Accept, 3 Access-Reject, 5 Accounting-Response, 11
 *    Access-Challenge, 41/42 Disconnect-ACK/NAK, 44/45 CoA-ACK/NAK.
 *  - Length 20..4096 and equal to the datagram (3: shorter datagrams are
 *    dropped, and senders do not pad).
 *  - Attributes after the 16-byte authenticator (5): type non-zero, length at
 *    least 2, each inside the message; requests carry at least one.
 * A response with the request's identifier confirms (3: "Identifier ... aids
 * in matching requests and replies").
 *
 * Code and length are three octets of evidence, and attributes that run past
 * the window cannot be checked: random datagrams passed about once in 2.5
 * million (tests/captures/negative/make-random-flows.py). So a message is
 * taken anywhere when its attributes are all in the window and end exactly
 * at its length, or else on the server port its code belongs to, in the
 * direction the code travels: Access-Request to 1812 (RFC 2865 3; 1645,
 * which 3 notes was used before) and Access-Accept, -Reject and -Challenge
 * from it; Accounting-Request to 1813 (RFC 2866 3; 1646) and
 * Accounting-Response from it; Status-Server and Status-Client to either
 * (RFC 5997 2); Disconnect and CoA requests to 3799 and their ACK/NAK from
 * it (RFC 5176 3.1). A random datagram on a RADIUS port then passes the
 * code with 2 or 3 in 256 instead of 14 (doc/protocols-udp.md, "Random
 * payload").
 */
#ifndef PKTSPEC_BPF_SIG_RADIUS_H
#define PKTSPEC_BPF_SIG_RADIUS_H

#include "sig.h"
#include "opaque.h"

#define PKS_RADIUS_HDR 20
#define PKS_RADIUS_MAX 4096
#define PKS_RADIUS_ATTR_WALK 8 /* attributes checked in the window */
#define PKS_RADIUS_COOKIE_SET 0x100

/*
 * Walks the attributes in the window: 0 when one is malformed, 2 when the
 * walk ends exactly at the message's length, 1 when it leaves the window or
 * its bound first.
 */
static __always_inline int pks_radius_attrs_ok(const struct pks_payload *p, __u32 len)
{
	__u32 off = PKS_RADIUS_HDR, i;

	for (i = 0; i < PKS_RADIUS_ATTR_WALK; i++) {
		__u32 alen;

		if (off >= len)
			return 2; /* never past len: each attribute was checked to fit */
		if (off + 2 > PKS_WIN)
			return 1;
		off = pks_opaque(off);
		alen = p->b[(off + 1) & PKS_WIN_MASK];
		if (p->b[off & PKS_WIN_MASK] == 0 || alen < 2 || off + alen > len)
			return 0;
		off += alen;
	}
	return off >= len ? 2 : 1;
}

static __always_inline int pks_radius_auth(__u16 port)
{
	return port == 1812 || port == 1645;
}

static __always_inline int pks_radius_acct(__u16 port)
{
	return port == 1813 || port == 1646;
}

/* The code travels to (requests) or from (responses) its server port (see above). */
static __always_inline int pks_radius_port_fits(__u8 code, __u16 sport, __u16 dport)
{
	switch (code) {
	case 1:
		return pks_radius_auth(dport);
	case 2: case 3: case 11:
		return pks_radius_auth(sport);
	case 4:
		return pks_radius_acct(dport);
	case 5:
		return pks_radius_acct(sport);
	case 12: case 13:
		return pks_radius_auth(dport) || pks_radius_acct(dport);
	case 40: case 43:
		return dport == 3799;
	case 41: case 42: case 44: case 45:
		return sport == 3799;
	}
	return 0;
}

static __always_inline int pks_sig_radius(const struct pks_payload *p, struct pks_match *m)
{
	__u8 code = p->b[0], id = p->b[1];
	__u32 len = pks_be16(p, 2);
	int attrs;

	if (p->len < PKS_RADIUS_HDR || len < PKS_RADIUS_HDR || len > PKS_RADIUS_MAX || len != p->total)
		return 0;
	attrs = pks_radius_attrs_ok(p, len);
	if (!attrs || (attrs == 1 && !pks_radius_port_fits(code, p->sport, p->dport)))
		return 0;
	switch (code) {
	case 1: case 4: case 12: case 13: case 40: case 43:
		if (len == PKS_RADIUS_HDR)
			return 0;
		m->cookie = id | PKS_RADIUS_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_RADIUS, PKS_R_RADIUS_REQUEST, PKS_ROLE_CLIENT);
	case 2: case 3: case 5: case 11: case 41: case 42: case 44: case 45:
		if ((p->cookie & PKS_RADIUS_COOKIE_SET) && (p->cookie & 0xff) != id)
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_RADIUS, PKS_R_RADIUS_RESPONSE, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
