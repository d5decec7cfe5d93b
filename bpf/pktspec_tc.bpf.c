// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * pktspec tc policy program (clsact ingress and egress).
 *
 * Per packet: parse L2..L4 with the classifier's own helpers, find the flow in
 * the pinned pks_flows4 or pks_flows with the classifier's own key, pick the policy its
 * verdict selects in pks_policy (include/pktspec/policy.h), and apply it:
 * skb->mark (value under a mask), the tc class, skb->priority, DSCP, or drop.
 * It never classifies: the XDP program does, and this one only reads.
 *
 * A tunnel's packet (bpf/encap.h) is opened as the classifier opens it, up
 * to PKS_TUNNEL_MAX deep: the verdict of the flow inside selects the policy,
 * whose actions apply to the packet as it is on the wire (DSCP to the outer
 * IP header, which is the one the network reads). When the flow inside
 * selects none (no entry, no verdict yet, no policy for it), the tunnel's
 * own flow selects it as any packet's flow does.
 *
 * It returns TC_ACT_UNSPEC for every packet it passes, so that other filters
 * on the same hook still run after it (and see its mark), and TC_ACT_SHOT for
 * a drop. Exactly one outcome is counted per packet in pks_tc_stats.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pktspec/pktspec.h"
#include "pktspec/policy.h"
#include "parse.h"
#include "flow.h"
#include "maps.h"
#include "maps_policy.h"
#include "encap.h"

/* The UDP ports opened as tunnels: the attach command's --tunnel-port, as the classifier's. */
const volatile struct pks_config pks_cfg = {
	.vxlan_port = PKS_VXLAN_PORT,
	.geneve_port = PKS_GENEVE_PORT,
	.gtpu_port = PKS_GTPU_PORT,
};

/* include/uapi/linux/pkt_cls.h: not in vmlinux.h, which only carries types. */
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2

/*
 * How much of a non-linear skb to pull into the linear data when its headers
 * do not fit there: Ethernet, two VLAN tags, IPv6 with a few extension headers
 * and TCP with options fit comfortably. Headers longer than this stay
 * "malformed" for the policy program (the XDP counters name them).
 */
#define PKS_TC_PULL_MAX 256

#define IPV4_CSUM_OFF 10 /* offsetof(struct iphdr, check) */

static __always_inline void pks_tc_count(__u32 reason)
{
	__u32 zero = 0;
	__u64 *counters = bpf_map_lookup_elem(&pks_tc_stats, &zero);

	if (!counters || reason >= PKS_TC__COUNT)
		return;
	counters[reason]++; /* per-CPU: no other writer */
}

/*
 * Parses from the linear data. It takes the context, not packet pointers,
 * because bpf_skb_pull_data() invalidates those; called twice when headers
 * must be pulled. A static function: a global one may not take a pointer
 * before Linux 5.12, nor an uninitialised stack buffer before 6.x.
 */
static __noinline int pks_tc_parse(struct __sk_buff *skb, struct pks_pkt *p)
{
	struct pks_cursor cur;

	cur.pos = (void *)(long)skb->data;
	cur.end = (void *)(long)skb->data_end;
	__builtin_memset(p, 0, sizeof(*p));
	return pks_parse(&cur, p);
}

/*
 * The packet inside the tunnels around p, parsed into *in as the classifier
 * keys it (pks_decap); returns the tunnels opened, 0 for none or when a
 * header does not parse (then the outer flow stands).
 */
static __noinline int pks_tc_inner(struct __sk_buff *skb, const struct pks_pkt *p, struct pks_pkt *in)
{
	void *data = (void *)(long)skb->data;
	struct pks_cursor cur;
	struct pks_tunnel t;
	__u32 off;
	__u8 kind;
	int depth;

	__builtin_memcpy(in, p, sizeof(*in));
	for (depth = 0; depth < PKS_TUNNEL_MAX; depth++) {
		kind = pks_tunnel_of(in, pks_cfg.vxlan_port, pks_cfg.geneve_port, pks_cfg.gtpu_port);
		if (!kind)
			break;
		off = in->payload_off;
		if (off > PKS_PARSE_OFF_MAX)
			return 0;
		cur.pos = data + off;
		cur.end = (void *)(long)skb->data_end;
		if (pks_tunnel_parse(&cur, kind, in->l4, &t) || t.inner == PKS_IN_OTHER)
			return 0;
		__builtin_memset(in, 0, sizeof(*in));
		in->encap = t.kind;
		in->depth = depth + 1;
		in->tunnel_id = t.id;
		/* A fresh bound for the inner headers' offsets, as in pks_decap. */
		in->payload_off = cur.pos - data;
		asm volatile("" ::: "memory");
		off = *(volatile __u32 *)&in->payload_off;
		if (off > PKS_PARSE_OFF_MAX)
			return 0;
		cur.pos = data + off;
		if (pks_parse_inner(&cur, data, in, &t))
			return 0;
	}
	return depth;
}

