/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * A bounded parser of DNS responses (RFC 1035 4.1) for the DNS names rule:
 * the question name, and the A, AAAA and CNAME records of the answer section.
 */
#ifndef PKTSPEC_DNS_PARSE_H
#define PKTSPEC_DNS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define PKS_DNS_NAME_MAX 256    /* presentation form, with NUL (RFC 1035 2.3.4: 255 octets) */
#define PKS_DNS_ANSWERS_MAX 64  /* answer records looked at; the rest are counted, not parsed */
#define PKS_DNS_PTR_MAX 16      /* compression pointers followed in one name */

struct pks_dns_rr {
	uint16_t type;           /* 1 A, 5 CNAME, 28 AAAA */
	uint32_t ttl;
	char owner[PKS_DNS_NAME_MAX];
	union {
		uint8_t addr[16]; /* A: IPv4-mapped; AAAA */
		char target[PKS_DNS_NAME_MAX];
	};
};

struct pks_dns_answer {
	char qname[PKS_DNS_NAME_MAX];
	uint16_t qtype;
	uint16_t n;              /* records in rr */
	uint16_t ancount;        /* as the header says */
	uint16_t skipped;        /* answers beyond PKS_DNS_ANSWERS_MAX or of other types */
	struct pks_dns_rr rr[PKS_DNS_ANSWERS_MAX];
};

#define PKS_DNS_A 1
#define PKS_DNS_CNAME 5
#define PKS_DNS_AAAA 28

/*
 * Parses a response message. 0 when the header and question parse (records
 * after a malformed one are dropped, the ones before kept); -EBADMSG when the
 * message is not a usable response (query, error rcode, bad question).
 */
int pks_dns_parse(const uint8_t *msg, size_t len, struct pks_dns_answer *out);

/*
 * The name a client asked for that leads to `owner` through the answer's
 * CNAME chain (at most PKS_DNS_ANSWERS_MAX steps, so a loop ends), or NULL
 * when owner is not on the chain. *ttl is lowered to the chain's least TTL.
 */
const char *pks_dns_chain_origin(const struct pks_dns_answer *a, const char *owner, uint32_t *ttl);

#endif
