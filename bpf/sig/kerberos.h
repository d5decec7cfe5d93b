/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Kerberos v5 over UDP, RFC 4120 5.4.1, 5.4.2, 5.9.1 and 7.2.1 (one message
 * per datagram, no length prefix).
 *  - KDC-REQ: [APPLICATION 10] AS-REQ (0x6a) or [APPLICATION 12] TGS-REQ
 *    (0x6c), a SEQUENCE, then pvno [1] INTEGER 5 and msg-type [2] INTEGER
 *    10 or 12: the exact bytes a1 03 02 01 05 a2 03 02 01 0a/0c.
 *  - KDC-REP: [APPLICATION 11/13] AS-REP/TGS-REP (0x6b/0x6d), a SEQUENCE,
 *    then pvno [0] 5 and msg-type [1] 11/13; KRB-ERROR: [APPLICATION 30]
 *    (0x7e), pvno [0] 5, msg-type [1] 30.
 *  - The outer length covers the datagram exactly and the SEQUENCE covers the
 *    rest of the application element.
 * A reply from the KDC after a request confirms.
 */
#ifndef PKTSPEC_BPF_SIG_KERBEROS_H
#define PKTSPEC_BPF_SIG_KERBEROS_H

#include "sig.h"
#include "ber.h"

static __always_inline int pks_krb_int(const struct pks_payload *p, __u32 off, __u8 tag, __u8 value)
{
	return p->b[off & PKS_WIN_MASK] == tag && pks_be24(p, off + 1) == 0x030201 &&
	       p->b[(off + 4) & PKS_WIN_MASK] == value;
}

static __always_inline int pks_sig_kerberos(const struct pks_payload *p, struct pks_match *m)
{
	__u8 app = p->b[0];
	__u32 n1, n2, len1, len2, off;
	int req;

	if (p->len < 24)
		return 0;
	if (app == 0x6a || app == 0x6c)
		req = 1;
	else if (app == 0x6b || app == 0x6d || app == 0x7e)
		req = 0;
	else
		return 0;
	n1 = pks_ber_len(p, 1, &len1);
	if (!n1 || 1 + n1 + len1 != p->total || p->b[(1 + n1) & PKS_WIN_MASK] != 0x30)
		return 0;
	n2 = pks_ber_len(p, 2 + n1, &len2);
	if (!n2 || 1 + n2 + len2 != len1)
		return 0;
	off = 2 + n1 + n2;
	if (req) {
		if (!pks_krb_int(p, off, 0xa1, 5) || !pks_krb_int(p, off + 5, 0xa2, app - 0x60))
			return 0;
		return pks_match_set(m, PKS_P_KERBEROS, PKS_R_KERBEROS_REQUEST, PKS_ROLE_CLIENT);
	}
	if (!pks_krb_int(p, off, 0xa0, 5) || !pks_krb_int(p, off + 5, 0xa1, app == 0x7e ? 30 : app - 0x60))
		return 0;
	return pks_match_set(m, PKS_P_KERBEROS, PKS_R_KERBEROS_REPLY, PKS_ROLE_SERVER);
}

#endif
