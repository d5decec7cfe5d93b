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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_FLOWS_DEFAULT); /* the loader may resize before load */
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_stats SEC(".maps");

#endif
