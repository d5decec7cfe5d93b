// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The core signatures (HTTP, TLS, DNS, SSH, QUIC, and the DNS-format
 * mDNS/LLMNR port split) and the verdict machine around them, through the
 * real XDP object: a signature in one direction, confirmation by the other,
 * detection on odd ports, port guesses that payload contradicts, the client
 * fixed up from a SYN-ACK or a mid-stream message, and the decided fast path.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec/flow_key.h"

#define C4 "198.18.0.1"
#define S4 "198.18.0.2"
#define C6 "2001:db8::1"
#define S6 "2001:db8::2"

/* A conversation between a client and a server on one 5-tuple. */
struct conv {
	struct pks_env env;
	int ipv6;
	uint8_t l4;
	uint16_t cport, sport;
};

static int conv_open(struct conv *c, int ipv6, uint8_t l4, uint16_t sport)
{
	c->ipv6 = ipv6;
	c->l4 = l4;
	c->cport = 40000;
	c->sport = sport;
	return pks_env_open(&c->env);
}

static struct pkt_spec conv_spec(const struct conv *c, int from_client, uint8_t flags)
{
	struct pkt_spec s = {
		.ipv6 = c->ipv6,
		.src = from_client ? (c->ipv6 ? C6 : C4) : (c->ipv6 ? S6 : S4),
		.dst = from_client ? (c->ipv6 ? S6 : S4) : (c->ipv6 ? C6 : C4),
		.sport = from_client ? c->cport : c->sport,
		.dport = from_client ? c->sport : c->cport,
		.l4 = c->l4,
		.tcp_flags = c->l4 == 6 ? flags : 0,
	};
	return s;
}

/* Sends one packet; returns 0 when it ran and was passed. */
static int conv_send(struct conv *c, int from_client, uint8_t flags, const void *payload, size_t len)
{
	struct pkt_spec s = conv_spec(c, from_client, flags);

	s.payload = payload;
	s.payload_len = len;
	return pks_env_run(&c->env, &s);
}

#define CLI 1
#define SRV 0
#define PA (TCPF_PSH | TCPF_ACK)

static int conv_handshake(struct conv *c)
{
	if (conv_send(c, CLI, TCPF_SYN, NULL, 0) || conv_send(c, SRV, TCPF_SYN | TCPF_ACK, NULL, 0))
		return -1;
	return conv_send(c, CLI, TCPF_ACK, NULL, 0);
}

static int conv_flow(struct conv *c, struct pks_flow_view *f)
{
	struct pkt_spec s = conv_spec(c, CLI, 0);

	return pks_env_flow(&c->env, &s, f);
}

/* Whether the flow's client is the endpoint that conv calls the client. */
static int conv_client_ok(struct conv *c, const struct pks_flow_view *f)
{
	struct pkt_spec s = conv_spec(c, CLI, 0);
	struct pks_flow_key k;
	uint8_t src[16] = {}, dst[16] = {};
	int side;

	if (c->ipv6) {
		inet_pton(AF_INET6, s.src, src);
		inet_pton(AF_INET6, s.dst, dst);
	} else {
		src[10] = src[11] = dst[10] = dst[11] = 0xff;
		inet_pton(AF_INET, s.src, src + 12);
		inet_pton(AF_INET, s.dst, dst + 12);
	}
	side = pks_flow_key_fill(&k, src, s.sport, dst, s.dport, s.l4);
	return f->client == side;
}

#define CHECK_VERDICT(c, proto_, conf_, rule_)              \
	do {                                                \
		struct pks_flow_view _f;                         \
		CHECK_EQ(conv_flow((c), &_f), 0);           \
		CHECK_STR(pks_proto_name(_f.proto), pks_proto_name(proto_)); \
		CHECK_STR(pks_confidence_name(_f.confidence), pks_confidence_name(conf_)); \
		CHECK_STR(pks_rule_name(_f.rule), pks_rule_name(rule_)); \
	} while (0)

