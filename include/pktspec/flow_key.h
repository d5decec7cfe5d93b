/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Building the canonical flow key, shared by the kernel programs and the CLI
 * (which writes expected flows and looks flows up): one definition, so both
 * sides always agree on which endpoint is side A.
 */
#ifndef PKTSPEC_FLOW_KEY_H
#define PKTSPEC_FLOW_KEY_H

#include "pktspec.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u32 pks_be32_to_host(__u32 v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

/* Compares endpoints (address as a network-order number, then port): <0, 0, >0. */
static __always_inline int pks_endpoint_cmp(const __u8 *a, __u16 aport, const __u8 *b, __u16 bport)
{
	const __u32 *wa = (const __u32 *)a, *wb = (const __u32 *)b;
	int i;

	for (i = 0; i < 4; i++) {
		__u32 x = pks_be32_to_host(wa[i]), y = pks_be32_to_host(wb[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return aport < bport ? -1 : aport > bport ? 1 : 0;
}

/*
 * Fills the canonical key for a packet from src:sport to dst:dport (addresses
 * 16 bytes, IPv4-mapped for IPv4; ports in host order) and returns the key
 * side of the sender: both directions of a connection give one key.
 */
static __always_inline int pks_flow_key_fill(struct pks_flow_key *k, const __u8 *src, __u16 sport,
					     const __u8 *dst, __u16 dport, __u8 l4)
{
	int src_is_a = pks_endpoint_cmp(src, sport, dst, dport) <= 0;

	__builtin_memcpy(k->addr_a, src_is_a ? src : dst, 16);
	__builtin_memcpy(k->addr_b, src_is_a ? dst : src, 16);
	k->port_a = src_is_a ? sport : dport;
	k->port_b = src_is_a ? dport : sport;
	k->l4 = l4;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	return src_is_a ? PKS_SIDE_A : PKS_SIDE_B;
}

#endif
