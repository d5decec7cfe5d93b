/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The signature dispatcher: runs every signature on a payload window, most
 * specific first, and says which protocols' signatures cover a direction (so
 * that a payload which does not match can contradict a port guess).
 */
#ifndef PKTSPEC_BPF_SIGNATURES_H
#define PKTSPEC_BPF_SIGNATURES_H

#include "sig/sig.h"
#include "sig/tls.h"
#include "sig/http.h"
#include "sig/ssh.h"
#include "sig/quic.h"
#include "sig/dns.h"
#include "sig/group_tcp_a.h"
#include "sig/group_tcp_b.h"
#include "sig/group_udp.h"

/*
 * A global function is verified once, on its own, whatever path reaches it:
 * the signatures' branches do not multiply with the parser's. Both pointers
 * are checked for NULL because the verifier lets a caller pass NULL.
 */
__noinline int pks_classify(const struct pks_payload *p, struct pks_match *m)
{
	if (!p || !m)
		return 0;
	if (p->len == 0)
		return 0;
	if (p->l4 == IPPROTO_TCP) {
		if (pks_sig_tls(p, m) || pks_sig_http(p, m) || pks_sig_ssh(p, m) || pks_sig_dns(p, m))
			return 1;
		return pks_classify_tcp_a(p, m) || pks_classify_tcp_b(p, m);
	}
	if (pks_sig_quic(p, m) || pks_sig_dns(p, m))
		return 1;
	return pks_classify_udp(p, m);
}

/*
 * Whether the first payload of a direction of `proto` is always recognised by
 * its signature, so that a mismatch there contradicts a port guess. A server
 * may send other lines before its SSH banner (RFC 4253 4.2), so SSH is covered
 * from the client only; QUIC servers are checked only after a client Initial.
 */
static __always_inline int pks_sig_covers(__u8 proto, int from_client)
{
	switch (proto) {
	case PKS_P_HTTP:
	case PKS_P_TLS:
	case PKS_P_DNS:
		return 1;
	case PKS_P_SSH:
	case PKS_P_QUIC:
		return from_client;
	}
	return pks_sig_covers_tcp_a(proto, from_client) || pks_sig_covers_tcp_b(proto, from_client) ||
	       pks_sig_covers_udp(proto, from_client);
}

#endif
