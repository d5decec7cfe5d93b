// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * A test fixture (tests/unit/test_race.c): a second CPU meeting the same new
 * flow, made to happen between two stages of one packet. race_insert is put
 * in a slot of the classifier's tail-call table; it inserts the packet's
 * flow (the key the entry made, with the value the test wrote in race_val,
 * its client on the packet's side) as the other CPU would, then goes on to
 * the stage the test put in race_next. It is never part of what pktspec
 * loads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "stages.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_flow);
} race_val SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} race_next SEC(".maps");

__u32 race_runs;     /* times the fixture ran */
__u32 race_inserted; /* times its insertion went in (not -EEXIST) */

SEC("xdp")
int race_insert(struct xdp_md *ctx)
{
	struct pks_state *s = pks_state_get();
	struct pks_flow *v, f;
	__u32 zero = 0;
	long err;

	v = bpf_map_lookup_elem(&race_val, &zero);
	if (s && v) {
		__builtin_memcpy(&f, v, sizeof(f));
		if (s->src_side == PKS_SIDE_B)
			f.bits |= PKS_B_CLIENT_B;
		pks_flow_insert_new(s, &f, &err);
		race_runs++;
		if (!err)
			race_inserted++;
	}
	bpf_tail_call(ctx, &race_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
