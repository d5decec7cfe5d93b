// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * UDP signatures through the real XDP object: per protocol a first message
 * (signature), its answer (confirmed, or not when the transaction ID differs),
 * and negatives (random bytes, truncated messages, other protocols), plus the
 * rules that separate protocols sharing a shape (RTP/RTCP/STUN,
 * DNS/mDNS/LLMNR/NBNS, SSDP/SIP). Payloads are built from the specifications
 * each signature cites.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"

#define C_ADDR "198.18.0.1"
#define S_ADDR "198.18.0.2"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (h[0] && h[1] && n < max) {
		unsigned int v;

		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* Sends one datagram from src:sp to dst:dp. */
static int send_udp(struct pks_env *env, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		    const void *pl, size_t len)
{
	struct pkt_spec s = PKT_UDP4(src, sp, dst, dp);

	s.payload = pl;
	s.payload_len = len;
	return pks_env_run(env, &s);
}

static int send_hex(struct pks_env *env, const char *src, uint16_t sp, const char *dst, uint16_t dp, const char *hex)
{
	uint8_t buf[2048];
	size_t n = unhex(hex, buf, sizeof(buf));

	return send_udp(env, src, sp, dst, dp, buf, n);
}

static int get_flow(struct pks_env *env, uint16_t cport, uint16_t sport, struct pks_flow_view *f)
{
	struct pkt_spec s = PKT_UDP4(C_ADDR, cport, S_ADDR, sport);

	return pks_env_flow(env, &s, f);
}

/* c2s then s2c hex payloads (either may be NULL) between C_ADDR:cport and S_ADDR:sport. */
static int exchange(struct pks_env *env, uint16_t cport, uint16_t sport, const char *c2s, const char *s2c)
{
	int err = 0;

	if (c2s)
		err = send_hex(env, C_ADDR, cport, S_ADDR, sport, c2s);
	if (!err && s2c)
		err = send_hex(env, S_ADDR, sport, C_ADDR, cport, s2c);
	return err;
}

#define EXCHANGE(env, cport, sport, c2s, s2c) CHECK_EQ(exchange(env, cport, sport, c2s, s2c), 0)

#define EXPECT(env, cport, sport, p, c, r)                    \
	do {                                                  \
		struct pks_flow_view _f;                           \
		CHECK_EQ(get_flow(env, cport, sport, &_f), 0); \
		CHECK_EQ(_f.proto, p);                        \
		CHECK_EQ(_f.confidence, c);                   \
		CHECK_EQ(_f.rule, r);                         \
	} while (0)

/* A request then a reply: the request alone is a signature, the reply confirms. */
#define PAIR_TEST(name, cport, sport, req, rsp, want, rule_req, rule_rsp)                      \
	TEST(name)                                                                              \
	{                                                                                       \
		struct pks_env env;                                                             \
		CHECK(pks_env_open(&env) == 0);                                                 \
		EXCHANGE(&env, cport, sport, req, NULL);                                        \
		EXPECT(&env, cport, sport, want, PKS_C_SIGNATURE, rule_req);                   \
		EXCHANGE(&env, cport, sport, NULL, rsp);                                        \
		EXPECT(&env, cport, sport, want, PKS_C_CONFIRMED, rule_rsp);                   \
		pks_env_close(&env);                                                            \
	}

/* --- payloads, built from the cited specifications --- */

/* RFC 6347 4.1/4.2.2: DTLS 1.0 record, ClientHello offering DTLS 1.2. */
static const char dtls_ch[] = "16feff000000000000000000360100002a000000000000002afefd"
			      "1111111111111111111111111111111111111111111111111111111111111111"
			      "00000002c02b0100";
/* RFC 6347 4.2.1: HelloVerifyRequest with an 8-byte cookie. */
static const char dtls_hvr[] = "16feff000000000000000000170300000b000000000000000bfeff082222222222222222";
/* RFC 8489: Binding request, transaction ID 0102..0c; success response echoing it. */
static const char stun_req[] = "000100002112a442" "0102030405060708090a0b0c";
static const char stun_rsp[] = "0101000c2112a442" "0102030405060708090a0b0c" "0020000800011a2b3a1e4a03";
static const char stun_rsp_other[] = "0101000c2112a442" "ffff030405060708090a0b0c" "0020000800011a2b3a1e4a03";
/* RFC 1002 4.2.12: NBNS name query for WORKSTATION<00>, and its positive response. */
static const char nbns_q[] = "12340110000100000000000020464845504643454c4644464545424645454a4550454f43414341"
			     "4341434141410000200001";
static const char nbns_r[] = "12348500000000010000000020464845504643454c4644464545424645454a4550454f43414341"
			     "4341434141410000200001000493e000060000c6120002";
/* RFC 1002 4.4.1: direct group datagram from WORKSTATION to WORKGROUP. */
static const char nbds_dgm[] = "11021234c6120001008a005d0000"
			       "20464845504643454c4644464545424645454a4550454f434143414341434141410020464845504643454c45484643455046464641434143414341434143414341424f00"
			       "ff534d42250000000000000000000000000000000000000000";
/* RFC 1035 4.1: a plain query for example.com. */
static const char dns_q[] = "424201000001000000000000076578616d706c6503636f6d0000010001";
/* RFC 6762: query with two questions (PTR _http._tcp.local, _ipp._tcp.local), ID 0. */
static const char mdns_q[] = "000001000002000000000000055f68747470045f746370056c6f63616c00000c0001045f697070045f"
			     "746370056c6f63616c00000c0001";
/* RFC 6762 6: response, AA, no question, one PTR answer. */
static const char mdns_r[] = "000084000000000100000000055f68747470045f746370056c6f63616c00000c000100000000001603"
			     "776562055f68747470045f746370056c6f63616c00";
/* RFC 4795 2.1.1: LLMNR query for "printer". */
static const char llmnr_q[] = "555500000001000000000000077072696e7465720000010001";
/* RFC 8415: SOLICIT (client ID, elapsed time, IA_NA) and ADVERTISE, transaction-id abcdef. */
static const char dhcp6_sol[] = "01abcdef0001000a000300010200000000010008000200000003000c000000010000000000000000";
static const char dhcp6_adv[] = "02abcdef0001000a000300010200000000010002000a00030001020000000002";
/* RFC 5905 7.3: client mode 3 (transmit fraction 80000000) and the server's reply echoing it. */
static const char ntp_c[] = "230006ec0000000000000000000000000000000000000000eeb26a53df29600000000000000000006553f10080000000";
static const char ntp_s[] = "240206e900000000000000007f0000016553f100000000006553f100800000006553f100999998006553f100b3333400";
static const char ntp_s_other[] = "240206e900000000000000007f0000016553f100000000006553f100123456786553f100999998006553f100b3333400";
/* RFC 3416: v2c GetRequest and GetResponse for sysDescr.0, community "public". */
static const char snmp_get[] = "302602010104067075626c6963a01902014d020100020100300e300c06082b060102010101000500";
static const char snmp_rsp[] = "302b02010104067075626c6963a21e02014d0201000201003013301106082b0601020101010004054c696e7578";
/* RFC 2865: Access-Request (User-Name, User-Password) id 9 and Access-Accept id 9. */
static const char radius_req[] = "0109002d414141414141414141414141414141410107616c696365021242424242424242424242424242424242";
static const char radius_acc[] = "0209001443434343434343434343434343434343";
static const char radius_acc_other[] = "020a001443434343434343434343434343434343";
/* RFC 7296 3.1: IKE_SA_INIT request and response (payload bodies elided to one empty SA). */
static const char ike_init[] = "111111111111111100000000000000002120220800000000000000240000000800000000";
static const char ike_resp[] = "111111111111111122222222222222222120222000000000000000240000000800000000";
/* RFC 2661: SCCRQ and SCCRP (Message Type AVP only). */
static const char l2tp_sccrq[] = "c802001400000000000000008008000000000001";
static const char l2tp_sccrp[] = "c802001400010000000000018008000000000002";
/* RFC 4120 5.4.1 / 5.9.1: AS-REQ and KRB-ERROR (DER). */
static const char krb_asreq[] = "6a30302ea103020105a20302010aa4223020a00703050050000010a20d1b0b4558414d504c452e4f5247"
				"a706020412345678";
