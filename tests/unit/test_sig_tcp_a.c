// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The tcp_a signatures (web, remote access, files, mail, chat) through the real
 * XDP object: for each protocol a first message that reaches `signature`, an
 * exchange that reaches `confirmed`, and payloads that must not match: random
 * bytes, other protocols' messages and near misses.
 */
#include <stdlib.h>

#include "harness.h"
#include "pkt.h"

#define CLI "198.18.0.1"
#define SRV "198.18.0.2"

/* One message of a conversation: who sends it and its bytes. */
struct msg {
	int from_server;
	const void *data;
	size_t len;
};

#define C(s) { 0, (s), sizeof(s) - 1 }
#define S(s) { 1, (s), sizeof(s) - 1 }

/*
 * Runs a TCP connection cport -> port: handshake, then the messages in order,
 * and reads its flow. Each call uses its own client port, so one loaded object
 * serves many flows.
 */
static int converse(struct pks_env *env, uint16_t cport, uint16_t port, const struct msg *msgs, int n,
		    struct pks_flow_view *out)
{
	struct pkt_spec syn = PKT_TCP4(CLI, cport, SRV, port, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP4(SRV, port, CLI, cport, TCPF_SYN | TCPF_ACK);
	int i, err;

	if ((err = pks_env_run(env, &syn)) || (err = pks_env_run(env, &synack)))
		return err;
	for (i = 0; i < n; i++) {
		struct pkt_spec s = msgs[i].from_server ? PKT_TCP4(SRV, port, CLI, cport, TCPF_PSH | TCPF_ACK)
							: PKT_TCP4(CLI, cport, SRV, port, TCPF_PSH | TCPF_ACK);

		s.payload = msgs[i].data;
		s.payload_len = msgs[i].len;
		if ((err = pks_env_run(env, &s)))
			return err;
	}
	return pks_env_flow(env, &syn, out);
}

static uint16_t next_port = 30000;

#define CONVERSE(env, port, f, ...)                                                                       \
	do {                                                                                              \
		const struct msg _m[] = { __VA_ARGS__ };                                                  \
		CHECK_EQ(converse((env), next_port++, (port), _m, (int)(sizeof(_m) / sizeof(_m[0])), (f)), 0); \
	} while (0)

/* The flow ends with proto at confidence conf by rule. */
#define EXPECT(f, p, conf, r)                 \
	do {                                  \
		CHECK_EQ((f).proto, PKS_P_##p); \
		CHECK_EQ((f).confidence, (conf)); \
		CHECK_EQ((f).rule, PKS_R_##r);  \
	} while (0)

/* Nothing above a port guess. */
#define EXPECT_NO_SIG(f) CHECK((f).confidence < PKS_C_SIGNATURE)

/* ---- HTTP/2 ---- */

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const char h2_settings[] = "\x00\x00\x12\x04\x00\x00\x00\x00\x00"
				  "\x00\x03\x00\x00\x00\x64\x00\x04\x40\x00\x00\x00\x00\x02\x00\x00\x00\x00";

TEST(tcp_a_http2)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 8080, &f, C(h2_preface));
	EXPECT(f, HTTP2, PKS_C_SIGNATURE, HTTP2_PREFACE);
	CONVERSE(&env, 8081, &f, C(h2_preface), S(h2_settings));
	EXPECT(f, HTTP2, PKS_C_CONFIRMED, HTTP2_SETTINGS);
	/* Servers send their SETTINGS at once, often before the preface arrives. */
	CONVERSE(&env, 40001, &f, S(h2_settings), C(h2_preface));
	EXPECT(f, HTTP2, PKS_C_CONFIRMED, HTTP2_PREFACE);
	/* A SETTINGS frame later in a stream, or one with the ACK flag, is not evidence alone. */
	CONVERSE(&env, 40001, &f, S("hello"), S(h2_settings));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40001, &f, S("\x00\x00\x00\x04\x01\x00\x00\x00\x00"));
	EXPECT_NO_SIG(f);
	/* A cut preface is not a preface. */
	CONVERSE(&env, 40001, &f, { 0, h2_preface, 20 });
	EXPECT_NO_SIG(f);
	/* HTTP/1.1 stays HTTP. */
	CONVERSE(&env, 8080, &f, C("GET / HTTP/1.1\r\n\r\n"), S("HTTP/1.1 200 OK\r\n"));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	pks_env_close(&env);
}

/* ---- Upgrades from HTTP/1.1: h2c and WebSocket ---- */

