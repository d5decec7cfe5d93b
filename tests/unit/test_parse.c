// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Parser edges through the real XDP object: every packet passes, exactly one
 * reason is counted for it, and a packet that cannot be parsed touches no flow.
 */
#include "harness.h"
#include "pkt.h"

#define C4 "198.18.0.1"
#define S4 "198.18.0.2"
#define C6 "2001:db8::1"
#define S6 "2001:db8::2"

static const char http_get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/* The reason counters that are not `want` are all zero, and `want` is n. */
static int only_reason(struct pks_env *env, int want, uint64_t n, int *bad)
{
	for (int r = 0; r < PKS_REASON__COUNT; r++) {
		uint64_t got = pks_env_reason(env, r);

		if (got != (r == want ? n : 0)) {
			*bad = r;
			return 0;
		}
	}
	return 1;
}

#define CHECK_ONLY_REASON(env, want, n)                                                           \
	do {                                                                                      \
		int _bad = -1;                                                                    \
		if (!only_reason((env), (want), (n), &_bad)) {                                    \
			pks_test_fail(__FILE__, __LINE__, "reason %s counted %llu; expected only %s, %d times", \
				      pks_reason_name(_bad),                                      \
				      (unsigned long long)pks_env_reason((env), _bad),            \
				      pks_reason_name(want), (int)(n));                           \
			return;                                                                   \
		}                                                                                 \
	} while (0)

/* Builds s, lets edit() change the frame, runs it and expects one `reason` and no flow. */
static int run_broken(struct pks_env *env, const struct pkt_spec *s, size_t cut, uint8_t *frame, size_t *len)
{
	*len = pkt_build(s, frame, 4096);
	if (!*len)
		return -1;
	if (cut && cut < *len)
		*len = cut;
	return 0;
}

TEST(parse_tcp4_new_flow)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_PORT);
	CHECK_EQ(f.rule, PKS_R_PORT);
	CHECK(f.flags & PKS_F_SYN);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 1);
	pks_env_close(&env);
}

TEST(parse_bad_ihl_counted_and_passed)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	uint8_t frame[256];
	size_t len = pkt_build(&s, frame, sizeof(frame));

	frame[pkt_l3_off(&s)] = 0x44; /* ihl 4: below the minimum of 5 */
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_BAD_IHL), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

/* A frame cut at `cut` bytes (0: whole) after `edit` bytes were patched: one reason, no flow. */
struct patch {
	size_t off;
	uint8_t val;
};

static void check_broken(const struct pkt_spec *s, size_t cut, const struct patch *p, int np, int reason)
{
	struct pks_env env;
	uint8_t frame[4096];
	size_t len;

	CHECK(run_broken(&env, s, cut, frame, &len) == 0);
	for (int i = 0; i < np; i++)
		frame[p[i].off] = p[i].val;
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0); /* XDP_PASS */
	CHECK_ONLY_REASON(&env, reason, 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

/*
 * A frame shorter than an Ethernet header never reaches the program: the
 * kernel's test run refuses it (as a NIC never delivers one), and replay skips
 * such records. trunc_eth stays as a guard for the parser's first check.
 */
TEST(parse_runt_frame_refused_by_test_run)
{
	struct pks_env env;
	uint8_t frame[10] = { 0x02 };

	CHECK(pks_env_open(&env) == 0);
	CHECK(pks_env_run_raw(&env, frame, sizeof(frame)) != 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_TRUNC_ETH), 0);
	pks_env_close(&env);
}

TEST(parse_ethernet_only_ipv4_is_trunc_ipv4)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	check_broken(&s, 14, NULL, 0, PKS_REASON_TRUNC_IPV4);
}

TEST(parse_trunc_vlan)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	s.vlans = 1;
	check_broken(&s, 16, NULL, 0, PKS_REASON_TRUNC_VLAN);
}

TEST(parse_trunc_inner_vlan_of_qinq)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	s.vlans = 2;
	check_broken(&s, 20, NULL, 0, PKS_REASON_TRUNC_VLAN);
}

