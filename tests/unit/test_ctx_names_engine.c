// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rules 3-5 end to end: crafted packets through the real XDP object, the
 * payload copies through the engine and user/rule_names.c, the result read
 * back from pks_names, as `pktspec replay` does it.
 */
#include "ctx_names_build.h"
#include "harness.h"
#include "ctx_env.h"

#define CLI "198.18.0.1"
#define SRV "198.18.0.2"
#define CLI6 "2001:db8::1"
#define SRV6 "2001:db8::2"

/* One TCP segment with a chosen sequence number, then the engine. */
static int run_seg(struct ctx_env *c, struct pkt_spec s, const uint8_t *data, size_t len, uint32_t seq)
{
	uint8_t frame[4096];
	size_t n, l4;
	int err;

	s.payload = data;
	s.payload_len = len;
	n = pkt_build(&s, frame, sizeof(frame));
	l4 = pkt_l4_off(&s);
	frame[l4 + 4] = (uint8_t)(seq >> 24), frame[l4 + 5] = (uint8_t)(seq >> 16);
	frame[l4 + 6] = (uint8_t)(seq >> 8), frame[l4 + 7] = (uint8_t)seq;
	err = pks_env_run_raw(&c->env, frame, n);
	if (!err)
		pks_engine_poll(c->eng, 0);
	return err;
}

/* SYN and SYN-ACK, so the client is known. */
static int handshake(struct ctx_env *c, int ipv6, uint16_t cport, uint16_t sport)
{
	struct pkt_spec syn = ipv6 ? PKT_TCP6(CLI6, cport, SRV6, sport, TCPF_SYN) : PKT_TCP4(CLI, cport, SRV, sport, TCPF_SYN);
	struct pkt_spec synack = ipv6 ? PKT_TCP6(SRV6, sport, CLI6, cport, TCPF_SYN | TCPF_ACK)
				      : PKT_TCP4(SRV, sport, CLI, cport, TCPF_SYN | TCPF_ACK);

	if (run_seg(c, syn, NULL, 0, 999) || run_seg(c, synack, NULL, 0, 5000))
		return -1;
	return 0;
}

/* The ClientHello in three segments, sent in the given order (indexes, repeats allowed). */
static void tls_three_segments(const int *order, int n, uint16_t cport, uint16_t sport)
{
	struct ctx_env c;
	struct buf m, s;
	struct pks_flow_name nm;
	struct pkt_spec seg = PKT_TCP4(CLI, cport, SRV, sport, TCPF_ACK | TCPF_PSH);
	size_t cut[4];

	client_hello(&m, &big_hello);
	records(&s, &m, 16384);
	cut[0] = 0, cut[1] = 536, cut[2] = 1072, cut[3] = s.n;
	CHECK(s.n > 1072);
	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(handshake(&c, 0, cport, sport) == 0);
	for (int i = 0; i < n; i++) {
		int k = order[i];

		CHECK(run_seg(&c, seg, s.b + cut[k], cut[k + 1] - cut[k], 1000 + (uint32_t)cut[k]) == 0);
	}
	CHECK_EQ(ctx_name(&c, &seg, &nm), 0);
	CHECK_STR(nm.host, "www.example.org");
	CHECK_EQ(nm.source, PKS_NAME_SNI);
	CHECK_STR(nm.alpn, "h2");
	CHECK_EQ(nm.tls_version, PKS_TLS_V13);
	ctx_close(&c);
}

TEST(ctx_names_tls_three_segments_in_order)
{
	static const int order[] = { 0, 1, 2 };

	tls_three_segments(order, 3, 40001, 443);
}

TEST(ctx_names_tls_port_without_guess)
{
	static const int order[] = { 0, 1, 2 };

	/* Nothing guesses 4433: the first segment's signature names TLS, and
	 * that very segment must reach the rule. */
	tls_three_segments(order, 3, 40006, 4433);
}

TEST(ctx_names_tls_three_segments_reordered_and_retransmitted)
{
	/* the last segment overtakes the middle one, and the first is sent twice */
	static const int order[] = { 0, 2, 0, 1 };

	tls_three_segments(order, 4, 40002, 443);
}

