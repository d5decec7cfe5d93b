// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * pktspec classifier at tc egress (clsact), for end hosts.
 *
 * XDP sees received packets only, so on a server the replies it sends are
 * never classified and verdicts stop short of "confirmed". This program runs
 * the XDP classifier's own source (bpf/pktspec.bpf.c, compiled here with
 * PKS_HOOK_TC) on outgoing packets: the same flow key, verdict logic, payload
 * windows, context events, payload copies and pks_expect lookups, on the same
 * pinned maps. An outgoing packet never reaches the same host's XDP hook, so
 * nothing is counted twice on one host.
 *
 * It returns TC_ACT_UNSPEC, so later filters on the hook run after it: the
 * tc policy program (bpf/pktspec_tc.bpf.c) sits at a higher priority number
 * and sees the verdict this packet just produced.
 */
#define PKS_HOOK_TC 1
#include "pktspec.bpf.c"

/* include/uapi/linux/pkt_cls.h: not in vmlinux.h, which only carries types. */
#define TC_ACT_UNSPEC (-1)

/*
 * Headers that run past the linear data (rare on egress: the stack builds
 * them in the linear head) are pulled in up to this many bytes: Ethernet, two
 * VLAN tags, IPv6 with extension headers and TCP with options.
 */
#define PKS_EGRESS_PULL_MAX 256

/* A global function: checked once though called twice, and it takes the context because a pull invalidates packet pointers. */
__noinline int pks_egress_parse(struct __sk_buff *skb, struct pks_pkt *p)
{
	struct pks_cursor cur;

	if (!p)
		return PKS_REASON_TRUNC_ETH;
	cur.pos = (void *)(long)skb->data;
	cur.end = (void *)(long)skb->data_end;
	__builtin_memset(p, 0, sizeof(*p));
	return pks_parse(&cur, p);
}

/*
 * pks_count, but for a reason that can come from a global function (any int
 * to the verifier): with pks_count's 32-bit argument the compiler bounds one
 * copy of the register and indexes with another. Here it is one 64-bit
 * register, bounded before use.
 */
__noinline int pks_egress_count(__u64 reason)
{
	__u32 zero = 0;
	__u64 *counters;

	if (reason >= PKS_REASON__COUNT)
		return 0;
	counters = bpf_map_lookup_elem(&pks_stats, &zero);
	if (counters)
		counters[reason]++; /* per-CPU: no other writer */
	return 0;
}

SEC("tc")
int pks_egress(struct __sk_buff *skb)
{
	struct pks_pkt pkt;
	__u32 linear;
	int reason;

	reason = pks_egress_parse(skb, &pkt);
	linear = skb->data_end - skb->data;
	if (reason && reason != PKS_REASON_NON_IP && reason != PKS_REASON_OTHER_L4 &&
	    reason != PKS_REASON_FRAG_LATER && linear < skb->len && linear < PKS_EGRESS_PULL_MAX) {
		__u32 want = skb->len < PKS_EGRESS_PULL_MAX ? skb->len : PKS_EGRESS_PULL_MAX;

		if (bpf_skb_pull_data(skb, want) == 0)
			reason = pks_egress_parse(skb, &pkt);
	}
	if (!reason)
		reason = pks_track(skb, &pkt);
	pks_egress_count(reason);
	return TC_ACT_UNSPEC;
}
