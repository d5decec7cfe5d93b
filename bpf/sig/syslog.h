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
 *
 * Syslog over TCP, RFC 6587 3.4: each message is framed either by octet
 * counting (3.4.1: MSG-LEN, 1..5 digits without a leading zero, SP, then the
 * message, which starts with its PRI) or by a trailer (3.4.2,
 * non-transparent framing: the message itself, PRI first, ended by LF).
 * The same checks run on the message, at offset 0 or after the count; a
 * count must cover at least the PRI and one header byte.
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

/* The message starting at base (0, or after an RFC 6587 octet count). */
static __always_inline int pks_syslog_at(const struct pks_payload *p, struct pks_match *m, __u32 base)
{
	__u32 pri = 0, i, off;

	if (p->len < base + 8 || p->b[base & PKS_WIN_MASK] != '<' || !pks_is_digit(p->b[(base + 1) & PKS_WIN_MASK]))
		return 0;
	if (p->b[(base + 1) & PKS_WIN_MASK] == '0' && p->b[(base + 2) & PKS_WIN_MASK] != '>')
		return 0;
	for (i = 1; i < 4; i++) {
		__u8 c = p->b[(base + i) & PKS_WIN_MASK];

		if (!pks_is_digit(c))
			break;
		pri = pri * 10 + (c - '0');
	}
	if (i == 1 || p->b[(base + i) & PKS_WIN_MASK] != '>' || pri > 191)
		return 0;
	off = base + i + 1;
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

static __always_inline int pks_sig_syslog(const struct pks_payload *p, struct pks_match *m)
{
	return pks_syslog_at(p, m, 0);
}

#define PKS_SYSLOG_COUNT_DIGITS 5
#define PKS_SYSLOG_WHOLE 512 /* a segment this short carries whole messages */

/* RFC 6587 3.4: octet counting, or the message alone (non-transparent framing). */
static __always_inline int pks_sig_syslog_tcp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 count = 0, i;

	if (p->l4 != IPPROTO_TCP)
		return 0;
	if (p->b[0] == '<')
		return pks_syslog_at(p, m, 0);
	if (p->b[0] < '1' || p->b[0] > '9')
		return 0;
	for (i = 0; i < PKS_SYSLOG_COUNT_DIGITS; i++) {
		__u8 c = p->b[i];

		if (!pks_is_digit(c))
			break;
		count = count * 10 + (c - '0');
	}
	/*
	 * MSG-LEN SP "<" ...: the message is at least "<N>" and a header byte,
	 * and a short segment holds all of it (a long message may go on in the
	 * next segment).
	 */
	if (p->b[i & PKS_WIN_MASK] != ' ' || count < 4)
		return 0;
	if (i + 1 + count > p->total && p->total < PKS_SYSLOG_WHOLE)
		return 0;
	return pks_syslog_at(p, m, i + 1);
}

#endif