TEST(ctx_names_tls_server_hello_sets_version)
{
	struct ctx_env c;
	struct buf m, s;
	struct pks_flow_name nm;
	struct pkt_spec cseg = PKT_TCP4(CLI, 40003, SRV, 443, TCPF_ACK | TCPF_PSH);
	struct pkt_spec sseg = PKT_TCP4(SRV, 443, CLI, 40003, TCPF_ACK | TCPF_PSH);
	struct hello_opts o = { .sni = "old.example", .alpn = { "http/1.1" } };
	/* A TLS 1.2 ServerHello: legacy_version 3.3, no supported_versions. */
	static const uint8_t sh[] = { 22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
				      0, 0xc0, 0x2f, 0 };

	client_hello(&m, &o);
	records(&s, &m, 16384);
	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(handshake(&c, 0, 40003, 443) == 0);
	CHECK(run_seg(&c, cseg, s.b, s.n, 1000) == 0);
	CHECK_EQ(ctx_name(&c, &cseg, &nm), 0);
	CHECK_EQ(nm.tls_version, PKS_TLS_V13); /* offered */
	CHECK(run_seg(&c, sseg, sh, sizeof(sh), 5001) == 0);
	CHECK_EQ(ctx_name(&c, &cseg, &nm), 0);
	CHECK_EQ(nm.tls_version, PKS_TLS_V12); /* selected */
	CHECK_STR(nm.host, "old.example");
	ctx_close(&c);
}

TEST(ctx_names_tls_garbage_on_443_names_nothing)
{
	struct ctx_env c;
	struct pks_flow_name nm;
	struct pkt_spec seg = PKT_TCP4(CLI, 40004, SRV, 443, TCPF_ACK | TCPF_PSH);
	/* A record header announcing a 16 MiB ClientHello. */
	static const uint8_t absurd[] = { 22, 3, 1, 0, 8, 1, 0xff, 0xff, 0xff, 3, 3, 0, 0, 0 };

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(handshake(&c, 0, 40004, 443) == 0);
	CHECK(run_seg(&c, seg, absurd, sizeof(absurd), 1000) == 0);
	CHECK_EQ(ctx_name(&c, &seg, &nm), -ENOENT);
	ctx_close(&c);
}

