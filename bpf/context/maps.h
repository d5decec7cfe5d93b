/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The maps of the context rules (doc/context.md; the contract is
 * include/pktspec/events.h), their small accessors and the rules' counter.
 * Who writes what:
 *
 *   pks_events    kernel -> engine: new-flow and verdict events, first messages' copies
 *   pks_ctlevents kernel -> engine: copies of control channels, read first
 *                 (context/events.h)
 *   pks_expect    announced flows: the engine writes SIP/SDP, RTSP and FTP
 *                 EPRT with IPv6; the kernel writes FTP 227/229/PORT/EPRT|1|
 *                 and TFTP (context/kexp.h); the kernel reads and uses them
 *                 at flow creation (context/flow_new.h)
 *   pks_servers   server memory: the engine writes, the kernel reads at
 *                 flow creation
 *   pks_hosts     DNS-named servers: the engine writes, the kernel reads at
 *                 flow creation
 *   pks_names     the engine only; defined here so that one object creates
 *                 and pins it
 *   pks_done      flows a rule is finished with: the engine writes, the
 *                 kernel reads and removes (context/events.h)
 *   pks_ctxstats  the kernel's counters (PKS_CR_COUNT)
 *   pks_ctl       one record per writer (engine, kernel): whether an engine
 *                 reads the ring, and until when an expectation may be alive
 *   pks_expect_gate  per slot of an expectation's listen side and per writer
 *                 (engine, kernel), until when one may be alive there: each
 *                 writer raises it before it writes pks_expect, a new flow
 *                 looks pks_expect up only through an open gate
 *                 (include/pktspec/events.h)
 *   pks_scratch   the kernel's per-CPU payload copy under construction
 *   pks_filter    the lookup filter: the daemon sets a bit per key before it
 *                 writes pks_restore, pks_servers or pks_hosts; a new flow
 *                 looks those up only where its key's bit is set
 *                 (include/pktspec/filter.h)
 *
 * Names: pks_cr_* is a context rule's; `ctx` is only ever the BPF program's
 * context. The pinned names and the pks_flow.ctx field keep their spelling:
 * users see them through bpftool.
 */
