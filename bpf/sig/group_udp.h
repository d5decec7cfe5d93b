/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Signature group: protocols over UDP (besides QUIC and DNS).
 * pks_classify() calls pks_classify_udp() after the core signatures; the
 * group's signatures live in their own files beside this one.
 *
 * Order matters only where two signatures could both accept a payload, and
 * then the more specific runs first:
 *  - STUN (first byte 0..3 and the magic cookie) and DTLS (first byte 20..63)
 *    before RTCP and RTP (first byte 128..191), following RFC 7983 7;
 *  - RTCP (second byte 200..207) before RTP (payload types 0..34, 96..127),
 *    RFC 5761 4; RTP last of all, and only on flows no other protocol owns;
 *  - SSDP ("NOTIFY *") before SIP ("NOTIFY sip:"), which the target separates
 *    anyway;
 *  - mDNS after DNS (sig/dns.h, run by pks_classify first) takes the mDNS
 *    shapes DNS refuses, on port 5353 only; NetBIOS names keep DNS off NBNS.
 */
#ifndef PKTSPEC_BPF_SIG_GROUP_UDP_H
#define PKTSPEC_BPF_SIG_GROUP_UDP_H

#include "sig.h"
#include "quic.h"
#include "stun.h"
#include "dtls.h"
#include "netbios.h"
#include "mdns.h"
#include "dhcp.h"
#include "dhcpv6.h"
#include "ssdp.h"
#include "ntp.h"
#include "nat_pmp.h"
#include "tftp.h"
#include "oncrpc_udp.h"
#include "memcached_udp.h"
#include "coap.h"
#include "sip.h"
#include "rtp.h"
#include "kerberos.h"
#include "radius.h"
#include "snmp.h"
#include "syslog.h"
#include "openvpn_udp.h"
#include "wireguard.h"
#include "ike.h"
#include "l2tp.h"
#include "bittorrent_udp.h"

/*
 * Every signature runs as a global function, verified once on its own: in one
 * function the branches of thirty signatures (and the option walks of CoAP,
 * RADIUS, DHCPv6) would multiply into more states than the verifier allows.
 * Both pointers are checked because the verifier lets a caller pass NULL.
 */
#define PKS_UDP_SIG(name)                                                               \
	__noinline int pks_udp_##name(const struct pks_payload *p, struct pks_match *m) \
	{                                                                               \
		if (!p || !m)                                                           \
			return 0;                                                       \
		return pks_sig_##name(p, m);                                            \
	}

PKS_UDP_SIG(stun)
PKS_UDP_SIG(dtls)
PKS_UDP_SIG(gquic)
PKS_UDP_SIG(quic_reserved)
PKS_UDP_SIG(wireguard)
PKS_UDP_SIG(ike)
PKS_UDP_SIG(openvpn_udp)
PKS_UDP_SIG(l2tp)
PKS_UDP_SIG(dhcp)
PKS_UDP_SIG(dhcpv6)
PKS_UDP_SIG(nbns)
PKS_UDP_SIG(nbds)
PKS_UDP_SIG(mdns)
PKS_UDP_SIG(ssdp)
PKS_UDP_SIG(sip)
PKS_UDP_SIG(kerberos_udp)
PKS_UDP_SIG(radius)
PKS_UDP_SIG(snmp)
PKS_UDP_SIG(syslog)
PKS_UDP_SIG(ntp)
PKS_UDP_SIG(tftp)
PKS_UDP_SIG(oncrpc_udp)
PKS_UDP_SIG(memcached_udp)
PKS_UDP_SIG(coap)
PKS_UDP_SIG(nat_pmp)
PKS_UDP_SIG(dht)
PKS_UDP_SIG(utp)
PKS_UDP_SIG(rtcp)
PKS_UDP_SIG(rtp)

static __always_inline int pks_classify_udp(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_UDP)
		return 0;
	return pks_udp_stun(p, m) || pks_udp_dtls(p, m) || pks_udp_gquic(p, m) || pks_udp_quic_reserved(p, m) || pks_udp_wireguard(p, m) ||
	       pks_udp_ike(p, m) || pks_udp_openvpn_udp(p, m) || pks_udp_l2tp(p, m) || pks_udp_dhcp(p, m) ||
	       pks_udp_dhcpv6(p, m) || pks_udp_nbns(p, m) || pks_udp_nbds(p, m) || pks_udp_mdns(p, m) ||
	       pks_udp_ssdp(p, m) || pks_udp_sip(p, m) || pks_udp_kerberos_udp(p, m) || pks_udp_radius(p, m) ||
	       pks_udp_snmp(p, m) || pks_udp_syslog(p, m) || pks_udp_ntp(p, m) || pks_udp_tftp(p, m) ||
	       pks_udp_oncrpc_udp(p, m) || pks_udp_memcached_udp(p, m) || pks_udp_coap(p, m) ||
	       pks_udp_nat_pmp(p, m) || pks_udp_dht(p, m) || pks_udp_utp(p, m) || pks_udp_rtcp(p, m) ||
	       pks_udp_rtp(p, m);
}

/*
 * Whether the first payload of a direction of proto is always recognised (see
 * pks_sig_covers), so that a payload which does not match drops a port guess.
 * Only protocols whose every first message the signature knows are listed,
 * and only for the client's direction (a TFTP server answers from another
 * port; OpenVPN's tls-crypt server reset is only known after the client's).
 * Protocols that share their ID with a TCP service this group does not
 * recognise (NetBIOS 139, Kerberos 88, STUN 3478, OpenVPN 1194) are left out,
 * as are those whose first message can be one the signature does not check:
 * syslog without a PRI, a CoAP ping, OpenVPN data seen mid-session.
 */
static __always_inline int pks_sig_covers_udp(__u8 proto, int from_client)
{
	switch (proto) {
	case PKS_P_DHCP:
	case PKS_P_DHCPV6:
	case PKS_P_NTP:
	case PKS_P_RADIUS:
	case PKS_P_SNMP:
	case PKS_P_WIREGUARD:
	case PKS_P_IKE:
	case PKS_P_L2TP:
	case PKS_P_SSDP:
	case PKS_P_MDNS:
	case PKS_P_LLMNR:
	case PKS_P_TFTP:
		return from_client;
	}
	return 0;
}

#endif
