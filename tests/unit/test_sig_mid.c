// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Mid-session recognition (bpf/sig/midstream.h), through the real XDP
 * object: flows whose handshake was not seen (TCP, the first packet an ACK
 * with data) on their protocol's port, each message built from its
 * specification. A protocol is named only by a second fitting packet on its
 * port (a third, from both directions, elsewhere), with confidence signature
 * and its -mid rule; the other direction settles the flow but never confirms
 * it. Negatives: a single
 * packet, near misses (a length one off, a field out of range, the wrong
 * side, another port), a flow whose handshake was seen, and random payloads.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"
#include "msg.h"

#define CA "198.18.0.1"
#define SA "198.18.0.2"
#define CLI 1
#define SRV 0

struct mid {
	struct pks_env env;
	uint8_t l4;
	uint16_t cport, sport;
};

static int mid_open(struct mid *c, uint8_t l4, uint16_t sport)
{
	c->l4 = l4;
	c->cport = 41000;
	c->sport = sport;
	return pks_env_open(&c->env);
}

static struct pkt_spec mid_spec(const struct mid *c, int from_client, uint8_t flags)
{
	struct pkt_spec s = {
		.src = from_client ? CA : SA,
		.dst = from_client ? SA : CA,
		.sport = from_client ? c->cport : c->sport,
		.dport = from_client ? c->sport : c->cport,
		.l4 = c->l4,
		.tcp_flags = c->l4 == 6 ? flags : 0,
	};
	return s;
}

/* One packet with data, no SYN ever (a capture that starts mid-session). */
static int mid_send(struct mid *c, int from_client, const void *b, size_t n)
{
	struct pkt_spec s = mid_spec(c, from_client, TCPF_PSH | TCPF_ACK);

	s.payload = b;
	s.payload_len = n;
	return pks_env_run(&c->env, &s);
}

static int mid_handshake(struct mid *c)
{
	struct pkt_spec a = mid_spec(c, CLI, TCPF_SYN), b = mid_spec(c, SRV, TCPF_SYN | TCPF_ACK),
			d = mid_spec(c, CLI, TCPF_ACK);

	return pks_env_run(&c->env, &a) || pks_env_run(&c->env, &b) || pks_env_run(&c->env, &d);
}

static int mid_flow(struct mid *c, struct pks_flow_view *f)
{
	struct pkt_spec s = mid_spec(c, CLI, 0);

	return pks_env_flow(&c->env, &s, f);
}

#define CHECK_FLOW(c, p, conf, r)                  \
	do {                                       \
		struct pks_flow_view _f;           \
		CHECK_EQ(mid_flow((c), &_f), 0);   \
		CHECK_EQ(_f.proto, (p));           \
		CHECK_EQ(_f.confidence, (conf));   \
		CHECK_EQ(_f.rule, (r));            \
	} while (0)

/* Not named: a port guess (or nothing) and no rule of a payload. */
#define CHECK_UNNAMED(c)                                    \
	do {                                                \
		struct pks_flow_view _f;                    \
		CHECK_EQ(mid_flow((c), &_f), 0);            \
		CHECK(_f.confidence <= PKS_C_PORT);         \
	} while (0)

/* Sends the two messages (a from side sa, then b from sb); returns the verdict's checks' input. */
static void two(struct mid *c, int sa, const struct msg *a, int sb, const struct msg *b)
{
	CHECK_EQ(mid_send(c, sa, a->b, a->n), 0);
	CHECK_UNNAMED(c); /* one packet names nothing */
	CHECK_EQ(mid_send(c, sb, b->b, b->n), 0);
}

/* ---- MQTT (OASIS MQTT 3.1.1 2.2, 3.3, 3.12, 3.13) ---- */

static void mqtt_publish(struct msg *m, uint8_t flags, const char *topic, const char *payload)
{
	size_t tl = strlen(topic), pl = strlen(payload), rl = 2 + tl + pl + ((flags & 6) ? 2 : 0);

	put8(m, 0x30 | flags);
	put8(m, rl);
	be16(m, tl);
	put(m, topic, tl);
	if (flags & 6)
		be16(m, 7); /* packet identifier */
	put(m, payload, pl);
}

static const uint8_t mqtt_pingreq[] = { 0xc0, 0x00 }, mqtt_pingresp[] = { 0xd0, 0x00 };

TEST(mid_mqtt_ping_exchange_named_then_settled)
{
	struct mid c;
	struct msg p = { 0 };
	struct pks_flow_view f;

	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_send(&c, CLI, mqtt_pingreq, 2), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_PORT, PKS_R_PORT);
	CHECK_EQ(mid_send(&c, SRV, mqtt_pingresp, 2), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_SIGNATURE, PKS_R_MQTT_MID);
	/* The client's next message settles its direction: decided, still signature. */
	mqtt_publish(&p, 0, "sensors/t1", "21.5");
	CHECK_EQ(mid_send(&c, CLI, p.b, p.n), 0);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK(f.flags & PKS_F_DECIDED);
	pks_env_close(&c.env);
}

