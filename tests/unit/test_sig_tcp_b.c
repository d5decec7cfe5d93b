// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Signatures of the TCP database/messaging/management group (their rows in
 * bpf/sig/signatures.def) through the real XDP object: each protocol's opening message
 * and its answer, on a port that is not the protocol's (detection must not
 * depend on it), reach `confirmed` with the rule of the answer; random bytes
 * and near misses on the protocols' own ports never reach `signature`.
 *
 * Loading the object costs the verifier tens of seconds on a busy machine, so
 * each TEST runs many flows in one environment, one client port per flow.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"
#include "msg.h"

#define CLI "198.18.0.1"
#define SRV "198.18.0.2"

/* Runs SYN, then the client's payload, then (if any) the server's; returns the flow. */
static int exchange(struct pks_env *env, uint16_t cport, uint16_t sport, const struct msg *c, const struct msg *s,
		    struct pks_flow_view *f)
{
	struct pkt_spec syn = PKT_TCP4(CLI, cport, SRV, sport, TCPF_SYN);
	struct pkt_spec cs = PKT_TCP4(CLI, cport, SRV, sport, TCPF_PSH | TCPF_ACK);
	struct pkt_spec sc = PKT_TCP4(SRV, sport, CLI, cport, TCPF_PSH | TCPF_ACK);

	if (pks_env_run(env, &syn))
		return -1;
	if (c && c->n) {
		cs.payload = c->b, cs.payload_len = c->n;
		if (pks_env_run(env, &cs))
			return -1;
	}
	if (s && s->n) {
		sc.payload = s->b, sc.payload_len = s->n;
		if (pks_env_run(env, &sc))
			return -1;
	}
	return pks_env_flow(env, &syn, f);
}

/* --- Spec-built messages --- */

static void pg_startup(struct msg *m)
{
	static const char params[] = "user\0postgres\0database\0postgres\0";

	be32(m, 4 + 4 + sizeof(params)); /* sizeof counts the list's final NUL */
	be32(m, 0x00030000);
	put(m, params, sizeof(params));
}

