// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Protocol variants, other transports, flows picked up mid-session and
 * several protocols on one 5-tuple (issue 11), through the real XDP object.
 * Each case is a short conversation in hex, one packet a string: "c" or "s"
 * (client or server sends), optionally a size to pad the payload to with
 * zeros ("c1200:" for a QUIC Initial), then ':' and the payload in hex. TCP cases start with the three-way handshake unless
 * they are marked mid-session. The flow must end with the protocol and the
 * confidence (or, for negatives, below signature) the case names. Payloads
 * are built from the specifications the signatures cite; each negative is
 * the shape of a positive with its evidence made random or wrong.
 *
 * Loading the object costs the verifier tens of seconds on a busy machine,
 * so one TEST runs a whole table in one environment, a client port per case.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"

#define CLI "198.18.0.1"
#define SRV "198.18.0.2"

#define NEG 0xff /* want: anything below signature */

struct vcase {
	const char *what;
	uint8_t l4;        /* 6 or 17 */
	uint8_t midstream; /* TCP: no handshake, the first packet is an ACK with data */
	uint16_t sport;
	uint8_t proto;     /* enum pks_proto; ignored for NEG */
	uint8_t conf;      /* enum pks_confidence, or NEG */
	const char *pkts[6];
};

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (h[0] && h[1] && n < max) {
		unsigned int v;

		if (h[0] == ' ') {
			h++;
			continue;
		}
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static int run_case(struct pks_env *env, const struct vcase *c, uint16_t cport, struct pks_flow_view *f)
{
	struct pkt_spec cs, sc;
	uint8_t buf[1500];
	int i;

	if (c->l4 == 6) {
		cs = PKT_TCP4(CLI, cport, SRV, c->sport, TCPF_PSH | TCPF_ACK);
		sc = PKT_TCP4(SRV, c->sport, CLI, cport, TCPF_PSH | TCPF_ACK);
		if (!c->midstream) {
			struct pkt_spec syn = PKT_TCP4(CLI, cport, SRV, c->sport, TCPF_SYN);
			struct pkt_spec synack = PKT_TCP4(SRV, c->sport, CLI, cport, TCPF_SYN | TCPF_ACK);

			if (pks_env_run(env, &syn) || pks_env_run(env, &synack))
				return -1;
		}
	} else {
		cs = PKT_UDP4(CLI, cport, SRV, c->sport);
		sc = PKT_UDP4(SRV, c->sport, CLI, cport);
	}
	for (i = 0; i < 6 && c->pkts[i]; i++) {
		struct pkt_spec *s = c->pkts[i][0] == 'c' ? &cs : &sc;
		char *colon;
		size_t pad = strtoul(c->pkts[i] + 1, &colon, 10);

		memset(buf, 0, sizeof(buf));
		s->payload = buf;
		s->payload_len = unhex(colon + 1, buf, sizeof(buf));
		if (pad > s->payload_len && pad <= sizeof(buf))
			s->payload_len = pad;
		if (pks_env_run(env, s))
			return -1;
	}
	return pks_env_flow(env, &cs, f);
}

static void run_table(const struct vcase *t, size_t n, uint16_t base)
{
	struct pks_env env;
	size_t i;

	CHECK(pks_env_open(&env) == 0);
	for (i = 0; i < n; i++) {
		struct pks_flow_view f;

		if (run_case(&env, &t[i], (uint16_t)(base + i), &f)) {
			pks_test_fail(__FILE__, __LINE__, "%s: could not run", t[i].what);
			continue;
		}
		if (t[i].conf == NEG ? f.confidence >= PKS_C_SIGNATURE
				     : (f.proto != t[i].proto || f.confidence != t[i].conf))
			pks_test_fail(__FILE__, __LINE__, "%s: got proto %u confidence %u rule %u", t[i].what, f.proto,
				      f.confidence, f.rule);
	}
	pks_env_close(&env);
}

#define RUN_TABLE(t, base) run_table(t, sizeof(t) / sizeof(t[0]), base)

/* ---- A: DTLS with OpenSSL's pre-RFC version is DTLS, never NTP mode 7 ---- */

/* DTLSPlaintext (RFC 6347 4.1) with a ClientHello (4.2.2); record and body version filled in per case. */
#define DTLS_CH(rv, bv)                                                                                  \
	"16" rv "000000000000000000360100002a000000000000002a" bv                                      \
	"1111111111111111111111111111111111111111111111111111111111111111"                             \
	"00000002c02b0100"

static const struct vcase a_cases[] = {
	{ "dtls 0x0100 clienthello", 17, 0, 4433, PKS_P_DTLS, PKS_C_SIGNATURE, { "c:" DTLS_CH("0100", "0100") } },
	{ "dtls 1.0 clienthello", 17, 0, 4433, PKS_P_DTLS, PKS_C_SIGNATURE, { "c:" DTLS_CH("feff", "feff") } },
	{ "dtls 1.2 clienthello", 17, 0, 4433, PKS_P_DTLS, PKS_C_SIGNATURE, { "c:" DTLS_CH("fefd", "fefd") } },
	/* Application data (type 23) in OpenSSL's DTLS1_BAD_VER: 0x17 is NTP v2 mode 7, 0x01 a sequence. */
	{ "dtls 0x0100 appdata to 123", 17, 0, 123, 0, NEG,
	  { "c:17010000010000000000070030"
	    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90" } },
	{ "dtls 0x0100 appdata elsewhere", 17, 0, 40999, 0, NEG,
	  { "c:17010000010000000000070030"
	    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" } },
	/* ntpdc's monlist request (ntp_request.h: REQ_MON_GETLIST_1 = 42, implementation 3) stays NTP. */
	{ "ntp mode 7 request", 17, 0, 123, PKS_P_NTP, PKS_C_SIGNATURE,
	  { "c:1700032a0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" } },
};

TEST(sig_variants_dtls_not_ntp)
{
	RUN_TABLE(a_cases, 41000);
}

/* ---- B: variants ---- */

/* A QUIC long header (RFC 9000 17.2): first byte, version, 8-byte DCID, 8-byte SCID; padded to 1200. */
#define QUIC_LH(b0, ver) "c1200:" b0 ver "08" "0102030405060708" "08" "1112131415161718" "00" "4400"
#define QUIC_SRV(b0, ver) "s1200:" b0 ver "08" "1112131415161718" "08" "2122232425262728" "00" "4400"

/* OpenVPN tls-auth SHA512 resets: opcode, session ID, 64-byte HMAC, replay ID 1 and time, acks, message ID. */
#define OVPN_HMAC64 "9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877665544" \
		    "9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877665544"
#define OVPN512_C "c:38" "a1a2a3a4a5a6a7a8" OVPN_HMAC64 "00000001" "6553f100" "00" "00000000"
#define OVPN512_S "s:40" "b1b2b3b4b5b6b7b8" OVPN_HMAC64 "00000001" "6553f101" "01" "00000000" \
		  "a1a2a3a4a5a6a7a8" "00000000"

/* MongoDB requests with responseTo -1, and their replies. */
#define MONGO_QUERY_M1 "c:3a00000007000000ffffffffd40700000000000061646d696e2e24636d640000000000ffffffff13000000" \
		       "1069734d6173746572000100000000"
#define MONGO_REPLY "s:3100000063000000070000000100000008000000000000000000000000000000010000000d000000106f6b" \
		    "000100000000"
#define MONGO_MSG_M1 "c:2800000008000000ffffffffdd0700000000000000130000001069734d6173746572000100000000"
#define MONGO_MSG_REPLY "s:220000006400000008000000dd07000000000000000d000000106f6b000100000000"

static const struct vcase b_cases[] = {
	/* QUIC: mvfst (0xfaceb001/2, an experiment 0xfaceb00e), the v2 draft number, and what stays out. */
	{ "quic mvfst faceb002 confirmed", 17, 0, 443, PKS_P_QUIC, PKS_C_CONFIRMED,
	  { QUIC_LH("c3", "faceb002"), QUIC_SRV("e3", "faceb002") } },
	{ "quic mvfst faceb001", 17, 0, 8443, PKS_P_QUIC, PKS_C_SIGNATURE, { QUIC_LH("c0", "faceb001") } },
	{ "quic mvfst faceb00e", 17, 0, 8443, PKS_P_QUIC, PKS_C_SIGNATURE, { QUIC_LH("c1", "faceb00e") } },
	{ "quic v2 draft 709a50c4", 17, 0, 443, PKS_P_QUIC, PKS_C_SIGNATURE, { QUIC_LH("d3", "709a50c4") } },
	{ "quic v2 draft with v1 initial type", 17, 0, 40443, 0, NEG, { QUIC_LH("c3", "709a50c4") } },
	{ "quic faceb000 (not a version)", 17, 0, 40443, 0, NEG, { QUIC_LH("c3", "faceb000") } },
	{ "quic faceb020 (outside the block)", 17, 0, 40443, 0, NEG, { QUIC_LH("c3", "faceb020") } },
	{ "quic random version", 17, 0, 40443, 0, NEG, { QUIC_LH("c3", "5a17c0de") } },
	{ "quic mvfst short datagram", 17, 0, 40443, 0, NEG,
	  { "c:c3faceb002080102030405060708081112131415161718004400" } },
	/* OpenVPN tls-auth with SHA512: the client's reset alone names nothing; the server's reset does. */
	{ "openvpn sha512 pair", 17, 0, 1194, PKS_P_OPENVPN, PKS_C_SIGNATURE, { OVPN512_C, OVPN512_S } },
	{ "openvpn sha512 pair elsewhere", 17, 0, 41194, PKS_P_OPENVPN, PKS_C_SIGNATURE, { OVPN512_C, OVPN512_S } },
	{ "openvpn sha512 client alone", 17, 0, 41194, 0, NEG, { OVPN512_C } },
	{ "openvpn sha512 reply of another size", 17, 0, 41194, 0, NEG, { OVPN512_C, OVPN512_S "00" } },
	{ "openvpn server reset without client", 17, 0, 41194, 0, NEG, { OVPN512_S } },
	/* Modbus user-defined codes (100, 65) and 90 (UMAS), whole ADUs, echoed. */
	{ "modbus fc100 confirmed", 6, 0, 502, PKS_P_MODBUS, PKS_C_CONFIRMED,
	  { "c:000100000006016401020304", "s:0001000000040164aabb" } },
	{ "modbus fc65 exception confirmed", 6, 0, 40502, PKS_P_MODBUS, PKS_C_CONFIRMED,
	  { "c:00020000000301410a", "s:00020000000301c101" } },
	{ "modbus fc90 umas", 6, 0, 502, PKS_P_MODBUS, PKS_C_SIGNATURE, { "c:000300000004015a0002" } },
	{ "modbus fc100 length short of the segment", 6, 0, 40502, 0, NEG, { "c:00010000000501640102030405" } },
	{ "modbus fc73 (not user-defined)", 6, 0, 40502, 0, NEG, { "c:000100000006014901020304" } },
	{ "modbus fc100 reply of another code", 6, 0, 40502, PKS_P_MODBUS, PKS_C_SIGNATURE,
	  { "c:000100000006016401020304", "s:0001000000040165aabb" } },
	/* MongoDB requests with responseTo -1. */
	{ "mongodb op_query to -1", 6, 0, 27017, PKS_P_MONGODB, PKS_C_CONFIRMED, { MONGO_QUERY_M1, MONGO_REPLY } },
	{ "mongodb op_msg to -1", 6, 0, 47017, PKS_P_MONGODB, PKS_C_CONFIRMED, { MONGO_MSG_M1, MONGO_MSG_REPLY } },
	{ "mongodb to -2", 6, 0, 47017, 0, NEG,
	  { "c:2800000008000000feffffffdd0700000000000000130000001069734d6173746572000100000000" } },
};

TEST(sig_variants_versions_and_codes)
{
	RUN_TABLE(b_cases, 42000);
}

/* ---- C: other transports ---- */

/* STUN Binding request/response (RFC 8489), unframed and in RFC 4571 frames over TCP. */
#define STUN_TCP_REQ "000100082112a4420102030405060708090a0b0c8022000461626364"
#define STUN_TCP_RSP "0101000c2112a4420102030405060708090a0b0c0020000800011a2b3a1e4a03"
#define STUN_IND "001600002112a4421415161718191a1b1c1d1e1f"
/* RTP (RFC 3550 5.1) PCMU packets of one SSRC in RFC 4571 frames; RTCP RR. */
#define RTP_F(seq, ssrc) "00208000" seq "00003e80" ssrc "0000000000000000000000000000000000000000"
#define RDP_PAD "s1232:"
/* CLDAP searchRequest for the netlogon attribute (MS-ADTS 6.3.3), its entry and done. */
#define CLDAP_REQ "302f020101632a04000a01000a0100020100020100010100870b6f626a656374436c617373300a04086e65746c6f676f6e"
#define CLDAP_1798 "30310201020400632a04000a01000a0100020100020100010100870b6f626a656374436c617373300a04086e65746c6f676f6e"
#define CLDAP_ENT "301d020101641804003014301204086e65746c6f676f6e3106040417000000"

static const struct vcase c_cases[] = {
	{ "stun over tcp", 6, 0, 3478, PKS_P_STUN, PKS_C_CONFIRMED, { "c:" STUN_TCP_REQ, "s:" STUN_TCP_RSP } },
	{ "stun over tcp, two messages in a segment", 6, 0, 443, PKS_P_STUN, PKS_C_SIGNATURE,
	  { "c:" STUN_TCP_REQ STUN_IND } },
	{ "stun in rfc 4571 frames", 6, 0, 40000, PKS_P_STUN, PKS_C_CONFIRMED,
	  { "c:001c" STUN_TCP_REQ, "s:0020" STUN_TCP_RSP } },
	{ "stun frame of the wrong length", 6, 0, 40001, 0, NEG, { "c:001d" STUN_TCP_REQ "00" } },
	{ "stun without magic over tcp", 6, 0, 40002, 0, NEG,
	  { "c:000100082112a4430102030405060708090a0b0c8022000461626364" } },
	{ "rtp in rfc 4571 frames", 6, 0, 5000, PKS_P_RTP, PKS_C_SIGNATURE,
	  { "c:" RTP_F("0064", "11223344"), "c:" RTP_F("0065", "11223344"), "c:" RTP_F("0066", "11223344") } },
	{ "rtp in two rfc 4571 frames only", 6, 0, 5006, 0, NEG,
	  { "c:" RTP_F("0064", "11223344"), "c:" RTP_F("0065", "11223344") } },
	{ "rtp frames of two ssrcs", 6, 0, 5002, 0, NEG,
	  { "c:" RTP_F("0064", "11223344"), "c:" RTP_F("0065", "11223344"), "c:" RTP_F("0066", "55667788") } },
	{ "rtp frame alone", 6, 0, 5004, 0, NEG, { "c:" RTP_F("0064", "11223344") } },
	{ "rtcp in an rfc 4571 frame", 6, 0, 5001, PKS_P_RTCP, PKS_C_SIGNATURE, { "c:000880c9000111223344" } },
	{ "rtcp frame of the wrong length", 6, 0, 5003, 0, NEG, { "c:000880c9000211223344" } },
	{ "syslog octet counting", 6, 0, 6514, PKS_P_SYSLOG, PKS_C_SIGNATURE,
	  { "c:3439203c31333e3120323032362d30312d30315430303a30303a30305a20636c69656e7420617070202d202d202d2068656c6c6f" } },
	{ "syslog non-transparent framing", 6, 0, 514, PKS_P_SYSLOG, PKS_C_SIGNATURE,
	  { "c:3c31333e4a616e2020312030303a30303a303020636c69656e74206170703a2068656c6c6f206f766572207463700a" } },
	{ "syslog count longer than a short segment", 6, 0, 40514, 0, NEG,
	  { "c:3939203c31333e3120323032362d30312d30315430303a30303a30305a20636c69656e7420617070202d202d202d2068656c6c6f" } },
	{ "syslog count with a leading zero", 6, 0, 40515, 0, NEG,
	  { "c:303439203c31333e3120323032362d30312d30315430303a30303a30305a20636c69656e7420617070202d202d20" } },
	{ "rdp udp syn, syn+ack", 17, 0, 3389, PKS_P_RDP, PKS_C_CONFIRMED,
	  { "c1232:ffffffff00401801bbff568704d004d0", RDP_PAD "bbff5687004010054d67796604d004d0" } },
	{ "rdp udp syn not padded", 17, 0, 3389, 0, NEG, { "c1200:ffffffff00401801bbff568704d004d0" } },
	{ "rdp udp syn with a small mtu", 17, 0, 3389, 0, NEG, { "c1232:ffffffff00401801bbff568703e804d0" } },
	{ "rdp udp syn+ack alone", 17, 0, 3389, 0, NEG, { RDP_PAD "bbff5687004010054d67796604d004d0" } },
	{ "rdp udp syn+ack of another syn", 17, 0, 43389, PKS_P_RDP, PKS_C_SIGNATURE,
	  { "c1232:ffffffff00401801bbff568704d004d0", RDP_PAD "bbff5688004010054d67796604d004d0" } },
	{ "cldap search, entry", 17, 0, 389, PKS_P_LDAP, PKS_C_CONFIRMED, { "c:" CLDAP_REQ, "s:" CLDAP_ENT } },
	{ "cldap rfc 1798 envelope", 17, 0, 40389, PKS_P_LDAP, PKS_C_SIGNATURE, { "c:" CLDAP_1798 } },
	{ "cldap bind (not over udp)", 17, 0, 40390, 0, NEG, { "c:300c020101600702010304008000" } },
	{ "cldap search with trailing bytes", 17, 0, 40391, 0, NEG, { "c:" CLDAP_REQ "00" } },
};

TEST(sig_variants_transports)
{
	RUN_TABLE(c_cases, 43000);
}
