/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The kernel part of the operator rules (include/pktspec/oprules.h): on a
 * flow's first packet, the server's address, port and L4 against the live
 * table of pks_oprules. One trie lookup, skipped when the live table is empty.
 */
#ifndef PKTSPEC_BPF_OPRULES_H
#define PKTSPEC_BPF_OPRULES_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/oprules.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PKS_OPRULES_MAX);
	__type(key, struct pks_op_key);
	__type(value, struct pks_op_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_oprules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_op_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_opstate SEC(".maps");

/* Read by the engine only; here so that one object creates and pins it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PKS_OPHOSTS_MAX);
	__type(key, struct pks_op_host_key);
	__type(value, struct pks_op_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ophosts SEC(".maps");

/* Returns 1 when an operator rule applied to the new flow. */
static __always_inline int pks_op_flow_new(struct pks_flow *f, const __u8 *server_addr, __u16 server_port, __u8 l4)
{
	struct pks_op_state *st;
	struct pks_op_entry *v;
	struct pks_op_key k;
	__u32 zero = 0, live;

	st = bpf_map_lookup_elem(&pks_opstate, &zero);
	if (!st)
		return 0;
	live = st->live & 1;
	if (!st->count[live])
		return 0;
	k.prefixlen = PKS_OP_KEY_BITS;
	k.table = live;
	k.l4 = l4;
	__builtin_memcpy(k.addr, server_addr, 16);
	k.pad[0] = k.pad[1] = 0;
	v = bpf_map_lookup_elem(&pks_oprules, &k);
	if (!v)
		return 0;
	for (int i = 0; i < PKS_OP_RANGES; i++) {
		const struct pks_op_range *r = &v->r[i];

		if (!(r->flags & PKS_OPR_USED))
			break;
		if (server_port < r->lo || server_port > r->hi)
			continue;
		if (r->flags & PKS_OPR_PROTO) {
			/* The operator's word: no signature runs, nothing overrules it. */
			f->proto = r->proto;
			f->confidence = PKS_C_USER;
			f->rule = PKS_R_USER;
			f->flags |= PKS_F_DECIDED;
			f->ctx = (f->ctx & ~PKS_X_MEMORY) | PKS_X_AT_FIRST;
		}
		if (r->flags & PKS_OPR_APP)
			f->app = r->app;
		return 1;
	}
	return 0;
}

#endif /* PKTSPEC_BPF_OPRULES_H */