static const char krb_err[] = "7e383036a003020105a10302011ea411180f32303236303130313030303030305aa503020100a603020119"
			      "a90d1b0b4558414d504c452e4f5247";
/* RFC 5531: rpcbind GETPORT call (prog 100000 v2 proc 3, AUTH_NONE) and accepted reply. */
static const char rpc_call[] = "5eed00010000000000000002000186a0000000020000000300000000000000000000000000000000"
			       "000186a3000000030000001100000000";
static const char rpc_reply[] = "5eed0001000000010000000000000000000000000000000000000801";
/* RFC 7252: CON GET /temp (token 2 bytes) and the piggybacked ACK 2.05 Content. */
static const char coap_get[] = "42011234abcdb873656e736f727331"; /* Uri-Path "sensors1" */
/* The same with a short Uri-Path "temp": on 5683 only the response that echoes it names the flow. */
static const char coap_get_short[] = "42011234abcdb474656d70";
static const char coap_ack_other[] = "62455678abcdc000ff32322e35";
static const char coap_ack[] = "62451234abcdc000ff32322e35";
/* UPnP DA 1.3.2 / 1.3.3: M-SEARCH and a search response. */
static const char ssdp_msearch_txt[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
				       "MX: 1\r\nST: ssdp:all\r\n\r\n";
static const char ssdp_ok_txt[] = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n\r\n";
static const char ssdp_notify_txt[] = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n\r\n";
static const char sip_notify_txt[] = "NOTIFY sip:alice@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2\r\n\r\n";
static const char sip_invite_txt[] = "INVITE sip:bob@198.18.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5060\r\n\r\n";
static const char sip_trying_txt[] = "SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP 198.18.0.1:5060\r\n\r\n";
/* RFC 5424 and RFC 3164 messages. */
static const char syslog5424_txt[] = "<34>1 2026-01-01T00:00:00Z host app 1 - - hello";
static const char syslog3164_txt[] = "<13>Jan  1 00:00:00 host app: hello";

static void hex_of(const char *txt, char *out)
{
	for (; *txt; txt++, out += 2)
		sprintf(out, "%02x", (unsigned char)*txt);
	*out = 0;
}

/* Strips spaces from a hex literal written with spaces for readability. */
static const char *packed(const char *h)
{
	static char buf[8][4096];
	static int k;
	char *o = buf[k++ & 7], *start = o;

	for (; *h; h++)
		if (*h != ' ')
			*o++ = *h;
	*o = 0;
	return start;
}

PAIR_TEST(udp_dtls_hello_verify_confirms, 40000, 4433, dtls_ch, dtls_hvr, PKS_P_DTLS, PKS_R_DTLS_CLIENT_HELLO,
	  PKS_R_DTLS_SERVER_HELLO)
PAIR_TEST(udp_stun_binding_confirms, 40001, 3478, stun_req, stun_rsp, PKS_P_STUN, PKS_R_STUN_REQUEST,
	  PKS_R_STUN_RESPONSE)
PAIR_TEST(udp_stun_on_any_port, 40002, 19302, stun_req, stun_rsp, PKS_P_STUN, PKS_R_STUN_REQUEST,
	  PKS_R_STUN_RESPONSE)
PAIR_TEST(udp_nbns_query_confirms, 137, 137, nbns_q, nbns_r, PKS_P_NETBIOS, PKS_R_NBNS_REQUEST,
	  PKS_R_NBNS_RESPONSE)
PAIR_TEST(udp_dhcpv6_solicit_advertise_confirms, 546, 547, dhcp6_sol, dhcp6_adv, PKS_P_DHCPV6,
	  PKS_R_DHCPV6_CLIENT, PKS_R_DHCPV6_SERVER)
PAIR_TEST(udp_ntp_origin_matches_confirms, 40003, 123, ntp_c, ntp_s, PKS_P_NTP, PKS_R_NTP_CLIENT,
	  PKS_R_NTP_SERVER)
PAIR_TEST(udp_snmp_get_response_confirms, 40004, 161, snmp_get, snmp_rsp, PKS_P_SNMP, PKS_R_SNMP_REQUEST,
	  PKS_R_SNMP_RESPONSE)
PAIR_TEST(udp_radius_identifier_confirms, 40005, 1812, radius_req, radius_acc, PKS_P_RADIUS,
	  PKS_R_RADIUS_REQUEST, PKS_R_RADIUS_RESPONSE)
PAIR_TEST(udp_ike_sa_init_confirms, 500, 500, ike_init, ike_resp, PKS_P_IKE, PKS_R_IKE_INIT, PKS_R_IKE_RESPONSE)
PAIR_TEST(udp_l2tp_sccrq_sccrp_confirms, 40006, 1701, l2tp_sccrq, l2tp_sccrp, PKS_P_L2TP, PKS_R_L2TP_SCCRQ,
	  PKS_R_L2TP_SCCRP)
PAIR_TEST(udp_kerberos_as_req_error_confirms, 40007, 88, krb_asreq, krb_err, PKS_P_KERBEROS,
	  PKS_R_KERBEROS_REQUEST, PKS_R_KERBEROS_REPLY)
PAIR_TEST(udp_coap_get_ack_confirms, 40008, 5683, coap_get, coap_ack, PKS_P_COAP, PKS_R_COAP_REQUEST,
	  PKS_R_COAP_RESPONSE)
PAIR_TEST(udp_mdns_unicast_query_response_confirms, 40009, 5353, mdns_q, mdns_r, PKS_P_MDNS, PKS_R_MDNS_QUERY,
	  PKS_R_MDNS_RESPONSE)
PAIR_TEST(udp_dtls_on_random_port, 40010, 23456, dtls_ch, dtls_hvr, PKS_P_DTLS, PKS_R_DTLS_CLIENT_HELLO,
	  PKS_R_DTLS_SERVER_HELLO)
PAIR_TEST(udp_radius_on_random_port, 40011, 31812, radius_req, radius_acc, PKS_P_RADIUS, PKS_R_RADIUS_REQUEST,
	  PKS_R_RADIUS_RESPONSE)

/*
 * CoAP on 5683 without a URI of 8 printable characters: the request alone
 * leaves the port's guess (random datagrams pass its form), the ACK with its
 * message ID names the flow; an ACK with another ID names nothing.
 */
TEST(udp_coap_short_request_named_by_its_ack)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40012, 5683, coap_get_short, NULL);
	EXPECT(&env, 40012, 5683, PKS_P_COAP, PKS_C_PORT, PKS_R_PORT);
	EXCHANGE(&env, 40012, 5683, NULL, coap_ack);
	EXPECT(&env, 40012, 5683, PKS_P_COAP, PKS_C_SIGNATURE, PKS_R_COAP_RESPONSE);
	EXCHANGE(&env, 40013, 5683, coap_get_short, NULL);
	EXCHANGE(&env, 40013, 5683, NULL, coap_ack_other);
	EXPECT(&env, 40013, 5683, PKS_P_COAP, PKS_C_PORT, PKS_R_PORT);
	pks_env_close(&env);
}

