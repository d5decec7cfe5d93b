// SPDX-License-Identifier: MIT OR Apache-2.0
/* Rule 2, DNS names: answers name server addresses; later flows carry the name and the app. */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "ctx_env.h"
#include "dns_parse.h"
#include "lifecycle.h"
#include "pktspec/filter.h"

/* A DNS message under construction. */
struct dnsmsg {
	uint8_t b[4096];
	size_t len;
	uint16_t an;
};

static void put16(struct dnsmsg *m, uint16_t v)
{
	m->b[m->len++] = v >> 8;
	m->b[m->len++] = v & 0xff;
}

static void put32(struct dnsmsg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct dnsmsg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		m->b[m->len++] = (uint8_t)l;
		memcpy(m->b + m->len, name, l);
		m->len += l;
		name += l + (dot ? 1 : 0);
	}
	m->b[m->len++] = 0;
}

/* A response header and question (ID 0x1234, QR RD RA). */
static void dns_begin(struct dnsmsg *m, const char *qname, uint16_t qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, 0); /* ancount, patched by dns_end */
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

static void dns_rr_head(struct dnsmsg *m, const char *owner, uint16_t type, uint32_t ttl)
{
	if (owner)
		put_name(m, owner);
	else
		put16(m, 0xc00c); /* pointer to the question name */
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	m->an++;
}

static void dns_a(struct dnsmsg *m, const char *owner, const char *ip, uint32_t ttl)
{
	dns_rr_head(m, owner, 1, ttl);
	put16(m, 4);
	inet_pton(AF_INET, ip, m->b + m->len);
	m->len += 4;
}

static void dns_aaaa(struct dnsmsg *m, const char *owner, const char *ip, uint32_t ttl)
{
	dns_rr_head(m, owner, 28, ttl);
	put16(m, 16);
	inet_pton(AF_INET6, ip, m->b + m->len);
	m->len += 16;
}

static void dns_cname(struct dnsmsg *m, const char *owner, const char *target, uint32_t ttl)
{
	size_t at;

	dns_rr_head(m, owner, 5, ttl);
	at = m->len;
	put16(m, 0);
	put_name(m, target);
	m->b[at] = (m->len - at - 2) >> 8;
	m->b[at + 1] = (m->len - at - 2) & 0xff;
}

static void dns_end(struct dnsmsg *m)
{
	m->b[6] = m->an >> 8;
	m->b[7] = m->an & 0xff;
}

/* The response from the resolver 198.18.0.53 to the client's port 33333. */
static int send_answer(struct ctx_env *c, struct dnsmsg *m)
{
	struct pkt_spec q = PKT_UDP4("198.18.0.1", 33333, "198.18.0.53", 53);
	struct pkt_spec r = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 33333);
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1 };

	dns_end(m);
	q.payload = query;
	q.payload_len = sizeof(query);
	r.payload = m->b;
	r.payload_len = m->len;
	if (ctx_run(c, &q))
		return -1;
	return ctx_run(c, &r);
}

static int connect_to(struct ctx_env *c, int v6, const char *srv, uint16_t sport, struct pks_flow_name *n,
		      struct pks_flow_view *f)
{
	struct pkt_spec s = { .ipv6 = v6, .src = v6 ? "2001:db8::1" : "198.18.0.1", .dst = srv, .sport = sport,
			      .dport = 443, .l4 = 6, .tcp_flags = TCPF_SYN };

	if (ctx_run(c, &s))
		return -1;
	if (f && pks_env_flow(&c->env, &s, f))
		return -1;
	return ctx_name(c, &s, n);
}

TEST(ctx_dns_a_names_later_flow)
{
	char apps[] = "/tmp/pktspec-apps.XXXXXX";
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;
	struct pks_flow_view f;

	ctx_write_apps(apps, "# test list\n.example.test   exampleapp\nvideo.test videoapp\n");
	CHECK(ctx_open(&c, apps) == 0);
	unlink(apps);
	dns_begin(&m, "www.Example.TEST", 1);
	dns_a(&m, NULL, "198.18.0.2", 300);
	CHECK(send_answer(&c, &m) == 0);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40000, &n, &f) == 0);
	CHECK_STR(n.host, "www.example.test");
	CHECK_EQ(n.source, PKS_NAME_DNS);
	CHECK_STR(n.app, "exampleapp");
	CHECK_EQ(f.app, 1);
	CHECK(f.ctx & PKS_X_NAMED);
	/* Named before its first packet, with an app: confidence dns from that packet. */
	CHECK_EQ(f.confidence, PKS_C_DNS);
	CHECK_EQ(f.rule, PKS_R_DNS_NAMED);
	CHECK_EQ(f.proto, PKS_P_TLS); /* the port's guess stays the protocol */
	/* An address no answer named has no name. */
	CHECK(connect_to(&c, 0, "198.18.0.3", 40001, &n, NULL) == -ENOENT);
	ctx_close(&c);
}