/* -- payloads, built from the specifications cited in bpf/sig/ -- */

static const char http_req[] = "GET /index.html HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n";
static const char http_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char ssh_client[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
static const char ssh_server[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

/* A TLS record carrying a hello (RFC 8446 5.1, 4.1.2/4.1.3), padded with zeros to len. */
static size_t tls_hello(uint8_t *b, size_t len, uint8_t type)
{
	memset(b, 0, len);
	b[0] = 22, b[1] = 3, b[2] = 1;         /* handshake, legacy_record_version 0x0301 */
	b[3] = (len - 5) >> 8, b[4] = (len - 5) & 0xff;
	b[5] = type;                           /* 1 ClientHello, 2 ServerHello */
	b[6] = 0, b[7] = (len - 9) >> 8, b[8] = (len - 9) & 0xff;
	b[9] = 3, b[10] = 3;                   /* legacy_version TLS 1.2 */
	for (int i = 0; i < 32; i++)
		b[11 + i] = (uint8_t)(i * 37 + 11); /* random */
	b[43] = 32;                            /* legacy_session_id length */
	return len;
}

/* A DNS message (RFC 1035 4.1) for example.test IN A; tcp adds the length prefix. */
static size_t dns_msg(uint8_t *b, uint16_t id, int response, int tcp)
{
	static const uint8_t q[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
	static const uint8_t an[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 9 };
	size_t off = tcp ? 2 : 0, n;

	memset(b, 0, 128);
	b[off + 0] = id >> 8, b[off + 1] = id & 0xff;
	b[off + 2] = response ? 0x81 : 0x01; /* QR, RD */
	b[off + 3] = response ? 0x80 : 0x00; /* RA */
	b[off + 5] = 1;                      /* QDCOUNT */
	b[off + 7] = response ? 1 : 0;       /* ANCOUNT */
	memcpy(b + off + 12, q, sizeof(q));
	n = 12 + sizeof(q);
	if (response) {
		memcpy(b + off + n, an, sizeof(an));
		n += sizeof(an);
	}
	if (tcp) {
		b[0] = n >> 8, b[1] = n & 0xff;
		n += 2;
	}
	return n;
}

/* A QUIC long-header Initial (RFC 9000 17.2.2) of `version`, padded to len. */
static size_t quic_initial(uint8_t *b, size_t len, uint32_t version, uint8_t first)
{
	memset(b, 0, len);
	b[0] = first;
	b[1] = version >> 24, b[2] = version >> 16, b[3] = version >> 8, b[4] = version;
	b[5] = 8; /* DCID length */
	for (int i = 0; i < 8; i++)
		b[6 + i] = (uint8_t)(0xa0 + i);
	b[14] = 0; /* SCID length */
	b[15] = 0; /* token length */
	b[16] = 0x44, b[17] = 0xc8; /* length (varint), then protected bytes */
	for (size_t i = 18; i < len; i++)
		b[i] = (uint8_t)(i * 131 + 7);
	return len;
}

/* Bytes from a fixed-seed generator: arbitrary, but the same on every run. */
static void random_bytes(uint8_t *b, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* -- HTTP -- */

static void http_exchange(int ipv6, uint16_t port)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, ipv6, 6, port) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_R_HTTP_REQUEST);
	CHECK_EQ(conv_send(&c, SRV, PA, http_resp, sizeof(http_resp) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_CONFIRMED, PKS_R_HTTP_RESPONSE);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(f.flags & PKS_F_DECIDED);
	CHECK(conv_client_ok(&c, &f));
	CHECK_EQ(f.packets[PKS_DIR_C2S], 3);
	CHECK_EQ(f.packets[PKS_DIR_S2C], 2);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_INSPECTED), 2);
	/* Decided: the rest of the connection takes the fast path. */
	CHECK_EQ(conv_send(&c, CLI, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_EQ(conv_send(&c, SRV, TCPF_FIN | TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_DECIDED), 2);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_INSPECTED), 2);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_CONFIRMED, PKS_R_HTTP_RESPONSE);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(f.flags & PKS_F_FIN);
	pks_env_close(&c.env);
}

