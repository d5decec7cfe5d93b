/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The expectations the kernel writes itself. Some announced flows start
 * before the engine could write their pks_expect entry: the client connects
 * to an FTP data port microseconds after the 227/229 reply crossed its hook,
 * the server as soon as it answered a PORT/EPRT, and a TFTP server answers a
 * request from its new port at once. For these the kernel owns the decision
 * (doc/context.md, "One owner per decision"): its rules (context/ftp.h,
 * context/tftp.h) write the entry here, and an FTP copy's event says so
 * (PKS_EVK_EXPECTED). Everything else that announces flows (SIP/SDP, RTSP,
 * EPRT with IPv6) is the engine's (user/rule_*.c).
 */
#ifndef PKTSPEC_BPF_CONTEXT_KEXP_H
#define PKTSPEC_BPF_CONTEXT_KEXP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "hook.h"
#include "context/maps.h"
#include "context/scan.h"

/* Working space of the kernel rules: per-CPU, because the XDP program's stack is nearly spent. */
struct pks_kexp_scratch {
	struct pks_kexp_nums o;
	struct pks_expect_key k;
	struct pks_expect v;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_kexp_scratch);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_kexp SEC(".maps");

/*
 * Writes one expectation (listen endpoint, peer address, any peer port, in
 * the tunnel of the announcing packet p) with
 * the kernel's lifetime, and tells new flows to look pks_expect up until it
 * expires (pks_ctl, the kernel's record; pks_expect_gate, the kernel's
 * elements of the listen side's two slots).
 */
static __always_inline void pks_kexp_put(struct pks_kexp_scratch *s, const struct pks_pkt *p, const __u8 *listen,
					 __u16 port, const __u8 *peer, __u8 l4, __u8 proto, __u16 rule, __u8 flags,
					 __u64 now)
{
	struct pks_expect_key *k = &s->k;
	struct pks_expect *v = &s->v;

	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memset(v, 0, sizeof(*v));
	pks_cr_addr_copy(k->listen_addr, listen);
	pks_cr_addr_copy(k->peer_addr, peer);
	k->listen_port = port;
	k->l4 = l4;
	/* The announced flow comes in the tunnel of the flow that announced it. */
	pks_cr_scope(&k->scope, p);
	v->expires_ns = now + PKS_EXPECT_TTL_KERNEL;
	v->proto = proto;
	v->rule = rule;
	v->flags = flags;
	/*
	 * The gates first, so that a new flow never skips an entry already
	 * there: pks_ctl's for all new flows, then the listen side's. Two CPUs
	 * writing at once may store the earlier of two expiries microseconds
	 * apart (the gate's margin covers it).
	 */
	{
		struct pks_ctl *ctl = pks_ctl_get(PKS_CTL_KERNEL);

		if (ctl && ctl->expect_until < v->expires_ns)
			ctl->expect_until = v->expires_ns;
	}
	pks_cr_expect_gate_raise(k, v->expires_ns);
	bpf_map_update_elem(&pks_expect, k, v, BPF_ANY);
}

#endif /* PKTSPEC_BPF_CONTEXT_KEXP_H */
