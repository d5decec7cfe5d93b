/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * ASN.1 BER/DER length octets, X.690 8.1.3, for the signatures of protocols
 * encoded in BER (Kerberos, SNMP): the short form (one byte < 0x80) or the
 * long form 0x81..0x83 followed by 1..3 length bytes (longer messages do not
 * fit a datagram).
 */
#ifndef PKTSPEC_BPF_SIG_BER_H
#define PKTSPEC_BPF_SIG_BER_H

#include "sig.h"

/*
 * Decodes the length octets at off (off < PKS_WIN - 4). Returns the number of
 * length octets (1..4) and stores the length, or returns 0.
 */
static __always_inline __u32 pks_ber_len(const struct pks_payload *p, __u32 off, __u32 *len)
{
	__u8 b = p->b[off & PKS_WIN_MASK];

	if (b < 0x80) {
		*len = b;
		return 1;
	}
	if (b == 0x81) {
		*len = p->b[(off + 1) & PKS_WIN_MASK];
		return *len >= 0x80 ? 2 : 0; /* DER: the short form when it fits */
	}
	if (b == 0x82) {
		*len = pks_be16(p, off + 1);
		return *len >= 0x100 ? 3 : 0;
	}
	if (b == 0x83) {
		*len = pks_be24(p, off + 1);
		return *len >= 0x10000 ? 4 : 0;
	}
	return 0;
}

#endif