TEST(parse_three_vlan_tags_too_deep)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	s.vlans = 3;
	check_broken(&s, 0, NULL, 0, PKS_REASON_VLAN_TOO_DEEP);
}

/* Tagged frames classify like untagged ones: the cursor lands on the payload. */
static void check_tagged(int vlans, int ipv6)
{
	struct pks_env env;
	struct pkt_spec s = ipv6 ? PKT_TCP6(C6, 40000, S6, 8081, TCPF_PSH | TCPF_ACK)
				 : PKT_TCP4(C4, 40000, S4, 8081, TCPF_PSH | TCPF_ACK);
	struct pks_flow_view f;

	s.vlans = vlans;
	s.payload = http_get;
	s.payload_len = sizeof(http_get) - 1;
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NEW_FLOW, 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK_EQ(f.rule, PKS_R_HTTP_REQUEST);
	pks_env_close(&env);
}

TEST(parse_one_vlan_tag)
{
	check_tagged(1, 0);
}

TEST(parse_qinq_two_tags)
{
	check_tagged(2, 0);
}

TEST(parse_qinq_two_tags_ipv6)
{
	check_tagged(2, 1);
}

TEST(parse_trunc_ipv4)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	check_broken(&s, 14 + 19, NULL, 0, PKS_REASON_TRUNC_IPV4);
}

TEST(parse_bad_ihl_beyond_packet)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	/* ihl 15 (60 bytes) in a 14 + 20 + 20 byte frame cut to 14 + 40. */
	struct patch p[] = { { 14, 0x4f } };

	check_broken(&s, 14 + 40, p, 1, PKS_REASON_BAD_IHL);
}

TEST(parse_bad_ip_version_in_ipv4_ethertype)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14, 0x65 } };

	check_broken(&s, 0, p, 1, PKS_REASON_BAD_IP_VER);
}

TEST(parse_bad_ip_version_in_ipv6_ethertype)
{
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN);
	struct patch p[] = { { 14, 0x45 } };

	check_broken(&s, 0, p, 1, PKS_REASON_BAD_IP_VER);
}

TEST(parse_tot_len_below_header)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14 + 2, 0 }, { 14 + 3, 19 } };

	check_broken(&s, 0, p, 2, PKS_REASON_BAD_IP_LEN);
}

/* tot_len covers the IP header but not a whole TCP header: doff does not fit. */
TEST(parse_tot_len_short_of_tcp_header)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14 + 2, 0 }, { 14 + 3, 30 } };

	check_broken(&s, 0, p, 2, PKS_REASON_BAD_DOFF);
}

/* tot_len covers the IP header but not a UDP header. */
TEST(parse_tot_len_short_of_udp_header)
{
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 53);
	struct patch p[] = { { 14 + 2, 0 }, { 14 + 3, 24 } };

	check_broken(&s, 0, p, 2, PKS_REASON_BAD_IP_LEN);
}

/*
 * tot_len shorter than the frame (Ethernet padding): the payload is what
 * tot_len says, not what the frame holds, so the padding is not inspected.
 */
TEST(parse_tot_len_trims_ethernet_padding)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_ACK);
	uint8_t frame[256];
	size_t len;
	struct pks_flow_view f;

	s.payload = "\0\0\0\0\0\0";
	s.payload_len = 6;
	len = pkt_build(&s, frame, sizeof(frame));
	frame[14 + 3] = 40; /* no payload by the IP length: the 6 zero bytes are padding */
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NEW_FLOW, 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.inspected[0] + f.inspected[1], 0);
	CHECK_EQ(f.confidence, PKS_C_PORT); /* padding did not contradict the port */
	pks_env_close(&env);
}

TEST(parse_ipv4_options_reach_the_payload)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 8081, TCPF_PSH | TCPF_ACK);
	struct pks_flow_view f;

	s.ip_options = 40; /* the largest: ihl 15 */
	s.payload = http_get;
	s.payload_len = sizeof(http_get) - 1;
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NEW_FLOW, 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.rule, PKS_R_HTTP_REQUEST);
	pks_env_close(&env);
}