TEST(ctx_dns_name_without_app_leaves_confidence)
{
	char apps[] = "/tmp/pktspec-apps.XXXXXX";
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;
	struct pks_flow_view f;

	ctx_write_apps(apps, ".other.test otherapp\n");
	CHECK(ctx_open(&c, apps) == 0);
	unlink(apps);
	dns_begin(&m, "www.example.test", 1);
	dns_a(&m, NULL, "198.18.0.2", 300);
	CHECK(send_answer(&c, &m) == 0);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40000, &n, &f) == 0);
	CHECK_STR(n.host, "www.example.test");
	CHECK(f.ctx & PKS_X_NAMED);
	CHECK_EQ(f.app, 0);
	/* No application, nothing for a policy by app: the port's guess as before. */
	CHECK_EQ(f.confidence, PKS_C_PORT);
	CHECK_EQ(f.rule, PKS_R_PORT);
	ctx_close(&c);
}

TEST(ctx_dns_confidence_yields_to_payload)
{
	char apps[] = "/tmp/pktspec-apps.XXXXXX";
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_view f;
	struct pks_flow_name n;
	struct pkt_spec req = { .src = "198.18.0.1", .sport = 40002, .dst = "198.18.0.2", .dport = 443, .l4 = 6,
				.tcp_flags = TCPF_ACK | TCPF_PSH };

	ctx_write_apps(apps, ".example.test exampleapp\n");
	CHECK(ctx_open(&c, apps) == 0);
	unlink(apps);
	dns_begin(&m, "www.example.test", 1);
	dns_a(&m, NULL, "198.18.0.2", 300);
	CHECK(send_answer(&c, &m) == 0);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40002, &n, &f) == 0);
	CHECK_EQ(f.confidence, PKS_C_DNS);
	/* Plain HTTP on 443: the payload names the protocol; the app stays. */
	CHECK(ctx_run_text(&c, req, "GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n") == 0);
	CHECK(pks_env_flow(&c.env, &req, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK_EQ(f.app, 1);
	CHECK(!(f.flags & PKS_F_DECIDED));
	ctx_close(&c);
}

TEST(ctx_dns_aaaa_and_cname_chain)
{
	char apps[] = "/tmp/pktspec-apps.XXXXXX";
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;

	ctx_write_apps(apps, ".cdn.test cdnvideo\n");
	CHECK(ctx_open(&c, apps) == 0);
	unlink(apps);
	dns_begin(&m, "www.video.test", 28);
	dns_cname(&m, NULL, "edge.cdn.test", 600);
	dns_cname(&m, "edge.cdn.test", "node7.cdn.test", 600);
	dns_aaaa(&m, "node7.cdn.test", "2001:db8::2", 60);
	CHECK(send_answer(&c, &m) == 0);
	CHECK(connect_to(&c, 1, "2001:db8::2", 40000, &n, NULL) == 0);
	CHECK_STR(n.host, "www.video.test"); /* what the client asked for */
	CHECK_STR(n.app, "cdnvideo");         /* found along the chain */
	ctx_close(&c);
}

TEST(ctx_dns_ttl_respected)
{
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;

	CHECK(ctx_open(&c, NULL) == 0);
	dns_begin(&m, "short.test", 1);
	dns_a(&m, NULL, "198.18.0.2", 30);
	CHECK(send_answer(&c, &m) == 0);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40000, &n, NULL) == 0);
	c.env.clock_ns += 31ull * 1000000000ull;
	CHECK(connect_to(&c, 0, "198.18.0.2", 40001, &n, NULL) == -ENOENT);
	ctx_close(&c);
}

/* One A record, name -> addr for ttl seconds, answered after s seconds more of the test's clock. */
static int answer_after(struct ctx_env *c, unsigned s, const char *name, const char *addr, uint32_t ttl)
{
	struct dnsmsg m;

	c->env.clock_ns += s * 1000000000ull;
	dns_begin(&m, name, 1);
	dns_a(&m, NULL, addr, ttl);
	return send_answer(c, &m);
}

/* The filter's bit of host addr (IPv4, no tunnel) as the kernel reads it; -1 on error. */
static int host_bit(struct ctx_env *c, const char *addr)
{
	struct pks_host_key k = {};

	ctx_addr16(0, addr, k.addr);
	return pks_env_filter_bit(&c->env, PKS_FILTER_HOSTS, PKS_FILTER_SLOT_OF(&k));
}

/*
 * Issue 12: a new flow looks pks_hosts and pks_servers up only where the
 * lookup filter's bit of its server is set. The engine sets it before it
 * writes the entry; entries written behind its back (no bit) are not read
 * until their bits are set, although pks_ctl says both tables are alive.
 */