/* A request with a URI to another port than 5683 is kept; the ACK that echoes it names the flow. */
TEST(udp_coap_request_off_its_port_named_by_its_ack)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40019, 25683, coap_get, NULL);
	EXPECT(&env, 40019, 25683, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	EXCHANGE(&env, 40019, 25683, NULL, coap_ack);
	EXPECT(&env, 40019, 25683, PKS_P_COAP, PKS_C_SIGNATURE, PKS_R_COAP_RESPONSE);
	EXCHANGE(&env, 40020, 25684, coap_get, coap_ack_other);
	EXPECT(&env, 40020, 25684, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

/*
 * NTP mode 6 (RFC 9327 2): ntpq's READVAR (opcode 2) with sequence 1 and no
 * data; the response repeats the sequence and opcode with R set and carries
 * four data bytes. A response names the flow only after its request.
 */
static const char ntp6_req[] = "160200010000000000000000";
static const char ntp6_rsp[] = "16820001061500000000000476657273";
static const char ntp6_rsp_other_seq[] = "16820002061500000000000476657273";

PAIR_TEST(udp_ntp_control_readvar_confirms, 40014, 123, ntp6_req, ntp6_rsp, PKS_P_NTP, PKS_R_NTP_CONTROL,
	  PKS_R_NTP_CONTROL)
PAIR_TEST(udp_ntp_control_on_random_port, 40015, 31123, ntp6_req, ntp6_rsp, PKS_P_NTP, PKS_R_NTP_CONTROL,
	  PKS_R_NTP_CONTROL)

TEST(udp_ntp_control_response_needs_its_request)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	/* A response alone: the port's guess on 123, nothing elsewhere. */
	EXCHANGE(&env, 40016, 123, NULL, ntp6_rsp);
	EXPECT(&env, 40016, 123, PKS_P_NTP, PKS_C_PORT, PKS_R_PORT);
	EXCHANGE(&env, 40017, 31124, NULL, ntp6_rsp);
	EXPECT(&env, 40017, 31124, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/* The response to another request does not confirm. */
	EXCHANGE(&env, 40018, 123, ntp6_req, ntp6_rsp_other_seq);
	EXPECT(&env, 40018, 123, PKS_P_NTP, PKS_C_SIGNATURE, PKS_R_NTP_CONTROL);
	pks_env_close(&env);
}

/* Transaction IDs that differ keep the verdict at signature. */
#define MISMATCH_TEST(name, cport, sport, req, rsp, want)                          \
	TEST(name)                                                                  \
	{                                                                           \
		struct pks_env env;                                                 \
		struct pks_flow_view f;                                                  \
		CHECK(pks_env_open(&env) == 0);                                     \
		EXCHANGE(&env, cport, sport, req, rsp);                             \
		CHECK_EQ(get_flow(&env, cport, sport, &f), 0);                      \
		CHECK_EQ(f.proto, want);                                            \
		CHECK_EQ(f.confidence, PKS_C_SIGNATURE);                            \
		pks_env_close(&env);                                                \
	}

MISMATCH_TEST(udp_stun_other_transaction_no_confirm, 40020, 3478, stun_req, stun_rsp_other, PKS_P_STUN)
MISMATCH_TEST(udp_ntp_other_origin_no_confirm, 40021, 123, ntp_c, ntp_s_other, PKS_P_NTP)
MISMATCH_TEST(udp_radius_other_identifier_no_confirm, 40022, 1812, radius_req, radius_acc_other, PKS_P_RADIUS)

/*
 * An Access-Request whose first attribute runs past the window: taken only
 * on its server port and in its direction (to 1812), not to the accounting
 * port nor sent from 1812 (RFC 2865 3, RFC 2866 3).
 */
#define RADIUS_LONG_REQ                                                                                     \
	"01070062" "41414141414141414141414141414141" "013c"                                                \
	"6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161" \
	"6161616161616161" "5012" "42424242424242424242424242424242"
TEST(udp_radius_port_and_direction)
{
	struct pks_env env;
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40030, 1812, RADIUS_LONG_REQ, NULL);
	EXPECT(&env, 40030, 1812, PKS_P_RADIUS, PKS_C_SIGNATURE, PKS_R_RADIUS_REQUEST);
	EXCHANGE(&env, 40031, 1813, RADIUS_LONG_REQ, NULL);
	CHECK_EQ(get_flow(&env, 40031, 1813, &f), 0);
	CHECK(f.confidence != PKS_C_SIGNATURE && f.confidence != PKS_C_CONFIRMED);
	EXCHANGE(&env, 1812, 40032, RADIUS_LONG_REQ, NULL);
	CHECK_EQ(get_flow(&env, 1812, 40032, &f), 0);
	CHECK(f.confidence != PKS_C_SIGNATURE && f.confidence != PKS_C_CONFIRMED);
	pks_env_close(&env);
}

TEST(udp_text_protocols)
{
	struct pks_env env;
	char a[512], b[512];

	CHECK(pks_env_open(&env) == 0);
	hex_of(ssdp_msearch_txt, a);
	hex_of(ssdp_ok_txt, b);
	EXCHANGE(&env, 40030, 1900, a, NULL);
	EXPECT(&env, 40030, 1900, PKS_P_SSDP, PKS_C_SIGNATURE, PKS_R_SSDP_REQUEST);
	EXCHANGE(&env, 40030, 1900, NULL, b);
	EXPECT(&env, 40030, 1900, PKS_P_SSDP, PKS_C_CONFIRMED, PKS_R_SSDP_RESPONSE);

	hex_of(sip_invite_txt, a);
	hex_of(sip_trying_txt, b);
	EXCHANGE(&env, 5060, 5060, a, b);
	EXPECT(&env, 5060, 5060, PKS_P_SIP, PKS_C_CONFIRMED, PKS_R_SIP_RESPONSE);

	hex_of(syslog5424_txt, a);
	EXCHANGE(&env, 40031, 514, a, NULL);
	EXPECT(&env, 40031, 514, PKS_P_SYSLOG, PKS_C_SIGNATURE, PKS_R_SYSLOG);
	hex_of(syslog3164_txt, a);
	EXCHANGE(&env, 40032, 5514, a, NULL);
	EXPECT(&env, 40032, 5514, PKS_P_SYSLOG, PKS_C_SIGNATURE, PKS_R_SYSLOG);
	pks_env_close(&env);
}

/*
 * SIP keepalives (RFC 5626 3.5.1: CRLF CRLF ping, CRLF pong) before the first
 * request do not use up the flow's inspection budget: twelve of them each way,
 * then the INVITE names the flow and the response confirms it.
 */
TEST(udp_sip_after_keepalives)
{
	struct pks_env env;
	char a[512], b[512];

	CHECK(pks_env_open(&env) == 0);
	for (int i = 0; i < 12; i++)
		EXCHANGE(&env, 5062, 5060, "0d0a0d0a", "0d0a");
	EXPECT(&env, 5062, 5060, PKS_P_SIP, PKS_C_PORT, PKS_R_PORT);
	hex_of(sip_invite_txt, a);
	hex_of(sip_trying_txt, b);
	EXCHANGE(&env, 5062, 5060, a, b);
	EXPECT(&env, 5062, 5060, PKS_P_SIP, PKS_C_CONFIRMED, PKS_R_SIP_RESPONSE);
	/* Three CRLFs are no keepalive: they use the budget like any payload. */
	for (int i = 0; i < 4; i++)
		EXCHANGE(&env, 5063, 5060, "0d0a0d0a0d0a", "0d0a0d0a0d0a");
	EXCHANGE(&env, 5063, 5060, a, b);
	EXPECT(&env, 5063, 5060, PKS_P_SIP, PKS_C_PORT, PKS_R_PORT);
	pks_env_close(&env);
}

/* Separation: "NOTIFY *" is SSDP, "NOTIFY sip:" is SIP, whatever the port. */
TEST(udp_separation_ssdp_notify_vs_sip_notify)
{
	struct pks_env env;
	char a[512];

	CHECK(pks_env_open(&env) == 0);
	hex_of(ssdp_notify_txt, a);
	EXCHANGE(&env, 40040, 5060, a, NULL);
	EXPECT(&env, 40040, 5060, PKS_P_SSDP, PKS_C_SIGNATURE, PKS_R_SSDP_REQUEST);
	hex_of(sip_notify_txt, a);
	EXCHANGE(&env, 40041, 1900, a, NULL);
	EXPECT(&env, 40041, 1900, PKS_P_SIP, PKS_C_SIGNATURE, PKS_R_SIP_REQUEST);
	pks_env_close(&env);
}

/* Separation: one DNS format, named by port: DNS (any port), mDNS 5353, LLMNR 5355; NBNS by its names. */
TEST(udp_separation_dns_mdns_llmnr_nbns)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40050, 53, dns_q, NULL);
	EXPECT(&env, 40050, 53, PKS_P_DNS, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	EXCHANGE(&env, 40051, 5300, dns_q, NULL);
	EXPECT(&env, 40051, 5300, PKS_P_DNS, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	/* A one-question query on 5353 is mDNS (through sig/dns.h). */
	EXCHANGE(&env, 40052, 5353, dns_q, NULL);
	EXPECT(&env, 40052, 5353, PKS_P_MDNS, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	/* mDNS shapes (two questions; question-less response) only on 5353. */
	EXCHANGE(&env, 5353, 5353, mdns_q, NULL);
	EXPECT(&env, 5353, 5353, PKS_P_MDNS, PKS_C_SIGNATURE, PKS_R_MDNS_QUERY);
	EXCHANGE(&env, 40053, 53, mdns_q, NULL);
	EXPECT(&env, 40053, 53, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	EXCHANGE(&env, 40054, 5355, llmnr_q, NULL);
	EXPECT(&env, 40054, 5355, PKS_P_LLMNR, PKS_C_SIGNATURE, PKS_R_DNS_QUERY);
	/* An NBNS query is never DNS, even on port 53. */
	EXCHANGE(&env, 40055, 53, nbns_q, NULL);
	EXPECT(&env, 40055, 53, PKS_P_NETBIOS, PKS_C_SIGNATURE, PKS_R_NBNS_REQUEST);
	pks_env_close(&env);
}

TEST(udp_mdns_multicast_response_alone)
{
	struct pks_env env;
	struct pkt_spec s = PKT_UDP4("198.18.0.9", 5353, "224.0.0.251", 5353);
	uint8_t buf[256];
	struct pks_flow_view f;

	CHECK(pks_env_open(&env) == 0);
	s.payload = buf;
	s.payload_len = unhex(mdns_r, buf, sizeof(buf));
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_MDNS);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	CHECK_EQ(f.rule, PKS_R_MDNS_RESPONSE);
	pks_env_close(&env);
}

TEST(udp_netbios_datagram)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 138, 138, packed(nbds_dgm), NULL);
	EXPECT(&env, 138, 138, PKS_P_NETBIOS, PKS_C_SIGNATURE, PKS_R_NBDS_DATAGRAM);
	pks_env_close(&env);
}