TEST(ctx_names_quic_initials_v1_and_v2)
{
	static const uint8_t dcid[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	static const uint32_t versions[2] = { PKS_QUIC_V1, PKS_QUIC_V2 };

	for (int v = 0; v < 2; v++) {
		struct ctx_env c;
		struct buf m;
		struct pks_flow_name nm;
		struct pkt_spec d = PKT_UDP4(CLI, (uint16_t)(50000 + v), SRV, 443);
		struct hello_opts o = big_hello;
		uint8_t frames[2000], pkt[2][1500];
		size_t plen[2], half;

		o.sni = "quic.example.net";
		o.alpn[0] = "h3", o.alpn[1] = NULL;
		client_hello(&m, &o);
		half = m.n / 2;
		/* Two Initials, each with half of the CRYPTO stream, sent second first. */
		for (int p = 0; p < 2; p++) {
			size_t off = p ? half : 0, n = p ? m.n - half : half;
			size_t f = crypto_frame(frames, off, m.b + off, n);

			plen[p] = seal_initial(versions[v], dcid, 8, (uint32_t)p, frames, f, f + 60 > 1162 ? f + 60 : 1162,
					       pkt[p]);
			CHECK(plen[p] >= 1200 && plen[p] <= 1400);
		}
		CHECK(ctx_open(&c, NULL) == 0);
		d.payload = pkt[1], d.payload_len = plen[1];
		CHECK(ctx_run(&c, &d) == 0);
		CHECK_EQ(ctx_name(&c, &d, &nm), -ENOENT);
		d.payload = pkt[0], d.payload_len = plen[0];
		CHECK(ctx_run(&c, &d) == 0);
		CHECK_EQ(ctx_name(&c, &d, &nm), 0);
		CHECK_STR(nm.host, "quic.example.net");
		CHECK_EQ(nm.source, PKS_NAME_QUIC);
		CHECK_STR(nm.alpn, "h3");
		CHECK_EQ(nm.tls_version, PKS_TLS_V13);
		ctx_close(&c);
	}
}

/*
 * A new flow's first copy goes out whatever pks_done holds for its key: the
 * engine marks a flow done only after copies of it, so a mark there is an
 * earlier flow's of the same addresses and ports, left until the daemon's
 * next scan deletes it. pks_copy does not look pks_done up for the packet
 * that made the entry (a lookup under a flood of new flows that missed the
 * cache, doc/performance.md); before, the mark was taken for this flow's,
 * and a client's new QUIC connection from the same port was never named.
 */
TEST(ctx_names_first_copy_of_a_new_flow_is_not_stopped_by_an_earlier_done_mark)
{
	static const uint8_t dcid[8] = { 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98 };
	struct pkt_spec d = PKT_UDP4(CLI, 50100, SRV, 443);
	struct hello_opts o = { .key_share = 32 };
	uint8_t frames[2000], pkt[1500];
	struct pks_flow_name nm;
	struct pks_flow_key k;
	struct ctx_env c;
	struct buf m;
	size_t f, n;
	__u8 one = 1;

	o.sni = "again.example.net";
	o.alpn[0] = "h3", o.alpn[1] = NULL;
	client_hello(&m, &o);
	f = crypto_frame(frames, 0, m.b, m.n);
	n = seal_initial(PKS_QUIC_V1, dcid, sizeof(dcid), 0, frames, f, f + 60 > 1162 ? f + 60 : 1162, pkt);
	CHECK(n >= 1200 && n <= sizeof(pkt));
	CHECK(ctx_open(&c, NULL) == 0);
	ctx_key(&d, &k);
	CHECK(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_done), &k, &one, BPF_ANY) == 0);
	d.payload = pkt, d.payload_len = n;
	CHECK(ctx_run(&c, &d) == 0);
	CHECK_EQ(ctx_name(&c, &d, &nm), 0);
	CHECK_STR(nm.host, "again.example.net");
	CHECK_EQ(nm.source, PKS_NAME_QUIC);
	ctx_close(&c);
}

static void http_two_segments(uint16_t sport, int ipv6)
{
	struct ctx_env c;
	struct pks_flow_name nm;
	struct pkt_spec seg = ipv6 ? PKT_TCP6(CLI6, 40005, SRV6, sport, TCPF_ACK | TCPF_PSH)
				   : PKT_TCP4(CLI, 40005, SRV, sport, TCPF_ACK | TCPF_PSH);
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\n"
				  "Accept: */*\r\n\r\n";
	size_t cut = 20; /* inside the Host line */

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(handshake(&c, ipv6, 40005, sport) == 0);
	CHECK(run_seg(&c, seg, (const uint8_t *)req, cut, 1000) == 0);
	CHECK_EQ(ctx_name(&c, &seg, &nm), -ENOENT);
	CHECK(run_seg(&c, seg, (const uint8_t *)req + cut, strlen(req) - cut, 1000 + (uint32_t)cut) == 0);
	CHECK_EQ(ctx_name(&c, &seg, &nm), 0);
	CHECK_STR(nm.host, "www.example.com");
	CHECK_EQ(nm.source, PKS_NAME_HTTP);
	CHECK_STR(nm.agent, "curl/7.88.1");
	ctx_close(&c);
}

/*
 * A flow of the same addresses and ports as one the engine finished with:
 * the earlier flow's done mark (pks_done) and the rule's finished state stay
 * until the daemon sees that flow end, and must not stop the new one. The
 * mark and the events carry the low byte of their flow's first tick
 * (pks_event.first8): the kernel copies the new flow's second segment, and
 * the names rule starts afresh, so the new Host, split over two segments,
 * names it.
 */