static void mysql_greeting(struct msg *m)
{
	struct msg p = { 0 };
	static const uint8_t auth[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, zeros[10] = { 0 };

	put8(&p, 10);
	str(&p, "10.11.6-MariaDB-0+deb12u1");
	put8(&p, 0);
	le32(&p, 42);                       /* connection id */
	put(&p, auth, 8);                    /* auth-plugin-data-part-1 */
	put8(&p, 0);                         /* filler */
	put8(&p, 0xfe), put8(&p, 0xf7);      /* capabilities, CLIENT_PROTOCOL_41 set */
	put8(&p, 0x2d);                      /* character set */
	put8(&p, 0x02), put8(&p, 0x00);      /* status */
	put8(&p, 0xff), put8(&p, 0x81);      /* upper capabilities */
	put8(&p, 21);                        /* auth data length */
	put(&p, zeros, 10);                  /* reserved */
	str(&p, "abcdefghijkl");
	put8(&p, 0);
	str(&p, "mysql_native_password");
	put8(&p, 0);
	put8(m, p.n & 0xff), put8(m, p.n >> 8), put8(m, 0), put8(m, 0);
	put(m, p.b, p.n);
}

static void mysql_login(struct msg *m)
{
	static const uint8_t filler[23] = { 0 };
	struct msg p = { 0 };

	le32(&p, 0x000fa685); /* CLIENT_PROTOCOL_41 | ... */
	le32(&p, 16777216);
	put8(&p, 0x21);
	put(&p, filler, sizeof(filler));
	str(&p, "root");
	put8(&p, 0);
	put8(&p, 0);
	put8(m, p.n & 0xff), put8(m, p.n >> 8), put8(m, 0), put8(m, 1);
	put(m, p.b, p.n);
}

static void tds_prelogin(struct msg *m, uint8_t type)
{
	/* VERSION, ENCRYPTION, INSTOPT, THREADID, MARS, terminator ([MS-TDS] 2.2.6.5). */
	static const uint8_t opts[] = { 0x00, 0x00, 0x1a, 0x00, 0x06, 0x01, 0x00, 0x20, 0x00, 0x01,
					0x02, 0x00, 0x21, 0x00, 0x01, 0x03, 0x00, 0x22, 0x00, 0x04,
					0x04, 0x00, 0x26, 0x00, 0x01, 0xff };
	static const uint8_t data[] = { 0x0f, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x02, 0x00, 0, 0, 0, 0, 0x00 };

	put8(m, type), put8(m, 0x01);
	be16(m, 8 + sizeof(opts) + sizeof(data));
	be16(m, 0), put8(m, 1), put8(m, 0);
	put(m, opts, sizeof(opts));
	put(m, data, sizeof(data));
}

static void kafka_api_versions(struct msg *m, uint16_t key)
{
	struct msg p = { 0 };

	be16(&p, key), be16(&p, 3), be32(&p, 7);
	be16(&p, 7), str(&p, "rdkafka");
	put8(&p, 0);
	put8(&p, 0x12), str(&p, "librdkafka-2.3.0");
	be32(m, p.n);
	put(m, p.b, p.n);
}

static void kafka_response(struct msg *m, uint32_t corr)
{
	be32(m, 10), be32(m, corr), be16(m, 0), be32(m, 0);
}

/* A Kerberos message: prefix, [APPLICATION app] SEQUENCE { [c0] 5, [c0+1] type, [4] filler }. */
static void krb(struct msg *m, uint8_t app, uint8_t c0, uint8_t type)
{
	static const uint8_t filler[] = { 0xa4, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00 };
	uint8_t seq_len = 5 + 5 + sizeof(filler);

	be32(m, 2 + 2 + seq_len);
	put8(m, app), put8(m, 2 + seq_len);
	put8(m, 0x30), put8(m, seq_len);
	put8(m, c0), put8(m, 3), put8(m, 2), put8(m, 1), put8(m, 5);
	put8(m, c0 + 1), put8(m, 3), put8(m, 2), put8(m, 1), put8(m, type);
	put(m, filler, sizeof(filler));
}

static void zabbix(struct msg *m, const char *data)
{
	str(m, "ZBXD");
	put8(m, 1);
	le32(m, strlen(data));
	le32(m, 0);
	str(m, data);
}

static void mqtt_connect(struct msg *m, uint8_t level)
{
	put8(m, 0x10), put8(m, 16);
	be16(m, 4), str(m, "MQTT");
	put8(m, level), put8(m, 0x02), be16(m, 60);
	be16(m, 4), str(m, "test");
}

static void bgp_open(struct msg *m, uint16_t as)
{
	for (int i = 0; i < 16; i++)
		put8(m, 0xff);
	be16(m, 29), put8(m, 1);
	put8(m, 4), be16(m, as), be16(m, 180), be32(m, 0xc6120001 + as), put8(m, 0);
}

static void amqp_start(struct msg *m)
{
	put8(m, 1), be16(m, 0), be32(m, 28);
	be16(m, 10), be16(m, 10), put8(m, 0), put8(m, 9);
	be32(m, 0);
	be32(m, 5), str(m, "PLAIN");
	be32(m, 5), str(m, "en_US");
	put8(m, 0xce);
}

struct pair {
	const char *name;
	int proto, rule;
	struct msg c, s;
};

TEST(tcp_b_confirmed_on_any_port)
{
	static struct pair t[16];
	struct pks_env env;
	int n = 0;

	memset(t, 0, sizeof(t));
	t[n].name = "postgresql", t[n].proto = PKS_P_POSTGRESQL, t[n].rule = PKS_R_PGSQL_AUTH;
	pg_startup(&t[n].c), put8(&t[n].s, 'R'), be32(&t[n].s, 8), be32(&t[n].s, 0), n++;
	t[n].name = "postgresql-md5", t[n].proto = PKS_P_POSTGRESQL, t[n].rule = PKS_R_PGSQL_AUTH;
	pg_startup(&t[n].c), put8(&t[n].s, 'R'), be32(&t[n].s, 12), be32(&t[n].s, 5), be32(&t[n].s, 0x01020304), n++;
	/* MySQL: the server speaks first, so its greeting is the "server" message sent before the client's. */
	t[n].name = "mysql", t[n].proto = PKS_P_MYSQL, t[n].rule = PKS_R_MYSQL_LOGIN;
	mysql_greeting(&t[n].s), mysql_login(&t[n].c), n++;
	t[n].name = "mssql", t[n].proto = PKS_P_MSSQL, t[n].rule = PKS_R_MSSQL_RESPONSE;
	tds_prelogin(&t[n].c, 0x12), tds_prelogin(&t[n].s, 0x04), n++;
	t[n].name = "kafka", t[n].proto = PKS_P_KAFKA, t[n].rule = PKS_R_KAFKA_RESPONSE;
	kafka_api_versions(&t[n].c, 18), kafka_response(&t[n].s, 7), n++;
	t[n].name = "kerberos-as", t[n].proto = PKS_P_KERBEROS, t[n].rule = PKS_R_KERBEROS_REPLY;
	krb(&t[n].c, 0x6a, 0xa1, 10), krb(&t[n].s, 0x6b, 0xa0, 11), n++;
	t[n].name = "kerberos-error", t[n].proto = PKS_P_KERBEROS, t[n].rule = PKS_R_KERBEROS_REPLY;
	krb(&t[n].c, 0x6c, 0xa1, 12), krb(&t[n].s, 0x7e, 0xa0, 30), n++;
	t[n].name = "zabbix", t[n].proto = PKS_P_ZABBIX, t[n].rule = PKS_R_ZABBIX_HEADER;
	zabbix(&t[n].c, "agent.ping"), zabbix(&t[n].s, "1"), n++;
	t[n].name = "mqtt", t[n].proto = PKS_P_MQTT, t[n].rule = PKS_R_MQTT_CONNACK;
	mqtt_connect(&t[n].c, 4), put8(&t[n].s, 0x20), put8(&t[n].s, 2), put8(&t[n].s, 0), put8(&t[n].s, 0), n++;
	t[n].name = "bgp", t[n].proto = PKS_P_BGP, t[n].rule = PKS_R_BGP_OPEN;
	bgp_open(&t[n].c, 65001), bgp_open(&t[n].s, 65002), n++;
	t[n].name = "amqp", t[n].proto = PKS_P_AMQP, t[n].rule = PKS_R_AMQP_START;
	str(&t[n].c, "AMQP"), put8(&t[n].c, 0), put8(&t[n].c, 0), put8(&t[n].c, 9), put8(&t[n].c, 1);
	amqp_start(&t[n].s), n++;
	t[n].name = "nats", t[n].proto = PKS_P_NATS, t[n].rule = PKS_R_NATS_CONNECT;
	str(&t[n].s, "INFO {\"server_id\":\"NAB\",\"version\":\"2.9.0\"}\r\n");
	str(&t[n].c, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"), n++;

	CHECK(pks_env_open(&env) == 0);
	for (int i = 0; i < n; i++) {
		struct pks_flow_view f;
		/* Port 7000 + i: none of these protocols' ports. */
		uint16_t cport = 41000 + i, sport = 7000 + i;
		int server_first = t[i].proto == PKS_P_MYSQL || t[i].proto == PKS_P_NATS;

		if (server_first) {
			struct pkt_spec syn = PKT_TCP4(CLI, cport, SRV, sport, TCPF_SYN);
			struct pkt_spec sc = PKT_TCP4(SRV, sport, CLI, cport, TCPF_PSH | TCPF_ACK);
			struct pkt_spec cs = PKT_TCP4(CLI, cport, SRV, sport, TCPF_PSH | TCPF_ACK);

			sc.payload = t[i].s.b, sc.payload_len = t[i].s.n;
			cs.payload = t[i].c.b, cs.payload_len = t[i].c.n;
			CHECK(pks_env_run(&env, &syn) == 0);
			CHECK(pks_env_run(&env, &sc) == 0);
			CHECK(pks_env_flow(&env, &syn, &f) == 0);
			if (f.proto != t[i].proto || f.confidence != PKS_C_SIGNATURE) {
				pks_test_fail(__FILE__, __LINE__, "%s greeting: proto %d conf %d", t[i].name, f.proto,
					      f.confidence);
				break;
			}
			CHECK(pks_env_run(&env, &cs) == 0);
		} else {
			CHECK(exchange(&env, cport, sport, &t[i].c, NULL, &f) == 0);
			if (f.proto != t[i].proto || f.confidence != PKS_C_SIGNATURE) {
				pks_test_fail(__FILE__, __LINE__, "%s request: proto %d conf %d rule %d", t[i].name,
					      f.proto, f.confidence, f.rule);
				break;
			}
			{
				struct pkt_spec sc = PKT_TCP4(SRV, sport, CLI, cport, TCPF_PSH | TCPF_ACK);

				sc.payload = t[i].s.b, sc.payload_len = t[i].s.n;
				CHECK(pks_env_run(&env, &sc) == 0);
			}
		}
		CHECK(pks_env_flow(&env, &(struct pkt_spec)PKT_TCP4(CLI, cport, SRV, sport, 0), &f) == 0);
		if (f.proto != t[i].proto || f.confidence != PKS_C_CONFIRMED || f.rule != t[i].rule) {
			pks_test_fail(__FILE__, __LINE__, "%s: proto %d conf %d rule %d, expected %d confirmed by rule %d",
				      t[i].name, f.proto, f.confidence, f.rule, t[i].proto, t[i].rule);
			break;
		}
	}
	pks_env_close(&env);
}

/* Deterministic bytes (xorshift32): "random" payloads that are the same every run. */
static void noise(struct msg *m, uint32_t seed, size_t n)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		put8(m, x & 0xff);
	}
}

