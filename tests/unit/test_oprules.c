// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Operator rules (`pktspec rules`, user/oprules.c): the file's validation,
 * and the rules written into the real XDP object's maps and applied to new
 * flows by the classifier (bpf/oprules.h), and by the engine to named flows.
 */
#include "ctx_names_build.h"
#include "harness.h"
#include "ctx_env.h"

/* Parses text as a rules file; returns the number of bad lines (errors in errs), or -errno. */
static int parse_text(const char *text, struct pks_op_rule **rules, size_t *n, char *errs, size_t errlen)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *err = fmemopen(errs, errlen, "w");
	int r;

	if (!in || !err)
		return -ENOMEM;
	memset(errs, 0, errlen);
	r = pks_oprules_parse_file(in, "rules", rules, n, err);
	fclose(in);
	fclose(err);
	return r;
}

/* Loads text into the environment's maps; 0 or -errno (a bad file: -EINVAL). */
static int load_text(struct ctx_env *c, const char *text)
{
	struct pks_op_rule *rules;
	size_t n;
	char errs[1024];
	int r = parse_text(text, &rules, &n, errs, sizeof(errs));

	if (r)
		return r > 0 ? -EINVAL : r;
	r = pks_oprules_replace(bpf_map__fd(c->env.skel->maps.pks_oprules), bpf_map__fd(c->env.skel->maps.pks_opstate),
				bpf_map__fd(c->env.skel->maps.pks_ophosts), rules, n, stderr);
	free(rules);
	return r;
}

/* A SYN from 198.18.0.1 (or 2001:db8::1) to dst:port; its flow's view. */
static int syn_to(struct ctx_env *c, const char *dst, uint16_t port, uint8_t l4, struct pks_flow_view *f)
{
	static uint16_t cport = 42000;
	int v6 = strchr(dst, ':') != NULL;
	struct pkt_spec s = { .ipv6 = v6, .src = v6 ? "2001:db8::1" : "198.18.0.1", .dst = dst, .sport = cport++,
			      .dport = port, .l4 = l4, .tcp_flags = l4 == 6 ? TCPF_SYN : 0 };

	if (l4 == 17) {
		s.payload = "\x01\x02\x03\x04";
		s.payload_len = 4;
	}
	if (ctx_run(c, &s))
		return -1;
	return pks_env_flow(&c->env, &s, f);
}

TEST(oprules_file_errors_name_their_lines)
{
	struct pks_op_rule *rules = NULL;
	size_t n = 0;
	char errs[2048];
	static const char bad[] = "# operator rules\n"
				  "addr 198.18.5.0/24 tcp port 8443 proto tls\n"
				  "addr 198.18.5.0/33 proto tls\n"      /* 3: prefix too long */
				  "tcp port 0 proto tls\n"              /* 4: port 0 */
				  "port 9000-8000 proto http\n"         /* 5: range backwards */
				  "addr 2001:db8::/32 proto nosuch\n"   /* 6: unknown protocol */
				  "addr 2001:db8::/32\n"                /* 7: no action */
				  "host .corp.example port 80 app 3\n"  /* 8: host with a port */
				  "proto tls\n"                         /* 9: matches everything */
				  "host bad/name app 2\n"               /* 10: not a name */
				  "tcp udp port 1 proto dns\n"          /* 11: two L4 */
				  "addr 198.18.5.1 frobnicate 2\n";     /* 12: unknown word */

	CHECK_EQ(parse_text(bad, &rules, &n, errs, sizeof(errs)), 10);
	CHECK(rules == NULL);
	for (int line = 3; line <= 12; line++) {
		char want[32];

		snprintf(want, sizeof(want), "rules:%d: ", line);
		CHECK(strstr(errs, want) != NULL);
	}
	CHECK(strstr(errs, "rules:2:") == NULL);
	/* One line each. */
	{
		int lines = 0;

		for (const char *p = errs; *p; p++)
			lines += *p == '\n';
		CHECK_EQ(lines, 10);
	}
}

