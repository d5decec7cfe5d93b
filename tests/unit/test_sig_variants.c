// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Protocol variants, other transports, flows picked up mid-session and
 * several protocols on one 5-tuple (issue 11), through the real XDP object.
 * Each case is a short conversation in hex, one packet a string: "c" or "s"
 * (client or server sends), then the payload in hex ("c:" with no bytes is
 * a bare ACK on TCP). TCP cases start with the three-way handshake unless
 * they are marked mid-session. The flow must end with the protocol and the
 * confidence (or, for negatives, below signature) the case names. Payloads
 * are built from the specifications the signatures cite; each negative is
 * the shape of a positive with its evidence made random or wrong.
 *
 * Loading the object costs the verifier tens of seconds on a busy machine,
 * so one TEST runs a whole table in one environment, a client port per case.
 */
#include <stdint.h>
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

		s->payload = buf;
		s->payload_len = unhex(c->pkts[i] + 2, buf, sizeof(buf));
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
