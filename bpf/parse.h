/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * L2..L4 parsing for the XDP classifier and the tc policy program.
 *
 * A cursor walks the packet. Every helper checks the typed pointer against the
 * end before it reads, validates length fields before trusting them, advances
 * the cursor, and returns 0 or a named reason (enum pks_reason) saying why the
 * packet could not be parsed further.
 */
#ifndef PKTSPEC_BPF_PARSE_H
#define PKTSPEC_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pktspec/pktspec.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_PPP_SES 0x8864 /* PPPoE session stage (RFC 2516 4) */
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define PPP_IP 0x0021
#define PPP_IPV6 0x0057

#define PKS_VLAN_MAX 2    /* 802.1ad outer tag + 802.1Q inner tag (QinQ) */
#define PKS_IPV6_EXT_MAX 6 /* hop-by-hop, dest, routing, fragment, AH, dest: RFC 8200 4.1 order */
#define PKS_MPLS_MAX 6     /* MPLS labels walked to the bottom of the stack */
/*
 * Header offsets stay below this (a frame's headers are far shorter): the
 * verifier trusts a packet pointer checked against the end only while its
 * offset bound stays under 64 KiB.
 */
#define PKS_PARSE_OFF_MAX 0x3fff

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60

/* A parse position: the next byte to read and the end of the packet. */
struct pks_cursor {
	void *pos;
	void *end;
};

/* What the parser learned about one packet. */
struct pks_pkt {
	__u8 src[16];      /* IPv4-mapped for IPv4 */
	__u8 dst[16];
	__u16 sport;       /* host byte order */
	__u16 dport;
	__u8 l4;           /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 tcp_flags;    /* TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10) */
	__u8 ipv6;         /* 1 for IPv6 */
	__u8 encap;        /* enum pks_encap of the innermost tunnel opened around it, 0: none */
	__u8 depth;        /* tunnels opened around it */
	__u8 pad[3];
	__u32 tunnel_id;   /* that tunnel's VNI, key or TEID (host order) */
	__u32 l3_off;      /* offset of the IP header from the start of the frame */
	__u32 payload_off; /* offset of the L4 payload from the start of the frame */
	__u32 payload_len; /* L4 payload length from the IP length fields */
	__u32 tcp_seq;     /* TCP sequence number, host order (context rules reassemble with it) */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static __always_inline int pks_parse_eth(struct pks_cursor *c, __u16 *proto)
{
	struct ethhdr *eth = c->pos;
	int i;

	if ((void *)(eth + 1) > c->end)
		return PKS_REASON_TRUNC_ETH;
	c->pos = eth + 1;
	*proto = eth->h_proto;

	/* One more iteration than tags allowed, to tell "too deep" from "done". */
	for (i = 0; i < PKS_VLAN_MAX + 1; i++) {
		struct vlan_hdr *vlan;

		if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
			return 0;
		if (i == PKS_VLAN_MAX)
			return PKS_REASON_VLAN_TOO_DEEP;
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return PKS_REASON_TRUNC_VLAN;
		c->pos = vlan + 1;
		*proto = vlan->h_vlan_encapsulated_proto;
	}
	return 0;
}

/* The IP version a payload announces in its first nibble: EtherType for IPv4 or IPv6, else 0. */
static __always_inline __u16 pks_ip_by_nibble(const __u8 *b)
{
	if ((b[0] >> 4) == 4)
		return bpf_htons(ETH_P_IP);
	if ((b[0] >> 4) == 6)
		return bpf_htons(ETH_P_IPV6);
	return 0;
}

/*
 * What may sit between the link header and IP: a PPPoE session header with
 * its PPP protocol (RFC 2516 4, RFC 1661 2), or an MPLS label stack (RFC 3032
 * 2.1), walked to its bottom entry; the payload's first nibble says which IP
 * it carries. Neither changes the flow key: they are links, not tunnels. On
 * return *proto is the EtherType of what follows.
 */
static __always_inline int pks_parse_shim(struct pks_cursor *c, __u16 *proto)
{
	if (*proto == bpf_htons(ETH_P_PPP_SES)) {
		__u8 *h = c->pos;
		__u16 ppp;

		/*
		 * ver/type, code, session ID, length, then the PPP protocol: two
		 * bytes, or one when protocol field compression is on (RFC 1661
		 * 6.5: a protocol's first byte is even, its last odd).
		 */
		if ((void *)(h + 7) > c->end)
			return PKS_REASON_TRUNC_PPPOE;
		if (h[0] != 0x11 || h[1] != 0)
			return PKS_REASON_PPP_NON_IP;
		if (h[6] & 1) {
			ppp = h[6];
			c->pos = h + 7;
		} else {
			if ((void *)(h + 8) > c->end)
				return PKS_REASON_TRUNC_PPPOE;
			ppp = (__u16)h[6] << 8 | h[7];
			c->pos = h + 8;
		}
		if (ppp == PPP_IP)
			*proto = bpf_htons(ETH_P_IP);
		else if (ppp == PPP_IPV6)
			*proto = bpf_htons(ETH_P_IPV6);
		else
			return PKS_REASON_PPP_NON_IP;
		return 0;
	}
	if (*proto == bpf_htons(ETH_P_MPLS_UC) || *proto == bpf_htons(ETH_P_MPLS_MC)) {
		int i, bottom = 0;
		__u8 *l;

		for (i = 0; i < PKS_MPLS_MAX; i++) {
			l = c->pos;
			if ((void *)(l + 4) > c->end)
				return PKS_REASON_TRUNC_MPLS;
			c->pos = l + 4;
			bottom = l[2] & 1; /* S: bottom of stack */
			if (bottom)
				break;
		}
		if (!bottom)
			return PKS_REASON_MPLS_TOO_DEEP;
		l = c->pos;
		if ((void *)(l + 1) > c->end)
			return PKS_REASON_TRUNC_MPLS;
		*proto = pks_ip_by_nibble(l);
		if (!*proto)
			return PKS_REASON_MPLS_NON_IP;
	}
	return 0;
}

static __always_inline void pks_addr_v4mapped(__u8 *dst, __be32 addr)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

static __always_inline void pks_addr_copy(__u8 *dst, const struct in6_addr *src)
{
	__u32 *w = (__u32 *)dst;

	w[0] = src->in6_u.u6_addr32[0];
	w[1] = src->in6_u.u6_addr32[1];
	w[2] = src->in6_u.u6_addr32[2];
	w[3] = src->in6_u.u6_addr32[3];
}

/* IPv4: validates ihl and tot_len; sets *l4 and *l4_len (bytes after the header). */
static __always_inline int pks_parse_ipv4(struct pks_cursor *c, struct pks_pkt *p, __u8 *l4,
					  __u32 *l4_len, int *later_frag)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > c->end)
		return PKS_REASON_TRUNC_IPV4;
	if (ip->version != 4)
		return PKS_REASON_BAD_IP_VER;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return PKS_REASON_BAD_IHL;
	/* Options are allowed; the header they make must fit in the packet. */
	if (c->pos + hlen > c->end)
		return PKS_REASON_BAD_IHL;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen)
		return PKS_REASON_BAD_IP_LEN;

	pks_addr_v4mapped(p->src, ip->saddr);
	pks_addr_v4mapped(p->dst, ip->daddr);
	*l4 = ip->protocol;
	*l4_len = tot - hlen;
	/* A fragment with a non-zero offset carries no L4 header. */
	*later_frag = (bpf_ntohs(ip->frag_off) & IP_OFFSET) != 0;
	c->pos += hlen;
	return 0;
}

