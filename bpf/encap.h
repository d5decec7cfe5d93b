/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Tunnels (doc/encapsulations.md): which packets start one, and their
 * headers. The entry program finds a tunnel's packet after the parse
 * (pks_tunnel_of); the decapsulation stage (pks_decap in bpf/pktspec.bpf.c)
 * reads the tunnel header here (pks_tunnel_parse), counts the tunnel's own
 * flow, and parses the packet inside with bpf/parse.h, keyed with the
 * tunnel's kind and ID.
 *
 * Every length is checked before it moves the cursor; a header its RFC
 * forbids ends the packet as bad_tunnel, a header cut short as trunc_tunnel.
 */
#ifndef PKTSPEC_BPF_ENCAP_H
#define PKTSPEC_BPF_ENCAP_H

#include "parse.h"

#define ETH_P_TEB 0x6558       /* transparent Ethernet bridging: GRE and Geneve carrying Ethernet */
#define ETH_P_ERSPAN 0x88BE    /* ERSPAN type II (type I without the sequence bit) */
#define ETH_P_ERSPAN3 0x22EB   /* ERSPAN type III */
#define ETH_P_PPTP_PPP 0x880B  /* PPP in enhanced GRE (PPTP, RFC 2637 4.1) */

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER 0x0007
/* Routing present, strict source route, recursion control, flags: zero (RFC 2784 2.3). */
#define GRE_RESERVED 0x4FF8

#define GTPU_E 0x04 /* extension header follows */
#define GTPU_S 0x02 /* sequence number present */
#define GTPU_PN 0x01
#define GTPU_GPDU 255
#define PKS_GTPU_EXT_MAX 4 /* GTP-U extension headers walked */

/* What a tunnel's header says the packet inside is. */
enum pks_inner {
	PKS_IN_OTHER = 0, /* not opened: tunnel_other */
	PKS_IN_ETH,       /* an Ethernet frame */
	PKS_IN_L3,        /* an IP packet (or MPLS), of EtherType proto */
};

/* One tunnel header, as pks_tunnel_parse reads it. */
struct pks_tunnel {
	__u32 id;    /* VNI, GRE key, ERSPAN session, TEID; 0 when the header has none */
	__u16 proto; /* PKS_IN_L3: EtherType (network order) of what follows */
	__u8 kind;   /* enum pks_encap */
	__u8 inner;  /* enum pks_inner */
};

/* The tunnel a parsed packet's L4 header starts (enum pks_encap), or 0. */
static __always_inline __u8 pks_tunnel_of(const struct pks_pkt *p, __u16 vxlan, __u16 geneve, __u16 gtpu)
{
	if (p->l4 == IPPROTO_GRE)
		return PKS_E_GRE;
	if (p->l4 == IPPROTO_IPIP || p->l4 == IPPROTO_IPV6)
		return PKS_E_IPIP;
	if (p->l4 != IPPROTO_UDP)
		return PKS_E_NONE;
	if (vxlan && p->dport == vxlan)
		return PKS_E_VXLAN;
	if (geneve && p->dport == geneve)
		return PKS_E_GENEVE;
	if (gtpu && p->dport == gtpu)
		return PKS_E_GTPU;
	return PKS_E_NONE;
}

/* The protocol and rule that name a tunnel's own flow (include/pktspec/encaps.def). */
static __always_inline __u8 pks_encap_proto(__u8 kind)
{
	switch (kind) {
#define PKS_ENCAP(sym, id, name, proto, rule, desc) case id: return PKS_P_##proto;
#include "pktspec/encaps.def"
#undef PKS_ENCAP
	}
	return PKS_P_UNKNOWN;
}

static __always_inline __u16 pks_encap_rule(__u8 kind)
{
	switch (kind) {
#define PKS_ENCAP(sym, id, name, proto, rule, desc) case id: return PKS_R_##rule;
#include "pktspec/encaps.def"
#undef PKS_ENCAP
	}
	return PKS_R_NONE;
}

