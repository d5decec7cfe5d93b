/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The lookup filter (pks_filter): one bit per slot, per table the daemon
 * writes, that a new flow tests before it looks that table up. A clear bit
 * means no entry of the table hashes there, so the lookup would miss and is
 * skipped; a set bit means there may be one. The kernel only reads the bits;
 * the daemon, the tables' only writer, sets a key's bit before it writes the
 * entry and clears a bit once no entry it wrote for that slot can still be
 * used (user/filter.c). doc/design.md, "The lookup filter".
 *
 *   PKS_FILTER_RESTORE  pks_restore, by struct pks_flow_key (the lifecycle
 *                       counts the flows it has out per slot)
 *   PKS_FILTER_SERVERS  pks_servers, by struct pks_server_key (the engine
 *   PKS_FILTER_HOSTS    pks_hosts, by struct pks_host_key    keeps each slot's
 *                                                            latest expiry)
 *
 * pks_expect has writers in the kernel too (FTP, TFTP), which cannot keep
 * counts or sweep: it has a gate of times that expire by themselves instead
 * (pks_expect_gate, events.h). The map is an mmapable array of one element,
 * so the daemon sets and clears bits without a system call.
 */
#ifndef PKTSPEC_FILTER_H
#define PKTSPEC_FILTER_H

#include "pktspec.h"
#include "flow_key.h"

#define PKS_MAP_FILTER "pks_filter"

/* 2^18 bits, 32 KiB, a table: at 16,384 entries (the tables' size) a miss finds its bit set 6% of the time. */
#define PKS_FILTER_BITS 18
#define PKS_FILTER_SLOTS (1u << PKS_FILTER_BITS)
#define PKS_FILTER_WORDS (PKS_FILTER_SLOTS / 64)

enum pks_filter_table {
	PKS_FILTER_RESTORE,
	PKS_FILTER_SERVERS,
	PKS_FILTER_HOSTS,
	PKS_FILTER_TABLES,
};

struct pks_filter {
	__u64 bits[PKS_FILTER_TABLES][PKS_FILTER_WORDS];
};

/*
 * A key's slot: the top bits of its pks_key_hash (flow_key.h). The keys
 * (struct pks_flow_key, pks_server_key, pks_host_key) are whole 32-bit words
 * with their padding zeroed, as their maps need them anyway.
 */
static __always_inline __u32 pks_filter_slot(const void *key, __u32 words)
{
	return (__u32)(pks_key_hash(key, words) >> (64 - PKS_FILTER_BITS));
}

#define PKS_FILTER_SLOT_OF(key) pks_filter_slot((key), sizeof(*(key)) / 4)

/* A slot's word in its table's bits, and its bit in that word: for the kernel's reads and the daemon's writes. */
static __always_inline __u32 pks_filter_word(__u32 slot)
{
	return (slot >> 6) & (PKS_FILTER_WORDS - 1);
}

static __always_inline __u64 pks_filter_mask(__u32 slot)
{
	return 1ull << (slot & 63);
}

static __always_inline int pks_filter_bit(const struct pks_filter *f, __u32 table, __u32 slot)
{
	return (f->bits[table][pks_filter_word(slot)] & pks_filter_mask(slot)) != 0;
}

#endif /* PKTSPEC_FILTER_H */
