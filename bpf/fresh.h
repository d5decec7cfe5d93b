/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The new-flow filter (doc/design.md, "Floods of new flows"). Under a
 * flood of new flows nearly every packet's lookup in the flow table misses,
 * and a miss in a table of hundreds of thousands of flows reads a bucket and
 * a chain out of the cache: about half of a new flow's cost live. The
 * filter answers first, from one byte per slot in 1 MiB: the period
 * (2^PKS_FRESH_SHIFT ns of the flow clock, modulo 256) in which a key of the
 * slot was last inserted, or last found while the filter was on. A slot
 * written in neither this period nor the last means no flow of it was
 * inserted or seen for at least one whole period, and the packet goes to
 * pks_track without a lookup.
 *
 * It is a hint, never an answer: pks_track inserts with BPF_NOEXIST, and a
 * flow that was there after all (quiet for longer than the filter
 * remembers, or inserted by user space) comes back -EEXIST and carries on
 * as a packet of its flow (counted as fresh_stale). So no packet is ever
 * counted, classified or reported as a new flow by the filter's mistake;
 * such a packet only costs an insertion attempt instead of a lookup.
 *
 * Off until a CPU inserts pks_cfg.fresh_new flows in one period
 * (PKS_FRESH_AUTO), then on for that CPU for the next two periods, and
 * again while the flood lasts: a decided packet of ordinary traffic pays
 * neither the filter's read nor its false alarms. Insertions write their
 * slot whether the filter is on or not, so that it starts out knowing the
 * flows of the last period. Not used for IPv4 flows in the array table,
 * whose miss reads the bucket the insertion reads anyway.
 */
#ifndef PKTSPEC_BPF_FRESH_H
#define PKTSPEC_BPF_FRESH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/flow_key.h"

struct pks_fresh_line {
	__u8 gen[PKS_FRESH_LINE];
};

/* Pinned: every attachment's programs insert into the same flow tables. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKS_FRESH_SLOTS / PKS_FRESH_LINE);
	__type(key, __u32);
	__type(value, struct pks_fresh_line);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_fresh SEC(".maps");

/* The period of a time of the flow clock, as a slot stores it. */
static __always_inline __u8 pks_fresh_gen(__u64 now)
{
	return (__u8)(now >> PKS_FRESH_SHIFT);
}

/* The line of the packet's key, and in *at its byte. */
static __always_inline struct pks_fresh_line *pks_fresh_line_of(const struct pks_state *s, __u32 *at)
{
	__u64 h = s->v4 ? pks_key_hash(&s->key4, sizeof(s->key4) / 4) : pks_key_hash(&s->key, sizeof(s->key) / 4);
	__u32 slot = h >> (64 - 20);
	__u32 line = slot / PKS_FRESH_LINE;

	_Static_assert(PKS_FRESH_SLOTS == 1u << 20, "the slot takes the hash's top 20 bits");
	*at = slot & (PKS_FRESH_LINE - 1);
	return bpf_map_lookup_elem(&pks_fresh, &line);
}

/* Whether the packet's flow table is one the filter stands in front of. */
static __always_inline int pks_fresh_applies(const struct pks_state *s)
{
	return !(s->v4 && pks_ways4_buckets) && pks_cfg.fresh_mode != PKS_FRESH_NEVER;
}

/* Whether the filter is on for this CPU's packet. */
static __always_inline int pks_fresh_on(const struct pks_state *s)
{
	if (!pks_fresh_applies(s))
		return 0;
	if (pks_cfg.fresh_mode == PKS_FRESH_ALWAYS)
		return 1;
	return (s->now >> PKS_FRESH_SHIFT) <= s->fresh_until;
}

/*
 * A flow inserted (or found by the insertion) now: its slot says so. On a
 * new insertion, the CPU's count of this period's new flows, which turns
 * the filter on (PKS_FRESH_AUTO).
 */
static __always_inline void pks_fresh_inserted(struct pks_state *s, int created)
{
	struct pks_fresh_line *l;
	__u64 period = s->now >> PKS_FRESH_SHIFT;
	__u32 at;

	if (!pks_fresh_applies(s))
		return;
	l = pks_fresh_line_of(s, &at);
	if (l)
		l->gen[at] = pks_fresh_gen(s->now);
	if (!created || pks_cfg.fresh_mode != PKS_FRESH_AUTO)
		return;
	if (period != s->fresh_period) {
		s->fresh_period = period;
		s->fresh_new = 0;
	}
	if (++s->fresh_new >= pks_cfg.fresh_new)
		s->fresh_until = period + 2;
}

#endif
