/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * DNP3 over TCP (IEEE 1815-2012, 9.2 "Data link frame format"; the TCP
 * mapping of annex E carries link frames unchanged).
 *  - Header block: start octets 0x05 0x64, length (control + addresses +
 *    user data: 5..255), control, destination and source (little-endian),
 *    then CRC-16/DNP of those 8 octets (polynomial 0x3D65, reflected,
 *    complemented, sent low octet first: 9.2.4.1.2).
 *  - Control (9.2.4.1.3): DIR set on frames from a master; PRM selects the
 *    defined function codes (primary 0, 2, 3, 4, 9; secondary 0, 1, 11, 15).
 *  - The frame, with a CRC per 16 octets of user data, fits in the packet.
 * A master frame is the request; the outstation's frame back, with the
 * addresses swapped, confirms.
 */
#ifndef PKTSPEC_BPF_SIG_DNP3_H
#define PKTSPEC_BPF_SIG_DNP3_H

#include "sig.h"
#include "bytes.h"

#define PKS_DNP3_CRC_BYTES 8 /* the header block the CRC covers */

static __always_inline __u16 pks_dnp3_crc(const struct pks_payload *p)
{
	__u32 crc = 0, i, bit;

	/*
	 * Unrolled, and without a branch per bit: 64 steps of straight code. As
	 * a loop, clang lays its last step out to fall through into its first,
	 * which Linux before 6.7 refuses to load. The polynomial is multiplied
	 * by the low bit, which the compiler cannot turn back into a branch
	 * (pks_u64_opaque); a mask made by negating the bit would be worse:
	 * recent verifiers split a value known to be 0 or -1 into two paths,
	 * 2^64 of them here.
	 */
#pragma unroll
	for (i = 0; i < PKS_DNP3_CRC_BYTES; i++) {
		crc ^= p->b[i];
#pragma unroll
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xa6bc * (__u32)pks_u64_opaque(crc & 1));
	}
	return ~crc & 0xffff;
}

static __always_inline int pks_sig_dnp3(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, user, frame, dst, src;
	__u8 ctrl, fc;

	if (p->l4 != IPPROTO_TCP || p->len < 10 || p->b[0] != 0x05 || p->b[1] != 0x64)
		return 0;
	len = p->b[2];
	if (len < 5)
		return 0;
	user = len - 5;
	frame = 10 + user + 2 * ((user + 15) / 16);
	if (frame > p->total)
		return 0;
	ctrl = p->b[3];
	fc = ctrl & 0x0f;
	if (ctrl & 0x40) {
		if (fc != 0 && fc != 2 && fc != 3 && fc != 4 && fc != 9)
			return 0;
	} else if (fc != 0 && fc != 1 && fc != 11 && fc != 15) {
		return 0;
	}
	/*
	 * The checks above leave a dozen paths (one per function code) that
	 * know some header bytes exactly; the CRC is 64 steps of straight code
	 * with no point where the verifier could merge them. After a compiler
	 * barrier everything is read from the window again, which the verifier
	 * does not track, so the paths are one by the time the CRC starts.
	 */
	asm volatile("" ::: "memory");
	if (pks_le16(p, 8) != pks_dnp3_crc(p))
		return 0;
	ctrl = p->b[3];
	dst = pks_le16(p, 4);
	src = pks_le16(p, 6);
	if (ctrl & 0x80) {
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_DNP3, (dst << 8) | (src & 0xff));
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_DNP3, PKS_R_DNP3_MASTER, PKS_ROLE_CLIENT);
	}
	/* The outstation answers from the address the master wrote to. */
	if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_DNP3 &&
	    (((p->cookie >> 8) & 0xffff) != src || (p->cookie & 0xff) != (dst & 0xff)))
		m->no_confirm = 1;
	return pks_match_set(m, PKS_P_DNP3, PKS_R_DNP3_OUTSTATION, PKS_ROLE_SERVER);
}

#endif