TEST(tcp_b_random_and_near_misses_stay_unknown)
{
	static const uint16_t ports[] = { 5432, 3306, 1433, 9092, 88, 10050, 1883, 179, 5672, 4222, 7000 };
	struct msg bad[24];
	struct pks_env env;
	int n = 0, k = 0;

	memset(bad, 0, sizeof(bad));
	/* Near misses: one field of a valid message broken. */
	pg_startup(&bad[n]), bad[n].b[3]++, n++;                       /* length differs from the packet */
	pg_startup(&bad[n]), bad[n].b[5] = 4, n++;                     /* protocol 4.0 */
	mysql_login(&bad[n]), bad[n].b[20] = 1, n++;                   /* filler not zero */
	tds_prelogin(&bad[n], 0x12), bad[n].b[7] = 1, n++;             /* window not zero */
	tds_prelogin(&bad[n], 0x12), bad[n].b[12] = 7, n++;            /* VERSION length 7 */
	kafka_api_versions(&bad[n], 200), n++;                         /* api key out of range */
	krb(&bad[n], 0x6a, 0xa1, 10), bad[n].b[12] = 4, n++;           /* pvno 4 */
	krb(&bad[n], 0x6a, 0xa1, 10), bad[n].b[5]++, n++;              /* application length off by one */
	zabbix(&bad[n], "agent.ping"), bad[n].b[4] = 0x09, n++;        /* unknown flag */
	mqtt_connect(&bad[n], 7), n++;                                 /* protocol level 7 */
	mqtt_connect(&bad[n], 4), bad[n].b[9] = 0x03, n++;             /* reserved connect flag */
	bgp_open(&bad[n], 1), bad[n].b[7] = 0xfe, n++;                 /* marker */
	bgp_open(&bad[n], 1), bad[n].b[19] = 3, n++;                   /* version 3 */
	str(&bad[n], "AMQP"), put8(&bad[n], 0), put8(&bad[n], 0), put8(&bad[n], 9), put8(&bad[n], 2), n++;
	str(&bad[n], "INFO server\r\n"), n++;                           /* no JSON */
	str(&bad[n], "CONNECT example.org:443 HTTP/1.1\r\n\r\n"), n++; /* proxy, not NATS */
	/* Random bytes of several lengths. */
	for (uint32_t s = 1; n < 24; s++)
		noise(&bad[n++], 0x9e3779b9u * s, 8 + 9 * s);

	CHECK(pks_env_open(&env) == 0);
	for (int i = 0; i < n; i++) {
		for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
			struct pks_flow_view f;
			uint16_t cport = 20000 + k++;

			CHECK(exchange(&env, cport, ports[j], &bad[i], &bad[(i + 1) % n], &f) == 0);
			if (f.confidence >= PKS_C_SIGNATURE && f.proto != PKS_P_HTTP_PROXY) {
				pks_test_fail(__FILE__, __LINE__, "payload %d on port %u named proto %d (conf %d rule %d)",
					      i, ports[j], f.proto, f.confidence, f.rule);
				pks_env_close(&env);
				return;
			}
		}
	}
	pks_env_close(&env);
}

