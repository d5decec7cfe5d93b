// SPDX-License-Identifier: MIT OR Apache-2.0
/* Rule 1, FTP: PASV/EPSV/PORT/EPRT announce the data connection, classified on its first packet. */
#include "harness.h"
#include "ctx_env.h"

static const char *cli_addr(int v6) { return v6 ? "2001:db8::1" : "198.18.0.1"; }
static const char *srv_addr(int v6) { return v6 ? "2001:db8::2" : "198.18.0.2"; }

static struct pkt_spec srv_pkt(int v6)
{
	return (struct pkt_spec){ .ipv6 = v6, .src = srv_addr(v6), .dst = cli_addr(v6), .sport = 21, .dport = 40000,
				  .l4 = 6, .tcp_flags = TCPF_PSH | TCPF_ACK };
}

static struct pkt_spec cli_pkt(int v6)
{
	return (struct pkt_spec){ .ipv6 = v6, .src = cli_addr(v6), .dst = srv_addr(v6), .sport = 40000, .dport = 21,
				  .l4 = 6, .tcp_flags = TCPF_PSH | TCPF_ACK };
}

/* A control connection 40000 -> 21: handshake and the server's greeting. */
static int ftp_control(struct ctx_env *c, int v6)
{
	struct pkt_spec syn = cli_pkt(v6), synack = srv_pkt(v6);

	syn.tcp_flags = TCPF_SYN;
	synack.tcp_flags = TCPF_SYN | TCPF_ACK;
	if (ctx_run(c, &syn) || ctx_run(c, &synack))
		return -1;
	return ctx_run_text(c, srv_pkt(v6), "220 (vsFTPd 3.0.3)\r\n");
}

/* The data connection's first packet (a SYN from src:sport to dst:dport) and its flow. */
static int data_syn(struct ctx_env *c, int v6, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		    struct pks_flow_view *f)
{
	struct pkt_spec s = { .ipv6 = v6, .src = src, .dst = dst, .sport = sport, .dport = dport, .l4 = 6,
			      .tcp_flags = TCPF_SYN };

	if (ctx_run(c, &s))
		return -1;
	return pks_env_flow(&c->env, &s, f);
}

TEST(ctx_ftp_pasv_first_packet)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	CHECK(ctx_run_text(&c, cli_pkt(0), "PASV\r\n") == 0);
	/* 195 * 256 + 80 = 50000 */
	CHECK(ctx_run_text(&c, srv_pkt(0), "227 Entering Passive Mode (198,18,0,2,195,80).\r\n") == 0);
	CHECK(data_syn(&c, 0, "198.18.0.1", 41000, "198.18.0.2", 50000, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	CHECK_STR(pks_rule_name(f.rule), "ftp-pasv");
	CHECK(f.ctx & PKS_X_AT_FIRST);
	CHECK_EQ(f.packets[0] + f.packets[1], 1);
	/* Used once: a second connection to the port is not announced. */
	CHECK(data_syn(&c, 0, "198.18.0.1", 41001, "198.18.0.2", 50000, &f) == 0);
	CHECK(f.proto != PKS_P_FTP_DATA);
	CHECK_EQ(CTX_STAT(&c, expect_hit), 1);
	ctx_close(&c);
}

TEST(ctx_ftp_pasv_other_client_not_expected)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	CHECK(ctx_run_text(&c, srv_pkt(0), "227 Entering Passive Mode (198,18,0,2,195,80)\r\n") == 0);
	CHECK(data_syn(&c, 0, "198.18.0.9", 41000, "198.18.0.2", 50000, &f) == 0);
	CHECK(f.proto != PKS_P_FTP_DATA);
	ctx_close(&c);
}

TEST(ctx_ftp_epsv_ipv6)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 1) == 0);
	CHECK(ctx_run_text(&c, cli_pkt(1), "EPSV\r\n") == 0);
	CHECK(ctx_run_text(&c, srv_pkt(1), "229 Entering Extended Passive Mode (|||50001|)\r\n") == 0);
	CHECK(data_syn(&c, 1, "2001:db8::1", 41000, "2001:db8::2", 50001, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_rule_name(f.rule), "ftp-epsv");
	CHECK(f.ctx & PKS_X_AT_FIRST);
	ctx_close(&c);
}

