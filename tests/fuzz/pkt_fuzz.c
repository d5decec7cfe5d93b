// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The packet-level fuzzer: frames through the real XDP object with
 * BPF_PROG_TEST_RUN (tests/unit/pkt.c), in a deterministic mutation loop
 * (a fixed-seed generator; PKS_PKTFUZZ_SEED and PKS_PKTFUZZ_FLOWS change
 * the seed and the number of flows). Two cases, kept apart because they
 * assert different things:
 *
 *  pktfuzz_random_payload: flows of random bytes (TCP with and without a
 *    handshake, UDP; IPv4 and IPv6; well-known and random server ports;
 *    1 to 4 payload packets each way of 1..1400 bytes): every packet is
 *    passed with exactly one reason counted, and no flow ends with a
 *    decided verdict (confidence above the port's guess). Random bytes are
 *    no protocol.
 *  pktfuzz_mutated_frames: the frames of the project's captures with bits
 *    flipped, bytes overwritten with edge values, cut at random lengths:
 *    every one passed with exactly one reason counted. A mutated real frame
 *    may still be classified, so no verdict is asserted there.
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "capture.h"
#include "pktspec.skel.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void rnd_seed(uint64_t salt)
{
	const char *s = getenv("PKS_PKTFUZZ_SEED");

	rng_state = (s ? strtoull(s, NULL, 0) : 0x5eed) * 0x9e3779b97f4a7c15ull + salt;
	if (!rng_state)
		rng_state = 1;
}

static uint64_t reasons_total(struct pks_env *env)
{
	__u64 sum[PKS_REASON__COUNT], t = 0;

	if (pks_stats_read(bpf_map__fd(env->skel->maps.pks_stats), sum))
		return 0;
	for (int i = 0; i < PKS_REASON__COUNT; i++)
		t += sum[i];
	return t;
}

/* Runs one frame: passed, and exactly one reason counted. 0, or -1 with why filled. */
static int run_one(struct pks_env *env, const uint8_t *frame, size_t len, char *why, size_t whylen)
{
	uint64_t before = reasons_total(env), after;
	int rc = pks_env_run_raw(env, frame, len);

	after = reasons_total(env);
	if (rc) {
		snprintf(why, whylen, "a frame of %zu bytes was not passed (%d)", len, rc);
		return -1;
	}
	if (after != before + 1) {
		snprintf(why, whylen, "a frame of %zu bytes counted %llu reasons", len,
			 (unsigned long long)(after - before));
		return -1;
	}
	return 0;
}

static const uint16_t well_known[] = {
	20,   21,   22,   23,   25,   53,   67,   69,   80,   88,   110,  111,  119,  123,  137,  138,
	143,  161,  179,  389,  443,  445,  500,  514,  554,  873,  1194, 1433, 1701, 1883, 1900, 2049,
	2181, 2404, 3074, 3306, 3389, 3478, 4222, 4500, 5060, 5222, 5351, 5353, 5355, 5432, 5672, 5683,
	5900, 6379, 6667, 8080, 9042, 9092, 10050, 11211, 20000, 27017, 51820, 61613,
};

static int flows_wanted(int dflt)
{
	const char *s = getenv("PKS_PKTFUZZ_FLOWS");

	return s ? atoi(s) : dflt;
}

TEST(pktfuzz_random_payload)
{
	struct pks_env env;
	int nflows = flows_wanted(3000), named = 0, by_proto[256] = {};
	char why[256], first[512] = "", list[512] = "";
	static uint8_t pl[1400], frame[2048];

	rnd_seed(1);
	CHECK(pks_env_open(&env) == 0);
	for (int i = 0; i < nflows; i++) {
		int ipv6 = rnd() & 1, tcp = rnd() & 1, handshake = tcp && (rnd() & 1);
		char src[64], dst[64];
		uint16_t cport = 1024 + rnd() % 64000;
		uint16_t sport = rnd() & 1 ? well_known[rnd() % (sizeof(well_known) / sizeof(well_known[0]))]
					   : 1 + rnd() % 65535;
		struct pkt_spec c, s;
		struct pks_flow_view v;
		int npk = 1 + rnd() % 4;

		/* A fresh endpoint pair per flow: no memory of an earlier one. */
		if (ipv6) {
			snprintf(src, sizeof(src), "2001:db8:1::%x:%x", i >> 16, i & 0xffff);
			snprintf(dst, sizeof(dst), "2001:db8:2::%x:%x", i >> 16, i & 0xffff);
			c = tcp ? PKT_TCP6(src, cport, dst, sport, TCPF_PSH | TCPF_ACK) : PKT_UDP6(src, cport, dst, sport);
		} else {
			snprintf(src, sizeof(src), "198.18.%d.%d", (i >> 8) & 255, i & 255);
			snprintf(dst, sizeof(dst), "198.19.%d.%d", (i >> 8) & 255, i & 255);
			c = tcp ? PKT_TCP4(src, cport, dst, sport, TCPF_PSH | TCPF_ACK) : PKT_UDP4(src, cport, dst, sport);
		}
		s = c;
		s.src = c.dst, s.dst = c.src, s.sport = c.dport, s.dport = c.sport;
		if (handshake) {
			struct pkt_spec syn = c, synack = s;
			size_t n;

			syn.tcp_flags = TCPF_SYN;
			synack.tcp_flags = TCPF_SYN | TCPF_ACK;
			n = pkt_build(&syn, frame, sizeof(frame));
			if (!n || run_one(&env, frame, n, why, sizeof(why))) {
				pks_test_fail(__FILE__, __LINE__, "flow %d SYN: %s", i, n ? why : "no frame");
				return;
			}
			n = pkt_build(&synack, frame, sizeof(frame));
			if (!n || run_one(&env, frame, n, why, sizeof(why))) {
				pks_test_fail(__FILE__, __LINE__, "flow %d SYN-ACK: %s", i, n ? why : "no frame");
				return;
			}
		}
		for (int k = 0; k < 2 * npk; k++) {
			struct pkt_spec *p = k & 1 ? &s : &c;
			size_t len = 1 + rnd() % sizeof(pl), n;

			for (size_t j = 0; j < len; j++)
				pl[j] = (uint8_t)rnd();
			p->payload = pl;
			p->payload_len = len;
			n = pkt_build(p, frame, sizeof(frame));
			CHECK(n > 0);
			if (run_one(&env, frame, n, why, sizeof(why))) {
				pks_test_fail(__FILE__, __LINE__, "flow %d packet %d: %s", i, k, why);
				return;
			}
		}
		CHECK(pks_env_flow(&env, &c, &v) == 0);
		if (v.confidence > PKS_C_PORT) {
			by_proto[v.proto]++;
			if (!named++)
				snprintf(first, sizeof(first), "flow %d %s %s:%u -> %s:%u named %s (%s, rule %s)", i,
					 tcp ? "tcp" : "udp", src, cport, dst, sport, pks_proto_name(v.proto),
					 pks_confidence_name(v.confidence), pks_rule_name(v.rule));
		}
	}
	pks_env_close(&env);
	for (int p = 0; p < 256; p++)
		if (by_proto[p])
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s %d", pks_proto_name(p), by_proto[p]);
	if (named)
		pks_test_fail(__FILE__, __LINE__, "%d of %d random-payload flows got a decided verdict (%s); first: %s",
			      named, nflows, list + 1, first);
	else
		printf("pktfuzz_random_payload: %d flows, none named\n", nflows);
}

static const char *const mutate_captures[] = {
	"tests/captures/demo.pcap",
	"tests/captures/names/tls-sni-3-segments.pcap",
	"tests/captures/names/quic-sni.pcap",
	"tests/captures/ctx/ftp.pcap",
	"tests/captures/tunnels/vxlan.pcap",
	"tests/captures/tunnels/gre.pcap",
	"tests/captures/tunnels/pppoe.pcap",
	"tests/captures/tunnels/gtpu.pcap",
	"tests/captures/tunnels/mpls.pcap",
	"tests/captures/tunnels/geneve.pcap",
};

TEST(pktfuzz_mutated_frames)
{
	static const uint8_t edge[] = { 0x00, 0xff, 0x80, 0x7f, 0x01, 0x40, 0x45, 0x60, 0x06, 0x11, 0x2f };
	struct pks_env env;
	uint64_t runs = 0;
	/* About as many mutated frames as random flows (8 per captured frame by default). */
	int per_frame = flows_wanted(3000) / 375, files = 0;
	char why[256], err[256];
	uint8_t m[PKS_CAPTURE_FRAME_MAX];

	if (per_frame < 1)
		per_frame = 1;
	if (per_frame > 64)
		per_frame = 64;
	rnd_seed(2);
	CHECK(pks_env_open(&env) == 0);
	for (size_t i = 0; i < sizeof(mutate_captures) / sizeof(mutate_captures[0]); i++) {
		struct pks_capture *cap;
		struct pks_frame f;
		int rc;

		if (pks_capture_open(mutate_captures[i], &cap, err, sizeof(err)))
			continue; /* a capture another change renamed: the others still run */
		files++;
		while ((rc = pks_capture_next(cap, &f, err, sizeof(err))) == 1) {
			if (f.len < 14)
				continue;
			for (int k = 0; k < per_frame; k++) {
				size_t len = f.len, hot = len < 96 ? len : 96;

				memcpy(m, f.data, len);
				switch (rnd() % 4) {
				case 0: /* bit flips, mostly in the headers */
					for (int j = 1 + rnd() % 4; j > 0; j--) {
						size_t at = rnd() % 4 ? 14 + rnd() % (hot - 14 ? hot - 14 : 1) : rnd() % len;

						m[at] ^= (uint8_t)(1u << (rnd() % 8));
					}
					break;
				case 1: /* an edge value over a header byte */
					m[14 + rnd() % (hot - 14 ? hot - 14 : 1)] = edge[rnd() % sizeof(edge)];
					break;
				case 2: /* cut short */
					len = 14 + rnd() % (len - 13);
					break;
				default: /* random bytes after the IP header */
					for (size_t j = 34 + rnd() % 40; j < len; j++)
						m[j] = (uint8_t)rnd();
				}
				if (run_one(&env, m, len, why, sizeof(why))) {
					pks_test_fail(__FILE__, __LINE__, "%s: %s", mutate_captures[i], why);
					pks_capture_close(cap);
					pks_env_close(&env);
					return;
				}
				runs++;
			}
		}
		pks_capture_close(cap);
	}
	pks_env_close(&env);
	CHECK(files >= 3);
	CHECK(runs >= 100u * per_frame);
	printf("pktfuzz_mutated_frames: %llu mutated frames from %d captures\n", (unsigned long long)runs, files);
}
