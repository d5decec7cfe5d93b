/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Maps shared by the XDP classifier and the tc policy program. They are
 * BTF-defined (bpftool prints named fields and enum names) and pinned by name
 * under /sys/fs/bpf/pktspec/ by the loader, so every program attached to any
 * interface shares one flow table.
 */
#ifndef PKTSPEC_BPF_MAPS_H
#define PKTSPEC_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"

/* What an insertion with BPF_NOEXIST returns for a key already there (errno.h is not for BPF). */
#ifndef EEXIST
#define EEXIST 17
#endif

/*
 * Two flow tables with one value: plain IPv4 flows under a 16-byte key, the
 * rest (IPv6, and flows inside tunnels) under the 44-byte one. A million IPv4 flows take 120 MiB this
 * way (16 + 48 bytes, plus the LRU hash's own 64 per entry); in one table
 * under the wide key they took 168 MiB. The loader may resize both before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_FLOWS_DEFAULT);
	__type(key, struct pks_flow_key4);
	__type(value, struct pks_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_FLOWS6_DEFAULT);
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_flows SEC(".maps");

/* The array table of plain IPv4 flows (--flow-table array). */
#include "ways4.h"

/*
 * A flow's entry: in pks_flows4 (or the array table, pks_ways4) under k4
 * when v4, else in pks_flows under k.
 *
 * One call per table: left alone, LLVM merges the two calls into one whose
 * map is chosen at run time, and the verifier only inlines a hash lookup (or
 * calls a map's update directly) at a call that always sees one map. The
 * merged call went through the map's ops, an indirect call, on every packet
 * (about 35 ns of a decided packet live, doc/performance.md). The empty asm
 * on the result of one call keeps the two apart.
 */
static __always_inline struct pks_flow *pks_flow_lookup(int v4, const struct pks_flow_key4 *k4,
							 const struct pks_flow_key *k)
{
	struct pks_flow *f;

	if (v4) {
		if (pks_ways4_buckets)
			return pks_ways4_find(k4);
		f = bpf_map_lookup_elem(&pks_flows4, k4);
		barrier_var(f);
		return f;
	}
	return bpf_map_lookup_elem(&pks_flows, k);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_stats SEC(".maps");

/*
 * Evictions (doc/design.md, "Evictions"): the daemon writes the last state of
 * a decided flow it saw evicted; the flow's next packet brings it back from
 * here (pks_track) instead of starting over midstream. The ledger holds what
 * the daemon deleted, for the eviction count; no program touches it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_RESTORE_MAX);
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_restore SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_ledger);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ledger SEC(".maps");

#endif