TEST(parse_trunc_tcp)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);

	check_broken(&s, 14 + 20 + 19, NULL, 0, PKS_REASON_TRUNC_TCP);
}

TEST(parse_trunc_tcp_ipv6)
{
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN);

	check_broken(&s, 14 + 40 + 10, NULL, 0, PKS_REASON_TRUNC_TCP);
}

TEST(parse_bad_doff_below_5)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14 + 20 + 12, 4 << 4 } };

	check_broken(&s, 0, p, 1, PKS_REASON_BAD_DOFF);
}

TEST(parse_bad_doff_beyond_packet)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	/* doff 15 (60 bytes) but the segment has 20 bytes of header and 8 of payload. */
	struct patch p[] = { { 14 + 20 + 12, 15 << 4 } };

	s.payload = "abcdefgh";
	s.payload_len = 8;
	check_broken(&s, 0, p, 1, PKS_REASON_BAD_DOFF);
}

/* doff fits tot_len, but the frame was cut before the options end. */
TEST(parse_bad_doff_beyond_frame)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14 + 20 + 12, 15 << 4 } };

	s.payload = "0123456789012345678901234567890123456789";
	s.payload_len = 40;
	check_broken(&s, 14 + 20 + 30, p, 1, PKS_REASON_BAD_DOFF);
}

/* TCP options are skipped: the cursor ends on the payload. */
TEST(parse_tcp_options_reach_the_payload)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 8081, TCPF_PSH | TCPF_ACK);
	uint8_t payload[12 + sizeof(http_get) - 1], frame[512];
	struct pks_flow_view f;
	size_t len;

	/* 12 bytes of options (NOP NOP timestamp) then the request. */
	memset(payload, 1, 2);
	payload[2] = 8, payload[3] = 10;
	memset(payload + 4, 0, 8);
	memcpy(payload + 12, http_get, sizeof(http_get) - 1);
	s.payload = payload;
	s.payload_len = sizeof(payload);
	len = pkt_build(&s, frame, sizeof(frame));
	frame[14 + 20 + 12] = 8 << 4; /* doff 8: 32 bytes */
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NEW_FLOW, 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.rule, PKS_R_HTTP_REQUEST);
	pks_env_close(&env);
}

TEST(parse_trunc_udp)
{
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 53);

	check_broken(&s, 14 + 20 + 6, NULL, 0, PKS_REASON_TRUNC_UDP);
}

TEST(parse_trunc_udp_ipv6)
{
	struct pkt_spec s = PKT_UDP6(C6, 40000, S6, 53);

	check_broken(&s, 14 + 40 + 4, NULL, 0, PKS_REASON_TRUNC_UDP);
}

TEST(parse_trunc_ipv6)
{
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN);

	check_broken(&s, 14 + 39, NULL, 0, PKS_REASON_TRUNC_IPV6);
}

TEST(parse_icmp_is_other_l4)
{
	struct pkt_spec s = PKT_TCP4(C4, 0, S4, 0, 0);

	s.l4 = 1;
	s.payload = "\x08\0\0\0\0\0\0\0";
	s.payload_len = 8;
	check_broken(&s, 0, NULL, 0, PKS_REASON_OTHER_L4);
}

TEST(parse_icmpv6_is_other_l4)
{
	struct pkt_spec s = PKT_TCP6(C6, 0, S6, 0, 0);

	s.l4 = 58;
	s.payload = "\x80\0\0\0\0\0\0\0";
	s.payload_len = 8;
	check_broken(&s, 0, NULL, 0, PKS_REASON_OTHER_L4);
}

TEST(parse_arp_is_non_ip)
{
	struct pks_env env;
	uint8_t frame[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
			      0, 1, 0x08, 0, 6, 4, 0, 1 };

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, sizeof(frame)), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NON_IP, 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

/* -- IP fragments -- */

static void set_ipv4_frag(uint8_t *frame, size_t l3, int mf, unsigned int offset8)
{
	uint16_t v = (mf ? 0x2000 : 0) | (offset8 & 0x1fff);

	frame[l3 + 6] = v >> 8;
	frame[l3 + 7] = v & 0xff;
}

