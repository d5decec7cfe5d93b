/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Flow keys and port guesses, shared by the classifier and the policy program
 * so that both find the same pks_flows entry for a packet.
 */
#ifndef PKTSPEC_BPF_FLOW_H
#define PKTSPEC_BPF_FLOW_H

#include "parse.h"
#include "pktspec/flow_key.h"

/* The canonical key for a parsed packet; returns the key side of its sender. */
static __always_inline int pks_flow_key_make(const struct pks_pkt *p, struct pks_flow_key *k)
{
	int side = pks_flow_key_fill(k, p->src, p->sport, p->dst, p->dport, p->l4);

	/* A flow inside a tunnel: which tunnel, so that two tenants' flows stay two. */
	k->encap = p->encap;
	k->depth = p->depth;
	k->tunnel_id = p->tunnel_id;
	return side;
}

/* The 16-byte key of a plain IPv4 packet (pks_flows4); the same side as pks_flow_key_make. */
static __always_inline int pks_flow_key4_make(const struct pks_pkt *p, struct pks_flow_key4 *k)
{
	__u32 src, dst;

	__builtin_memcpy(&src, p->src + 12, 4);
	__builtin_memcpy(&dst, p->dst + 12, 4);
	return pks_flow_key4_fill(k, src, p->sport, dst, p->dport, p->l4);
}

/* Whether a parsed packet's flow lives in pks_flows4: plain IPv4, not inside a tunnel. */
static __always_inline int pks_pkt_is4(const struct pks_pkt *p)
{
	return !p->ipv6 && !p->depth;
}

/* The protocol a server port suggests (include/pktspec/ports.def). */
static __always_inline __u8 pks_port_guess(__u8 l4, __u16 port)
{
	__u32 k = ((__u32)l4 << 16) | port;

	switch (k) {
#define PKS_PORT(l4name, num, sym) case ((__u32)IPPROTO_##l4name << 16) | num: return PKS_P_##sym;
#include "pktspec/ports.def"
#undef PKS_PORT
	}
	return PKS_P_UNKNOWN;
}

#endif