/* A BOOTP message: op, xid, flags, chaddr; magic cookie and options at 236. */
static size_t bootp(uint8_t *b, uint8_t op, uint32_t xid, size_t total)
{
	memset(b, 0, total);
	b[0] = op, b[1] = 1, b[2] = 6;
	b[4] = xid >> 24, b[5] = xid >> 16, b[6] = xid >> 8, b[7] = xid;
	b[10] = 0x80;
	b[28] = 0x02, b[33] = 0x01; /* chaddr 02:00:00:00:00:01 */
	if (op == 2)
		b[16] = 198, b[17] = 18, b[18] = 0, b[19] = 50; /* yiaddr */
	b[236] = 99, b[237] = 130, b[238] = 83, b[239] = 99;
	b[240] = 53, b[241] = 1, b[242] = op == 1 ? 1 : 2, b[243] = 255;
	return total;
}

TEST(udp_dhcp_xid_confirms)
{
	struct pks_env env;
	uint8_t b[300];

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 68, S_ADDR, 67, b, bootp(b, 1, 0x11223344, 300)), 0);
	EXPECT(&env, 68, 67, PKS_P_DHCP, PKS_C_SIGNATURE, PKS_R_DHCP_REQUEST);
	CHECK_EQ(send_udp(&env, S_ADDR, 67, C_ADDR, 68, b, bootp(b, 2, 0x11223344, 300)), 0);
	EXPECT(&env, 68, 67, PKS_P_DHCP, PKS_C_CONFIRMED, PKS_R_DHCP_REPLY);
	/* Another xid: signature only. */
	CHECK_EQ(send_udp(&env, "198.18.0.3", 68, S_ADDR, 67, b, bootp(b, 1, 1, 300)), 0);
	CHECK_EQ(send_udp(&env, S_ADDR, 67, "198.18.0.3", 68, b, bootp(b, 2, 2, 300)), 0);
	{
		struct pkt_spec s = PKT_UDP4("198.18.0.3", 68, S_ADDR, 67);
		struct pks_flow_view f;

		CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
		CHECK_EQ(f.confidence, PKS_C_SIGNATURE);
	}
	pks_env_close(&env);
}