#ifndef PKTSPEC_BPF_CONTEXT_MAPS_H
#define PKTSPEC_BPF_CONTEXT_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "pktspec/filter.h"
#include "hook.h"
#include "parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PKS_EVENTS_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PKS_CTLEVENTS_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ctlevents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_EXPECT_MAX);
	__type(key, struct pks_expect_key);
	__type(value, struct pks_expect);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_expect SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKS_EXPECT_GATE_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_expect_gate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_SERVERS_MAX);
	__type(key, struct pks_server_key);
	__type(value, struct pks_server);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_servers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_HOSTS_MAX);
	__type(key, struct pks_host_key);
	__type(value, struct pks_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_hosts SEC(".maps");

/* Written by the engine only; here so that one object creates and pins it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_NAMES_MAX);
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_DONE_MAX);
	__type(key, struct pks_flow_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_done SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_ctx_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ctxstats SEC(".maps");

/* Set and cleared by the daemon, read here before a lookup: include/pktspec/filter.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_filter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_filter SEC(".maps");

/* Whether the filter's bit for a key of table is set: 0 only where a lookup would miss. */
static __always_inline int pks_filter_may_hold(__u32 table, __u32 slot)
{
	__u32 zero = 0;
	struct pks_filter *f = bpf_map_lookup_elem(&pks_filter, &zero);

	return !f || pks_filter_bit(f, table, slot);
}

/* Written by the engine and the kernel rules: include/pktspec/events.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct pks_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ctl SEC(".maps");

static __always_inline struct pks_ctl *pks_ctl_get(__u32 writer)
{
	return bpf_map_lookup_elem(&pks_ctl, &writer);
}

/* Whether an engine reads the events: without one, sending them is wasted work. */
static __always_inline int pks_cr_consumer(void)
{
	struct pks_ctl *c = pks_ctl_get(PKS_CTL_ENGINE);

	return c && c->consumer;
}

/* Whether an expectation written by the engine or the kernel may still be alive. */
static __always_inline int pks_cr_expect_alive(__u64 now)
{
	struct pks_ctl *u = pks_ctl_get(PKS_CTL_ENGINE), *k = pks_ctl_get(PKS_CTL_KERNEL);

	return (u && now < u->expect_until) || (k && now < k->expect_until);
}

/* Whether either writer's element of the gate pair at first (the engine's) is open at now. */
static __always_inline int pks_cr_gate_pair_open(__u32 first, __u64 now)
{
	__u32 second = first + 1;
	__u32 *ue = bpf_map_lookup_elem(&pks_expect_gate, &first), *uk = bpf_map_lookup_elem(&pks_expect_gate, &second);

	return (ue && pks_expect_gate_open(*ue, now)) || (uk && pks_expect_gate_open(*uk, now));
}

/*
 * Whether either writer may have an expectation alive at now on k's listen
 * side (its peer fields do not count): the coarse slot first, which stays
 * cached, then the fine one.
 */
static __always_inline int pks_cr_expect_gate_open(const struct pks_expect_key *k, __u64 now)
{
	__u32 slot = pks_expect_gate_slot(k);

	return pks_cr_gate_pair_open(pks_expect_gate_l1_index(slot, PKS_CTL_ENGINE), now) &&
	       pks_cr_gate_pair_open(pks_expect_gate_index(slot, PKS_CTL_ENGINE), now);
}

static __always_inline void pks_cr_gate_raise(__u32 i, __u32 u)
{
	__u32 *g = bpf_map_lookup_elem(&pks_expect_gate, &i);

	if (g && *g < u)
		*g = u;
}

/* Opens both levels of k's gate for the kernel's writes until expires_ns: before the entry is written. */
static __always_inline void pks_cr_expect_gate_raise(const struct pks_expect_key *k, __u64 expires_ns)
{
	__u32 slot = pks_expect_gate_slot(k), u = pks_expect_gate_until(expires_ns);

	pks_cr_gate_raise(pks_expect_gate_l1_index(slot, PKS_CTL_KERNEL), u);
	pks_cr_gate_raise(pks_expect_gate_index(slot, PKS_CTL_KERNEL), u);
}

/* Whether pks_servers, pks_hosts may hold an entry alive at now: the engine says until when (pks_ctl). */
static __always_inline int pks_cr_servers_alive(__u64 now)
{
	struct pks_ctl *u = pks_ctl_get(PKS_CTL_ENGINE);

	return u && now < u->servers_until;
}

static __always_inline int pks_cr_hosts_alive(__u64 now)
{
	struct pks_ctl *u = pks_ctl_get(PKS_CTL_ENGINE);

	return u && now < u->hosts_until;
}

/*
 * Whether pks_restore may hold the flow of key k: the daemon says so before
 * it writes an entry (bpf/maps.h), in pks_ctl for the map and in the filter
 * for the key.
 */
static __always_inline int pks_restore_may_hold(const struct pks_flow_key *k)
{
	struct pks_ctl *u = pks_ctl_get(PKS_CTL_ENGINE);

	return u && u->restore && pks_filter_may_hold(PKS_FILTER_RESTORE, PKS_FILTER_SLOT_OF(k));
}

/*
 * Scratch for building a payload copy: too big for the 512-byte stack.
 * Pinned with the stage chain (bpf/hook.h): pks_copy prepares it and
 * pks_krules sends it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_event_payload);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_scratch SEC(".maps");

static __always_inline struct pks_ctx_stats *pks_cr_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pks_ctxstats, &zero);
}

/* Counts one event of the context rules in pks_ctxstats (struct pks_ctx_stats). */
#define PKS_CR_COUNT(field)                                 \
	do {                                                \
		struct pks_ctx_stats *_s = pks_cr_stats();  \
		if (_s)                                     \
			_s->field++; /* per-CPU: no other writer */ \
	} while (0)

/* A 16-byte address into a key of these maps. */
static __always_inline void pks_cr_addr_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

/* The tunnel a packet came in, as the context maps' keys hold it (struct pks_scope). */
static __always_inline void pks_cr_scope(struct pks_scope *s, const struct pks_pkt *p)
{
	s->encap = p->encap;
	s->depth = p->depth;
	s->pad[0] = s->pad[1] = 0;
	s->tunnel_id = p->tunnel_id;
}

#endif /* PKTSPEC_BPF_CONTEXT_MAPS_H */
