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
	k->encap = PKS_E_NONE;
	k->depth = 0;
	k->pad = 0;
	k->tunnel_id = 0;
	return src_is_a ? PKS_SIDE_A : PKS_SIDE_B;
}

/*
 * The same for a plain IPv4 packet, into the 16-byte key of pks_flows4
 * (addresses in network order, as in a packet). The side it returns is the
 * side the wide key would give: an IPv4-mapped address compares as its last
 * four bytes.
 */
static __always_inline int pks_flow_key4_fill(struct pks_flow_key4 *k, __u32 src, __u16 sport, __u32 dst,
					      __u16 dport, __u8 l4)
{
	__u32 s = pks_be32_to_host(src), d = pks_be32_to_host(dst);
	int src_is_a = s < d || (s == d && sport <= dport);

	k->addr_a = src_is_a ? src : dst;
	k->addr_b = src_is_a ? dst : src;
	k->port_a = src_is_a ? sport : dport;
	k->port_b = src_is_a ? dport : sport;
	k->l4 = l4;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	return src_is_a ? PKS_SIDE_A : PKS_SIDE_B;
}

/* Whether a wide key is a plain IPv4 flow's, which lives in pks_flows4 (not one inside a tunnel). */
static __always_inline int pks_flow_key_is4(const struct pks_flow_key *k)
{
	const __u32 *a = (const __u32 *)k->addr_a, *b = (const __u32 *)k->addr_b;
	__u32 mapped = pks_be32_to_host(0x0000ffff);

	if (k->encap != PKS_E_NONE || k->depth)
		return 0;
	return !a[0] && !a[1] && a[2] == mapped && !b[0] && !b[1] && b[2] == mapped;
}

static __always_inline void pks_flow_key_to4(const struct pks_flow_key *k, struct pks_flow_key4 *k4)
{
	__builtin_memcpy(&k4->addr_a, k->addr_a + 12, 4);
	__builtin_memcpy(&k4->addr_b, k->addr_b + 12, 4);
	k4->port_a = k->port_a;
	k4->port_b = k->port_b;
	k4->l4 = k->l4;
	k4->pad[0] = k4->pad[1] = k4->pad[2] = 0;
}

static __always_inline void pks_flow_key_from4(const struct pks_flow_key4 *k4, struct pks_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->addr_a[10] = k->addr_a[11] = 0xff;
	k->addr_b[10] = k->addr_b[11] = 0xff;
	__builtin_memcpy(k->addr_a + 12, &k4->addr_a, 4);
	__builtin_memcpy(k->addr_b + 12, &k4->addr_b, 4);
	k->port_a = k4->port_a;
	k->port_b = k4->port_b;
	k->l4 = k4->l4;
}

/* The packed fields of struct pks_flow, for both sides. */
static __always_inline int pks_flow_client(const struct pks_flow *f)
{
	return f->bits & PKS_B_CLIENT_B ? PKS_SIDE_B : PKS_SIDE_A;
}

static __always_inline int pks_flow_sig(const struct pks_flow *f, int dir)
{
	return (f->bits >> (1 + (dir & 1))) & 1;
}

static __always_inline int pks_flow_inspected(const struct pks_flow *f, int dir)
{
	return (f->inspected >> ((dir & 1) * 4)) & 0xf;
}

/* MurmurHash3's 64-bit finalizer: every bit of h reaches every bit of the result. */
static __always_inline __u64 pks_fmix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * A key of `words` 32-bit words (its padding zeroed, as a map key's must be)
 * hashed to 64 bits: the words taken two at a time, each pair mixed in by a
 * multiply, then pks_fmix64. The lookup filter's slot (filter.h) is its top
 * bits; the daemon's flow indexes use it too.
 */
static __always_inline __u64 pks_key_hash(const void *key, __u32 words)
{
	const __u32 *w = (const __u32 *)key;
	__u64 h = words;

	/* In BPF, words is a constant at every call; user space passes it at run time, where nothing unrolls. */
#ifdef __bpf__
#pragma unroll
#endif
	for (__u32 i = 0; i < words; i += 2) {
		__u64 v = w[i];

		if (i + 1 < words)
			v |= (__u64)w[i + 1] << 32;
		h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
	}
	return pks_fmix64(h);
}

/*
 * The array table's hash of a 16-byte key (struct pks_way4): MurmurHash3's
 * 64-bit finalizer over its two words, so that every bit of the key reaches
 * every bit of the hash. The kernel and the CLI must agree on it.
 */
static __always_inline __u64 pks_ways4_hash(const struct pks_flow_key4 *k)
{
	__u64 w0, w1, h;

	__builtin_memcpy(&w0, k, 8);
	__builtin_memcpy(&w1, (const __u8 *)k + 8, 8);
	h = w0 ^ (w1 * 0x9E3779B97F4A7C15ULL);
	return pks_fmix64(h);
}

/* The bucket of a hash among n: its high 32 bits scaled to n (any n, not only powers of two). */
static __always_inline __u32 pks_ways4_bucket(__u64 h, __u32 n)
{
	return (__u32)(((h >> 32) * n) >> 32);
}

/*
 * A key's two words as a way in use stores them: struct pks_flow_key4's
 * pad[0] is struct pks_way4's used byte.
 */
static __always_inline void pks_ways4_words(const struct pks_flow_key4 *k, __u64 w[2])
{
	struct pks_flow_key4 t = *k;

	t.pad[0] = 1;
	__builtin_memcpy(w, &t, 16);
}

#endif