TEST(udp_dhcp_negatives)
{
	struct pks_env env;
	uint8_t b[300];

	CHECK(pks_env_open(&env) == 0);
	/* Truncated before the magic cookie. */
	bootp(b, 1, 5, 300);
	CHECK_EQ(send_udp(&env, C_ADDR, 68, S_ADDR, 67, b, 200), 0);
	EXPECT(&env, 68, 67, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	/* Non-zero chaddr padding. */
	bootp(b, 1, 5, 300);
	b[40] = 0x55;
	CHECK_EQ(send_udp(&env, "198.18.0.4", 68, S_ADDR, 67, b, 300), 0);
	{
		struct pkt_spec s = PKT_UDP4("198.18.0.4", 68, S_ADDR, 67);
		struct pks_flow_view f;

		CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
		CHECK_EQ(f.proto, PKS_P_UNKNOWN);
	}
	/* Off ports 67/68, sname must be empty (tie-breaker). */
	bootp(b, 1, 5, 300);
	b[50] = 'x';
	CHECK_EQ(send_udp(&env, C_ADDR, 40060, S_ADDR, 40061, b, 300), 0);
	EXPECT(&env, 40060, 40061, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	b[50] = 0;
	CHECK_EQ(send_udp(&env, C_ADDR, 40062, S_ADDR, 40063, b, 300), 0);
	EXPECT(&env, 40062, 40063, PKS_P_DHCP, PKS_C_SIGNATURE, PKS_R_DHCP_REQUEST);
	pks_env_close(&env);
}

TEST(udp_tftp_request_and_transfer)
{
	struct pks_env env;
	static const uint8_t rrq[] = "\0\1hello.txt\0octet\0blksize\0001024";
	uint8_t data[516] = { 0, 3, 0, 1 };
	static const uint8_t ack[] = { 0, 4, 0, 1 };
	static const uint8_t badmode[] = "\0\1hello.txt\0binary\0";

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40070, S_ADDR, 69, rrq, sizeof(rrq) - 1), 0);
	EXPECT(&env, 40070, 69, PKS_P_TFTP, PKS_C_SIGNATURE, PKS_R_TFTP_RRQ_WRQ);
	/*
	 * The server answers from a new port (RFC 1350 4): a second flow, which
	 * the request announced (context rule, expected); without the request
	 * (a capture that missed it) its DATA and ACK confirm it on their own.
	 */
	memset(data + 4, 'a', 512);
	CHECK_EQ(send_udp(&env, S_ADDR, 50001, C_ADDR, 40070, data, sizeof(data)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40070, S_ADDR, 50001, ack, sizeof(ack)), 0);
	{
		struct pks_flow_view f;

		CHECK_EQ(get_flow(&env, 40070, 50001, &f), 0);
		CHECK_EQ(f.proto, PKS_P_TFTP);
		CHECK(f.confidence >= PKS_C_CONFIRMED);
	}
	CHECK_EQ(send_udp(&env, S_ADDR, 50002, C_ADDR, 40074, data, sizeof(data)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40074, S_ADDR, 50002, ack, sizeof(ack)), 0);
	EXPECT(&env, 40074, 50002, PKS_P_TFTP, PKS_C_CONFIRMED, PKS_R_TFTP_TRANSFER);
	CHECK_EQ(send_udp(&env, C_ADDR, 40071, S_ADDR, 69, badmode, sizeof(badmode) - 1), 0);
	EXPECT(&env, 40071, 69, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	/* An ACK alone is not evidence. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40072, S_ADDR, 40073, ack, sizeof(ack)), 0);
	EXPECT(&env, 40072, 40073, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

TEST(udp_rpc_call_reply)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40080, 111, packed(rpc_call), NULL);
	EXPECT(&env, 40080, 111, PKS_P_NFS, PKS_C_SIGNATURE, PKS_R_RPC_UDP_CALL);
	EXCHANGE(&env, 40080, 111, NULL, packed(rpc_reply));
	EXPECT(&env, 40080, 111, PKS_P_NFS, PKS_C_CONFIRMED, PKS_R_RPC_UDP_REPLY);
	/* A reply shape alone is not enough. */
	EXCHANGE(&env, 40081, 40082, NULL, packed(rpc_reply));
	EXPECT(&env, 40081, 40082, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

TEST(udp_memcached_frame)
{
	struct pks_env env;
	static const uint8_t get[] = "\x00\x07\x00\x00\x00\x01\x00\x00get foo\r\n";
	static const uint8_t value[] = "\x00\x07\x00\x00\x00\x01\x00\x00VALUE foo 0 3\r\nbar\r\nEND\r\n";
	static const uint8_t bad[] = "\x00\x07\x00\x00\x00\x01\x00\x00gift foo\r\n";

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40090, S_ADDR, 11211, get, sizeof(get) - 1), 0);
	EXPECT(&env, 40090, 11211, PKS_P_MEMCACHED, PKS_C_SIGNATURE, PKS_R_MEMCACHED_UDP_REQUEST);
	CHECK_EQ(send_udp(&env, S_ADDR, 11211, C_ADDR, 40090, value, sizeof(value) - 1), 0);
	EXPECT(&env, 40090, 11211, PKS_P_MEMCACHED, PKS_C_CONFIRMED, PKS_R_MEMCACHED_UDP_RESPONSE);
	CHECK_EQ(send_udp(&env, C_ADDR, 40091, S_ADDR, 11211, bad, sizeof(bad) - 1), 0);
	{
		struct pks_flow_view f;

		CHECK_EQ(get_flow(&env, 40091, 11211, &f), 0);
		CHECK(f.confidence < PKS_C_SIGNATURE);
	}
	pks_env_close(&env);
}

TEST(udp_tunnels)
{
	struct pks_env env;
	uint8_t init[148] = { 1 }, resp[92] = { 2 }, data[64] = { 4 };
	/* OpenVPN plain control channel: client reset; server reset acking the client's session. */
	static const char ovpn_c[] = "38a1a2a3a4a5a6a7a80000000000";
	static const char ovpn_s[] = "40b1b2b3b4b5b6b7b80100000000a1a2a3a4a5a6a7a800000000";
	static const char ovpn_s_other[] = "40b1b2b3b4b5b6b7b80100000000ffa2a3a4a5a6a7a800000000";

	CHECK(pks_env_open(&env) == 0);
	/* WireGuard: sender index 0x01020304; the response names it as receiver. */
	memcpy(init + 4, "\x01\x02\x03\x04", 4);
	memcpy(resp + 4, "\x0a\x0b\x0c\x0d\x01\x02\x03\x04", 8);
	CHECK_EQ(send_udp(&env, C_ADDR, 40100, S_ADDR, 51820, init, sizeof(init)), 0);
	EXPECT(&env, 40100, 51820, PKS_P_WIREGUARD, PKS_C_SIGNATURE, PKS_R_WG_INITIATION);
	CHECK_EQ(send_udp(&env, S_ADDR, 51820, C_ADDR, 40100, resp, sizeof(resp)), 0);
	EXPECT(&env, 40100, 51820, PKS_P_WIREGUARD, PKS_C_CONFIRMED, PKS_R_WG_RESPONSE);
	/* Mid-session transport data on another port; a wrong size is not WireGuard. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40101, S_ADDR, 40102, data, sizeof(data)), 0);
	EXPECT(&env, 40101, 40102, PKS_P_WIREGUARD, PKS_C_SIGNATURE, PKS_R_WG_DATA);
	CHECK_EQ(send_udp(&env, C_ADDR, 40103, S_ADDR, 40104, init, 140), 0);
	EXPECT(&env, 40103, 40104, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);

	EXCHANGE(&env, 40105, 1194, ovpn_c, ovpn_s);
	EXPECT(&env, 40105, 1194, PKS_P_OPENVPN, PKS_C_CONFIRMED, PKS_R_OPENVPN_UDP_SERVER_RESET);
	EXCHANGE(&env, 40106, 1194, ovpn_c, ovpn_s_other);
	EXPECT(&env, 40106, 1194, PKS_P_OPENVPN, PKS_C_SIGNATURE, PKS_R_OPENVPN_UDP_CLIENT_RESET);

	/* IKE on 4500 behind the non-ESP marker; ESP (non-zero SPI) is not IKE. */
	{
		char natt[256];

		/* The IKE length excludes the marker (RFC 3948 2.2). */
		snprintf(natt, sizeof(natt), "00000000%s", ike_init);
		EXCHANGE(&env, 4500, 4500, natt, NULL);
		EXPECT(&env, 4500, 4500, PKS_P_IKE, PKS_C_SIGNATURE, PKS_R_IKE_INIT);
		EXCHANGE(&env, 40107, 4500, "c0ffee01000000010102030405060708090a0b0c0d0e0f10", NULL);
		EXPECT(&env, 40107, 4500, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	}
	pks_env_close(&env);
}

TEST(udp_gquic_long_header)
{
	struct pks_env env;
	uint8_t q46[1350] = { 0xc3, 'Q', '0', '4', '6', 0x50, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t q46s[100] = { 0xc3, 'Q', '0', '4', '6', 0x05, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t q43[1350] = { 0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 'Q', '0', '4', '3' };

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40110, S_ADDR, 443, q46, sizeof(q46)), 0);
	EXPECT(&env, 40110, 443, PKS_P_QUIC, PKS_C_SIGNATURE, PKS_R_GQUIC_LONG_HEADER);
	CHECK_EQ(send_udp(&env, S_ADDR, 443, C_ADDR, 40110, q46s, sizeof(q46s)), 0);
	EXPECT(&env, 40110, 443, PKS_P_QUIC, PKS_C_CONFIRMED, PKS_R_QUIC_SERVER);
	CHECK_EQ(send_udp(&env, C_ADDR, 40111, S_ADDR, 443, q43, sizeof(q43)), 0);
	EXPECT(&env, 40111, 443, PKS_P_QUIC, PKS_C_SIGNATURE, PKS_R_GQUIC_PUBLIC_HEADER);
	/* Not padded: not a client hello. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40112, S_ADDR, 443, q46, 200), 0);
	EXPECT(&env, 40112, 443, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_PORT_CONTRADICTED);
	pks_env_close(&env);
}

TEST(udp_bittorrent_dht_utp)
{
	struct pks_env env;
	static const char q[] = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
	static const char r[] = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
	char a[256], b[256];
	/* BEP 29: ST_SYN conn 0x1234 seq 0x0001; ST_STATE conn 0x1234 ack 0x0001. */
	static const char syn[] = "41001234000000010000000000100000" "00010000";
	static const char state[] = "21001234000000020000000100100000" "77770001";

	CHECK(pks_env_open(&env) == 0);
	hex_of(q, a);
	hex_of(r, b);
	EXCHANGE(&env, 40120, 6881, a, b);
	EXPECT(&env, 40120, 6881, PKS_P_BITTORRENT, PKS_C_CONFIRMED, PKS_R_DHT_RESPONSE);
	EXCHANGE(&env, 40121, 40122, syn, state);
	EXPECT(&env, 40121, 40122, PKS_P_BITTORRENT, PKS_C_CONFIRMED, PKS_R_UTP_STATE);
	pks_env_close(&env);
}

TEST(udp_nat_pmp)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 40130, 5351, "0000", "00800000000004d2c6120001");
	EXPECT(&env, 40130, 5351, PKS_P_NAT_PMP, PKS_C_CONFIRMED, PKS_R_NAT_PMP_RESPONSE);
	/* The same bytes off port 5351 say nothing. */
	EXCHANGE(&env, 40131, 40132, "0000", NULL);
	EXPECT(&env, 40131, 40132, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

/* An RTP packet: V=2, payload type, sequence, timestamp, SSRC, payload. */
static size_t rtp(uint8_t *b, uint8_t pt, uint16_t seq, uint32_t ssrc, size_t len)
{
	memset(b, 0x55, len);
	b[0] = 0x80, b[1] = pt;
	b[2] = seq >> 8, b[3] = seq;
	b[4] = b[5] = b[6] = 0, b[7] = (uint8_t)(seq * 160);
	b[8] = ssrc >> 24, b[9] = ssrc >> 16, b[10] = ssrc >> 8, b[11] = ssrc;
	return len;
}

/*
 * Separation and evidence: RTP needs three packets of one direction in
 * sequence (RFC 3550 A.1's probation, on 14 of the 48 bits it compares), never
 * one or two.
 */
TEST(udp_rtp_needs_three_packets_and_confirms)
{
	struct pks_env env;
	uint8_t b[172];

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40140, S_ADDR, 40141, b, rtp(b, 0, 1000, 0xdeadbeef, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	CHECK_EQ(send_udp(&env, S_ADDR, 40141, C_ADDR, 40140, b, rtp(b, 0, 7000, 0x12345678, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	CHECK_EQ(send_udp(&env, C_ADDR, 40140, S_ADDR, 40141, b, rtp(b, 0, 1001, 0xdeadbeef, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	CHECK_EQ(send_udp(&env, S_ADDR, 40141, C_ADDR, 40140, b, rtp(b, 0, 7001, 0x12345678, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/* One lost packet (1003 follows 1001): still in sequence. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40140, S_ADDR, 40141, b, rtp(b, 0, 1003, 0xdeadbeef, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_RTP, PKS_C_SIGNATURE, PKS_R_RTP);
	CHECK_EQ(send_udp(&env, S_ADDR, 40141, C_ADDR, 40140, b, rtp(b, 0, 7002, 0x12345678, 172)), 0);
	EXPECT(&env, 40140, 40141, PKS_P_RTP, PKS_C_CONFIRMED, PKS_R_RTP);
	pks_env_close(&env);
}

TEST(udp_rtp_inconsistent_stays_unknown)
{
	struct pks_env env;
	uint8_t b[172];

	CHECK(pks_env_open(&env) == 0);
	/* Different SSRC. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40150, S_ADDR, 40151, b, rtp(b, 8, 10, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40150, S_ADDR, 40151, b, rtp(b, 8, 11, 0x22222222, 172)), 0);
	EXPECT(&env, 40150, 40151, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/* Sequence going backwards, and a jump of 100. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40152, S_ADDR, 40153, b, rtp(b, 8, 10, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40152, S_ADDR, 40153, b, rtp(b, 8, 9, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40152, S_ADDR, 40153, b, rtp(b, 8, 109, 0x11111111, 172)), 0);
	EXPECT(&env, 40152, 40153, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/* Two in sequence, then a third of another SSRC: the count restarts. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40156, S_ADDR, 40157, b, rtp(b, 8, 10, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40156, S_ADDR, 40157, b, rtp(b, 8, 11, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40156, S_ADDR, 40157, b, rtp(b, 8, 12, 0x22222222, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40156, S_ADDR, 40157, b, rtp(b, 8, 13, 0x11111111, 172)), 0);
	EXPECT(&env, 40156, 40157, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/* Payload type 72 (RTCP's range, RFC 5761 4) is never RTP. */
	CHECK_EQ(send_udp(&env, C_ADDR, 40154, S_ADDR, 40155, b, rtp(b, 72, 10, 0x11111111, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 40154, S_ADDR, 40155, b, rtp(b, 72, 11, 0x11111111, 172)), 0);
	EXPECT(&env, 40154, 40155, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

TEST(udp_separation_rtcp_vs_rtp_vs_stun)
{
	struct pks_env env;
	uint8_t b[172];
	/* RFC 3550 6.4.2: RR with one report block (length 7 = 32 bytes). */
	static const char rr[] = "81c90007deadbeef" "123456780000000000000000000000000000000000000000";
	/* The same bytes with a length that does not fit: neither RTCP nor RTP. */
	static const char rr_bad[] = "81c90009deadbeef" "123456780000000000000000000000000000000000000000";

	CHECK(pks_env_open(&env) == 0);
	/* Second byte 201: RTCP on one packet, both ways confirms. */
	EXCHANGE(&env, 40161, 40162, rr, rr);
	EXPECT(&env, 40161, 40162, PKS_P_RTCP, PKS_C_CONFIRMED, PKS_R_RTCP);
	EXCHANGE(&env, 40163, 40164, rr_bad, NULL);
	EXCHANGE(&env, 40163, 40164, rr_bad, NULL);
	EXPECT(&env, 40163, 40164, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	/*
	 * The body must be what the type and count say (RFC 3550 6.4-6.7, RFC
	 * 4585 6.1): an RR claiming two report blocks in the room of one; an
	 * APP packet whose name is not ASCII; a PSFB of FMT 12 (unassigned).
	 * A PLI (PSFB FMT 1, RFC 4585 6.3.1) and an APP named "TEST" pass.
	 */
	EXCHANGE(&env, 40169, 40170, "82c90007deadbeef" "123456780000000000000000000000000000000000000000", NULL);
	EXPECT(&env, 40169, 40170, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	EXCHANGE(&env, 40171, 40172, "80cc0002deadbeef00010203", NULL);
	EXPECT(&env, 40171, 40172, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	EXCHANGE(&env, 40173, 40174, "8cce0002deadbeefcafebabe", NULL);
	EXPECT(&env, 40173, 40174, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	EXCHANGE(&env, 40175, 40176, "81ce0002deadbeefcafebabe", NULL);
	EXPECT(&env, 40175, 40176, PKS_P_RTCP, PKS_C_SIGNATURE, PKS_R_RTCP);
	EXCHANGE(&env, 40177, 40178, "80cc0002deadbeef54455354", NULL);
	EXPECT(&env, 40177, 40178, PKS_P_RTCP, PKS_C_SIGNATURE, PKS_R_RTCP);
	/*
	 * First bits 00 and the magic cookie: STUN. RTP later on the flow is
	 * what carries the media: it replaces the verdict, saying STUN came
	 * first (udp_stun_then_rtp_one_flow); one RTP packet alone does not.
	 */
	EXCHANGE(&env, 40165, 40166, stun_req, NULL);
	CHECK_EQ(send_udp(&env, C_ADDR, 40165, S_ADDR, 40166, b, rtp(b, 111, 1, 0xabcdef01, 172)), 0);
	EXPECT(&env, 40165, 40166, PKS_P_STUN, PKS_C_SIGNATURE, PKS_R_STUN_REQUEST);
	CHECK_EQ(send_udp(&env, C_ADDR, 40165, S_ADDR, 40166, b, rtp(b, 111, 2, 0xabcdef01, 172)), 0);
	EXPECT(&env, 40165, 40166, PKS_P_RTP, PKS_C_SIGNATURE, PKS_R_RTP_AFTER_STUN);
	/* A STUN header whose length does not match the datagram is not STUN. */
	EXCHANGE(&env, 40167, 40168, "000100042112a442" "0102030405060708090a0b0c", NULL);
	EXPECT(&env, 40167, 40168, PKS_P_UNKNOWN, PKS_C_NONE, PKS_R_NONE);
	pks_env_close(&env);
}

/* A small deterministic generator, so that a failure names a reproducible case. */
static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static const uint16_t udp_ports[] = { 53,   67,   68,   69,   88,    111,  123,  137,  138,  161,  162,  443,
				      500,  514,  546,  547,  1194, 1701, 1812, 1813, 1900, 3478, 4500, 5060,
				      5351, 5353, 5355, 5683, 6881, 11211, 51820, 40999 };

/*
 * Random payloads never reach signature: on every well-known UDP port and on
 * random ports, one to four datagrams per flow (so RTP's three-packet rule is
 * exercised too), sizes from 1 to 1400 bytes.
 */
TEST(udp_random_payloads_never_signature)
{
	struct pks_env env;
	uint32_t seed = 0x9e3779b9;
	uint8_t b[1400];
	int i, k;

	CHECK(pks_env_open(&env) == 0);
	for (i = 0; i < 3000; i++) {
		uint16_t cport = 20000 + (uint16_t)i;
		uint16_t sport = (i & 1) ? udp_ports[i / 2 % (sizeof(udp_ports) / sizeof(udp_ports[0]))]
					 : (uint16_t)(1024 + xs(&seed) % 60000);
		int packets = 1 + xs(&seed) % 4;
		struct pks_flow_view f;

		if (i % 1000 == 0) {
			pks_env_close(&env);
			CHECK(pks_env_open(&env) == 0);
		}
		for (k = 0; k < packets; k++) {
			size_t len = 1 + xs(&seed) % sizeof(b);

			for (size_t j = 0; j < len; j++)
				b[j] = (uint8_t)xs(&seed);
			if (k & 1)
				CHECK_EQ(send_udp(&env, S_ADDR, sport, C_ADDR, cport, b, len), 0);
			else
				CHECK_EQ(send_udp(&env, C_ADDR, cport, S_ADDR, sport, b, len), 0);
		}
		CHECK_EQ(get_flow(&env, cport, sport, &f), 0);
		if (f.confidence >= PKS_C_SIGNATURE) {
			pks_test_fail(__FILE__, __LINE__, "case %d (port %u) reached %u/%u rule %u", i, sport,
				      f.proto, f.confidence, f.rule);
			return;
		}
	}
	pks_env_close(&env);
}

/*
 * Random payloads behind each signature's fixed prefix: the checks beyond the prefix must hold
 * them off. (STUN is absent: its whole evidence is its 20-byte header, so a prefix plus a
 * matching length is a valid STUN message.)
 */
TEST(udp_prefixed_random_never_signature)
{
	static const char *const prefixes[] = {
		"16feff0000000000000000", "01010600", "02010600", "0000000100000002",
		"30", "3081", "6a", "7e", "c802", "38", "01000000", "04000000", "<13>", "80",
		"81c8", "0001", "0003", "4201", "00070000000100006765", "c35130343650",
	};
	struct pks_env env;
	uint32_t seed = 12345;
	uint8_t b[600];
	int i;

	CHECK(pks_env_open(&env) == 0);
	for (i = 0; i < 2100; i++) {
		const char *pre = prefixes[i % (sizeof(prefixes) / sizeof(prefixes[0]))];
		size_t n = (pre[0] == '<') ? strlen(pre) : unhex(pre, b, sizeof(b));
		size_t len = n + 1 + xs(&seed) % (sizeof(b) - n - 1);
		uint16_t cport = 20000 + (uint16_t)i, sport = (uint16_t)(1024 + xs(&seed) % 60000);
		struct pks_flow_view f;

		if (pre[0] == '<')
			memcpy(b, pre, n);
		for (size_t j = n; j < len; j++)
			b[j] = (uint8_t)xs(&seed);
		CHECK_EQ(send_udp(&env, C_ADDR, cport, S_ADDR, sport, b, len), 0);
		CHECK_EQ(get_flow(&env, cport, sport, &f), 0);
		if (f.confidence >= PKS_C_SIGNATURE) {
			pks_test_fail(__FILE__, __LINE__, "prefix %s case %d reached %u/%u rule %u", pre, i, f.proto,
				      f.confidence, f.rule);
			return;
		}
	}
	pks_env_close(&env);
}

/*
 * Several protocols on one 5-tuple (WebRTC, RFC 7983 7): ICE's STUN, then a
 * DTLS handshake, then SRTP. One flow; dtls replaces stun as the verdict, with
 * the rule dtls-after-stun recording the STUN seen, confirmed by the other
 * direction's handshake record; later consent checks (STUN) and SRTP do not
 * move it, and the flow then takes the decided fast path.
 */
/* RFC 6347 4.2.2 / RFC 5246 7.4.1.3: ServerHello, DTLS 1.2, no session ID, no extensions. */
static const char dtls_sh[] = "16fefd" "0000" "000000000000" "0034" "02000028" "0000" "000000" "000028" "fefd"
			      "3333333333333333333333333333333333333333333333333333333333333333"
			      "00" "c02b" "00" "0000";

static void expect_flags(struct pks_env *env, uint16_t cport, uint16_t sport, uint8_t set, uint8_t clear)
{
	struct pks_flow_view f;

	CHECK_EQ(get_flow(env, cport, sport, &f), 0);
	CHECK_EQ(f.flags & set, set);
	CHECK_EQ(f.flags & clear, 0);
}

TEST(udp_webrtc_stun_then_dtls_one_flow)
{
	struct pks_env env;
	uint8_t b[172];

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 50000, 50001, stun_req, stun_rsp);
	EXPECT(&env, 50000, 50001, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);
	/* Confirmed, but open for DTLS: not on the decided fast path yet. */
	expect_flags(&env, 50000, 50001, PKS_F_UPGRADE, PKS_F_DECIDED);
	EXCHANGE(&env, 50000, 50001, dtls_ch, NULL);
	EXPECT(&env, 50000, 50001, PKS_P_DTLS, PKS_C_SIGNATURE, PKS_R_DTLS_AFTER_STUN);
	EXCHANGE(&env, 50000, 50001, NULL, dtls_sh);
	EXPECT(&env, 50000, 50001, PKS_P_DTLS, PKS_C_CONFIRMED, PKS_R_DTLS_AFTER_STUN);
	expect_flags(&env, 50000, 50001, PKS_F_DECIDED, PKS_F_UPGRADE);
	/* A consent check and SRTP afterwards: still dtls, one flow. */
	EXCHANGE(&env, 50000, 50001, stun_req, stun_rsp);
	CHECK_EQ(send_udp(&env, C_ADDR, 50000, S_ADDR, 50001, b, rtp(b, 111, 1, 0xabcdef01, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 50000, S_ADDR, 50001, b, rtp(b, 111, 2, 0xabcdef01, 172)), 0);
	EXPECT(&env, 50000, 50001, PKS_P_DTLS, PKS_C_CONFIRMED, PKS_R_DTLS_AFTER_STUN);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	pks_env_close(&env);
}

/*
 * STUN then RTP (ICE, then SDES-keyed SRTP or plain RTP: SRTP keeps RTP's
 * header): two packets of one direction in sequence replace the stun verdict
 * with rtp (rule rtp-after-stun), the other direction's two confirm it under
 * the same rule. Two packets with different SSRCs, or not in sequence, leave
 * the flow stun.
 */
TEST(udp_stun_then_rtp_one_flow)
{
	struct pks_env env;
	uint8_t b[172];

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 50040, 50041, stun_req, stun_rsp);
	EXPECT(&env, 50040, 50041, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);
	CHECK_EQ(send_udp(&env, C_ADDR, 50040, S_ADDR, 50041, b, rtp(b, 0, 7, 0x11223344, 172)), 0);
	EXPECT(&env, 50040, 50041, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);
	CHECK_EQ(send_udp(&env, C_ADDR, 50040, S_ADDR, 50041, b, rtp(b, 0, 8, 0x11223344, 172)), 0);
	EXPECT(&env, 50040, 50041, PKS_P_RTP, PKS_C_SIGNATURE, PKS_R_RTP_AFTER_STUN);
	CHECK_EQ(send_udp(&env, S_ADDR, 50041, C_ADDR, 50040, b, rtp(b, 111, 300, 0x55667788, 100)), 0);
	CHECK_EQ(send_udp(&env, S_ADDR, 50041, C_ADDR, 50040, b, rtp(b, 111, 301, 0x55667788, 100)), 0);
	EXPECT(&env, 50040, 50041, PKS_P_RTP, PKS_C_CONFIRMED, PKS_R_RTP_AFTER_STUN);
	expect_flags(&env, 50040, 50041, PKS_F_DECIDED, PKS_F_UPGRADE);
	CHECK_EQ(pks_env_flow_count(&env), 1);

	/* Not in sequence: another SSRC, then a sequence number 5 ahead. */
	EXCHANGE(&env, 50042, 50043, stun_req, stun_rsp);
	CHECK_EQ(send_udp(&env, C_ADDR, 50042, S_ADDR, 50043, b, rtp(b, 0, 7, 0x11223344, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 50042, S_ADDR, 50043, b, rtp(b, 0, 8, 0x99aabbcc, 172)), 0);
	CHECK_EQ(send_udp(&env, C_ADDR, 50042, S_ADDR, 50043, b, rtp(b, 0, 13, 0x99aabbcc, 172)), 0);
	EXPECT(&env, 50042, 50043, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);
	pks_env_close(&env);
}

/* The DTLS client may be ICE's responder (RFC 5763 5): the ClientHello comes from the STUN server's side. */
TEST(udp_webrtc_dtls_client_on_stun_server_side)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 50010, 50011, stun_req, stun_rsp);
	EXCHANGE(&env, 50010, 50011, NULL, dtls_ch);
	EXPECT(&env, 50010, 50011, PKS_P_DTLS, PKS_C_SIGNATURE, PKS_R_DTLS_AFTER_STUN);
	EXCHANGE(&env, 50010, 50011, dtls_hvr, NULL);
	EXPECT(&env, 50010, 50011, PKS_P_DTLS, PKS_C_CONFIRMED, PKS_R_DTLS_AFTER_STUN);
	pks_env_close(&env);
}

/*
 * The wait is bounded by the inspection budget: after four STUN packets each
 * way the flow is decided stun, and a DTLS handshake later does not move it.
 * A STUN indication alone opens the flow for DTLS as a request does.
 */
TEST(udp_webrtc_stun_budget_then_decided)
{
	struct pks_env env;
	int i;

	CHECK(pks_env_open(&env) == 0);
	for (i = 0; i < 4; i++)
		EXCHANGE(&env, 50020, 50021, stun_req, stun_rsp);
	EXPECT(&env, 50020, 50021, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);
	expect_flags(&env, 50020, 50021, PKS_F_DECIDED, 0);
	EXCHANGE(&env, 50020, 50021, dtls_ch, dtls_hvr);
	EXPECT(&env, 50020, 50021, PKS_P_STUN, PKS_C_CONFIRMED, PKS_R_STUN_RESPONSE);

	EXCHANGE(&env, 50022, 50023, "001600002112a4421415161718191a1b1c1d1e1f", NULL);
	EXPECT(&env, 50022, 50023, PKS_P_STUN, PKS_C_SIGNATURE, PKS_R_STUN_INDICATION);
	EXCHANGE(&env, 50022, 50023, dtls_ch, NULL);
	EXPECT(&env, 50022, 50023, PKS_P_DTLS, PKS_C_SIGNATURE, PKS_R_DTLS_AFTER_STUN);
	pks_env_close(&env);
}

/* STUN only by its port (3478), no STUN message: DTLS is plain first evidence, not "after STUN". */
TEST(udp_dtls_on_stun_port_without_stun)
{
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	EXCHANGE(&env, 50030, 3478, dtls_ch, NULL);
	EXPECT(&env, 50030, 3478, PKS_P_DTLS, PKS_C_SIGNATURE, PKS_R_DTLS_CLIENT_HELLO);
	EXCHANGE(&env, 50030, 3478, NULL, dtls_hvr);
	EXPECT(&env, 50030, 3478, PKS_P_DTLS, PKS_C_CONFIRMED, PKS_R_DTLS_SERVER_HELLO);
	pks_env_close(&env);
}