/*
 * IPv6 with a bounded walk of extension headers (RFC 8200 4). AH counts its
 * length in 4-octet units minus 2 (RFC 4302 2.2), the others in 8-octet units
 * not counting the first 8. A fragment header with a non-zero offset ends the
 * walk: there is no L4 header to read.
 */
static __always_inline int pks_parse_ipv6(struct pks_cursor *c, void *data, struct pks_pkt *p, __u8 *l4,
					  __u32 *l4_len, int *later_frag)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 remaining, off;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return PKS_REASON_TRUNC_IPV6;
	if (ip6->version != 6)
		return PKS_REASON_BAD_IP_VER;
	pks_addr_copy(p->src, &ip6->saddr);
	pks_addr_copy(p->dst, &ip6->daddr);
	next = ip6->nexthdr;
	remaining = bpf_ntohs(ip6->payload_len);
	c->pos = ip6 + 1;

	for (i = 0; i < PKS_IPV6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *opt;
		__u32 len;

		/*
		 * The header kinds give the cursor and the remaining length a
		 * different range on every way through the chain. Both go
		 * through *p (per-CPU map memory in the classifier, which the
		 * verifier does not track) at each step, so the walk costs the
		 * verifier a few paths per header, not one per chain.
		 */
		p->payload_off = c->pos - data;
		p->payload_len = remaining;
		asm volatile("" ::: "memory");
		off = *(volatile __u32 *)&p->payload_off;
		remaining = *(volatile __u32 *)&p->payload_len;
		if (off > PKS_PARSE_OFF_MAX)
			return PKS_REASON_TRUNC_EXT;
		c->pos = data + off;
		opt = c->pos;

		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
			if ((void *)(opt + 1) > c->end)
				return PKS_REASON_TRUNC_EXT;
			len = ((__u32)opt->hdrlen + 1) * 8;
			break;
		case NEXTHDR_AUTH:
			if ((void *)(opt + 1) > c->end)
				return PKS_REASON_TRUNC_EXT;
			len = ((__u32)opt->hdrlen + 2) * 4;
			break;
		case NEXTHDR_FRAGMENT: {
			struct frag_hdr *fh = c->pos;

			if ((void *)(fh + 1) > c->end)
				return PKS_REASON_TRUNC_EXT;
			if (bpf_ntohs(fh->frag_off) & 0xFFF8)
				*later_frag = 1;
			len = sizeof(*fh);
			break;
		}
		default:
			*l4 = next;
			*l4_len = remaining;
			return 0;
		}
		if (len > remaining)
			return PKS_REASON_BAD_IP_LEN;
		/* len is at most 2048 here (255 + 1) * 8: a bounded pointer step. */
		if (c->pos + len > c->end)
			return PKS_REASON_TRUNC_EXT;
		next = opt->nexthdr;
		remaining -= len;
		c->pos += len;
		if (*later_frag) {
			*l4 = next;
			*l4_len = remaining;
			return 0;
		}
	}
	switch (next) {
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
	case NEXTHDR_AUTH:
	case NEXTHDR_FRAGMENT:
		return PKS_REASON_EXT_TOO_DEEP;
	}
	*l4 = next;
	*l4_len = remaining;
	return 0;
}