TEST(ctx_names_new_flow_under_a_finished_flows_key_is_named)
{
	static const char *req[2] = { "GET / HTTP/1.1\r\nHost: first.example.com\r\n\r\n",
				      "GET / HTTP/1.1\r\nHost: second.example.com\r\n\r\n" };
	struct pkt_spec seg = PKT_TCP6(CLI6, 40007, SRV6, 80, TCPF_ACK | TCPF_PSH);
	struct pks_flow_name nm;
	struct pks_flow_key k;
	struct ctx_env c;
	__u8 mark;

	CHECK(ctx_open(&c, NULL) == 0);
	ctx_key(&seg, &k);
	for (int i = 0; i < 2; i++) {
		size_t cut = 20; /* inside the Host line */

		CHECK(handshake(&c, 1, 40007, 80) == 0);
		CHECK(run_seg(&c, seg, (const uint8_t *)req[i], cut, 1000) == 0);
		CHECK(run_seg(&c, seg, (const uint8_t *)req[i] + cut, strlen(req[i]) - cut, 1000 + (uint32_t)cut) == 0);
		CHECK_EQ(ctx_name(&c, &seg, &nm), 0);
		CHECK_STR(nm.host, i ? "second.example.com" : "first.example.com");
		/* The engine is done with the flow: its mark. The earlier flow's stopped nothing. */
		CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(c.env.skel->maps.pks_done), &k, &mark), 0);
		CHECK_EQ(CTX_STAT(&c, done), 0);
		if (i == 1) {
			/* The mark stops its own flow's next copy, and goes. */
			CHECK(run_seg(&c, seg, (const uint8_t *)"\r\n", 2, 1000 + (uint32_t)strlen(req[i])) == 0);
			CHECK_EQ(CTX_STAT(&c, done), 1);
			CHECK(bpf_map_lookup_elem(bpf_map__fd(c.env.skel->maps.pks_done), &k, &mark) != 0);
			break;
		}
		/* The flow ends (its entry goes); its mark stays until the daemon sees the end. */
		CHECK_EQ(bpf_map_delete_elem(bpf_map__fd(c.env.skel->maps.pks_flows), &k), 0);
		CHECK_EQ(bpf_map_delete_elem(bpf_map__fd(c.env.skel->maps.pks_names), &k), 0);
		c.env.clock_ns += 10 * PKS_TICK_NS;
	}
	ctx_close(&c);
}

TEST(ctx_names_http_host_and_agent_over_two_segments)
{
	http_two_segments(80, 0);
}

TEST(ctx_names_http_on_another_port)
{
	http_two_segments(8081, 0);
}

TEST(ctx_names_http_ipv6)
{
	http_two_segments(80, 1);
}

TEST(ctx_names_http_ip_literal_host_names_no_one)
{
	struct ctx_env c;
	struct pks_flow_name nm;
	struct pkt_spec seg = PKT_TCP4(CLI, 40007, SRV, 80, TCPF_ACK | TCPF_PSH);
	static const char req[] = "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: curl/7.88.1\r\n\r\n";

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(handshake(&c, 0, 40007, 80) == 0);
	CHECK(run_seg(&c, seg, (const uint8_t *)req, strlen(req), 1000) == 0);
	CHECK_EQ(ctx_name(&c, &seg, &nm), 0);
	CHECK_STR(nm.host, "");
	CHECK_STR(nm.agent, "curl/7.88.1");
	ctx_close(&c);
}

/*
 * Write-back: a name the app list knows gives the flow's kernel entry its app
 * (what a tc policy by app reads) while the connection runs, and the server's
 * memory keeps it, so the next connection has it from its first packet.
 * first/reply: the client's first message and the server's answer, which
 * confirms the verdict (rule 6 remembers the server).
 */
