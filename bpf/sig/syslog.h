/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Syslog over UDP, RFC 5426 3.1 carrying RFC 5424 6 or RFC 3164 4.1 messages.
 *  - PRI (RFC 5424 6.2.1): '<', 1..3 digits without a leading zero (except
 *    "0"), value 0..191 (facility 0..23 times 8 plus severity), '>'.
 *  - Then RFC 5424's VERSION: a digit 1..9 followed by SP; or RFC 3164
 *    4.1.2's TIMESTAMP "Mmm dd hh:mm:ss" with an English month abbreviation;
 *    or, as RFC 3164 4.3.3 lets devices send (Cisco's "<189>72: Mar  3 ..."),
 *    text without a timestamp: then the next PKS_SYSLOG_TEXT bytes (or all up
 *    to the end of the datagram) are printable ASCII (4.1.3).
 * Messages go one way, from the sender (client): signature at most.
 */
#ifndef PKTSPEC_BPF_SIG_SYSLOG_H
#define PKTSPEC_BPF_SIG_SYSLOG_H

#include "sig.h"

#define PKS_SYSLOG_TEXT 16 /* printable bytes required after a PRI with no header */

static __always_inline int pks_syslog_month(__u32 w)
{
	switch (w) {
	case PKS_C4('J', 'a', 'n', ' '): case PKS_C4('F', 'e', 'b', ' '): case PKS_C4('M', 'a', 'r', ' '):
	case PKS_C4('A', 'p', 'r', ' '): case PKS_C4('M', 'a', 'y', ' '): case PKS_C4('J', 'u', 'n', ' '):
	case PKS_C4('J', 'u', 'l', ' '): case PKS_C4('A', 'u', 'g', ' '): case PKS_C4('S', 'e', 'p', ' '):
	case PKS_C4('O', 'c', 't', ' '): case PKS_C4('N', 'o', 'v', ' '): case PKS_C4('D', 'e', 'c', ' '):
		return 1;
	}
	return 0;
}

static __always_inline int pks_sig_syslog(const struct pks_payload *p, struct pks_match *m)
{
	__u32 pri = 0, i, off;

	if (p->len < 8 || p->b[0] != '<' || !pks_is_digit(p->b[1]))
		return 0;
	if (p->b[1] == '0' && p->b[2] != '>')
		return 0;
	for (i = 1; i < 4; i++) {
		__u8 c = p->b[i];

		if (!pks_is_digit(c))
			break;
		pri = pri * 10 + (c - '0');
	}
	if (i == 1 || p->b[i & PKS_WIN_MASK] != '>' || pri > 191)
		return 0;
	off = i + 1;
	/* RFC 5424: VERSION SP (version 1 today; up to three digits allowed). */
	if (p->b[off & PKS_WIN_MASK] >= '1' && p->b[off & PKS_WIN_MASK] <= '9' && p->b[(off + 1) & PKS_WIN_MASK] == ' ')
		return pks_match_set(m, PKS_P_SYSLOG, PKS_R_SYSLOG, PKS_ROLE_CLIENT);
	/* RFC 3164: "Mmm dd hh:mm:ss" (day space-padded). */
	if (off + 15 <= p->len && pks_syslog_month(pks_be32(p, off)) &&
	    (p->b[(off + 4) & PKS_WIN_MASK] == ' ' || pks_is_digit(p->b[(off + 4) & PKS_WIN_MASK])) &&
	    pks_is_digit(p->b[(off + 5) & PKS_WIN_MASK]) && p->b[(off + 6) & PKS_WIN_MASK] == ' ' &&
	    p->b[(off + 9) & PKS_WIN_MASK] == ':' && p->b[(off + 12) & PKS_WIN_MASK] == ':')
		return pks_match_set(m, PKS_P_SYSLOG, PKS_R_SYSLOG, PKS_ROLE_CLIENT);
	/* RFC 3164 4.3.3: anything printable after the PRI is the message. */
	if (off + PKS_SYSLOG_TEXT > p->total)
		return 0;
	for (i = 0; i < PKS_SYSLOG_TEXT; i++) {
		__u8 c = p->b[(off + i) & PKS_WIN_MASK];

		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return pks_match_set(m, PKS_P_SYSLOG, PKS_R_SYSLOG, PKS_ROLE_CLIENT);
}

#endif