/* Packets that are not flow packets by design, not because they were cut short. */
static __always_inline int pks_tc_not_flow(int reason)
{
	return reason == PKS_REASON_NON_IP || reason == PKS_REASON_OTHER_L4 ||
	       reason == PKS_REASON_FRAG_LATER;
}

static __always_inline struct pks_policy *pks_pol_find(__u8 table, __u8 match, __u8 proto, __u16 app,
						       __u8 confidence, int *too_weak)
{
	struct pks_policy_key k = {
		.table = table,
		.match = match,
		.proto = proto,
		.app = app,
	};
	struct pks_policy *pol = bpf_map_lookup_elem(&pks_policy, &k);

	/* A verdict less sure than the policy asks for does not select it. */
	if (pol && confidence < pol->min_confidence) {
		*too_weak = 1;
		return NULL;
	}
	return pol;
}

/*
 * The policy f's verdict selects (NULL for none) and the outcome: no flow,
 * pending (no verdict yet, or one less sure than the policy asks), no
 * policy, or applied.
 */
static __always_inline int pks_tc_select(const struct pks_flow *f, __u8 table, struct pks_policy **pol)
{
	int too_weak = 0;

	*pol = NULL;
	if (!f)
		return PKS_TC_NO_FLOW;
	if (f->confidence == PKS_C_NONE && !(f->flags & PKS_F_DECIDED))
		return PKS_TC_PENDING;
	/* Most specific first: protocol and application, application, protocol. */
	if (f->app) {
		*pol = pks_pol_find(table, PKS_PM_PROTO, f->proto, f->app, f->confidence, &too_weak);
		if (!*pol)
			*pol = pks_pol_find(table, PKS_PM_APP, 0, f->app, f->confidence, &too_weak);
	}
	if (!*pol)
		*pol = pks_pol_find(table, PKS_PM_PROTO, f->proto, 0, f->confidence, &too_weak);
	/*
	 * A policy that exists but asks for a surer verdict than the flow
	 * has leaves the flow pending: it follows the pending default.
	 */
	return *pol ? PKS_TC_APPLIED : too_weak ? PKS_TC_PENDING : PKS_TC_NO_POLICY;
}

/*
 * DSCP is the top six bits of the IPv4 TOS byte and of the IPv6 traffic class
 * (RFC 2474 3); the two ECN bits below it (RFC 3168 5) are kept.
 */
static __always_inline int pks_set_dscp(struct __sk_buff *skb, const struct pks_pkt *p, __u8 dscp)
{
	__u8 b[2], nb[2];

	if (bpf_skb_load_bytes(skb, p->l3_off, b, sizeof(b)))
		return -1;
	if (!p->ipv6) {
		__u16 old, new;

		nb[0] = b[0];
		nb[1] = (dscp << 2) | (b[1] & 0x03);
		if (nb[1] == b[1])
			return 0;
		__builtin_memcpy(&old, b, 2);
		__builtin_memcpy(&new, nb, 2);
		/*
		 * Header checksum first (RFC 1624 incremental update), then the
		 * byte. Neither call touches skb->csum: the two changes cancel
		 * in the one's complement sum of the header, so a
		 * CHECKSUM_COMPLETE sum over it stays right.
		 */
		if (bpf_l3_csum_replace(skb, p->l3_off + IPV4_CSUM_OFF, old, new, sizeof(new)))
			return -1;
		if (bpf_skb_store_bytes(skb, p->l3_off + 1, &nb[1], 1, 0))
			return -1;
		return 0;
	}
	/* Version (4 bits), traffic class (8), flow label (20): RFC 8200 3. */
	nb[0] = 0x60 | (dscp >> 2);
	nb[1] = ((dscp & 0x03) << 6) | (b[1] & 0x3f);
	if (nb[0] == b[0] && nb[1] == b[1])
		return 0;
	/*
	 * IPv6 has no header checksum and the TCP/UDP pseudo-header leaves the
	 * traffic class out (RFC 8200 8.1); RECOMPUTE_CSUM keeps a receive-side
	 * CHECKSUM_COMPLETE sum in step with the changed bytes.
	 */
	return bpf_skb_store_bytes(skb, p->l3_off, nb, sizeof(nb), BPF_F_RECOMPUTE_CSUM) ? -1 : 0;
}