TEST(ctx_dns_host_lookup_needs_its_filter_bit)
{
	struct pks_host_key k = {};
	struct pks_host v = { .expires_ns = ~0ull, .name = "behind.test" };
	struct pks_server_key sk = { .port = 443, .l4 = 6 };
	struct pks_server sv = { .expires_ns = ~0ull, .proto = PKS_P_TLS, .rule = PKS_R_TLS_CLIENT_HELLO };
	__u32 engine = PKS_CTL_ENGINE;
	struct pks_ctl ctl;
	struct ctx_env c;
	struct pks_flow_name n;
	struct pks_flow_view f;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(answer_after(&c, 0, "named.test", "198.18.0.2", 300) == 0);
	CHECK_EQ(host_bit(&c, "198.18.0.2"), 1);
	CHECK_EQ(host_bit(&c, "198.18.0.3"), 0); /* another slot: the test needs them apart */
	ctx_addr16(0, "198.18.0.3", k.addr);
	memcpy(sk.addr, k.addr, 16);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_hosts), &k, &v, BPF_ANY), 0);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_servers), &sk, &sv, BPF_ANY), 0);
	CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(c.env.skel->maps.pks_ctl), &engine, &ctl), 0);
	ctl.servers_until = ~0ull;
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(c.env.skel->maps.pks_ctl), &engine, &ctl, BPF_ANY), 0);
	CHECK(connect_to(&c, 0, "198.18.0.3", 40000, &n, &f) == -ENOENT);
	CHECK(!(f.ctx & (PKS_X_NAMED | PKS_X_MEMORY)));
	CHECK(f.rule != PKS_R_SERVER_MEMORY);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40001, &n, &f) == 0);
	CHECK(f.ctx & PKS_X_NAMED);
	/* Their bits set (as a daemon starting on these maps does): the next flow has both. */
	CHECK_EQ(pks_env_tables_alive(&c.env), 0);
	CHECK_EQ(host_bit(&c, "198.18.0.3"), 1);
	CHECK(connect_to(&c, 0, "198.18.0.3", 40002, &n, &f) == 0);
	CHECK_STR(n.host, "behind.test");
	CHECK(f.ctx & PKS_X_NAMED);
	CHECK(f.ctx & PKS_X_MEMORY);
	CHECK_EQ(f.rule, PKS_R_SERVER_MEMORY);
	ctx_close(&c);
}

/* The engine clears a name's bit once its TTL has passed (at its next tick, a second of flow clock or more later). */
TEST(ctx_dns_host_bit_cleared_after_its_ttl)
{
	struct ctx_env c;

	CHECK(ctx_open(&c, NULL) == 0);
	CHECK(answer_after(&c, 0, "short.test", "198.18.0.2", 30) == 0);
	CHECK_EQ(host_bit(&c, "198.18.0.2"), 1);
	CHECK(answer_after(&c, 20, "other.test", "198.18.0.4", 300) == 0);
	CHECK_EQ(host_bit(&c, "198.18.0.2"), 1); /* alive */
	CHECK(answer_after(&c, 15, "third.test", "198.18.0.5", 300) == 0);
	CHECK_EQ(host_bit(&c, "198.18.0.2"), 0);
	CHECK_EQ(host_bit(&c, "198.18.0.4"), 1);
	ctx_close(&c);
}

TEST(ctx_dns_cname_loop_and_hundreds_of_records)
{
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;
	long hosts;

	CHECK(ctx_open(&c, NULL) == 0);
	dns_begin(&m, "a.loop.test", 1);
	dns_cname(&m, NULL, "b.loop.test", 60);
	dns_cname(&m, "b.loop.test", "a.loop.test", 60);
	for (int i = 0; i < 140; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.19.%d.%d", i / 250, i % 250 + 1);
		dns_a(&m, "c.loop.test", ip, 60);
	}
	CHECK(send_answer(&c, &m) == 0);
	hosts = pks_map_count(bpf_map__fd(c.env.skel->maps.pks_hosts), sizeof(struct pks_host_key));
	/* The copy is cut at PKS_SNAP_LEN bytes and at most PKS_DNS_ANSWERS_MAX records are read. */
	CHECK(hosts > 0 && hosts <= PKS_DNS_ANSWERS_MAX);
	CHECK(connect_to(&c, 0, "198.19.0.1", 40000, &n, NULL) == 0);
	CHECK_STR(n.host, "c.loop.test"); /* not on the question's chain: its own name */
	ctx_close(&c);
}