/* TCP: validates doff; the cursor ends after the options, on the payload. */
static __always_inline int pks_parse_tcp(struct pks_cursor *c, struct pks_pkt *p, __u32 l4_len)
{
	struct tcphdr *tcp = c->pos;
	__u32 hlen;

	if ((void *)(tcp + 1) > c->end)
		return PKS_REASON_TRUNC_TCP;
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || hlen > l4_len)
		return PKS_REASON_BAD_DOFF;
	if (c->pos + hlen > c->end)
		return PKS_REASON_BAD_DOFF;
	p->sport = bpf_ntohs(tcp->source);
	p->dport = bpf_ntohs(tcp->dest);
	/* The flags byte follows the data offset byte (RFC 9293 3.1). */
	p->tcp_flags = ((__u8 *)tcp)[13];
	p->tcp_seq = bpf_ntohl(tcp->seq);
	p->payload_len = l4_len - hlen;
	c->pos += hlen;
	return 0;
}

static __always_inline int pks_parse_udp(struct pks_cursor *c, struct pks_pkt *p, __u32 l4_len)
{
	struct udphdr *udp = c->pos;
	__u32 ulen;

	if ((void *)(udp + 1) > c->end)
		return PKS_REASON_TRUNC_UDP;
	if (l4_len < sizeof(*udp))
		return PKS_REASON_BAD_IP_LEN;
	p->sport = bpf_ntohs(udp->source);
	p->dport = bpf_ntohs(udp->dest);
	ulen = bpf_ntohs(udp->len);
	/* Trust the smaller of the UDP and IP lengths; 0 is a jumbogram (RFC 2675). */
	if (ulen >= sizeof(*udp) && ulen < l4_len)
		l4_len = ulen;
	p->payload_len = l4_len - sizeof(*udp);
	c->pos = udp + 1;
	return 0;
}

/*
 * Parse a packet from its IP header on (c->pos; eth_proto says which IP), in
 * a frame that starts at data. Returns 0 with *p filled and the cursor on the
 * L4 payload for a TCP or UDP packet that carries ports, and for a tunnel's
 * own packet (GRE, IP in IP: ports 0, the cursor and payload_off on the
 * tunnel's header, bpf/encap.h), else the reason the packet is not a flow
 * packet.
 */
static __always_inline int pks_parse_l3(struct pks_cursor *c, void *data, struct pks_pkt *p, __u16 eth_proto)
{
	int later_frag = 0;
	__u32 l4_len = 0;
	__u8 l4 = 0;
	int ret;

	p->l3_off = c->pos - data;
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		ret = pks_parse_ipv4(c, p, &l4, &l4_len, &later_frag);
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		p->ipv6 = 1;
		ret = pks_parse_ipv6(c, data, p, &l4, &l4_len, &later_frag);
	} else {
		return PKS_REASON_NON_IP;
	}
	if (ret)
		return ret;
	if (later_frag)
		return PKS_REASON_FRAG_LATER;

	p->l4 = l4;
	if (l4 == IPPROTO_TCP)
		ret = pks_parse_tcp(c, p, l4_len);
	else if (l4 == IPPROTO_UDP)
		ret = pks_parse_udp(c, p, l4_len);
	else if (l4 == IPPROTO_GRE || l4 == IPPROTO_IPIP || l4 == IPPROTO_IPV6)
		p->payload_len = l4_len;
	else
		return PKS_REASON_OTHER_L4;
	if (ret)
		return ret;
	p->payload_off = c->pos - data;
	return 0;
}

/* Parse a whole frame from c->pos: Ethernet, VLAN tags, PPPoE or MPLS, then pks_parse_l3. */
static __always_inline int pks_parse(struct pks_cursor *c, struct pks_pkt *p)
{
	void *data = c->pos;
	__u16 eth_proto;
	int ret;

	ret = pks_parse_eth(c, &eth_proto);
	if (ret)
		return ret;
	ret = pks_parse_shim(c, &eth_proto);
	if (ret)
		return ret;
	return pks_parse_l3(c, data, p, eth_proto);
}

#endif /* PKTSPEC_BPF_PARSE_H */
