/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * XMPP, RFC 6120 4.2 and 4.3: each side opens its XML stream with a stream
 * header "<stream:stream" followed by whitespace (its attributes), optionally
 * preceded by an XML declaration "<?xml ...?>" (11). The initiating entity
 * sends it first and the receiving entity answers with its own, so the
 * message has no role and the other side's header confirms. Within the
 * window, the header must start the payload or follow an XML declaration that
 * starts it.
 */
#ifndef PKTSPEC_BPF_SIG_XMPP_H
#define PKTSPEC_BPF_SIG_XMPP_H

#include "text.h"

#define PKS_XMPP_HDR_LEN 15 /* "<stream:stream" and one whitespace */
#define PKS_XMPP_DECL_MAX 48 /* where the header may start after an XML declaration */

static __always_inline int pks_xmpp_header_at(const struct pks_payload *p, __u32 at)
{
	__u8 c = p->b[(at + 14) & PKS_WIN_MASK];

	return at + PKS_XMPP_HDR_LEN <= p->len && pks_be32(p, at) == PKS_C4('<', 's', 't', 'r') &&
	       pks_be32(p, at + 4) == PKS_C4('e', 'a', 'm', ':') && pks_be32(p, at + 8) == PKS_C4('s', 't', 'r', 'e') &&
	       pks_be16(p, at + 12) == ('a' << 8 | 'm') && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

static __always_inline int pks_sig_xmpp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 i;
	int found = 0;

	if (p->len < PKS_XMPP_HDR_LEN)
		return 0;
	if (pks_xmpp_header_at(p, 0)) {
		found = 1;
	} else if (pks_be32(p, 0) == PKS_C4('<', '?', 'x', 'm') && p->b[4] == 'l' && p->b[5] == ' ') {
		/* After the declaration's "?>" and optional whitespace. */
		for (i = 6; i < PKS_XMPP_DECL_MAX; i++) {
			if (p->b[i] == '?' && p->b[i + 1] == '>') {
				__u32 at = i + 2;

				if (p->b[at & PKS_WIN_MASK] == '\n')
					at++;
				found = pks_xmpp_header_at(p, at);
				break;
			}
		}
	}
	if (!found)
		return 0;
	return pks_match_set(m, PKS_P_XMPP, PKS_R_XMPP_STREAM, PKS_ROLE_ANY);
}

#endif