TEST(ctx_dns_parse_rejects_pointer_loops)
{
	struct pks_dns_answer *a = calloc(1, sizeof(*a));
	struct dnsmsg m;

	CHECK(a);
	/* A question name that points at itself. */
	memset(&m, 0, sizeof(m));
	put16(&m, 1), put16(&m, 0x8180), put16(&m, 1), put16(&m, 0), put16(&m, 0), put16(&m, 0);
	put16(&m, 0xc00c);
	put16(&m, 1), put16(&m, 1);
	CHECK(pks_dns_parse(m.b, m.len, a) == -EBADMSG);
	/* An answer whose owner points forward. */
	dns_begin(&m, "ok.test", 1);
	put16(&m, 0xc000 | (uint16_t)(m.len + 2));
	put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0x01020304);
	m.an = 1;
	dns_end(&m);
	CHECK(pks_dns_parse(m.b, m.len, a) == 0);
	CHECK_EQ(a->n, 0);
	/* A query (QR clear) is not an answer; nor is an error. */
	dns_begin(&m, "ok.test", 1);
	m.b[2] = 0x01;
	CHECK(pks_dns_parse(m.b, m.len, a) == -EBADMSG);
	dns_begin(&m, "ok.test", 1);
	m.b[3] = 0x83; /* NXDOMAIN */
	CHECK(pks_dns_parse(m.b, m.len, a) == -EBADMSG);
	/* Truncated anywhere: never reads past the end. */
	dns_begin(&m, "www.ok.test", 1);
	dns_a(&m, NULL, "198.18.0.2", 60);
	dns_cname(&m, NULL, "x.ok.test", 60);
	dns_end(&m);
	for (size_t cut = 0; cut < m.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, m.b, cut);
		pks_dns_parse(copy, cut, a); /* ASan finds an overread */
		free(copy);
	}
	free(a);
}

TEST(ctx_dns_over_tcp_split)
{
	struct ctx_env c;
	struct dnsmsg m;
	struct pks_flow_name n;
	uint8_t stream[600];
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 45000, "198.18.0.53", 53, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP4("198.18.0.53", 53, "198.18.0.1", 45000, TCPF_SYN | TCPF_ACK);
	struct pkt_spec seg = PKT_TCP4("198.18.0.53", 53, "198.18.0.1", 45000, TCPF_PSH | TCPF_ACK);
	size_t half;

	CHECK(ctx_open(&c, NULL) == 0);
	dns_begin(&m, "tcp.example.test", 1);
	dns_cname(&m, NULL, "real.example.test", 60);
	dns_a(&m, "real.example.test", "198.18.0.7", 60);
	dns_end(&m);
	stream[0] = m.len >> 8;
	stream[1] = m.len & 0xff;
	memcpy(stream + 2, m.b, m.len);
	half = (m.len + 2) / 2;
	CHECK(ctx_run(&c, &syn) == 0);
	CHECK(ctx_run(&c, &synack) == 0);
	seg.payload = stream;
	seg.payload_len = half;
	CHECK(ctx_run_seq(&c, &seg, 1000) == 0);
	CHECK(ctx_run_seq(&c, &seg, 1000) == 0); /* a retransmission */
	seg.payload = stream + half;
	seg.payload_len = m.len + 2 - half;
	CHECK(ctx_run_seq(&c, &seg, 1000 + half) == 0);
	CHECK(connect_to(&c, 0, "198.18.0.7", 40000, &n, NULL) == 0);
	CHECK_STR(n.host, "tcp.example.test");
	ctx_close(&c);
}

TEST(ctx_ring_full_is_counted_never_blocks)
{
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1 };
	struct ctx_env c;
	struct dnsmsg m;
	uint64_t sent, lost;

	dns_begin(&m, "x", 1);
	for (int i = 0; i < 60; i++) /* about 1000 bytes */
		dns_a(&m, NULL, "198.19.0.1", 60);
	dns_end(&m);
	CHECK(ctx_open(&c, NULL) == 0);
	/* 24 DNS flows x 255 copied responses of 1000 bytes: more than the 4 MiB ring holds. */
	for (int f = 0; f < 24; f++) {
		struct pkt_spec q = PKT_UDP4("198.18.0.1", 0, "198.18.0.53", 53);
		struct pkt_spec r = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 0);

		q.sport = r.dport = 20000 + f;
		q.payload = query;
		q.payload_len = sizeof(query);
		r.payload = m.b;
		r.payload_len = m.len;
		CHECK_EQ(pks_env_run(&c.env, &q), 0);
		for (int i = 0; i < PKS_COPY_CONTROL + 5; i++)
			CHECK_EQ(pks_env_run(&c.env, &r), 0); /* passed, never dropped; nobody drains */
	}
	sent = CTX_STAT(&c, ev_payload);
	lost = CTX_STAT(&c, lost_payload);
	CHECK(lost > 0);
	CHECK(sent > 0);
	/* The budget held: 255 copies per flow, whether sent or lost. */
	CHECK_EQ(sent + lost, 24 * PKS_COPY_CONTROL);
	/* Draining makes room again. */
	pks_engine_poll(c.eng, 0);
	ctx_close(&c);
}

/*
 * A copy holds at most PKS_SNAP_LEN bytes: a longer answer is copied cut,
 * with its whole length in the header, and counted in snap_cut; a shorter
 * one is not counted.
 */