TEST(sig_http_request_then_response_confirms)
{
	http_exchange(0, 80);
}

TEST(sig_http_ipv6)
{
	http_exchange(1, 80);
}

TEST(sig_http_on_odd_port_8081)
{
	http_exchange(0, 8081);
}

TEST(sig_http_methods_and_forms)
{
	static const char *const reqs[] = {
		"POST /api HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n", "OPTIONS * HTTP/1.1\r\n",
		"GET http://example.test/ HTTP/1.1\r\n", "PROPFIND /dav/ HTTP/1.1\r\n", "DELETE /x HTTP/1.1\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct conv c;

		CHECK(conv_open(&c, 0, 6, 8081) == 0);
		CHECK_EQ(conv_handshake(&c), 0);
		CHECK_EQ(conv_send(&c, CLI, PA, reqs[i], strlen(reqs[i])), 0);
		CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_R_HTTP_REQUEST);
		pks_env_close(&c.env);
	}
}

TEST(sig_http_connect_is_proxy)
{
	static const char req[] = "CONNECT example.test:443 HTTP/1.1\r\n\r\n";
	struct conv c;

	CHECK(conv_open(&c, 0, 6, 3128) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, req, sizeof(req) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_HTTP_PROXY, PKS_C_SIGNATURE, PKS_R_HTTP_REQUEST);
	pks_env_close(&c.env);
}

/* Near misses: a lower-case method, no space, a target that is not one. */
TEST(sig_http_near_misses_stay_unknown)
{
	static const char *const reqs[] = { "get / HTTP/1.1\r\n", "GET/ HTTP/1.1\r\n", "GET x HTTP/1.1\r\n",
					    "HTTP/2.0 200 OK\r\n\r\n", "GETS / HTTP/1.1\r\n" };

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct conv c;

		CHECK(conv_open(&c, 0, 6, 8081) == 0);
		CHECK_EQ(conv_handshake(&c), 0);
		CHECK_EQ(conv_send(&c, CLI, PA, reqs[i], strlen(reqs[i])), 0);
		CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
		pks_env_close(&c.env);
	}
}

