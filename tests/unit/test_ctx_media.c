// SPDX-License-Identifier: MIT OR Apache-2.0
/* Rule 1 for SIP/SDP, RTSP and TFTP, and rule 6 (server memory), through the real XDP object. */
#include "harness.h"
#include "ctx_env.h"
#include "sdp_parse.h"
#include "metrics_text.h"

#define UAC "198.18.0.1"
#define UAS "198.18.0.2"

static const char invite[] =
	"INVITE sip:service@198.18.0.2:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-1\r\n"
	"From: sipp <sip:sipp@198.18.0.1:5060>;tag=1\r\n"
	"To: <sip:service@198.18.0.2:5060>\r\n"
	"Call-ID: 1-test@198.18.0.1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: sip:sipp@198.18.0.1:5060\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 129\r\n"
	"\r\n"
	"v=0\r\n"
	"o=user1 53655765 2353687637 IN IP4 198.18.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 198.18.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 6000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

static const char ok200[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-1\r\n"
	"CSeq: 1 INVITE\r\n"
	"c: application/sdp\r\n"
	"l: 121\r\n"
	"\r\n"
	"v=0\r\n"
	"o=- 1 1 IN IP4 198.18.0.2\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"m=audio 7000 RTP/AVP 8\r\n"
	"c=IN IP4 198.18.0.2\r\n"
	"a=rtcp:7005\r\n"
	"m=video 0 RTP/AVP 96\r\n";

static int udp_first(struct ctx_env *c, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     struct pks_flow_view *f)
{
	static const uint8_t rtp[12] = { 0x80, 0x00, 0x00, 0x01 };
	struct pkt_spec s = PKT_UDP4(src, sport, dst, dport);

	s.payload = rtp;
	s.payload_len = sizeof(rtp);
	if (ctx_run(c, &s))
		return -1;
	return pks_env_flow(&c->env, &s, f);
}

TEST(ctx_sip_udp_offer_answer)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAC, 5060, UAS, 5060), invite) == 0);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAS, 5060, UAC, 5060), ok200) == 0);
	/* The UAS sends first to the UAC's announced port. */
	CHECK(udp_first(&c, UAS, 7000, UAC, 6000, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtp");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	CHECK_STR(pks_rule_name(f.rule), "sip-sdp");
	CHECK(f.ctx & PKS_X_AT_FIRST);
	/* RTCP on the a=rtcp port of the answer. */
	CHECK(udp_first(&c, UAC, 6001, UAS, 7005, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtcp");
	/* The disabled video stream (port 0) announced nothing. */
	CHECK(udp_first(&c, UAC, 6002, UAS, 7001, &f) == 0);
	CHECK(f.proto != PKS_P_RTP && f.proto != PKS_P_RTCP);
	ctx_close(&c);
}

TEST(ctx_sip_tcp_split_message)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec syn = PKT_TCP4(UAC, 40000, UAS, 5060, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP4(UAS, 5060, UAC, 40000, TCPF_SYN | TCPF_ACK);
	struct pkt_spec seg = PKT_TCP4(UAC, 40000, UAS, 5060, TCPF_PSH | TCPF_ACK);
	size_t cut = 200, len = strlen(invite);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(ctx_run(&c, &synack) == 0);
	seg.payload = invite;
	seg.payload_len = cut;
	CHECK(ctx_run_seq(&c, &seg, 5000) == 0);
	/* Nothing yet: the body has not arrived. */
	CHECK_EQ(pks_map_count(bpf_map__fd(c.env.skel->maps.pks_expect), sizeof(struct pks_expect_key)), 0);
	seg.payload = invite + cut;
	seg.payload_len = len - cut;
	CHECK(ctx_run_seq(&c, &seg, 5000 + cut) == 0);
	CHECK(udp_first(&c, UAS, 9000, UAC, 6000, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtp");
	ctx_close(&c);
}

TEST(ctx_sdp_parse_edges)
{
	struct pks_sdp sdp;
	static const char hold[] = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5000 RTP/AVP 0\r\n";
	static const char v6mux[] = "v=0\nm=audio 5000 UDP/TLS/RTP/SAVPF 111\nc=IN IP6 2001:db8::5\na=rtcp-mux\n";
	static const char notrtp[] = "v=0\r\nc=IN IP4 198.18.0.1\r\nm=application 9 TCP/BFCP *\r\n";
	static const char noaddr[] = "v=0\r\nm=audio 5000 RTP/AVP 0\r\n";
	static const char junk[] = "m=audio 99999999 RTP/AVP 0\r\nc=IN IP4 999.1.1.1\r\n";

	CHECK(pks_sdp_parse(hold, strlen(hold), &sdp) == -1);
	CHECK(pks_sdp_parse(v6mux, strlen(v6mux), &sdp) == 0);
	CHECK_EQ(sdp.n, 1);
	CHECK_EQ(sdp.m[0].rtp_port, 5000);
	CHECK_EQ(sdp.m[0].rtcp_port, 0);
	CHECK_EQ(sdp.m[0].addr[0], 0x20);
	CHECK(pks_sdp_parse(notrtp, strlen(notrtp), &sdp) == -1);
	CHECK(pks_sdp_parse(noaddr, strlen(noaddr), &sdp) == -1);
	CHECK(pks_sdp_parse(junk, strlen(junk), &sdp) == -1);
	for (size_t cut = 0; cut < strlen(v6mux); cut++)
		pks_sdp_parse(v6mux, cut, &sdp); /* ASan: no overread at any cut */
}

TEST(ctx_rtsp_setup_reply)
{
	static const char reply[] = "RTSP/1.0 200 OK\r\n"
				    "CSeq: 3\r\n"
				    "Session: 12345678\r\n"
				    "Transport: RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257\r\n"
				    "\r\n";
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ctx_run(&c, &PKT_TCP4(UAC, 40000, UAS, 554, TCPF_SYN)) == 0);
	CHECK(ctx_run(&c, &PKT_TCP4(UAS, 554, UAC, 40000, TCPF_SYN | TCPF_ACK)) == 0);
	CHECK(ctx_run_text(&c, PKT_TCP4(UAC, 40000, UAS, 554, TCPF_PSH | TCPF_ACK),
			   "SETUP rtsp://198.18.0.2/s/trackID=1 RTSP/1.0\r\nCSeq: 3\r\n"
			   "Transport: RTP/AVP;unicast;client_port=4588-4589\r\n\r\n") == 0);
	CHECK(ctx_run_text(&c, PKT_TCP4(UAS, 554, UAC, 40000, TCPF_PSH | TCPF_ACK), reply) == 0);
	CHECK(udp_first(&c, UAS, 6256, UAC, 4588, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtp");
	CHECK_STR(pks_rule_name(f.rule), "rtsp-transport");
	CHECK(udp_first(&c, UAC, 4589, UAS, 6257, &f) == 0); /* the client's RTCP first */
	CHECK_STR(pks_proto_name(f.proto), "rtcp");
	/* Another host sending to the client port is not the announced server. */
	CHECK(udp_first(&c, "198.18.0.99", 6256, UAC, 4588, &f) == 0);
	CHECK(f.proto != PKS_P_RTP);
	ctx_close(&c);
}

TEST(ctx_tftp_new_server_port)
{
	static const char rrq[] = "\0\1boot.img\0octet";
	struct ctx_env c;
	struct pkt_spec req = PKT_UDP4(UAC, 40000, UAS, 69);
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	req.payload = rrq;
	req.payload_len = sizeof(rrq);
	CHECK(ctx_run(&c, &req) == 0);
	/* DATA block 1 from the server's new port. */
	CHECK(udp_first(&c, UAS, 51515, UAC, 40000, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "tftp");
	CHECK_STR(pks_rule_name(f.rule), "tftp-request");
	CHECK(f.ctx & PKS_X_AT_FIRST);
	/* The requester is the flow's client. */
	CHECK_EQ(f.client, pks_flow_key_fill(&(struct pks_flow_key){}, (uint8_t[16]){ [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },
					     40000, (uint8_t[16]){ [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 }, 51515, 17));
	ctx_close(&c);
}

/* The kernel owns TFTP (its signature is the one parser): expected with no engine at all. */
TEST(ctx_tftp_kernel_owns_without_engine)
{
	static const char rrq[] = "\0\2upload.bin\0NetASCII";
	struct pks_env env;
	struct pkt_spec req = PKT_UDP4(UAC, 40001, UAS, 69), data = PKT_UDP4(UAS, 51516, UAC, 40001);
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	req.payload = rrq;
	req.payload_len = sizeof(rrq);
	CHECK(pks_env_run(&env, &req) == 0);
	data.payload = "\0\4\0\0";
	data.payload_len = 4;
	CHECK(pks_env_run(&env, &data) == 0);
	CHECK(pks_env_flow(&env, &data, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "tftp");
	CHECK_STR(pks_rule_name(f.rule), "tftp-request");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	pks_env_close(&env);
}

TEST(ctx_tftp_garbage_announces_nothing)
{
	static const char bad[] = "\0\1boot.img\0rot13";
	struct ctx_env c;
	struct pkt_spec req = PKT_UDP4(UAC, 40000, UAS, 69);

	CHECK(ctx_open(&c, NULL) == 0);
	req.payload = bad;
	req.payload_len = sizeof(bad);
	CHECK(ctx_run(&c, &req) == 0);
	CHECK_EQ(pks_map_count(bpf_map__fd(c.env.skel->maps.pks_expect), sizeof(struct pks_expect_key)), 0);
	ctx_close(&c);
}

/* An HTTP exchange on port 8080 that both directions confirm. */
static int http_confirmed(struct ctx_env *c, uint16_t cport, struct pks_flow_view *f)
{
	struct pkt_spec syn = PKT_TCP4(UAC, cport, UAS, 8080, TCPF_SYN);

	if (ctx_run(c, &syn) || ctx_run(c, &PKT_TCP4(UAS, 8080, UAC, cport, TCPF_SYN | TCPF_ACK)) ||
	    ctx_run_text(c, PKT_TCP4(UAC, cport, UAS, 8080, TCPF_PSH | TCPF_ACK), "GET / HTTP/1.1\r\nHost: x\r\n\r\n") ||
	    ctx_run_text(c, PKT_TCP4(UAS, 8080, UAC, cport, TCPF_PSH | TCPF_ACK), "HTTP/1.1 200 OK\r\n\r\n"))
		return -1;
	return pks_env_flow(&c->env, &syn, f);
}

TEST(ctx_server_memory)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec syn = PKT_TCP4(UAC, 41000, UAS, 8080, TCPF_SYN);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(http_confirmed(&c, 40000, &f) == 0);
	CHECK_STR(pks_confidence_name(f.confidence), "confirmed");
	/* The next connection's SYN already has the verdict. */
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "http");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	CHECK_STR(pks_rule_name(f.rule), "server-memory");
	CHECK(f.ctx & PKS_X_MEMORY);
	CHECK_EQ(CTX_STAT(&c, memory_hit), 1);
	/* It ages out. */
	c.env.clock_ns += PKS_SERVER_TTL_DEFAULT + 1000000000ull;
	syn.sport = 41001;
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_confidence_name(f.confidence), "port");
	ctx_close(&c);
}

TEST(ctx_server_memory_overruled_by_signature)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec syn = PKT_TCP4(UAC, 41000, UAS, 8080, TCPF_SYN);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(http_confirmed(&c, 40000, &f) == 0);
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(ctx_run(&c, &PKT_TCP4(UAS, 8080, UAC, 41000, TCPF_SYN | TCPF_ACK)) == 0);
	/* The server now speaks SSH: the signature wins over the memory. */
	CHECK(ctx_run_text(&c, PKT_TCP4(UAC, 41000, UAS, 8080, TCPF_PSH | TCPF_ACK), "SSH-2.0-OpenSSH_9.2\r\n") == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ssh");
	CHECK_STR(pks_confidence_name(f.confidence), "signature");
	CHECK(!(f.ctx & PKS_X_MEMORY));
	CHECK_EQ(CTX_STAT(&c, memory_overruled), 1);
	/* Random bytes contradict it too: unknown, not http. */
	syn.sport = 41002;
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(ctx_run(&c, &PKT_TCP4(UAS, 8080, UAC, 41002, TCPF_SYN | TCPF_ACK)) == 0);
	CHECK(ctx_run_text(&c, PKT_TCP4(UAC, 41002, UAS, 8080, TCPF_PSH | TCPF_ACK), "\x8f\x13zq\x01\x99garbage") == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "unknown");
	ctx_close(&c);
}

/*
 * The daemon owns SIP/SDP, RTSP and server memory (doc/context.md, "One owner
 * per decision"): with the XDP object alone and no engine, what they announce
 * is not expected. (With the engine, the tests above show it is.)
 */
static void env_text(struct pks_env *env, struct pkt_spec s, const char *text)
{
	s.payload = text;
	s.payload_len = strlen(text);
	CHECK(pks_env_run(env, &s) == 0);
}

TEST(ctx_daemon_owned_rules_need_the_engine)
{
	static const uint8_t rtp[12] = { 0x80, 0x00, 0x00, 0x01 };
	struct pks_env env;
	struct pks_flow_view f;
	struct pkt_spec media = PKT_UDP4(UAS, 7000, UAC, 6000);
	struct pkt_spec syn = PKT_TCP4(UAC, 41000, UAS, 8080, TCPF_SYN);

	CHECK(pks_env_open(&env) == 0);
	/* SIP/SDP offer and answer. */
	env_text(&env, PKT_UDP4(UAC, 5060, UAS, 5060), invite);
	env_text(&env, PKT_UDP4(UAS, 5060, UAC, 5060), ok200);
	media.payload = rtp;
	media.payload_len = sizeof(rtp);
	CHECK(pks_env_run(&env, &media) == 0);
	CHECK(pks_env_flow(&env, &media, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	/* RTSP SETUP and its reply. */
	CHECK(pks_env_run(&env, &PKT_TCP4(UAC, 40000, UAS, 554, TCPF_SYN)) == 0);
	CHECK(pks_env_run(&env, &PKT_TCP4(UAS, 554, UAC, 40000, TCPF_SYN | TCPF_ACK)) == 0);
	env_text(&env, PKT_TCP4(UAS, 554, UAC, 40000, TCPF_PSH | TCPF_ACK),
		 "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257\r\n\r\n");
	media = PKT_UDP4(UAS, 6256, UAC, 4588);
	media.payload = rtp;
	media.payload_len = sizeof(rtp);
	CHECK(pks_env_run(&env, &media) == 0);
	CHECK(pks_env_flow(&env, &media, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	/* A confirmed HTTP server: no memory without the engine. */
	CHECK(pks_env_run(&env, &PKT_TCP4(UAC, 40001, UAS, 8080, TCPF_SYN)) == 0);
	CHECK(pks_env_run(&env, &PKT_TCP4(UAS, 8080, UAC, 40001, TCPF_SYN | TCPF_ACK)) == 0);
	env_text(&env, PKT_TCP4(UAC, 40001, UAS, 8080, TCPF_PSH | TCPF_ACK), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	env_text(&env, PKT_TCP4(UAS, 8080, UAC, 40001, TCPF_PSH | TCPF_ACK), "HTTP/1.1 200 OK\r\n\r\n");
	CHECK(pks_env_run(&env, &syn) == 0);
	CHECK(pks_env_flow(&env, &syn, &f) == 0);
	CHECK(f.rule != PKS_R_SERVER_MEMORY);
	pks_env_close(&env);
}

/* This writer's element of the expectation gate of (addr, port, UDP), no tunnel, fine or coarse, as the kernel reads it; ~0 on error. */
static uint32_t gate_of(struct ctx_env *c, const char *addr, uint16_t port, uint32_t writer, bool coarse,
			uint32_t *index)
{
	struct pks_expect_key k = { .listen_port = port, .l4 = IPPROTO_UDP };
	uint32_t i, v, slot;

	ctx_addr16(0, addr, k.listen_addr);
	slot = pks_expect_gate_slot(&k);
	i = coarse ? pks_expect_gate_l1_index(slot, writer) : pks_expect_gate_index(slot, writer);
	if (index)
		*index = i;
	if (bpf_map_lookup_elem(bpf_map__fd(c->env.skel->maps.pks_expect_gate), &i, &v))
		return ~0u;
	return v;
}

static int gate_set(struct ctx_env *c, uint32_t i, uint32_t v)
{
	return bpf_map_update_elem(bpf_map__fd(c->env.skel->maps.pks_expect_gate), &i, &v, BPF_ANY);
}

/*
 * Issue 12: while any expectation is alive, a new flow looks pks_expect up
 * only on a side whose gate an announcement opened (pks_expect_gate), at
 * both levels. The engine opens its own elements before it writes the
 * entry; an entry written behind the gates' back is not read until both
 * levels of its gate are open, on either side of a UDP flow.
 */
TEST(ctx_expect_lookup_needs_its_gate)
{
	struct pks_expect_key k = { .listen_port = 6010, .l4 = IPPROTO_UDP };
	struct pks_expect v = { .expires_ns = ~0ull, .rule = PKS_R_SIP_SDP, .proto = PKS_P_RTP };
	__u32 kernel = PKS_CTL_KERNEL;
	struct pks_ctl ctl;
	struct ctx_env c;
	struct pks_flow_view f;
	uint32_t fine, coarse, open;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAC, 5060, UAS, 5060), invite) == 0);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAS, 5060, UAC, 5060), ok200) == 0);
	/* The engine's elements of the announced port are open at both levels, the kernel's untouched. */
	open = gate_of(&c, UAC, 6000, PKS_CTL_ENGINE, false, NULL);
	CHECK(open != ~0u && pks_expect_gate_open(open, c.env.clock_ns));
	CHECK_EQ(gate_of(&c, UAC, 6000, PKS_CTL_ENGINE, true, NULL), open);
	CHECK_EQ(gate_of(&c, UAC, 6000, PKS_CTL_KERNEL, false, NULL), 0);
	/* 6010's slots, fine and coarse, are apart from every announced endpoint's: the engine wrote them all. */
	CHECK_EQ(gate_of(&c, UAC, 6010, PKS_CTL_ENGINE, false, NULL), 0);
	CHECK_EQ(gate_of(&c, UAC, 6010, PKS_CTL_ENGINE, true, NULL), 0);
	CHECK_EQ(gate_of(&c, UAC, 6010, PKS_CTL_KERNEL, false, &fine), 0);
	CHECK_EQ(gate_of(&c, UAC, 6010, PKS_CTL_KERNEL, true, &coarse), 0);
	/* pks_ctl says an expectation may be alive for good: from here only the gates decide. */
	CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(c.env.skel->maps.pks_ctl), &kernel, &ctl), 0);
	ctl.expect_until = ~0ull;
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_ctl), &kernel, &ctl, BPF_ANY), 0);
	/* An entry for UAC:6010 written behind the gate: not read, from either side. */
	ctx_addr16(0, UAC, k.listen_addr);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_expect), &k, &v, BPF_ANY), 0);
	CHECK(udp_first(&c, UAS, 7100, UAC, 6010, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	CHECK(udp_first(&c, UAC, 6010, "198.18.0.77", 9100, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	/* The announced endpoint on the sending side goes through its open gate (lookups 4 and 5). */
	CHECK(udp_first(&c, UAC, 6000, "198.18.0.77", 9000, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtp");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	/* One level open is not enough, either one (here the kernel's elements). */
	open = pks_expect_gate_until(c.env.clock_ns + 60000000000ull);
	CHECK_EQ(gate_set(&c, coarse, open), 0);
	CHECK(udp_first(&c, UAS, 7101, UAC, 6010, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	CHECK_EQ(gate_set(&c, coarse, 0), 0);
	CHECK_EQ(gate_set(&c, fine, open), 0);
	CHECK(udp_first(&c, UAS, 7102, UAC, 6010, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	/* Both open: the next new flows on either side take the entry. */
	CHECK_EQ(gate_set(&c, coarse, open), 0);
	CHECK(udp_first(&c, UAS, 7103, UAC, 6010, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "rtp");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	CHECK(udp_first(&c, UAC, 6010, "198.18.0.77", 9101, &f) == 0);
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	/* Past the gate's time, closed again, though the entry itself never expires. */
	c.env.clock_ns += 62000000000ull + (2ull << PKS_EXPECT_GATE_SHIFT);
	CHECK(!pks_expect_gate_open(open, c.env.clock_ns));
	CHECK(udp_first(&c, UAS, 7104, UAC, 6010, &f) == 0);
	CHECK(f.confidence != PKS_C_EXPECTED);
	ctx_close(&c);
}

static char *gate_metrics(struct ctx_env *c)
{
	struct pks_metrics_src src = { .engine = c->eng, .stats_fd = -1, .ctxstats_fd = -1,
				       .gate_fd = bpf_map__fd(c->env.skel->maps.pks_expect_gate) };

	return metrics_text_of(&src);
}

/*
 * The metrics count the gate's open slots, fine and coarse: those of the
 * expectations the engine wrote (the slots of pks_expect's keys, as the
 * kernel hashes them), and none once their time has passed.
 */
TEST(ctx_expect_gate_metrics)
{
	int fd, fine_n = 0, coarse_n = 0;
	uint32_t fine[64], coarse[64];
	struct pks_expect_key k, next;
	struct ctx_env c;
	bool first = true;
	char *text;

	CHECK(ctx_open(&c, NULL) == 0);
	text = gate_metrics(&c);
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"fine\"}", 0));
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"coarse\"}", 0));
	free(text);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAC, 5060, UAS, 5060), invite) == 0);
	CHECK(ctx_run_text(&c, PKT_UDP4(UAS, 5060, UAC, 5060), ok200) == 0);
	fd = bpf_map__fd(c.env.skel->maps.pks_expect);
	while (bpf_map_get_next_key(fd, first ? NULL : &k, &next) == 0 && fine_n < 64) {
		uint32_t slot = pks_expect_gate_slot(&next), l1 = pks_expect_gate_l1_index(slot, 0);
		bool seen = false, seen1 = false;

		first = false;
		k = next;
		for (int i = 0; i < fine_n; i++)
			seen |= fine[i] == slot;
		for (int i = 0; i < coarse_n; i++)
			seen1 |= coarse[i] == l1;
		if (!seen)
			fine[fine_n++] = slot;
		if (!seen1)
			coarse[coarse_n++] = l1;
	}
	CHECK(fine_n >= 3); /* the offer's and the answer's media, and the answer's a=rtcp */
	text = gate_metrics(&c);
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"fine\"}", fine_n));
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"coarse\"}", coarse_n));
	free(text);
	/* Past their expiry and the gate's margin, by the engine's clock: all closed again. */
	c.env.clock_ns += PKS_EXPECT_TTL_DEFAULT + (3ull << PKS_EXPECT_GATE_SHIFT);
	CHECK(ctx_run(&c, &PKT_UDP4(UAC, 40000, UAS, 53)) == 0);
	text = gate_metrics(&c);
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"fine\"}", 0));
	CHECK(metrics_line(text, "pktspec_expect_gate_slots_open{level=\"coarse\"}", 0));
	free(text);
	ctx_close(&c);
}