TEST(ctx_copy_longer_than_snap_len_is_cut_and_counted)
{
	struct ctx_env c;
	struct dnsmsg m;

	CHECK(ctx_open(&c, NULL) == 0);
	dns_begin(&m, "long.test", 1);
	for (int i = 0; i < 200; i++) /* 16 bytes each: over 3,000 bytes */
		dns_a(&m, NULL, "198.18.0.9", 60);
	CHECK(m.len > PKS_SNAP_LEN);
	CHECK(send_answer(&c, &m) == 0);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 1);
	CHECK_EQ(CTX_STAT(&c, snap_cut), 1);
	dns_begin(&m, "short.test", 1);
	dns_a(&m, NULL, "198.18.0.10", 60);
	CHECK(send_answer(&c, &m) == 0);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 2);
	CHECK_EQ(CTX_STAT(&c, snap_cut), 1);
	ctx_close(&c);
}

/* n new TCP flows, one SYN each to 198.19.x.y:443, nobody reading: a flow event each. */
static void syn_flows(struct ctx_env *c, int n)
{
	for (int i = 0; i < n; i++) {
		char dst[32];
		struct pkt_spec s = PKT_TCP4("198.18.0.1", 0, dst, 443, TCPF_SYN);

		snprintf(dst, sizeof(dst), "198.19.%d.%d", (i >> 8) & 0xff, i & 0xff);
		s.sport = (uint16_t)(1024 + (i >> 16));
		CHECK_EQ(pks_env_run(&c->env, &s), 0);
	}
}

/*
 * A flood of new flows fills pks_events with their events while the engine
 * reads nothing. Copies of control channels have their own ring: a DNS
 * answer that comes then is still copied, and the engine's next read takes
 * it before the flood's events, so its name is written within one batch. A
 * first message's copy (an HTTP request) is refused by the full pks_events
 * as the flow events are, and counted.
 */
TEST(ctx_flood_of_flow_events_leaves_control_copies_first_in_line)
{
	const uint64_t rec = PKS_RB_LEN(sizeof(struct pks_event_flow));
	static const char get[] = "GET / HTTP/1.1\r\nHost: www.flood.test\r\n\r\n";
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1 };
	struct pkt_spec q = PKT_UDP4("198.18.0.1", 33333, "198.18.0.53", 53);
	struct pkt_spec r = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 33333);
	struct pkt_spec h = PKT_TCP4("198.18.0.1", 40000, "198.18.0.80", 80, TCPF_PSH | TCPF_ACK);
	int hosts_fd, polls = 1;
	struct pks_host_key hk = {};
	struct pks_flow_name n;
	struct pks_host hv;
	struct ctx_env c;
	struct dnsmsg m;
	uint64_t flows;
	long got;

	CHECK(ctx_open(&c, NULL) == 0);
	hosts_fd = bpf_map__fd(c.env.skel->maps.pks_hosts);
	/* More new flows than pks_events has room for: one SYN each, nobody reading. */
	syn_flows(&c, (int)(PKS_EVENTS_RING / rec) + 1000);
	flows = CTX_STAT(&c, ev_flow);
	CHECK(CTX_STAT(&c, lost_flow) > 0);
	/* The flow events filled the ring to the last record that fits. */
	CHECK(flows * rec <= PKS_EVENTS_RING);
	CHECK(flows * rec > PKS_EVENTS_RING - rec);
	CHECK(flows > 3 * 4096);

	/* A first message into the full ring: lost and counted, as a flow event. */
	h.payload = get;
	h.payload_len = sizeof(get) - 1;
	CHECK_EQ(pks_env_run(&c.env, &h), 0);
	CHECK_EQ(CTX_STAT(&c, lost_payload), 1);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 0);

	/* A DNS answer of about 600 bytes: copied into the control channels' ring. */
	dns_begin(&m, "www.flood.test", 1);
	for (int i = 0; i < 36; i++)
		dns_a(&m, NULL, i ? "198.19.255.1" : "198.18.0.2", 300);
	dns_end(&m);
	q.payload = query;
	q.payload_len = sizeof(query);
	r.payload = m.b;
	r.payload_len = m.len;
	CHECK_EQ(pks_env_run(&c.env, &q), 0);
	CHECK_EQ(pks_env_run(&c.env, &r), 0);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 1);
	CHECK_EQ(CTX_STAT(&c, lost_payload), 1);

	/* One read, one batch: the answer is in it, ahead of thousands of flow events. */
	ctx_addr16(0, "198.18.0.2", hk.addr);
	CHECK_EQ(pks_engine_poll(c.eng, 0), 4096);
	CHECK_EQ(bpf_map_lookup_elem(hosts_fd, &hk, &hv), 0);
	CHECK_STR(hv.name, "www.flood.test");

	/* The rest, in later reads; a later flow to the answer's address has its name. */
	do
		got = pks_engine_poll(c.eng, 0);
	while (got > 0 && ++polls < 100);
	CHECK_EQ(got, 0);
	CHECK(polls > 3);
	CHECK(connect_to(&c, 0, "198.18.0.2", 40001, &n, NULL) == 0);
	CHECK_STR(n.host, "www.flood.test");
	ctx_close(&c);
}