/* Random bytes on a well-known port contradict its guess (one case per port). */
static void port_contradicted(uint8_t l4, uint16_t port, int ipv6, unsigned int seed)
{
	struct conv c;
	uint8_t junk[200];
	struct pks_flow_view f;

	random_bytes(junk, sizeof(junk), seed);
	CHECK(conv_open(&c, ipv6, l4, port) == 0);
	if (l4 == 6) {
		CHECK_EQ(conv_handshake(&c), 0);
		CHECK_EQ(conv_flow(&c, &f), 0);
		CHECK_EQ(f.confidence, PKS_C_PORT);
	}
	CHECK_EQ(conv_send(&c, CLI, PA, junk, sizeof(junk)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	/* More junk in both directions never names a protocol. */
	for (unsigned int i = 0; i < 5; i++) {
		random_bytes(junk, sizeof(junk), seed + 1 + i);
		CHECK_EQ(conv_send(&c, SRV, PA, junk, sizeof(junk)), 0);
		CHECK_EQ(conv_send(&c, CLI, PA, junk, sizeof(junk)), 0);
	}
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	/* The inspection budget is spent: decided, the fast path from here. */
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(f.flags & PKS_F_DECIDED);
	CHECK_EQ(f.inspected[0], PKS_INSPECT_MAX);
	CHECK_EQ(f.inspected[1], PKS_INSPECT_MAX);
	CHECK(pks_env_reason(&c.env, PKS_REASON_DECIDED) >= 1);
	pks_env_close(&c.env);
}

TEST(sig_random_bytes_on_80_contradict_http)
{
	port_contradicted(6, 80, 0, 1);
}

TEST(sig_random_bytes_on_443_contradict_tls)
{
	port_contradicted(6, 443, 1, 2);
}

TEST(sig_random_bytes_on_tcp_53_contradict_dns)
{
	port_contradicted(6, 53, 0, 3);
}

TEST(sig_random_bytes_on_udp_53_contradict_dns)
{
	port_contradicted(17, 53, 0, 4);
}

TEST(sig_random_bytes_on_udp_443_contradict_quic)
{
	port_contradicted(17, 443, 1, 5);
}

TEST(sig_random_bytes_on_22_contradict_ssh)
{
	port_contradicted(6, 22, 0, 6);
}

/* Random bytes on a port nothing is guessed for stay unknown, no rule. */
TEST(sig_random_bytes_on_random_ports_stay_unknown)
{
	for (unsigned int seed = 10; seed < 40; seed++) {
		struct conv c;
		uint8_t junk[1300];
		struct pks_flow_view f;
		uint8_t l4 = seed & 1 ? 17 : 6;

		CHECK(conv_open(&c, seed & 2, l4, (uint16_t)(20000 + seed * 7)) == 0);
		for (int i = 0; i < 6; i++) {
			random_bytes(junk, sizeof(junk), seed * 100 + i);
			CHECK_EQ(conv_send(&c, i & 1 ? SRV : CLI, PA, junk, sizeof(junk)), 0);
		}
		CHECK_EQ(conv_flow(&c, &f), 0);
		if (f.proto != PKS_P_UNKNOWN || f.confidence != PKS_C_NONE) {
			pks_test_fail(__FILE__, __LINE__, "seed %u: %s/%s from random bytes", seed,
				      pks_proto_name(f.proto), pks_confidence_name(f.confidence));
			return;
		}
		pks_env_close(&c.env);
	}
}

/* -- TLS -- */

static void tls_exchange(int ipv6, uint16_t port)
{
	struct conv c;
	uint8_t b[512];

	CHECK(conv_open(&c, ipv6, 6, port) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, tls_hello(b, 300, 1)), 0);
	CHECK_VERDICT(&c, PKS_P_TLS, PKS_C_SIGNATURE, PKS_R_TLS_CLIENT_HELLO);
	CHECK_EQ(conv_send(&c, SRV, PA, b, tls_hello(b, 122, 2)), 0);
	CHECK_VERDICT(&c, PKS_P_TLS, PKS_C_CONFIRMED, PKS_R_TLS_SERVER_HELLO);
	pks_env_close(&c.env);
}

TEST(sig_tls_client_then_server_hello_confirms)
{
	tls_exchange(0, 443);
}

TEST(sig_tls_ipv6_on_odd_port)
{
	tls_exchange(1, 4433);
}

/*
 * A flow picked up midstream shows application data records: one that fits
 * the packet is TLS; the same five header bytes with a length that does not
 * fit (and no record header after it) are not.
 */
TEST(sig_tls_midstream_application_data_record)
{
	struct conv c;
	uint8_t b[300];

	random_bytes(b, sizeof(b), 77);
	b[0] = 23, b[1] = 3, b[2] = 3;
	b[3] = (sizeof(b) - 5) >> 8, b[4] = (sizeof(b) - 5) & 0xff;
	CHECK(conv_open(&c, 0, 6, 4433) == 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, sizeof(b)), 0);
	CHECK_VERDICT(&c, PKS_P_TLS, PKS_C_SIGNATURE, PKS_R_TLS_RECORD);
	pks_env_close(&c.env);
}

TEST(sig_tls_record_that_does_not_fit_is_not_tls)
{
	struct conv c;
	uint8_t b[300];

	random_bytes(b, sizeof(b), 78);
	b[0] = 23, b[1] = 3, b[2] = 3;
	b[3] = 0, b[4] = 20; /* ends at 25, where no record header follows */
	b[25] = 0xff;
	CHECK(conv_open(&c, 0, 6, 4433) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, sizeof(b)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);
}

/*
 * A record header whose record runs past a short packet: real TLS cut to a few
 * bytes per packet looks like this, and it is no evidence. The same header in
 * a full-sized segment is a record continued in the next one.
 */