static __always_inline __u32 pks_tun_be24(const __u8 *b)
{
	return (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
}

/*
 * GRE (RFC 2784, key and sequence number RFC 2890; version 1 is PPTP's
 * enhanced GRE, RFC 2637 4.1). The payload type says what follows: IP, MPLS,
 * Ethernet (gretap), or an ERSPAN header and the mirrored Ethernet frame.
 */
static __always_inline int pks_tunnel_gre(struct pks_cursor *c, struct pks_tunnel *t)
{
	__u8 *h = c->pos;
	__u16 fl, proto;
	__u32 hlen;

	if ((void *)(h + 4) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	fl = (__u16)h[0] << 8 | h[1];
	proto = (__u16)h[2] << 8 | h[3];
	if ((fl & GRE_VER) == 1 && proto == ETH_P_PPTP_PPP && (fl & GRE_K)) {
		t->inner = PKS_IN_OTHER; /* PPP inside: not opened, the tunnel is still GRE */
		return 0;
	}
	if ((fl & GRE_VER) || (fl & GRE_RESERVED))
		return PKS_REASON_BAD_TUNNEL;
	/* Checksum and reserved word, key, sequence number: each present by its flag, in this order. */
	h += 4;
	if (fl & GRE_C)
		h += 4;
	if (fl & GRE_K) {
		if ((void *)(h + 4) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		t->id = (__u32)h[0] << 24 | (__u32)h[1] << 16 | (__u32)h[2] << 8 | h[3];
		h += 4;
	}
	if (fl & GRE_S)
		h += 4;
	if ((void *)h > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	c->pos = h;
	switch (proto) {
	case ETH_P_IP:
	case ETH_P_IPV6:
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC:
		t->inner = PKS_IN_L3;
		t->proto = bpf_htons(proto);
		return 0;
	case ETH_P_TEB:
		t->kind = PKS_E_GRETAP;
		t->inner = PKS_IN_ETH;
		return 0;
	case ETH_P_ERSPAN:
		t->kind = PKS_E_ERSPAN;
		t->inner = PKS_IN_ETH;
		/* Type I has no sequence number and no ERSPAN header. */
		if (!(fl & GRE_S))
			return 0;
		/* Type II: version 1, VLAN, COS/En/T, session ID (10 bits), index (Linux erspan.h). */
		if ((void *)(h + 8) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		if ((h[0] >> 4) != 1)
			return PKS_REASON_BAD_TUNNEL;
		t->id = ((__u32)h[2] & 0x03) << 8 | h[3];
		c->pos = h + 8;
		return 0;
	case ETH_P_ERSPAN3:
		/* Type III: version 2, 12 bytes, 8 more when the O bit announces a platform subheader. */
		t->kind = PKS_E_ERSPAN;
		t->inner = PKS_IN_ETH;
		if ((void *)(h + 12) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		if ((h[0] >> 4) != 2)
			return PKS_REASON_BAD_TUNNEL;
		t->id = ((__u32)h[2] & 0x03) << 8 | h[3];
		hlen = (h[11] & 0x01) ? 20 : 12;
		if ((void *)(h + hlen) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		c->pos = h + hlen;
		return 0;
	}
	t->inner = PKS_IN_OTHER;
	return 0;
}

/* VXLAN (RFC 7348 5): the I flag, a 24-bit VNI, an Ethernet frame. */
static __always_inline int pks_tunnel_vxlan(struct pks_cursor *c, struct pks_tunnel *t)
{
	__u8 *h = c->pos;

	if ((void *)(h + 8) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	if (!(h[0] & 0x08))
		return PKS_REASON_BAD_TUNNEL;
	t->id = pks_tun_be24(h + 4);
	t->inner = PKS_IN_ETH;
	c->pos = h + 8;
	return 0;
}

/* Geneve (RFC 8926 3.4): version 0, options of 4-byte units, a protocol type, a VNI. */
static __always_inline int pks_tunnel_geneve(struct pks_cursor *c, struct pks_tunnel *t)
{
	__u8 *h = c->pos;
	__u16 proto;
	__u32 hlen;

	if ((void *)(h + 8) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	if (h[0] >> 6)
		return PKS_REASON_BAD_TUNNEL;
	hlen = 8 + ((__u32)h[0] & 0x3f) * 4;
	if ((void *)(h + hlen) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	proto = (__u16)h[2] << 8 | h[3];
	t->id = pks_tun_be24(h + 4);
	c->pos = h + hlen;
	/* O: a control message, not a tunnelled packet. */
	if (h[1] & 0x80)
		t->inner = PKS_IN_OTHER;
	else if (proto == ETH_P_TEB)
		t->inner = PKS_IN_ETH;
	else if (proto == ETH_P_IP || proto == ETH_P_IPV6) {
		t->inner = PKS_IN_L3;
		t->proto = bpf_htons(proto);
	}
	return 0;
}

/*
 * GTP-U (3GPP TS 29.281 5.1, 5.2): version 1, protocol type GTP; a G-PDU
 * carries an IP packet after the optional fields and extension headers. Echo,
 * error indication and end marker messages are the tunnel's own.
 */
static __always_inline int pks_tunnel_gtpu(struct pks_cursor *c, struct pks_tunnel *t)
{
	__u8 *h = c->pos;
	__u8 next = 0;
	int i;

	if ((void *)(h + 8) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	if ((h[0] >> 5) != 1 || !(h[0] & 0x10))
		return PKS_REASON_BAD_TUNNEL;
	t->id = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
	c->pos = h + 8;
	if (h[0] & (GTPU_E | GTPU_S | GTPU_PN)) {
		/* Sequence number, N-PDU number, next extension header type: present together. */
		if ((void *)(h + 12) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		if (h[0] & GTPU_E)
			next = h[11];
		c->pos = h + 12;
	}
	for (i = 0; i < PKS_GTPU_EXT_MAX; i++) {
		__u8 *e = c->pos;
		__u32 len;

		if (!next)
			break;
		/* Length in 4-octet units, counting itself and the next type (its last byte). */
		if ((void *)(e + 1) > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		len = (__u32)e[0] * 4;
		if (!len)
			return PKS_REASON_BAD_TUNNEL;
		e += len;
		if ((void *)e > c->end)
			return PKS_REASON_TRUNC_TUNNEL;
		next = e[-1]; /* checked through the moved pointer: a variable index would not be */
		c->pos = e;
	}
	if (next)
		return PKS_REASON_BAD_TUNNEL;
	if (h[1] != GTPU_GPDU)
		return 0; /* PKS_IN_OTHER */
	h = c->pos;
	if ((void *)(h + 1) > c->end)
		return PKS_REASON_TRUNC_TUNNEL;
	t->proto = pks_ip_by_nibble(h);
	if (t->proto)
		t->inner = PKS_IN_L3;
	return 0;
}

/*
 * The header of tunnel `kind` at c->pos (the parsed packet's L4 header, or
 * its payload for a UDP tunnel): fills *t and leaves the cursor on what the
 * tunnel carries. IP in IP has no header: protocol 4 carries IPv4, 41 IPv6.
 */
static __always_inline int pks_tunnel_parse(struct pks_cursor *c, __u8 kind, __u8 l4, struct pks_tunnel *t)
{
	t->id = 0;
	t->proto = 0;
	t->kind = kind;
	t->inner = PKS_IN_OTHER;
	switch (kind) {
	case PKS_E_GRE:
		return pks_tunnel_gre(c, t);
	case PKS_E_VXLAN:
		return pks_tunnel_vxlan(c, t);
	case PKS_E_GENEVE:
		return pks_tunnel_geneve(c, t);
	case PKS_E_GTPU:
		return pks_tunnel_gtpu(c, t);
	case PKS_E_IPIP:
		t->inner = PKS_IN_L3;
		t->proto = bpf_htons(l4 == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6);
		return 0;
	}
	return PKS_REASON_BAD_TUNNEL;
}

/* What the tunnel carries, parsed from c->pos like a frame (Ethernet) or from the shim on (IP, MPLS). */
static __always_inline int pks_parse_inner(struct pks_cursor *c, void *data, struct pks_pkt *p,
					   const struct pks_tunnel *t)
{
	__u16 proto = t->proto;
	int ret;

	if (t->inner == PKS_IN_ETH) {
		ret = pks_parse_eth(c, &proto);
		if (ret)
			return ret;
	}
	ret = pks_parse_shim(c, &proto);
	if (ret)
		return ret;
	return pks_parse_l3(c, data, p, proto);
}

#endif /* PKTSPEC_BPF_ENCAP_H */