/*
 * The engine is in the middle of a batch of a flood's flow events when a DNS
 * answer is copied into pks_ctlevents: the answer's name is written within
 * PKS_ENGINE_CTL_EVERY (32) of the batch's events, not after the batch.
 */
struct mid_batch {
	struct ctx_env *c;
	int hosts_fd;
	struct pks_host_key hk;
	int flows;        /* flow events the engine handed over so far */
	int named_at;     /* the flow event at which the name was first there; 0: not yet */
	int sent_at;      /* the flow event after which the answer was sent */
	struct pkt_spec q, r;
	struct dnsmsg m;
};

static void mid_batch_on_flow(void *ctx, const struct pks_event_flow *ev)
{
	struct mid_batch *mb = ctx;
	struct pks_host hv;

	(void)ev;
	mb->flows++;
	if (!mb->named_at && bpf_map_lookup_elem(mb->hosts_fd, &mb->hk, &hv) == 0 && !strcmp(hv.name, "mid.flood.test"))
		mb->named_at = mb->flows;
	if (mb->flows == mb->sent_at) {
		/* The client's query, then the answer: its copy goes to pks_ctlevents while the engine reads. */
		if (pks_env_run(&mb->c->env, &mb->q) || pks_env_run(&mb->c->env, &mb->r))
			mb->sent_at = -1;
	}
}

TEST(ctx_control_copy_is_read_within_a_batch_of_flow_events)
{
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1 };
	struct pks_engine_opts eo = {};
	struct mid_batch mb = { .sent_at = 10 };
	struct ctx_env c;
	int got;

	eo.on_flow = mid_batch_on_flow;
	eo.on_flow_ctx = &mb;
	CHECK_EQ(ctx_open_opts(&c, &eo), 0);
	mb.c = &c;
	mb.hosts_fd = bpf_map__fd(c.env.skel->maps.pks_hosts);
	ctx_addr16(0, "198.18.0.2", mb.hk.addr);
	mb.q = (struct pkt_spec)PKT_UDP4("198.18.0.1", 33334, "198.18.0.53", 53);
	mb.r = (struct pkt_spec)PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 33334);
	dns_begin(&mb.m, "mid.flood.test", 1);
	dns_a(&mb.m, NULL, "198.18.0.2", 300);
	dns_end(&mb.m);
	mb.q.payload = query;
	mb.q.payload_len = sizeof(query);
	mb.r.payload = mb.m.b;
	mb.r.payload_len = mb.m.len;

	/* 1,000 new flows, nobody reading: one flow event each, all in pks_events. */
	syn_flows(&c, 1000);
	CHECK_EQ(CTX_STAT(&c, ev_flow), 1000);

	/*
	 * One read takes them all (fewer than a batch), and the DNS flow's own
	 * events, which come behind them; the answer comes after the 10th.
	 */
	got = pks_engine_poll(c.eng, 0);
	CHECK(got > 1000 && got < 1010);
	CHECK_EQ(mb.sent_at, 10);
	CHECK(mb.flows > 1000);
	CHECK_EQ(CTX_STAT(&c, ev_payload), 1);
	/* Named within 32 flow events of the answer, long before the batch's end. */
	CHECK(mb.named_at > 10);
	CHECK(mb.named_at <= 10 + 32 + 1);
	ctx_close(&c);
}

/*
 * The daemon's scan of a table under a flood takes seconds (doc/context.md,
 * "Events"); it calls the flow table's between hook as it goes, and `pktspec
 * run` reads its control ring there. A DNS answer copied before a scan is
 * named by the scan's own steps, with no poll of the engine: in the scan's
 * read and walk of the table's flows, and in its walk of the flows the table
 * no longer holds.
 */
struct scan_hook {
	struct pks_engine *eng;
	int hosts_fd;
	int calls;
	int named_at; /* the hook's call that found the name written; 0: none */
	const char *name;
	struct pks_host_key hk;
};

static void scan_between(void *ctx)
{
	struct scan_hook *h = ctx;
	struct pks_host hv;

	h->calls++;
	CHECK(pks_engine_poll_ctl(h->eng) >= 0);
	if (!h->named_at && bpf_map_lookup_elem(h->hosts_fd, &h->hk, &hv) == 0 && !strcmp(hv.name, h->name))
		h->named_at = h->calls;
}

static void scan_emit(void *ctx, const struct pks_flow_record *r)
{
	(void)ctx;
	(void)r;
}

