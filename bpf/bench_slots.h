/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * `make bench`'s baseline for the array table (doc/performance.md, "The
 * flow table is the cost"): a BPF_MAP_TYPE_ARRAY of 4-way buckets, chosen
 * by a hash of the 16-byte IPv4 key, each way one cache line, the key and
 * its 48-byte value. bench_slots (bench_parse.bpf.c) parses, looks up and
 * inserts on a miss here: what the table alone costs, as bench_record is
 * for the LRU hash. The classifier's own array table is bpf/ways4.h, with
 * the insertion lock, the victim quiet longest and the readers in user
 * space that this measurement leaves out: two CPUs may write one way at
 * once, and an evicted flow goes unseen.
 */
#ifndef PKTSPEC_BPF_BENCH_SLOTS_H
#define PKTSPEC_BPF_BENCH_SLOTS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/flow_key.h"

#define PKS_BENCH_WAYS 4

/* One way: a cache line, key and value. */
struct pks_bench_way {
	__u64 key[2]; /* the struct pks_flow_key4; 0: free */
	struct pks_flow val;
};

struct pks_bench_bucket {
	struct pks_bench_way way[PKS_BENCH_WAYS];
};

/* Mmapable: the kernel then page-aligns the values, so each way is one whole cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PKS_FLOWS_DEFAULT / PKS_BENCH_WAYS);
	__type(key, __u32);
	__type(value, struct pks_bench_bucket);
} pks_bench_slots SEC(".maps");

/*
 * The same buckets, 64,512 of them, in 512 arrays of 126 buckets behind an
 * array of maps: each inner array is 32,256 bytes of buckets with the map's
 * header, under the 32 KiB up to which the kernel takes a map's memory from
 * kmalloc (the direct map, which this machine maps with 2 MiB pages) rather
 * than vmalloc (4 KiB pages). bench_slots_dm (bench_parse.bpf.c) measures what
 * a TLB miss per lookup costs where the kernel's TLB is flushed at every
 * return to user space (doc/performance.md, "Where a new flow's time goes,
 * and what pages do not explain"; it measured no cheaper than bench_slots).
 * `pktspec-bench xdp` creates the inner arrays and fills the outer one.
 */
#define PKS_BENCH_DM_MAPS 512
#define PKS_BENCH_DM_PER 126

struct pks_bench_dm_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKS_BENCH_DM_PER);
	__type(key, __u32);
	__type(value, struct pks_bench_bucket);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PKS_BENCH_DM_MAPS);
	__type(key, __u32);
	__array(values, struct pks_bench_dm_inner);
} pks_bench_dm SEC(".maps");

/* The key's words in w, and its hash: the array table's (pks_ways4_hash), the bits above the bucket's pick a victim way. */
static __always_inline __u64 pks_bench_hash(const struct pks_flow_key4 *k, __u64 w[2])
{
	__builtin_memcpy(w, k, 16);
	return pks_ways4_hash(k);
}

/* The key's bucket in pks_bench_slots (dm 0) or pks_bench_dm (dm 1). */
static __always_inline struct pks_bench_bucket *pks_bench_bucket_of(__u64 h, int dm)
{
	__u32 idx, outer;
	void *inner;

	if (!dm) {
		idx = (__u32)h & (PKS_FLOWS_DEFAULT / PKS_BENCH_WAYS - 1);
		return bpf_map_lookup_elem(&pks_bench_slots, &idx);
	}
	outer = (__u32)h & (PKS_BENCH_DM_MAPS - 1);
	inner = bpf_map_lookup_elem(&pks_bench_dm, &outer);
	if (!inner)
		return NULL;
	idx = (__u32)(h >> 9) % PKS_BENCH_DM_PER;
	return bpf_map_lookup_elem(inner, &idx);
}

/* The flow's value when its bucket holds its key, else NULL. */
static __always_inline struct pks_flow *pks_bench_slot_find(struct pks_bench_bucket *b, const __u64 w[2])
{
#pragma unroll
	for (int i = 0; i < PKS_BENCH_WAYS; i++)
		if (b->way[i].key[0] == w[0] && b->way[i].key[1] == w[1])
			return &b->way[i].val;
	return NULL;
}

/* BPF_NOEXIST into the bucket: -EEXIST when it holds the key, else a free way or the hash's victim. */
static __always_inline long pks_bench_slot_insert(struct pks_bench_bucket *b, const __u64 w[2], __u64 h,
						  const struct pks_flow *f)
{
	int way = -1;

#pragma unroll
	for (int i = 0; i < PKS_BENCH_WAYS; i++) {
		if (b->way[i].key[0] == w[0] && b->way[i].key[1] == w[1])
			return -17; /* -EEXIST */
		if (way < 0 && !b->way[i].key[0] && !b->way[i].key[1])
			way = i;
	}
	if (way < 0)
		way = (h >> 32) & (PKS_BENCH_WAYS - 1);
	way &= PKS_BENCH_WAYS - 1;
	b->way[way].key[0] = w[0];
	b->way[way].key[1] = w[1];
	__builtin_memcpy(&b->way[way].val, f, sizeof(*f));
	return 0;
}

#endif /* PKTSPEC_BPF_BENCH_SLOTS_H */
