// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * Stands in for "another user of the mark" in the tc tests: a filter of the
 * user's own that sets mark bit 0x1000 and lets the next filter run
 * (TC_ACT_UNSPEC), as a firewall or VPN tool sharing skb->mark would.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int user_mark(struct __sk_buff *skb)
{
	skb->mark |= 0x1000;
	return -1; /* TC_ACT_UNSPEC: on to the next filter */
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