static void scan_answer(struct ctx_env *c, struct scan_hook *h, const char *name, const char *addr, uint16_t port)
{
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1 };
	struct pkt_spec q = PKT_UDP4("198.18.0.1", port, "198.18.0.53", 53);
	struct pkt_spec r = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", port);
	struct dnsmsg m;

	dns_begin(&m, name, 1);
	dns_a(&m, NULL, addr, 300);
	dns_end(&m);
	q.payload = query;
	q.payload_len = sizeof(query);
	r.payload = m.b;
	r.payload_len = m.len;
	CHECK_EQ(pks_env_run(&c->env, &q), 0);
	CHECK_EQ(pks_env_run(&c->env, &r), 0);
	h->name = name;
	h->named_at = 0;
	h->calls = 0;
	memset(&h->hk, 0, sizeof(h->hk));
	ctx_addr16(0, addr, h->hk.addr);
}

TEST(ctx_scan_of_many_flows_reads_control_copies_as_it_goes)
{
	static const struct pks_lifecycle_opts lo = { .linger_ns = PKS_LINGER_DEFAULT };
	struct scan_hook h = {};
	struct pks_flow_set set = {};
	struct pks_lifecycle *lc = NULL;
	struct pks_flowtab t;
	struct ctx_env c;
	int reads;

	CHECK(ctx_open(&c, NULL) == 0);
	h.eng = c.eng;
	h.hosts_fd = bpf_map__fd(c.env.skel->maps.pks_hosts);
	syn_flows(&c, 1000);
	while (pks_engine_poll(c.eng, 0) > 0)
		;
	CHECK_EQ(pks_flowtab_for_skel(&t, c.env.skel, true), 0);
	t.between = scan_between;
	t.between_ctx = &h;
	CHECK_EQ(pks_lifecycle_new(&t, bpf_map__fd(c.env.skel->maps.pks_names), bpf_map__fd(c.env.skel->maps.pks_done),
				   &lo, scan_emit, NULL, &lc),
		 0);

	/*
	 * The first scan: 1,000 flows read (a look after each of the read's
	 * batches: as many as a read of the table alone makes), then walked (a
	 * look every 256), then the tracker's flows walked for those the table
	 * no longer holds (a look every 256 again).
	 */
	scan_answer(&c, &h, "first.scan.test", "198.18.0.21", 33335);
	h.calls = 0;
	CHECK_EQ(pks_flows_read(&t, &set), 0);
	pks_flows_free(&set);
	reads = h.calls;
	CHECK(reads >= 1);
	CHECK_EQ(h.named_at, 1);
	scan_answer(&c, &h, "first.scan.test", "198.18.0.23", 33337);
	CHECK_EQ(pks_lifecycle_scan(lc, c.env.clock_ns), 0);
	CHECK(h.calls >= reads + 2 * (1000 / 256));
	CHECK(h.named_at > 0);

	/*
	 * Another answer copied, then every flow leaves the table (evicted, as
	 * under a flood). The next scan reads an empty table, so the hook's
	 * only calls come from its walk of the 1,000 and more it no longer holds.
	 */
	scan_answer(&c, &h, "second.scan.test", "198.18.0.22", 33336);
	t.between = NULL;
	CHECK_EQ(pks_flows_read(&t, &set), 0);
	CHECK(set.n > 1000);
	for (size_t j = 0; j < set.n; j++)
		CHECK_EQ(pks_flowtab_del(&t, &set.recs[j].key), 0);
	pks_flows_free(&set);
	CHECK(pks_lifecycle_scan(lc, c.env.clock_ns) >= 0);
	CHECK(h.calls >= 1000 / 256);
	CHECK(h.named_at > 0);
	pks_lifecycle_free(lc);
	ctx_close(&c);
}

/*
 * The daemon's tracker reads a flow's name, and deletes its context entries,
 * only for a flow that may have them: one with a payload copy or a DNS name
 * in its last state, or one the engine says it wrote for (on_context, as
 * `pktspec run` wires it). An HTTP flow on a port that suggests nothing, which
 * the last scan saw before its request: the request's signature names it, the
 * verdict's event (its entry without a copy yet) refreshes the tracker's copy,
 * then the request is copied and the engine names the flow. Evicted before the
 * next scan: its record still has the name, and the name goes with it.
 */
struct named_end {
	struct pks_lifecycle *lc;
	int records, named;
	char host[PKS_NAME_LEN];
};

static void named_end_on_flow(void *ctx, const struct pks_event_flow *ev)
{
	struct named_end *ne = ctx;

	if (ne->lc)
		pks_lifecycle_event(ne->lc, ev);
}

static void named_end_on_context(void *ctx, const struct pks_flow_key *k)
{
	struct named_end *ne = ctx;

	if (ne->lc)
		pks_lifecycle_context(ne->lc, k);
}