TEST(ctx_ftp_port_active)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	/* 156 * 256 + 64 = 40000 + ... : 39999 is 156,63 */
	CHECK(ctx_run_text(&c, cli_pkt(0), "PORT 198,18,0,1,156,63\r\n") == 0);
	CHECK(ctx_run_text(&c, srv_pkt(0), "200 PORT command successful.\r\n") == 0);
	/* The server connects from port 20 to the announced client port. */
	CHECK(data_syn(&c, 0, "198.18.0.2", 20, "198.18.0.1", 39999, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_rule_name(f.rule), "ftp-port");
	CHECK(f.ctx & PKS_X_AT_FIRST);
	ctx_close(&c);
}

TEST(ctx_ftp_eprt_ipv6)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 1) == 0);
	CHECK(ctx_run_text(&c, cli_pkt(1), "EPRT |2|2001:db8::1|45678|\r\n") == 0);
	CHECK(data_syn(&c, 1, "2001:db8::2", 33000, "2001:db8::1", 45678, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_rule_name(f.rule), "ftp-eprt");
	ctx_close(&c);
}

TEST(ctx_ftp_malformed_replies_announce_nothing)
{
	static const char *const bad[] = {
		"227 Entering Passive Mode (198,18,0,2,300,80)\r\n", /* byte out of range */
		"227 Entering Passive Mode (198,18,0,2,0,0)\r\n",    /* port 0 */
		"227 Entering Passive Mode (198,18,0,2,195)\r\n",    /* five numbers */
		"227 Entering Passive Mode (99999999999999999999999,1,1,1,1,1)\r\n",
		"229 Entering Extended Passive Mode (|||70000|)\r\n", /* port beyond 16 bits */
		"229 Entering Extended Passive Mode (1112)\r\n",      /* digit delimiter */
		"229 Entering Extended Passive Mode (|||\r\n",
	};
	struct ctx_env c;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ctx_run_text(&c, srv_pkt(0), bad[i]) == 0);
	CHECK_EQ(pks_map_count(bpf_map__fd(c.env.skel->maps.pks_expect), sizeof(struct pks_expect_key)), 0);
	ctx_close(&c);
}

TEST(ctx_ftp_expectation_expires)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	CHECK(ctx_run_text(&c, srv_pkt(0), "227 Entering Passive Mode (198,18,0,2,195,80)\r\n") == 0);
	c.env.clock_ns += PKS_EXPECT_TTL_DEFAULT + 1000000000ull;
	CHECK(data_syn(&c, 0, "198.18.0.1", 41000, "198.18.0.2", 50000, &f) == 0);
	CHECK(f.proto != PKS_P_FTP_DATA);
	/* No expectation can be alive (pks_ctl): pks_expect was not even looked up. */
	CHECK_EQ(CTX_STAT(&c, expect_expired), 0);
	CHECK_EQ(CTX_STAT(&c, expect_hit), 0);
	/* A new announcement makes XDP look again: the stale entry is found, removed, not used. */
	CHECK(ctx_run_text(&c, srv_pkt(0), "227 Entering Passive Mode (198,18,0,2,195,81)\r\n") == 0);
	CHECK(data_syn(&c, 0, "198.18.0.1", 41001, "198.18.0.2", 50000, &f) == 0);
	CHECK(f.proto != PKS_P_FTP_DATA);
	CHECK_EQ(CTX_STAT(&c, expect_expired), 1);
	CHECK(data_syn(&c, 0, "198.18.0.1", 41002, "198.18.0.2", 50001, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_FTP_DATA);
	ctx_close(&c);
}

TEST(ctx_ftp_pasv_written_by_kernel_before_engine_runs)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec r = srv_pkt(0), syn = { .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 41000, .dport = 50000,
						.l4 = 6, .tcp_flags = TCPF_SYN };

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 0) == 0);
	/* No engine between the reply and the data connection's SYN: the client was faster. */
	r.payload = "227 Entering Passive Mode (198,18,0,2,195,80).\r\n";
	r.payload_len = strlen(r.payload);
	CHECK(pks_env_run(&c.env, &r) == 0);
	CHECK(pks_env_run(&c.env, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_rule_name(f.rule), "ftp-pasv");
	/* The engine, late, does not revive the used expectation. */
	pks_engine_poll(c.eng, 0);
	CHECK_EQ(pks_map_count(bpf_map__fd(c.env.skel->maps.pks_expect), sizeof(struct pks_expect_key)), 0);
	ctx_close(&c);
}

/*
 * One owner per announcement (doc/context.md). The kernel's: 227, 229, PORT
 * and EPRT |1|, which must be expected with no engine at all (the XDP object
 * alone: a test that fails if the kernel's path is removed).
 */