SEC("tc")
int pks_tc(struct __sk_buff *skb)
{
	struct pks_flow_key key;
	struct pks_pkt pkt, in;
	struct pks_flow_key4 key4;
	struct pks_policy *pol = NULL;
	struct pks_pol_state *st;
	struct pks_flow *f;
	__u32 zero = 0, linear;
	__u8 table = 0;
	int reason, outcome, inner = -1, is4;

	reason = pks_tc_parse(skb, &pkt);
	linear = skb->data_end - skb->data;
	if (reason && !pks_tc_not_flow(reason) && linear < skb->len && linear < PKS_TC_PULL_MAX) {
		/* The headers go on past the linear data (a GRO or paged skb). */
		__u32 want = skb->len < PKS_TC_PULL_MAX ? skb->len : PKS_TC_PULL_MAX;

		if (bpf_skb_pull_data(skb, want) == 0) {
			pks_tc_count(PKS_TC_PULLED);
			reason = pks_tc_parse(skb, &pkt);
		}
	}
	if (reason) {
		pks_tc_count(pks_tc_not_flow(reason) ? PKS_TC_NOT_FLOW : PKS_TC_MALFORMED);
		return TC_ACT_UNSPEC;
	}

	st = bpf_map_lookup_elem(&pks_pol_state, &zero);
	if (st)
		table = st->live & 1;

	if (pks_tunnel_of(&pkt, pks_cfg.vxlan_port, pks_cfg.geneve_port, pks_cfg.gtpu_port)) {
		linear = skb->data_end - skb->data;
		if (linear < skb->len && linear < PKS_TC_PULL_MAX) {
			/* The headers inside go on past the linear data: the outer ones are parsed again after. */
			__u32 want = skb->len < PKS_TC_PULL_MAX ? skb->len : PKS_TC_PULL_MAX;

			if (bpf_skb_pull_data(skb, want) == 0) {
				pks_tc_count(PKS_TC_PULLED);
				if (pks_tc_parse(skb, &pkt)) {
					pks_tc_count(PKS_TC_MALFORMED);
					return TC_ACT_UNSPEC;
				}
			}
		}
		if (pks_tc_inner(skb, &pkt, &in) > 0) {
			pks_flow_key_make(&in, &key); /* inside a tunnel: the wide table */
			f = pks_flow_lookup(0, &key4, &key);
			inner = pks_tc_select(f, table, &pol);
			if (inner == PKS_TC_APPLIED)
				pks_tc_count(PKS_TC_TUNNEL);
		}
	}
	/*
	 * Otherwise the packet's own flow (a tunnel's: the tunnel's flow)
	 * selects it; when that selects none either, what the flow inside
	 * lacked (no entry yet, no verdict yet, no policy) is the outcome.
	 */
	outcome = inner;
	if (outcome != PKS_TC_APPLIED) {
		is4 = pks_pkt_is4(&pkt);
		if (is4)
			pks_flow_key4_make(&pkt, &key4);
		else
			pks_flow_key_make(&pkt, &key);
		f = pks_flow_lookup(is4, &key4, &key);
		outcome = pks_tc_select(f, table, &pol);
		if (outcome != PKS_TC_APPLIED && inner >= 0)
			outcome = inner;
	}
	if (outcome != PKS_TC_APPLIED) {
		struct pks_policy_key k = { .table = table, .match = PKS_PM_PENDING };

		if (outcome != PKS_TC_NO_POLICY)
			pol = bpf_map_lookup_elem(&pks_policy, &k);
		if (!pol) {
			pks_tc_count(outcome);
			return TC_ACT_UNSPEC;
		}
	}

	if (pol->verdict == PKS_PV_DROP) {
		pks_tc_count(PKS_TC_DROPPED);
		return TC_ACT_SHOT;
	}
	if (pol->mark_mask)
		skb->mark = (skb->mark & ~pol->mark_mask) | (pol->mark & pol->mark_mask);
	if (pol->classid) {
		/*
		 * A clsact filter's class result is not used by the root qdisc;
		 * HTB, HFSC, DRR and QFQ first check whether skb->priority is
		 * the ID of one of their classes (htb_classify) and place the
		 * packet there. tc_classid is what a cls_bpf filter attached to
		 * the classful qdisc itself would hand over. doc/policy.md.
		 */
		skb->priority = pol->classid;
		skb->tc_classid = pol->classid;
	} else if (pol->set_priority) {
		skb->priority = pol->priority;
	}
	if (pol->set_dscp && pks_set_dscp(skb, &pkt, pol->dscp & 0x3f)) {
		pks_tc_count(PKS_TC_REWRITE_FAILED);
		return TC_ACT_UNSPEC;
	}
	pks_tc_count(outcome);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
