/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * ASN.1 BER/DER tag-length reading for the signatures whose messages are
 * BER (LDAP, RFC 4511 5.1; Kerberos, RFC 4120 5 with DER). Only the definite
 * form of X.690 8.1.3 is accepted: both protocols forbid the indefinite one.
 */
#ifndef PKTSPEC_BPF_SIG_BER_H
#define PKTSPEC_BPF_SIG_BER_H

#include "sig.h"

/*
 * Reads the length octets at off (X.690 8.1.3.4, 8.1.3.5): returns how many
 * octets they take (1..5), or 0 for the indefinite form, more than 4 length
 * octets, or a length past 2^24 (no message of ours is that large).
 */
static __always_inline __u32 pks_ber_len(const struct pks_payload *p, __u32 off, __u32 *len)
{
	__u8 first = p->b[off & PKS_WIN_MASK];
	__u32 n = first & 0x7f, v = 0, i;

	if (!(first & 0x80)) {
		*len = first;
		return 1;
	}
	if (n == 0 || n > 4)
		return 0;
	for (i = 0; i < 4; i++) {
		if (i >= n)
			break;
		v = (v << 8) | p->b[(off + 1 + i) & PKS_WIN_MASK];
	}
	if (v >= (1u << 24))
		return 0;
	*len = v;
	return 1 + n;
}

#endif
