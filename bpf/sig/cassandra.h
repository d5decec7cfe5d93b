/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Cassandra CQL native protocol v3, v4 and v5 (native_protocol_v4.spec
 * section 2 "Frame header", 4.1.1 STARTUP, 4.1.3 OPTIONS, 4.2 responses;
 * v3 and v5 share the header; v5 frames the connection only after READY).
 *  - Header: version (3..5 for a request, with 0x80 for a response), flags
 *    (compression 0x01, tracing 0x02, custom payload 0x04, warning 0x08, beta
 *    0x10; no others), stream (int16), opcode, length (int32).
 *  - A driver opens with OPTIONS (0x05, empty body) or STARTUP (0x01, a
 *    [string map] whose first key is an upper-case option such as
 *    CQL_VERSION). Neither is compressed and both are sent alone.
 *  - The server answers with the request's version | 0x80 and stream, and
 *    SUPPORTED (0x06), READY (0x02), AUTHENTICATE (0x03) or ERROR (0x00); the
 *    version and stream are the flow's cookie, and the answer confirms.
 */
#ifndef PKTSPEC_BPF_SIG_CASSANDRA_H
#define PKTSPEC_BPF_SIG_CASSANDRA_H

#include "sig.h"
#include "bytes.h"

#define PKS_CQL_HDR 9
#define PKS_CQL_OPTIONS 0x05
#define PKS_CQL_STARTUP 0x01
#define PKS_CQL_MAP_MAX 16 /* options in a STARTUP map: a handful in practice */

static __always_inline int pks_sig_cassandra(const struct pks_payload *p, struct pks_match *m)
{
	__u8 ver = p->b[0], flags = p->b[1], op = p->b[4];
	__u32 len = pks_be32(p, 5), stream = pks_be16(p, 2);

	if (p->l4 != IPPROTO_TCP || p->len < PKS_CQL_HDR || (flags & ~0x1f))
		return 0;
	if (ver >= 3 && ver <= 5) {
		if (flags & 0x01 || PKS_CQL_HDR + len != p->total)
			return 0;
		if (op == PKS_CQL_OPTIONS) {
			if (len != 0)
				return 0;
		} else if (op == PKS_CQL_STARTUP) {
			__u32 n = pks_be16(p, PKS_CQL_HDR), klen = pks_be16(p, PKS_CQL_HDR + 2);
			__u8 k = p->b[PKS_CQL_HDR + 4];

			if (len < 2 + 2 + 1 || n == 0 || n > PKS_CQL_MAP_MAX || klen == 0 || klen > 32 || !pks_is_upper(k))
				return 0;
		} else {
			return 0;
		}
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_CQL, ((__u32)ver << 16) | stream);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_CASSANDRA, PKS_R_CQL_REQUEST, PKS_ROLE_CLIENT);
	}
	/* Response to our request: its version with the direction bit, its stream. */
	if (PKS_COOKIE_TAG(p->cookie) != PKS_TAG_CQL || ver != (((p->cookie >> 16) & 0xff) | 0x80) ||
	    stream != (p->cookie & 0xffff))
		return 0;
	if ((op != 0x06 && op != 0x02 && op != 0x03 && op != 0x00) || PKS_CQL_HDR + len > p->total + 65536)
		return 0;
	return pks_match_set(m, PKS_P_CASSANDRA, PKS_R_CQL_RESPONSE, PKS_ROLE_SERVER);
}

#endif