TEST(sig_tls_record_running_past_a_short_packet_is_not_tls)
{
	struct conv c;
	uint8_t b[600];

	random_bytes(b, sizeof(b), 79);
	b[0] = 23, b[1] = 3, b[2] = 3;
	b[3] = 0x10, b[4] = 0x00; /* 4096 bytes: runs past both packets below */
	CHECK(conv_open(&c, 0, 6, 4433) == 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, 8), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);

	CHECK(conv_open(&c, 0, 6, 4433) == 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, sizeof(b)), 0);
	CHECK_VERDICT(&c, PKS_P_TLS, PKS_C_SIGNATURE, PKS_R_TLS_RECORD);
	pks_env_close(&c.env);
}

/* A ServerHello from the client's side is not evidence of TLS. */
TEST(sig_tls_server_hello_from_client_ignored)
{
	struct conv c;
	uint8_t b[200];

	CHECK(conv_open(&c, 0, 6, 4433) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, tls_hello(b, 122, 2)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);
}

/* -- DNS over UDP and TCP -- */

static void dns_exchange(int ipv6, uint8_t l4, uint16_t port, uint16_t qid, uint16_t rid, int confirm)
{
	struct conv c;
	uint8_t b[128];
	struct pks_flow_view f;

	CHECK(conv_open(&c, ipv6, l4, port) == 0);
	if (l4 == 6)
		CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, dns_msg(b, qid, 0, l4 == 6)), 0);
	CHECK_VERDICT(&c, PKS_P_DNS, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK_EQ(f.cookie & 0xffff, qid);
	CHECK_EQ(conv_send(&c, SRV, PA, b, dns_msg(b, rid, 1, l4 == 6)), 0);
	if (confirm) {
		CHECK_VERDICT(&c, PKS_P_DNS, PKS_C_CONFIRMED, PKS_R_DNS_RESPONSE);
	} else {
		CHECK_VERDICT(&c, PKS_P_DNS, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
		CHECK_EQ(conv_flow(&c, &f), 0);
		CHECK(!(f.flags & PKS_F_DECIDED));
		/* The reply to the query that was seen still confirms. */
		CHECK_EQ(conv_send(&c, SRV, PA, b, dns_msg(b, qid, 1, l4 == 6)), 0);
		CHECK_VERDICT(&c, PKS_P_DNS, PKS_C_CONFIRMED, PKS_R_DNS_RESPONSE);
	}
	pks_env_close(&c.env);
}

TEST(sig_dns_udp_id_match_confirms)
{
	dns_exchange(0, 17, 53, 0x1234, 0x1234, 1);
}

TEST(sig_dns_udp_id_mismatch_does_not_confirm)
{
	dns_exchange(0, 17, 53, 0x1234, 0x4321, 0);
}

TEST(sig_dns_tcp_id_match_confirms)
{
	dns_exchange(1, 6, 53, 0xbeef, 0xbeef, 1);
}

TEST(sig_dns_tcp_id_mismatch_does_not_confirm)
{
	dns_exchange(0, 6, 53, 0xbeef, 0xbeee, 0);
}

TEST(sig_dns_on_odd_port_5300)
{
	dns_exchange(1, 17, 5300, 7, 7, 1);
}

/* The same message format: the port separates DNS, mDNS (RFC 6762) and LLMNR (RFC 4795). */
static void dns_format_on_port(uint16_t port, enum pks_proto want)
{
	struct conv c;
	uint8_t b[128];

	CHECK(conv_open(&c, 0, 17, port) == 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, dns_msg(b, 0, 0, 0)), 0);
	CHECK_VERDICT(&c, want, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	pks_env_close(&c.env);
}

TEST(sig_dns_format_on_5353_is_mdns)
{
	dns_format_on_port(5353, PKS_P_MDNS);
}

TEST(sig_dns_format_on_5355_is_llmnr)
{
	dns_format_on_port(5355, PKS_P_LLMNR);
}

TEST(sig_dns_format_on_137_is_netbios)
{
	dns_format_on_port(137, PKS_P_NETBIOS);
}

TEST(sig_dns_format_on_53_is_dns)
{
	dns_format_on_port(53, PKS_P_DNS);
}

/* -- SSH -- */

static void ssh_exchange(int ipv6, uint16_t port, int server_first)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, ipv6, 6, port) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	if (server_first)
		CHECK_EQ(conv_send(&c, SRV, PA, ssh_server, sizeof(ssh_server) - 1), 0);
	else
		CHECK_EQ(conv_send(&c, CLI, PA, ssh_client, sizeof(ssh_client) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_SSH, PKS_C_SIGNATURE, PKS_R_SSH_BANNER);
	if (server_first)
		CHECK_EQ(conv_send(&c, CLI, PA, ssh_client, sizeof(ssh_client) - 1), 0);
	else
		CHECK_EQ(conv_send(&c, SRV, PA, ssh_server, sizeof(ssh_server) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_SSH, PKS_C_CONFIRMED, PKS_R_SSH_BANNER);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	pks_env_close(&c.env);
}

TEST(sig_ssh_client_banner_then_server_confirms)
{
	ssh_exchange(0, 22, 0);
}

TEST(sig_ssh_server_banner_then_client_confirms)
{
	ssh_exchange(1, 22, 1);
}

TEST(sig_ssh_on_odd_port_2222)
{
	ssh_exchange(0, 2222, 1);
}

/* "SSH-1.5-" is SSH 1 only: not a version pktspec names (RFC 4253 5.1). */
TEST(sig_ssh_version_1_5_is_not_ssh)
{
	static const char b[] = "SSH-1.5-old\r\n";
	struct conv c;

	CHECK(conv_open(&c, 0, 6, 2222) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, b, sizeof(b) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);
}

/*
 * The window the signatures read is the payload's first bytes, every one of
 * them up to 64 and none past the payload: pks_hook_window copies eight at
 * a time and the last few one by one. SSH needs 9 bytes ("SSH-1.99-"), so
 * each payload length from 9 to 72 must name it, and 8 bytes must not, even
 * when the frame goes on with bytes that would complete the banner
 * (Ethernet padding, which the IP length leaves out of the payload).
 */
static int ssh_window_case(struct pks_env *env, uint16_t sport, const char *pay, size_t n, size_t pad,
			   struct pks_flow_view *f)
{
	struct pkt_spec s = PKT_TCP4("198.18.0.1", sport, "198.18.0.2", 2222, TCPF_PSH | TCPF_ACK);
	uint8_t frame[256];
	size_t len;

	s.payload = pay;
	s.payload_len = n;
	len = pkt_build(&s, frame, sizeof(frame) - pad);
	if (len == 0)
		return -1;
	memset(frame + len, '-', pad);
	if (pks_env_run_raw(env, frame, len + pad))
		return -1;
	return pks_env_flow(env, &s, f);
}

TEST(sig_window_is_the_payload_every_length)
{
	char pay[80];
	struct pks_env env;
	struct pks_flow_view f;

	memset(pay, 'x', sizeof(pay));
	memcpy(pay, "SSH-1.99-", 9);
	CHECK(pks_env_open(&env) == 0);
	for (size_t n = 9; n <= 72; n++) {
		for (size_t pad = 0; pad <= 16; pad += 16) {
			CHECK_EQ(ssh_window_case(&env, (uint16_t)(20000 + n * 2 + pad / 16), pay, n, pad, &f), 0);
			CHECK_EQ(f.proto, PKS_P_SSH);
			CHECK_EQ(f.rule, PKS_R_SSH_BANNER);
		}
	}
	/* Eight bytes, the ninth ('-') only in the frame's padding: not SSH. */
	CHECK_EQ(ssh_window_case(&env, 30000, pay, 8, 16, &f), 0);
	CHECK(f.proto != PKS_P_SSH);
	CHECK(f.rule != PKS_R_SSH_BANNER);
	CHECK_EQ(ssh_window_case(&env, 30001, pay, 8, 0, &f), 0);
	CHECK(f.rule != PKS_R_SSH_BANNER);
	pks_env_close(&env);
}

/* -- QUIC -- */

static void quic_exchange(int ipv6, uint16_t port, uint32_t version, uint8_t first, uint8_t server_first)
{
	struct conv c;
	uint8_t b[1400];

	CHECK(conv_open(&c, ipv6, 17, port) == 0);
	CHECK_EQ(conv_send(&c, CLI, 0, b, quic_initial(b, 1250, version, first)), 0);
	CHECK_VERDICT(&c, PKS_P_QUIC, PKS_C_SIGNATURE, PKS_R_QUIC_INITIAL);
	CHECK_EQ(conv_send(&c, SRV, 0, b, quic_initial(b, 1200, version, server_first)), 0);
	CHECK_VERDICT(&c, PKS_P_QUIC, PKS_C_CONFIRMED, PKS_R_QUIC_SERVER);
	pks_env_close(&c.env);
}

TEST(sig_quic_v1_initial_then_server_confirms)
{
	quic_exchange(0, 443, 0x00000001, 0xc3, 0xc0);
}

/* v2 Initial is long-packet type 0b01 (RFC 9369 3.2). */
TEST(sig_quic_v2_initial_then_server_confirms)
{
	quic_exchange(1, 443, 0x6b3343cf, 0xd3, 0xd0);
}

TEST(sig_quic_v1_on_odd_port)
{
	quic_exchange(0, 4443, 0x00000001, 0xc3, 0xe0 /* v1 Handshake */);
}

/* A v1 Initial type byte with the v2 version is not an Initial. */
TEST(sig_quic_v2_with_v1_type_bits_rejected)
{
	struct conv c;
	uint8_t b[1400];

	CHECK(conv_open(&c, 0, 17, 4443) == 0);
	CHECK_EQ(conv_send(&c, CLI, 0, b, quic_initial(b, 1250, 0x6b3343cf, 0xc3)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);
}

/* An Initial in a datagram under 1200 bytes breaks RFC 9000 14.1: on 443 it contradicts QUIC. */
TEST(sig_quic_too_short_initial_rejected)
{
	struct conv c;
	uint8_t b[1400];

	CHECK(conv_open(&c, 0, 17, 443) == 0);
	CHECK_EQ(conv_send(&c, CLI, 0, b, quic_initial(b, 1199, 1, 0xc3)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	pks_env_close(&c.env);
}

TEST(sig_quic_unknown_version_rejected)
{
	struct conv c;
	uint8_t b[1400];

	CHECK(conv_open(&c, 1, 17, 4443) == 0);
	CHECK_EQ(conv_send(&c, CLI, 0, b, quic_initial(b, 1250, 0x12345678, 0xc3)), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&c.env);
}

/* A server long header of another version than the client's does not confirm. */
TEST(sig_quic_server_other_version_does_not_confirm)
{
	struct conv c;
	uint8_t b[1400];

	CHECK(conv_open(&c, 0, 17, 443) == 0);
	CHECK_EQ(conv_send(&c, CLI, 0, b, quic_initial(b, 1250, 1, 0xc3)), 0);
	CHECK_EQ(conv_send(&c, SRV, 0, b, quic_initial(b, 1200, 0x6b3343cf, 0xd0)), 0);
	CHECK_VERDICT(&c, PKS_P_QUIC, PKS_C_SIGNATURE, PKS_R_QUIC_INITIAL);
	pks_env_close(&c.env);
}

/* -- who is the client -- */

/*
 * The capture starts mid-connection with the server's response on a port
 * nothing is guessed for: the first sender is taken for the client until the
 * response says otherwise, then the flow is flipped, counters included.
 */
TEST(sig_midstream_response_flips_client)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, 0, 6, 8081) == 0);
	CHECK_EQ(conv_send(&c, SRV, TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(f.flags & PKS_F_MIDSTREAM);
	CHECK(!conv_client_ok(&c, &f)); /* the guess: the first sender */
	CHECK_EQ(conv_send(&c, SRV, PA, http_resp, sizeof(http_resp) - 1), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	CHECK(!(f.flags & PKS_F_MIDSTREAM));
	CHECK_EQ(f.packets[PKS_DIR_S2C], 2);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 0);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_R_HTTP_RESPONSE);
	CHECK_EQ(conv_send(&c, CLI, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_CONFIRMED, PKS_R_HTTP_REQUEST);
	pks_env_close(&c.env);
}

/* Mid-stream from the server of a well-known port: the port names the client at once. */
TEST(sig_midstream_server_port_names_client)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, 1, 6, 443) == 0);
	CHECK_EQ(conv_send(&c, SRV, TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	CHECK_EQ(f.proto, PKS_P_TLS);
	CHECK_EQ(f.confidence, PKS_C_PORT);
	CHECK_EQ(f.packets[PKS_DIR_S2C], 1);
	pks_env_close(&c.env);
}

/* The SYN was missed; the SYN-ACK names the server. */
TEST(sig_synack_first_names_server)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, 0, 6, 8081) == 0);
	CHECK_EQ(conv_send(&c, SRV, TCPF_SYN | TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	CHECK(f.flags & PKS_F_SYN);
	CHECK(!(f.flags & PKS_F_MIDSTREAM));
	CHECK_EQ(f.packets[PKS_DIR_S2C], 1);
	pks_env_close(&c.env);
}

/* A mid-stream guess that a later SYN-ACK (a retransmission) proves backwards. */
TEST(sig_synack_fixes_midstream_guess)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, 1, 6, 8081) == 0);
	CHECK_EQ(conv_send(&c, SRV, TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(!conv_client_ok(&c, &f));
	CHECK_EQ(conv_send(&c, SRV, TCPF_SYN | TCPF_ACK, NULL, 0), 0);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	CHECK(f.flags & PKS_F_SYN);
	CHECK(!(f.flags & PKS_F_MIDSTREAM));
	CHECK_EQ(f.packets[PKS_DIR_S2C], 2);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 0);
	pks_env_close(&c.env);
}

