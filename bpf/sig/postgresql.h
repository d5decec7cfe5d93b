/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * PostgreSQL frontend/backend protocol 3, PostgreSQL documentation chapter
 * "Frontend/Backend Protocol", sections "Message Flow: Start-up" (55.2.1),
 * "SSL Session Encryption" (55.2.10), "GSSAPI Session Encryption" (55.2.11)
 * and "Message Formats" (55.7).
 *  - The client speaks first, with a message that has no type byte: Int32
 *    length (counting itself) then Int32 code. StartupMessage has code
 *    196608 + minor (3.0, and 3.2 since PostgreSQL 18) and is sent alone, so
 *    its length equals the packet; its parameters start with a lower-case
 *    name ("user", "database", ...). SSLRequest (80877103), GSSENCRequest
 *    (80877104) and CancelRequest (80877102) have fixed lengths 8, 8 and 16.
 *  - The server answers an SSLRequest/GSSENCRequest with one byte, 'S', 'N'
 *    (or 'G' for GSS): only checked when the client's request was seen.
 *  - It answers a StartupMessage with Authentication ('R', Int32 length,
 *    Int32 method whose length is fixed by the method) or ErrorResponse
 *    ('E', length, then field type 'S' severity).
 */
#ifndef PKTSPEC_BPF_SIG_POSTGRESQL_H
#define PKTSPEC_BPF_SIG_POSTGRESQL_H

#include "sig.h"
#include "bytes.h"

#define PKS_PG_PROTO_3 0x00030000
#define PKS_PG_SSL_REQUEST 80877103
#define PKS_PG_GSSENC_REQUEST 80877104
#define PKS_PG_CANCEL_REQUEST 80877102
#define PKS_PG_STARTUP_MAX 10000 /* the server refuses larger startup packets (MAX_STARTUP_PACKET_LENGTH) */

/* An Authentication request's length for its method, or 0 for an unknown method (55.7). */
static __always_inline __u32 pks_pg_auth_len_ok(__u32 len, __u32 method)
{
	switch (method) {
	case 0: /* AuthenticationOk */
	case 2: /* KerberosV5 */
	case 3: /* CleartextPassword */
	case 7: /* GSS */
	case 9: /* SSPI */
		return len == 8;
	case 5: /* MD5Password: 4-byte salt */
		return len == 12;
	case 10: /* SASL: mechanism names, e.g. SCRAM-SHA-256 */
		return len > 8 && len < 1024;
	}
	return 0;
}

static __always_inline int pks_sig_postgresql_server(const struct pks_payload *p, struct pks_match *m)
{
	__u32 tag = PKS_COOKIE_TAG(p->cookie);
	__u32 len;
	__u8 t = p->b[0];

	if (tag == PKS_TAG_PGSQL_SSL) {
		if (p->total == 1 && (t == 'S' || t == 'N' || t == 'G'))
			return pks_match_set(m, PKS_P_POSTGRESQL, PKS_R_PGSQL_SSL_ANSWER, PKS_ROLE_SERVER);
		/* An old server refuses the request with an ErrorResponse: fall through. */
	}
	if (p->len < 9)
		return 0;
	len = pks_be32(p, 1);
	if (len + 1 > p->total)
		return 0;
	if (t == 'R') {
		if (!pks_pg_auth_len_ok(len, pks_be32(p, 5)))
			return 0;
		/* SASL lists mechanism names: "SCRAM-SHA-256" and its -PLUS form. */
		if (pks_be32(p, 5) == 10 && pks_be32(p, 9) != PKS_C4('S', 'C', 'R', 'A'))
			return 0;
		/* Anything after it in the packet is another message with a type letter. */
		if (len + 1 < p->total && len + 1 < p->len && !pks_is_upper(p->b[(len + 1) & PKS_WIN_MASK]))
			return 0;
		return pks_match_set(m, PKS_P_POSTGRESQL, PKS_R_PGSQL_AUTH, PKS_ROLE_SERVER);
	}
	/* An ErrorResponse alone says little: only after a startup or SSL request of ours. */
	if (t == 'E' && (tag == PKS_TAG_PGSQL_STARTUP || tag == PKS_TAG_PGSQL_SSL) && len >= 8 && len < 4096 &&
	    p->b[5] == 'S')
		return pks_match_set(m, PKS_P_POSTGRESQL, PKS_R_PGSQL_AUTH, PKS_ROLE_SERVER);
	return 0;
}

static __always_inline int pks_sig_postgresql(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, code;
	__u8 c;

	if (p->l4 != IPPROTO_TCP || p->len == 0)
		return 0;
	/* Server messages start with a type letter, client start-up messages with a zero length byte. */
	if (p->b[0] != 0)
		return pks_sig_postgresql_server(p, m);
	if (p->len < 8)
		return 0;
	len = pks_be32(p, 0);
	code = pks_be32(p, 4);
	if (len != p->total) /* every message before authentication is sent alone */
		return 0;

	if ((len == 8 && (code == PKS_PG_SSL_REQUEST || code == PKS_PG_GSSENC_REQUEST)) ||
	    (len == 16 && code == PKS_PG_CANCEL_REQUEST)) {
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_PGSQL_SSL, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_POSTGRESQL, PKS_R_PGSQL_SSL_REQUEST, PKS_ROLE_CLIENT);
	}
	if ((code & 0xffff0000) != PKS_PG_PROTO_3 || (code & 0xffff) > 2)
		return 0;
	if (len < 8 + 2 || len > PKS_PG_STARTUP_MAX)
		return 0;
	/* Name/value pairs, each NUL-terminated, the list ended by a NUL (55.7 StartupMessage). */
	c = p->b[8];
	if (!(c >= 'a' && c <= 'z') && c != '_')
		return 0;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_PGSQL_STARTUP, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_POSTGRESQL, PKS_R_PGSQL_STARTUP, PKS_ROLE_CLIENT);
}

#endif
