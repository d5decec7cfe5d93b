/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Apache Kafka wire protocol (kafka.apache.org "A Guide To The Kafka
 * Protocol": "Common Request and Response Structure", "Request Header";
 * api keys from "The Messages").
 *  - Request: int32 size (the rest of the message), int16 api_key, int16
 *    api_version, int32 correlation_id, nullable string client_id (int16
 *    length, -1 for null). The first request of a connection is small and sent
 *    whole (ApiVersions, Metadata, SaslHandshake, ...), so size + 4 equals the
 *    packet; api_key is below 80 and api_version below 20; the client id,
 *    when present, is printable.
 *  - Response: int32 size, int32 correlation_id equal to the request's (kept
 *    as the flow's cookie); it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_KAFKA_H
#define PKTSPEC_BPF_SIG_KAFKA_H

#include "sig.h"

#define PKS_KAFKA_API_MAX 80      /* highest defined key is in the 70s (Kafka 3.x/4.x) */
#define PKS_KAFKA_VERSION_MAX 20
#define PKS_KAFKA_ID_CHECK 16     /* client id bytes checked */
#define PKS_KAFKA_COOKIE(c) ((c) ^ 0x6b61666b) /* correlation id 0 is common: keep it distinct from "unset" */

static __always_inline int pks_sig_kafka(const struct pks_payload *p, struct pks_match *m)
{
	__u32 size, key, ver, corr, idlen, i;

	if (p->l4 != IPPROTO_TCP || p->len < 8)
		return 0;
	size = pks_be32(p, 0);

	if (p->from_client || p->flow_proto != PKS_P_KAFKA) {
		if (p->len < 14 || size + 4 != p->total || size < 10)
			return 0;
		key = pks_be16(p, 4);
		ver = pks_be16(p, 6);
		corr = pks_be32(p, 8);
		idlen = pks_be16(p, 12);
		if (key >= PKS_KAFKA_API_MAX || ver >= PKS_KAFKA_VERSION_MAX)
			return 0;
		if (idlen == 0xffff) {
			idlen = 0; /* null client id */
		} else {
			if (idlen == 0 || 14 + idlen > p->total)
				return 0;
			for (i = 0; i < PKS_KAFKA_ID_CHECK; i++) {
				__u8 c = p->b[(14 + i) & PKS_WIN_MASK];

				if (i >= idlen || 14 + i >= p->len)
					break;
				if (c < 0x20 || c > 0x7e)
					return 0;
			}
		}
		m->cookie = PKS_KAFKA_COOKIE(corr);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_KAFKA, PKS_R_KAFKA_REQUEST, PKS_ROLE_CLIENT);
	}
	/* Response: the correlation id of the request, a plausible size. */
	if (size < 4 || size > (100u << 20) || PKS_KAFKA_COOKIE(pks_be32(p, 4)) != p->cookie)
		return 0;
	return pks_match_set(m, PKS_P_KAFKA, PKS_R_KAFKA_RESPONSE, PKS_ROLE_SERVER);
}

#endif
