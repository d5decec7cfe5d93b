// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * Benchmark baselines built from the classifier's own parsing and key code
 * (parse.h, flow.h), so that `make bench` can tell what pktspec adds on top of
 * the work every flow-aware XDP program must do.
 *
 * bench_parse: parse L2..L4 and look the flow up in the classifier's flow
 *   table for its family (pks_flows4, pks_flows); no classification, no update. The bench shares pktspec's flow map with it, so
 *   each packet is looked up in the very state pktspec sees.
 * bench_record: the same parse and lookup, and on a miss the insertion of a
 *   zeroed entry (BPF_NOEXIST) into a table of its own with pks_flows4's and
 *   pks_flows's type and size (bench_rec4, bench_rec6). The least any program
 *   that keeps a table of flows does for a new flow: the baseline of the new-flow
 *   goals. Its own tables, so that pktspec never meets the flows it inserted.
 * bench_slots: the same parse and IPv4 key, looked up in a 4-way array
 *   table instead of a hash table (bench_slots.h), a missed flow inserted
 *   there: what a table with one cache line per hit and no eviction list
 *   costs against the LRU hash, on the same traffic. IPv6 packets pass
 *   untouched.
 * bench_slots_dm: bench_slots with its buckets in 32 KiB arrays behind an
 *   array of maps (bench_slots.h): the same work on memory the kernel maps
 *   with 2 MiB pages instead of 4 KiB ones.
 * bench_key: the same parse, writing the canonical flow key to .bss. Never
 *   timed: the bench runs it once per packet to learn which flow (and so which
 *   verdict) a packet belongs to, with the kernel's own parser.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "parse.h"
#include "flow.h"
#include "maps.h"
#include "bench_slots.h"

/* Written by bench_key for the packet it last ran on. */
struct pks_flow_key bench_key_out;
__u32 bench_key_reason; /* 0: a flow packet, else why not (enum pks_reason) */
/* Counted by bench_parse so the lookup cannot be optimised away. */
__u64 bench_hits;
/* Counted by bench_record: insertions that failed (other than -EEXIST). */
__u64 bench_record_fails;

/* bench_record's tables: pks_flows4's and pks_flows's type, key, value and default size, never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_FLOWS_DEFAULT);
	__type(key, struct pks_flow_key4);
	__type(value, struct pks_flow);
} bench_rec4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_FLOWS6_DEFAULT);
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow);
} bench_rec6 SEC(".maps");

SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	struct pks_cursor cur = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct pks_flow_key key;
	struct pks_flow_key4 key4;
	struct pks_pkt pkt = {};
	void *f;

	if (pks_parse(&cur, &pkt))
		return XDP_PASS;
	if (pks_pkt_is4(&pkt)) {
		pks_flow_key4_make(&pkt, &key4);
		f = bpf_map_lookup_elem(&pks_flows4, &key4);
	} else {
		pks_flow_key_make(&pkt, &key);
		f = bpf_map_lookup_elem(&pks_flows, &key);
	}
	if (f)
		bench_hits++;
	return XDP_PASS;
}

SEC("xdp")
int bench_record(struct xdp_md *ctx)
{
	struct pks_cursor cur = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct pks_flow_key key;
	struct pks_flow_key4 key4;
	struct pks_flow zero = {};
	struct pks_pkt pkt = {};
	long err = 0;

	if (pks_parse(&cur, &pkt))
		return XDP_PASS;
	/* One call per map, as in pks_flow_lookup(): each stays inlined or direct. */
	if (pks_pkt_is4(&pkt)) {
		pks_flow_key4_make(&pkt, &key4);
		if (!bpf_map_lookup_elem(&bench_rec4, &key4)) {
			err = bpf_map_update_elem(&bench_rec4, &key4, &zero, BPF_NOEXIST);
			barrier_var(err);
		}
	} else {
		pks_flow_key_make(&pkt, &key);
		if (!bpf_map_lookup_elem(&bench_rec6, &key))
			err = bpf_map_update_elem(&bench_rec6, &key, &zero, BPF_NOEXIST);
	}
	if (err && err != -EEXIST)
		bench_record_fails++;
	return XDP_PASS;
}

/* Parse, key, the flow in a 4-way array table (dm 1: the one in 32 KiB arrays), inserted on a miss. */
static __always_inline int pks_bench_slots_run(struct xdp_md *ctx, int dm)
{
	struct pks_cursor cur = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct pks_flow_key4 key4;
	struct pks_flow zero = {};
	struct pks_pkt pkt = {};
	struct pks_bench_bucket *b;
	__u64 w[2], h;

	if (pks_parse(&cur, &pkt) || !pks_pkt_is4(&pkt))
		return XDP_PASS;
	pks_flow_key4_make(&pkt, &key4);
	h = pks_bench_hash(&key4, w);
	b = pks_bench_bucket_of(h, dm);
	if (!b)
		return XDP_PASS;
	if (pks_bench_slot_find(b, w))
		bench_hits++;
	else
		pks_bench_slot_insert(b, w, h, &zero);
	return XDP_PASS;
}

SEC("xdp")
int bench_slots(struct xdp_md *ctx)
{
	return pks_bench_slots_run(ctx, 0);
}

SEC("xdp")
int bench_slots_dm(struct xdp_md *ctx)
{
	return pks_bench_slots_run(ctx, 1);
}

SEC("xdp")
int bench_key(struct xdp_md *ctx)
{
	struct pks_cursor cur = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct pks_pkt pkt = {};
	int reason;

	reason = pks_parse(&cur, &pkt);
	bench_key_reason = reason;
	if (!reason)
		pks_flow_key_make(&pkt, &bench_key_out);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