static void named_end_emit(void *ctx, const struct pks_flow_record *r)
{
	struct named_end *ne = ctx;

	ne->records++;
	if (r->named) {
		ne->named++;
		snprintf(ne->host, sizeof(ne->host), "%s", r->name.host);
	}
}

TEST(ctx_flow_named_after_the_scan_ends_with_its_name)
{
	static const struct pks_lifecycle_opts lo = { .linger_ns = PKS_LINGER_DEFAULT };
	static const char get[] = "GET / HTTP/1.1\r\nHost: late.name.test\r\n\r\n";
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 41000, "198.18.0.80", 40080, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP4("198.18.0.80", 40080, "198.18.0.1", 41000, TCPF_SYN | TCPF_ACK);
	struct pkt_spec req = PKT_TCP4("198.18.0.1", 41000, "198.18.0.80", 40080, TCPF_PSH | TCPF_ACK);
	struct pks_engine_opts eo = {};
	struct named_end ne = {};
	struct pks_flow_set set = {};
	struct pks_flow_name n;
	struct pks_flowtab t;
	struct ctx_env c;
	int names_fd;

	eo.on_flow = named_end_on_flow;
	eo.on_flow_ctx = &ne;
	eo.on_context = named_end_on_context;
	eo.on_context_ctx = &ne;
	CHECK_EQ(ctx_open_opts(&c, &eo), 0);
	CHECK_EQ(pks_flowtab_for_skel(&t, c.env.skel, true), 0);
	names_fd = bpf_map__fd(c.env.skel->maps.pks_names);
	CHECK_EQ(pks_lifecycle_new(&t, names_fd, bpf_map__fd(c.env.skel->maps.pks_done), &lo, named_end_emit, &ne,
				   &ne.lc),
		 0);

	/* The handshake, then a scan: the tracker's copy has no payload copy. */
	CHECK_EQ(ctx_run(&c, &syn), 0);
	CHECK_EQ(ctx_run(&c, &synack), 0);
	CHECK_EQ(pks_lifecycle_scan(ne.lc, c.env.clock_ns), 0);

	/* The request: copied, its Host written as the flow's name. */
	req.payload = get;
	req.payload_len = sizeof(get) - 1;
	CHECK_EQ(ctx_run(&c, &req), 0);
	CHECK_EQ(pks_flows_read(&t, &set), 0);
	CHECK_EQ(set.n, 1);
	CHECK_EQ(bpf_map_lookup_elem(names_fd, &set.recs[0].key, &n), 0);
	CHECK_STR(n.host, "late.name.test");

	/* Evicted before the next scan, which ends it from what it knew. */
	CHECK_EQ(pks_flowtab_del(&t, &set.recs[0].key), 0);
	CHECK_EQ(pks_lifecycle_scan(ne.lc, c.env.clock_ns), 0);
	CHECK_EQ(ne.records, 1);
	CHECK_EQ(ne.named, 1);
	CHECK_STR(ne.host, "late.name.test");
	CHECK(bpf_map_lookup_elem(names_fd, &set.recs[0].key, &n) != 0);
	pks_flows_free(&set);
	pks_lifecycle_free(ne.lc);
	ctx_close(&c);
}

/*
 * One pks_engine_poll handles at most 4096 events and says so: `pktspec run`
 * must get back to its scans, metrics and signals while the kernel fills the
 * ring faster than the rules empty it. The events past the bound wait in the
 * ring for the next call; none is lost or read twice.
 */
TEST(ctx_engine_poll_yields_every_4096_events_and_loses_none)
{
	struct ctx_env c;
	long got, total = 0, calls = 0;
	uint64_t sent;

	CHECK(ctx_open(&c, NULL) == 0);
	/* 10,000 new UDP flows, nobody reading: one flow event each, 10,000 events of 128 bytes in the 4 MiB ring. */
	for (int f = 0; f < 10000; f++) {
		struct pkt_spec s = PKT_UDP4("198.18.0.1", 0, "198.18.0.53", 40000);

		s.sport = (uint16_t)(1024 + f);
		CHECK_EQ(pks_env_run(&c.env, &s), 0);
	}
	sent = CTX_STAT(&c, ev_flow) + CTX_STAT(&c, ev_verdict);
	CHECK(sent >= 10000);
	CHECK_EQ(CTX_STAT(&c, lost_flow), 0);
	got = pks_engine_poll(c.eng, 0);
	CHECK_EQ(got, 4096);
	do {
		total += got;
		calls++;
		got = pks_engine_poll(c.eng, 0);
		CHECK(got >= 0 && got <= 4096);
	} while (got > 0 && calls < 100);
	CHECK_EQ((uint64_t)total, sent);
	CHECK_EQ(pks_engine_stats(c.eng)->events, sent);
	CHECK_EQ(pks_engine_stats(c.eng)->flows, 10000);
	ctx_close(&c);
}