TEST(tcp_b_port_guess_contradicted)
{
	struct pks_env env;
	struct msg junk = { 0 };
	struct pks_flow_view f;

	noise(&junk, 12345, 40);
	CHECK(pks_env_open(&env) == 0);
	/* Random bytes from the client of a client-first protocol's port drop the guess. */
	CHECK(exchange(&env, 30001, 5432, &junk, NULL, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_UNKNOWN);
	CHECK_EQ(f.rule, PKS_R_PORT_CONTRADICTED);
	/* From the server of a server-first one (MySQL greets first). */
	CHECK(exchange(&env, 30002, 3306, NULL, &junk, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_UNKNOWN);
	CHECK_EQ(f.rule, PKS_R_PORT_CONTRADICTED);
	/*
	 * SSLRequest alone is a signature; the server's one-byte 'N' confirms
	 * it. One-byte TCP payloads are inspected (they used to be skipped as
	 * keepalive probes).
	 */
	{
		struct msg ssl = { 0 }, no = { 0 }, probe = { 0 }, startup = { 0 }, odd = { 0 };

		be32(&ssl, 8), be32(&ssl, 80877103), put8(&no, 'N');
		CHECK(exchange(&env, 30004, 7432, &ssl, &no, &f) == 0);
		CHECK_EQ(f.proto, PKS_P_POSTGRESQL);
		CHECK_EQ(f.confidence, PKS_C_CONFIRMED);
		CHECK_EQ(f.rule, PKS_R_PGSQL_SSL_ANSWER);
		/* A one-byte keepalive probe after a handshake on an unknown port names nothing. */
		put8(&probe, 0);
		CHECK(exchange(&env, 30005, 7433, &probe, &probe, &f) == 0);
		CHECK_EQ(f.proto, PKS_P_UNKNOWN);
		CHECK_EQ(f.confidence, PKS_C_NONE);
		/* A one-byte 'N' with no SSLRequest before it is not PostgreSQL's answer. */
		CHECK(exchange(&env, 30006, 7434, &probe, &no, &f) == 0);
		CHECK_EQ(f.proto, PKS_P_UNKNOWN);
		CHECK_EQ(f.confidence, PKS_C_NONE);
		/* After a startup message, a one-byte probe from the server neither confirms nor drops the verdict. */
		pg_startup(&startup), put8(&odd, 0);
		CHECK(exchange(&env, 30007, 7435, &startup, &odd, &f) == 0);
		CHECK_EQ(f.proto, PKS_P_POSTGRESQL);
		CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
		CHECK_EQ(f.rule, PKS_R_PGSQL_STARTUP);
	}
	/* Kerberos is not covered (its UDP port shares the answer): the guess stays a guess. */
	CHECK(exchange(&env, 30003, 88, &junk, NULL, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_KERBEROS);
	CHECK_EQ(f.confidence, PKS_C_PORT);
	pks_env_close(&env);
}

/* --- The second half of the group: spec-built opening messages and answers --- */

static void mongo_msg(struct msg *m, uint32_t id, uint32_t to)
{
	le32(m, 16 + 4 + 1 + 5), le32(m, id), le32(m, to), le32(m, 2013); /* MsgHeader, OP_MSG */
	le32(m, 0), put8(m, 0);                                        /* flagBits, section kind 0 */
	le32(m, 5), put8(m, 0);                                        /* empty BSON document */
}

static void modbus_read(struct msg *m, uint16_t tid)
{
	be16(m, tid), be16(m, 0), be16(m, 6), put8(m, 1); /* MBAP: tid, protocol 0, length, unit */
	put8(m, 3), be16(m, 0), be16(m, 10);              /* read holding registers 0..9 */
}

static void modbus_read_reply(struct msg *m, uint16_t tid)
{
	be16(m, tid), be16(m, 0), be16(m, 3 + 20), put8(m, 1);
	put8(m, 3), put8(m, 20);
	for (int i = 0; i < 20; i++)
		put8(m, i);
}

static void zk_connect(struct msg *m)
{
	be32(m, 44), be32(m, 0);    /* length, protocolVersion */
	be32(m, 0), be32(m, 0);     /* lastZxidSeen */
	be32(m, 30000);             /* timeOut */
	be32(m, 0), be32(m, 0);     /* sessionId */
	be32(m, 16);                /* passwd buffer length */
	for (int i = 0; i < 4; i++)
		be32(m, 0);
}

static void zk_connected(struct msg *m)
{
	be32(m, 36), be32(m, 0), be32(m, 30000);
	be32(m, 0x01020304), be32(m, 0x05060708); /* sessionId */
	be32(m, 16);
	for (int i = 0; i < 4; i++)
		be32(m, 0x11111111u * (i + 1));
}

static void ldap_bind(struct msg *m)
{
	static const uint8_t b[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02,
				     0x01, 0x03, 0x04, 0x00, 0x80, 0x00 };

	put(m, b, sizeof(b));
}

static void ldap_bind_ok(struct msg *m)
{
	static const uint8_t b[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a,
				     0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };

	put(m, b, sizeof(b));
}

static void mc_bin(struct msg *m, uint8_t magic, const char *body)
{
	size_t n = body ? strlen(body) : 0;

	put8(m, magic), put8(m, 0x0b), be16(m, 0); /* magic, opcode Version, key length */
	put8(m, 0), put8(m, 0), be16(m, 0);       /* extras, data type, vbucket / status */
	be32(m, n), be32(m, 0x1234), be32(m, 0), be32(m, 0); /* body length, opaque, CAS */
	if (body)
		str(m, body);
}

TEST(tcp_b2_confirmed_on_any_port)
{
	static struct pair t[16];
	struct pks_env env;
	int n = 0;

	memset(t, 0, sizeof(t));
	t[n].name = "redis", t[n].proto = PKS_P_REDIS, t[n].rule = PKS_R_REDIS_REPLY;
	str(&t[n].c, "*1\r\n$4\r\nPING\r\n"), str(&t[n].s, "+PONG\r\n"), n++;
	t[n].name = "redis-set", t[n].proto = PKS_P_REDIS, t[n].rule = PKS_R_REDIS_REPLY;
	str(&t[n].c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"), str(&t[n].s, "+OK\r\n"), n++;
	t[n].name = "mongodb", t[n].proto = PKS_P_MONGODB, t[n].rule = PKS_R_MONGODB_REPLY;
	mongo_msg(&t[n].c, 7, 0), mongo_msg(&t[n].s, 99, 7), n++;
	t[n].name = "modbus", t[n].proto = PKS_P_MODBUS, t[n].rule = PKS_R_MODBUS_RESPONSE;
	modbus_read(&t[n].c, 0x2a), modbus_read_reply(&t[n].s, 0x2a), n++;
	t[n].name = "iec104", t[n].proto = PKS_P_IEC104, t[n].rule = PKS_R_IEC104_APDU;
	put8(&t[n].c, 0x68), put8(&t[n].c, 4), put8(&t[n].c, 0x07), be16(&t[n].c, 0), put8(&t[n].c, 0);
	put8(&t[n].s, 0x68), put8(&t[n].s, 4), put8(&t[n].s, 0x0b), be16(&t[n].s, 0), put8(&t[n].s, 0), n++;
	t[n].name = "stomp", t[n].proto = PKS_P_STOMP, t[n].rule = PKS_R_STOMP_CONNECTED;
	str(&t[n].c, "CONNECT\naccept-version:1.2\nhost:broker\n\n"), put8(&t[n].c, 0);
	str(&t[n].s, "CONNECTED\nversion:1.2\n\n"), put8(&t[n].s, 0), n++;
	t[n].name = "sip-tcp", t[n].proto = PKS_P_SIP, t[n].rule = PKS_R_SIP_RESPONSE;
	str(&t[n].c, "OPTIONS sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/TCP 198.18.0.1:5070\r\nCSeq: 1 OPTIONS\r\n\r\n");
	str(&t[n].s, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 198.18.0.1:5070\r\nCSeq: 1 OPTIONS\r\n\r\n"), n++;
	t[n].name = "zookeeper", t[n].proto = PKS_P_ZOOKEEPER, t[n].rule = PKS_R_ZOOKEEPER_CONNECTED;
	zk_connect(&t[n].c), zk_connected(&t[n].s), n++;
	t[n].name = "ldap", t[n].proto = PKS_P_LDAP, t[n].rule = PKS_R_LDAP_RESPONSE;
	ldap_bind(&t[n].c), ldap_bind_ok(&t[n].s), n++;
	t[n].name = "memcached-binary", t[n].proto = PKS_P_MEMCACHED, t[n].rule = PKS_R_MEMCACHED_BINARY_REPLY;
	mc_bin(&t[n].c, 0x80, NULL), mc_bin(&t[n].s, 0x81, "1.6.18"), n++;
	t[n].name = "memcached-text", t[n].proto = PKS_P_MEMCACHED, t[n].rule = PKS_R_MEMCACHED_TEXT_REPLY;
	str(&t[n].c, "get foo\r\n"), str(&t[n].s, "VALUE foo 0 3\r\nbar\r\nEND\r\n"), n++;
	t[n].name = "cassandra", t[n].proto = PKS_P_CASSANDRA, t[n].rule = PKS_R_CQL_RESPONSE;
	put8(&t[n].c, 0x04), put8(&t[n].c, 0), be16(&t[n].c, 1), put8(&t[n].c, 0x05), be32(&t[n].c, 0);
	put8(&t[n].s, 0x84), put8(&t[n].s, 0), be16(&t[n].s, 1), put8(&t[n].s, 0x06), be32(&t[n].s, 2),
		be16(&t[n].s, 0), n++;

	CHECK(pks_env_open(&env) == 0);
	for (int i = 0; i < n; i++) {
		struct pks_flow_view f;
		/* Port 7100 + i: none of these protocols' ports. */
		uint16_t cport = 42000 + i, sport = 7100 + i;
		struct pkt_spec sc = PKT_TCP4(SRV, sport, CLI, cport, TCPF_PSH | TCPF_ACK);

		CHECK(exchange(&env, cport, sport, &t[i].c, NULL, &f) == 0);
		if (f.proto != t[i].proto || f.confidence != PKS_C_SIGNATURE) {
			pks_test_fail(__FILE__, __LINE__, "%s request: proto %d conf %d rule %d", t[i].name, f.proto,
				      f.confidence, f.rule);
			continue;
		}
		sc.payload = t[i].s.b, sc.payload_len = t[i].s.n;
		CHECK(pks_env_run(&env, &sc) == 0);
		CHECK(pks_env_flow(&env, &(struct pkt_spec)PKT_TCP4(CLI, cport, SRV, sport, 0), &f) == 0);
		if (f.proto != t[i].proto || f.confidence != PKS_C_CONFIRMED || f.rule != t[i].rule)
			pks_test_fail(__FILE__, __LINE__, "%s: proto %d conf %d rule %d, expected %d confirmed by rule %d",
				      t[i].name, f.proto, f.confidence, f.rule, t[i].proto, t[i].rule);
	}
	pks_env_close(&env);
}

static int new_half(int proto)
{
	switch (proto) {
	case PKS_P_REDIS: case PKS_P_MONGODB: case PKS_P_MEMCACHED: case PKS_P_CASSANDRA: case PKS_P_ZOOKEEPER:
	case PKS_P_STOMP: case PKS_P_LDAP: case PKS_P_MODBUS: case PKS_P_DNP3: case PKS_P_IEC104: case PKS_P_SIP:
		return 1;
	}
	return 0;
}

TEST(tcp_b2_near_misses_random_and_others_stay_apart)
{
	/* The protocols' own ports and one that is none of theirs. */
	static const uint16_t ports[] = { 6379, 27017, 11211, 9042, 2181, 61613, 389, 502, 20000, 2404, 5060, 7100 };
	struct msg bad[28], other[5];
	struct pks_env env;
	int n = 0, no = 0, k = 0;

	memset(bad, 0, sizeof(bad));
	memset(other, 0, sizeof(other));
	/* Near misses: one field of a valid opening message broken. */
	str(&bad[n], "*1\r\n$5\r\nPING\r\n"), n++;                    /* bulk length is not the name's */
	str(&bad[n], "*1\r\n$4\r\nPI9G\r\n"), n++;                    /* a digit in the command name */
	str(&bad[n], "+PONG\r\nextra"), n++;                          /* +PONG not alone */
	mongo_msg(&bad[n], 7, 0), bad[n].b[12] = 0xde, n++;           /* opCode 2014 */
	mongo_msg(&bad[n], 7, 0), bad[n].b[16] = 0x20, n++;           /* reserved flag bit */
	modbus_read(&bad[n], 1), bad[n].b[3] = 1, n++;                /* protocol id 1 */
	modbus_read(&bad[n], 1), bad[n].b[5] = 7, n++;                /* length not the function's */
	put8(&bad[n], 0x68), put8(&bad[n], 4), put8(&bad[n], 0x0f), be16(&bad[n], 0), put8(&bad[n], 0), n++;
	str(&bad[n], "CONNECT broker:61613\n\n"), n++;                 /* a target after the command */
	ldap_bind(&bad[n]), bad[n].b[9] = 4, n++;                     /* LDAP version 4 */
	zk_connect(&bad[n]), bad[n].b[7] = 1, n++;                    /* protocolVersion 1 */
	put8(&bad[n], 0x02), put8(&bad[n], 0), be16(&bad[n], 1), put8(&bad[n], 0x05), be32(&bad[n], 0), n++; /* CQL v2 */
	str(&bad[n], "OPTIONS bob SIP/2.0\r\n\r\n"), n++;              /* no sip: URI */
	str(&bad[n], "get\r\n"), n++;                                 /* get without a key */
	mc_bin(&bad[n], 0x82, NULL), n++;                             /* magic neither request nor response */
	/* Random bytes of several lengths. */
	for (uint32_t s = 1; n < 28; s++)
		noise(&bad[n++], 0x85ebca6bu * s, 6 + 11 * s);
	/* Other protocols' opening messages keep their own names. */
	pg_startup(&other[no++]);
	mysql_login(&other[no++]);
	kafka_api_versions(&other[no++], 18);
	bgp_open(&other[no++], 65001);
	str(&other[no++], "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");

	CHECK(pks_env_open(&env) == 0);
	for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
		for (int i = 0; i < n; i++) {
			struct pks_flow_view f;

			CHECK(exchange(&env, 21000 + k++, ports[j], &bad[i], &bad[(i + 1) % n], &f) == 0);
			/* The STOMP near miss is a proxy CONNECT to the HTTP signature: its business. */
			if (f.confidence >= PKS_C_SIGNATURE && !(i == 8 && f.proto == PKS_P_HTTP_PROXY)) {
				pks_test_fail(__FILE__, __LINE__, "payload %d on port %u named proto %d (conf %d rule %d)",
					      i, ports[j], f.proto, f.confidence, f.rule);
				pks_env_close(&env);
				return;
			}
		}
		for (int i = 0; i < no; i++) {
			struct pks_flow_view f;

			CHECK(exchange(&env, 21000 + k++, ports[j], &other[i], NULL, &f) == 0);
			if (new_half(f.proto)) {
				pks_test_fail(__FILE__, __LINE__, "other message %d on port %u named proto %d (rule %d)", i,
					      ports[j], f.proto, f.rule);
				pks_env_close(&env);
				return;
			}
		}
	}
	pks_env_close(&env);
}

/*
 * memcached's text commands (protocol.txt), each word with the grammar of its
 * line, and the same lines broken: the command word alone never names the
 * flow (bpf/sig/memcached.h reads the word first and the line after it).
 */
TEST(tcp_b2_memcached_text_grammar)
{
	static const struct {
		const char *line;
		int named;
	} t[] = {
		{ "get foo\r\n", 1 },
		{ "gets a b c\r\n", 1 },
		{ "gat 300 foo\r\n", 1 },
		{ "gats 300 foo bar\r\n", 1 },
		{ "set k 0 60 3\r\nabc\r\n", 1 },
		{ "set k 0 0 5 noreply\r\nhello\r\n", 1 },
		{ "add k 1 0 2\r\nhi\r\n", 1 },
		{ "replace k 0 0 1\r\nx\r\n", 1 },
		{ "append k 0 0 1\r\nx\r\n", 1 },
		{ "prepend k 0 0 1\r\nx\r\n", 1 },
		{ "cas k 0 0 1 42\r\nx\r\n", 1 },
		{ "set big 0 0 5000\r\n", 1 }, /* the data block follows in later segments */
		{ "delete k\r\n", 1 },
		{ "delete k noreply\r\n", 1 },
		{ "incr n 5\r\n", 1 },
		{ "decr n 1 noreply\r\n", 1 },
		{ "touch k 60\r\n", 1 },
		{ "version\r\n", 1 },
		{ "stats\r\n", 1 },
		{ "stats slabs\r\n", 1 },
		{ "flush_all\r\n", 1 },
		{ "flush_all 10 noreply\r\n", 1 },
		{ "verbosity 1\r\n", 1 },
		{ "mg foo v\r\n", 1 },
		{ "ms foo 2 T60\r\nhi\r\n", 1 },
		{ "mn\r\nmg foo v\r\n", 1 },         /* mn pipelined; alone its 4 bytes are under the 5 read */
		{ "gets\r\n", 0 },                      /* no key */
		{ "gat foo bar\r\n", 0 },               /* exptime not a number */
		{ "set k 0 60\r\nabc\r\n", 0 },         /* <bytes> missing */
		{ "set k x 60 3\r\nabc\r\n", 0 },       /* flags not a number */
		{ "set k 0 60 10\r\nabc\r\n", 0 },      /* a small data block cut short */
		{ "cas k 0 0 1\r\nx\r\n", 0 },          /* cas without its unique */
		{ "get  foo\r\n", 0 },                  /* an empty token */
		{ "get foo \r\n", 0 },                  /* a trailing space */
		{ "get foo", 0 },                       /* no line end */
		{ "get foo\n", 0 },                     /* LF without CR */
		{ "get fo\001o\r\n", 0 },               /* a control byte */
		{ "delete k a b\r\n", 0 },              /* too many tokens */
		{ "incr n x\r\n", 0 },                  /* the delta not a number */
		{ "touch k\r\n", 0 },                   /* exptime missing */
		{ "version 1\r\n", 0 },                 /* version takes nothing */
		{ "stat\r\n", 0 },                      /* not stats */
		{ "flush_al\r\n", 0 },
		{ "verbosity x\r\n", 0 },
		{ "mx foo\r\n", 0 },                    /* no such meta command */
		{ "ms foo\r\n", 0 },                    /* ms without datalen */
		{ "get / HTTP/1.1\r\n", 0 },            /* an HTTP request line */
		{ "GET foo\r\n", 0 },                   /* commands are lower case */
	};
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct msg c = { 0 };
		struct pks_flow_view f;
		int named;

		str(&c, t[i].line);
		/* Port 7300 + i: not memcached's, so the payload alone decides. */
		CHECK(exchange(&env, 43000 + i, 7300 + i, &c, NULL, &f) == 0);
		named = f.proto == PKS_P_MEMCACHED && f.confidence >= PKS_C_SIGNATURE;
		if (named != t[i].named || (named && f.rule != PKS_R_MEMCACHED_TEXT))
			pks_test_fail(__FILE__, __LINE__, "\"%s\": proto %d conf %d rule %d, expected %s", t[i].line,
				      f.proto, f.confidence, f.rule, t[i].named ? "memcached text" : "not memcached");
	}
	pks_env_close(&env);
}

/* IEEE 1815-2012 9.2.4.1.2: CRC-16/DNP over the header block, sent low octet first. */
static void dnp3_frame(struct msg *m, uint8_t ctrl, uint16_t dst, uint16_t src)
{
	uint8_t h[8] = { 0x05, 0x64, 5, ctrl, dst & 0xff, dst >> 8, src & 0xff, src >> 8 };
	uint32_t crc = 0;

	for (int i = 0; i < 8; i++) {
		crc ^= h[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ 0xa6bc : crc >> 1;
	}
	crc = ~crc & 0xffff;
	put(m, h, 8), put8(m, crc & 0xff), put8(m, crc >> 8);
}

TEST(tcp_b2_dnp3_link_frames)
{
	struct msg req = { 0 }, resp = { 0 }, badcrc = { 0 }, badfc = { 0 }, other = { 0 };
	struct pks_env env;
	struct pks_flow_view f;

	dnp3_frame(&req, 0xc9, 1, 3);  /* master: DIR, PRM, REQUEST LINK STATUS */
	dnp3_frame(&resp, 0x0b, 3, 1); /* outstation: LINK STATUS, addresses swapped */
	dnp3_frame(&badcrc, 0xc9, 1, 3), badcrc.b[8] ^= 1;
	dnp3_frame(&badfc, 0xc5, 1, 3); /* primary function 5 is not defined */
	dnp3_frame(&other, 0x0b, 9, 9);
	CHECK(pks_env_open(&env) == 0);
	CHECK(exchange(&env, 31001, 20100, &req, &resp, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_DNP3);
	CHECK_EQ(f.confidence, PKS_C_CONFIRMED);
	CHECK_EQ(f.rule, PKS_R_DNP3_OUTSTATION);
	CHECK(exchange(&env, 31002, 20100, &badcrc, NULL, &f) == 0);
	CHECK_EQ(f.confidence, PKS_C_NONE);
	CHECK(exchange(&env, 31003, 20100, &badfc, NULL, &f) == 0);
	CHECK_EQ(f.confidence, PKS_C_NONE);
	/* An answer from other addresses names DNP3 but does not confirm. */
	CHECK(exchange(&env, 31004, 20100, &req, &other, &f) == 0);
	CHECK_EQ(f.proto, PKS_P_DNP3);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	pks_env_close(&env);
}