/* With the handshake seen, a request from the server side is not evidence. */
TEST(sig_request_from_server_after_handshake_ignored)
{
	struct conv c;
	struct pks_flow_view f;

	CHECK(conv_open(&c, 0, 6, 8081) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, SRV, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK(conv_client_ok(&c, &f));
	pks_env_close(&c.env);
}

/* A signature verdict is not replaced by another protocol's later match. */
TEST(sig_first_signature_kept)
{
	struct conv c;

	CHECK(conv_open(&c, 0, 6, 8081) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	CHECK_EQ(conv_send(&c, CLI, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_EQ(conv_send(&c, SRV, PA, ssh_server, sizeof(ssh_server) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_R_HTTP_REQUEST);
	pks_env_close(&c.env);
}

/* Payload after the inspection window (the 5th packet of a direction) is not read. */
TEST(sig_inspection_window_bounded)
{
	struct conv c;
	uint8_t junk[64];
	struct pks_flow_view f;

	CHECK(conv_open(&c, 0, 6, 8081) == 0);
	CHECK_EQ(conv_handshake(&c), 0);
	for (int i = 0; i < PKS_INSPECT_MAX; i++) {
		random_bytes(junk, sizeof(junk), 100 + i);
		CHECK_EQ(conv_send(&c, CLI, PA, junk, sizeof(junk)), 0);
	}
	CHECK_EQ(conv_send(&c, CLI, PA, http_req, sizeof(http_req) - 1), 0);
	CHECK_VERDICT(&c, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	CHECK_EQ(conv_flow(&c, &f), 0);
	CHECK_EQ(f.inspected[PKS_DIR_C2S], PKS_INSPECT_MAX);
	pks_env_close(&c.env);
}