TEST(oprules_prefix_port_l4_at_first_packet)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(load_text(&c, "addr 198.18.5.0/24 tcp port 8000-9000 proto http\n"
			    "addr 198.18.5.128/25 tcp port 8443 proto tls app 7\n"
			    "addr 2001:db8:5::/48 udp port 5000 proto rtp\n"
			    "tcp port 2222 proto ssh\n") == 0);
	/* The /25's own rule. */
	CHECK(syn_to(&c, "198.18.5.200", 8443, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_TLS);
	CHECK_EQ(f.confidence, PKS_C_USER);
	CHECK_EQ(f.rule, PKS_R_USER);
	CHECK_EQ(f.app, 7);
	CHECK(f.flags & PKS_F_DECIDED);
	CHECK(f.ctx & PKS_X_AT_FIRST);
	/* In the /25, another port: the wider /24's rule still applies. */
	CHECK(syn_to(&c, "198.18.5.200", 8500, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_USER);
	CHECK_EQ(f.app, 0);
	/* Outside the /25, 8443: the /24. */
	CHECK(syn_to(&c, "198.18.5.7", 8443, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	/* Outside every prefix and port: what the classifier says. */
	CHECK(syn_to(&c, "198.18.5.7", 9001, 6, &f) == 0);
	CHECK(f.confidence != PKS_C_USER);
	CHECK(syn_to(&c, "198.18.6.7", 8443, 6, &f) == 0);
	CHECK(f.confidence != PKS_C_USER);
	/* UDP only. */
	CHECK(syn_to(&c, "2001:db8:5::9", 5000, 17, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_RTP);
	CHECK_EQ(f.confidence, PKS_C_USER);
	CHECK(syn_to(&c, "2001:db8:5::9", 5000, 6, &f) == 0);
	CHECK(f.confidence != PKS_C_USER);
	/* No address: any server, over the port's own guess (2222 is not SSH's port, 22 is). */
	CHECK(syn_to(&c, "2001:db8:7::1", 2222, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_SSH);
	CHECK_EQ(f.confidence, PKS_C_USER);
	CHECK_EQ(CTX_STAT(&c, user_hit), 5);
	ctx_close(&c);
}

TEST(oprules_override_port_guess_and_payload)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pkt_spec req = PKT_TCP4("198.18.0.1", 42100, "198.18.5.1", 80, TCPF_ACK | TCPF_PSH);
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 42100, "198.18.5.1", 80, TCPF_SYN);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(load_text(&c, "addr 198.18.5.1 tcp port 80 proto ssh\n") == 0);
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(pks_env_flow(&c.env, &syn, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_SSH); /* not the port's http */
	/* An HTTP request does not overrule the operator. */
	CHECK(ctx_run_text(&c, req, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CHECK(pks_env_flow(&c.env, &req, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_SSH);
	CHECK_EQ(f.confidence, PKS_C_USER);
	ctx_close(&c);
}

/*
 * The operator names a flow TLS at its first packet, decided: its
 * ClientHello is copied for the name and no signature runs after it. The
 * flow's one event goes out after the copy, with the operator's verdict
 * (`pktspec run --json`: one flow line, no verdict line).
 */
TEST(oprules_decided_flow_copied_then_its_flow_event)
{
	struct pks_engine_opts eo = { .print = true, .json = true };
	struct pkt_spec hello = PKT_TCP4("198.18.0.1", 42200, "198.18.5.1", 9443, TCPF_ACK | TCPF_PSH);
	static const uint8_t ch[] = { 0x16, 0x03, 0x01, 0x00, 0x2a, 0x01, 0x00, 0x00, 0x26, 0x03, 0x03 };
	struct ctx_env c;
	char *out = NULL;
	size_t len = 0;

	eo.out = open_memstream(&out, &len);
	CHECK(eo.out != NULL);
	CHECK(ctx_open_opts(&c, &eo) == 0);
	CHECK(load_text(&c, "addr 198.18.5.1 tcp port 9443 proto tls\n") == 0);
	hello.payload = ch;
	hello.payload_len = sizeof(ch);
	CHECK(ctx_run(&c, &hello) == 0);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 1);
	ctx_close(&c);
	fclose(eo.out);
	CHECK(out != NULL);
	CHECK(strstr(out, "\"event\":\"flow\"") != NULL);
	CHECK(strstr(out, "\"proto\":\"tls\",\"confidence\":\"user\"") != NULL);
	CHECK(strstr(out, "\"event\":\"verdict\"") == NULL);
	CHECK(strchr(out, '\n') == out + len - 1);
	free(out);
}

TEST(oprules_app_only_keeps_verdict)
{
	struct ctx_env c;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(load_text(&c, "addr 198.18.5.0/24 app 9\n") == 0);
	CHECK(syn_to(&c, "198.18.5.3", 443, 6, &f) == 0);
	CHECK_EQ(f.app, 9);
	CHECK_EQ(f.proto, PKS_P_TLS);
	CHECK_EQ(f.confidence, PKS_C_PORT);
	CHECK(!(f.flags & PKS_F_DECIDED));
	ctx_close(&c);
}

TEST(oprules_bad_load_changes_nothing_new_load_replaces)
{
	struct ctx_env c;
	struct pks_flow_view f;
	char nine[1024] = "";

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(load_text(&c, "addr 198.18.5.0/24 tcp port 8443 proto tls\n") == 0);
	/* A file with one bad line: nothing written. */
	CHECK_EQ(load_text(&c, "addr 198.18.5.0/24 tcp port 8443 proto ssh\nport x proto tls\n"), -EINVAL);
	/* A file that parses but cannot be written (nine rules over one prefix): nothing either. */
	for (int i = 0; i < 9; i++) {
		char l[80];

		snprintf(l, sizeof(l), "addr 198.18.5.0/24 tcp port %d proto ssh\n", 100 + i);
		strcat(nine, l);
	}
	CHECK_EQ(load_text(&c, nine), -E2BIG);
	CHECK(syn_to(&c, "198.18.5.1", 8443, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_TLS);
	CHECK_EQ(f.confidence, PKS_C_USER);
	/* A good file replaces the whole set. */
	CHECK(load_text(&c, "addr 198.18.9.0/24 tcp port 8443 proto ssh\n") == 0);
	CHECK(syn_to(&c, "198.18.5.1", 8443, 6, &f) == 0);
	CHECK(f.confidence != PKS_C_USER);
	CHECK(syn_to(&c, "198.18.9.1", 8443, 6, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_SSH);
	/* An empty file clears. */
	CHECK(load_text(&c, "# nothing\n") == 0);
	CHECK(syn_to(&c, "198.18.9.1", 8443, 6, &f) == 0);
	CHECK(f.confidence != PKS_C_USER);
	ctx_close(&c);
}

TEST(oprules_host_rule_on_naming)
{
	struct ctx_env c;
	struct pks_flow_view f;
	struct pks_flow_name nm;
	struct buf m, s;
	struct hello_opts o = { .sni = "git.Corp.Example", .alpn = { "h2" } };
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 42200, "198.18.0.2", 443, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP4("198.18.0.2", 443, "198.18.0.1", 42200, TCPF_SYN | TCPF_ACK);
	struct pkt_spec seg = PKT_TCP4("198.18.0.1", 42200, "198.18.0.2", 443, TCPF_ACK | TCPF_PSH);

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(load_text(&c, "host *.corp.example proto http2 app 5\nhost other.example app 6\n") == 0);
	client_hello(&m, &o);
	records(&s, &m, 16384);
	CHECK(ctx_run_seq(&c, &syn, 999) == 0);
	CHECK(ctx_run_seq(&c, &synack, 5000) == 0);
	seg.payload = s.b;
	seg.payload_len = s.n;
	CHECK(ctx_run_seq(&c, &seg, 1000) == 0);
	CHECK_EQ(ctx_name(&c, &seg, &nm), 0);
	CHECK_STR(nm.host, "git.corp.example");
	CHECK_EQ(nm.app_id, 5);
	CHECK(pks_env_flow(&c.env, &seg, &f) == 0);
	CHECK_EQ(f.app, 5);
	CHECK_EQ(f.proto, PKS_P_HTTP2);
	CHECK_EQ(f.confidence, PKS_C_USER);
	CHECK_EQ(f.rule, PKS_R_USER);
	CHECK(f.flags & PKS_F_DECIDED);
	ctx_close(&c);
}
