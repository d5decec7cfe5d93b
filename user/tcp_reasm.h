/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Bounded reassembly of the start of one byte stream: the first
 * PKS_REASM_MAX bytes of one TCP direction from (sequence number, bytes)
 * segments that may arrive in any order, duplicated, or overlapping; and the
 * same for a QUIC CRYPTO stream, whose offsets start at 0.
 *
 * Only the start of a stream matters to the context rules (a ClientHello, an
 * HTTP request head), so bytes beyond the window are dropped and counted.
 * Memory grows with the highest byte held, never past PKS_REASM_MAX plus a
 * bitmap of one bit per byte.
 *
 * Overlapping bytes keep the first copy received ("first wins"): a
 * retransmission cannot rewrite what the rule already read, so an attacker
 * who sends two different copies of the same bytes gets the earlier one read,
 * and the conflict is counted.
 */
#ifndef PKTSPEC_TCP_REASM_H
#define PKTSPEC_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TLS caps a record at 2^14 bytes (RFC 8446 5.1); a ClientHello that needs
 * more than one full record is not something a real client sends. */
#define PKS_REASM_MAX 16384

struct pks_reasm {
	uint8_t *buf;      /* bytes [0, cap) of the stream, relative to base */
	uint8_t *have;     /* bit per byte of buf: received */
	uint32_t cap;      /* allocated bytes, <= PKS_REASM_MAX */
	uint32_t base;     /* sequence number of stream byte 0 */
	uint32_t contig;   /* bytes held without a gap from byte 0 */
	uint32_t high;     /* one past the highest byte held */
	bool base_known;   /* base came from a SYN (or is 0 for CRYPTO): never moves */
	bool started;      /* some segment (or the base) has been seen */
	/* What the window refused, for counters. */
	uint32_t dropped;  /* bytes beyond PKS_REASM_MAX or before a known base */
	uint32_t conflicts; /* overlapping bytes that differed from the first copy */
};

/* A stream whose first byte's sequence number is not known yet. */
void pks_reasm_init(struct pks_reasm *r);
/* A stream whose first byte is at seq (a SYN's sequence number + 1). */
void pks_reasm_init_base(struct pks_reasm *r, uint32_t seq);
void pks_reasm_free(struct pks_reasm *r);

/*
 * Adds a segment. Without a known base the lowest sequence number seen so far
 * is taken as byte 0, and moves down (shifting what is held) when an earlier
 * segment arrives later, within the window. Returns 0, or -ENOMEM.
 */
int pks_reasm_add(struct pks_reasm *r, uint32_t seq, const uint8_t *data, size_t len);

/* The contiguous bytes from byte 0. */
static inline const uint8_t *pks_reasm_data(const struct pks_reasm *r)
{
	static const uint8_t none[1];

	/* Never NULL, even before the first byte: the parsers take (data, 0) to mem* functions. */
	return r->buf ? r->buf : none;
}
static inline size_t pks_reasm_len(const struct pks_reasm *r)
{
	return r->contig;
}
/* Whether bytes above the contiguous prefix wait for a gap to fill. */
static inline bool pks_reasm_has_gap(const struct pks_reasm *r)
{
	return r->high > r->contig;
}

#endif
