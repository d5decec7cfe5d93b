/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Trivial FTP, RFC 1350 5, with options (RFC 2347).
 *  - RRQ (1) / WRQ (2): opcode, a filename of printable characters ending in
 *    NUL, then a mode "netascii", "octet" or "mail" (any case) ending in NUL.
 *    Both must sit in the window, which leaves room for a 52-byte filename.
 *  - The server answers from a new port (RFC 1350 4: a new transfer
 *    identifier), so the transfer is a second flow. It starts with DATA
 *    block 1 (3), an OACK (6, RFC 2347) naming a known option, or an ERROR
 *    (5) with code 0..8 (RFC 1350 5, 2347) and a NUL-terminated message; an
 *    ACK (4) of exactly 4 bytes in the other direction confirms.
 */
#ifndef PKTSPEC_BPF_SIG_TFTP_H
#define PKTSPEC_BPF_SIG_TFTP_H

#include "sig.h"

static __always_inline int pks_tftp_print(__u8 c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Index of the first NUL at or after from, after printable bytes only; 0 if none. */
static __always_inline __u32 pks_tftp_string_end(const struct pks_payload *p, __u32 from)
{
	__u32 i;

	for (i = from; i < PKS_WIN; i++) {
		__u8 c = p->b[i & PKS_WIN_MASK];

		if (i >= p->len)
			return 0;
		if (c == 0)
			return i > from ? i : 0;
		if (!pks_tftp_print(c))
			return 0;
	}
	return 0;
}

/* The word at off in lower case (ASCII letters), for case-insensitive modes. */
static __always_inline __u32 pks_tftp_lower4(const struct pks_payload *p, __u32 off)
{
	return pks_be32(p, off) | 0x20202020;
}

static __always_inline int pks_tftp_mode_ok(const struct pks_payload *p, __u32 off)
{
	__u32 w = pks_tftp_lower4(p, off);

	if (off + 5 > p->len)
		return 0;
	if (w == PKS_C4('m', 'a', 'i', 'l'))
		return p->b[(off + 4) & PKS_WIN_MASK] == 0;
	if (off + 6 > p->len)
		return 0;
	if (w == PKS_C4('o', 'c', 't', 'e'))
		return (p->b[(off + 4) & PKS_WIN_MASK] | 0x20) == 't' && p->b[(off + 5) & PKS_WIN_MASK] == 0;
	if (off + 9 > p->len)
		return 0;
	return w == PKS_C4('n', 'e', 't', 'a') && pks_tftp_lower4(p, off + 4) == PKS_C4('s', 'c', 'i', 'i') &&
	       p->b[(off + 8) & PKS_WIN_MASK] == 0;
}

static __always_inline int pks_sig_tftp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 op, end, w;

	if (p->len < 4 || p->b[0] != 0)
		return 0;
	op = p->b[1];
	switch (op) {
	case 1:
	case 2:
		end = pks_tftp_string_end(p, 2);
		if (!end || end > PKS_WIN - 2 || !pks_tftp_mode_ok(p, end + 1))
			return 0;
		return pks_match_set(m, PKS_P_TFTP, PKS_R_TFTP_RRQ_WRQ, PKS_ROLE_CLIENT);
	case 3:
		if (pks_be16(p, 2) != 1)
			return 0;
		return pks_match_set(m, PKS_P_TFTP, PKS_R_TFTP_TRANSFER, PKS_ROLE_ANY);
	case 4:
		if (p->total != 4 || p->flow_proto != PKS_P_TFTP)
			return 0;
		return pks_match_set(m, PKS_P_TFTP, PKS_R_TFTP_TRANSFER, PKS_ROLE_ANY);
	case 5:
		if (pks_be16(p, 2) > 8)
			return 0;
		end = pks_tftp_string_end(p, 4);
		if (!end || end + 1 != p->total)
			return 0;
		return pks_match_set(m, PKS_P_TFTP, PKS_R_TFTP_TRANSFER, PKS_ROLE_ANY);
	case 6:
		w = pks_tftp_lower4(p, 2);
		if (w != PKS_C4('b', 'l', 'k', 's') && w != PKS_C4('t', 's', 'i', 'z') &&
		    w != PKS_C4('t', 'i', 'm', 'e') && w != PKS_C4('w', 'i', 'n', 'd'))
			return 0;
		if (!pks_tftp_string_end(p, 2))
			return 0;
		return pks_match_set(m, PKS_P_TFTP, PKS_R_TFTP_TRANSFER, PKS_ROLE_ANY);
	}
	return 0;
}

#endif