TEST(mid_mqtt_two_publishes_one_direction)
{
	struct mid c;
	struct msg a = { 0 }, b = { 0 };

	mqtt_publish(&a, 0, "a/b", "x");
	/* QoS 1 PUBLISH, then PUBACK chained after it in the same segment. */
	mqtt_publish(&b, 2, "a/b", "yy");
	put8(&b, 0x40), put8(&b, 2), be16(&b, 7);
	CHECK(mid_open(&c, 6, 1883) == 0);
	two(&c, SRV, &a, SRV, &b);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_SIGNATURE, PKS_R_MQTT_MID);
	pks_env_close(&c.env);
}

TEST(mid_mqtt_near_misses_not_named)
{
	struct mid c;
	struct msg a = { 0 }, b = { 0 }, q3 = { 0 };

	/* Remaining Length one more than the packet holds, twice. */
	mqtt_publish(&a, 0, "a/b", "x");
	a.b[1]++;
	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_send(&c, CLI, a.b, a.n), 0);
	CHECK_EQ(mid_send(&c, SRV, a.b, a.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
	/* PINGREQ from the server and PINGRESP from the client: the wrong sides. */
	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_send(&c, SRV, mqtt_pingreq, 2), 0);
	CHECK_EQ(mid_send(&c, CLI, mqtt_pingresp, 2), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
	/* QoS 3 is malformed (3.3.1.2). */
	mqtt_publish(&q3, 6, "a/b", "x");
	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_send(&c, CLI, q3.b, q3.n), 0);
	CHECK_EQ(mid_send(&c, CLI, q3.b, q3.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
	/* Well-formed, but on a port nothing is guessed for: two packets are not enough there. */
	mqtt_publish(&b, 0, "a/b", "x");
	CHECK(mid_open(&c, 6, 41883) == 0);
	CHECK_EQ(mid_send(&c, CLI, b.b, b.n), 0);
	CHECK_EQ(mid_send(&c, SRV, b.b, b.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/*
 * A PUBLISH longer than a segment (3,000 bytes of message, a 2-byte Remaining
 * Length, as mosquitto_pub sends it): the first 1,448 bytes run past the
 * segment. A QoS 0 flow of such messages has no frame that fits, so the
 * PUBLISH's variable header is checked instead (topic, packet identifier):
 * two such segments name MQTT. Near misses: an empty topic, a wildcard, a
 * topic that leaves the window, packet identifier 0, a short segment, another
 * port.
 */
/* The first 1,448 bytes (one full segment) of such a PUBLISH into b. */
static void mqtt_big_publish(uint8_t b[1448], uint8_t flags, const char *topic, uint16_t id)
{
	size_t tl = strlen(topic), rl = 2 + tl + ((flags & 6) ? 2 : 0) + 3000, n = 0;

	memset(b, 'x', 1448);
	b[n++] = 0x30 | flags;
	b[n++] = 0x80 | (rl & 0x7f);
	b[n++] = rl >> 7;
	b[n++] = tl >> 8;
	b[n++] = tl & 0xff;
	memcpy(b + n, topic, tl);
	n += tl;
	if (flags & 6) {
		b[n++] = id >> 8;
		b[n++] = id & 0xff;
	}
}

TEST(mid_mqtt_publishes_longer_than_a_segment)
{
	static const struct {
		uint8_t flags;
		const char *topic;
		uint16_t id, len, port;
		int named;
	} cases[] = {
		{ 0, "pktspec/test", 0, 1448, 1883, 1 },
		{ 2, "sensors/\xc3\xa9t\xc3\xa9", 9, 1448, 1883, 1 },
		{ 0, "", 0, 1448, 1883, 0 },
		{ 0, "pktspec/#", 0, 1448, 1883, 0 },
		{ 0, "+/test", 0, 1448, 1883, 0 },
		{ 0, "a/very/long/topic/name/that/does/not/end/inside/the/window/x", 0, 1448, 1883, 0 },
		{ 2, "pktspec/test", 0, 1448, 1883, 0 },
		{ 0, "pktspec/test", 0, 500, 1883, 0 },
		{ 0, "pktspec/test", 0, 1448, 41883, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mid c;
		uint8_t a[1448];

		mqtt_big_publish(a, cases[i].flags, cases[i].topic, cases[i].id);
		CHECK(mid_open(&c, 6, cases[i].port) == 0);
		CHECK_EQ(mid_send(&c, CLI, a, cases[i].len), 0);
		CHECK_UNNAMED(&c);
		CHECK_EQ(mid_send(&c, CLI, a, cases[i].len), 0);
		if (cases[i].named)
			CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_SIGNATURE, PKS_R_MQTT_MID);
		else
			CHECK_UNNAMED(&c);
		pks_env_close(&c.env);
	}
}

/*
 * On a port nothing is guessed for: the third fitting packet names MQTT once
 * both directions sent one; three from one side do not. The client guessed
 * is the first sender, so the side rules (PINGREQ from the client) are off.
 */
TEST(mid_mqtt_off_port_needs_three_packets_both_directions)
{
	struct mid c;
	struct msg p = { 0 };
	static const uint8_t puback[] = { 0x40, 0x02, 0x00, 0x07 };

	mqtt_publish(&p, 2, "s/t", "86");
	CHECK(mid_open(&c, 6, 17501) == 0);
	CHECK_EQ(mid_send(&c, SRV, p.b, p.n), 0);
	CHECK_EQ(mid_send(&c, SRV, p.b, p.n), 0);
	CHECK_EQ(mid_send(&c, SRV, p.b, p.n), 0);
	CHECK_UNNAMED(&c);
	CHECK_EQ(mid_send(&c, CLI, puback, sizeof(puback)), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_SIGNATURE, PKS_R_MQTT_MID);
	pks_env_close(&c.env);
	/* Pings the wrong way round for the guess (the server spoke first): still MQTT, off the port. */
	CHECK(mid_open(&c, 6, 17501) == 0);
	CHECK_EQ(mid_send(&c, SRV, mqtt_pingreq, 2), 0);
	CHECK_EQ(mid_send(&c, CLI, mqtt_pingresp, 2), 0);
	CHECK_UNNAMED(&c);
	CHECK_EQ(mid_send(&c, SRV, p.b, p.n), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_SIGNATURE, PKS_R_MQTT_MID);
	pks_env_close(&c.env);
}

/* A handshake seen in full keeps its higher confidence; mid-session rules do not run there. */
TEST(mid_mqtt_handshake_seen_confirms_and_mid_rules_stay_out)
{
	struct mid c;
	struct msg conn = { 0 }, p = { 0 };
	static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
	struct pks_flow_view f;

	put8(&conn, 0x10), put8(&conn, 16);
	be16(&conn, 4), put(&conn, "MQTT", 4), put8(&conn, 4), put8(&conn, 0x02), be16(&conn, 60);
	be16(&conn, 4), put(&conn, "cli1", 4);
	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_handshake(&c), 0);
	CHECK_EQ(mid_send(&c, CLI, conn.b, conn.n), 0);
	CHECK_EQ(mid_send(&c, SRV, connack, sizeof(connack)), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_CONFIRMED, PKS_R_MQTT_CONNACK);
	mqtt_publish(&p, 0, "a/b", "x");
	CHECK_EQ(mid_send(&c, CLI, p.b, p.n), 0);
	CHECK_FLOW(&c, PKS_P_MQTT, PKS_C_CONFIRMED, PKS_R_MQTT_CONNACK);
	pks_env_close(&c.env);

	/* Handshake seen, then only pings: the first payload is no CONNECT, the port guess goes. */
	CHECK(mid_open(&c, 6, 1883) == 0);
	CHECK_EQ(mid_handshake(&c), 0);
	CHECK_EQ(mid_send(&c, CLI, mqtt_pingreq, 2), 0);
	CHECK_EQ(mid_send(&c, SRV, mqtt_pingresp, 2), 0);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK(f.rule != PKS_R_MQTT_MID);
	CHECK(f.confidence != PKS_C_SIGNATURE);
	pks_env_close(&c.env);
}

/* ---- WebSocket (RFC 6455 5.2) ---- */

static void ws_frame(struct msg *m, uint8_t b0, int masked, const char *data)
{
	size_t n = strlen(data);

	put8(m, b0);
	put8(m, (masked ? 0x80 : 0) | n);
	if (masked)
		be32(m, 0x11223344);
	for (size_t i = 0; i < n; i++)
		put8(m, (uint8_t)data[i] ^ (masked ? (uint8_t)(0x11 + 0x11 * (i & 3)) : 0));
}

TEST(mid_websocket_frames_on_http_port)
{
	struct mid c;
	struct msg s = { 0 }, cl = { 0 };

	ws_frame(&s, 0x81, 0, "{\"tick\":42}");
	ws_frame(&cl, 0x81, 1, "{\"ack\":42}");
	ws_frame(&cl, 0x89, 1, "p"); /* a ping chained after it */
	CHECK(mid_open(&c, 6, 80) == 0);
	two(&c, SRV, &s, CLI, &cl);
	CHECK_FLOW(&c, PKS_P_WEBSOCKET, PKS_C_SIGNATURE, PKS_R_WEBSOCKET_MID);
	pks_env_close(&c.env);
}

TEST(mid_websocket_near_misses_not_named)
{
	struct mid c;
	struct msg s = { 0 }, cl = { 0 };

	/* The server masks, the client does not: both the wrong way round. */
	ws_frame(&s, 0x81, 1, "hello");
	ws_frame(&cl, 0x82, 0, "hello");
	CHECK(mid_open(&c, 6, 80) == 0);
	CHECK_EQ(mid_send(&c, SRV, s.b, s.n), 0);
	CHECK_EQ(mid_send(&c, CLI, cl.b, cl.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
	/* Right masks, but a fragmented ping (FIN clear) and RSV2 set. */
	memset(&s, 0, sizeof(s)), memset(&cl, 0, sizeof(cl));
	ws_frame(&s, 0x09, 0, "x");
	ws_frame(&cl, 0xa1, 1, "x");
	CHECK(mid_open(&c, 6, 80) == 0);
	CHECK_EQ(mid_send(&c, SRV, s.b, s.n), 0);
	CHECK_EQ(mid_send(&c, CLI, cl.b, cl.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/*
 * Off the HTTP ports, with the server's frame first (so the first sender,
 * the server, is taken for the client): three frames from both sides name
 * WebSocket, and the masked side becomes the client.
 */
TEST(mid_websocket_off_port_mask_names_the_client)
{
	struct mid c;
	struct msg s = { 0 }, cl = { 0 }, s2 = { 0 }, bad = { 0 };
	struct pks_flow_view f;

	ws_frame(&s, 0x81, 0, "Welcome!");
	ws_frame(&cl, 0x81, 1, "say: hi");
	ws_frame(&s2, 0x81, 0, "12:00 say: hi");
	CHECK(mid_open(&c, 6, 12345) == 0);
	CHECK_EQ(mid_send(&c, SRV, s.b, s.n), 0);
	CHECK_EQ(mid_send(&c, CLI, cl.b, cl.n), 0);
	CHECK_UNNAMED(&c);
	CHECK_EQ(mid_send(&c, SRV, s2.b, s2.n), 0);
	CHECK_FLOW(&c, PKS_P_WEBSOCKET, PKS_C_SIGNATURE, PKS_R_WEBSOCKET_MID);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 1); /* the masked side's one frame */
	CHECK_EQ(f.packets[PKS_DIR_S2C], 2);
	pks_env_close(&c.env);
	/* One side masking in one frame and not in the next: not WebSocket. */
	ws_frame(&bad, 0x81, 1, "Welcome!");
	CHECK(mid_open(&c, 6, 12345) == 0);
	CHECK_EQ(mid_send(&c, SRV, s.b, s.n), 0);
	CHECK_EQ(mid_send(&c, CLI, cl.b, cl.n), 0);
	CHECK_EQ(mid_send(&c, SRV, bad.b, bad.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- TDS (MS-TDS 2.2.3.1) ---- */

static void tds(struct msg *m, uint8_t type, uint16_t spid, size_t body)
{
	put8(m, type), put8(m, 0x01), be16(m, 8 + body), be16(m, spid), put8(m, 1), put8(m, 0);
	for (size_t i = 0; i < body; i++)
		put8(m, 'a' + i % 26);
}

TEST(mid_tds_batch_and_result)
{
	struct mid c;
	struct msg q = { 0 }, r = { 0 }, bad = { 0 };

	tds(&q, 0x01, 0, 40);
	tds(&r, 0x04, 57, 60);
	CHECK(mid_open(&c, 6, 1433) == 0);
	two(&c, CLI, &q, SRV, &r);
	CHECK_FLOW(&c, PKS_P_MSSQL, PKS_C_SIGNATURE, PKS_R_MSSQL_MID);
	pks_env_close(&c.env);
	/* A window byte set (reserved 0), or a result packet from the client. */
	tds(&bad, 0x01, 0, 40);
	bad.b[7] = 1;
	CHECK(mid_open(&c, 6, 1433) == 0);
	CHECK_EQ(mid_send(&c, CLI, bad.b, bad.n), 0);
	CHECK_EQ(mid_send(&c, CLI, r.b, r.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- AMQP 0-9-1 (2.3.5, 4.2.3) ---- */

static void amqp_heartbeat(struct msg *m)
{
	put8(m, 8), be16(m, 0), be32(m, 0), put8(m, 0xce);
}

/* basic.publish on channel 1, then its content header, in one segment. */
static void amqp_publish(struct msg *m)
{
	put8(m, 1), be16(m, 1), be32(m, 4 + 2 + 1 + 2 + 1);
	be16(m, 60), be16(m, 40), be16(m, 0), put8(m, 0), be16(m, 0x0171), put8(m, 0);
	put8(m, 0xce);
	put8(m, 2), be16(m, 1), be32(m, 14);
	be16(m, 60), be16(m, 0), be32(m, 0), be32(m, 5), be16(m, 0);
	put8(m, 0xce);
}

TEST(mid_amqp_heartbeats_and_publish)
{
	struct mid c;
	struct msg h = { 0 }, p = { 0 }, bad = { 0 };

	amqp_heartbeat(&h);
	amqp_publish(&p);
	CHECK(mid_open(&c, 6, 5672) == 0);
	two(&c, CLI, &p, SRV, &h);
	CHECK_FLOW(&c, PKS_P_AMQP, PKS_C_SIGNATURE, PKS_R_AMQP_MID);
	pks_env_close(&c.env);
	/* The frame-end octet wrong: not a frame. */
	amqp_heartbeat(&bad);
	bad.b[7] = 0xcf;
	CHECK(mid_open(&c, 6, 5672) == 0);
	CHECK_EQ(mid_send(&c, CLI, bad.b, bad.n), 0);
	CHECK_EQ(mid_send(&c, SRV, bad.b, bad.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- SMB2/3 (MS-SMB2 2.1, 2.2.1, 2.2.41) ---- */

static void smb2(struct msg *m, int response, uint16_t cmd, size_t body)
{
	size_t len = 64 + body;

	put8(m, 0), put8(m, len >> 16), put8(m, len >> 8), put8(m, len);
	put8(m, 0xfe), put(m, "SMB", 3), le16(m, 64), le16(m, 1), le32(m, 0);
	le16(m, cmd), le16(m, 1), le32(m, response ? 1 : 0), le32(m, 0);
	le32(m, 9), le32(m, 0), le32(m, 0xfeff), le32(m, 1), le32(m, 0x44), le32(m, 0);
	zeros(m, 16);
	for (size_t i = 0; i < body; i++)
		put8(m, i);
}

static void smb3_transform(struct msg *m, uint32_t orig)
{
	uint32_t len = 52 + orig;

	put8(m, 0), put8(m, len >> 16), put8(m, len >> 8), put8(m, len);
	put8(m, 0xfd), put(m, "SMB", 3);
	for (int i = 0; i < 32; i++)
		put8(m, 0x5a ^ i); /* signature and nonce */
	le32(m, orig), le16(m, 0), le16(m, 1), le32(m, 0x44), le32(m, 0);
	for (uint32_t i = 0; i < orig; i++)
		put8(m, 0x33 * i);
}

TEST(mid_smb2_request_response_and_encrypted)
{
	struct mid c;
	struct msg q = { 0 }, r = { 0 }, e1 = { 0 }, e2 = { 0 };

	smb2(&q, 0, 8, 49);
	smb2(&r, 1, 8, 60);
	CHECK(mid_open(&c, 6, 445) == 0);
	two(&c, CLI, &q, SRV, &r);
	CHECK_FLOW(&c, PKS_P_SMB2, PKS_C_SIGNATURE, PKS_R_SMB2_MID);
	pks_env_close(&c.env);

	smb3_transform(&e1, 80);
	smb3_transform(&e2, 120);
	CHECK(mid_open(&c, 6, 445) == 0);
	two(&c, SRV, &e1, CLI, &e2);
	CHECK_FLOW(&c, PKS_P_SMB2, PKS_C_SIGNATURE, PKS_R_SMB2_MID);
	pks_env_close(&c.env);

	/* A response flag on the client's message, and a transform size that does not fill the message. */
	e2.b[40]++;
	CHECK(mid_open(&c, 6, 445) == 0);
	CHECK_EQ(mid_send(&c, CLI, r.b, r.n), 0);
	CHECK_EQ(mid_send(&c, CLI, e2.b, e2.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- PostgreSQL (protocol, Message Formats) ---- */

static void pg_msg(struct msg *m, char type, const char *body, size_t n)
{
	put8(m, type), be32(m, 4 + n), put(m, body, n);
}

TEST(mid_postgresql_query_and_answer)
{
	struct mid c;
	struct msg q = { 0 }, a = { 0 }, bad = { 0 };

	pg_msg(&q, 'Q', "SELECT 1\0", 9);
	pg_msg(&a, 'C', "SELECT 1\0", 9);
	pg_msg(&a, 'Z', "I", 1);
	CHECK(mid_open(&c, 6, 5432) == 0);
	two(&c, CLI, &q, SRV, &a);
	CHECK_FLOW(&c, PKS_P_POSTGRESQL, PKS_C_SIGNATURE, PKS_R_POSTGRESQL_MID);
	pks_env_close(&c.env);
	/* ReadyForQuery with an unknown status; a backend type from the client. */
	pg_msg(&bad, 'Z', "X", 1);
	CHECK(mid_open(&c, 6, 5432) == 0);
	CHECK_EQ(mid_send(&c, SRV, bad.b, bad.n), 0);
	CHECK_EQ(mid_send(&c, CLI, a.b, a.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- MySQL (client/server protocol, packets) ---- */

static void my_pkt(struct msg *m, uint8_t seq, const void *body, size_t n)
{
	put8(m, n & 0xff), put8(m, (n >> 8) & 0xff), put8(m, n >> 16), put8(m, seq), put(m, body, n);
}

TEST(mid_mysql_query_and_result_set)
{
	struct mid c;
	struct msg q = { 0 }, r = { 0 }, bad = { 0 };
	static const uint8_t one = 1, coldef[] = { 3, 'd', 'e', 'f', 0, 0, 0, 1, '1', 0, 0x0c, 0x3f, 0 };

	my_pkt(&q, 0, "\x03SELECT 1", 9);
	my_pkt(&r, 1, &one, 1);
	my_pkt(&r, 2, coldef, sizeof(coldef));
	CHECK(mid_open(&c, 6, 3306) == 0);
	two(&c, CLI, &q, SRV, &r);
	CHECK_FLOW(&c, PKS_P_MYSQL, PKS_C_SIGNATURE, PKS_R_MYSQL_MID);
	pks_env_close(&c.env);
	/* Chained packets whose sequence ids do not count up. */
	my_pkt(&bad, 1, &one, 1);
	my_pkt(&bad, 5, coldef, sizeof(coldef));
	CHECK(mid_open(&c, 6, 3306) == 0);
	CHECK_EQ(mid_send(&c, SRV, bad.b, bad.n), 0);
	CHECK_EQ(mid_send(&c, SRV, bad.b, bad.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- DTLS (RFC 6347 4.1) ---- */

static void dtls_rec(struct msg *m, uint8_t type, uint16_t epoch, uint32_t seq, size_t n)
{
	put8(m, type), be16(m, 0xfefd), be16(m, epoch), be16(m, 0), be32(m, seq), be16(m, n);
	for (size_t i = 0; i < n; i++)
		put8(m, 0x9d * i + 3);
}

TEST(mid_dtls_application_data_without_handshake)
{
	struct mid c;
	struct msg a = { 0 }, b = { 0 }, e2 = { 0 };

	dtls_rec(&a, 23, 1, 5, 100);
	dtls_rec(&b, 23, 1, 9, 80);
	CHECK(mid_open(&c, 17, 40443) == 0);
	two(&c, CLI, &a, SRV, &b);
	CHECK_FLOW(&c, PKS_P_DTLS, PKS_C_SIGNATURE, PKS_R_DTLS_MID);
	pks_env_close(&c.env);
	/* The same record again (a retransmission), then another epoch: not named. */
	dtls_rec(&e2, 23, 2, 6, 80);
	CHECK(mid_open(&c, 17, 40443) == 0);
	CHECK_EQ(mid_send(&c, CLI, a.b, a.n), 0);
	CHECK_EQ(mid_send(&c, CLI, a.b, a.n), 0);
	CHECK_EQ(mid_send(&c, SRV, e2.b, e2.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

/* ---- TLS records (rule tls-record, bpf/sig/tls.h): named at once, never confirmed ---- */

TEST(mid_tls_records_both_directions_stay_signature)
{
	struct mid c;
	uint8_t b[300];
	struct pks_flow_view f;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	b[0] = 23, b[1] = 3, b[2] = 3, b[3] = (sizeof(b) - 5) >> 8, b[4] = (sizeof(b) - 5) & 0xff;
	CHECK(mid_open(&c, 6, 443) == 0);
	CHECK_EQ(mid_send(&c, CLI, b, sizeof(b)), 0);
	CHECK_EQ(mid_send(&c, SRV, b, sizeof(b)), 0);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK_EQ(f.proto, PKS_P_TLS);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK(f.flags & PKS_F_DECIDED);
	pks_env_close(&c.env);
}

/* ---- random payloads: none named ---- */


static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/*
 * 400 mid-session flows per port (each mid-session rule's port, one that
 * nothing is guessed for, and UDP), two packets per direction of random
 * bytes (1..300 each, half of them 1..16), the client and the server
 * alternating: none may get past the port guess.
 */
TEST(mid_random_payloads_never_named)
{
	static const struct {
		uint8_t l4;
		uint16_t port;
	} ports[] = { { 6, 1883 }, { 6, 80 },   { 6, 1433 }, { 6, 5672 }, { 6, 445 },   { 6, 5432 },
		      { 6, 3306 }, { 6, 25 },   { 6, 587 },  { 6, 21 },   { 6, 110 },   { 6, 143 },
		      { 6, 6667 }, { 6, 40999 }, { 17, 40443 } };
	uint8_t b[300];
	int named = 0;

	rnd_state = 20261204;
	for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
		struct mid c;

		CHECK(mid_open(&c, ports[p].l4, ports[p].port) == 0);
		for (int i = 0; i < 400; i++) {
			struct pks_flow_view f;

			c.cport = 20000 + i;
			for (int k = 0; k < 4; k++) {
				size_t n = (rnd() & 1) ? 1 + rnd() % 16 : 1 + rnd() % sizeof(b);

				for (size_t j = 0; j < n; j++)
					b[j] = rnd();
				CHECK_EQ(mid_send(&c, k & 1, b, n), 0);
			}
			CHECK_EQ(mid_flow(&c, &f), 0);
			if (f.confidence > PKS_C_PORT && f.proto != PKS_P_UNKNOWN)
				named++;
		}
		pks_env_close(&c.env);
	}
	CHECK_EQ(named, 0);
}

/* ---- text protocols by their line grammar (midtext.h) ---- */

/* A text exchange picked up mid-session on port: a from sa, b from sb; named by rule at signature. */
static void text_named(uint16_t port, int sa, const char *a, int sb, const char *b, uint8_t proto, uint16_t rule)
{
	struct mid c;
	struct msg x = { 0 }, y = { 0 };

	str(&x, a), str(&y, b);
	CHECK(mid_open(&c, 6, port) == 0);
	two(&c, sa, &x, sb, &y);
	CHECK_FLOW(&c, proto, PKS_C_SIGNATURE, rule);
	pks_env_close(&c.env);
}

/* The same two lines name nothing. */
static void text_unnamed(uint16_t port, int sa, const char *a, int sb, const char *b)
{
	struct mid c;
	struct msg x = { 0 }, y = { 0 };

	str(&x, a), str(&y, b);
	CHECK(mid_open(&c, 6, port) == 0);
	CHECK_EQ(mid_send(&c, sa, x.b, x.n), 0);
	CHECK_EQ(mid_send(&c, sb, y.b, y.n), 0);
	CHECK_UNNAMED(&c);
	pks_env_close(&c.env);
}

TEST(mid_text_smtp_transaction)
{
	struct mid c;
	struct msg a = { 0 }, b = { 0 }, d = { 0 };
	struct pks_flow_view f;

	text_named(25, CLI, "MAIL FROM:<a@example.org> SIZE=1024\r\n", SRV, "250 2.1.0 Ok\r\n", PKS_P_SMTP,
		   PKS_R_SMTP_MID);
	text_named(587, SRV, "250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n", CLI, "rcpt to:<b@example.org>\r\n",
		   PKS_P_SMTP, PKS_R_SMTP_MID);
	text_named(25, CLI, "DATA\r\n", CLI, "QUIT\r\n", PKS_P_SMTP, PKS_R_SMTP_MID);
	/* Then the other direction settles it: decided, never confirmed. */
	str(&a, "RSET\r\n"), str(&b, "250 2.0.0 Ok\r\n"), str(&d, "BDAT 1000 LAST\r\n");
	CHECK(mid_open(&c, 6, 25) == 0);
	two(&c, CLI, &a, SRV, &b);
	CHECK_EQ(mid_send(&c, CLI, d.b, d.n), 0);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK_EQ(f.rule, PKS_R_SMTP_MID);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK(f.flags & PKS_F_DECIDED);
	pks_env_close(&c.env);
}

TEST(mid_text_smtp_near_misses_not_named)
{
	/* A reply from the client's side, a command from the server's. */
	text_unnamed(25, CLI, "250 Ok\r\n", SRV, "MAIL FROM:<a@example.org>\r\n");
	/* A 1yz code (FTP's preliminary reply; SMTP has none), a line without its CRLF. */
	text_unnamed(25, SRV, "150 Opening\r\n", SRV, "250 Ok");
	/* Words that are no SMTP command, or lack their delimiter. */
	text_unnamed(25, CLI, "MAILFROM:<a@b>\r\n", CLI, "DATA now\r\n");
	/* A control byte in the line, a lone LF. */
	text_unnamed(25, SRV, "250 O\x01k\r\n", SRV, "250 Ok\n");
	/* Another protocol's port: the reply grammar is shared, so nothing. */
	text_unnamed(40999, CLI, "MAIL FROM:<a@b>\r\n", SRV, "250 Ok\r\n");
	text_unnamed(21, CLI, "MAIL FROM:<a@b>\r\n", CLI, "RCPT TO:<c@d>\r\n");
}

TEST(mid_text_ftp_commands_and_replies)
{
	text_named(21, CLI, "CWD /pub\r\n", SRV, "250 Directory successfully changed.\r\n", PKS_P_FTP, PKS_R_FTP_MID);
	text_named(21, SRV, "226 Transfer complete.\r\n", CLI, "pasv\r\n", PKS_P_FTP, PKS_R_FTP_MID);
	text_named(21, SRV, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n211 End\r\n", SRV, "200 Always in UTF8 mode.\r\n",
		   PKS_P_FTP, PKS_R_FTP_MID);
	text_named(21, CLI, "RETR caf\xc3\xa9.txt\r\n", CLI, "PWD\r\n", PKS_P_FTP, PKS_R_FTP_MID);
	text_unnamed(21, CLI, "XYZW /pub\r\n", CLI, "PWDX\r\n");
	text_unnamed(21, SRV, "2260 Transfer\r\n", SRV, "650 Nope\r\n");
}

TEST(mid_text_pop3_and_imap)
{
	/* On its port, "+OK" and a text is a reply here, not the greeting pop3.h takes it for. */
	text_named(110, CLI, "STAT\r\n", SRV, "+OK 2 320\r\n", PKS_P_POP3, PKS_R_POP3_MID);
	text_named(110, CLI, "RETR 1\r\n", CLI, "TOP 2 10\r\n", PKS_P_POP3, PKS_R_POP3_MID);
	text_named(110, SRV, "-ERR no such message\r\n", SRV, "+OK\r\n", PKS_P_POP3, PKS_R_POP3_MID);
	text_unnamed(110, SRV, "+OKAY\r\n", CLI, "STATUS\r\n");

	text_named(143, CLI, "a12 UID FETCH 1:* (FLAGS)\r\n", SRV, "* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n", PKS_P_IMAP,
		   PKS_R_IMAP_MID);
	text_named(143, SRV, "* 18 EXISTS\r\n", SRV, "a13 OK IDLE terminated\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	text_named(143, CLI, "DONE\r\n", CLI, "7 select INBOX\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	text_named(143, SRV, "+ idling\r\n", SRV, "* FLAGS (\\Answered \\Seen)\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	/* "* OK", "* BYE" and NOOP open a session but also come later (Dovecot's IDLE keepalive
	 * "* OK Still here"): on a mid-session flow they are lines, not the greeting or first command. */
	text_named(143, SRV, "* OK Still here\r\n", SRV, "* 4 EXISTS\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	text_named(143, SRV, "* BYE Logging out\r\n", SRV, "a9 OK Logout completed.\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	text_named(143, CLI, "a7 NOOP\r\n", SRV, "* OK Still here\r\n", PKS_P_IMAP, PKS_R_IMAP_MID);
	/* A tag with a forbidden character, an unknown command, "* n" with an unknown keyword. */
	text_unnamed(143, CLI, "a(1 NOOP\r\n", CLI, "a1 FROB x\r\n");
	text_unnamed(143, SRV, "* 3 FOO\r\n", SRV, "a1 MAYBE\r\n");
}

TEST(mid_text_irc_channel_traffic)
{
	text_named(6667, SRV, ":alice!al@198.18.0.9 PRIVMSG #pks :hello there\r\n", CLI, "PRIVMSG #pks :hi alice\r\n",
		   PKS_P_IRC, PKS_R_IRC_MID);
	text_named(6667, SRV, "PING :irc.example.net\r\n", CLI, "PONG :irc.example.net\r\n", PKS_P_IRC,
		   PKS_R_IRC_MID);
	text_named(6667, SRV, ":bob!b@198.18.0.8 JOIN #pks\r\n", CLI, "MODE #pks\r\n", PKS_P_IRC, PKS_R_IRC_MID);
	/* A server's NOTICE and numerics fit its first-message grammar too; mid-session they are lines. */
	text_named(6667, SRV, ":irc.example.net NOTICE bob :restarting soon\r\n", SRV,
		   ":irc.example.net 372 bob :- message of the day\r\n", PKS_P_IRC, PKS_R_IRC_MID);
	/* A client line with a prefix, a server line without one that is not PING/ERROR, a bad numeric. */
	text_unnamed(6667, CLI, ":bob PRIVMSG #pks :x\r\n", SRV, "PRIVMSG #pks :x\r\n");
	text_unnamed(6667, SRV, ":irc.example.net 35 bob\r\n", SRV, ": PRIVMSG #pks :x\r\n");
}

/* A handshake seen: the opening rules decide; the text mid rules stay out. */
TEST(mid_text_handshake_seen_not_mid)
{
	struct mid c;
	struct msg a = { 0 }, b = { 0 };
	struct pks_flow_view f;

	str(&a, "MAIL FROM:<a@example.org>\r\n"), str(&b, "250 2.1.0 Ok\r\n");
	CHECK(mid_open(&c, 6, 25) == 0);
	CHECK_EQ(mid_handshake(&c), 0);
	CHECK_EQ(mid_send(&c, CLI, a.b, a.n), 0);
	CHECK_EQ(mid_send(&c, SRV, b.b, b.n), 0);
	CHECK_EQ(mid_flow(&c, &f), 0);
	CHECK(f.rule != PKS_R_SMTP_MID);
	pks_env_close(&c.env);
}

/*
 * Random lines of text on each text port: printable ASCII words and CRLF,
 * one to three lines per packet, four packets per flow, 300 flows per port.
 * Only the grammar separates these from the protocols' own lines.
 */
TEST(mid_text_random_lines_never_named)
{
	static const uint16_t ports[] = { 25, 587, 21, 110, 143, 6667 };
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;-_/@#<>()*+!?";
	int named = 0;

	rnd_state = 20261205;
	for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
		struct mid c;

		CHECK(mid_open(&c, 6, ports[p]) == 0);
		for (int i = 0; i < 300; i++) {
			struct pks_flow_view f;

			c.cport = 20000 + i;
			for (int k = 0; k < 4; k++) {
				struct msg m = { 0 };
				int lines = 1 + rnd() % 3;

				for (int l = 0; l < lines; l++) {
					size_t n = 1 + rnd() % 40;

					for (size_t j = 0; j < n; j++)
						put8(&m, alpha[rnd() % (sizeof(alpha) - 1)]);
					str(&m, "\r\n");
				}
				CHECK_EQ(mid_send(&c, k & 1, m.b, m.n), 0);
			}
			CHECK_EQ(mid_flow(&c, &f), 0);
			if (f.confidence > PKS_C_PORT && f.proto != PKS_P_UNKNOWN)
				named++;
		}
		pks_env_close(&c.env);
	}
	CHECK_EQ(named, 0);
}
