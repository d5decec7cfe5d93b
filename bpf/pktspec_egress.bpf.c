// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * pktspec classifier at tc egress (clsact), for end hosts.
 *
 * XDP sees received packets only, so on a server the replies it sends are
 * never classified and verdicts stop short of "confirmed". This program runs
 * the XDP classifier's own source (bpf/pktspec.bpf.c, compiled here with
 * PKS_HOOK_TC: the same stages, as tc programs with their own tail-call
 * table) on outgoing packets: the same flow key, verdict logic, payload
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

/*
 * Headers that run past the linear data (rare on egress: the stack builds
 * them in the linear head) are pulled in up to this many bytes: Ethernet, two
 * VLAN tags, IPv6 with extension headers and TCP with options.
 */
#define PKS_EGRESS_PULL_MAX 256

/* Parses from the linear data; called again after a pull, which invalidates packet pointers. */
static __always_inline int pks_egress_parse(struct __sk_buff *skb, struct pks_pkt *p)
{
	struct pks_cursor cur;

	cur.pos = (void *)(long)skb->data;
	cur.end = (void *)(long)skb->data_end;
	__builtin_memset(p, 0, sizeof(*p));
	return pks_parse(&cur, p);
}

SEC("tc")
int pks_egress(struct __sk_buff *skb)
{
	struct pks_state *s = pks_state_get();
	__u32 linear;
	int reason;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	reason = pks_egress_parse(skb, &s->pkt);
	linear = skb->data_end - skb->data;
	if (reason && reason != PKS_REASON_NON_IP && reason != PKS_REASON_OTHER_L4 &&
	    reason != PKS_REASON_FRAG_LATER && linear < skb->len && linear < PKS_EGRESS_PULL_MAX) {
		__u32 want = skb->len < PKS_EGRESS_PULL_MAX ? skb->len : PKS_EGRESS_PULL_MAX;

		if (bpf_skb_pull_data(skb, want) == 0)
			reason = pks_egress_parse(skb, &s->pkt);
	}
	if (reason)
		return pks_end(reason);
	asm volatile("" ::: "memory"); /* one state for the rest: see pks_xdp */
	return pks_entry(skb, s);
}
