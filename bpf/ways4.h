/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The array flow table for plain IPv4 flows (struct pks_bucket4 in
 * include/pktspec/pktspec.h; doc/design.md, "Flow tables"), in use when the
 * loader sets pks_ways4_buckets (`--flow-table array`); else pks_flows4, the
 * LRU hash, and these paths are dead code the verifier never walks.
 *
 * What it saves against the LRU hash (doc/performance.md, "The flow table
 * is the cost"): a hit reads the bucket's ways in order and nearly always
 * finds the flow in the first cache line it reads; a new flow takes a way
 * with one lock and a few stores, with no free list and no LRU list to
 * update. What it gives up: a flow is evicted when its bucket is full (the
 * way quiet longest), not when the table is, so some flows leave before the
 * table holds --max-flows of them; the loader gives it two ways per flow.
 */
#ifndef PKTSPEC_BPF_WAYS4_H
#define PKTSPEC_BPF_WAYS4_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/flow_key.h"

/*
 * Mmapable: the CLI reads and frees ways in place (user/flowtab.c), and the
 * kernel then page-aligns the values, so each way is one whole cache line.
 * One bucket when the LRU hash is in use.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_bucket4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ways4 SEC(".maps");

/* A spin lock may not live in an mmapable map: the insertion locks are a map of their own. */
struct pks_lock4 {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKS_LOCKS4);
	__type(key, __u32);
	__type(value, struct pks_lock4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_locks4 SEC(".maps");

/* pks_ways4's bucket count, which the loader sets (0: the LRU hash holds IPv4 flows). */
const volatile __u32 pks_ways4_buckets = 0;

/* The key's bucket and its two words as a way in use stores them; *idx: the bucket's index, *h: the hash. */
static __always_inline struct pks_bucket4 *pks_ways4_bucket_of(const struct pks_flow_key4 *k, __u64 w[2],
							       __u32 *idx, __u64 *h)
{
	*h = pks_ways4_hash(k);
	*idx = pks_ways4_bucket(*h, pks_ways4_buckets);
	pks_ways4_words(k, w);
	return bpf_map_lookup_elem(&pks_ways4, idx);
}

/* A way's two key words. */
static __always_inline __u64 *pks_way4_words(struct pks_way4 *way)
{
	return (__u64 *)way;
}

/* The flow's value when its bucket holds its key, else NULL. */
static __always_inline struct pks_flow *pks_ways4_find(const struct pks_flow_key4 *k)
{
	struct pks_bucket4 *b;
	__u64 w[2], h;
	__u32 idx;

	b = pks_ways4_bucket_of(k, w, &idx, &h);
	if (!b)
		return NULL;
#pragma unroll
	for (int i = 0; i < PKS_WAYS4; i++) {
		__u64 *kw = pks_way4_words(&b->way[i]);

		if (kw[1] == w[1] && kw[0] == w[0])
			return &b->way[i].val;
	}
	return NULL;
}

/*
 * Inserts a new flow and returns its value in the table: *err 0, or
 * -EEXIST with the entry of the key its bucket already held (another CPU
 * inserted it first); NULL and -ENOENT when the table has no such bucket.
 * Under the bucket's lock, the way is a free one or else the one quiet
 * longest (the flow it held is evicted). It is freed first (a reader stops
 * matching the flow it held), then the value and the key's first word are
 * written, and its word with `used` last, so that no reader matches a way
 * half written.
 */
static __always_inline struct pks_flow *pks_ways4_insert(const struct pks_flow_key4 *k, const struct pks_flow *f,
							   long *err)
{
	struct pks_bucket4 *b;
	struct pks_lock4 *l;
	__u64 w[2], *kw, h;
	__u32 idx, li, oldest = 0;
	int way = -1, have = -1;

	*err = 0;
	b = pks_ways4_bucket_of(k, w, &idx, &h);
	li = idx & (PKS_LOCKS4 - 1);
	l = bpf_map_lookup_elem(&pks_locks4, &li);
	if (!b || !l) {
		*err = -2; /* -ENOENT */
		return NULL;
	}
	bpf_spin_lock(&l->lock);
#pragma unroll
	for (int i = 0; i < PKS_WAYS4; i++) {
		kw = pks_way4_words(&b->way[i]);
		if (kw[1] == w[1] && kw[0] == w[0])
			have = i;
		else if (way < 0 && !b->way[i].used)
			way = i;
	}
	if (have >= 0) {
		way = have;
		*err = -EEXIST;
		goto out;
	}
	if (way < 0) {
		/*
		 * The way quiet longest; among ways last seen in the same tick
		 * (a burst of new flows), the first from a way the key's hash
		 * picks, so that a burst does not churn way 0 alone.
		 */
		way = (h >> 8) & (PKS_WAYS4 - 1);
		oldest = b->way[way].val.last;
#pragma unroll
		for (int i = 1; i < PKS_WAYS4; i++) {
			int j = (way + i) & (PKS_WAYS4 - 1);

			if ((__s32)(b->way[j].val.last - oldest) < 0) {
				oldest = b->way[j].val.last;
				way = j;
			}
		}
	}
	way &= PKS_WAYS4 - 1;
	kw = pks_way4_words(&b->way[way]);
	kw[1] = 0;
	barrier();
	__builtin_memcpy(&b->way[way].val, f, sizeof(*f));
	kw[0] = w[0];
	barrier();
	kw[1] = w[1];
out:
	bpf_spin_unlock(&l->lock);
	return &b->way[way & (PKS_WAYS4 - 1)].val;
}

#endif
