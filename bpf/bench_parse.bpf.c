// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * Benchmark baselines built from the classifier's own parsing and key code
 * (parse.h, flow.h), so that `make bench` can tell what pktspec adds on top of
 * the work every flow-aware XDP program must do.
 *
 * bench_parse: parse L2..L4 and look the flow up in the classifier's flow
 *   table for its family (pks_flows4, pks_flows); no classification, no update. The bench shares pktspec's flow map with it, so
 *   each packet is looked up in the very state pktspec sees.
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

/* Written by bench_key for the packet it last ran on. */
struct pks_flow_key bench_key_out;
__u32 bench_key_reason; /* 0: a flow packet, else why not (enum pks_reason) */
/* Counted by bench_parse so the lookup cannot be optimised away. */
__u64 bench_hits;

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