TEST(parse_ipv4_first_fragment_classified_with_ports)
{
	struct pks_env env;
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 5300);
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				     7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 };
	uint8_t frame[256];
	struct pks_flow_view f;
	size_t len;

	s.payload = q;
	s.payload_len = sizeof(q);
	len = pkt_build(&s, frame, sizeof(frame));
	set_ipv4_frag(frame, 14, 1, 0);
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_ONLY_REASON(&env, PKS_REASON_NEW_FLOW, 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_DNS);
	CHECK_EQ(f.rule, PKS_R_DNS_QUERY);
	pks_env_close(&env);
}

/*
 * A later fragment's first bytes are payload, not ports. Here they look like
 * a UDP header of the very flow that exists: it must not be counted on it,
 * nor create another.
 */
TEST(parse_ipv4_later_fragment_never_attributed)
{
	struct pks_env env;
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 53);
	uint8_t frame[256];
	struct pks_flow_view f;
	size_t len;

	s.payload = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01";
	s.payload_len = 19;
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	len = pkt_build(&s, frame, sizeof(frame));
	set_ipv4_frag(frame, 14, 0, 185);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	set_ipv4_frag(frame, 14, 1, 1); /* a middle fragment too */
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_FRAG_LATER), 2);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.packets[0] + f.packets[1], 1);
	pks_env_close(&env);
}

TEST(parse_ipv4_later_fragment_alone_touches_no_flow)
{
	struct pkt_spec s = PKT_TCP4(C4, 40000, S4, 80, TCPF_SYN);
	struct patch p[] = { { 14 + 6, 0x00 }, { 14 + 7, 0x10 } };

	check_broken(&s, 0, p, 2, PKS_REASON_FRAG_LATER);
}

/* -- IPv6 extension headers -- */

/* An 8-byte Hop-by-Hop / Destination Options header with PadN (RFC 8200 4.2). */
#define EXT_OPTS(nh) (nh), 0, 1, 4, 0, 0, 0, 0
/* An 8-byte Routing header, type 4 with no segments left (RFC 8200 4.4). */
#define EXT_ROUTING(nh) (nh), 0, 4, 0, 0, 0, 0, 0
/* Fragment header (RFC 8200 4.5): offset in 8-octet units, M flag. */
#define EXT_FRAG(nh, off8, m) (nh), 0, (uint8_t)((off8) >> 5), (uint8_t)(((off8) << 3) | (m)), 0, 0, 0, 7
/* AH (RFC 4302 2.2): Payload Len 4 = (4 + 2) * 4 = 24 bytes, 96-bit ICV. */
#define EXT_AH(nh) (nh), 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static void check_ext_chain(const uint8_t *ext, size_t ext_len, uint8_t first, int reason, int l4, int classified)
{
	struct pks_env env;
	struct pkt_spec s = l4 == 17 ? PKT_UDP6(C6, 40000, S6, 5300) : PKT_TCP6(C6, 40000, S6, 8081, TCPF_PSH | TCPF_ACK);
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				     7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 };
	struct pks_flow_view f;

	if (l4 == 17) {
		s.payload = q;
		s.payload_len = sizeof(q);
	} else {
		s.payload = http_get;
		s.payload_len = sizeof(http_get) - 1;
	}
	s.ext = ext;
	s.ext_len = ext_len;
	s.ext_first = first;
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_ONLY_REASON(&env, reason, 1);
	if (!classified) {
		CHECK_EQ(pks_env_flow_count(&env), 0);
	} else {
		CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
		CHECK_EQ(f.proto, l4 == 17 ? PKS_P_DNS : PKS_P_HTTP);
		CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	}
	pks_env_close(&env);
}

TEST(parse_ipv6_hop_by_hop)
{
	static const uint8_t ext[] = { EXT_OPTS(6) };

	check_ext_chain(ext, sizeof(ext), 0, PKS_REASON_NEW_FLOW, 6, 1);
}