static void app_write_back(uint16_t sport, const uint8_t *first, size_t first_len, const uint8_t *reply,
			   size_t reply_len, uint8_t proto, const char *apps_text)
{
	char apps[] = "/tmp/pktspec-apps.XXXXXX";
	struct ctx_env c;
	struct pks_flow_view f;
	struct pks_server_key sk = { .port = sport, .l4 = 6 };
	struct pks_server sv;
	struct pkt_spec cseg = PKT_TCP4(CLI, 41000, SRV, sport, TCPF_ACK | TCPF_PSH);
	struct pkt_spec sseg = PKT_TCP4(SRV, sport, CLI, 41000, TCPF_ACK | TCPF_PSH);
	struct pkt_spec syn2 = PKT_TCP4(CLI, 41001, SRV, sport, TCPF_SYN);
	uint16_t want = apps_text ? 2 : 0; /* the second application of the list */

	ctx_write_apps(apps, apps_text ? apps_text : "# empty\n");
	CHECK(ctx_open(&c, apps) == 0);
	unlink(apps);
	CHECK(handshake(&c, 0, 41000, sport) == 0);
	CHECK(pks_env_flow(&c.env, &cseg, &f) == 0);
	CHECK_EQ(f.app, 0);
	CHECK(run_seg(&c, cseg, first, first_len, 1000) == 0);
	CHECK(pks_env_flow(&c.env, &cseg, &f) == 0);
	CHECK_EQ(f.proto, proto);
	CHECK_EQ(f.app, want); /* in the kernel entry, before the next packet */
	CHECK(run_seg(&c, sseg, reply, reply_len, 5001) == 0);
	CHECK(pks_env_flow(&c.env, &cseg, &f) == 0);
	CHECK_EQ(f.confidence, PKS_C_CONFIRMED);
	CHECK_EQ(f.app, want);
	ctx_addr16(0, SRV, sk.addr);
	CHECK(bpf_map_lookup_elem(bpf_map__fd(c.env.skel->maps.pks_servers), &sk, &sv) == 0);
	CHECK_EQ(sv.proto, proto);
	CHECK_EQ(sv.app, want);
	/* The next connection: its SYN alone carries the app. */
	CHECK(ctx_run(&c, &syn2) == 0);
	CHECK(pks_env_flow(&c.env, &syn2, &f) == 0);
	CHECK_EQ(f.rule, PKS_R_SERVER_MEMORY);
	CHECK_EQ(f.app, want);
	ctx_close(&c);
}

/* A TLS 1.2 ServerHello: legacy_version 3.3, no extensions. */
static const uint8_t server_hello12[] = { 22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
					  30, 31, 32, 0, 0xc0, 0x2f, 0 };

static void tls_write_back(const char *apps_text)
{
	struct buf m, s;
	struct hello_opts o = { .sni = "media.video.example", .alpn = { "h2" } };

	client_hello(&m, &o);
	records(&s, &m, 16384);
	app_write_back(8443, s.b, s.n, server_hello12, sizeof(server_hello12), PKS_P_TLS, apps_text);
}

TEST(ctx_names_tls_sni_app_written_back)
{
	tls_write_back("other.example otherapp\n.video.example video\n");
}

TEST(ctx_names_tls_sni_unlisted_no_app)
{
	tls_write_back(NULL);
}

TEST(ctx_names_http_host_app_written_back)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.video.example:8080\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	app_write_back(8080, (const uint8_t *)req, strlen(req), (const uint8_t *)resp, strlen(resp), PKS_P_HTTP,
		       "other.example otherapp\nvideo.example video\n");
}

/* The list `make install` ships (dist/apps): it loads, and its suffixes match at label boundaries. */
TEST(ctx_names_shipped_app_list)
{
	struct ctx_env c;
	const char *name;
	uint16_t yt, nf;

	CHECK(ctx_open(&c, "dist/apps") == 0);
	yt = pks_engine_app(c.eng, "www.YouTube.com", &name);
	CHECK(yt > 0);
	CHECK_STR(name, "youtube");
	CHECK_EQ(pks_engine_app(c.eng, "rr3---sn-4g5e6nz7.googlevideo.com", NULL), yt);
	CHECK_EQ(pks_engine_app(c.eng, "youtube.com.", NULL), yt);
	nf = pks_engine_app(c.eng, "ipv4-c001.1.oca.nflxvideo.net", &name);
	CHECK(nf > 0 && nf != yt);
	CHECK_STR(name, "netflix");
	CHECK_EQ(pks_engine_app(c.eng, "notyoutube.com", NULL), 0);
	CHECK_EQ(pks_engine_app(c.eng, "www.example.org", NULL), 0);
	ctx_close(&c);
}
