/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * IPsec key exchange: IKEv2, RFC 7296 3.1; IKEv1/ISAKMP, RFC 2408 3.1; and
 * UDP encapsulation on port 4500, RFC 3948 2.2.
 *  - On 4500 an IKE message follows a non-ESP marker of four zero bytes (an
 *    ESP packet starts with its non-zero SPI instead, RFC 3948 2.2).
 *  - Header: initiator SPI (never zero, RFC 7296 3.1), responder SPI, next
 *    payload, version (0x20 for IKEv2, 0x10 for IKEv1: major version in the
 *    high nibble), exchange type, flags, message ID, and a length equal to
 *    the message (the datagram minus the marker).
 *  - IKEv2 exchanges 34..37 (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA,
 *    INFORMATIONAL) and 43 (IKE_INTERMEDIATE, RFC 9242); flags only I (0x08),
 *    V (0x10), R (0x20); first payload SA (33), Notify (41), Encrypted (46),
 *    Encrypted Fragment (53, RFC 7383) or none. IKEv1 exchanges 1..5 and
 *    32..33 (RFC 2409 Quick Mode, New Group); flags only E, C, A (0x07);
 *    first payload 1..13 or none.
 *  - The first message of an exchange from the initiator: IKEv2 IKE_SA_INIT
 *    with the I flag and message ID 0, or IKEv1 with a zero responder SPI. Its
 *    initiator SPI's top 32 bits go in the cookie; an answer with the same
 *    SPI confirms. Later messages (both SPIs set) are a signature on their
 *    own, and confirm each other when their initiator SPIs agree.
 */
#ifndef PKTSPEC_BPF_SIG_IKE_H
#define PKTSPEC_BPF_SIG_IKE_H

#include "sig.h"

#define PKS_IKE_HDR 28
#define PKS_IKE_NATT_PORT 4500

/* Header checks for one version: 2 for IKEv2, 1 for IKEv1, 0 when neither fits. */
static __always_inline int pks_ike_version(const struct pks_payload *p, __u32 base)
{
	__u8 np = p->b[(base + 16) & PKS_WIN_MASK], xchg = p->b[(base + 18) & PKS_WIN_MASK];
	__u8 flags = p->b[(base + 19) & PKS_WIN_MASK];

	switch (p->b[(base + 17) & PKS_WIN_MASK]) {
	case 0x20:
		if ((xchg < 34 || xchg > 37) && xchg != 43)
			return 0;
		if ((flags & ~0x38) || (np != 0 && np != 33 && np != 41 && np != 46 && np != 53))
			return 0;
		return 2;
	case 0x10:
		if ((xchg < 1 || xchg > 5) && xchg != 32 && xchg != 33)
			return 0;
		if ((flags & ~0x07) || np > 13)
			return 0;
		return 1;
	}
	return 0;
}

/* The IKE header at base: 0, or 4 behind a non-ESP marker (a constant either way). */
static __always_inline int pks_sig_ike_at(const struct pks_payload *p, struct pks_match *m, __u32 base)
{
	__u32 ispi, flags, sa_init;
	int ver, rspi_zero;

	if (p->len < base + PKS_IKE_HDR || pks_be32(p, base + 24) + base != p->total)
		return 0;
	ispi = pks_be32(p, base);
	if ((ispi | pks_be32(p, base + 4)) == 0)
		return 0;
	ver = pks_ike_version(p, base);
	if (!ver)
		return 0;
	rspi_zero = (pks_be32(p, base + 8) | pks_be32(p, base + 12)) == 0;
	flags = p->b[(base + 19) & PKS_WIN_MASK];
	sa_init = ver == 2 && p->b[(base + 18) & PKS_WIN_MASK] == 34;
	if (ver == 2 ? (sa_init && (flags & 0x28) == 0x08 && rspi_zero && pks_be32(p, base + 20) == 0)
		     : rspi_zero) {
		m->cookie = ispi;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_IKE, PKS_R_IKE_INIT, PKS_ROLE_CLIENT);
	}
	if (rspi_zero && !sa_init)
		return 0; /* only IKE_SA_INIT (a response or an INVALID_KE/COOKIE retry) lacks it */
	/* Every message of the IKE SA carries the same initiator SPI. */
	if (p->flow_proto == PKS_P_IKE && p->cookie && p->cookie != ispi)
		m->no_confirm = 1;
	m->cookie = ispi;
	m->set_cookie = 1;
	if (sa_init && (flags & 0x20))
		return pks_match_set(m, PKS_P_IKE, PKS_R_IKE_RESPONSE, PKS_ROLE_SERVER);
	if (ver == 1 && p->flow_proto == PKS_P_IKE)
		return pks_match_set(m, PKS_P_IKE, PKS_R_IKE_RESPONSE, PKS_ROLE_ANY);
	return pks_match_set(m, PKS_P_IKE, PKS_R_IKE_MESSAGE, PKS_ROLE_ANY);
}

static __always_inline int pks_sig_ike(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len >= 4 && pks_be32(p, 0) == 0 &&
	    (p->sport == PKS_IKE_NATT_PORT || p->dport == PKS_IKE_NATT_PORT))
		return pks_sig_ike_at(p, m, 4);
	return pks_sig_ike_at(p, m, 0);
}

#endif