TEST(parse_ipv6_routing)
{
	static const uint8_t ext[] = { EXT_ROUTING(17) };

	check_ext_chain(ext, sizeof(ext), 43, PKS_REASON_NEW_FLOW, 17, 1);
}

TEST(parse_ipv6_dest_opts)
{
	static const uint8_t ext[] = { EXT_OPTS(6) };

	check_ext_chain(ext, sizeof(ext), 60, PKS_REASON_NEW_FLOW, 6, 1);
}

/* AH counts 4-octet units minus 2: read as 8-octet units it would land 16 bytes off. */
TEST(parse_ipv6_ah_length_rule)
{
	static const uint8_t ext[] = { EXT_AH(6) };

	check_ext_chain(ext, sizeof(ext), 51, PKS_REASON_NEW_FLOW, 6, 1);
}

TEST(parse_ipv6_full_chain_of_six)
{
	/* hop-by-hop, dest, routing, fragment (first), AH, dest: RFC 8200 4.1 order. */
	static const uint8_t ext[] = { EXT_OPTS(60), EXT_OPTS(43), EXT_ROUTING(44), EXT_FRAG(51, 0, 1),
				       EXT_AH(60), EXT_OPTS(17) };

	check_ext_chain(ext, sizeof(ext), 0, PKS_REASON_NEW_FLOW, 17, 1);
}

TEST(parse_ipv6_chain_longer_than_walked)
{
	static const uint8_t ext[] = { EXT_OPTS(60), EXT_OPTS(60), EXT_OPTS(60), EXT_OPTS(60),
				       EXT_OPTS(60), EXT_OPTS(60), EXT_OPTS(6) };

	check_ext_chain(ext, sizeof(ext), 60, PKS_REASON_EXT_TOO_DEEP, 6, 0);
}

TEST(parse_ipv6_first_fragment_classified_with_ports)
{
	static const uint8_t ext[] = { EXT_FRAG(17, 0, 1) };

	check_ext_chain(ext, sizeof(ext), 44, PKS_REASON_NEW_FLOW, 17, 1);
}

TEST(parse_ipv6_later_fragment)
{
	static const uint8_t ext[] = { EXT_FRAG(17, 100, 0) };

	check_ext_chain(ext, sizeof(ext), 44, PKS_REASON_FRAG_LATER, 17, 0);
}

TEST(parse_ipv6_later_fragment_never_attributed)
{
	struct pks_env env;
	static const uint8_t ext[] = { EXT_FRAG(6, 100, 1) };
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN), frag;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	frag = s;
	frag.ext = ext;
	frag.ext_len = sizeof(ext);
	frag.ext_first = 44;
	CHECK_EQ(pks_env_run(&env, &frag), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_FRAG_LATER), 1);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.packets[0] + f.packets[1], 1);
	pks_env_close(&env);
}

TEST(parse_ipv6_trunc_ext)
{
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN);
	static const uint8_t ext[] = { EXT_OPTS(60), EXT_OPTS(6) };

	s.ext = ext;
	s.ext_len = sizeof(ext);
	s.ext_first = 0;
	/* Cut inside the second header's first two bytes, then inside its body. */
	check_broken(&s, 14 + 40 + 8 + 1, NULL, 0, PKS_REASON_TRUNC_EXT);
	check_broken(&s, 14 + 40 + 8 + 5, NULL, 0, PKS_REASON_TRUNC_EXT);
}

TEST(parse_ipv6_trunc_fragment_header)
{
	struct pkt_spec s = PKT_UDP6(C6, 40000, S6, 53);
	static const uint8_t ext[] = { EXT_FRAG(17, 0, 1) };

	s.ext = ext;
	s.ext_len = sizeof(ext);
	s.ext_first = 44;
	check_broken(&s, 14 + 40 + 6, NULL, 0, PKS_REASON_TRUNC_EXT);
}

