/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * NATS client protocol (docs.nats.io "Client Protocol": INFO, CONNECT).
 *  - The server speaks first: "INFO" then whitespace then a JSON object,
 *    {"server_id": ...}.
 *  - The client answers "CONNECT" then whitespace then a JSON object,
 *    {"verbose": ...}; it confirms.
 * Both are the first message of their direction; requiring the brace and the
 * quote of the first key keeps other "INFO"/"CONNECT" words (Redis inline,
 * HTTP CONNECT) out.
 */
#ifndef PKTSPEC_BPF_SIG_NATS_H
#define PKTSPEC_BPF_SIG_NATS_H

#include "sig.h"

#define PKS_NATS_SPACE_MAX 3 /* spaces or tabs between the verb and the JSON */

/* After the verb at off: whitespace, '{' and '"'. */
static __always_inline int pks_nats_json_at(const struct pks_payload *p, __u32 off)
{
	__u32 i;

	for (i = 0; i < PKS_NATS_SPACE_MAX; i++) {
		__u8 c = p->b[(off + i) & PKS_WIN_MASK];

		if (c == '{')
			return i > 0 && p->b[(off + i + 1) & PKS_WIN_MASK] == '"';
		if (c != ' ' && c != '\t')
			return 0;
	}
	return 0;
}

static __always_inline int pks_sig_nats(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP || p->len < 8)
		return 0;
	if (pks_be32(p, 0) == PKS_C4('I', 'N', 'F', 'O') && pks_nats_json_at(p, 4))
		return pks_match_set(m, PKS_P_NATS, PKS_R_NATS_INFO, PKS_ROLE_SERVER);
	if (pks_be32(p, 0) == PKS_C4('C', 'O', 'N', 'N') && pks_be16(p, 4) == ('E' << 8 | 'C') && p->b[6] == 'T' &&
	    pks_nats_json_at(p, 7))
		return pks_match_set(m, PKS_P_NATS, PKS_R_NATS_CONNECT, PKS_ROLE_CLIENT);
	return 0;
}

#endif
