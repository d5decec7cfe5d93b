/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Maps of the tc policy program, pinned by name under /sys/fs/bpf/pktspec/
 * beside pks_flows (bpf/maps.h) so that `pktspec policy` and every tc
 * attachment share them. Structs: include/pktspec/policy.h.
 */
#ifndef PKTSPEC_BPF_MAPS_POLICY_H
#define PKTSPEC_BPF_MAPS_POLICY_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/policy.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PKS_POLICY_MAX);
	__type(key, struct pks_policy_key);
	__type(value, struct pks_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_pol_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_pol_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_tc_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_tc_stats SEC(".maps");

#endif
