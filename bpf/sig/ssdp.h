/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SSDP, UPnP Device Architecture 2.0 section 1 (HTTPU/HTTPMU: HTTP/1.1
 * messages in UDP datagrams, draft-cai-ssdp-v1).
 *  - Search request (1.3.2): "M-SEARCH * HTTP/1.1" with the asterisk target.
 *  - Advertisement (1.2.2): "NOTIFY * HTTP/1.1".
 *  - Search response (1.3.3): "HTTP/1.1 200 OK", unicast back to the searcher.
 * HTTP itself runs over TCP (sig/http.h refuses UDP), so an HTTP status line
 * in a UDP datagram is SSDP's search response; the asterisk request-target
 * separates SSDP's NOTIFY from SIP's "NOTIFY sip:". A response to the
 * searcher's own datagram (unicast M-SEARCH) confirms.
 */
#ifndef PKTSPEC_BPF_SIG_SSDP_H
#define PKTSPEC_BPF_SIG_SSDP_H

#include "sig.h"

static __always_inline int pks_ssdp_version_at(const struct pks_payload *p, __u32 off)
{
	return pks_be32(p, off) == PKS_C4('H', 'T', 'T', 'P') && pks_be32(p, off + 4) == PKS_C4('/', '1', '.', '1');
}

static __always_inline int pks_sig_ssdp(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len < 20)
		return 0;
	if (pks_be32(p, 0) == PKS_C4('M', '-', 'S', 'E') && pks_be32(p, 4) == PKS_C4('A', 'R', 'C', 'H') &&
	    pks_be32(p, 8) == PKS_C4(' ', '*', ' ', 'H') && pks_ssdp_version_at(p, 11))
		return pks_match_set(m, PKS_P_SSDP, PKS_R_SSDP_REQUEST, PKS_ROLE_CLIENT);
	if (pks_be32(p, 0) == PKS_C4('N', 'O', 'T', 'I') && pks_be32(p, 4) == PKS_C4('F', 'Y', ' ', '*') &&
	    p->b[8] == ' ' && pks_ssdp_version_at(p, 9))
		return pks_match_set(m, PKS_P_SSDP, PKS_R_SSDP_REQUEST, PKS_ROLE_CLIENT);
	if (pks_ssdp_version_at(p, 0) && pks_be32(p, 8) == PKS_C4(' ', '2', '0', '0') && p->b[12] == ' ')
		return pks_match_set(m, PKS_P_SSDP, PKS_R_SSDP_RESPONSE, PKS_ROLE_SERVER);
	return 0;
}

#endif