static const char h2c_req[] = "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nConnection: Upgrade, HTTP2-Settings\r\n"
			      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
static const char h2c_101[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
static const char ws_req[] = "GET /chat HTTP/1.1\r\nHost: 198.18.0.2\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
static const char ws_101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
/* RFC 6455 5.7: a masked "Hello" from the client, an unmasked one from the server. */
static const char ws_client_hello[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
static const char ws_server_hello[] = "\x81\x05\x48\x65\x6c\x6c\x6f";

TEST(tcp_a_upgrades)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	/* h2c: the preface after the 101 replaces HTTP, the server's SETTINGS confirms. */
	CONVERSE(&env, 80, &f, C(h2c_req), S(h2c_101), C(h2_preface));
	EXPECT(f, HTTP2, PKS_C_SIGNATURE, HTTP2_UPGRADE);
	CHECK(!(f.flags & PKS_F_DECIDED));
	CONVERSE(&env, 80, &f, C(h2c_req), S(h2c_101), C(h2_preface), S(h2_settings));
	EXPECT(f, HTTP2, PKS_C_CONFIRMED, HTTP2_SETTINGS);
	CHECK(f.flags & PKS_F_DECIDED);
	/* h2c where the server's SETTINGS follows its 101 before the client's preface arrives. */
	CONVERSE(&env, 80, &f, C(h2c_req), S(h2c_101), S(h2_settings), C(h2_preface));
	EXPECT(f, HTTP2, PKS_C_CONFIRMED, HTTP2_PREFACE);
	/* An empty continuation frame first is not WebSocket (RFC 6455 5.4). */
	CONVERSE(&env, 80, &f, C(ws_req), S(ws_101), S("\x00\x00"));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	/* WebSocket: the client's masked frame replaces HTTP, the server's frame confirms. */
	CONVERSE(&env, 8080, &f, C(ws_req), S(ws_101), C(ws_client_hello), S(ws_server_hello));
	EXPECT(f, WEBSOCKET, PKS_C_CONFIRMED, WEBSOCKET_FRAME);
	/* The server may speak first after the 101. */
	CONVERSE(&env, 8765, &f, C(ws_req), S(ws_101), S(ws_server_hello), C(ws_client_hello));
	EXPECT(f, WEBSOCKET, PKS_C_CONFIRMED, WEBSOCKET_FRAME);
	/* Until something follows, a 101 leaves HTTP confirmed and the flow open. */
	CONVERSE(&env, 80, &f, C(ws_req), S(ws_101));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	CHECK(f.flags & PKS_F_UPGRADE);
	CHECK(!(f.flags & PKS_F_DECIDED));
	/* Not upgrades: frames without a 101; an unmasked client frame; random bytes after the 101. */
	CONVERSE(&env, 80, &f, C(ws_req), S("HTTP/1.1 200 OK\r\n\r\n"), C(ws_client_hello));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	CONVERSE(&env, 80, &f, C(ws_req), S(ws_101), C(ws_server_hello));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	CONVERSE(&env, 80, &f, C(ws_req), S(ws_101), C("\x9c\x3e\x11\x02random"), S("\x4f\x01garbage"),
		 C("\xffmore"), S("\x07\x07x"), C("\x13\x37x"), S("\x55\xaay"), C("\x01\x01z"));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	CHECK(f.flags & PKS_F_DECIDED);
	/* A preface without a 101 on an HTTP flow does not replace the verdict. */
	CONVERSE(&env, 80, &f, C("GET / HTTP/1.1\r\n\r\n"), C(h2_preface));
	EXPECT(f, HTTP, PKS_C_SIGNATURE, HTTP_REQUEST);
	pks_env_close(&env);
}

/* ---- SOCKS and HTTP proxy ---- */

TEST(tcp_a_socks)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 1080, &f, C("\x05\x02\x00\x02"));
	EXPECT(f, SOCKS, PKS_C_SIGNATURE, SOCKS5_GREETING);
	CONVERSE(&env, 9050, &f, C("\x05\x01\x00"), S("\x05\x00"));
	EXPECT(f, SOCKS, PKS_C_CONFIRMED, SOCKS5_METHOD);
	CONVERSE(&env, 1080, &f, C("\x04\x01\x00\x50\xc6\x12\x00\x02user\x00"), S("\x00\x5a\x00\x50\xc6\x12\x00\x02"));
	EXPECT(f, SOCKS, PKS_C_CONFIRMED, SOCKS4_REPLY);
	/* SOCKS 4A: DSTIP 0.0.0.1, then the host name. */
	CONVERSE(&env, 1080, &f, C("\x04\x01\x01\xbb\x00\x00\x00\x01\x00" "example.org\x00"));
	EXPECT(f, SOCKS, PKS_C_SIGNATURE, SOCKS4_REQUEST);
	/* Method count disagrees with the length; method 0xFF offered; reply without request. */
	CONVERSE(&env, 1080, &f, C("\x05\x02\x00"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	CONVERSE(&env, 1080, &f, C("\x05\x01\xff"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40002, &f, S("\x05\x00"));
	EXPECT_NO_SIG(f);
	/* SOCKS 4 without the USERID terminator. */
	CONVERSE(&env, 1080, &f, C("\x04\x01\x00\x50\xc6\x12\x00\x02user"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

TEST(tcp_a_http_proxy_connect)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 3128, &f, C("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"),
		 S("HTTP/1.1 200 Connection established\r\n\r\n"));
	EXPECT(f, HTTP_PROXY, PKS_C_CONFIRMED, HTTP_PROXY_RESPONSE);
	CONVERSE(&env, 8888, &f, C("CONNECT 198.18.0.9:22 HTTP/1.1\r\n\r\n"));
	EXPECT(f, HTTP_PROXY, PKS_C_SIGNATURE, HTTP_REQUEST);
	/* A plain response on the proxy port without a CONNECT is HTTP. */
	CONVERSE(&env, 3128, &f, C("GET http://example.org/ HTTP/1.1\r\n\r\n"), S("HTTP/1.1 200 OK\r\n\r\n"));
	EXPECT(f, HTTP, PKS_C_CONFIRMED, HTTP_RESPONSE);
	CONVERSE(&env, 3128, &f, C("\x16\x03\x01 random junk that is no request"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	pks_env_close(&env);
}

/* ---- Telnet ---- */

TEST(tcp_a_telnet)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 23, &f, S("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"));
	EXPECT(f, TELNET, PKS_C_SIGNATURE, TELNET_NEGOTIATION);
	CONVERSE(&env, 2323, &f, S("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"),
		 C("\xff\xfb\x18\xff\xfb\x20\xff\xfb\x23\xff\xfb\x27"));
	EXPECT(f, TELNET, PKS_C_CONFIRMED, TELNET_NEGOTIATION);
	/* Negotiation then data is fine after two commands; a subnegotiation. */
	CONVERSE(&env, 23, &f, S("\xff\xfb\x01\xff\xfb\x03\r\nlogin: "));
	EXPECT(f, TELNET, PKS_C_SIGNATURE, TELNET_NEGOTIATION);
	CONVERSE(&env, 23, &f, C("\xff\xfa\x18\x00xterm\xff\xf0"));
	EXPECT_NO_SIG(f); /* must open with WILL/WONT/DO/DONT */
	/* One IAC command then data, an unknown option, a bad command. */
	CONVERSE(&env, 23, &f, S("\xff\xfd\x18hello world"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 23, &f, S("\xff\xfd\x99\xff\xfd\x20"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 23, &f, S("\xff\xfd\x18\xff\x10\x20"));
	EXPECT_NO_SIG(f);
	/* One negotiation alone is kept; the answering negotiation names the flow. */
	CONVERSE(&env, 2323, &f, S("\xff\xfd\x18"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 2323, &f, S("\xff\xfd\x18"), C("\xff\xfb\x18"));
	EXPECT(f, TELNET, PKS_C_SIGNATURE, TELNET_NEGOTIATION);
	pks_env_close(&env);
}

/* ---- RDP ---- */

static const char rdp_cr[] = "\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00"
			     "Cookie: mstshash=user\r\n"
			     "\x01\x00\x08\x00\x03\x00\x00\x00";
static const char rdp_cc[] = "\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x02\x00\x00\x00";

TEST(tcp_a_rdp)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 3389, &f, C(rdp_cr));
	EXPECT(f, RDP, PKS_C_SIGNATURE, RDP_CONNECTION_REQUEST);
	CONVERSE(&env, 33890, &f, C(rdp_cr), S(rdp_cc));
	EXPECT(f, RDP, PKS_C_CONFIRMED, RDP_CONNECTION_CONFIRM);
	/* RDP_NEG_REQ without cookie. */
	CONVERSE(&env, 3389, &f, C("\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00"));
	EXPECT(f, RDP, PKS_C_SIGNATURE, RDP_CONNECTION_REQUEST);
	/* S7comm's COTP Connection Request (TSAP parameters) is not RDP. */
	CONVERSE(&env, 3389, &f,
		 C("\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	/* TPKT length disagreeing with the segment. */
	CONVERSE(&env, 3389, &f, C("\x03\x00\x00\x30\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- VNC ---- */

TEST(tcp_a_vnc)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 5900, &f, S("RFB 003.008\n"));
	EXPECT(f, VNC, PKS_C_SIGNATURE, VNC_VERSION);
	CONVERSE(&env, 5999, &f, S("RFB 003.008\n"), C("RFB 003.008\n"));
	EXPECT(f, VNC, PKS_C_CONFIRMED, VNC_VERSION);
	CONVERSE(&env, 5900, &f, S("RFB 3.8\n"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	CONVERSE(&env, 5900, &f, S("RFB 003.008\nextra"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- FTP and SMTP, and how they are told apart ---- */

TEST(tcp_a_ftp)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 21, &f, S("220 (vsFTPd 3.0.3)\r\n"));
	EXPECT(f, FTP, PKS_C_SIGNATURE, FTP_GREETING);
	CONVERSE(&env, 21, &f, S("220 (vsFTPd 3.0.3)\r\n"), C("USER anonymous\r\n"));
	EXPECT(f, FTP, PKS_C_CONFIRMED, FTP_COMMAND);
	/* A greeting that names nothing: the client's command decides, the reply confirms. */
	CONVERSE(&env, 2121, &f, S("220 Welcome to the archive\r\n"), C("USER anonymous\r\n"),
		 S("331 Please specify the password.\r\n"));
	EXPECT(f, FTP, PKS_C_CONFIRMED, FTP_REPLY);
	CONVERSE(&env, 21, &f, S("220-ProFTPD Server ready\r\n"), C("AUTH TLS\r\n"));
	EXPECT(f, FTP, PKS_C_CONFIRMED, FTP_COMMAND);
	CONVERSE(&env, 21, &f, C("FEAT\r\n"));
	EXPECT(f, FTP, PKS_C_SIGNATURE, FTP_COMMAND);
	/* Not FTP: an ambiguous greeting alone, a reply code without a command, "USER" without argument. */
	CONVERSE(&env, 21, &f, S("220 Welcome\r\n"));
	EXPECT(f, FTP, PKS_C_PORT, PORT);
	CONVERSE(&env, 40003, &f, S("331 Please specify the password.\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40003, &f, C("USER\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40003, &f, C("PASV\r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

TEST(tcp_a_smtp)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 25, &f, S("220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n"));
	EXPECT(f, SMTP, PKS_C_SIGNATURE, SMTP_GREETING);
	CONVERSE(&env, 25, &f, S("220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n"), C("EHLO client.example.org\r\n"));
	EXPECT(f, SMTP, PKS_C_CONFIRMED, SMTP_COMMAND);
	/* Ambiguous greeting: EHLO decides SMTP, the 250 reply confirms. */
	CONVERSE(&env, 2525, &f, S("220 relay.example.org ready\r\n"), C("EHLO [198.18.0.1]\r\n"),
		 S("250-relay.example.org\r\n250 8BITMIME\r\n"));
	EXPECT(f, SMTP, PKS_C_CONFIRMED, SMTP_REPLY);
	/* SMTP on the FTP port is SMTP, FTP on the SMTP port is FTP: the payload decides. */
	CONVERSE(&env, 21, &f, S("220 host ready\r\n"), C("HELO client\r\n"));
	EXPECT(f, SMTP, PKS_C_SIGNATURE, SMTP_COMMAND);
	CONVERSE(&env, 25, &f, S("220 host ready\r\n"), C("USER anonymous\r\n"));
	EXPECT(f, FTP, PKS_C_SIGNATURE, FTP_COMMAND);
	/* A greeting naming both is neither. */
	CONVERSE(&env, 40004, &f, S("220 SMTP and FTP gateway\r\n"));
	EXPECT(f, SMTP, PKS_C_SIGNATURE, SMTP_GREETING); /* "SMTP" wins: "FTP" never names SMTP */
	CONVERSE(&env, 40004, &f, S("220 ftp.example.org FTP server\r\n"));
	EXPECT(f, FTP, PKS_C_SIGNATURE, FTP_GREETING);
	/* MAIL FROM without a hello first is not taken. */
	CONVERSE(&env, 40004, &f, C("MAIL FROM:<a@b>\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40004, &f, C("EHLO \r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- POP3 and IMAP ---- */

TEST(tcp_a_pop3)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 110, &f, S("+OK Dovecot (Debian) ready.\r\n"));
	EXPECT(f, POP3, PKS_C_SIGNATURE, POP3_GREETING);
	CONVERSE(&env, 110, &f, S("+OK Dovecot (Debian) ready.\r\n"), C("CAPA\r\n"));
	EXPECT(f, POP3, PKS_C_CONFIRMED, POP3_COMMAND);
	/* USER after a POP3 greeting is POP3, not FTP. */
	CONVERSE(&env, 1110, &f, S("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"), C("USER mrose\r\n"));
	EXPECT(f, POP3, PKS_C_CONFIRMED, POP3_COMMAND);
	CONVERSE(&env, 110, &f, C("STLS\r\n"), S("+OK Begin TLS negotiation\r\n"));
	EXPECT(f, POP3, PKS_C_CONFIRMED, POP3_GREETING);
	/* Redis's "+OK" reply is not a POP3 greeting. */
	CONVERSE(&env, 40005, &f, S("+OK\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40005, &f, S("-ERR unknown command\r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

TEST(tcp_a_imap)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 143, &f, S("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE] Dovecot ready.\r\n"));
	EXPECT(f, IMAP, PKS_C_SIGNATURE, IMAP_GREETING);
	CONVERSE(&env, 143, &f, S("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"), C("a001 CAPABILITY\r\n"));
	EXPECT(f, IMAP, PKS_C_CONFIRMED, IMAP_COMMAND);
	/* Client first (midstream-like), lower-case command as Thunderbird sends it; server confirms. */
	CONVERSE(&env, 1143, &f, C("1 capability\r\n"), S("* CAPABILITY IMAP4rev1 STARTTLS\r\n1 OK done\r\n"));
	EXPECT(f, IMAP, PKS_C_CONFIRMED, IMAP_RESPONSE);
	CONVERSE(&env, 143, &f, S("* PREAUTH IMAP4rev1 server logged in as Smith\r\n"));
	EXPECT(f, IMAP, PKS_C_SIGNATURE, IMAP_GREETING);
	/* Not IMAP: a non-greeting on 143 contradicts; tag with a bad char; unknown command. */
	CONVERSE(&env, 143, &f, S("220 mail ESMTP\r\n"));
	CHECK(f.proto != PKS_P_IMAP);
	CONVERSE(&env, 143, &f, S("hello there\r\n"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	CONVERSE(&env, 40006, &f, C("a(1 LOGIN bob pw\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40006, &f, C("a1 FETCH 1 BODY[]\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40006, &f, S("* CAPABILITY IMAP4rev1\r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- SMB and NetBIOS ---- */

static const unsigned char smb2_neg_req[] = {
	0x00, 0x00, 0x00, 0x66, 0xfe, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void smb2_response(unsigned char *out, size_t len)
{
	memcpy(out, smb2_neg_req, len);
	out[4 + 16] = 0x01; /* SMB2_FLAGS_SERVER_TO_REDIRECTOR */
}

static const unsigned char smb1_neg_req[] = {
	0x00, 0x00, 0x00, 0x2f, 0xff, 'S', 'M', 'B', 0x72, 0x00, 0x00, 0x00, 0x00, 0x18, 0x43, 0xc8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 'N', 'T', ' ', 'L', 'M', ' ', '0', '.', '1', '2', 0x00,
};

static const char nbss_req[] = "\x81\x00\x00\x44"
			       "\x20" "EEEFEGEJEOEBEMCACACACACACACACAAA" "\x00"
			       "\x20" "EMEJENFEEFEMCACACACACACACACACAAA" "\x00";

TEST(tcp_a_smb)
{
	struct pks_env env;
	struct pks_flow_view f;
	unsigned char rsp[sizeof(smb2_neg_req)], smb1_rsp[sizeof(smb1_neg_req)];

	smb2_response(rsp, sizeof(rsp));
	memcpy(smb1_rsp, smb1_neg_req, sizeof(smb1_rsp));
	smb1_rsp[13] = 0x98; /* SMB_FLAGS_REPLY */
	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 445, &f, { 0, smb2_neg_req, sizeof(smb2_neg_req) });
	EXPECT(f, SMB2, PKS_C_SIGNATURE, SMB2_HEADER);
	CONVERSE(&env, 445, &f, { 0, smb2_neg_req, sizeof(smb2_neg_req) }, { 1, rsp, sizeof(rsp) });
	EXPECT(f, SMB2, PKS_C_CONFIRMED, SMB2_HEADER);
	CONVERSE(&env, 4450, &f, { 0, smb1_neg_req, sizeof(smb1_neg_req) }, { 1, smb1_rsp, sizeof(smb1_rsp) });
	EXPECT(f, SMB, PKS_C_CONFIRMED, SMB1_HEADER);
	/* On 139: the NetBIOS session request, then the positive response. */
	CONVERSE(&env, 139, &f, C(nbss_req), S("\x82\x00\x00\x00"));
	EXPECT(f, NETBIOS, PKS_C_CONFIRMED, NETBIOS_SESSION_RESPONSE);
	/* SMB 2 sent at once on 139 is SMB 2. */
	CONVERSE(&env, 139, &f, { 0, smb2_neg_req, sizeof(smb2_neg_req) });
	EXPECT(f, SMB2, PKS_C_SIGNATURE, SMB2_HEADER);
	/* Not SMB: a bad StructureSize, random bytes on 445, a lone positive response, bad names. */
	rsp[8] = 0x41;
	CONVERSE(&env, 445, &f, { 0, rsp, sizeof(rsp) });
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	CONVERSE(&env, 40007, &f, S("\x82\x00\x00\x00"));
	EXPECT_NO_SIG(f);
	{
		char bad[sizeof(nbss_req)];

		memcpy(bad, nbss_req, sizeof(bad));
		bad[10] = 'Z';
		CONVERSE(&env, 139, &f, { 0, bad, sizeof(bad) - 1 });
		EXPECT_NO_SIG(f);
	}
	pks_env_close(&env);
}

/* ---- ONC RPC ---- */

static const char rpc_call[] = "\x80\x00\x00\x28" "\x12\x34\x56\x78" "\x00\x00\x00\x00" "\x00\x00\x00\x02"
			       "\x00\x01\x86\xa0" "\x00\x00\x00\x02" "\x00\x00\x00\x00"
			       "\x00\x00\x00\x00" "\x00\x00\x00\x00" "\x00\x00\x00\x00" "\x00\x00\x00\x00";
static const char rpc_reply[] = "\x80\x00\x00\x18" "\x12\x34\x56\x78" "\x00\x00\x00\x01" "\x00\x00\x00\x00"
				"\x00\x00\x00\x00" "\x00\x00\x00\x00" "\x00\x00\x00\x00";

TEST(tcp_a_rpc)
{
	struct pks_env env;
	struct pks_flow_view f;
	char other[sizeof(rpc_reply)];

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 111, &f, C(rpc_call));
	EXPECT(f, NFS, PKS_C_SIGNATURE, RPC_CALL);
	CONVERSE(&env, 20490, &f, C(rpc_call), S(rpc_reply));
	EXPECT(f, NFS, PKS_C_CONFIRMED, RPC_REPLY);
	/* A reply with another xid does not confirm. */
	memcpy(other, rpc_reply, sizeof(other));
	other[7] = 0x79;
	CONVERSE(&env, 2049, &f, C(rpc_call), { 1, other, sizeof(other) - 1 });
	EXPECT(f, NFS, PKS_C_SIGNATURE, RPC_CALL);
	/* rpcvers 3 is not RPC; a reply alone is not evidence. */
	{
		char bad[sizeof(rpc_call)];

		memcpy(bad, rpc_call, sizeof(bad));
		bad[15] = 3;
		CONVERSE(&env, 40008, &f, { 0, bad, sizeof(bad) - 1 });
		EXPECT_NO_SIG(f);
	}
	CONVERSE(&env, 40008, &f, S(rpc_reply));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- rsync, git ---- */

TEST(tcp_a_rsync)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 873, &f, S("@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\n"));
	EXPECT(f, RSYNC, PKS_C_SIGNATURE, RSYNC_GREETING);
	CONVERSE(&env, 8730, &f, S("@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\n"), C("@RSYNCD: 31.0 md5\n"));
	EXPECT(f, RSYNC, PKS_C_CONFIRMED, RSYNC_GREETING);
	CONVERSE(&env, 873, &f, S("@RSYNCD: AUTHREQD abc\n"));
	EXPECT(f, UNKNOWN, PKS_C_NONE, PORT_CONTRADICTED);
	pks_env_close(&env);
}

static const char git_req[] = "0031git-upload-pack /project.git\0host=198.18.0.2\0";
static const char git_adv[] = "0103" "7217a7c7e582c46cec22a130adf4b9d7d950fba0" " HEAD\0multi_ack thin-pack\n";

TEST(tcp_a_git)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 9418, &f, C(git_req));
	EXPECT(f, GIT, PKS_C_SIGNATURE, GIT_REQUEST);
	CONVERSE(&env, 9419, &f, C(git_req), S(git_adv));
	EXPECT(f, GIT, PKS_C_CONFIRMED, GIT_ADVERTISEMENT);
	CONVERSE(&env, 9418, &f, C("001cgit-receive-pack /r.git\0"), S("000eversion 2\n"));
	EXPECT(f, GIT, PKS_C_CONFIRMED, GIT_ADVERTISEMENT);
	/* git's client sends the length digits in a segment of their own. */
	CONVERSE(&env, 9418, &f, C("0031"), C("git-upload-pack /project.git\0host=198.18.0.2\0"), S("000eversion 2\n"));
	EXPECT(f, GIT, PKS_C_CONFIRMED, GIT_ADVERTISEMENT);
	/* Wrong length, unknown service, advertisement alone, a body without the length first. */
	CONVERSE(&env, 9418, &f, C("0040git-upload-pack /project.git\0host=198.18.0.2\0"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40009, &f, C("git-upload-pack /project.git\0host=198.18.0.2\0"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40009, &f, C("002agit-frobnicate /project.git\0host=x\0"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40009, &f, S(git_adv));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- XMPP, IRC ---- */

static const char xmpp_c[] = "<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client' "
			     "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
static const char xmpp_s[] = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
			     "from='example.org' id='abc' version='1.0' xmlns='jabber:client'>";

TEST(tcp_a_xmpp)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 5222, &f, C(xmpp_c));
	EXPECT(f, XMPP, PKS_C_SIGNATURE, XMPP_STREAM);
	CONVERSE(&env, 5223, &f, C(xmpp_c), S(xmpp_s));
	EXPECT(f, XMPP, PKS_C_CONFIRMED, XMPP_STREAM);
	CONVERSE(&env, 5269, &f, C("<stream:stream xmlns='jabber:server'>"));
	EXPECT(f, XMPP, PKS_C_SIGNATURE, XMPP_STREAM);
	/* Other XML is not XMPP. */
	CONVERSE(&env, 40010, &f, C("<?xml version='1.0'?><soap:Envelope xmlns:soap='x'>"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40010, &f, C("<stream:streamer>"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

TEST(tcp_a_irc)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 6667, &f, C("NICK alice\r\nUSER alice 0 * :Alice\r\n"));
	EXPECT(f, IRC, PKS_C_SIGNATURE, IRC_REGISTRATION);
	CONVERSE(&env, 6697, &f, S(":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"),
		 C("CAP LS 302\r\n"));
	EXPECT(f, IRC, PKS_C_CONFIRMED, IRC_REGISTRATION);
	CONVERSE(&env, 6667, &f, C("USER alice 0 * :Alice Liddell\r\n"), S(":irc.example.net 001 alice :Welcome\r\n"));
	EXPECT(f, IRC, PKS_C_CONFIRMED, IRC_SERVER);
	/* FTP's USER is not IRC's; a prefix without a command; NICK with a digit first. */
	CONVERSE(&env, 40011, &f, C("USER alice\r\n"));
	CHECK(f.proto != PKS_P_IRC);
	CONVERSE(&env, 40011, &f, S(":irc.example.net HELLO world\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40011, &f, C("NICK 9lives\r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- RTSP ---- */

TEST(tcp_a_rtsp)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 554, &f, C("OPTIONS rtsp://198.18.0.2:554/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
	EXPECT(f, RTSP, PKS_C_SIGNATURE, RTSP_REQUEST);
	CONVERSE(&env, 8554, &f, C("DESCRIBE rtsp://198.18.0.2:8554/cam RTSP/1.0\r\nCSeq: 2\r\n\r\n"),
		 S("RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n"));
	EXPECT(f, RTSP, PKS_C_CONFIRMED, RTSP_RESPONSE);
	CONVERSE(&env, 554, &f, C("GET_PARAMETER rtsps://cam/x RTSP/2.0\r\n"));
	EXPECT(f, RTSP, PKS_C_SIGNATURE, RTSP_REQUEST);
	/* HTTP is not RTSP; a method with a non-RTSP URL; lower-case method. */
	CONVERSE(&env, 554, &f, C("GET / HTTP/1.1\r\n\r\n"));
	EXPECT(f, HTTP, PKS_C_SIGNATURE, HTTP_REQUEST);
	CONVERSE(&env, 40012, &f, C("DESCRIBE ftp://198.18.0.2/x RTSP/1.0\r\n"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40012, &f, C("describe rtsp://198.18.0.2/x RTSP/1.0\r\n"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- BitTorrent, OpenVPN ---- */

static const char bt_hs[] = "\x13" "BitTorrent protocol" "\x00\x00\x00\x00\x00\x10\x00\x05"
			    "0123456789abcdefghij" "-qB4500-abcdefghijkl";

static const char ovpn_c[] = "\x00\x0e\x38" "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18" "\x00" "\x00\x00\x00\x00";
static const char ovpn_s[] = "\x00\x1a\x40" "\x11\x22\x33\x44\x55\x66\x77\x88" "\x01" "\x00\x00\x00\x00"
			     "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18" "\x00\x00\x00\x00";

TEST(tcp_a_bittorrent_openvpn)
{
	struct pks_env env;
	struct pks_flow_view f;
	char other[sizeof(ovpn_s)];

	CHECK(pks_env_open(&env) == 0);
	CONVERSE(&env, 6881, &f, C(bt_hs));
	EXPECT(f, BITTORRENT, PKS_C_SIGNATURE, BITTORRENT_HANDSHAKE);
	CONVERSE(&env, 51413, &f, C(bt_hs), S(bt_hs));
	EXPECT(f, BITTORRENT, PKS_C_CONFIRMED, BITTORRENT_HANDSHAKE);
	CONVERSE(&env, 40013, &f, C("\x13" "BitTorrent protocoX" "\x00\x00\x00\x00\x00\x00\x00\x00"));
	EXPECT_NO_SIG(f);

	CONVERSE(&env, 1194, &f, C(ovpn_c));
	EXPECT(f, OPENVPN, PKS_C_SIGNATURE, OPENVPN_CLIENT_RESET);
	CONVERSE(&env, 443, &f, C(ovpn_c), S(ovpn_s));
	EXPECT(f, OPENVPN, PKS_C_CONFIRMED, OPENVPN_SERVER_RESET);
	/* The server must echo the client's session ID. */
	memcpy(other, ovpn_s, sizeof(other));
	other[15] ^= 1;
	CONVERSE(&env, 1194, &f, C(ovpn_c), { 1, other, sizeof(other) - 1 });
	EXPECT(f, OPENVPN, PKS_C_SIGNATURE, OPENVPN_CLIENT_RESET);
	/* Wrong length prefix, non-zero ACK count in a bare client reset. */
	CONVERSE(&env, 40013, &f, C("\x00\x0f\x38" "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18" "\x00" "\x00\x00\x00\x00"));
	EXPECT_NO_SIG(f);
	CONVERSE(&env, 40013, &f, C("\x00\x0e\x38" "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18" "\x02" "\x00\x00\x00\x00"));
	EXPECT_NO_SIG(f);
	pks_env_close(&env);
}

/* ---- Random payloads: none of the group's protocols, on their ports or any other ---- */

static const uint16_t group_ports[] = { 21, 23, 25, 110, 111, 139, 143, 445, 554, 587, 873, 1080, 1194, 2049,
					3128, 3389, 5222, 5269, 5900, 6667, 6881, 9418, 40014 };

TEST(tcp_a_random_stays_unknown)
{
	struct pks_env env;
	struct pks_flow_view f;
	unsigned int seed = 20261126, round;
	size_t i;

	CHECK(pks_env_open(&env) == 0);
	for (round = 0; round < 12; round++) {
		for (i = 0; i < sizeof(group_ports) / sizeof(group_ports[0]); i++) {
			unsigned char a[64], b[64];
			size_t la = 1 + rand_r(&seed) % 64, lb = 1 + rand_r(&seed) % 64, k;

			for (k = 0; k < sizeof(a); k++) {
				a[k] = (unsigned char)rand_r(&seed);
				b[k] = (unsigned char)rand_r(&seed);
			}
			/* Half of the rounds use printable text, where the text signatures live. */
			if (round & 1)
				for (k = 0; k < sizeof(a); k++) {
					a[k] = 0x20 + a[k] % 0x5f;
					b[k] = 0x20 + b[k] % 0x5f;
				}
			CONVERSE(&env, group_ports[i], &f, { 1, b, lb }, { 0, a, la });
			CHECK(f.confidence < PKS_C_SIGNATURE);
		}
	}
	pks_env_close(&env);
}
