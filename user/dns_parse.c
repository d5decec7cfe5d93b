// SPDX-License-Identifier: MIT OR Apache-2.0
/* DNS response parsing for the DNS names rule (RFC 1035 4.1, RFC 3596 for AAAA). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns_parse.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Reads the (possibly compressed, RFC 1035 4.1.4) name at *off into out in
 * presentation form, lower case, without the trailing dot; advances *off past
 * it in the message. A pointer must point before the name that holds it, and
 * at most PKS_DNS_PTR_MAX are followed, so loops end. Labels with bytes other
 * than letters, digits, '-' and '_' are rejected (names we report go to
 * terminals and JSON).
 */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, outlen = 0, limit = *off;
	int jumped = 0, ptrs = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len || ++ptrs > PKS_DNS_PTR_MAX)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (target >= limit)
				return -EBADMSG; /* forward or self pointer: a loop or garbage */
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			limit = target;
			pos = target;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG; /* 0x40/0x80: extended label types (RFC 6891 obsoleted them) */
		if (l == 0) {
			if (!jumped)
				*off = pos + 1;
			break;
		}
		if (pos + 1 + l > len || outlen + l + 1 >= PKS_DNS_NAME_MAX)
			return -EBADMSG;
		if (outlen)
			out[outlen++] = '.';
		for (size_t i = 0; i < l; i++) {
			char c = (char)msg[pos + 1 + i];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return -EBADMSG;
			out[outlen++] = c;
		}
		pos += 1 + l;
	}
	out[outlen] = 0;
	return 0;
}

int pks_dns_parse(const uint8_t *msg, size_t len, struct pks_dns_answer *out)
{
	size_t off = 12;
	uint16_t flags, qd;

	memset(out, 0, offsetof(struct pks_dns_answer, rr));
	if (len < 12)
		return -EBADMSG;
	flags = rd16(msg + 2);
	qd = rd16(msg + 4);
	out->ancount = rd16(msg + 6);
	/* A response (QR), standard query (opcode 0), no error (rcode 0). */
	if (!(flags & 0x8000) || ((flags >> 11) & 0xf) != 0 || (flags & 0xf) != 0)
		return -EBADMSG;
	if (qd != 1)
		return -EBADMSG; /* every resolver asks one question (RFC 9619) */
	if (read_name(msg, len, &off, out->qname) || off + 4 > len)
		return -EBADMSG;
	out->qtype = rd16(msg + off);
	off += 4;
	for (unsigned int i = 0; i < out->ancount; i++) {
		struct pks_dns_rr *rr;
		char owner[PKS_DNS_NAME_MAX];
		uint16_t type, class, rdlen;
		uint32_t ttl;

		if (out->n >= PKS_DNS_ANSWERS_MAX) {
			out->skipped += out->ancount - i;
			break;
		}
		if (read_name(msg, len, &off, owner) || off + 10 > len)
			break;
		type = rd16(msg + off);
		class = rd16(msg + off + 2);
		ttl = rd32(msg + off + 4);
		rdlen = rd16(msg + off + 8);
		off += 10;
		if (off + rdlen > len)
			break;
		/* RFC 2181 8: a TTL with the top bit set is treated as zero. */
		if (ttl & 0x80000000u)
			ttl = 0;
		rr = &out->rr[out->n];
		rr->type = type;
		rr->ttl = ttl;
		if (class != 1) {
			out->skipped++;
		} else if (type == PKS_DNS_A && rdlen == 4) {
			memset(rr->addr, 0, 10);
			rr->addr[10] = rr->addr[11] = 0xff;
			memcpy(rr->addr + 12, msg + off, 4);
			memcpy(rr->owner, owner, sizeof(owner));
			out->n++;
		} else if (type == PKS_DNS_AAAA && rdlen == 16) {
			memcpy(rr->addr, msg + off, 16);
			memcpy(rr->owner, owner, sizeof(owner));
			out->n++;
		} else if (type == PKS_DNS_CNAME) {
			size_t t = off;

			if (read_name(msg, len, &t, rr->target) || t != off + rdlen)
				break;
			memcpy(rr->owner, owner, sizeof(owner));
			out->n++;
		} else {
			out->skipped++;
		}
		off += rdlen;
	}
	return 0;
}

const char *pks_dns_chain_origin(const struct pks_dns_answer *a, const char *owner, uint32_t *ttl)
{
	const char *name = a->qname;
	uint32_t least = *ttl;

	/* Walk from the question along CNAMEs; the step bound ends a loop. */
	for (unsigned int step = 0; step <= PKS_DNS_ANSWERS_MAX; step++) {
		const struct pks_dns_rr *next = NULL;

		if (!strcmp(name, owner)) {
			*ttl = least;
			return a->qname;
		}
		for (unsigned int i = 0; i < a->n; i++) {
			if (a->rr[i].type == PKS_DNS_CNAME && !strcmp(a->rr[i].owner, name)) {
				next = &a->rr[i];
				break;
			}
		}
		if (!next)
			return NULL;
		if (next->ttl < least)
			least = next->ttl;
		name = next->target;
	}
	return NULL;
}