static void kernel_owned(int v6, const char *line, int from_server, const char *src, const char *dst, uint16_t dport,
			 const char *rule)
{
	struct pks_env env;
	struct pks_flow_view f;
	struct pkt_spec syn = { .ipv6 = v6, .src = src, .dst = dst, .sport = 33000, .dport = dport, .l4 = 6,
				.tcp_flags = TCPF_SYN };
	struct pkt_spec m = from_server ? srv_pkt(v6) : cli_pkt(v6);
	struct pkt_spec hs = cli_pkt(v6), hs2 = srv_pkt(v6);

	CHECK(pks_env_open(&env) == 0);
	hs.tcp_flags = TCPF_SYN;
	hs2.tcp_flags = TCPF_SYN | TCPF_ACK;
	CHECK(pks_env_run(&env, &hs) == 0);
	CHECK(pks_env_run(&env, &hs2) == 0);
	m.payload = "220 (vsFTPd 3.0.3)\r\n";
	m.payload_len = strlen(m.payload);
	{
		struct pkt_spec g = srv_pkt(v6);

		g.payload = m.payload;
		g.payload_len = m.payload_len;
		CHECK(pks_env_run(&env, &g) == 0);
	}
	m.payload = line;
	m.payload_len = strlen(line);
	CHECK(pks_env_run(&env, &m) == 0);
	CHECK(pks_env_run(&env, &syn) == 0);
	CHECK(pks_env_flow(&env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	CHECK_STR(pks_confidence_name(f.confidence), "expected");
	CHECK_STR(pks_rule_name(f.rule), rule);
	pks_env_close(&env);
}

TEST(ctx_ftp_kernel_owns_pasv_without_engine)
{
	kernel_owned(0, "227 Entering Passive Mode (198,18,0,2,195,80).\r\n", 1, "198.18.0.1", "198.18.0.2", 50000,
		     "ftp-pasv");
}

TEST(ctx_ftp_kernel_owns_pasv_behind_nat_without_engine)
{
	/* The server announces its private address; the client dials the one it knows. */
	kernel_owned(0, "227 Entering Passive Mode (10,0,0,5,195,80).\r\n", 1, "198.18.0.1", "198.18.0.2", 50000,
		     "ftp-pasv");
	kernel_owned(0, "227 Entering Passive Mode (10,0,0,5,195,80).\r\n", 1, "198.18.0.1", "10.0.0.5", 50000,
		     "ftp-pasv");
}

TEST(ctx_ftp_kernel_owns_epsv_without_engine)
{
	kernel_owned(1, "229 Entering Extended Passive Mode (|||50001|)\r\n", 1, "2001:db8::1", "2001:db8::2", 50001,
		     "ftp-epsv");
}

TEST(ctx_ftp_kernel_owns_port_without_engine)
{
	kernel_owned(0, "PORT 198,18,0,1,195,82\r\n", 0, "198.18.0.2", "198.18.0.1", 50002, "ftp-port");
}

TEST(ctx_ftp_kernel_owns_eprt_v4_without_engine)
{
	kernel_owned(0, "EPRT |1|198.18.0.1|50003|\r\n", 0, "198.18.0.2", "198.18.0.1", 50003, "ftp-eprt");
}

/* The daemon's: EPRT |2|, which no kernel path reads: without the engine it is not expected. */
TEST(ctx_ftp_daemon_owns_eprt_v6)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec eprt = cli_pkt(1), syn = PKT_TCP6("2001:db8::2", 33000, "2001:db8::1", 45679, TCPF_SYN);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(ftp_control(&c, 1) == 0);
	eprt.payload = "EPRT |2|2001:db8::1|45679|\r\n";
	eprt.payload_len = strlen(eprt.payload);
	CHECK(pks_env_run(&c.env, &eprt) == 0); /* the engine is not polled */
	CHECK(pks_env_run(&c.env, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK(f.proto != PKS_P_FTP_DATA);
	CHECK_EQ(pks_map_count(bpf_map__fd(c.env.skel->maps.pks_expect), sizeof(struct pks_expect_key)), 0);
	/* The engine, once it runs, writes it: the next connection to it is expected. */
	pks_engine_poll(c.eng, 0);
	syn.sport = 33001;
	CHECK(pks_env_run(&c.env, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_STR(pks_proto_name(f.proto), "ftp-data");
	ctx_close(&c);
}
