/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * What earlier flows say about a new one, on its first packet, before its
 * entry is inserted: an announced flow in pks_expect (FTP data, RTP/RTCP,
 * TFTP) gives the verdict with confidence "expected"; else a remembered
 * server in pks_servers gives its verdict, also "expected", which a
 * contradicting signature may overrule; pks_hosts gives the application of
 * a server a DNS answer named; last, the operator's address rules
 * (bpf/oprules.h) override all of them.
 *
 * The kernel applies these at flow creation because the first packet must
 * carry them; who writes each map is in context/maps.h (the engine, except
 * the expectations the kernel writes itself: context/kexp.h).
 */
#ifndef PKTSPEC_BPF_CONTEXT_FLOW_NEW_H
#define PKTSPEC_BPF_CONTEXT_FLOW_NEW_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "pktspec/flow_key.h"
#include "parse.h"
#include "oprules.h"
#include "context/maps.h"
#include "context/events.h"

/* One pks_expect lookup; a stale entry is removed, never used. */
static __always_inline struct pks_expect *pks_cr_expect_get(struct pks_expect_key *k, __u64 now)
{
	struct pks_expect *e = bpf_map_lookup_elem(&pks_expect, k);

	if (e && e->expires_ns <= now) {
		bpf_map_delete_elem(&pks_expect, k);
		PKS_CR_COUNT(expect_expired);
		return NULL;
	}
	return e;
}

/*
 * What earlier flows say about a new one, before it is inserted: fills the
 * verdict from pks_expect or pks_servers, the app from pks_hosts, and the
 * want bit. Lookup order: see struct pks_expect_key.
 */
static __always_inline void pks_cr_flow_new(struct pks_flow *f, const struct pks_pkt *p, int src_side, __u64 now)
{
	struct pks_expect_key k = {};
	struct pks_server_key sk = {};
	struct pks_host_key hk;
	struct pks_expect *e = NULL;
	struct pks_server *s;
	struct pks_host *h;
	const __u8 *server_addr;
	__u16 server_port;
	int server_is_src, listener_is_dst = 1;

	/* No expectation can be alive: nothing to read on any new flow. */
	if (!pks_cr_expect_alive(now))
		goto no_expect;
	k.l4 = p->l4;
	pks_cr_scope(&k.scope, p);
	pks_cr_addr_copy(k.listen_addr, p->dst);
	k.listen_port = p->dport;
	/* Each side's lookups only through its open gate (a cached coarse slot, then a fine one): not three lookups. */
	if (pks_cr_expect_gate_open(&k, now)) {
		pks_cr_addr_copy(k.peer_addr, p->src);
		k.peer_port = p->sport;
		e = pks_cr_expect_get(&k, now);
		if (!e) {
			k.peer_port = 0;
			e = pks_cr_expect_get(&k, now);
		}
		if (!e) {
			__builtin_memset(k.peer_addr, 0, 16);
			e = pks_cr_expect_get(&k, now);
		}
	}
	if (!e && p->l4 == IPPROTO_UDP) {
		listener_is_dst = 0;
		pks_cr_addr_copy(k.listen_addr, p->src);
		k.listen_port = p->sport;
		k.peer_port = 0;
		if (pks_cr_expect_gate_open(&k, now)) {
			pks_cr_addr_copy(k.peer_addr, p->dst);
			e = pks_cr_expect_get(&k, now);
			if (!e) {
				__builtin_memset(k.peer_addr, 0, 16);
				e = pks_cr_expect_get(&k, now);
			}
		}
	}
	if (e) {
		f->proto = e->proto;
		f->confidence = PKS_C_EXPECTED;
		f->rule = e->rule;
		f->ctx |= PKS_X_AT_FIRST;
		/* Nothing to inspect: the announcement is the evidence (and an
		 * FTP data connection may carry any bytes at all). */
		f->flags |= PKS_F_DECIDED;
		if (e->flags & PKS_EXP_LISTENER_CLIENT) {
			/* The flow's first packet was sent by the announced peer to
			 * the listener: the listener is the client (TFTP). */
			f->bits = (f->bits & ~PKS_B_CLIENT_B) |
				  ((listener_is_dst ? !src_side : src_side) == PKS_SIDE_B ? PKS_B_CLIENT_B : 0);
		}
		if (e->flags & PKS_EXP_ONCE)
			bpf_map_delete_elem(&pks_expect, &k);
		PKS_CR_COUNT(expect_hit);
	}
no_expect:

	server_is_src = (!pks_flow_client(f)) == src_side;
	server_addr = server_is_src ? p->src : p->dst;
	server_port = server_is_src ? p->sport : p->dport;

	/* Server memory and host names: only while the engine may have one alive (pks_ctl), and only where the filter's bit is set. */
	if (!e && pks_cr_servers_alive(now)) {
		pks_cr_addr_copy(sk.addr, server_addr);
		sk.port = server_port;
		sk.l4 = p->l4;
		pks_cr_scope(&sk.scope, p);
		s = pks_filter_may_hold(PKS_FILTER_SERVERS, PKS_FILTER_SLOT_OF(&sk)) ?
			    bpf_map_lookup_elem(&pks_servers, &sk) : NULL;
		if (s && s->expires_ns > now) {
			f->proto = s->proto;
			f->confidence = PKS_C_EXPECTED;
			f->rule = PKS_R_SERVER_MEMORY;
			f->ctx |= PKS_X_AT_FIRST | PKS_X_MEMORY;
			/* The app an earlier flow's name gave (SNI, Host): policy by app from this packet. */
			f->app = s->app;
			PKS_CR_COUNT(memory_hit);
		}
	}

	h = NULL;
	if (pks_cr_hosts_alive(now)) {
		pks_cr_addr_copy(hk.addr, server_addr);
		pks_cr_scope(&hk.scope, p);
		if (pks_filter_may_hold(PKS_FILTER_HOSTS, PKS_FILTER_SLOT_OF(&hk)))
			h = bpf_map_lookup_elem(&pks_hosts, &hk);
	}
	if (h && h->expires_ns > now) {
		if (h->app)
			f->app = h->app;
		f->ctx |= PKS_X_NAMED;
		/*
		 * Named by a DNS answer before its first packet, and the name has
		 * an application: confidence "dns", so that a policy by app (with
		 * any minimum up to dns) applies from this packet. The protocol
		 * stays the port's guess; a signature still replaces it (pks_apply).
		 */
		if (h->app && f->confidence <= PKS_C_PORT) {
			f->confidence = PKS_C_DNS;
			f->rule = PKS_R_DNS_NAMED;
			f->ctx |= PKS_X_AT_FIRST;
		}
		PKS_CR_COUNT(host_hit);
	}
	/* Last: the operator overrides what anything above guessed. */
	if (pks_op_flow_new(f, server_addr, server_port, p->l4))
		PKS_CR_COUNT(user_hit);
	pks_cr_update_want(f);
}

#endif /* PKTSPEC_BPF_CONTEXT_FLOW_NEW_H */