/* An extension header longer than the IPv6 payload length says. */
TEST(parse_ipv6_ext_beyond_payload_len)
{
	struct pkt_spec s = PKT_TCP6(C6, 40000, S6, 80, TCPF_SYN);
	static const uint8_t ext[] = { EXT_OPTS(6) };
	struct patch p[] = { { 14 + 4, 0 }, { 14 + 5, 4 } };

	s.ext = ext;
	s.ext_len = sizeof(ext);
	s.ext_first = 0;
	check_broken(&s, 0, p, 2, PKS_REASON_BAD_IP_LEN);
}

/* ESP after an extension header is another IP protocol: counted, no flow. */
TEST(parse_ipv6_esp_after_ext_is_other_l4)
{
	static const uint8_t ext[] = { EXT_OPTS(50) };
	struct pkt_spec s = PKT_TCP6(C6, 0, S6, 0, 0);

	s.l4 = 50;
	s.ext = ext;
	s.ext_len = sizeof(ext);
	s.ext_first = 0;
	s.payload = "\0\0\0\1\0\0\0\1";
	s.payload_len = 8;
	check_broken(&s, 0, NULL, 0, PKS_REASON_OTHER_L4);
}

/* Both directions of a connection share one entry, whichever side comes first. */
TEST(parse_both_directions_one_flow)
{
	struct pks_env env;
	struct pkt_spec syn = PKT_TCP6(C6, 40000, S6, 22, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP6(S6, 22, C6, 40000, TCPF_SYN | TCPF_ACK);
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &syn), 0);
	CHECK_EQ(pks_env_run(&env, &synack), 0);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_TRACKED), 1);
	CHECK_EQ(pks_env_flow(&env, &synack, &f), 0);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 1);
	CHECK_EQ(f.packets[PKS_DIR_S2C], 1);
	CHECK_EQ(f.proto, PKS_P_SSH);
	pks_env_close(&env);
}

/*
 * Mutated frames: every byte of a valid frame's headers and first payload
 * bytes in turn replaced by values that break length fields and flags. Each
 * run is passed and counts exactly one reason, whatever the bytes.
 */
TEST(parse_mutations_count_one_reason_each)
{
	static const uint8_t ext[] = { EXT_OPTS(60), EXT_FRAG(6, 0, 1) };
	static const uint8_t vals[] = { 0x00, 0x01, 0x05, 0x0f, 0x2c, 0x3c, 0x45, 0x60, 0x7f, 0x80, 0xff };
	struct pkt_spec specs[3] = {
		PKT_TCP4(C4, 40000, S4, 80, TCPF_PSH | TCPF_ACK),
		PKT_UDP4(C4, 40000, S4, 53),
		PKT_TCP6(C6, 40000, S6, 443, TCPF_PSH | TCPF_ACK),
	};
	struct pks_env env;
	uint64_t runs = 0, sum;

	specs[0].vlans = 1;
	specs[0].ip_options = 4;
	specs[2].vlans = 2;
	specs[2].ext = ext;
	specs[2].ext_len = sizeof(ext);
	specs[2].ext_first = 0;
	CHECK(pks_env_open(&env) == 0);
	for (int s = 0; s < 3; s++) {
		uint8_t frame[512], copy[512];
		size_t len;

		specs[s].payload = http_get;
		specs[s].payload_len = sizeof(http_get) - 1;
		len = pkt_build(&specs[s], frame, sizeof(frame));
		CHECK(len > 0);
		for (size_t off = 12; off < len && off < 120; off++) {
			for (size_t v = 0; v < sizeof(vals); v++) {
				memcpy(copy, frame, len);
				copy[off] = vals[v];
				CHECK_EQ(pks_env_run_raw(&env, copy, len), 0);
				runs++;
			}
			/* The same frame cut just after this byte. */
			CHECK_EQ(pks_env_run_raw(&env, frame, off + 1 < 14 ? 14 : off + 1), 0);
			runs++;
		}
	}
	sum = 0;
	for (int r = 0; r < PKS_REASON__COUNT; r++)
		sum += pks_env_reason(&env, r);
	CHECK_EQ(sum, runs);
	pks_env_close(&env);
}
