/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * TLS over TCP, RFC 8446 (and 5246 for 1.0-1.2 record versions).
 *  - TLSPlaintext (5.1): type 22 handshake, legacy_record_version 0x0300..0x0304,
 *    length 1..2^14+2048 (the TLSCiphertext bound, 5.2).
 *  - Handshake (4): msg_type 1 ClientHello or 2 ServerHello, 24-bit length at
 *    least the fixed part (version 2 + random 32 + session id length 1), and
 *    legacy_version 0x0300..0x0304 with legacy_session_id at most 32 bytes.
 * The handshake may continue in later records and segments; only the first
 * record's header and the hello's fixed part are needed here.
 */
#ifndef PKTSPEC_BPF_SIG_TLS_H
#define PKTSPEC_BPF_SIG_TLS_H

#include "sig.h"

#define PKS_TLS_RECORD_MAX (16384 + 2048)
#define PKS_TLS_SEGMENT_MIN 512 /* below any MSS that carries bulk records (IPv4 minimum 536) */

/*
 * A flow picked up midstream shows a record of any content type (20 change
 * cipher spec, 21 alert, 22 handshake, 23 application data). Five header bytes
 * are little evidence, so the record must also fit the packet: it ends exactly
 * at the end of the payload, runs past it (continued in the next segment), or
 * is followed by another record header of the same version.
 */
static __always_inline int pks_sig_tls_record(const struct pks_payload *p, struct pks_match *m)
{
	__u32 rec_len, end;

	if (p->nth != 0 || p->b[0] < 20 || p->b[0] > 23 || p->b[1] != 3 || p->b[2] < 1 || p->b[2] > 4)
		return 0;
	rec_len = pks_be16(p, 3);
	if (rec_len == 0 || rec_len > PKS_TLS_RECORD_MAX)
		return 0;
	end = rec_len + 5;
	/*
	 * A record running past the segment is continued in the next one, which
	 * happens in full-sized segments: a short packet cut inside a record
	 * header is no evidence.
	 */
	if (end > p->total && p->total < PKS_TLS_SEGMENT_MIN)
		return 0;
	if (end < p->total && end + 3 <= p->len &&
	    (p->b[end & PKS_WIN_MASK] < 20 || p->b[end & PKS_WIN_MASK] > 23 ||
	     p->b[(end + 1) & PKS_WIN_MASK] != 3 || p->b[(end + 2) & PKS_WIN_MASK] != p->b[2]))
		return 0;
	/* A mid-session rule: it never confirms (bpf/sig/midstream.h). */
	m->mid = 1;
	return pks_match_set(m, PKS_P_TLS, PKS_R_TLS_RECORD, PKS_ROLE_ANY);
}

static __always_inline int pks_sig_tls(const struct pks_payload *p, struct pks_match *m)
{
	__u32 rec_len, hs_len;
	__u8 hs_type;

	if (p->l4 != IPPROTO_TCP || p->len < 5)
		return 0;
	if (p->b[0] != 22)
		return pks_sig_tls_record(p, m);
	if (p->len < 44 || p->b[1] != 3 || p->b[2] > 4)
		return 0;
	rec_len = pks_be16(p, 3);
	if (rec_len < 4 || rec_len > PKS_TLS_RECORD_MAX)
		return 0;
	hs_type = p->b[5];
	hs_len = pks_be24(p, 6);
	if (hs_len < 2 + 32 + 1 || p->b[9] != 3 || p->b[10] > 4 || p->b[43] > 32)
		return 0;
	if (hs_type == 1)
		return pks_match_set(m, PKS_P_TLS, PKS_R_TLS_CLIENT_HELLO, PKS_ROLE_CLIENT);
	if (hs_type == 2)
		return pks_match_set(m, PKS_P_TLS, PKS_R_TLS_SERVER_HELLO, PKS_ROLE_SERVER);
	return 0;
}

#endif
