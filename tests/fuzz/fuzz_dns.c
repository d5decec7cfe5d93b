// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: DNS response parsing (user/dns_parse.c), as rule_dns
 * runs it on an answer: pks_dns_parse, then the CNAME chain back from every
 * record. Invariants: the record count within its bound, every name a
 * NUL-terminated string of its buffer, a chain's origin one of the names.
 */
#include "fuzz.h"
#include "dns_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = fz_dup(data, size);
	struct pks_dns_answer *a = malloc(sizeof(*a));

	if (!a)
		abort();
	if (pks_dns_parse(msg, size, a) == 0) {
		FZ_CHECK(a->n <= PKS_DNS_ANSWERS_MAX, "%u records", a->n);
		FZ_CHECK(memchr(a->qname, 0, sizeof(a->qname)), "qname not terminated");
		for (size_t i = 0; i < a->n; i++) {
			const struct pks_dns_rr *rr = &a->rr[i];
			uint32_t ttl = 0;
			const char *o;

			FZ_CHECK(memchr(rr->owner, 0, sizeof(rr->owner)), "owner %zu not terminated", i);
			if (rr->type == PKS_DNS_CNAME)
				FZ_CHECK(memchr(rr->target, 0, sizeof(rr->target)), "target %zu not terminated", i);
			o = pks_dns_chain_origin(a, rr->owner, &ttl);
			if (o)
				FZ_CHECK(strlen(o) < PKS_DNS_NAME_MAX, "origin too long");
		}
	}
	free(a);
	free(msg);
	return 0;
}
